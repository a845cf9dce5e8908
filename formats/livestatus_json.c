/*
 * livestatus_json.c - streaming reader for Livestatus JSON replies (jscan.c).
 *
 * Why an event parser (jscan.c; see there why not yajl's) and not a tree:
 * livedump builds the whole reply in memory (381 MiB at 50k services).
 * With events we hold one row, so memory stays flat whatever the site
 * size. A row is built as a small tree of ls_value, handed to the
 * callback, and dropped; its strings and nested lists live in an arena
 * that is reset per row, so a row costs no malloc in the steady state
 * (config rows have 4-5 lists: a malloc/free per list was visible in perf).
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include "base/jscan.h"
#include "formats/livestatus_json.h"

/* Chunked arena for a row's strings; reset after every row. */
struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];
};

#define CHUNK_SIZE (64 * 1024 - 64)

static char *arena_alloc_new(struct chunk **head, size_t n)
{
	size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
	struct chunk *c = malloc(sizeof(*c) + cap);

	if (!c)
		return NULL;
	c->used = n;
	c->cap = cap;
	c->next = *head;
	*head = c;
	return c->data;
}

static char *arena_alloc(struct chunk **head, size_t n)
{
	struct chunk *c = *head;

	if (!c || c->cap - c->used < n)
		return arena_alloc_new(head, n);
	c->used += n;
	return c->data + c->used - n;
}

/* For ls_value arrays: 8-byte aligned (a chunk's data starts 8-aligned). */
static void *arena_alloc_aligned(struct chunk **head, size_t n)
{
	struct chunk *c = *head;
	size_t pad = c ? (8 - c->used % 8) % 8 : 0;

	if (c && c->cap - c->used >= n + pad) {
		c->used += pad + n;
		return c->data + c->used - n;
	}
	return arena_alloc_new(head, n);
}

/* Keep one standard chunk for the next row, free the rest. */
static void arena_reset(struct chunk **head)
{
	struct chunk *c = *head, *keep = NULL, *next;

	for (; c; c = next) {
		next = c->next;
		if (!keep && c->cap == CHUNK_SIZE) {
			keep = c;
			keep->used = 0;
			keep->next = NULL;
		} else {
			free(c);
		}
	}
	*head = keep;
}

struct frame {
	struct ls_value *list;
	int pair;               /* a [key, value] pair made from a JSON object */
};

struct lsjson_reader {
	struct jscan *h;
	ls_row_cb cb;
	void *ctx;
	int depth;              /* 0 outside, 1 in the reply array, 2+ in a row */
	struct ls_value row;
	struct frame stack[LSJSON_MAX_DEPTH + 2];
	int sp;
	size_t row_bytes;
	long rows;
	int done;
	sd_error *err;          /* valid during feed/finish */
	int cb_failed;
	int failed;             /* once failed, every later call says the same */
	sd_error first;
	struct chunk *arena;
	unsigned long long expect;      /* the reply's length, 0 unknown */
};

/* Drop the row's values but keep its item array for the next row; nested
 * lists and strings go with the arena. */
static void row_reset(struct lsjson_reader *r)
{
	r->row.n = 0;
	arena_reset(&r->arena);
}

static int fail(struct lsjson_reader *r, const char *msg)
{
	if (!r->err->msg[0])
		sd_fail(r->err, "%s", msg);
	return 0;
}

static struct ls_value *append(struct lsjson_reader *r)
{
	struct ls_value *l;

	if (r->depth < 2) {
		fail(r, "malformed reply: expected a list of rows");
		return NULL;
	}
	l = r->stack[r->sp].list;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : r->sp ? 4 : 32;
		struct ls_value *n;
		if (r->sp) {    /* a nested list: in the arena, dropped with the row */
			n = arena_alloc_aligned(&r->arena, cap * sizeof(*n));
			if (n && l->n)
				memcpy(n, l->items, l->n * sizeof(*n));
		} else {        /* the row's columns: kept for the next row */
			n = realloc(l->items, cap * sizeof(*n));
		}
		if (!n) {
			fail(r, "out of memory");
			return NULL;
		}
		l->items = n;
		l->cap = cap;
	}
	/* no memset: each callback sets the fields its type uses */
	return &l->items[l->n++];
}

/* After a complete value: a pair frame with key and value is finished. */
static void value_done(struct lsjson_reader *r)
{
	if (r->sp > 0 && r->stack[r->sp].pair && r->stack[r->sp].list->n == 2) {
		r->sp--;
		r->depth--;
	}
}

static int push(struct lsjson_reader *r, struct ls_value *v, int pair)
{
	if (r->sp + 1 > LSJSON_MAX_DEPTH)
		return fail(r, "malformed reply: nesting too deep");
	v->type = LS_LIST;
	v->items = NULL;
	v->n = v->cap = 0;
	r->stack[++r->sp].list = v;
	r->stack[r->sp].pair = pair;
	r->depth++;
	return 1;
}

static int cb_null(void *ctx)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *v = append(r);

	if (!v)
		return 0;
	v->type = LS_NULL;
	value_done(r);
	return 1;
}

static int cb_bool(void *ctx, int b)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *v = append(r);

	if (!v)
		return 0;
	v->type = LS_BOOL;
	v->b = b;
	v->num = b;
	value_done(r);
	return 1;
}

static int cb_number(void *ctx, const char *s, size_t len)
{
	struct lsjson_reader *r = ctx;
	char buf[64];
	struct ls_value *v;

	if (len >= sizeof(buf))
		return fail(r, "malformed reply: number too long");
	if (!(v = append(r)))
		return 0;
	v->type = LS_NUM;
	/* most columns are small integers: skip strtod for them */
	if (len < 16) {
		size_t i = s[0] == '-';
		long long n = 0;
		for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
			n = n * 10 + (s[i] - '0');
		if (i == len && len > (size_t)(s[0] == '-')) {
			v->num = (double)(s[0] == '-' ? -n : n);
			value_done(r);
			return 1;
		}
	}
	memcpy(buf, s, len);
	buf[len] = '\0';
	v->num = strtod(buf, NULL);
	value_done(r);
	return 1;
}

static int store_string(struct lsjson_reader *r, struct ls_value *v, const unsigned char *s, size_t len)
{
	r->row_bytes += len;
	if (r->row_bytes > LSJSON_MAX_ROW_BYTES)
		return fail(r, "reply row larger than 64 MiB");
	v->type = LS_STR;
	v->str = arena_alloc(&r->arena, len + 1);
	if (!v->str)
		return fail(r, "out of memory");
	memcpy(v->str, s, len);
	v->str[len] = '\0';
	v->len = len;
	return 1;
}

static int cb_string(void *ctx, const unsigned char *s, size_t len)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *v = append(r);

	if (!v || !store_string(r, v, s, len))
		return 0;
	value_done(r);
	return 1;
}

static int cb_start_map(void *ctx)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *v = append(r);

	return v ? push(r, v, 0) : 0;
}

static int cb_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *pair = append(r), *k;

	if (!pair || !push(r, pair, 1))
		return 0;
	if (!(k = append(r)))
		return 0;
	return store_string(r, k, s, len);
}

static int end_list(struct lsjson_reader *r)
{
	sd_error *err = r->err;
	struct ls_row row;

	if (r->depth == 1) {            /* end of the reply */
		r->depth = 0;
		r->done = 1;
		return 1;
	}
	if (r->depth == 2) {            /* end of a row */
		row.cols = r->row.items;
		row.n = r->row.n;
		row.reply_bytes = r->expect;
		r->rows++;
		if (r->cb(r->ctx, &row, err) < 0) {
			r->cb_failed = 1;
			row_reset(r);
			return 0;
		}
		row_reset(r);
		r->row_bytes = 0;
		r->depth = 1;
		r->sp = 0;
		return 1;
	}
	r->sp--;
	r->depth--;
	value_done(r);
	return 1;
}

static int cb_end_map(void *ctx)
{
	return end_list(ctx);
}

static int cb_start_array(void *ctx)
{
	struct lsjson_reader *r = ctx;
	struct ls_value *v;

	if (r->done)
		return fail(r, "malformed reply: data after the end");
	if (r->depth == 0) {
		r->depth = 1;
		return 1;
	}
	if (r->depth == 1) {
		row_reset(r);
		r->row.type = LS_LIST;
		r->sp = 0;
		r->stack[0].list = &r->row;
		r->stack[0].pair = 0;
		r->depth = 2;
		return 1;
	}
	v = append(r);
	return v ? push(r, v, 0) : 0;
}

static int cb_end_array(void *ctx)
{
	return end_list(ctx);
}

static const struct jscan_callbacks callbacks = {
	.null = cb_null,
	.boolean = cb_bool,
	.number = cb_number,
	.string = cb_string,
	.start_map = cb_start_map,
	.map_key = cb_map_key,
	.end_map = cb_end_map,
	.start_array = cb_start_array,
	.end_array = cb_end_array,
};

struct lsjson_reader *lsjson_reader_new(ls_row_cb cb, void *ctx)
{
	struct lsjson_reader *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->cb = cb;
	r->ctx = ctx;
	/* bytes pass through unchecked: the JSON writer repairs invalid
	 * UTF-8 where it must (text.c) */
	r->h = jscan_new(&callbacks, r, LSJSON_MAX_ROW_BYTES);
	if (!r->h) {
		free(r);
		return NULL;
	}
	return r;
}

static int status(struct lsjson_reader *r, enum jscan_status st)
{
	if (st == JSCAN_OK)
		return 0;
	if (!r->cb_failed && !r->err->msg[0]) {        /* else a callback said why */
		if (st == JSCAN_TRUNCATED)
			sd_fail(r->err, "truncated JSON reply after row %ld", r->rows);
		else if (!strncmp(jscan_error(r->h), "out of memory", 13))
			sd_fail(r->err, "out of memory");
		else
			sd_fail(r->err, "malformed JSON reply after row %ld: %s", r->rows, jscan_error(r->h));
	}
	r->first = *r->err;
	r->failed = 1;
	return -1;
}

void lsjson_reader_expect(struct lsjson_reader *r, unsigned long long bytes)
{
	r->expect = bytes;
}

/* -1 with the first failure's message once the reader has failed */
static int begin(struct lsjson_reader *r, sd_error *err)
{
	if (r->failed) {
		*err = r->first;
		return -1;
	}
	r->err = err;
	err->msg[0] = '\0';
	return 0;
}

int lsjson_reader_feed(struct lsjson_reader *r, const void *buf, size_t len, sd_error *err)
{
	if (begin(r, err) < 0)
		return -1;
	return status(r, jscan_feed(r->h, buf, len));
}

long lsjson_reader_finish(struct lsjson_reader *r, sd_error *err)
{
	if (begin(r, err) < 0 || status(r, jscan_finish(r->h)) < 0)
		return -1;
	if (!r->done)
		return sd_fail(err, "truncated JSON reply after row %ld", r->rows);
	return r->rows;
}

void lsjson_reader_free(struct lsjson_reader *r)
{
	if (!r)
		return;
	row_reset(r);
	free(r->row.items);
	arena_reset(&r->arena);
	free(r->arena);
	jscan_free(r->h);
	free(r);
}

long long ls_int(const struct ls_value *v)
{
	double d = ls_num(v);

	/* a hostile reply may send 1e300 or NaN: converting those is undefined */
	if (!(d > -9.2e18 && d < 9.2e18))
		return 0;
	return (long long)d;
}

double ls_num(const struct ls_value *v)
{
	if (!v)
		return 0;
	switch (v->type) {
	case LS_BOOL:
		return v->b;
	case LS_NUM:
		return v->num;
	case LS_STR:
		return strtod(v->str, NULL);
	default:
		return 0;
	}
}

int ls_bool(const struct ls_value *v)
{
	return ls_num(v) != 0;
}

const char *ls_str(const struct ls_value *v)
{
	return v && v->type == LS_STR ? v->str : "";
}

static void gen_print(void *ctx, const char *s, size_t len)
{
	fwrite(s, 1, len, ctx);
}

static void gen_value(yajl_gen g, const struct ls_value *v)
{
	char buf[64];
	size_t i;

	switch (v->type) {
	case LS_NULL:
		yajl_gen_null(g);
		break;
	case LS_BOOL:
		yajl_gen_bool(g, v->b);
		break;
	case LS_NUM:
		snprintf(buf, sizeof(buf), "%.17g", v->num);
		yajl_gen_number(g, buf, strlen(buf));
		break;
	case LS_STR:
		yajl_gen_string(g, (const unsigned char *)v->str, v->len);
		break;
	case LS_LIST:
		yajl_gen_array_open(g);
		for (i = 0; i < v->n; i++)
			gen_value(g, &v->items[i]);
		yajl_gen_array_close(g);
		break;
	}
}

int lsjson_write_value(FILE *out, const struct ls_value *v)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (!g)
		return -1;
	yajl_gen_config(g, yajl_gen_print_callback, gen_print, out);
	gen_value(g, v);
	yajl_gen_free(g);
	return ferror(out) ? -1 : 0;
}
