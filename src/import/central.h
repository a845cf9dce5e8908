/*
 * central.h - what the central core holds now, read before reconciling.
 *
 * Why a model in memory when everything else streams: reconciliation looks
 * up the central's state of each remote object as the bundle streams by,
 * and the central answers in its own order. The model keeps only what a
 * decision needs (about 100 bytes per object: 5 MB at 50k services), not
 * outputs or config.
 */
#ifndef SITEDUMP_CENTRAL_H
#define SITEDUMP_CENTRAL_H
#include "model/snapshot.h"
#include "model/core.h"

struct central_obj {
	char *host, *svc;               /* svc NULL for hosts */
	int state, state_type, attempt, max_attempts, has_been_checked;
	double last_check;
	/* read through the REST API: the current result's execution_start
	 * (Icinga drops a result that starts before it), else 0 */
	double exec_start;
	int acknowledged, ack_type;
	char *ack_author, *ack_comment; /* newest entry_type 4 comment; NULL if none */
	long long ack_time;
	int stale;                      /* output is siteload's own stale-data message */
};

struct central_item {                   /* a downtime or a user comment */
	long long id;
	char *name;                     /* the REST API's name ("host!svc!uuid"), or NULL */
	char *host, *svc;
	long long start, end, duration, entry_time;
	int fixed, persistent;
	char *author, *comment;
};

struct central {
	void *root;                     /* tsearch tree of central_obj */
	long long nobjs;
	struct central_item *downtimes, *comments;
	size_t ndowntimes, ncomments, capd, capc;
};

/* The output prefix of the stale check (siteload stale); a central object
 * showing it has no real result from the remote to compare against. */
#define CENTRAL_STALE_PREFIX "UNKNOWN - sitedump: stale"

/* The latest time siteload sends the central (2^31-1: 32-bit time_t cores).
 * A central downtime's start, end and duration are read as at most this, so
 * one that went out clamped, or came in with a later time (Nagios stores
 * any: 8e15), is the same downtime to reconcile as the remote's original
 * clamped the same way, not a new one at every import. */
#define CENTRAL_TIME_MAX 2147483647LL

/* Read through Livestatus (spec) or a status.dat/objects.cache pair.
 * NULL with err set on failure. A status.dat block that cannot be read is
 * left out of the model, a time out of range clamped; each is reported
 * through report(report_ctx, what, why) (NULL: not reported), one line. */
/* site, core: only the objects (and their comments and downtimes) whose
 * host carries siteload's mark of that site (the custom variable
 * SITEDUMP_SITE, Icinga 2: vars.sitedump_site), so an import costs what
 * its site holds, not what the central holds; NULL: the whole central. */
struct central *central_read_livestatus(const char *spec, int timeout_ms, const char *site, enum sd_core core,
					sd_error *err);
struct central *central_read_statusdat(const char *status, const char *objects,
				       void (*report)(void *ctx, const char *what, const char *why),
				       void *report_ctx, sd_error *err);
/* Read through Icinga 2's REST API: with site, the objects (and their
 * comments and downtimes) whose host carries vars.sitedump_site = site,
 * NULL: all the ApiUser may see. Comments and downtimes carry the names
 * the API's actions take. */
struct api_opts;
struct central *central_read_api(const struct api_opts *o, const char *site, sd_error *err);
/* The order of objects by (host, service; NULL service: the host first):
 * the model's, and reconcile's for its own per-object sets. */
int central_key_cmp(const char *host1, const char *svc1, const char *host2, const char *svc2);
/* An empty model (tests, --dry-run without a central). */
struct central *central_new(void);
const struct central_obj *central_find(const struct central *c, const char *host, const char *svc);
int central_has_host(const struct central *c, const char *host);
void central_free(struct central *c);                   /* NULL ok */
#endif
