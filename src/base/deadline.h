/*
 * deadline.h - elapsed time and deadlines on the monotonic clock.
 *
 * Every wait of siteload and sitedump (the core to write status.dat, to
 * come back after a reload, to read checkresult files; a command to end)
 * is measured here, on CLOCK_MONOTONIC: the wall clock can be stepped by
 * NTP or an admin in the middle of a wait, which would end it at once or
 * never. Milliseconds in a long long: enough for any wait, and what the
 * options (--reload-wait, timeouts) are given in.
 */
#ifndef SITEDUMP_DEADLINE_H
#define SITEDUMP_DEADLINE_H

/* A wait begun at start, allowed limit ms (negative: no limit). */
struct sd_deadline {
	long long start, limit;
	int noticed;            /* sd_deadline_notice has told about it */
};

/*
 * Whom to tell about a long wait: fn(ctx, what, limit_ms), what saying
 * what is waited for ("nagios to reap 120 check results"). Library code
 * never prints; the tool's main decides (siteload: one line on a
 * terminal, nothing under cron). fn NULL: nobody.
 */
struct sd_waiter {
	void (*fn)(void *ctx, const char *what, long long limit_ms);
	void *ctx;
};
#define SD_NOTICE_AFTER_MS 1000

long long sd_clock_ms(void);                    /* monotonic, ms */
void sd_deadline_start(struct sd_deadline *d, long long limit_ms);
long long sd_deadline_elapsed(const struct sd_deadline *d);     /* ms since start */
/* 1 once more than limit ms have passed (never without a limit). */
int sd_deadline_over(const struct sd_deadline *d);
/* ms left before it is over, at least 0; -1 without a limit. */
long long sd_deadline_left(const struct sd_deadline *d);
/* Called in a wait's loop: once it has lasted over SD_NOTICE_AFTER_MS,
 * tells w (once per wait) what it waits for (fmt, printf-like). */
void sd_deadline_notice(struct sd_deadline *d, const struct sd_waiter *w, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#endif
