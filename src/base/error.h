/*
 * error.h - how library code reports a failure: an sd_error filled in
 * for main, which alone prints (library code never prints or exits).
 */
#ifndef SITEDUMP_ERROR_H
#define SITEDUMP_ERROR_H

#define SD_ERRLEN 512

/* Error message carried from library code to main, which alone prints. */
typedef struct sd_error {
	char msg[SD_ERRLEN];
} sd_error;

/* The current time in seconds. Not time(NULL): that reads the kernel's
 * coarse clock, which lags the real one by up to a tick, so just after a
 * second begins it can still name the one before, earlier than a clock
 * read before sitedump started (a bundle "created" before its run). */
long long sd_now(void);

/* printf-style; returns -1 so callers can `return sd_fail(err, ...)`. */
int sd_fail(sd_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
