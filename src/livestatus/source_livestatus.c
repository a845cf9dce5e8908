/*
 * source_livestatus.c - map Livestatus rows to snapshot records.
 *
 * Why one column table: the Columns: line we send and the way each value
 * lands in the record come from the same table, so they cannot drift
 * apart. Dialects: Icinga 2 sends true/false and null (never checked) where
 * mk-livestatus/Naemon send 0/1; the ls_* accessors accept both. Icinga's
 * last_check of -1 and null latency/perf data are normalised to 0/"", and
 * long_plugin_output's literal backslash-n becomes a real newline.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "livestatus/livestatus.h"
#include "livestatus/rowpipe.h"
#include "livestatus/source_livestatus.h"

enum col_kind { C_STR, C_INT, C_LLONG, C_DBL, C_BOOL, C_LIST, C_VARS, C_LONGOUT, C_LASTCHECK };

struct column {
	const char *name;
	unsigned parts;         /* which parts need this column */
	enum col_kind kind;
	size_t off;             /* into struct sd_object */
};

#define S SD_PART_STATE
#define K SD_PART_CONFIG
#define R SD_PART_RESULT
#define C SD_PART_CENTRAL
#define O(f) offsetof(struct sd_object, f)

/* Shared by hosts and services; the key columns come first per table. */
static const struct column common_cols[] = {
	{ "state", S | R | C, C_INT, O(state) },
	{ "state_type", S | C, C_INT, O(state_type) },
	{ "current_attempt", S | C, C_INT, O(current_attempt) },
	{ "max_check_attempts", S | K | C, C_INT, O(max_check_attempts) },
	{ "has_been_checked", S | R | C, C_BOOL, O(has_been_checked) },
	{ "plugin_output", S | R | C, C_STR, O(plugin_output) },
	{ "long_plugin_output", S | R, C_LONGOUT, O(long_plugin_output) },
	{ "perf_data", S | R, C_STR, O(perf_data) },
	{ "last_check", S | R | C, C_LASTCHECK, O(last_check) },
	{ "last_state_change", S, C_LLONG, O(last_state_change) },
	{ "last_hard_state", S, C_INT, O(last_hard_state) },
	{ "is_flapping", S, C_BOOL, O(is_flapping) },
	{ "latency", S | R, C_DBL, O(latency) },
	{ "execution_time", S | R, C_DBL, O(execution_time) },
	{ "check_type", S, C_INT, O(check_type) },
	{ "acknowledged", S | C, C_BOOL, O(acknowledged) },
	{ "acknowledgement_type", S | C, C_INT, O(acknowledgement_type) },
	{ "groups", K, C_LIST, O(groups) },
	{ "contacts", K, C_LIST, O(contacts) },
	{ "contact_groups", K, C_LIST, O(contact_groups) },
	{ "check_command", K, C_STR, O(check_command) },
	{ "check_interval", K, C_DBL, O(check_interval) },
	{ "retry_interval", K, C_DBL, O(retry_interval) },
	{ "notes", K, C_STR, O(notes) },
	{ "notes_url", K, C_STR, O(notes_url) },
	{ "action_url", K, C_STR, O(action_url) },
	{ "icon_image", K, C_STR, O(icon_image) },
	{ "custom_variables", K, C_VARS, 0 },
};

static const struct column host_cols[] = {
	{ "name", S | K | R | C, C_STR, O(host_name) },
	{ "alias", K, C_STR, O(alias) },
	{ "address", K, C_STR, O(address) },
	{ "parents", K, C_LIST, O(parents) },
};

static const struct column service_cols[] = {
	{ "host_name", S | K | R | C, C_STR, O(host_name) },
	{ "description", S | K | R | C, C_STR, O(description) },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAXCOLS (NELEM(common_cols) + NELEM(host_cols))

struct objctx {
	const struct sd_sink *sink;
	enum sd_objtype type;
	const struct column *cols[MAXCOLS];
	size_t ncols;
	/* Reused from row to row: a malloc and free per list and per long
	 * output of every row showed in perf. */
	struct sd_strlist lists[4];
	size_t list_cap[4];
	struct sd_var *vars;
	size_t vars_cap;
	char *longout;
	size_t longout_cap;
};

static void add_columns(struct objctx *c, const struct column *t, size_t n, unsigned parts)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (t[i].parts & parts)
			c->cols[c->ncols++] = &t[i];
}

static char *columns_line(const struct objctx *c)
{
	size_t len = 10, i;
	char *s;

	for (i = 0; i < c->ncols; i++)
		len += strlen(c->cols[i]->name) + 1;
	if (!(s = malloc(len + 1)))
		return NULL;
	strcpy(s, "Columns:");
	for (i = 0; i < c->ncols; i++) {
		strcat(s, " ");
		strcat(s, c->cols[i]->name);
	}
	strcat(s, "\n");
	return s;
}

/* Undo the cores' escaping of newlines in long output
 * (docs/core-behaviour.md §7), into the context's buffer; the string
 * itself when there is nothing to undo. */
static char *unescape_longout(struct objctx *c, char *s, size_t len)
{
	char *o;

	if (!memchr(s, '\\', len))
		return s;
	if (c->longout_cap < len + 1) {
		char *n = realloc(c->longout, len + 1);
		if (!n)
			return NULL;
		c->longout = n;
		c->longout_cap = len + 1;
	}
	o = c->longout;
	for (;;) {              /* copy the runs between backslashes whole */
		const char *bs = strchr(s, '\\');
		size_t n = bs ? (size_t)(bs - s) : strlen(s);

		memcpy(o, s, n);
		o += n;
		s += n;
		if (!bs)
			break;
		if (s[1] == 'n') {
			*o++ = '\n';
			s += 2;
		} else {
			*o++ = *s++;
		}
	}
	*o = '\0';
	return c->longout;
}

/* The list's strings, in one of the context's reused arrays. */
static int list_from(struct objctx *c, int slot, struct sd_strlist *l, const struct ls_value *v)
{
	size_t i;

	l->n = 0;
	l->v = NULL;
	if (v->type != LS_LIST || !v->n)
		return 0;
	if (c->list_cap[slot] < v->n) {
		char **n = realloc(c->lists[slot].v, v->n * sizeof(char *));
		if (!n)
			return -1;
		c->lists[slot].v = n;
		c->list_cap[slot] = v->n;
	}
	l->v = c->lists[slot].v;
	for (i = 0; i < v->n; i++)
		l->v[l->n++] = (char *)ls_str(&v->items[i]);
	return 0;
}

/* Buffers a row allocates and frees after the record was emitted. */
struct owned {
	char **v;
	size_t n, cap;
};

static char *own(struct owned *ow, char *p)
{
	char **n;

	if (!p)
		return NULL;
	if (ow->n == ow->cap) {
		ow->cap = ow->cap ? ow->cap * 2 : 8;
		if (!(n = realloc(ow->v, ow->cap * sizeof(*n)))) {
			free(p);
			return NULL;
		}
		ow->v = n;
	}
	return ow->v[ow->n++] = p;
}

/* Icinga: [[name, value], ...]; mk-livestatus: {name: value} (read as pairs). */
static int vars_from(struct objctx *c, struct sd_object *o, const struct ls_value *v, struct owned *ow)
{
	size_t i;

	o->nvars = 0;
	o->vars = NULL;
	if (v->type != LS_LIST || !v->n)
		return 0;
	if (c->vars_cap < v->n) {
		struct sd_var *n = realloc(c->vars, v->n * sizeof(*n));
		if (!n)
			return -1;
		c->vars = n;
		c->vars_cap = v->n;
	}
	o->vars = c->vars;
	for (i = 0; i < v->n; i++) {
		const struct ls_value *p = &v->items[i];
		struct sd_var *var = &o->vars[o->nvars];
		if (p->type != LS_LIST || p->n != 2)
			continue;
		var->name = (char *)ls_str(&p->items[0]);
		if (p->items[1].type == LS_STR) {
			var->value = p->items[1].str;
		} else {
			/* a structured Icinga variable: carry it as its JSON text */
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			if (!f)
				return -1;
			lsjson_write_value(f, &p->items[1]);
			fclose(f);
			if (!buf)
				return -1;
			if (!(var->value = own(ow, buf)))
				return -1;
		}
		o->nvars++;
	}
	return 0;
}

static int object_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct objctx *c = ctx;
	struct sd_object o;
	struct owned ow = { 0 };
	char label[600];
	size_t i;
	const char *bad = NULL;
	int rc = -1, nlist = 0;

	if (row->n != c->ncols)
		return sd_fail(err, "reply row has %zu columns, asked for %zu", row->n, c->ncols);
	sd_object_clear(&o);
	o.type = c->type;
	for (i = 0; i < c->ncols; i++) {
		const struct column *col = c->cols[i];
		const struct ls_value *v = &row->cols[i];
		void *f = (char *)&o + col->off;

		if (v->type == LS_STR && strlen(v->str) != v->len)
			bad = col->name;
		switch (col->kind) {
		case C_STR:
			*(char **)f = (char *)ls_str(v);
			break;
		case C_LONGOUT:
			if (v->type == LS_STR && !(*(char **)f = unescape_longout(c, v->str, v->len)))
				goto oom;
			break;
		case C_INT:
			*(int *)f = (int)ls_int(v);
			break;
		case C_BOOL:
			*(int *)f = ls_bool(v);
			break;
		case C_LLONG:
			*(long long *)f = ls_int(v);
			break;
		case C_DBL:
			*(double *)f = ls_num(v);
			break;
		case C_LASTCHECK:
			*(double *)f = ls_num(v) > 0 ? ls_num(v) : 0;
			break;
		case C_LIST:
			if (list_from(c, nlist++, f, v) < 0)
				goto oom;
			break;
		case C_VARS:
			if (vars_from(c, &o, v, &ow) < 0)
				goto oom;
			break;
		}
	}
	if (!*o.host_name) {
		bad = "name";
	}
	/* the schema's 0 when not acknowledged: naemon-livestatus keeps the
	 * type of an ack that was removed (status.dat says 0) */
	if (!o.acknowledged)
		o.acknowledgement_type = 0;
	if (bad) {
		sd_object_label(&o, label, sizeof(label));
		if (c->sink->skipped)
			c->sink->skipped(c->sink->report_ctx, label,
					 strcmp(bad, "name") ? "a text field contains a NUL byte" : "empty name");
		rc = 0;
	} else {
		rc = sd_emit_object(c->sink, &o, err);
	}
	goto out;
oom:
	sd_fail(err, "out of memory");
out:
	for (i = 0; i < ow.n; i++)
		free(ow.v[i]);
	free(ow.v);
	return rc;
}

/* One query of the export: its table, its request text, its row handler. */
struct query {
	enum { Q_HOSTGROUPS, Q_SERVICEGROUPS, Q_HOSTS, Q_SERVICES, Q_COMMENTS, Q_DOWNTIMES } which;
	char *request;
	ls_row_cb cb;
};

struct simplectx {
	const struct sd_sink *sink;
	enum sd_objtype type;
};

static int group_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct simplectx *c = ctx;
	struct sd_group g = { .type = c->type };

	if (row->n != 2)
		return sd_fail(err, "reply row has %zu columns, asked for 2", row->n);
	g.name = (char *)ls_str(&row->cols[0]);
	g.alias = (char *)ls_str(&row->cols[1]);
	return sd_emit_group(c->sink, &g, err);
}

/* Icinga sends null, mk-livestatus "" for a host's service_description. */
static char *svc_or_null(const struct ls_value *desc, const struct ls_value *is_service)
{
	if (!ls_bool(is_service) || desc->type != LS_STR || !desc->str[0])
		return NULL;
	return desc->str;
}

#define DT_COLS "Columns: id host_name service_description is_service start_time end_time fixed " \
		"duration triggered_by author comment entry_time\n"
#define CO_COLS "Columns: id host_name service_description is_service entry_type author comment " \
		"persistent entry_time\n"

static int downtime_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct simplectx *c = ctx;
	const struct ls_value *v = row->cols;
	struct sd_downtime d;

	if (row->n != 12)
		return sd_fail(err, "reply row has %zu columns, asked for 12", row->n);
	d.id = ls_int(&v[0]);
	d.host_name = (char *)ls_str(&v[1]);
	d.service_description = svc_or_null(&v[2], &v[3]);
	d.start_time = ls_int(&v[4]);
	d.end_time = ls_int(&v[5]);
	d.fixed = ls_bool(&v[6]);
	d.duration = ls_int(&v[7]);
	d.triggered_by = ls_int(&v[8]);
	d.author = (char *)ls_str(&v[9]);
	d.comment = (char *)ls_str(&v[10]);
	d.entry_time = ls_int(&v[11]);
	return sd_emit_downtime(c->sink, &d, err);
}

static int comment_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct simplectx *c = ctx;
	const struct ls_value *v = row->cols;
	struct sd_comment m;

	if (row->n != 9)
		return sd_fail(err, "reply row has %zu columns, asked for 9", row->n);
	m.id = ls_int(&v[0]);
	m.host_name = (char *)ls_str(&v[1]);
	m.service_description = svc_or_null(&v[2], &v[3]);
	m.entry_type = (int)ls_int(&v[4]);
	m.author = (char *)ls_str(&v[5]);
	m.comment = (char *)ls_str(&v[6]);
	m.persistent = ls_bool(&v[7]);
	m.entry_time = ls_int(&v[8]);
	return sd_emit_comment(c->sink, &m, err);
}

static void objctx_init(struct objctx *c, const struct ls_source_opts *o, enum sd_objtype type)
{
	c->type = type;
	c->ncols = 0;
	if (type == SD_HOST)
		add_columns(c, host_cols, NELEM(host_cols), o->parts);
	else
		add_columns(c, service_cols, NELEM(service_cols), o->parts);
	add_columns(c, common_cols, NELEM(common_cols), o->parts);
}

static char *request(const char *table, const char *columns, const char *h1, const char *h2)
{
	char *req;

	if (asprintf(&req, "GET %s\n%s%s%s", table, columns, h1, h2) < 0)
		return NULL;
	return req;
}

/* The export's queries in order; returns the count, or -1 (out of memory). */
static int build_queries(const struct ls_source_opts *o, struct query q[6])
{
	struct objctx c;
	char *cols;
	int n = 0, i;

	if (o->parts & SD_PART_CONFIG) {
		q[n++] = (struct query){ Q_HOSTGROUPS, request("hostgroups", "Columns: name alias\n", "", ""), group_row };
		q[n++] = (struct query){ Q_SERVICEGROUPS, request("servicegroups", "Columns: name alias\n", "", ""), group_row };
	}
	objctx_init(&c, o, SD_HOST);
	cols = columns_line(&c);
	q[n++] = (struct query){ Q_HOSTS, cols ? request("hosts", cols, o->host_headers, o->host_only_headers) : NULL, object_row };
	free(cols);
	objctx_init(&c, o, SD_SERVICE);
	cols = columns_line(&c);
	q[n++] = (struct query){ Q_SERVICES, cols ? request("services", cols, o->host_headers, o->service_headers) : NULL, object_row };
	free(cols);
	if (o->parts & (SD_PART_STATE | SD_PART_CENTRAL)) {
		const char *ih = o->item_headers ? o->item_headers : "";
		q[n++] = (struct query){ Q_COMMENTS, request("comments", CO_COLS, o->host_headers, ih), comment_row };
		q[n++] = (struct query){ Q_DOWNTIMES, request("downtimes", DT_COLS, o->host_headers, ih), downtime_row };
	}
	for (i = 0; i < n; i++)
		if (!q[i].request) {
			while (n--)
				free(q[n].request);
			return -1;
		}
	return n;
}

int source_livestatus_requests(const struct ls_source_opts *o,
			       int (*fn)(void *ctx, const char *request), void *ctx, sd_error *err)
{
	struct query q[6];
	int n = build_queries(o, q), i, rc = 0;

	if (n < 0)
		return sd_fail(err, "out of memory");
	for (i = 0; i < n; i++) {
		if (rc == 0 && fn(ctx, q[i].request) < 0)
			rc = -1;
		free(q[i].request);
	}
	return rc;
}

int source_livestatus_run(const struct ls_source_opts *o, const struct sd_sink *sink, sd_error *err)
{
	struct query q[6];
	/* one context per query: rows of one may still be in the pipe while
	 * the next is read */
	struct objctx oc[6];
	struct simplectx sc[6];
	struct rowpipe_target tg[6];
	struct rowpipe *rp = NULL;
	sd_error rerr;
	int n = build_queries(o, q), i, k, rc = 0;
	void *ctx;

	if (n < 0)
		return sd_fail(err, "out of memory");
	memset(oc, 0, sizeof(oc));
	/* once a reply is large, rows are built into records and written on
	 * a second thread (rowpipe.c); without one, here */
	rp = rowpipe_new();
	for (i = 0; i < n && rc == 0; i++) {
		switch (q[i].which) {
		case Q_HOSTS:
		case Q_SERVICES:
			oc[i].sink = sink;
			objctx_init(&oc[i], o, q[i].which == Q_HOSTS ? SD_HOST : SD_SERVICE);
			ctx = &oc[i];
			break;
		default:
			sc[i].sink = sink;
			sc[i].type = q[i].which == Q_SERVICEGROUPS ? SD_SERVICE : SD_HOST;
			ctx = &sc[i];
			break;
		}
		tg[i] = (struct rowpipe_target){ rp, q[i].cb, ctx };
		if (ls_query(o->spec, q[i].request, o->timeout_ms, rp ? rowpipe_push : q[i].cb, rp ? (void *)&tg[i] : ctx,
			     err) < 0)
			rc = -1;
	}
	/* also after a failed read: the rows before it go through first, and
	 * a bad one among them is the error to tell (the reading went on
	 * past it, as it would not have without the pipe) */
	if (rp && rowpipe_finish(rp, &rerr) < 0) {
		sd_fail(err, "livestatus %s: %s", o->spec, rerr.msg);   /* as ls_query says it */
		rc = -1;
	}
	rowpipe_free(rp);
	for (i = 0; i < n; i++)
		free(q[i].request);
	for (i = 0; i < 6; i++) {
		for (k = 0; k < 4; k++)
			free(oc[i].lists[k].v);
		free(oc[i].vars);
		free(oc[i].longout);
	}
	return rc;
}
