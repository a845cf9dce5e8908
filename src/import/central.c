/*
 * central.c - read the central core's current state into a small model.
 *
 * The sources are the same ones sitedump exports from (Livestatus,
 * status.dat), driven into a sink that keeps only decision fields. The
 * central's files hold what every remote site sent, so what the reader
 * skips or clamps is reported and the model is built from the rest: one
 * site's odd object must not stop the imports of all the others.
 */

#include <errno.h>
#include <search.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import/central.h"
#include "livestatus/source_livestatus.h"
#include "formats/statusdat.h"
#include "base/jscan.h"
#include "icinga2api/api.h"

int central_key_cmp(const char *host1, const char *svc1, const char *host2, const char *svc2)
{
	int r = strcmp(host1, host2);

	if (r)
		return r;
	if (!svc1 || !svc2)
		return !!svc1 - !!svc2;
	return strcmp(svc1, svc2);
}

static int obj_cmp(const void *a, const void *b)
{
	const struct central_obj *x = a, *y = b;

	return central_key_cmp(x->host, x->svc, y->host, y->svc);
}

static void obj_free(void *p)
{
	struct central_obj *o = p;

	free(o->host);
	free(o->svc);
	free(o->ack_author);
	free(o->ack_comment);
	free(o);
}

struct central *central_new(void)
{
	return calloc(1, sizeof(struct central));
}

static struct central_obj *find_mut(const struct central *c, const char *host, const char *svc)
{
	struct central_obj key = { 0 };
	void *const *p;

	key.host = (char *)host;
	key.svc = (char *)svc;
	p = tfind(&key, &c->root, obj_cmp);
	return p ? *(struct central_obj *const *)p : NULL;
}

const struct central_obj *central_find(const struct central *c, const char *host, const char *svc)
{
	return find_mut(c, host, svc);
}

int central_has_host(const struct central *c, const char *host)
{
	return find_mut(c, host, NULL) != NULL;
}

static int c_object(void *ctx, const struct sd_object *so, sd_error *err)
{
	struct central *c = ctx;
	struct central_obj *o = calloc(1, sizeof(*o));
	void *p;

	if (!o || !(o->host = strdup(so->host_name)) || (so->description && !(o->svc = strdup(so->description)))) {
		if (o)
			obj_free(o);
		return sd_fail(err, "out of memory");
	}
	o->state = so->state;
	o->state_type = so->state_type;
	o->attempt = so->current_attempt;
	o->max_attempts = so->max_check_attempts;
	o->has_been_checked = so->has_been_checked;
	o->last_check = so->last_check;
	o->acknowledged = so->acknowledged;
	o->ack_type = so->acknowledgement_type;
	o->stale = !strncmp(so->plugin_output, CENTRAL_STALE_PREFIX, strlen(CENTRAL_STALE_PREFIX));
	if (!(p = tsearch(o, &c->root, obj_cmp))) {
		obj_free(o);
		return sd_fail(err, "out of memory");
	}
	if (*(struct central_obj **)p != o)
		obj_free(o);    /* a duplicate row: keep the first */
	else
		c->nobjs++;
	return 0;
}

static int push(struct central_item **v, size_t *n, size_t *cap, struct central_item *it)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct central_item *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *it;
	return 0;
}

static void item_free(struct central_item *it)
{
	free(it->name);
	free(it->host);
	free(it->svc);
	free(it->author);
	free(it->comment);
}

static int fill_item(struct central_item *it, long long id, const char *host, const char *svc,
		     const char *author, const char *comment)
{
	memset(it, 0, sizeof(*it));
	it->id = id;
	if (!(it->host = strdup(host)) || (svc && !(it->svc = strdup(svc))) ||
	    !(it->author = strdup(author)) || !(it->comment = strdup(comment))) {
		item_free(it);
		return -1;
	}
	return 0;
}

static int c_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct central *c = ctx;
	struct central_item it;

	if (fill_item(&it, d->id, d->host_name, d->service_description, d->author, d->comment) < 0)
		return sd_fail(err, "out of memory");
	it.start = d->start_time < CENTRAL_TIME_MAX ? d->start_time : CENTRAL_TIME_MAX;
	it.end = d->end_time < CENTRAL_TIME_MAX ? d->end_time : CENTRAL_TIME_MAX;
	it.fixed = d->fixed;
	it.duration = d->duration < CENTRAL_TIME_MAX ? d->duration : CENTRAL_TIME_MAX;
	it.entry_time = d->entry_time;
	if (push(&c->downtimes, &c->ndowntimes, &c->capd, &it) < 0) {
		item_free(&it);
		return sd_fail(err, "out of memory");
	}
	return 0;
}

static int c_comment(void *ctx, const struct sd_comment *sc, sd_error *err)
{
	struct central *c = ctx;
	struct central_item it;

	if (sc->entry_type == 4) {
		/* the ack's author and text: objects come before comments */
		struct central_obj *o = find_mut(c, sc->host_name, sc->service_description);
		if (o && (!o->ack_author || sc->entry_time >= o->ack_time)) {
			char *a = strdup(sc->author), *t = strdup(sc->comment);
			if (!a || !t) {
				free(a);
				free(t);
				return sd_fail(err, "out of memory");
			}
			free(o->ack_author);
			free(o->ack_comment);
			o->ack_author = a;
			o->ack_comment = t;
			o->ack_time = sc->entry_time;
		}
		return 0;
	}
	if (sc->entry_type != 1)
		return 0;       /* downtime and flapping comments belong to the core */
	if (fill_item(&it, sc->id, sc->host_name, sc->service_description, sc->author, sc->comment) < 0)
		return sd_fail(err, "out of memory");
	it.entry_time = sc->entry_time;
	it.persistent = sc->persistent;
	if (push(&c->comments, &c->ncomments, &c->capc, &it) < 0) {
		item_free(&it);
		return sd_fail(err, "out of memory");
	}
	return 0;
}

static void sink_init(struct sd_sink *s, struct central *c)
{
	memset(s, 0, sizeof(*s));
	s->ctx = c;
	s->object = c_object;
	s->downtime = c_downtime;
	s->comment = c_comment;
}

/* The filters on a site's mark: Nagios-family Livestatus matches a custom
 * variable by name and value; Icinga 2's takes only = on the whole dict or
 * >= on the list of values, so there any top-level variable with the
 * site's name as its value matches (a superset: ownership is checked
 * anyway, and the remote's own variables are below vars.sitedump_remote). */
static int site_filters(const char *site, enum sd_core core, char **hosts, char **others)
{
	if (core == CORE_ICINGA2)
		return asprintf(hosts, "Filter: custom_variable_values >= %s\n", site) < 0 ||
		       asprintf(others, "Filter: host_custom_variable_values >= %s\n", site) < 0 ? -1 : 0;
	return asprintf(hosts, "Filter: custom_variables = SITEDUMP_SITE %s\n", site) < 0 ||
	       asprintf(others, "Filter: host_custom_variables = SITEDUMP_SITE %s\n", site) < 0 ? -1 : 0;
}

struct central *central_read_livestatus(const char *spec, int timeout_ms, const char *site, enum sd_core core,
					sd_error *err)
{
	struct central *c = central_new();
	struct ls_source_opts o = { 0 };
	struct sd_sink s;
	char *hf = NULL, *of = NULL;
	int rc = -1;

	if (!c || (site && site_filters(site, core, &hf, &of) < 0)) {
		sd_fail(err, "out of memory");
		goto out;
	}
	sink_init(&s, c);
	o.spec = spec;
	o.timeout_ms = timeout_ms;
	o.host_headers = "";
	o.host_only_headers = hf ? hf : "";
	o.service_headers = o.item_headers = of ? of : "";
	o.parts = SD_PART_CENTRAL;     /* only the columns c_object reads */
	rc = source_livestatus_run(&o, &s, err);
out:
	free(hf);
	free(of);
	if (rc < 0) {
		central_free(c);
		return NULL;
	}
	return c;
}

/* One pass over status.dat where it can be (statusdat_read_state_once):
 * half the reading of a large central. Its 1 (blocks out of the order a
 * Nagios or Naemon writes) means: the model again, from the same open
 * files, without the reports it made already. */
static struct central *statusdat_model(FILE *st, const char *status, FILE *ob, const char *objects,
				       void (*report)(void *ctx, const char *what, const char *why),
				       void *report_ctx, sd_error *err)
{
	struct central *c = central_new();
	struct sd_sink s;
	int rc;

	if (!c) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	sink_init(&s, c);
	/* the reader's own reports: blocks it skipped, times it clamped */
	s.skipped = report;
	s.warned = report;
	s.report_ctx = report_ctx;
	rc = statusdat_read_state_once(st, status, ob, objects, &s, err);
	if (rc == 1) {
		central_free(c);
		if (!(c = central_new())) {
			sd_fail(err, "out of memory");
			return NULL;
		}
		sink_init(&s, c);
		rc = fseeko(st, 0, SEEK_SET) || fseeko(ob, 0, SEEK_SET)
		     ? sd_fail(err, "%s: cannot read it again from the start: %s", status, strerror(errno))
		     : statusdat_read_fp(st, status, ob, objects, SD_PART_STATE, &s, err);
	}
	if (rc < 0) {
		central_free(c);
		return NULL;
	}
	return c;
}

struct central *central_read_statusdat(const char *status, const char *objects,
				       void (*report)(void *ctx, const char *what, const char *why),
				       void *report_ctx, sd_error *err)
{
	struct central *c = NULL;
	FILE *st, *ob;

	if (!status || !objects) {
		sd_fail(err, "status.dat reader: both --status-file and --objects-cache are needed");
		return NULL;
	}
	/* both open first, then only these read: the core may rename new files over them */
	if (!(st = fopen(status, "re"))) {
		sd_fail(err, "%s: %s", status, strerror(errno));
		return NULL;
	}
	if (!(ob = fopen(objects, "re")))
		sd_fail(err, "%s: %s", objects, strerror(errno));
	else
		c = statusdat_model(st, status, ob, objects, report, report_ctx, err);
	fclose(st);
	if (ob)
		fclose(ob);
	return c;
}

void central_free(struct central *c)
{
	size_t i;

	if (!c)
		return;
	tdestroy(c->root, obj_free);
	for (i = 0; i < c->ndowntimes; i++)
		item_free(&c->downtimes[i]);
	for (i = 0; i < c->ncomments; i++)
		item_free(&c->comments[i]);
	free(c->downtimes);
	free(c->comments);
	free(c);
}

/* ---- through Icinga 2's REST API ----
 *
 * Why: the names the API gives comments and downtimes are what
 * remove-comment/remove-downtime take (there are no numeric ids in the
 * API's actions), and a result's last check is read as its
 * execution_end, which the API channel sets to the remote's last check
 * (Icinga 2.13 sets last_check itself, to the time it processed the
 * result: docs/core-behaviour.md §10). The reply of each
 * object query is streamed through the JSON scanner; only the attributes
 * below are asked for. */

enum api_kind { AK_HOST, AK_SERVICE, AK_COMMENT, AK_DOWNTIME };

struct api_rec {                        /* one object of a query's results */
	char *name, *host, *svc, *author, *text;
	double state, state_type, attempt, max_attempts, ack, exec_start, exec_end, last_check;
	double start, end, duration, entry_time, entry_type, legacy_id;
	int checked, fixed, persistent, stale;
};

struct api_read {
	struct central *c;
	enum api_kind kind;
	int depth;
	char key3[16], key4[32], key5[32];      /* the key being read at each depth */
	struct api_rec r;
	sd_error *err;
	int failed;
};

static void rec_clear(struct api_rec *r)
{
	free(r->name);
	free(r->host);
	free(r->svc);
	free(r->author);
	free(r->text);
	memset(r, 0, sizeof(*r));
}

static char **rec_str(struct api_read *a, const char *k)
{
	if (!strcmp(k, "host_name"))
		return &a->r.host;
	if (!strcmp(k, "service_name") || (a->kind == AK_SERVICE && !strcmp(k, "name")))
		return &a->r.svc;
	if (a->kind == AK_HOST && !strcmp(k, "name"))
		return &a->r.host;
	if (!strcmp(k, "author"))
		return &a->r.author;
	if (!strcmp(k, "text") || !strcmp(k, "comment"))
		return &a->r.text;
	return NULL;
}

static double *rec_num(struct api_rec *r, const char *k)
{
	static const struct { const char *k; size_t off; } t[] = {
		{ "state", offsetof(struct api_rec, state) },
		{ "state_type", offsetof(struct api_rec, state_type) },
		{ "check_attempt", offsetof(struct api_rec, attempt) },
		{ "max_check_attempts", offsetof(struct api_rec, max_attempts) },
		{ "acknowledgement", offsetof(struct api_rec, ack) },
		{ "last_check", offsetof(struct api_rec, last_check) },
		{ "start_time", offsetof(struct api_rec, start) },
		{ "end_time", offsetof(struct api_rec, end) },
		{ "duration", offsetof(struct api_rec, duration) },
		{ "entry_time", offsetof(struct api_rec, entry_time) },
		{ "entry_type", offsetof(struct api_rec, entry_type) },
		{ "legacy_id", offsetof(struct api_rec, legacy_id) },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!strcmp(k, t[i].k))
			return (double *)((char *)r + t[i].off);
	return NULL;
}

/* a scalar at depth d (its key in key<d>) */
static int ar_value(struct api_read *a, const char *num, const unsigned char *s, size_t len, int b)
{
	char **sp;
	double *dp;

	if (a->depth == 3 && !strcmp(a->key3, "name") && s) {
		free(a->r.name);
		if (!(a->r.name = strndup((const char *)s, len)))
			return a->failed = 1, 0;
	} else if (a->depth == 4 && !strcmp(a->key3, "attrs")) {
		if (s && (sp = rec_str(a, a->key4))) {
			free(*sp);
			if (!(*sp = strndup((const char *)s, len)))
				return a->failed = 1, 0;
		} else if (num && (dp = rec_num(&a->r, a->key4)))
			*dp = strtod(num, NULL);
		else if (b >= 0 && !strcmp(a->key4, "fixed"))
			a->r.fixed = b;
		else if (b >= 0 && !strcmp(a->key4, "persistent"))
			a->r.persistent = b;
	} else if (a->depth == 5 && !strcmp(a->key4, "last_check_result")) {
		if (num && !strcmp(a->key5, "execution_start"))
			a->r.exec_start = strtod(num, NULL);
		else if (num && !strcmp(a->key5, "execution_end"))
			a->r.exec_end = strtod(num, NULL);
		else if (s && !strcmp(a->key5, "output"))
			a->r.stale = len >= strlen(CENTRAL_STALE_PREFIX) &&
				     !memcmp(s, CENTRAL_STALE_PREFIX, strlen(CENTRAL_STALE_PREFIX));
	}
	return 1;
}

static int ar_null(void *ctx) { return ar_value(ctx, NULL, NULL, 0, -1); }
static int ar_bool(void *ctx, int b) { return ar_value(ctx, NULL, NULL, 0, b); }

static int ar_number(void *ctx, const char *s, size_t len)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.*s", (int)(len < 63 ? len : 63), s);
	return ar_value(ctx, buf, NULL, 0, -1);
}

static int ar_string(void *ctx, const unsigned char *s, size_t len)
{
	return ar_value(ctx, NULL, s, len, -1);
}

static int ar_key(void *ctx, const unsigned char *s, size_t len)
{
	struct api_read *a = ctx;
	char *k = a->depth == 3 ? a->key3 : a->depth == 4 ? a->key4 : a->depth == 5 ? a->key5 : NULL;
	size_t max = a->depth == 3 ? sizeof(a->key3) : sizeof(a->key4);

	if (k)
		snprintf(k, max, "%.*s", (int)(len < max - 1 ? len : max - 1), (const char *)s);
	return 1;
}

static int ar_open(void *ctx)
{
	struct api_read *a = ctx;

	a->depth++;
	if (a->depth == 5 && !strcmp(a->key3, "attrs") && !strcmp(a->key4, "last_check_result"))
		a->r.checked = 1;
	return 1;
}

static int ar_close(void *ctx);

static const struct jscan_callbacks ar_callbacks = {
	ar_null, ar_bool, ar_number, ar_string, ar_open, ar_key, ar_close, ar_open, ar_close,
};

static long long clamp_time(double t)
{
	return t < (double)CENTRAL_TIME_MAX ? (long long)t : CENTRAL_TIME_MAX;
}

/* a host's or service's record into the model, as c_object does */
static int ar_object(struct api_read *a)
{
	struct sd_object so = { 0 };
	struct api_rec *r = &a->r;
	struct central_obj *o;

	if (!r->host || (a->kind == AK_SERVICE && !r->svc))
		return 0;       /* not the shape asked for: nothing to reconcile against */
	so.host_name = r->host;
	so.description = a->kind == AK_SERVICE ? r->svc : NULL;
	so.state = (int)r->state;
	so.state_type = (int)r->state_type;
	so.current_attempt = (int)r->attempt;
	so.max_check_attempts = (int)r->max_attempts;
	so.has_been_checked = r->checked;
	/* the remote's last check as the API channel sent it (execution_end);
	 * Icinga's own last_check is when it processed the result */
	so.last_check = r->checked && r->exec_end > 0 ? r->exec_end : r->last_check;
	so.acknowledged = r->ack > 0;
	so.acknowledgement_type = (int)r->ack;
	so.plugin_output = r->stale ? CENTRAL_STALE_PREFIX : "";
	if (c_object(a->c, &so, a->err) < 0)
		return -1;
	if ((o = find_mut(a->c, so.host_name, so.description)))
		o->exec_start = r->checked ? r->exec_start : 0;
	return 0;
}

/* a comment's or downtime's record into the model (with its API name) */
static int ar_item(struct api_read *a)
{
	struct api_rec *r = &a->r;
	size_t n;
	int rc;

	if (!r->host || !r->name)
		return 0;
	if (a->kind == AK_COMMENT) {
		struct sd_comment sc = { 0 };
		sc.id = (long long)r->legacy_id;
		sc.host_name = r->host;
		sc.service_description = r->svc && *r->svc ? r->svc : NULL;
		sc.author = r->author ? r->author : "";
		sc.comment = r->text ? r->text : "";
		sc.entry_time = (long long)r->entry_time;
		sc.entry_type = (int)r->entry_type;
		sc.persistent = r->persistent;
		n = a->c->ncomments;
		if ((rc = c_comment(a->c, &sc, a->err)) < 0 || a->c->ncomments == n)
			return rc;
		a->c->comments[n].name = r->name;
	} else {
		struct sd_downtime d = { 0 };
		d.id = (long long)r->legacy_id;
		d.host_name = r->host;
		d.service_description = r->svc && *r->svc ? r->svc : NULL;
		d.author = r->author ? r->author : "";
		d.comment = r->text ? r->text : "";
		d.start_time = clamp_time(r->start);
		d.end_time = clamp_time(r->end);
		d.duration = clamp_time(r->duration);
		d.fixed = r->fixed;
		d.entry_time = (long long)r->entry_time;
		n = a->c->ndowntimes;
		if ((rc = c_downtime(a->c, &d, a->err)) < 0)
			return rc;
		a->c->downtimes[n].name = r->name;
	}
	r->name = NULL;         /* the model's now */
	return 0;
}

static int ar_close(void *ctx)
{
	struct api_read *a = ctx;
	int rc = 0;

	if (a->depth == 3 && !a->failed) {      /* one result read */
		rc = a->kind == AK_HOST || a->kind == AK_SERVICE ? ar_object(a) : ar_item(a);
		rec_clear(&a->r);
		if (rc < 0)
			a->failed = 2;
	}
	a->depth--;
	return !a->failed;
}

static int ar_feed(void *ctx, const char *buf, size_t n, sd_error *err)
{
	struct jscan *js = ctx;

	if (jscan_feed(js, buf, n) == JSCAN_OK)
		return 0;
	return sd_fail(err, "%s", jscan_error(js));
}

static const char *const api_queries[][2] = {
	{ "/v1/objects/hosts", "\"attrs\":[\"name\",\"state\",\"state_type\",\"check_attempt\","
	  "\"max_check_attempts\",\"last_check\",\"last_check_result\",\"acknowledgement\"]" },
	{ "/v1/objects/services", "\"attrs\":[\"name\",\"host_name\",\"state\",\"state_type\",\"check_attempt\","
	  "\"max_check_attempts\",\"last_check\",\"last_check_result\",\"acknowledgement\"]" },
	{ "/v1/objects/comments", "\"attrs\":[\"host_name\",\"service_name\",\"author\",\"text\","
	  "\"entry_time\",\"entry_type\",\"persistent\",\"legacy_id\"]" },
	{ "/v1/objects/downtimes", "\"attrs\":[\"host_name\",\"service_name\",\"author\",\"comment\","
	  "\"start_time\",\"end_time\",\"duration\",\"fixed\",\"entry_time\",\"legacy_id\"]" },
};

/* One object query streamed into the model; site: only objects whose
 * host carries the site's mark (vars.sitedump_site), or NULL. */
static int api_query(struct api *h, struct central *c, enum api_kind kind, const char *site, sd_error *err)
{
	struct api_read a = { 0 };
	struct jscan *js;
	char *body;
	long st;

	a.c = c;
	a.kind = kind;
	a.err = err;
	/* the site's name as a filter variable, never inside the filter's text */
	if ((site ? asprintf(&body, "{%s,\"filter\":\"host.vars.sitedump_site == sitedump_site\","
			     "\"filter_vars\":{\"sitedump_site\":\"%s\"}}", api_queries[kind][1], site)
		  : asprintf(&body, "{%s}", api_queries[kind][1])) < 0)
		return sd_fail(err, "out of memory");
	/* a string up to 64 MiB: an output the central holds is its own business */
	if (!(js = jscan_new(&ar_callbacks, &a, 64 << 20))) {
		free(body);
		return sd_fail(err, "out of memory");
	}
	st = api_stream(h, "GET", api_queries[kind][0], body, ar_feed, js, err);
	free(body);
	if (st >= 200 && st < 300 && a.failed != 2 && (a.failed || jscan_finish(js) != JSCAN_OK))
		st = a.failed ? sd_fail(err, "out of memory") : sd_fail(err, "%s", jscan_error(js));
	rec_clear(&a.r);
	jscan_free(js);
	if (st >= 0 && (st < 200 || st >= 300))
		return -1;      /* err names URL, status and Icinga's reason */
	return st < 0 ? -1 : 0;
}

/* a site name that needs no JSON escaping (seq_site_ok's are such) */
static int site_plain(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

struct central *central_read_api(const struct api_opts *o, const char *site, sd_error *err)
{
	struct central *c = central_new();
	struct api *h = NULL;
	enum api_kind k;

	if (site && !site_plain(site))
		site = NULL;    /* the whole central: ownership is checked anyway */
	if (!c || !(h = api_open(o, err))) {
		if (!c)
			sd_fail(err, "out of memory");
		central_free(c);
		return NULL;
	}
	for (k = AK_HOST; k <= AK_DOWNTIME; k++)
		if (api_query(h, c, k, site, err) < 0) {
			api_close(h);
			central_free(c);
			return NULL;
		}
	api_close(h);
	return c;
}
