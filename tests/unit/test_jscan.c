/* Unit tests: jscan gives the expected events for every split of the text
 * into two (and, for short texts, three) pieces; rejects hostile text
 * with the right reason and byte offset; keeps its limits; stops when a
 * callback says so; and agrees with yajl on mutations of a Livestatus
 * reply (the same check as tests/fuzz/fuzz_jscan.c, run here in CI). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <yajl/yajl_parse.h>
#include "base/jscan.h"

/* Events as readable text: [ ] { } k:KEY s:STR n:NUM t f z, bytes
 * outside printable ASCII as \xNN. */
struct rec {
	char t[8192];
	size_t len;
	int stop_after;         /* stop at this event (1-based); 0 never */
	int events;
};

static int add(void *c, const char *tag, const void *s, size_t n)
{
	struct rec *r = c;
	const unsigned char *b = s;
	size_t i;

	r->len += (size_t)snprintf(r->t + r->len, sizeof(r->t) - r->len, "%s%s", r->len ? " " : "", tag);
	for (i = 0; i < n && r->len < sizeof(r->t) - 8; i++)
		r->len += (size_t)snprintf(r->t + r->len, sizeof(r->t) - r->len,
					   b[i] > 0x20 && b[i] < 0x7f && b[i] != '\\' ? "%c" : "\\x%02x", b[i]);
	return ++r->events != r->stop_after;
}

static int e_null(void *c) { return add(c, "z", "", 0); }
static int e_bool(void *c, int b) { return add(c, b ? "t" : "f", "", 0); }
static int e_num(void *c, const char *s, size_t n) { return add(c, "n:", s, n); }
static int e_str(void *c, const unsigned char *s, size_t n) { return add(c, "s:", s, n); }
static int e_smap(void *c) { return add(c, "{", "", 0); }
static int e_key(void *c, const unsigned char *s, size_t n) { return add(c, "k:", s, n); }
static int e_emap(void *c) { return add(c, "}", "", 0); }
static int e_sarr(void *c) { return add(c, "[", "", 0); }
static int e_earr(void *c) { return add(c, "]", "", 0); }

static const struct jscan_callbacks cbs = {
	e_null, e_bool, e_num, e_str, e_smap, e_key, e_emap, e_sarr, e_earr,
};

/* Scan text cut at a and b (a <= b); the status, events in r, message in msg. */
static enum jscan_status scan(const char *text, size_t n, size_t a, size_t b, size_t max_token,
			      struct rec *r, char *msg)
{
	struct jscan *s = jscan_new(&cbs, r, max_token);
	enum jscan_status st;

	assert_non_null(s);
	st = jscan_feed(s, text, a);
	if (!st)
		st = jscan_feed(s, text + a, b - a);
	if (!st)
		st = jscan_feed(s, text + b, n - b);
	if (!st)
		st = jscan_finish(s);
	strcpy(msg, jscan_error(s));
	jscan_free(s);
	return st;
}

/* Every split gives the same status, events and message. */
static void check(const char *text, size_t n, enum jscan_status want, const char *events, const char *reason)
{
	size_t a, b;

	for (a = 0; a <= n; a++)
		for (b = a; b <= n; b++) {
			struct rec r = { .len = 0 };
			char msg[128];
			enum jscan_status st;

			if (n > 40 && b != a && b != n)
				continue;       /* two pieces only for longer texts */
			st = scan(text, n, a, b, 1u << 20, &r, msg);
			if (st != want || (events && strcmp(r.t, events)) || (reason && !strstr(msg, reason)))
				fail_msg("text %.*s cut at %zu,%zu: status %d (want %d), events '%s' (want '%s'), message '%s' (want '%s')",
					 (int)n, text, a, b, st, want, r.t, events ? events : "-", msg, reason ? reason : "-");
		}
}

#define OK(text, events) check(text, sizeof(text) - 1, JSCAN_OK, events, NULL)
#define BAD(text, reason) check(text, sizeof(text) - 1, JSCAN_ERROR, NULL, reason)
#define CUT(text) check(text, sizeof(text) - 1, JSCAN_TRUNCATED, NULL, "ends inside a value")

static void values(void **state)
{
	(void)state;
	OK("[[\"h1\",\"svc\",0,1,true,false,null,-1.5e+3,\"\"]]",
	   "[ [ s:h1 s:svc n:0 n:1 t f z n:-1.5e+3 s: ] ]");
	OK(" \t\r\n\v\f[ ] \n", "[ ]");
	OK("{\"a\":{},\"b\":[{}],\"\":1}", "{ k:a { } k:b [ { } ] k: n:1 }");
	OK("12", "n:12");
	OK("-0", "n:-0");
	OK("[0,-0.0,1E2,1e-2,0.5E+10,123456789012345678901234567890]",
	   "[ n:0 n:-0.0 n:1E2 n:1e-2 n:0.5E+10 n:123456789012345678901234567890 ]");
	OK("\"caf\xc3\xa9 \xff\xfe\"", "s:caf\\xc3\\xa9\\x20\\xff\\xfe");  /* bytes pass, unchecked */
	OK("\"\x7f\"", "s:\\x7f");
}

static void escapes(void **state)
{
	(void)state;
	OK("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "[ s:\"\\x5c/\\x08\\x0c\\x0a\\x0d\\x09 ]");
	OK("[\"a\\u00e9b\\u20AC\\u0041\"]", "[ s:a\\xc3\\xa9b\\xe2\\x82\\xacA ]");
	OK("[\"\\u0000x\"]", "[ s:\\x00x ]");
	OK("[\"\\ud83d\\ude00\"]", "[ s:\\xf0\\x9f\\x98\\x80 ]");
	/* lone surrogates become U+FFFD, nothing after them is lost */
	OK("[\"\\ud800x\"]", "[ s:\\xef\\xbf\\xbdx ]");
	OK("[\"\\ud800\"]", "[ s:\\xef\\xbf\\xbd ]");
	OK("[\"\\udc00\"]", "[ s:\\xef\\xbf\\xbd ]");
	OK("[\"\\ud800\\u0041\"]", "[ s:\\xef\\xbf\\xbdA ]");
	OK("[\"\\ud800\\n\"]", "[ s:\\xef\\xbf\\xbd\\x0a ]");
	OK("[\"\\ud800\\ud800\\udc00\"]", "[ s:\\xef\\xbf\\xbd\\xf0\\x90\\x80\\x80 ]");
	OK("{\"k\\u0031\":\"v\"}", "{ k:k1 s:v }");
}

static void hostile(void **state)
{
	(void)state;
	BAD("[1,]", "unexpected ']' at byte 3");
	BAD("[1 2]", "unexpected '2' at byte 3");
	BAD("[1,,2]", "unexpected ',' at byte 3");
	BAD("[}", "unexpected '}' at byte 1");
	BAD("]", "unexpected ']' at byte 0");
	BAD("{1:2}", "unexpected '1' at byte 1");
	BAD("{\"a\" 1}", "unexpected '1' at byte 5");
	BAD("{\"a\":}", "unexpected '}' at byte 5");
	BAD("{,}", "unexpected ','");
	BAD("[\"a\":1]", "unexpected ':' at byte 4");
	BAD("[\xff]", "unexpected byte 0xff at byte 1");
	BAD("[1]\x00", "data after the end at byte 3");
	BAD("[] []", "data after the end at byte 3");
	BAD("[] \"x", "data after the end at byte 3");
	BAD("[01]", "invalid number at byte 1");
	BAD("[ -12.e5]", "invalid number at byte 2");
	BAD("[1.]", "invalid number");
	BAD("[.5]", "unexpected '.'");
	BAD("[-]", "invalid number");
	BAD("[1e]", "invalid number");
	BAD("[1e+]", "invalid number");
	BAD("[+1]", "unexpected '+'");
	BAD("[1-2]", "invalid number");
	BAD("[tru]", "invalid literal at byte 4");
	BAD("[nulL]", "invalid literal at byte 4");
	BAD("[True]", "unexpected 'T'");
	BAD("[\"a\x01\"]", "control character in a string at byte 3");
	BAD("[\"a\nb\"]", "control character in a string at byte 3");
	BAD("[\"\\x\"]", "invalid escape in a string at byte 3");
	BAD("[\"\\u12g4\"]", "invalid \\u escape in a string at byte 6");
	BAD("[\"\\u12\"]", "invalid \\u escape in a string at byte 6");
	BAD("/* */[]", "unexpected '/'");
	CUT("");
	CUT("   ");
	CUT("[");
	CUT("[[1,2]");
	CUT("[\"abc");
	CUT("[\"abc\\");
	CUT("[\"\\u00");
	CUT("[tr");
	CUT("{\"a\"");
	CUT("{\"a\":");
	CUT("[1");
}

static void limits(void **state)
{
	char deep[2 * JSCAN_MAX_DEPTH + 4], num[1100], msg[128];
	struct rec r = { .len = 0 };
	size_t i, n;

	(void)state;
	for (n = 0; n < JSCAN_MAX_DEPTH; n++)
		deep[n] = '[';
	for (i = 0; i < JSCAN_MAX_DEPTH; i++)
		deep[n++] = ']';
	check(deep, n, JSCAN_OK, NULL, NULL);
	memmove(deep + 1, deep, n);
	deep[0] = '[';
	check(deep, JSCAN_MAX_DEPTH + 1, JSCAN_ERROR, NULL, "nesting too deep at byte 64");

	/* max_token bounds a string, cut or not */
	assert_int_equal(scan("[\"12345678\"]", 12, 12, 12, 8, &r, msg), JSCAN_OK);
	r.len = 0;
	assert_int_equal(scan("[\"12345678\"]", 12, 5, 5, 8, &r, msg), JSCAN_OK);
	assert_string_equal(r.t, "[ s:12345678 ]");
	for (i = 0; i <= 12; i++) {     /* named where it begins, wherever the cut */
		r.len = 0;
		assert_int_equal(scan("[\"123456789\"]", 13, i, i, 8, &r, msg), JSCAN_ERROR);
		assert_string_equal(msg, "string too long at byte 1");
	}
	r.len = 0;      /* escapes count decoded: 8 bytes of \u00e9 are 4 */
	assert_int_equal(scan("[\"\\u00e9\\u00e9\\u00e9\\u00e9\"]", 28, 9, 9, 8, &r, msg), JSCAN_OK);

	/* numbers: 1024 digits pass, 1025 do not */
	num[0] = '[';
	memset(num + 1, '7', 1025);
	num[1026] = ']';
	check(num, 1027, JSCAN_ERROR, NULL, "number too long at byte 1");
	num[1025] = ']';
	check(num, 1026, JSCAN_OK, NULL, NULL);
}

static void empty_pieces(void **state)
{
	struct rec r = { .len = 0 };
	struct jscan *s = jscan_new(&cbs, &r, 100);

	(void)state;
	assert_int_equal(jscan_feed(s, NULL, 0), JSCAN_OK);
	assert_int_equal(jscan_feed(s, "[1", 2), JSCAN_OK);
	assert_int_equal(jscan_feed(s, NULL, 0), JSCAN_OK);
	assert_int_equal(jscan_feed(s, "]", 1), JSCAN_OK);
	assert_int_equal(jscan_finish(s), JSCAN_OK);
	assert_string_equal(r.t, "[ n:1 ]");
	jscan_free(s);
}

static void stops(void **state)
{
	struct rec r = { .len = 0, .stop_after = 3 };
	struct jscan *s = jscan_new(&cbs, &r, 100);

	(void)state;
	assert_int_equal(jscan_feed(s, "[[1,\"a\",2],", 11), JSCAN_STOPPED);
	assert_string_equal(r.t, "[ [ n:1");
	assert_int_equal(jscan_feed(s, "[3]]", 4), JSCAN_STOPPED);
	assert_int_equal(jscan_finish(s), JSCAN_STOPPED);
	assert_string_equal(r.t, "[ [ n:1");
	jscan_free(s);
	jscan_free(NULL);
}

/* yajl's verdict and events for text, with the callbacks above */
static int yajl_events(const char *text, size_t n, struct rec *r)
{
	static const yajl_callbacks ycb = {
		e_null, e_bool, NULL, NULL, e_num, e_str, e_smap, e_key, e_emap, e_sarr, e_earr,
	};
	yajl_handle y = yajl_alloc(&ycb, NULL, r);
	int ok;

	yajl_config(y, yajl_dont_validate_strings, 1);
	ok = yajl_parse(y, (const unsigned char *)text, n) == yajl_status_ok &&
	     yajl_complete_parse(y) == yajl_status_ok;
	yajl_free(y);
	return ok;
}

static void like_yajl(void **state)
{
	static const char base[] =
		"[[\"bench-host-1\",\"svc-1\",0,1,1,4,true,\"OK - \\\"quoted\\\" \\u00e9\","
		"\"line two\\nline three\",\"load1=0.5;5;10;0\",1795336642,0,false,0.25,-1e3,null,"
		"[[\"k\",\"v\"],[\"n\",2]],{\"a\":[]}],\n [\"h2\",\"\",[],{}]]";
	static const char alphabet[] = "[]{},:\"\\ u0aeE.-+tfnl19\x01\xff ";
	char text[sizeof(base) + 8], msg[128];
	unsigned seed = 12345;
	int i, k, agreed = 0, accepted = 0;

	(void)state;
	for (i = 0; i < 20000; i++) {
		struct rec ry = { .len = 0 }, rj = { .len = 0 };
		size_t n = sizeof(base) - 1, pos, cut;
		enum jscan_status st;
		int yok;

		memcpy(text, base, n);
		for (k = 0; k < 1 + i % 3; k++) {       /* one to three edits */
			seed = seed * 1103515245u + 12345u;
			pos = (seed >> 8) % n;
			seed = seed * 1103515245u + 12345u;
			switch ((seed >> 8) % 3) {
			case 0:         /* replace */
				text[pos] = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
				break;
			case 1:         /* delete */
				memmove(text + pos, text + pos + 1, n - pos - 1);
				n--;
				break;
			default:        /* insert */
				memmove(text + pos + 1, text + pos, n - pos);
				text[pos] = alphabet[(seed >> 12) % (sizeof(alphabet) - 1)];
				n++;
				break;
			}
		}
		yok = yajl_events(text, n, &ry);
		cut = (seed >> 4) % (n + 1);
		st = scan(text, n, cut, cut + (n - cut) / 2, 1u << 20, &rj, msg);
		if (memmem(text, n, "\\ud", 3) || memmem(text, n, "\\uD", 3) ||
		    (st == JSCAN_ERROR && strstr(msg, "data after the end")))
			continue;       /* the differences fuzz_jscan.c also allows */
		if (yok != (st == JSCAN_OK) || (yok && strcmp(ry.t, rj.t)))
			fail_msg("'%.*s': yajl %s '%s', jscan %d '%s' (%s)", (int)n, text,
				 yok ? "accepts" : "rejects", ry.t, st, rj.t, msg);
		agreed++;
		accepted += yok;
	}
	/* the mutations must exercise both verdicts */
	assert_true(agreed > 15000);
	assert_true(accepted > 1000 && accepted < agreed - 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(values),
		cmocka_unit_test(escapes),
		cmocka_unit_test(hostile),
		cmocka_unit_test(limits),
		cmocka_unit_test(stops),
		cmocka_unit_test(empty_pieces),
		cmocka_unit_test(like_yajl),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
