/*
 * handoff.h - how a transport that receives bundles (spool, mail) hands
 * them on. The importer sits above the transports: they never call it,
 * the caller (siteload's main) passes a run function that does, so
 * sitedump, which links the transports to send, carries no importer.
 */
#ifndef SITEDUMP_HANDOFF_H
#define SITEDUMP_HANDOFF_H
#include "base/error.h"

/* What became of one bundle (for spools and mailboxes that file it). */
enum import_outcome {
	IMPORT_APPLIED,         /* applied (a superseded state part may have been skipped) */
	IMPORT_REJECTED,        /* bad: verification, trust, too old, from the future */
	IMPORT_OLD,             /* sequence not newer than the last imported: a replay, or seen before */
	IMPORT_SKIPPED,         /* a state bundle superseded by a newer one in the same run */
	IMPORT_FAILED,          /* could not be applied now (I/O, the core): try again later */
};

struct handoff {
	/* Import the bundles at paths, reporting through h's report, info
	 * and outcome (a transport passes a copy with its own in place).
	 * Returns 0 all applied, 1 something was refused or failed
	 * (reported), 2 when the run itself failed (err set). */
	int (*run)(const struct handoff *h, char *const *paths, int n, sd_error *err);
	void *run_ctx;                  /* the caller's, for run */
	int dry_run;                    /* nothing is moved or filed */
	/* a refused bundle or skipped object: what, why (one line each) */
	void (*report)(void *ctx, const char *what, const char *why);
	/* a line saying what was done */
	void (*info)(void *ctx, const char *line);
	/* after the run, once per input path (may be NULL) */
	void (*outcome)(void *ctx, const char *path, enum import_outcome oc, const char *reason);
	void *ctx;
};
#endif
