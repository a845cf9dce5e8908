/*
 * libFuzzer target: jscan against itself and against yajl. The last two
 * input bytes are not text: they say where to cut the text into three
 * pieces and which string limit to use. jscan in one piece and in three
 * must give the same status, message and events, always. jscan and yajl
 * must agree on whether the text is JSON and, if it is, on every event;
 * that comparison skips what differs on purpose: \u escapes of surrogates
 * (jscan.c's one deliberate difference), jscan's limits (nesting, number
 * and string length), and bytes after the end, where yajl only says
 * "trailing garbage" once they make a whole token (it accepts `[] "x`).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include "base/jscan.h"

struct rec {
	unsigned char *p;
	size_t len, cap;
};

static void put(struct rec *r, char tag, const void *s, size_t n)
{
	size_t need = r->len + n + 10;

	if (need > r->cap) {
		r->cap = need * 2;
		r->p = realloc(r->p, r->cap);
		if (!r->p)
			abort();
	}
	r->p[r->len++] = (unsigned char)tag;
	memcpy(r->p + r->len, &n, sizeof(n));
	r->len += sizeof(n);
	if (n)
		memcpy(r->p + r->len, s, n);
	r->len += n;
}

static int e_null(void *c) { put(c, 'z', "", 0); return 1; }
static int e_bool(void *c, int b) { put(c, b ? 't' : 'f', "", 0); return 1; }
static int e_num(void *c, const char *s, size_t n) { put(c, 'n', s, n); return 1; }
static int e_str(void *c, const unsigned char *s, size_t n) { put(c, 's', s, n); return 1; }
static int e_smap(void *c) { put(c, '{', "", 0); return 1; }
static int e_key(void *c, const unsigned char *s, size_t n) { put(c, 'k', s, n); return 1; }
static int e_emap(void *c) { put(c, '}', "", 0); return 1; }
static int e_sarr(void *c) { put(c, '[', "", 0); return 1; }
static int e_earr(void *c) { put(c, ']', "", 0); return 1; }

static const yajl_callbacks ycb = {
	e_null, e_bool, NULL, NULL, e_num, e_str, e_smap, e_key, e_emap, e_sarr, e_earr,
};
static const struct jscan_callbacks jcb = {
	e_null, e_bool, e_num, e_str, e_smap, e_key, e_emap, e_sarr, e_earr,
};

static int surrogate_escape(const uint8_t *d, size_t n)
{
	size_t i;

	for (i = 0; i + 3 < n; i++)
		if (d[i] == '\\' && d[i + 1] == 'u' && (d[i + 2] | 0x20) == 'd' &&
		    ((d[i + 3] >= '8' && d[i + 3] <= '9') || ((d[i + 3] | 0x20) >= 'a' && (d[i + 3] | 0x20) <= 'f')))
			return 1;
	return 0;
}

static enum jscan_status run_jscan(const uint8_t *d, size_t n, size_t a, size_t b, size_t max,
				   struct rec *r, char *msg, size_t msglen)
{
	struct jscan *j = jscan_new(&jcb, r, max);
	enum jscan_status st;

	if (!j)
		abort();
	st = jscan_feed(j, d, a);
	if (!st)
		st = jscan_feed(j, d + a, b - a);
	if (!st)
		st = jscan_feed(j, d + b, n - b);
	if (!st)
		st = jscan_finish(j);
	snprintf(msg, msglen, "%s", jscan_error(j));
	jscan_free(j);
	return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec ry = { 0 }, r1 = { 0 }, r3 = { 0 };
	char m1[128], m3[128];
	enum jscan_status s1, s3;
	size_t n, cut1, cut2, max;
	yajl_handle y;
	int yok;

	if (size < 3)
		return 0;
	n = size - 2;
	cut1 = data[n] % (n + 1);
	cut2 = cut1 + data[n + 1] % (n - cut1 + 1);
	max = data[n + 1] & 1 ? 16 : 1u << 20;

	s1 = run_jscan(data, n, n, n, max, &r1, m1, sizeof(m1));
	s3 = run_jscan(data, n, cut1, cut2, max, &r3, m3, sizeof(m3));
	if (s1 != s3 || strcmp(m1, m3) || r1.len != r3.len || (r1.len && memcmp(r1.p, r3.p, r1.len)))
		abort();

	if (!surrogate_escape(data, n) &&
	    !(s1 == JSCAN_ERROR && (strstr(m1, "nesting") || strstr(m1, "too long") ||
				    strstr(m1, "data after the end")))) {
		y = yajl_alloc(&ycb, NULL, &ry);
		yajl_config(y, yajl_dont_validate_strings, 1);
		yok = yajl_parse(y, data, n) == yajl_status_ok && yajl_complete_parse(y) == yajl_status_ok;
		yajl_free(y);
		if (yok != (s1 == JSCAN_OK))
			abort();
		if (yok && (ry.len != r1.len || (ry.len && memcmp(ry.p, r1.p, ry.len))))
			abort();
	}
	free(ry.p);
	free(r1.p);
	free(r3.p);
	return 0;
}
