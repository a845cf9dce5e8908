/*
 * reconcile.c - compute and send the difference between a remote's state
 * snapshot and the central's current state.
 *
 * Why it works this way (docs/core-behaviour.md §1, §3-§5; docs/fidelity.md):
 * - No command sets a state type or an attempt, so both are reproduced by
 *   replaying results: the count depends on where the central object is
 *   and on how each core counts (Icinga 2 counts a pending object as
 *   attempt 1 and resets the attempt to 1 when it goes hard; Nagios hardens
 *   host results and services of a failed host at once).
 * - A result is sent only when the remote's last_check is newer than the
 *   central's (Nagios applies older results and moves back in time, Icinga
 *   drops them), except over our own stale-data result.
 * - Neither core deduplicates downtimes or comments, and their ids change
 *   (Icinga renumbers on restart), so they are matched by content as the
 *   core stores it (the extcmd_clean_* text), counted as multisets, and
 *   deleted only when the site's ledger says siteload created that content:
 *   the central's own users' entries are never touched.
 * - Limits (extcmd.h; why: extcmd.c): text is cut and times clamped by
 *   the extcmd functions that also build the commands, and the key of a
 *   remote item is made from that cut text and those clamped times, so
 *   what we compare is what the central will show. Each cut, clamp or
 *   refusal is reported, per object or item.
 */
#include <math.h>
#include <search.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include "import/reconcile.h"
#include "formats/extcmd.h"
#include "formats/snapshot_json.h"

/* ---- replay planning ---- */

static void step(struct replay_step *s, int *n, int state, long long ts)
{
	if (*n < REPLAY_MAX) {
		s[*n].state = state;
		s[*n].ts = ts;
		(*n)++;
	}
}

/* The steps' times: not before floor_ts, never going back, never in the
 * future; the one exception is Icinga's floor, at most one second ahead
 * (a stale check that ran this second), which Icinga lets the next result
 * override anyway. */
static void clamp_steps(struct replay_step *steps, int n, long long floor_ts, long long now)
{
	long long prev = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (steps[i].ts < floor_ts)
			steps[i].ts = floor_ts;
		if (steps[i].ts > now && steps[i].ts > floor_ts)
			steps[i].ts = now > floor_ts ? now : floor_ts;
		if (steps[i].ts < prev)
			steps[i].ts = prev;
		prev = steps[i].ts;
	}
}

int reconcile_plan(enum sd_core core, int is_host, const struct sd_object *r,
		   const struct central_obj *c, int host_problem, long long now,
		   struct replay_step *steps)
{
	const struct core_profile *p = core_profile(core);
	long long lc, t0, floor_ts = 0;
	int n = 0, s, m, k, cur = 0, hard = 0, cs = 0, chk = 0, i, need;

	if (!r->has_been_checked || r->last_check < (double)EXTCMD_TIME_MIN)
		return 0;               /* nothing real is older (p2_object reports it) */
	lc = (long long)floor(r->last_check);
	if (lc > now)
		lc = now;               /* never send future times */
	if (c && !c->stale && c->last_check > 0 && (double)lc <= floor(c->last_check))
		return 0;               /* the central has this result or a newer one */
	/* (a stale central is a real UNKNOWN, soft or hard: counted as one
	 * below; only the "newer" test above is waived for it) */
	if (c && p->drops_older_results && c->last_check > 0) {
		/* Icinga drops results that start before its current one. Its
		 * Livestatus shows last_check in whole seconds; our own results
		 * start on a whole second, but the stale check ran at a fraction
		 * of one, so over it the next second is the first safe one. */
		floor_ts = (long long)ceil(c->last_check) + (c->stale ? 1 : 0);
		if (floor_ts > now + 1)
			floor_ts = now + 1;     /* a central result from the future: ours overrides it */
	}
	s = r->state;
	if (is_host && s > p->host_state_max)
		s = p->host_state_max;  /* Icinga takes host codes 0 and 1 only */
	if (s < 0 || s > 3)
		s = 3;
	t0 = r->last_state_change;
	if (t0 < EXTCMD_TIME_MIN || t0 > lc)
		t0 = lc;                /* never a time the cores would show as 1970 */
	m = c && c->max_attempts > 0 ? c->max_attempts : r->max_check_attempts;
	if (m < 1)
		m = 1;
	if (m > REPLAY_MAX - 2)
		m = REPLAY_MAX - 2;
	if (c) {
		chk = c->has_been_checked;
		cs = c->state;
	}
	if (s == 0) {
		step(steps, &n, 0, lc);
		goto clamp;
	}
	if ((is_host && p->host_results_hard) || (host_problem && p->services_of_failed_host_hard)) {
		/* hard at once: one result, the state change at t0 */
		step(steps, &n, s, chk && cs == s ? lc : t0);
		if (steps[0].ts != lc)
			step(steps, &n, s, lc);
		goto clamp;
	}
	if (p->pending_is_problem && !chk) {
		/* Icinga counts pending as a soft problem at attempt 1, and a
		 * pending host (1) or service (3) in that same state sees no state
		 * change: recover it first, so the count and last_state_change
		 * start where the remote's did */
		step(steps, &n, 0, t0);
		chk = 1;
		cs = 0;
	} else if (chk && cs != 0) {
		if (c->state_type == 1)
			hard = 1;
		else
			cur = c->attempt > 0 ? c->attempt : 1;
	}
	k = r->current_attempt > 0 ? r->current_attempt : 1;
	if (r->state_type == 1 || k >= m) {
		if (hard) {
			step(steps, &n, s, cs == s ? lc : t0);
		} else {
			need = m - cur;
			if (need < 1)
				need = 1;
			for (i = 0; i < need; i++) {
				long long ts = lc;
				if (p->state_change_at_hardening)
					ts = t0;        /* Nagios sets last_state_change when it hardens */
				else if (i == 0 && (cur == 0 || cs != s))
					ts = t0;
				step(steps, &n, s, ts);
			}
		}
		if (steps[n - 1].ts != lc)
			step(steps, &n, s, lc);
		goto clamp;
	}
	/* soft, attempt k */
	if (hard || cur >= k) {
		step(steps, &n, 0, t0); /* recover first: attempts cannot go down */
		cur = 0;
		cs = 0;
	}
	for (i = 0; i < k - cur; i++)
		step(steps, &n, s, i == 0 && (cur == 0 || cs != s) ? t0 : lc);
	if (steps[n - 1].ts != lc && n < REPLAY_MAX)
		steps[n - 1].ts = lc;   /* the last result carries last_check */
clamp:
	clamp_steps(steps, n, floor_ts, now);
	return n;
}

/* ---- the run ---- */

struct ackc {                           /* the remote's ack comment of an object */
	char *host, *svc;
	char *author, *comment;         /* cut to their limits */
	long long time;
	int persistent;                 /* the comment stays when the ack goes */
	int cut_author, cut_comment;    /* reported with the object */
};

struct ditem {                          /* a downtime or comment on either side */
	char key[33];                   /* hex hash of the content as stored */
	/* remote, times clamped: the key earlier versions made of the
	 * unclamped times (and put in the ledger); "" if none */
	char legacy[33];
	int central;                    /* 0 remote, 1 central */
	long long id;                   /* central */
	const char *name;               /* central: the REST API's name (the model's), or NULL */
	int is_service;
	/* remote: what to send */
	char *host, *svc, *author, *comment;
	long long start, end, duration, entry_time;
	long long order;                /* remote: which are kept over the cap (start, entry time) */
	int fixed, persistent;
};

struct ilist {
	struct ditem *v;
	size_t n, cap;
};

struct run {
	const struct reconcile_opts *o;
	const struct central *c;
	struct applier *a;
	struct reconcile_out *out;
	sd_error *err;
	void *acks;                     /* tree of ackc */
	void *host_states;              /* tree of hoststate: the remote's hosts */
	void *reported;                 /* hosts already reported as not owned/unknown */
	struct ilist dts, cms;
	char *name;                     /* central host name buffer */
	size_t namecap;
	size_t ledgercap;               /* of out->ledger */
};

struct hoststate {
	char *host;
	int problem;
};

static int ackc_cmp(const void *a, const void *b)
{
	const struct ackc *x = a, *y = b;

	return central_key_cmp(x->host, x->svc, y->host, y->svc);
}

static void ackc_free(void *p)
{
	struct ackc *a = p;

	free(a->host);
	free(a->svc);
	free(a->author);
	free(a->comment);
	free(a);
}

static int hs_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hoststate *)a)->host, ((const struct hoststate *)b)->host);
}

static void hs_free(void *p)
{
	struct hoststate *h = p;

	free(h->host);
	free(h);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int owned(const struct run *r, const char *host)
{
	return r->o->nowned && bsearch(&host, r->o->owned, r->o->nowned, sizeof(char *), strp_cmp);
}

static int in_ledger(const struct run *r, const char *key)
{
	return r->o->nledger && bsearch(&key, r->o->ledger, r->o->nledger, sizeof(char *), strp_cmp);
}

/* prefix + host into r->name */
static const char *cname(struct run *r, const char *host)
{
	size_t n = strlen(r->o->prefix) + strlen(host) + 1;

	if (n > r->namecap) {
		char *p = realloc(r->name, n);
		if (!p)
			return NULL;
		r->name = p;
		r->namecap = n;
	}
	snprintf(r->name, n, "%s%s", r->o->prefix, host);
	return r->name;
}

static void report(struct run *r, const char *what, const char *why)
{
	if (r->o->report)
		r->o->report(r->o->report_ctx, what, why);
}

/* Report a host once (services of a refused host would repeat it). */
static void report_host_once(struct run *r, const char *host, const char *why)
{
	char *dup;
	void *p;

	if (tfind(host, &r->reported, str_cmp) || !(dup = strdup(host)))
		return;
	if (!(p = tsearch(dup, &r->reported, str_cmp)) || *(char **)p != dup)
		free(dup);
	{
		char what[600];
		snprintf(what, sizeof(what), "host '%s'", host);
		report(r, what, why);
	}
}

static void hash_key(char out[33], const char *parts[], int n, const long long nums[], int nn)
{
	crypto_generichash_state st;
	unsigned char h[16];
	char buf[32];
	int i;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (i = 0; i < n; i++) {
		const char *p = parts[i] ? parts[i] : "\x01(null)";
		crypto_generichash_update(&st, (const unsigned char *)p, strlen(p) + 1);
	}
	for (i = 0; i < nn; i++) {
		int l = snprintf(buf, sizeof(buf), "%lld", nums[i]);
		crypto_generichash_update(&st, (const unsigned char *)buf, (size_t)l + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

static void downtime_key(char out[33], const char *host, const char *svc, long long start, long long end,
			 int fixed, long long duration, const char *author, const char *comment)
{
	const char *p[5] = { "D", host, svc, author, comment };
	long long nums[4] = { start, end, fixed, fixed ? 0 : duration };

	hash_key(out, p, 5, nums, 4);
}

static void comment_key(char out[33], const char *host, const char *svc, const char *author, const char *comment)
{
	const char *p[5] = { "C", host, svc, author, comment };

	hash_key(out, p, 5, NULL, 0);
}

static struct ditem *ipush(struct ilist *l)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct ditem *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		l->v = v;
		l->cap = cap;
	}
	memset(&l->v[l->n], 0, sizeof(l->v[0]));
	return &l->v[l->n++];
}

static void ditem_free(struct ditem *d)
{
	free(d->host);
	free(d->svc);
	free(d->author);
	free(d->comment);
}

static void ilist_free(struct ilist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		ditem_free(&l->v[i]);
	free(l->v);
}

/* ---- pass 1: comments and downtimes ---- */

/* "downtime 3 on service 'h;s'" */
static void item_what(char *buf, size_t len, const char *kind, long long id, const char *host, const char *svc)
{
	snprintf(buf, len, "%s %lld on %s '%s%s%s'", kind, id, svc ? "service" : "host", host,
		 svc ? ";" : "", svc ? svc : "");
}

static void report_cut(struct run *r, const char *what, int cut_author, int cut_comment)
{
	char why[200];

	r->out->st.cut++;
	snprintf(why, sizeof(why), "%s%s%s cut to siteload's limit (author %d, comment %d bytes)",
		 cut_author ? "author" : "", cut_author && cut_comment ? " and " : "", cut_comment ? "comment" : "",
		 EXTCMD_AUTHOR_MAX, EXTCMD_COMMENT_MAX);
	report(r, what, why);
}

static int p1_comment(void *ctx, const struct sd_comment *sc, sd_error *err)
{
	struct run *r = ctx;
	const char *host;
	struct ditem *d;
	char what[700];
	int cut_a, cut_c;

	if (!(host = cname(r, sc->host_name)))
		return sd_fail(err, "out of memory");
	if (!owned(r, host) || extcmd_name_problem(host) ||
	    (sc->service_description && apply_name_problem(sc->service_description, apply_takes_parts(r->a))) ||
	    !central_find(r->c, host, sc->service_description))
		return 0;       /* the object itself is reported in pass 2 */
	if (sc->entry_type == 4) {
		struct ackc *a = calloc(1, sizeof(*a)), **found;
		size_t na = extcmd_cut_len(sc->author, EXTCMD_AUTHOR_MAX, &cut_a);
		size_t nc = extcmd_cut_len(sc->comment, EXTCMD_COMMENT_MAX, &cut_c);
		/* cut here already: a 64 MiB ack comment is never copied whole */
		if (!a || !(a->host = strdup(host)) || (sc->service_description && !(a->svc = strdup(sc->service_description))) ||
		    !(a->author = strndup(sc->author, na)) || !(a->comment = strndup(sc->comment, nc))) {
			if (a)
				ackc_free(a);
			return sd_fail(err, "out of memory");
		}
		a->time = sc->entry_time;
		a->persistent = sc->persistent;
		a->cut_author = cut_a;
		a->cut_comment = cut_c;
		if (!(found = tsearch(a, &r->acks, ackc_cmp))) {
			ackc_free(a);
			return sd_fail(err, "out of memory");
		}
		if (*found != a) {      /* keep the newest */
			if (a->time >= (*found)->time) {
				struct ackc *old = *found;
				char *t;
				t = old->author; old->author = a->author; a->author = t;
				t = old->comment; old->comment = a->comment; a->comment = t;
				old->time = a->time;
				old->persistent = a->persistent;
				old->cut_author = a->cut_author;
				old->cut_comment = a->cut_comment;
			}
			ackc_free(a);
		}
		return 0;
	}
	if (sc->entry_type != 1)
		return 0;       /* downtime/flapping comments: the core makes its own */
	if (!(d = ipush(&r->cms)))
		return sd_fail(err, "out of memory");
	if (!(d->host = strdup(host)) || (sc->service_description && !(d->svc = strdup(sc->service_description))) ||
	    !(d->author = extcmd_clean_author(r->o->core, sc->author, &cut_a)) ||
	    !(d->comment = extcmd_clean_comment(r->o->core, sc->comment, 0, &cut_c)))
		return sd_fail(err, "out of memory");
	d->is_service = sc->service_description != NULL;
	d->persistent = sc->persistent;
	d->entry_time = sc->entry_time;
	d->order = sc->entry_time;
	comment_key(d->key, d->host, d->svc, d->author, d->comment);
	if (cut_a || cut_c) {
		item_what(what, sizeof(what), "comment", sc->id, host, sc->service_description);
		report_cut(r, what, cut_a, cut_c);
	}
	return 0;
}

static void report_clamp(struct run *r, const char *what, unsigned clamped, const struct sd_downtime *sd)
{
	char why[400];
	int n = 0;

	r->out->st.cut++;
	/* each part is under 100 bytes: n stays inside why */
	if (clamped & EXTCMD_CLAMP_START)
		n += snprintf(why + n, sizeof(why) - (size_t)n, "start %lld %s, ", sd->start_time,
			      sd->start_time < EXTCMD_TIME_MIN ? "before 2000" : "after 2038");
	if (clamped & EXTCMD_CLAMP_END)
		n += snprintf(why + n, sizeof(why) - (size_t)n,
			      "end %lld after 2038 (Icinga 2 would show -2147483648), ", sd->end_time);
	if (clamped & EXTCMD_CLAMP_DURATION)
		n += snprintf(why + n, sizeof(why) - (size_t)n, "duration %lld over 68 years, ", sd->duration);
	snprintf(why + n, sizeof(why) - (size_t)n, "clamped into %lld..%lld (what both cores store)",
		 EXTCMD_TIME_MIN, EXTCMD_TIME_MAX);
	report(r, what, why);
}

static int p1_downtime(void *ctx, const struct sd_downtime *sd, sd_error *err)
{
	struct run *r = ctx;
	const char *host;
	struct ditem *d;
	char what[700];
	long long start = sd->start_time, end = sd->end_time, duration = sd->duration;
	unsigned clamped;
	int cut_a, cut_c;

	if (!(host = cname(r, sd->host_name)))
		return sd_fail(err, "out of memory");
	if (!owned(r, host) || extcmd_name_problem(host) ||
	    (sd->service_description && apply_name_problem(sd->service_description, apply_takes_parts(r->a))) ||
	    !central_find(r->c, host, sd->service_description))
		return 0;       /* reported with its object in pass 2 */
	item_what(what, sizeof(what), "downtime", sd->id, host, sd->service_description);
	if (end <= r->o->now)
		return 0;       /* over: Nagios drops it, Icinga expires it at once */
	/* the times the cores will show: what is sent and what is compared */
	clamped = extcmd_clamp_downtime(&start, &end, &duration);
	if (start >= end) {
		r->out->st.refused++;
		report(r, what, start == EXTCMD_TIME_MAX ? "starts after 2038 (after what Icinga 2 stores): refused"
			       : "starts after it ends");
		return 0;
	}
	if (!sd->fixed && duration <= 0 && core_profile(r->o->core)->flexible_needs_duration) {
		r->out->st.refused++;
		report(r, what, "flexible with duration 0: Nagios refuses it");
		return 0;
	}
	if (!(d = ipush(&r->dts)))
		return sd_fail(err, "out of memory");
	if (!(d->host = strdup(host)) || (sd->service_description && !(d->svc = strdup(sd->service_description))) ||
	    !(d->author = extcmd_clean_author(r->o->core, sd->author, &cut_a)) ||
	    !(d->comment = extcmd_clean_comment(r->o->core, sd->comment, 1, &cut_c)))
		return sd_fail(err, "out of memory");
	d->is_service = sd->service_description != NULL;
	d->start = start;
	d->end = end;
	d->fixed = sd->fixed;
	d->order = start;
	/* a fixed downtime lasts end-start (Nagios stores that whatever is sent) */
	d->duration = sd->fixed ? end - start : duration;
	downtime_key(d->key, d->host, d->svc, d->start, d->end, d->fixed, d->duration, d->author, d->comment);
	if (clamped && !cut_a && !cut_c)
		/* what earlier versions keyed (and put in the ledger) for it:
		 * their copies on the central may then still be deleted */
		downtime_key(d->legacy, d->host, d->svc, sd->start_time, sd->end_time, d->fixed,
			     sd->fixed ? sd->end_time - sd->start_time : sd->duration, d->author, d->comment);
	if (clamped)
		report_clamp(r, what, clamped, sd);
	if (cut_a || cut_c)
		report_cut(r, what, cut_a, cut_c);
	return 0;
}

/* ---- pass 2: objects ---- */

static int send_ack(struct run *r, const struct sd_object *o, const char *host, const struct central_obj *c,
		    int final_state, int ack_cleared)
{
	struct ackc key = { 0 }, *const *p, *ra = NULL;
	int live = c && c->acknowledged && !ack_cleared;
	int want = o->acknowledged && final_state != 0;
	const char *author, *comment;
	char *ca = NULL, *cc = NULL;
	long long now = r->o->now;

	key.host = (char *)host;
	key.svc = o->description;
	if ((p = tfind(&key, &r->acks, ackc_cmp)))
		ra = *p;
	author = ra ? ra->author : "";
	comment = ra ? ra->comment : "";
	if (want && ra && (ra->cut_author || ra->cut_comment)) {
		/* every time, sent or not, as for downtimes and comments: the
		 * central shows the cut text */
		char what[700];
		snprintf(what, sizeof(what), "ack on %s '%s%s%s'", o->description ? "service" : "host", host,
			 o->description ? ";" : "", o->description ? o->description : "");
		report_cut(r, what, ra->cut_author, ra->cut_comment);
	}
	if (want) {
		if (!(ca = extcmd_clean_author(r->o->core, author, NULL)) ||
		    !(cc = extcmd_clean_comment(r->o->core, comment, 0, NULL))) {
			free(ca);
			free(cc);
			return sd_fail(r->err, "out of memory");
		}
		if (live && c->ack_author && !strcmp(c->ack_author, ca) && c->ack_comment &&
		    !strcmp(c->ack_comment, cc) && (c->ack_type == 2) == (o->acknowledgement_type == 2)) {
			free(ca);
			free(cc);
			return 0;       /* the same ack is there */
		}
		free(ca);
		free(cc);
	}
	if (live) {
		struct apply_cmd rm = { .verb = APPLY_REMOVE_ACK, .ts = now, .host = host, .svc = o->description };
		if (apply_cmd(r->a, &rm, r->err) < 0)
			return -1;
		r->out->st.acks_removed++;
	}
	if (want) {
		/* persistent as the remote's: its comment then outlives the ack
		 * on the central as on the remote */
		struct apply_cmd ack = { .verb = APPLY_ACK, .ts = now, .host = host, .svc = o->description,
					 .sticky = o->acknowledgement_type == 2, .persistent = ra && ra->persistent,
					 .author = author, .comment = comment };
		if (apply_cmd(r->a, &ack, r->err) < 0)
			return -1;
		r->out->st.acks_set++;
	}
	return 0;
}

static void report_output_cut(struct run *r, const char *what, unsigned cut)
{
	char why[300];

	r->out->st.cut++;
	snprintf(why, sizeof(why), "%s%s%s%s%s cut to siteload's limit (plugin output %d, perf data %d, "
		 "long output %d bytes)",
		 cut & EXTCMD_CUT_OUTPUT ? "plugin output" : "",
		 cut & EXTCMD_CUT_OUTPUT && cut & ~EXTCMD_CUT_OUTPUT ? ", " : "",
		 cut & EXTCMD_CUT_PERF ? "perf data" : "",
		 cut & EXTCMD_CUT_PERF && cut & EXTCMD_CUT_LONG ? ", " : "",
		 cut & EXTCMD_CUT_LONG ? "long output" : "",
		 EXTCMD_OUTPUT_MAX, EXTCMD_PERF_MAX, EXTCMD_LONG_OUTPUT_MAX);
	report(r, what, why);
}

/* send_results for a channel that takes the parts as they are (the REST
 * API): output and long output joined by a newline, hosts included, perf
 * data apart; each part cut to the same limits as the encoded ones. */
static int send_parts(struct run *r, const struct sd_object *o, const char *host, const char *what,
		      const struct central_obj *c, const struct replay_step *steps, int n,
		      int *final_state, int *cleared)
{
	size_t lo, ll, lp;
	int i, co, cl, cp;
	unsigned cut;
	char *out, *perf;

	lo = extcmd_cut_len(o->plugin_output, EXTCMD_OUTPUT_MAX, &co);
	ll = extcmd_cut_len(o->long_plugin_output, EXTCMD_LONG_OUTPUT_MAX, &cl);
	lp = extcmd_cut_len(o->perf_data, EXTCMD_PERF_MAX, &cp);
	if (!(out = malloc(lo + ll + 2)) || !(perf = strndup(o->perf_data, lp))) {
		free(out);
		return sd_fail(r->err, "out of memory");
	}
	memcpy(out, o->plugin_output, lo);
	out[lo] = 0;
	if (ll) {
		out[lo] = '\n';
		memcpy(out + lo + 1, o->long_plugin_output, ll);
		out[lo + 1 + ll] = 0;
	}
	for (i = 0; i < n; i++) {
		/* a result goes as execution_start = ts - execution time; Icinga
		 * drops one that starts before its current one (with 200, unseen):
		 * a longer execution time than the gap is shortened to fit */
		double x = o->execution_time > 0 ? o->execution_time : 0;
		if (c->exec_start > 0 && (double)steps[i].ts - x < c->exec_start)
			x = (double)steps[i].ts > c->exec_start ? (double)steps[i].ts - c->exec_start : 0;
		if (steps[i].state == 0 || steps[i].state != c->state)
			*cleared |= steps[i].state == 0 || c->ack_type != 2;
		if (apply_result_parts(r->a, host, o->type == SD_HOST ? NULL : o->description, steps[i].state,
				       steps[i].ts, x, o->latency, out, perf, r->err) < 0) {
			free(out);
			free(perf);
			return -1;
		}
	}
	free(out);
	free(perf);
	r->out->st.results += n;
	r->out->st.objects_updated++;
	*final_state = steps[n - 1].state;
	cut = (co ? EXTCMD_CUT_OUTPUT : 0) | (cp ? EXTCMD_CUT_PERF : 0) | (cl ? EXTCMD_CUT_LONG : 0);
	if (cut)
		report_output_cut(r, what, cut);
	return 0;
}

/* The results that bring the central object to the remote's state
 * (reconcile_plan); *final_state and *cleared (an ack the results clear)
 * are updated. 0 or -1. */
static int send_results(struct run *r, const struct sd_object *o, const char *host, const char *what,
			const struct central_obj *c, int host_problem, int *final_state, int *cleared)
{
	struct replay_step steps[REPLAY_MAX];
	enum core_text text = apply_text(r->a);
	int n, i, altered, is_host = o->type == SD_HOST;
	unsigned cut;
	char *out;

	if (o->has_been_checked && o->last_check < (double)EXTCMD_TIME_MIN) {
		/* no real result is that old: a time the central would show as
		 * its last check, or ignore as older than its own, is refused */
		r->out->st.refused++;
		report(r, what, "last check before 2000-01-01 (or none): no result sent");
		return 0;
	}
	n = reconcile_plan(r->o->core, is_host, o, c, host_problem, r->o->now, steps);
	if (!n)
		return 0;
	if (apply_takes_parts(r->a))
		return send_parts(r, o, host, what, c, steps, n, final_state, cleared);
	if (!(out = extcmd_encode_result_text(text, is_host, o->plugin_output, o->perf_data,
					      o->long_plugin_output, &altered, &cut)))
		return sd_fail(r->err, "out of memory");
	for (i = 0; i < n; i++) {
		if (steps[i].state == 0 || steps[i].state != c->state)
			*cleared |= steps[i].state == 0 || c->ack_type != 2;
		if (apply_result(r->a, host, is_host ? NULL : o->description, steps[i].state, steps[i].ts,
				 o->execution_time, o->latency, out, r->err) < 0) {
			free(out);
			return -1;
		}
	}
	free(out);
	r->out->st.results += n;
	r->out->st.objects_updated++;
	*final_state = steps[n - 1].state;
	if (altered)
		report(r, what, text == TEXT_ICINGA2 && is_host && *o->long_plugin_output
		       ? "long output left out (Icinga 2 host results cannot carry it)"
		       : text == TEXT_FLAT && *o->long_plugin_output
		       ? "long output left out (Naemon's command FIFO cannot carry it: give --checkresults or --livestatus)"
		       : "output altered to be carried safely ('|' as U+00A6, or backslash-n)");
	if (cut)
		report_output_cut(r, what, cut);
	return 0;
}

static int p2_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct run *r = ctx;
	const struct central_obj *c;
	const char *host, *why;
	char what[700];
	int host_problem = 0, final_state, cleared = 0, is_host = o->type == SD_HOST;

	if (is_host)
		r->out->st.hosts++;
	else
		r->out->st.services++;
	if (!(host = cname(r, o->host_name)))
		return sd_fail(err, "out of memory");
	if (!owned(r, host)) {
		r->out->st.not_owned++;
		report_host_once(r, host, "not owned by this site (not in its imported config): refused");
		return 0;
	}
	snprintf(what, sizeof(what), "%s '%s%s%s'", is_host ? "host" : "service", host,
		 is_host ? "" : ";", is_host ? "" : o->description);
	if ((why = extcmd_name_problem(host)) || (!is_host && (why = apply_name_problem(o->description, apply_takes_parts(r->a))))) {
		r->out->st.refused++;
		report(r, what, why);
		return 0;
	}
	if (!(c = central_find(r->c, host, is_host ? NULL : o->description))) {
		r->out->st.unknown++;
		report(r, what, "unknown to the central core: skipped (config not imported or not yet loaded?)");
		return 0;
	}
	if (is_host) {
		struct hoststate *h = calloc(1, sizeof(*h)), **found;
		if (!h || !(h->host = strdup(host))) {
			free(h);
			return sd_fail(err, "out of memory");
		}
		/* the host's state on the central once this run is applied */
		h->problem = o->has_been_checked && o->last_check > c->last_check ? o->state != 0
			     : c->has_been_checked && c->state != 0;
		if (!(found = tsearch(h, &r->host_states, hs_cmp)) || *found != h)
			hs_free(h);
	} else {
		struct hoststate key = { (char *)host, 0 }, *const *found = tfind(&key, &r->host_states, hs_cmp);
		host_problem = found ? (*found)->problem : 0;
	}
	/* pending: a problem to Icinga 2 (acks stay), OK to Nagios */
	final_state = c->has_been_checked ? c->state : core_profile(r->o->core)->pending_is_problem;
	if (send_results(r, o, host, what, c, host_problem, &final_state, &cleared) < 0)
		return -1;
	return send_ack(r, o, host, c, final_state, cleared);
}

/* ---- downtimes and comments ---- */

static int ditem_cmp(const void *a, const void *b)
{
	const struct ditem *x = a, *y = b;
	int k = strcmp(x->key, y->key);

	return k ? k : x->central - y->central;
}

static int ledger_add(struct run *r, const char *key)
{
	char **v, *dup;

	if (r->out->nledger && !strcmp(r->out->ledger[r->out->nledger - 1], key))
		return 0;
	if (r->out->nledger == r->ledgercap) {     /* geometric: a site may bring many thousand */
		size_t cap = r->ledgercap ? r->ledgercap * 2 : 64;
		if (!(v = realloc(r->out->ledger, cap * sizeof(*v))))
			return sd_fail(r->err, "out of memory");
		r->out->ledger = v;
		r->ledgercap = cap;
	}
	if (!(dup = strdup(key)))
		return sd_fail(r->err, "out of memory");
	r->out->ledger[r->out->nledger++] = dup;
	return 0;
}

/* remote items: by object, then in the order that decides which are kept */
static int object_cmp(const void *a, const void *b)
{
	const struct ditem *x = a, *y = b;
	int k = strcmp(x->host, y->host);

	if (!k && (!x->svc || !y->svc))
		k = !!x->svc - !!y->svc;
	else if (!k)
		k = strcmp(x->svc, y->svc);
	if (!k)
		k = x->order < y->order ? -1 : x->order > y->order;
	return k ? k : strcmp(x->key, y->key);
}

/* At most EXTCMD_ITEMS_MAX remote items per object: the earliest (by
 * start, or entry time) are kept, the same ones at every import of the
 * same bundle. The rest are refused, one report per object. */
static void cap_items(struct run *r, struct ilist *l, int downtimes)
{
	size_t i, j, k, out = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(l->v[0]), object_cmp);
	for (i = 0; i < l->n; i = j) {
		for (j = i + 1; j < l->n && !strcmp(l->v[j].host, l->v[i].host) &&
		     !l->v[j].svc == !l->v[i].svc && (!l->v[j].svc || !strcmp(l->v[j].svc, l->v[i].svc)); j++)
			;
		if (j - i > EXTCMD_ITEMS_MAX) {
			char what[700], why[300];
			snprintf(what, sizeof(what), "%s '%s%s%s'", l->v[i].svc ? "service" : "host", l->v[i].host,
				 l->v[i].svc ? ";" : "", l->v[i].svc ? l->v[i].svc : "");
			snprintf(why, sizeof(why), "%zu %s, over siteload's limit of %d per object: the %zu latest "
				 "(by %s) refused", j - i, downtimes ? "downtimes" : "comments", EXTCMD_ITEMS_MAX,
				 j - i - EXTCMD_ITEMS_MAX, downtimes ? "start" : "entry time");
			r->out->st.refused += (long long)(j - i - EXTCMD_ITEMS_MAX);
			report(r, what, why);
		}
		for (k = i; k < j; k++) {
			if (k - i < EXTCMD_ITEMS_MAX)
				l->v[out++] = l->v[k];
			else
				ditem_free(&l->v[k]);
		}
	}
	l->n = out;
}

/* The central's items of owned hosts, keyed as the remote's are. */
static int add_central(struct run *r, struct ilist *l, int downtimes)
{
	const struct central_item *ci = downtimes ? r->c->downtimes : r->c->comments;
	size_t nci = downtimes ? r->c->ndowntimes : r->c->ncomments, i;

	for (i = 0; i < nci; i++) {
		struct ditem *d;
		long long start = ci[i].start, end = ci[i].end, duration = ci[i].duration;
		if (!owned(r, ci[i].host))
			continue;
		/* Icinga 2's Livestatus shows an end after 2038 as -2147483648
		 * (earlier versions sent such ends): far in the future, not over */
		if (downtimes && end < 0)
			end = EXTCMD_TIME_MAX;
		if (downtimes && end <= r->o->now)
			continue;
		if (!(d = ipush(l)))
			return sd_fail(r->err, "out of memory");
		d->central = 1;
		d->id = ci[i].id;
		d->name = ci[i].name;
		d->is_service = ci[i].svc != NULL;
		/* the same clamp as the remote's: a Nagios central shows a
		 * later end as it is, and it matches our clamped one */
		extcmd_clamp_downtime(&start, &end, &duration);
		if (downtimes)
			downtime_key(d->key, ci[i].host, ci[i].svc, start, end, ci[i].fixed,
				     ci[i].fixed ? end - start : duration, ci[i].author, ci[i].comment);
		else
			comment_key(d->key, ci[i].host, ci[i].svc, ci[i].author, ci[i].comment);
	}
	return 0;
}

/* Items [i, j) share a key: did siteload make it (the ledger, also under
 * the key an earlier version made of unclamped times)? */
static int group_ours(const struct run *r, const struct ilist *l, size_t i, size_t j)
{
	size_t k;

	if (in_ledger(r, l->v[i].key))
		return 1;
	for (k = i; k < j; k++)
		if (!l->v[k].central && l->v[k].legacy[0] && in_ledger(r, l->v[k].legacy))
			return 1;
	return 0;
}

static int send_add(struct run *r, const struct ditem *d, int downtimes)
{
	long long now = r->o->now;
	struct apply_cmd c = { .host = d->host, .svc = d->svc, .is_service = d->is_service,
			       .author = d->author, .comment = d->comment };

	if (downtimes) {
		c.verb = APPLY_DOWNTIME;
		c.ts = now;
		c.start = d->start;
		c.end = d->end;
		c.fixed = d->fixed;
		c.duration = d->duration;
	} else {
		c.verb = APPLY_COMMENT;
		c.ts = d->entry_time >= EXTCMD_TIME_MIN && d->entry_time < now ? d->entry_time : now;
		c.persistent = d->persistent;
	}
	if (apply_cmd(r->a, &c, r->err) < 0)
		return -1;
	if (downtimes)
		r->out->st.downtimes_added++;
	else
		r->out->st.comments_added++;
	return 0;
}

static int send_del(struct run *r, const struct ditem *d, int downtimes)
{
	struct apply_cmd c = { .verb = downtimes ? APPLY_DEL_DOWNTIME : APPLY_DEL_COMMENT, .ts = r->o->now,
			       .host = d->host, .svc = d->svc, .is_service = d->is_service, .id = d->id,
			       .name = d->name };

	if (apply_cmd(r->a, &c, r->err) < 0)
		return -1;
	if (downtimes)
		r->out->st.downtimes_deleted++;
	else
		r->out->st.comments_deleted++;
	return 0;
}

/* Cap the remote's items, add the central's, then walk key groups. */
static int sync_items(struct run *r, struct ilist *l, int downtimes)
{
	size_t i, j, k;

	cap_items(r, l, downtimes);
	if (add_central(r, l, downtimes) < 0)
		return -1;
	if (l->n)
		qsort(l->v, l->n, sizeof(l->v[0]), ditem_cmp);
	for (i = 0; i < l->n; i = j) {
		size_t nr = 0, nc = 0;
		int ours;
		for (j = i; j < l->n && !strcmp(l->v[j].key, l->v[i].key); j++)
			l->v[j].central ? nc++ : nr++;
		ours = group_ours(r, l, i, j);
		/* the ledger: what we are about to make, and what we made that
		 * either side still has. Not what the central already had on its
		 * own: a remote copying a central user's comment must not make it
		 * deletable. */
		if ((nc < nr || ((nr || nc) && ours)) && ledger_add(r, l->v[i].key) < 0)
			return -1;
		for (k = i; k < j && nc < nr; k++)
			if (!l->v[k].central) {
				if (send_add(r, &l->v[k], downtimes) < 0)
					return -1;
				nc++;
			}
		for (k = i; k < j && nc > nr && ours; k++)
			if (l->v[k].central) {
				if (send_del(r, &l->v[k], downtimes) < 0)
					return -1;
				nc--;
			}
	}
	return 0;
}

static void p_skipped(void *ctx, const char *what, const char *why)
{
	struct run *r = ctx;

	report(r, what, why);
}

int reconcile_run(int fd, const struct central *c, const struct reconcile_opts *o,
		  struct applier *a, struct reconcile_out *out, sd_error *err)
{
	struct run r;
	struct sd_sink s;
	int rc = -1;

	memset(&r, 0, sizeof(r));
	memset(out, 0, sizeof(*out));
	r.o = o;
	r.c = c;
	r.a = a;
	r.out = out;
	r.err = err;
	memset(&s, 0, sizeof(s));
	s.ctx = &r;
	s.comment = p1_comment;
	s.downtime = p1_downtime;
	s.skipped = p_skipped;
	s.report_ctx = &r;
	if (lseek(fd, 0, SEEK_SET) < 0 || snapshot_json_read_fd(fd, "state.json", &s, err) < 0)
		goto out;
	memset(&s, 0, sizeof(s));
	s.ctx = &r;
	s.object = p2_object;
	s.skipped = p_skipped;
	s.report_ctx = &r;
	if (lseek(fd, 0, SEEK_SET) < 0 || snapshot_json_read_fd(fd, "state.json", &s, err) < 0)
		goto out;
	if (sync_items(&r, &r.dts, 1) < 0 || sync_items(&r, &r.cms, 0) < 0)
		goto out;
	if (out->nledger)
		qsort(out->ledger, out->nledger, sizeof(char *), strp_cmp);
	rc = 0;
out:
	tdestroy(r.acks, ackc_free);
	tdestroy(r.host_states, hs_free);
	tdestroy(r.reported, free);
	ilist_free(&r.dts);
	ilist_free(&r.cms);
	free(r.name);
	return rc;
}

void reconcile_out_free(struct reconcile_out *out)
{
	size_t i;

	for (i = 0; i < out->nledger; i++)
		free(out->ledger[i]);
	free(out->ledger);
	out->ledger = NULL;
	out->nledger = 0;
}
