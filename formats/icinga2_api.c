/*
 * icinga2_api.c - Icinga 2 API action bodies (yajl_gen) and action replies
 * (jscan events).
 *
 * Why name parameters ("host", "service": "H!S") and not a filter built
 * from the names: a filter is Icinga DSL, and a site's object name would
 * have to be quoted into it; the name parameters take the name as data.
 * Why the reader is a state machine over events: the same code reads a
 * bounded reply and a streamed one, and anything it does not know (keys,
 * nested values) is skipped, not held.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include "base/jscan.h"
#include "base/text.h"
#include "formats/icinga2_api.h"

/* ---- writer ---------------------------------------------------------------------------- */

struct gen {
	yajl_gen g;
	int bad;                        /* an object name was not UTF-8 */
	int oom;
};

static void g_key(struct gen *b, const char *k)
{
	if (yajl_gen_string(b->g, (const unsigned char *)k, strlen(k)) != yajl_gen_status_ok)
		b->oom = 1;
}

/* free text: repaired when not UTF-8 */
static void g_text(struct gen *b, const char *k, const char *v)
{
	size_t len = strlen(v), rlen;
	char *fixed = NULL;

	if (!text_utf8_valid(v, len)) {
		if (!(fixed = text_utf8_repair(v, len, &rlen))) {
			b->oom = 1;
			return;
		}
		v = fixed;
		len = rlen;
	}
	if (k)
		g_key(b, k);
	if (yajl_gen_string(b->g, (const unsigned char *)v, len) != yajl_gen_status_ok)
		b->oom = 1;
	free(fixed);
}

/* an object name: must be UTF-8 as it is */
static void g_name(struct gen *b, const char *k, const char *v)
{
	if (!text_utf8_valid(v, strlen(v))) {
		b->bad = 1;
		return;
	}
	g_text(b, k, v);
}

static void g_int(struct gen *b, const char *k, long long v)
{
	g_key(b, k);
	yajl_gen_integer(b->g, v);
}

static void g_bool(struct gen *b, const char *k, int v)
{
	g_key(b, k);
	yajl_gen_bool(b->g, !!v);
}

/* opens the body's map and writes the target; -1 (err) if there is none */
static int g_begin(struct gen *b, const struct ia_target *t, const char *name_key, sd_error *err)
{
	if (!(b->g = yajl_gen_alloc(NULL)))
		return sd_fail(err, "icinga2 api body: out of memory");
	yajl_gen_map_open(b->g);
	if (t->name && name_key) {
		g_name(b, name_key, t->name);
	} else if (t->host && t->service) {
		size_t n = strlen(t->host) + strlen(t->service) + 2;
		char *full = malloc(n);

		if (!full)
			return sd_fail(err, "icinga2 api body: out of memory");
		/* Icinga's full service name; a host name cannot hold '!' */
		if (strchr(t->host, '!'))
			b->bad = 1;
		snprintf(full, n, "%s!%s", t->host, t->service);
		g_text(b, "type", "Service");
		g_name(b, "service", full);
		free(full);
	} else if (t->host) {
		g_text(b, "type", "Host");
		g_name(b, "host", t->host);
	} else if (t->filter && t->filter_type) {
		g_text(b, "type", t->filter_type);
		g_text(b, "filter", t->filter);
	} else {
		return sd_fail(err, "icinga2 api body: no target (host, service, filter%s)",
			       name_key ? " or name" : "");
	}
	return 0;
}

/* closes the map and hands out the text */
static char *g_end(struct gen *b, sd_error *err)
{
	const unsigned char *p;
	size_t len;
	char *s = NULL;

	yajl_gen_map_close(b->g);
	if (b->bad)
		sd_fail(err, "icinga2 api body: an object name is not UTF-8 (or a host name holds '!')");
	else if (b->oom || yajl_gen_get_buf(b->g, &p, &len) != yajl_gen_status_ok || !(s = strndup((const char *)p, len)))
		sd_fail(err, "icinga2 api body: out of memory");
	yajl_gen_free(b->g);
	return s;
}

static char *g_fail(struct gen *b)
{
	if (b->g)
		yajl_gen_free(b->g);
	return NULL;
}

char *ia_process_check_result(const struct ia_target *t, const struct ia_check_result *cr, sd_error *err)
{
	struct gen b = { 0 };
	size_t i;

	if (g_begin(&b, t, NULL, err) < 0)
		return g_fail(&b);
	g_int(&b, "exit_status", cr->exit_status);
	g_text(&b, "plugin_output", cr->output ? cr->output : "");
	if (cr->n_perf) {
		g_key(&b, "performance_data");
		yajl_gen_array_open(b.g);
		for (i = 0; i < cr->n_perf; i++)
			g_text(&b, NULL, cr->perf[i]);
		yajl_gen_array_close(b.g);
	}
	if (cr->start > 0 && isfinite(cr->start)) {
		g_key(&b, "execution_start");
		yajl_gen_double(b.g, cr->start);
	}
	if (cr->end > 0 && isfinite(cr->end)) {
		g_key(&b, "execution_end");
		yajl_gen_double(b.g, cr->end);
	}
	if (cr->check_source)
		g_text(&b, "check_source", cr->check_source);
	return g_end(&b, err);
}

static void g_author_comment(struct gen *b, const char *author, const char *comment)
{
	g_text(b, "author", author ? author : "");
	g_text(b, "comment", comment ? comment : "");
}

char *ia_acknowledge_problem(const struct ia_target *t, const struct ia_ack *a, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, NULL, err) < 0)
		return g_fail(&b);
	g_author_comment(&b, a->author, a->comment);
	if (a->expiry > 0)
		g_int(&b, "expiry", a->expiry);
	g_bool(&b, "sticky", a->sticky);
	g_bool(&b, "notify", a->notify);
	g_bool(&b, "persistent", a->persistent);
	return g_end(&b, err);
}

char *ia_remove_acknowledgement(const struct ia_target *t, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, NULL, err) < 0)
		return g_fail(&b);
	return g_end(&b, err);
}

char *ia_add_comment(const struct ia_target *t, const struct ia_comment *c, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, NULL, err) < 0)
		return g_fail(&b);
	g_author_comment(&b, c->author, c->comment);
	return g_end(&b, err);
}

char *ia_remove_comment(const struct ia_target *t, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, "comment", err) < 0)
		return g_fail(&b);
	return g_end(&b, err);
}

char *ia_schedule_downtime(const struct ia_target *t, const struct ia_downtime *d, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, NULL, err) < 0)
		return g_fail(&b);
	g_author_comment(&b, d->author, d->comment);
	g_int(&b, "start_time", d->start);
	g_int(&b, "end_time", d->end);
	g_bool(&b, "fixed", d->fixed);
	if (!d->fixed)
		g_int(&b, "duration", d->duration);
	if (d->trigger_name)
		g_name(&b, "trigger_name", d->trigger_name);
	return g_end(&b, err);
}

char *ia_remove_downtime(const struct ia_target *t, sd_error *err)
{
	struct gen b = { 0 };

	if (g_begin(&b, t, "downtime", err) < 0)
		return g_fail(&b);
	return g_end(&b, err);
}

/* ---- reader ---------------------------------------------------------------------------- */

#define IA_MAX_TOKEN (64u << 10)

enum ia_key { K_OTHER, K_RESULTS, K_ERROR, K_STATUS, K_CODE, K_NAME };

struct ia_reader {
	struct jscan *js;
	ia_result_fn cb;
	void *ctx;
	sd_error e;                     /* why the scan stopped, when we stopped it */
	int failed;
	int depth;                      /* 1: the top map, 2: results, 3: a result */
	int skip;                       /* > 0: inside a value nobody asked for */
	enum ia_key key;                /* the last key at the current depth */
	int have_results, have_error, have_code;
	long error_code;
	int code;
	char *error_status, *status, *name;
	long count;
};

static int r_fail(struct ia_reader *r, const char *why)
{
	sd_fail(&r->e, "icinga2 api reply: %s", why);
	r->failed = 1;
	return 0;
}

static enum ia_key key_of(const unsigned char *s, size_t len)
{
	static const struct { const char *k; enum ia_key v; } keys[] = {
		{ "results", K_RESULTS }, { "error", K_ERROR }, { "status", K_STATUS },
		{ "code", K_CODE }, { "name", K_NAME },
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i].k) == len && memcmp(keys[i].k, s, len) == 0)
			return keys[i].v;
	return K_OTHER;
}

static int r_key(void *ctx, const unsigned char *s, size_t len)
{
	struct ia_reader *r = ctx;

	if (!r->skip)
		r->key = key_of(s, len);
	return 1;
}

/* a container where a value is: entered (results, a result), skipped or wrong */
static int r_open(struct ia_reader *r, int array)
{
	if (r->skip) {
		r->skip++;
		return 1;
	}
	switch (r->depth) {
	case 0:
		if (array)
			return r_fail(r, "not a JSON object");
		r->depth = 1;
		return 1;
	case 1:
		if (r->key == K_RESULTS && !array)
			return r_fail(r, "\"results\" is not an array");
		if (r->key == K_RESULTS) {
			r->have_results = 1;
			r->depth = 2;
			return 1;
		}
		break;
	case 2:
		if (array)
			return r_fail(r, "a result is not an object");
		r->depth = 3;
		r->have_code = 0;
		r->key = K_OTHER;
		free(r->status);
		free(r->name);
		r->status = r->name = NULL;
		return 1;
	default:
		if (r->key == K_CODE)
			return r_fail(r, "a result's code is not a number");
		break;
	}
	r->skip = 1;
	return 1;
}

static int r_result(struct ia_reader *r)
{
	struct ia_result res = { .code = r->code, .status = r->status, .name = r->name };
	sd_error e = { "" };

	if (!r->have_code)
		return r_fail(r, "a result without a code");
	r->count++;
	if (r->cb && r->cb(r->ctx, &res, &e) < 0) {
		r->e = e;
		r->failed = 1;
		return 0;
	}
	return 1;
}

static int r_close(struct ia_reader *r)
{
	if (r->skip) {
		r->skip--;
		return 1;
	}
	if (r->depth == 3) {
		r->depth = 2;
		return r_result(r);
	}
	r->depth--;                     /* results ended (2 -> 1) or the top map (1 -> 0) */
	r->key = K_OTHER;
	return 1;
}

static int r_start_map(void *ctx) { return r_open(ctx, 0); }
static int r_start_array(void *ctx) { return r_open(ctx, 1); }
static int r_end(void *ctx) { return r_close(ctx); }

/* a scalar: kind 'n' number, 's' string, '-' null or boolean */
static int r_scalar(struct ia_reader *r, int kind, const char *s, size_t len)
{
	char num[64], *end;
	double d;

	if (r->skip)
		return 1;
	if (r->depth == 0)
		return r_fail(r, "not a JSON object");
	if (r->depth == 2)
		return r_fail(r, "a result is not an object");
	if (r->depth == 1 && r->key == K_RESULTS)
		return r_fail(r, "\"results\" is not an array");
	if (r->key == K_STATUS || r->key == K_NAME) {
		char **dst = r->depth == 1 ? &r->error_status : r->key == K_STATUS ? &r->status : &r->name;

		if (kind != 's' || (r->depth == 1 && r->key == K_NAME))
			return 1;
		free(*dst);
		if (!(*dst = strndup(s, len)))
			return r_fail(r, "out of memory");
		return 1;
	}
	if (!((r->depth == 1 && r->key == K_ERROR) || (r->depth == 3 && r->key == K_CODE)))
		return 1;
	if (kind != 'n')
		return r->depth == 3 ? r_fail(r, "a result's code is not a number") : 1;
	if (len >= sizeof(num))
		return r_fail(r, "a code is not an HTTP status");
	memcpy(num, s, len);
	num[len] = '\0';
	errno = 0;
	d = strtod(num, &end);
	if (*end || errno || !(d >= 0 && d <= 999) || d != floor(d))
		return r_fail(r, "a code is not an HTTP status");
	if (r->depth == 1) {
		r->have_error = 1;
		r->error_code = (long)d;
	} else {
		r->have_code = 1;
		r->code = (int)d;
	}
	return 1;
}

static int r_null(void *ctx) { return r_scalar(ctx, '-', NULL, 0); }
static int r_bool(void *ctx, int b) { return r_scalar(ctx, '-', NULL, 0); }
static int r_number(void *ctx, const char *s, size_t len) { return r_scalar(ctx, 'n', s, len); }
static int r_string(void *ctx, const unsigned char *s, size_t len) { return r_scalar(ctx, 's', (const char *)s, len); }

static const struct jscan_callbacks ia_callbacks = {
	.null = r_null, .boolean = r_bool, .number = r_number, .string = r_string,
	.start_map = r_start_map, .map_key = r_key, .end_map = r_end,
	.start_array = r_start_array, .end_array = r_end,
};

struct ia_reader *ia_reader_new(ia_result_fn cb, void *ctx)
{
	struct ia_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cb = cb;
	r->ctx = ctx;
	if (!(r->js = jscan_new(&ia_callbacks, r, IA_MAX_TOKEN))) {
		free(r);
		return NULL;
	}
	return r;
}

static int r_status(struct ia_reader *r, enum jscan_status st, sd_error *err)
{
	if (st == JSCAN_OK)
		return 0;
	if (r->failed) {
		if (err)
			*err = r->e;
		return -1;
	}
	if (st == JSCAN_TRUNCATED)
		return sd_fail(err, "icinga2 api reply: truncated");
	return sd_fail(err, "icinga2 api reply: %s", jscan_error(r->js));
}

int ia_reader_feed(void *rv, const char *buf, size_t n, sd_error *err)
{
	struct ia_reader *r = rv;

	return r_status(r, jscan_feed(r->js, buf, n), err);
}

long ia_reader_finish(struct ia_reader *r, sd_error *err)
{
	size_t i;

	if (r_status(r, jscan_finish(r->js), err) < 0)
		return -1;
	if (r->have_results)
		return r->count;
	if (!r->have_error)
		return sd_fail(err, "icinga2 api reply: neither results nor an error");
	for (i = 0; r->error_status && r->error_status[i]; i++)
		if ((unsigned char)r->error_status[i] < 0x20)
			r->error_status[i] = ' ';
	return sd_fail(err, "icinga2 api reply: error %ld: %.300s", r->error_code,
		       r->error_status ? r->error_status : "(no status)");
}

void ia_reader_free(struct ia_reader *r)
{
	if (!r)
		return;
	jscan_free(r->js);
	free(r->error_status);
	free(r->status);
	free(r->name);
	free(r);
}

long ia_read_results(const char *buf, size_t n, ia_result_fn cb, void *ctx, sd_error *err)
{
	struct ia_reader *r = ia_reader_new(cb, ctx);
	long count;

	if (!r)
		return sd_fail(err, "icinga2 api reply: out of memory");
	count = ia_reader_feed(r, buf, n, err) < 0 ? -1 : ia_reader_finish(r, err);
	ia_reader_free(r);
	return count;
}
