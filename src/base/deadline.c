/* deadline.c - elapsed time and deadlines (deadline.h says why monotonic). */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include "base/deadline.h"

long long sd_clock_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

void sd_deadline_start(struct sd_deadline *d, long long limit_ms)
{
	d->start = sd_clock_ms();
	d->limit = limit_ms;
	d->noticed = 0;
}

long long sd_deadline_elapsed(const struct sd_deadline *d)
{
	return sd_clock_ms() - d->start;
}

int sd_deadline_over(const struct sd_deadline *d)
{
	return d->limit >= 0 && sd_deadline_elapsed(d) > d->limit;
}

long long sd_deadline_left(const struct sd_deadline *d)
{
	long long left;

	if (d->limit < 0)
		return -1;
	left = d->limit - sd_deadline_elapsed(d);
	return left > 0 ? left : 0;
}

void sd_deadline_notice(struct sd_deadline *d, const struct sd_waiter *w, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (d->noticed || !w || !w->fn || sd_deadline_elapsed(d) <= SD_NOTICE_AFTER_MS)
		return;
	d->noticed = 1;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	w->fn(w->ctx, what, d->limit);
}
