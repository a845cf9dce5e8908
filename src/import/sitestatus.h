/*
 * sitestatus.h - `siteload status`: every site the central knows, from the state dir (and the
 * trust dir): last sequence and its age, what was applied, owned hosts, last error, trusted key.
 */
#ifndef SITEDUMP_SITESTATUS_H
#define SITEDUMP_SITESTATUS_H

#include <stddef.h>
#include <stdio.h>
#include "base/error.h"
#include "bundle/keyfile.h"

/* siteload's own default for --stale-after (the core's freshness threshold) */
#define SITESTATUS_STALE_AFTER 1800

struct site_status {
	char site[65];
	int imported;                   /* SITE.imported was there and readable */
	unsigned long long seq;         /* SITE.imported: SEQUENCE CREATED IMPORTED_AT */
	long long created, at;
	long hosts, ledger;             /* lines of SITE.hosts, SITE.ledger; -1 unreadable */
	char keyid[17];                 /* of TRUST/SITE.pub (its first key); "" none */
	char keyids[KEYFILE_MAX_PUBS][17];      /* every key of it (two during a key rotation) */
	size_t nkeys;
	char verified_by[17];           /* the key id that verified the last imported bundle; "" unknown */
	char key_error[SD_ERRLEN];      /* why TRUST/SITE.pub could not be read */
	long long error_at;             /* SITE.error: EPOCH MESSAGE (0: none recorded) */
	char error[SD_ERRLEN];
	int stale;                      /* never imported, or imported over stale_after ago */
};

/*
 * The sites of state_dir (every SITE.imported, SITE.hosts, SITE.ledger, SITE.error) and, with
 * trust_dir, every SITE.pub there, sorted by name, into *out (free()) and *n. 0 or -1 (err):
 * the state dir cannot be listed (a missing one holds no site).
 */
int sitestatus_collect(const char *state_dir, const char *trust_dir, long long now, int stale_after,
		       struct site_status **out, size_t *n, sd_error *err);

void sitestatus_write_text(FILE *f, const struct site_status *s, size_t n, long long now, int stale_after);
int sitestatus_write_json(FILE *f, const struct site_status *s, size_t n, long long now, int stale_after);

/*
 * The subcommand: `siteload status [--json] [--state-dir DIR] [--trust DIR] [--stale-after S]`,
 * argv[0] "status". Writes to out and errs (the streams siteload's main gives it); returns the
 * exit status: 0 every site fresh, 2 any stale (usable as a check), 3 usage or I/O trouble.
 */
int sitestatus_cmd(int argc, char **argv, FILE *out, FILE *errs);

#endif
