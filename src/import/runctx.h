/*
 * runctx.h - what one import run shares between its parts.
 *
 * Why: the config part (siteconfig), the waits for the core (corewait)
 * and the orchestration (import.c) act for one run: the same options, one
 * exit status, one lazily read picture of the central core, and one way
 * to tell the caller what happened. They get it as this context, not as
 * globals, so a run leaves nothing behind for the next.
 */
#ifndef SITEDUMP_IMPORT_RUNCTX_H
#define SITEDUMP_IMPORT_RUNCTX_H
#include "import/import.h"
#include "import/central.h"
#include "import/sitestate.h"

struct runctx {
	const struct import_opts *o;
	int status;
	long long now;
	struct central *central;        /* read lazily, dropped after changes */
	char central_site[256];         /* it holds only this site's objects ("": all) */
	/* sites that sent to the central since the whole model was read: their
	 * objects in it are old (status.dat: one parse serves every other site) */
	struct lines changed_sites;
	/* --dry-run writes no state: the hosts a config part would give the
	 * site are kept here for the state part of the same run */
	char dry_site[256];
	struct lines dry_owned;
};

/* something refused or failed: the run's status becomes at least 1 */
void runctx_report(struct runctx *c, const char *what, const char *why);
/* reported without failing the run (skipped objects are expected) */
void runctx_note(struct runctx *c, const char *what, const char *why);
/* a line saying what was done */
void runctx_info(struct runctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#endif
