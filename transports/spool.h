/*
 * spool.h - siteload --spool: a directory of bundles (a drop directory fed
 * by rsync/scp, or offline media) imported in one run and filed by outcome
 * (docs/transport-spool.md).
 */
#ifndef SITEDUMP_SPOOL_H
#define SITEDUMP_SPOOL_H

#include "transports/handoff.h"

/* Subdirectories of the spool the bundles are filed into. */
#define SPOOL_DONE "done"
#define SPOOL_REJECTED "rejected"

struct spool_stats {
	int found;              /* bundle names in the spool */
	int applied, skipped, old, rejected, failed;
	int ignored;            /* other entries (temp files, unknown names, directories) */
	int read_only;          /* nothing was moved: read-only spool or --dry-run */
};

/*
 * Import every bundle in dir (regular files named SITE-SEQ-KIND.tar,
 * .tar.gz or .tar.zst; dot files and other names are ignored) with
 * o->run, under an exclusive flock on dir itself, then file each:
 * applied or superseded to done/, rejected or not newer to rejected/ with
 * NAME.reason beside it, failed left in place for the next run. A spool
 * that cannot be written (read-only media) or a dry run moves nothing; a
 * bundle already imported is then not an error.
 * o->report (a bundle not applied, an object refused) and o->info (what was
 * done) are called with o->ctx; o->outcome is not used. st may be NULL.
 * Returns 0 all applied (or already imported, read-only), 1 something was
 * refused (reported), 2 I/O or the core (err set when the run as a whole
 * failed).
 */
int spool_import(const char *dir, const struct handoff *o, struct spool_stats *st, sd_error *err);

#endif
