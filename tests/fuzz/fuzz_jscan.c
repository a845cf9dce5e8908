/*
 * libFuzzer target: jscan against yajl. Both read the input (jscan in up
 * to three pieces cut where the first byte says); they must agree on
 * whether it is JSON and, if it is, on every event. Inputs where they
 * differ on purpose are skipped: \u escapes of surrogates (jscan.c's one
 * deliberate difference), jscan's limits (nesting, number length), and
 * bytes after the end where yajl only says "trailing garbage" once they
 * make a whole token (it accepts `[] "x`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>
#include "jscan.h"

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec ry = { 0 }, rj = { 0 };
	yajl_handle y;
	struct jscan *j;
	size_t cut1, cut2;
	int yok, jok;
	enum jscan_status st;

	if (!size || surrogate_escape(data, size))
		return 0;
	cut1 = size ? data[0] % (size + 1) : 0;
	cut2 = cut1 + (size - cut1) / 2;

	y = yajl_alloc(&ycb, NULL, &ry);
	yajl_config(y, yajl_dont_validate_strings, 1);
	yok = yajl_parse(y, data, size) == yajl_status_ok && yajl_complete_parse(y) == yajl_status_ok;
	yajl_free(y);

	j = jscan_new(&jcb, &rj, 1u << 20);
	st = jscan_feed(j, data, cut1);
	if (!st)
		st = jscan_feed(j, data + cut1, cut2 - cut1);
	if (!st)
		st = jscan_feed(j, data + cut2, size - cut2);
	if (!st)
		st = jscan_finish(j);
	jok = st == JSCAN_OK;
	if (st == JSCAN_ERROR && (strstr(jscan_error(j), "nesting") ||
				  strstr(jscan_error(j), "number too long") ||
				  strstr(jscan_error(j), "data after the end")))
		;               /* see above */
	else if (yok != jok)
		abort();
	else if (yok && (ry.len != rj.len || memcmp(ry.p, rj.p, ry.len)))
		abort();
	jscan_free(j);
	free(ry.p);
	free(rj.p);
	return 0;
}
