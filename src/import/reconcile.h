/*
 * reconcile.h - bring the central's copy of one site in line with a state
 * snapshot, sending only the difference (docs/fidelity.md).
 */
#ifndef SITEDUMP_RECONCILE_H
#define SITEDUMP_RECONCILE_H
#include "import/apply.h"
#include "import/central.h"

struct reconcile_opts {
	enum sd_core core;
	const char *site;
	const char *prefix;             /* central name = prefix + remote host name */
	long long now;
	/* Hosts (central names) this site owns, sorted (strcmp). Anything else
	 * in the bundle is refused. */
	char *const *owned;
	size_t nowned;
	/* Keys of downtimes/comments siteload created for this site earlier,
	 * sorted: only those may be deleted. reconcile_run returns the new set. */
	char *const *ledger;
	size_t nledger;
	/* one line per object or item skipped, or with a field cut or a time
	 * clamped to a limit (extcmd.h), with the reason */
	void (*report)(void *ctx, const char *what, const char *why);
	void *report_ctx;
};

struct reconcile_stats {
	long long hosts, services;              /* in the bundle */
	long long results, objects_updated;
	long long acks_set, acks_removed;
	long long downtimes_added, downtimes_deleted, comments_added, comments_deleted;
	long long not_owned, unknown, refused;  /* skipped objects and items */
	long long cut;                          /* fields cut or times clamped (reported) */
};

struct reconcile_out {
	struct reconcile_stats st;
	char **ledger;                          /* new ledger (malloc'd strings, sorted) */
	size_t nledger;
};

/*
 * Reads the state member twice from fd (it must be seekable): first the
 * comments and downtimes, then the objects, which stream. Commands and
 * results go to `a`; reconcile_out's ledger must be saved *before*
 * apply_finish delivers them (a crash then leaves a superset, which is
 * safe: an entry is only ever used to allow deleting what we made).
 */
int reconcile_run(int fd, const struct central *c, const struct reconcile_opts *o,
		  struct applier *a, struct reconcile_out *out, sd_error *err);
void reconcile_out_free(struct reconcile_out *out);

/* Replay planning, exposed for the unit tests: the results (state, time)
 * that bring the central object from `cur` to the remote's state, type and
 * attempt as closely as `core` allows. host_problem: the central's host
 * is not UP (Nagios hardens services at once then). Returns the count. */
struct replay_step {
	int state;
	long long ts;
};
#define REPLAY_MAX 64
int reconcile_plan(enum sd_core core, int is_host, const struct sd_object *remote,
		   const struct central_obj *cur, int host_problem, long long now,
		   struct replay_step *steps);
#endif
