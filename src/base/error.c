/*
 * error.c - the error value library code hands to main, and the clock.
 * Here, at the bottom, because every layer reports through sd_error.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "base/error.h"

long long sd_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (long long)time(NULL);
	return (long long)ts.tv_sec;
}

int sd_fail(sd_error *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return -1;
}
