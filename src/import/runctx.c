/*
 * runctx.c - an import run's reports to its caller (runctx.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include "import/runctx.h"

void runctx_report(struct runctx *c, const char *what, const char *why)
{
	if (c->status < 1)
		c->status = 1;
	if (c->o->report)
		c->o->report(c->o->ctx, what, why);
}

void runctx_note(struct runctx *c, const char *what, const char *why)
{
	if (c->o->report)
		c->o->report(c->o->ctx, what, why);
}

void runctx_info(struct runctx *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!c->o->info)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->o->info(c->o->ctx, buf);
}
