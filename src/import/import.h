/*
 * import.h - siteload's import: verified bundles in, the central core
 * brought in line with each site (docs/siteload.1, docs/fidelity.md).
 */
#ifndef SITEDUMP_IMPORT_H
#define SITEDUMP_IMPORT_H
#include <stdio.h>
#include "base/deadline.h"
#include "bundle/bundle.h"
#include "model/core.h"
#include "transports/handoff.h"

struct api_opts;

/* enum import_outcome: transports/handoff.h (the spool and mail file by it) */

struct import_opts {
	const char *trust_dir;          /* SITE.pub per site */
	const char *state_dir;          /* sequence, owned hosts, ledger per site */
	long long max_age;              /* seconds; 0: no limit */
	const char *prefix;             /* central host name = prefix + remote name */
	const char *only_site;          /* accept bundles of this site only (ssh key pinning) */
	enum sd_core core;
	const struct core_profile *profile;     /* the central core (--core or detected) */
	const char *config_dir;         /* NULL: config bundles only update ownership */
	enum sd_core config_format;
	const char *reload_command;
	/* run (sh -c) with the site's candidate config in place, before the
	 * reload: exit 0 keeps it, anything else puts the previous file back
	 * and refuses the bundle (NULL: no check) */
	const char *check_command;
	/* the central's own contacts / contact groups notified for the
	 * imported sites' objects, comma-separated (NULL or "": none, and
	 * notifications are off for them); names checked by the caller */
	const char *notify_contacts, *notify_contact_groups;
	const char *checkresults, *command_file, *livestatus;
	const char *status_file, *objects_cache;        /* central state without Livestatus */
	/* Icinga 2's REST API (src/icinga2api/api.h): reads the central and
	 * takes results and commands; NULL: not used */
	const struct api_opts *api;
	FILE *dry_run;
	int timeout_ms, reload_wait_ms, reap_wait_ms;
	int stale_after;                /* seconds without a result before "stale" */
	const char *self;               /* this siteload binary (the stale check) */
	const char *decrypt_key;
	struct bundle_limits lim;
	/* a refused bundle or skipped object: what, why (one line each) */
	void (*report)(void *ctx, const char *what, const char *why);
	/* a line saying what was done */
	void (*info)(void *ctx, const char *line);
	/* after the run, once per input path (may be NULL) */
	void (*outcome)(void *ctx, const char *path, enum import_outcome oc, const char *reason);
	void *ctx;
	/* a wait for the core that has lasted over a second (the reload, the
	 * spool's reaping, status.dat's next write): what and how long at most
	 * (its own ctx: a transport's handoff replaces ctx, not this) */
	struct sd_waiter waiter;
};

/* Import bundles (paths; "-" is stdin) in sequence order per site. Returns
 * 0 all applied, 1 something was refused or failed (reported), 2 when the
 * run itself failed (err set: I/O, the core unreachable). State files are
 * created with the caller's umask (siteload sets 077). */
int import_run(const struct import_opts *o, char *const *paths, int n, sd_error *err);

/* `siteload stale`: the text and exit code of the stale check for site
 * (Nagios plugin convention): 3 UNKNOWN for objects, 2 CRITICAL for the
 * link service. */
int import_stale_message(const char *state_dir, const char *site, int link, char *buf, size_t len);
#endif
