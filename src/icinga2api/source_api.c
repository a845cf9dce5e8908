/*
 * source_api.c - map Icinga 2 REST API object replies to snapshot records.
 *
 * Why streamed, one result at a time: /v1/objects/services of a 50k site
 * is tens of megabytes. The reply goes through the streaming scanner
 * (base/jscan) as it arrives; one result's attributes are kept (in one
 * reused arena) until its object closes, then it becomes a record and is
 * forgotten. Only two small indexes live longer: host parents (from the
 * Dependency objects: the API has no "parents" attribute) and downtime
 * names (triggered_by is a name in the API, a legacy id in Livestatus).
 *
 * Why these values: each field is what Icinga 2's Livestatus computes from
 * the same object (lib/livestatus/{hosts,services}table.cpp, compatutility):
 * plugin_output is the first line of the output and long_plugin_output the
 * rest, perf data is the items joined by spaces, latency and execution time
 * come from the last check result's schedule and execution times, times are
 * whole seconds, intervals are minutes, check_type is 1 when active checks
 * are off. So the two sources give the same snapshot (tests/0030).
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/jscan.h"
#include "base/sbuf.h"
#include "icinga2api/api.h"
#include "icinga2api/source_api.h"

#define S SD_PART_STATE
#define K SD_PART_CONFIG
#define R SD_PART_RESULT
#define C SD_PART_CENTRAL
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_TOKEN (64u << 20)   /* one string: a plugin output of 64 MiB at most */
#define NONE SIZE_MAX

enum field {
	F_NONE, F_OBJNAME, F_NAME, F_HOST_NAME, F_SERVICE_NAME, F_DISPLAY_NAME, F_ADDRESS,
	F_STATE, F_STATE_TYPE, F_ATTEMPT, F_MAX_ATTEMPTS, F_LCR, F_LAST_CHECK, F_LAST_STATE_CHANGE,
	F_LAST_HARD_STATE, F_FLAPPING, F_ACTIVE, F_ACK, F_GROUPS, F_CHECK_COMMAND, F_CHECK_INTERVAL,
	F_RETRY_INTERVAL, F_NOTES, F_NOTES_URL, F_ACTION_URL, F_ICON_IMAGE, F_VARS,
	F_LEGACY_ID, F_ENTRY_TYPE, F_AUTHOR, F_TEXT, F_COMMENT, F_PERSISTENT, F_ENTRY_TIME,
	F_START, F_END, F_FIXED, F_DURATION, F_TRIGGERED_BY,
	F_CHILD_HOST, F_CHILD_SERVICE, F_PARENT_HOST, F_PARENT_SERVICE,
	/* inside last_check_result */
	F_OUTPUT, F_EXEC_START, F_EXEC_END, F_SCHED_START, F_SCHED_END,
	NFIELDS
};

struct attr {
	const char *name;
	enum field f;
	unsigned parts;
};

/* hosts and services: the key attributes come first per type */
static const struct attr checkable_attrs[] = {
	{ "state", F_STATE, S | R | C },
	{ "state_type", F_STATE_TYPE, S | C },
	{ "check_attempt", F_ATTEMPT, S | C },
	{ "max_check_attempts", F_MAX_ATTEMPTS, S | K | C },
	{ "last_check_result", F_LCR, S | R | C },
	{ "last_check", F_LAST_CHECK, S | R | C },
	{ "last_state_change", F_LAST_STATE_CHANGE, S },
	{ "last_hard_state", F_LAST_HARD_STATE, S },
	{ "flapping", F_FLAPPING, S },
	{ "enable_active_checks", F_ACTIVE, S },
	{ "acknowledgement", F_ACK, S | C },
	{ "groups", F_GROUPS, K },
	{ "check_command", F_CHECK_COMMAND, K },
	{ "check_interval", F_CHECK_INTERVAL, K },
	{ "retry_interval", F_RETRY_INTERVAL, K },
	{ "notes", F_NOTES, K },
	{ "notes_url", F_NOTES_URL, K },
	{ "action_url", F_ACTION_URL, K },
	{ "icon_image", F_ICON_IMAGE, K },
	{ "vars", F_VARS, K },
};
static const struct attr host_attrs[] = {
	{ "name", F_NAME, S | K | R | C },
	{ "display_name", F_DISPLAY_NAME, K },
	{ "address", F_ADDRESS, K },
};
static const struct attr service_attrs[] = {
	{ "host_name", F_HOST_NAME, S | K | R | C },
	{ "name", F_NAME, S | K | R | C },     /* the short name: Livestatus' description */
};
static const struct attr group_attrs[] = {
	{ "name", F_NAME, K }, { "display_name", F_DISPLAY_NAME, K },
};
static const struct attr dependency_attrs[] = {
	{ "child_host_name", F_CHILD_HOST, K }, { "child_service_name", F_CHILD_SERVICE, K },
	{ "parent_host_name", F_PARENT_HOST, K }, { "parent_service_name", F_PARENT_SERVICE, K },
};
static const struct attr comment_attrs[] = {
	{ "legacy_id", F_LEGACY_ID, S | C }, { "host_name", F_HOST_NAME, S | C },
	{ "service_name", F_SERVICE_NAME, S | C }, { "entry_type", F_ENTRY_TYPE, S | C },
	{ "author", F_AUTHOR, S | C }, { "text", F_TEXT, S | C },
	{ "persistent", F_PERSISTENT, S | C }, { "entry_time", F_ENTRY_TIME, S | C },
};
static const struct attr downtime_id_attrs[] = {
	{ "legacy_id", F_LEGACY_ID, S | C },
};
static const struct attr downtime_attrs[] = {
	{ "legacy_id", F_LEGACY_ID, S | C }, { "host_name", F_HOST_NAME, S | C },
	{ "service_name", F_SERVICE_NAME, S | C }, { "start_time", F_START, S | C },
	{ "end_time", F_END, S | C }, { "fixed", F_FIXED, S | C }, { "duration", F_DURATION, S | C },
	{ "triggered_by", F_TRIGGERED_BY, S | C }, { "author", F_AUTHOR, S | C },
	{ "comment", F_COMMENT, S | C }, { "entry_time", F_ENTRY_TIME, S | C },
};
static const struct attr lcr_attrs[] = {
	{ "output", F_OUTPUT, 0 }, { "execution_start", F_EXEC_START, 0 }, { "execution_end", F_EXEC_END, 0 },
	{ "schedule_start", F_SCHED_START, 0 }, { "schedule_end", F_SCHED_END, 0 },
};

struct qdef {
	const char *type;
	const struct attr *a[2];
	size_t n[2];
};

static const struct qdef queries[] = {
	[APIQ_HOSTGROUPS] = { "hostgroups", { group_attrs }, { NELEM(group_attrs) } },
	[APIQ_SERVICEGROUPS] = { "servicegroups", { group_attrs }, { NELEM(group_attrs) } },
	[APIQ_DEPENDENCIES] = { "dependencies", { dependency_attrs }, { NELEM(dependency_attrs) } },
	[APIQ_HOSTS] = { "hosts", { host_attrs, checkable_attrs }, { NELEM(host_attrs), NELEM(checkable_attrs) } },
	[APIQ_SERVICES] = { "services", { service_attrs, checkable_attrs },
			    { NELEM(service_attrs), NELEM(checkable_attrs) } },
	[APIQ_COMMENTS] = { "comments", { comment_attrs }, { NELEM(comment_attrs) } },
	[APIQ_DOWNTIME_IDS] = { "downtimes", { downtime_id_attrs }, { NELEM(downtime_id_attrs) } },
	[APIQ_DOWNTIMES] = { "downtimes", { downtime_attrs }, { NELEM(downtime_attrs) } },
};

const char *api_query_type(enum api_query q)
{
	return queries[q].type;
}

char *api_query_body(enum api_query q, unsigned parts)
{
	struct sbuf b = { 0 };
	size_t i, k, n = 0;

	sbuf_puts(&b, "{\"attrs\":[");
	for (k = 0; k < 2; k++)
		for (i = 0; i < queries[q].n[k]; i++)
			if (queries[q].a[k][i].parts & parts) {
				if (n++)
					sbuf_putc(&b, ',');
				sbuf_put_json_string(&b, queries[q].a[k][i].name, strlen(queries[q].a[k][i].name));
			}
	sbuf_puts(&b, "]}");
	sbuf_putc(&b, '\0');
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}

/* ---- the indexes kept between replies ------------------------------------ */

struct pair {
	char *a, *b;            /* child host and parent host; downtime name and (b unused) */
	long long id;
};

struct index {
	struct pair *v;
	size_t n, cap;
	int sorted;
};

static int index_add(struct index *x, const char *a, const char *b, long long id)
{
	struct pair *p;

	if (x->n == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 64;
		if (!(p = realloc(x->v, cap * sizeof(*p))))
			return -1;
		x->v = p;
		x->cap = cap;
	}
	p = &x->v[x->n];
	p->a = strdup(a);
	p->b = b ? strdup(b) : NULL;
	p->id = id;
	if (!p->a || (b && !p->b)) {
		free(p->a);
		free(p->b);
		return -1;
	}
	x->n++;
	x->sorted = 0;
	return 0;
}

static int pair_cmp(const void *x, const void *y)
{
	const struct pair *p = x, *q = y;
	int c = strcmp(p->a, q->a);

	return c ? c : p->b && q->b ? strcmp(p->b, q->b) : 0;
}

/* The first entry for a, or NULL. */
static const struct pair *index_find(struct index *x, const char *a, size_t *count)
{
	size_t lo = 0, hi = x->n, first;

	*count = 0;
	if (!x->sorted) {
		if (x->n)
			qsort(x->v, x->n, sizeof(*x->v), pair_cmp);
		x->sorted = 1;
	}
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(x->v[mid].a, a) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	first = lo;
	while (lo < x->n && !strcmp(x->v[lo].a, a))
		lo++;
	*count = lo - first;
	return *count ? &x->v[first] : NULL;
}

static void index_free(struct index *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].a);
		free(x->v[i].b);
	}
	free(x->v);
	memset(x, 0, sizeof(*x));
}

/* ---- the reader ---------------------------------------------------------- */

enum mode { M_NONE, M_LIST, M_VARS, M_LCR, M_PERF, M_PDV };

/* One PerfdataValue (an item of performance_data that Icinga parsed). */
enum pdv_key { P_NONE, P_LABEL, P_VALUE, P_UNIT, P_WARN, P_CRIT, P_MIN, P_MAX, P_COUNTER, NPDV };

struct api_objreader {
	const struct sd_sink *sink;
	unsigned parts;
	enum api_query q;
	struct jscan *js;
	sd_error *err;          /* the current feed's */
	int failed;
	long results;
	int seen_results;       /* the reply had its "results" array */
	/* where the scan is */
	int depth, skip;        /* skip: the depth of a container skipped whole (0: none) */
	int key1_results, key3;
	enum field cur;         /* the attribute (depth 4) or last_check_result member (5) */
	enum mode mode;
	int has_lcr;
	/* the result being read: strings in the arena by offset */
	struct sbuf arena;
	size_t str[NFIELDS];
	double num[NFIELDS];
	unsigned char has[NFIELDS];
	size_t *list;           /* groups */
	size_t nlist, list_cap;
	size_t *vars;           /* name, value offsets */
	size_t nvars, vars_cap;
	int var_open;           /* a name waits for its value */
	struct sbuf perf;
	int perf_key;           /* the last_check_result member is performance_data */
	enum pdv_key pkey;
	size_t pdv[NPDV];       /* offsets in pdvbuf (NONE: absent) */
	struct sbuf pdvbuf;
	/* a structured custom variable, written back as JSON text */
	int cap_depth;          /* the depth inside it (0: not capturing) */
	struct sbuf cap;
	unsigned char cfirst[JSCAN_MAX_DEPTH + 2], cmap[JSCAN_MAX_DEPTH + 2];
	const char *bad;        /* a text with a NUL byte */
	struct index parents, dtnames;
	/* pointers for the record, rebuilt per result */
	char **listp;
	size_t listp_cap;
	struct sd_var *varp;
	size_t varp_cap;
};

static int r_fail(struct api_objreader *r, const char *why)
{
	if (!r->failed)
		sd_fail(r->err, "icinga2 api %s reply: %s", queries[r->q].type, why);
	r->failed = 1;
	return 0;
}

static int r_oom(struct api_objreader *r)
{
	return r_fail(r, "out of memory");
}

static enum field lookup(const struct attr *a, size_t n, const unsigned char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(a[i].name) == len && !memcmp(a[i].name, s, len))
			return a[i].f;
	return F_NONE;
}

static enum field attr_of(const struct api_objreader *r, const unsigned char *s, size_t len)
{
	const struct qdef *d = &queries[r->q];
	enum field f = lookup(d->a[0], d->n[0], s, len);

	if (f == F_NONE && d->a[1])
		f = lookup(d->a[1], d->n[1], s, len);
	return f;
}

/* s into the arena, NUL-terminated: its offset, or NONE when out of memory. */
static size_t keep(struct api_objreader *r, const void *s, size_t len, const char *what)
{
	size_t off = r->arena.len;

	if (memchr(s, '\0', len) && !r->bad)
		r->bad = what;
	sbuf_putn(&r->arena, s, len);
	sbuf_putc(&r->arena, '\0');
	return r->arena.oom ? NONE : off;
}

static const char *str_of(const struct api_objreader *r, enum field f)
{
	return r->str[f] == NONE ? "" : r->arena.p + r->str[f];
}

static int grow(void *pp, size_t *cap, size_t need, size_t size)
{
	void *n;
	size_t c = *cap ? *cap : 8;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (!(n = realloc(*(void **)pp, c * size)))
		return -1;
	*(void **)pp = n;
	*cap = c;
	return 0;
}

static void record_reset(struct api_objreader *r)
{
	size_t i;

	r->arena.len = 0;
	r->perf.len = 0;
	for (i = 0; i < NFIELDS; i++) {
		r->str[i] = NONE;
		r->has[i] = 0;
	}
	r->nlist = r->nvars = 0;
	r->var_open = 0;
	r->has_lcr = 0;
	r->perf_key = 0;
	r->bad = NULL;
	r->cur = F_NONE;
	r->mode = M_NONE;
}

/* ---- structured custom variables: events back to JSON text ---------------- */

static void cap_sep(struct api_objreader *r, int is_key)
{
	int d = r->depth;

	if (d < r->cap_depth)
		return;         /* the value itself */
	if (r->cmap[d] && !is_key)
		return;         /* a member's value follows its key */
	if (!r->cfirst[d])
		sbuf_putc(&r->cap, ',');
	r->cfirst[d] = 0;
}

static void cap_open(struct api_objreader *r, int map)
{
	cap_sep(r, 0);
	sbuf_putc(&r->cap, map ? '{' : '[');
	r->depth++;
	r->cfirst[r->depth] = 1;
	r->cmap[r->depth] = (unsigned char)map;
}

static int var_value(struct api_objreader *r, const char *s, size_t len)
{
	if (!r->var_open)
		return 1;
	r->var_open = 0;
	if ((r->vars[2 * r->nvars + 1] = keep(r, s, len, "vars")) == NONE)
		return r_oom(r);
	r->nvars++;
	return 1;
}

/* The end of a captured container; at the variable's own end, its value. */
static int cap_close(struct api_objreader *r)
{
	sbuf_putc(&r->cap, r->cmap[r->depth] ? '}' : ']');
	r->depth--;
	if (r->depth >= r->cap_depth)
		return 1;
	r->cap_depth = 0;
	if (r->cap.oom)
		return r_oom(r);
	return var_value(r, r->cap.p, r->cap.len);
}

static void cap_scalar(struct api_objreader *r, int kind, const char *s, size_t len)
{
	cap_sep(r, 0);
	if (kind == 's')
		sbuf_put_json_string(&r->cap, s, len);
	else
		sbuf_putn(&r->cap, s, len);
}

/* ---- perf data ------------------------------------------------------------ */

static void perf_item(struct api_objreader *r, const char *s, size_t len)
{
	if (r->perf.len)
		sbuf_putc(&r->perf, ' ');
	sbuf_putn(&r->perf, s, len);
}

/* A PerfdataValue as Icinga's PerfdataValue::Format writes it:
 * label=value[unit][;warn[;crit[;min[;max]]]], a label with a space quoted. */
static void pdv_format(struct api_objreader *r)
{
	const char *v[NPDV];
	int i, last = P_NONE;
	char item[1024];
	struct sbuf b = { 0 };

	for (i = 0; i < NPDV; i++)
		v[i] = r->pdv[i] == NONE ? NULL : r->pdvbuf.p + r->pdv[i];
	if (!v[P_LABEL] || !v[P_VALUE])
		return;
	if (strchr(v[P_LABEL], ' '))
		snprintf(item, sizeof(item), "'%s'=%s", v[P_LABEL], v[P_VALUE]);
	else
		snprintf(item, sizeof(item), "%s=%s", v[P_LABEL], v[P_VALUE]);
	sbuf_puts(&b, item);
	if (v[P_COUNTER] && !strcmp(v[P_COUNTER], "true"))
		sbuf_putc(&b, 'c');
	else if (v[P_UNIT])
		sbuf_puts(&b, v[P_UNIT]);
	for (i = P_WARN; i <= P_MAX; i++)
		if (v[i] && strcmp(v[i], "null"))
			last = i;
	for (i = P_WARN; i <= last; i++) {
		sbuf_putc(&b, ';');
		if (v[i] && strcmp(v[i], "null"))
			sbuf_puts(&b, v[i]);
	}
	if (!b.oom)
		perf_item(r, b.p, b.len);
	free(b.p);
}

static enum pdv_key pdv_key_of(const unsigned char *s, size_t len)
{
	static const char *const k[NPDV] = { "", "label", "value", "unit", "warn", "crit", "min", "max", "counter" };
	int i;

	for (i = 1; i < NPDV; i++)
		if (strlen(k[i]) == len && !memcmp(k[i], s, len))
			return (enum pdv_key)i;
	return P_NONE;
}

/* ---- events --------------------------------------------------------------- */

static int r_start(struct api_objreader *r, int map)
{
	int d = r->depth;

	if (r->failed)
		return 0;
	if (r->skip) {
		r->depth++;
		return 1;
	}
	if (r->cap_depth) {
		cap_open(r, map);
		return 1;
	}
	r->depth++;
	switch (d) {
	case 0:
		return map ? 1 : r_fail(r, "not a JSON object");
	case 1:
		if (!r->key1_results)
			break;
		if (map)
			return r_fail(r, "\"results\" is not an array");
		r->seen_results = 1;
		return 1;
	case 2:
		if (!map)
			return r_fail(r, "a result is not an object");
		record_reset(r);
		return 1;
	case 3:
		if (r->key3 == 1 && map)
			return 1;
		break;
	case 4:
		if (r->cur == F_GROUPS && !map)
			return r->mode = M_LIST, 1;
		if (r->cur == F_VARS && map)
			return r->mode = M_VARS, 1;
		if (r->cur == F_LCR && map)
			return r->mode = M_LCR, r->has_lcr = 1, r->cur = F_NONE, 1;
		break;
	case 5:
		if (r->mode == M_VARS && r->var_open) {
			r->depth--;
			r->cap.len = 0;
			r->cap_depth = d + 1;
			cap_open(r, map);
			return 1;
		}
		if (r->mode == M_LCR && r->perf_key && !map)
			return r->mode = M_PERF, 1;
		break;
	case 6:
		if (r->mode == M_PERF && map) {
			int i;
			r->pdvbuf.len = 0;
			for (i = 0; i < NPDV; i++)
				r->pdv[i] = NONE;
			r->pkey = P_NONE;
			return r->mode = M_PDV, 1;
		}
		break;
	}
	r->skip = r->depth;
	return 1;
}

static int emit(struct api_objreader *r);

static int r_end(void *ctx)
{
	struct api_objreader *r = ctx;

	if (r->failed)
		return 0;
	if (r->skip) {
		if (r->depth == r->skip)
			r->skip = 0;
		r->depth--;
		return 1;
	}
	if (r->cap_depth)
		return cap_close(r);
	switch (--r->depth) {
	case 2:
		r->results++;
		return emit(r) < 0 ? 0 : 1;
	case 4:
		r->mode = M_NONE;
		r->cur = F_NONE;
		break;
	case 5:
		if (r->mode == M_PERF)
			r->mode = M_LCR;
		r->perf_key = 0;
		break;
	case 6:
		if (r->mode == M_PDV) {
			pdv_format(r);
			r->mode = M_PERF;
		}
		break;
	}
	return 1;
}

static int r_key(void *ctx, const unsigned char *s, size_t len)
{
	struct api_objreader *r = ctx;

	if (r->failed)
		return 0;
	if (r->skip)
		return 1;
	if (r->cap_depth) {
		cap_sep(r, 1);
		sbuf_put_json_string(&r->cap, (const char *)s, len);
		sbuf_putc(&r->cap, ':');
		return 1;
	}
	switch (r->depth) {
	case 1:
		r->key1_results = len == 7 && !memcmp(s, "results", 7);
		break;
	case 3:
		r->key3 = len == 5 && !memcmp(s, "attrs", 5) ? 1 : len == 4 && !memcmp(s, "name", 4) ? 2 : 0;
		break;
	case 4:
		r->cur = attr_of(r, s, len);
		break;
	case 5:
		if (r->mode == M_VARS) {
			if (grow(&r->vars, &r->vars_cap, 2 * (r->nvars + 1), sizeof(size_t)) < 0 ||
			    (r->vars[2 * r->nvars] = keep(r, s, len, "vars")) == NONE)
				return r_oom(r);
			r->var_open = 1;
		} else if (r->mode == M_LCR) {
			r->cur = lookup(lcr_attrs, NELEM(lcr_attrs), s, len);
			r->perf_key = len == 16 && !memcmp(s, "performance_data", 16);
		}
		break;
	case 7:
		if (r->mode == M_PDV)
			r->pkey = pdv_key_of(s, len);
		break;
	}
	return 1;
}

/* A scalar: kind 's' string, 'n' number, 'b' boolean (s "true"/"false"), '0' null. */
static int r_scalar(struct api_objreader *r, int kind, const char *s, size_t len)
{
	if (r->failed)
		return 0;
	if (r->skip)
		return 1;
	if (r->cap_depth) {
		cap_scalar(r, kind, s, len);
		return 1;
	}
	switch (r->depth) {
	case 0:
		return r_fail(r, "not a JSON object");
	case 1:
		return r->key1_results ? r_fail(r, "\"results\" is not an array") : 1;
	case 2:
		return r_fail(r, "a result is not an object");
	case 3:
		if (r->key3 == 2 && kind == 's' && (r->str[F_OBJNAME] = keep(r, s, len, "name")) == NONE)
			return r_oom(r);
		return 1;
	case 4:
	case 5:
		if (r->depth == 5 && r->mode == M_LIST) {
			size_t off;
			if (kind != 's')
				return 1;
			if ((off = keep(r, s, len, "groups")) == NONE ||
			    grow(&r->list, &r->list_cap, r->nlist + 1, sizeof(size_t)) < 0)
				return r_oom(r);
			r->list[r->nlist++] = off;
			return 1;
		}
		if (r->depth == 5 && r->mode == M_VARS)
			return var_value(r, s, len);
		if (r->depth == 5 && r->mode != M_LCR)
			return 1;
		if (r->cur == F_NONE)
			return 1;
		if (kind == 's') {
			if ((r->str[r->cur] = keep(r, s, len, "text")) == NONE)
				return r_oom(r);
		} else if (kind == 'n' || kind == 'b') {
			r->num[r->cur] = kind == 'b' ? (*s == 't') : strtod(s, NULL);
			if (isfinite(r->num[r->cur]))
				r->has[r->cur] = 1;
		}
		return 1;
	case 6:
		if (r->mode == M_PERF && kind == 's')
			perf_item(r, s, len);
		return 1;
	case 7:
		if (r->mode == M_PDV && r->pkey != P_NONE) {
			/* Icinga writes an integral double without ".0" */
			if (kind == 'n' && len > 2 && !memcmp(s + len - 2, ".0", 2))
				len -= 2;
			r->pdv[r->pkey] = r->pdvbuf.len;
			sbuf_putn(&r->pdvbuf, s, len);
			sbuf_putc(&r->pdvbuf, '\0');
		}
		return 1;
	}
	return 1;
}

static int r_null(void *ctx) { return r_scalar(ctx, '0', "null", 4); }
static int r_bool(void *ctx, int b) { return r_scalar(ctx, 'b', b ? "true" : "false", b ? 4 : 5); }
static int r_number(void *ctx, const char *s, size_t len)
{
	char buf[64];

	/* strtod wants a NUL; a number longer than this is no value we use */
	if (len >= sizeof(buf))
		return r_scalar(ctx, '0', "null", 4);
	memcpy(buf, s, len);
	buf[len] = '\0';
	return r_scalar(ctx, 'n', buf, len);
}
static int r_string(void *ctx, const unsigned char *s, size_t len) { return r_scalar(ctx, 's', (const char *)s, len); }
static int r_start_map(void *ctx) { return r_start(ctx, 1); }
static int r_start_array(void *ctx) { return r_start(ctx, 0); }

static const struct jscan_callbacks callbacks = {
	r_null, r_bool, r_number, r_string, r_start_map, r_key, r_end, r_start_array, r_end,
};

/* ---- results to records --------------------------------------------------- */

static long long whole(const struct api_objreader *r, enum field f)
{
	double v = r->has[f] ? r->num[f] : 0;

	return v > -9e15 && v < 9e15 ? (long long)v : 0;
}

static int skipped(struct api_objreader *r, const char *what, const char *why)
{
	if (r->sink->skipped)
		r->sink->skipped(r->sink->report_ctx, what, why);
	return 0;
}

/* The record's lists and variables as pointers (the arena no longer grows). */
static int fill_lists(struct api_objreader *r, struct sd_object *o)
{
	size_t i;

	if (grow(&r->listp, &r->listp_cap, r->nlist + 1, sizeof(char *)) < 0 ||
	    grow(&r->varp, &r->varp_cap, r->nvars + 1, sizeof(struct sd_var)) < 0)
		return -1;
	for (i = 0; i < r->nlist; i++)
		r->listp[i] = r->arena.p + r->list[i];
	o->groups.v = r->listp;
	o->groups.n = r->nlist;
	for (i = 0; i < r->nvars; i++) {
		r->varp[i].name = r->arena.p + r->vars[2 * i];
		r->varp[i].value = r->arena.p + r->vars[2 * i + 1];
	}
	o->vars = r->varp;
	o->nvars = r->nvars;
	return 0;
}

/* The check result's part of an object: output split as Livestatus splits
 * it, perf data, latency and execution time (Icinga's CheckResult). */
static void fill_result(struct api_objreader *r, struct sd_object *o)
{
	char *out, *nl;

	o->has_been_checked = r->has_lcr;
	if (!r->has_lcr)
		return;
	if (r->str[F_OUTPUT] != NONE) {
		out = r->arena.p + r->str[F_OUTPUT];
		o->plugin_output = out;
		if ((nl = strchr(out, '\n'))) {
			*nl = '\0';
			if (r->parts & (S | R))
				o->long_plugin_output = nl + 1;
		}
	}
	if (r->parts & (S | R)) {
		o->perf_data = r->perf.len ? r->perf.p : "";
		o->execution_time = r->num[F_EXEC_END] - r->num[F_EXEC_START];
		o->latency = (r->num[F_SCHED_END] - r->num[F_SCHED_START]) - o->execution_time;
		if (!(o->latency > 0))
			o->latency = 0;
		if (!(o->execution_time > 0))
			o->execution_time = 0;
	}
}

/* The check command as Icinga's Livestatus shows it: "check_" NAME "!"
 * (the prefix of the command's type, then its arguments, always empty
 * since 2.11). Into the arena, before any pointer into it is taken. */
static void command_text(struct api_objreader *r)
{
	size_t off = r->arena.len, name = r->str[F_CHECK_COMMAND];

	if (name == NONE || !r->arena.p[name])
		return;
	sbuf_puts(&r->arena, "check_");
	if (!r->arena.oom)
		sbuf_puts(&r->arena, r->arena.p + name);
	sbuf_putc(&r->arena, '!');
	sbuf_putc(&r->arena, '\0');
	r->str[F_CHECK_COMMAND] = off;
}

static int emit_object(struct api_objreader *r, enum sd_objtype type)
{
	struct sd_object o;
	const struct pair *p;
	size_t n, i;
	char label[600];
	char **parents = NULL;
	int rc;

	sbuf_putc(&r->perf, '\0');
	r->perf.len--;
	command_text(r);
	if (r->arena.oom || r->perf.oom)
		return r_oom(r), -1;
	sd_object_clear(&o);
	o.type = type;
	o.host_name = (char *)str_of(r, type == SD_HOST ? F_NAME : F_HOST_NAME);
	o.description = type == SD_HOST ? NULL : (char *)str_of(r, F_NAME);
	o.state = (int)whole(r, F_STATE);
	o.state_type = (int)whole(r, F_STATE_TYPE);
	o.current_attempt = (int)whole(r, F_ATTEMPT);
	o.max_check_attempts = (int)whole(r, F_MAX_ATTEMPTS);
	fill_result(r, &o);
	o.last_check = whole(r, F_LAST_CHECK) > 0 ? (double)whole(r, F_LAST_CHECK) : 0;
	o.last_state_change = whole(r, F_LAST_STATE_CHANGE);
	o.last_hard_state = (int)whole(r, F_LAST_HARD_STATE);
	o.is_flapping = r->has[F_FLAPPING] && r->num[F_FLAPPING] != 0;
	o.check_type = r->has[F_ACTIVE] && r->num[F_ACTIVE] == 0;
	o.acknowledgement_type = (int)whole(r, F_ACK);
	o.acknowledged = o.acknowledgement_type != 0;
	o.alias = (char *)str_of(r, F_DISPLAY_NAME);
	o.address = (char *)str_of(r, F_ADDRESS);
	o.check_command = (char *)str_of(r, F_CHECK_COMMAND);
	o.check_interval = r->has[F_CHECK_INTERVAL] ? r->num[F_CHECK_INTERVAL] / 60.0 : 0;
	o.retry_interval = r->has[F_RETRY_INTERVAL] ? r->num[F_RETRY_INTERVAL] / 60.0 : 0;
	o.notes = (char *)str_of(r, F_NOTES);
	o.notes_url = (char *)str_of(r, F_NOTES_URL);
	o.action_url = (char *)str_of(r, F_ACTION_URL);
	o.icon_image = (char *)str_of(r, F_ICON_IMAGE);
	if (fill_lists(r, &o) < 0)
		return r_oom(r), -1;
	if (type == SD_HOST && (r->parts & K) && (p = index_find(&r->parents, o.host_name, &n))) {
		if (!(parents = malloc(n * sizeof(char *))))
			return r_oom(r), -1;
		for (i = 0; i < n; i++)         /* a set in Icinga: each parent once */
			if (!o.parents.n || strcmp(parents[o.parents.n - 1], p[i].b))
				parents[o.parents.n++] = p[i].b;
		o.parents.v = parents;
	}
	if (!*o.host_name || (type == SD_SERVICE && !*o.description) || r->bad) {
		sd_object_label(&o, label, sizeof(label));
		rc = skipped(r, label, r->bad ? "a text field contains a NUL byte" : "empty name");
	} else {
		rc = sd_emit_object(r->sink, &o, r->err);
	}
	free(parents);
	return rc;
}

/* Icinga 2's Livestatus leaves service_description null for host entries. */
static char *svc_or_null(const struct api_objreader *r)
{
	const char *s = str_of(r, F_SERVICE_NAME);

	return *s ? (char *)s : NULL;
}

static int emit_downtime(struct api_objreader *r)
{
	struct sd_downtime d;
	const struct pair *p;
	size_t n;

	if (r->arena.oom)
		return r_oom(r), -1;
	d.id = whole(r, F_LEGACY_ID);
	d.host_name = (char *)str_of(r, F_HOST_NAME);
	d.service_description = svc_or_null(r);
	d.start_time = whole(r, F_START);
	d.end_time = whole(r, F_END);
	d.fixed = r->has[F_FIXED] && r->num[F_FIXED] != 0;
	d.duration = whole(r, F_DURATION);
	d.triggered_by = 0;
	if (*str_of(r, F_TRIGGERED_BY) && (p = index_find(&r->dtnames, str_of(r, F_TRIGGERED_BY), &n)))
		d.triggered_by = p->id;
	d.author = (char *)str_of(r, F_AUTHOR);
	d.comment = (char *)str_of(r, F_COMMENT);
	d.entry_time = whole(r, F_ENTRY_TIME);
	if (r->bad)
		return skipped(r, "downtime", "a text field contains a NUL byte");
	return sd_emit_downtime(r->sink, &d, r->err);
}

static int emit_comment(struct api_objreader *r)
{
	struct sd_comment m;

	if (r->arena.oom)
		return r_oom(r), -1;
	m.id = whole(r, F_LEGACY_ID);
	m.host_name = (char *)str_of(r, F_HOST_NAME);
	m.service_description = svc_or_null(r);
	m.entry_type = (int)whole(r, F_ENTRY_TYPE);
	m.author = (char *)str_of(r, F_AUTHOR);
	m.comment = (char *)str_of(r, F_TEXT);
	m.persistent = r->has[F_PERSISTENT] && r->num[F_PERSISTENT] != 0;
	m.entry_time = whole(r, F_ENTRY_TIME);
	if (r->bad)
		return skipped(r, "comment", "a text field contains a NUL byte");
	return sd_emit_comment(r->sink, &m, r->err);
}

/* One result ends: a record to the sink, or an entry of an index. */
static int emit(struct api_objreader *r)
{
	struct sd_group g;

	if (r->arena.oom)
		return r_oom(r), -1;
	switch (r->q) {
	case APIQ_HOSTGROUPS:
	case APIQ_SERVICEGROUPS:
		g.type = r->q == APIQ_HOSTGROUPS ? SD_HOST : SD_SERVICE;
		g.name = (char *)str_of(r, F_NAME);
		g.alias = (char *)str_of(r, F_DISPLAY_NAME);
		if (!*g.name || r->bad)
			return skipped(r, "group", r->bad ? "a text field contains a NUL byte" : "empty name");
		return sd_emit_group(r->sink, &g, r->err) < 0 ? (r->failed = 1, -1) : 0;
	case APIQ_DEPENDENCIES:
		/* a host's parents (Livestatus: the hosts among its dependencies' parents) */
		if (*str_of(r, F_CHILD_HOST) && !*str_of(r, F_CHILD_SERVICE) && *str_of(r, F_PARENT_HOST) &&
		    !*str_of(r, F_PARENT_SERVICE) && !r->bad &&
		    index_add(&r->parents, str_of(r, F_CHILD_HOST), str_of(r, F_PARENT_HOST), 0) < 0)
			return r_oom(r), -1;
		return 0;
	case APIQ_DOWNTIME_IDS:
		if (*str_of(r, F_OBJNAME) && index_add(&r->dtnames, str_of(r, F_OBJNAME), NULL, whole(r, F_LEGACY_ID)) < 0)
			return r_oom(r), -1;
		return 0;
	case APIQ_HOSTS:
	case APIQ_SERVICES:
		return emit_object(r, r->q == APIQ_HOSTS ? SD_HOST : SD_SERVICE) < 0 ? (r->failed = 1, -1) : 0;
	case APIQ_COMMENTS:
		return emit_comment(r) < 0 ? (r->failed = 1, -1) : 0;
	case APIQ_DOWNTIMES:
		return emit_downtime(r) < 0 ? (r->failed = 1, -1) : 0;
	}
	return 0;
}

/* ---- the reader's interface ------------------------------------------------ */

struct api_objreader *api_objreader_new(unsigned parts, const struct sd_sink *sink)
{
	struct api_objreader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->parts = parts;
	r->sink = sink;
	return r;
}

int api_objreader_begin(struct api_objreader *r, enum api_query q, sd_error *err)
{
	jscan_free(r->js);
	if (!(r->js = jscan_new(&callbacks, r, MAX_TOKEN)))
		return sd_fail(err, "out of memory");
	r->q = q;
	r->failed = 0;
	r->results = 0;
	r->seen_results = 0;
	r->depth = r->skip = r->cap_depth = 0;
	r->key1_results = r->key3 = 0;
	record_reset(r);
	return 0;
}

static int r_status(struct api_objreader *r, enum jscan_status st, sd_error *err)
{
	if (st == JSCAN_OK)
		return 0;
	if (r->failed)
		return -1;      /* err says why (ours or the sink's) */
	if (st == JSCAN_TRUNCATED)
		return sd_fail(err, "icinga2 api %s reply: truncated", queries[r->q].type);
	return sd_fail(err, "icinga2 api %s reply: %s", queries[r->q].type, jscan_error(r->js));
}

int api_objreader_feed(void *rv, const char *buf, size_t n, sd_error *err)
{
	struct api_objreader *r = rv;

	if (!r->js)
		return sd_fail(err, "icinga2 api reply: no query begun");
	r->err = err;
	return r_status(r, jscan_feed(r->js, buf, n), err);
}

long api_objreader_end(struct api_objreader *r, sd_error *err)
{
	if (!r->js)
		return sd_fail(err, "icinga2 api reply: no query begun");
	r->err = err;
	if (r_status(r, jscan_finish(r->js), err) < 0)
		return -1;
	if (!r->seen_results)
		return sd_fail(err, "icinga2 api %s reply: no \"results\" array", queries[r->q].type);
	return r->results;
}

void api_objreader_free(struct api_objreader *r)
{
	if (!r)
		return;
	jscan_free(r->js);
	free(r->arena.p);
	free(r->perf.p);
	free(r->pdvbuf.p);
	free(r->cap.p);
	free(r->list);
	free(r->vars);
	free(r->listp);
	free(r->varp);
	index_free(&r->parents);
	index_free(&r->dtnames);
	free(r);
}

/* ---- the source ------------------------------------------------------------ */

/* The password file's first line into buf (the caller wipes it). */
static int read_password(const char *path, char *buf, size_t len, sd_error *err)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return sd_fail(err, "--api-password-file %s: %m", path);
	if (!fgets(buf, (int)len, f)) {
		fclose(f);
		return sd_fail(err, "--api-password-file %s: empty", path);
	}
	fclose(f);
	n = strcspn(buf, "\r\n");
	buf[n] = '\0';
	if (!n)
		return sd_fail(err, "--api-password-file %s: the first line is empty", path);
	return 0;
}

static int run_query(struct api *h, struct api_objreader *r, enum api_query q, unsigned parts, sd_error *err)
{
	char path[64], *body = api_query_body(q, parts);
	long st;

	if (!body)
		return sd_fail(err, "out of memory");
	snprintf(path, sizeof(path), "/v1/objects/%s", queries[q].type);
	if (api_objreader_begin(r, q, err) < 0) {
		free(body);
		return -1;
	}
	st = api_stream(h, "GET", path, body, api_objreader_feed, r, err);
	free(body);
	if (st < 0)
		return -1;
	if (st < 200 || st > 299) {
		if (!err->msg[0])
			sd_fail(err, "%s%s: HTTP %ld", api_url(h), path, st);
		return -1;
	}
	return api_objreader_end(r, err) < 0 ? -1 : 0;
}

int source_api_run(const struct api_source_opts *o, const struct sd_sink *sink, sd_error *err)
{
	struct api_opts ao = { .urls = o->urls, .n_urls = o->n_urls, .user = o->user, .cert_file = o->cert_file,
			       .key_file = o->key_file, .ca_file = o->ca_file, .timeout_ms = o->timeout_ms };
	enum api_query qs[8];
	struct api *h = NULL;
	struct api_objreader *r = NULL;
	char pw[1024];
	int n = 0, i, rc = -1;

	if (o->password_file) {
		if (read_password(o->password_file, pw, sizeof(pw), err) < 0)
			goto out;
		ao.password = pw;
	}
	h = api_open(&ao, err);
	if (!h || !(r = api_objreader_new(o->parts, sink))) {
		if (h)
			sd_fail(err, "out of memory");
		goto out;
	}
	if (o->parts & K) {
		qs[n++] = APIQ_HOSTGROUPS;
		qs[n++] = APIQ_SERVICEGROUPS;
		qs[n++] = APIQ_DEPENDENCIES;
	}
	qs[n++] = APIQ_HOSTS;
	qs[n++] = APIQ_SERVICES;
	if (o->parts & (S | C)) {
		qs[n++] = APIQ_COMMENTS;
		qs[n++] = APIQ_DOWNTIME_IDS;
		qs[n++] = APIQ_DOWNTIMES;
	}
	for (i = 0; i < n; i++)
		if (run_query(h, r, qs[i], o->parts, err) < 0)
			goto out;
	rc = 0;
out:
	explicit_bzero(pw, sizeof(pw));
	api_objreader_free(r);
	api_close(h);
	return rc;
}
