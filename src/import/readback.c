/*
 * readback.c - did the central take what it was sent?
 *
 * Why: a core may refuse a command without saying so (Checkmk's
 * Livestatus never answers a COMMAND; a FIFO never does), or take a
 * result and drop it (an object removed from its config in between).
 * What a core took is what it shows, so the state is reconciled once
 * more against the central read back, delivering nothing (apply.h,
 * verify): whatever that would still send did not arrive. Results reach
 * Nagios and Naemon through their reaper, seconds later, so the check is
 * repeated once a second for up to --reap-wait; only then is each object
 * left over reported (once). Only where the central is read through
 * Livestatus: status.dat lags the core by its update interval.
 */
#include <unistd.h>
#include "import/readback.h"
#include "import/apply.h"
#include "import/central.h"
#include "import/corewait.h"
#include "base/deadline.h"

int readback_possible(const struct import_opts *o)
{
	return o->livestatus && !o->dry_run;
}

static void left_report(void *ctx, const char *what, const char *why)
{
	runctx_report(ctx, what, why);
}

/* One pass: what a run would still send; reported when report is set. */
static long long pass(struct runctx *c, int fd, const struct reconcile_opts *ro0, int report, sd_error *err)
{
	const struct import_opts *o = c->o;
	struct apply_opts ao = { 0 };
	struct reconcile_opts ro = *ro0;
	struct reconcile_out out = { 0 };
	struct applier *a;
	long long left = -1;

	ao.core = o->core;
	ao.profile = o->profile;
	ao.checkresults = o->checkresults;
	ao.command_file = o->command_file;
	ao.livestatus = o->livestatus;
	ao.verify = 1;
	ao.report = report ? left_report : NULL;
	ao.report_ctx = c;
	ro.report = NULL;       /* the sending run reported cuts and skips */
	central_free(c->central);
	c->central = NULL;
	if (corewait_central(c, ro0->site, err) < 0 || !(a = apply_open(&ao, err)))
		return -1;
	if (reconcile_run(fd, c->central, &ro, a, &out, err) == 0)
		left = apply_get_stats(a)->results + apply_get_stats(a)->commands;
	apply_free(a);
	reconcile_out_free(&out);
	return left;
}

long long readback_run(struct runctx *c, int fd, const struct reconcile_opts *ro, sd_error *err)
{
	struct sd_deadline dl;
	long long left;

	sd_deadline_start(&dl, c->o->reap_wait_ms);
	for (;;) {
		if ((left = pass(c, fd, ro, 0, err)) <= 0)
			return left;
		sd_deadline_notice(&dl, &c->o->waiter, "%s to show %lld of the results and commands sent "
				   "(its reaper takes them in)", (c->o->profile ? c->o->profile : core_profile(c->o->core))->name,
				   left);
		if (sd_deadline_over(&dl))
			return pass(c, fd, ro, 1, err);
		sleep(1);
	}
}
