/* deadline.c - elapsed time and deadlines (deadline.h says why monotonic). */
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
