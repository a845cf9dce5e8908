/* Unit tests: Livestatus JSON reader (both dialects, hostile input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/livestatus_json.h"

struct seen {
	int rows;
	char first[256];
	double nums[16];
	int types[16];
	size_t ncols;
	size_t nested;
	int stop_after;
};

static int on_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct seen *s = ctx;
	size_t i;

	s->rows++;
	s->ncols = row->n;
	for (i = 0; i < row->n && i < 16; i++) {
		s->types[i] = row->cols[i].type;
		s->nums[i] = ls_num(&row->cols[i]);
		if (row->cols[i].type == LS_LIST)
			s->nested = row->cols[i].n;
	}
	if (row->n && row->cols[0].type == LS_STR)
		snprintf(s->first, sizeof(s->first), "%s", row->cols[0].str);
	if (s->stop_after && s->rows >= s->stop_after)
		return sd_fail(err, "stop");
	return 0;
}

/* Feed in chunks of `chunk` bytes; returns the finish result. */
static long parse(const char *text, size_t len, size_t chunk, struct seen *s, sd_error *err)
{
	struct lsjson_reader *r = lsjson_reader_new(on_row, s);
	size_t off = 0;
	long rc = 0;

	assert_non_null(r);
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (lsjson_reader_feed(r, text + off, n, err) < 0) {
			rc = -1;
			break;
		}
		off += n;
	}
	if (rc == 0)
		rc = lsjson_reader_finish(r, err);
	lsjson_reader_free(r);
	return rc;
}

static void icinga_dialect(void **state)
{
	const char *t = "[[\"h\\u00e4st\",true,null,-1,[[\"os\",\"Linux\"]],\"a\\\\nb\"],\n"
			"[\"web server 01\",false,12.5,1795288035,[],\"\"]]\n";
	struct seen s = { 0 };
	sd_error err = { "" };
	size_t chunk;

	for (chunk = 1; chunk <= strlen(t); chunk++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(parse(t, strlen(t), chunk, &s, &err), 2);
		assert_int_equal(s.rows, 2);
		assert_string_equal(s.first, "web server 01");
		assert_int_equal(s.types[1], LS_BOOL);
		assert_true(s.nums[2] == 12.5);
		assert_true(s.nums[3] == 1795288035.0);
	}
	memset(&s, 0, sizeof(s));
	assert_int_equal(parse(t, 60, 60, &s, &err), -1); /* cut in the middle */
}

static void mk_dialect_and_dicts(void **state)
{
	const char *t = "[[\"h1\",1,0,{\"os\":\"Linux\",\"rack\":\"B\"}]]";
	struct seen s = { 0 };
	sd_error err = { "" };

	assert_int_equal(parse(t, strlen(t), 7, &s, &err), 1);
	assert_int_equal(s.types[1], LS_NUM);
	assert_int_equal(s.types[3], LS_LIST);
	assert_int_equal(s.nested, 2);    /* two [key, value] pairs */
}

static void accessors(void **state)
{
	struct ls_value t = { .type = LS_BOOL, .b = 1 }, n = { .type = LS_NULL }, d = { .type = LS_NUM, .num = 3.7 };

	assert_int_equal(ls_bool(&t), 1);
	assert_int_equal(ls_int(&n), 0);
	assert_string_equal(ls_str(&n), "");
	assert_int_equal(ls_int(&d), 3);
}

static void expect_error(const char *t, const char *needle)
{
	struct seen s = { 0 };
	sd_error err = { "" };

	assert_int_equal(parse(t, strlen(t), 3, &s, &err), -1);
	assert_non_null(strstr(err.msg, needle));
	assert_null(strchr(err.msg, '\n'));
}

static void hostile(void **state)
{
	char deep[64] = "[[";
	int i;

	expect_error("", "truncated");
	expect_error("[[1,2]", "truncated");
	expect_error("[[1,2],]", "malformed");
	expect_error("{\"a\":1}", "malformed");
	expect_error("[1]", "malformed");
	expect_error("[[1]] [[2]]", "malformed");
	expect_error("[[\"unterminated]]", "truncated");
	expect_error("[[tru]]", "malformed");
	for (i = 0; i < 12; i++)
		strcat(deep, "[");
	expect_error(deep, "nesting");
}

static void callback_stops(void **state)
{
	struct seen s = { .stop_after = 1 };
	sd_error err = { "" };

	assert_int_equal(parse("[[1],[2],[3]]", 13, 13, &s, &err), -1);
	assert_string_equal(err.msg, "stop");
	assert_int_equal(s.rows, 1);
}

/* After a failure every later call fails with the same message. */
static void errors_stick(void **state)
{
	static const char *const first[] = { "[[1],", "{}", "[[1,]" };
	static const char *const want[] = { "stop", "expected a list of rows", "unexpected ']' at byte 4" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct seen s = { .stop_after = 1 };
		struct lsjson_reader *r = lsjson_reader_new(on_row, &s);
		sd_error err = { "" }, again = { "" };

		assert_int_equal(lsjson_reader_feed(r, first[i], strlen(first[i]), &err), -1);
		assert_non_null(strstr(err.msg, want[i]));
		assert_int_equal(lsjson_reader_feed(r, "[2]]", 4, &again), -1);
		assert_string_equal(again.msg, err.msg);
		again.msg[0] = '\0';
		assert_int_equal(lsjson_reader_finish(r, &again), -1);
		assert_string_equal(again.msg, err.msg);
		lsjson_reader_free(r);
	}
}

static void embedded_nul(void **state)
{
	const char *t = "[[\"a\\u0000b\"]]";
	struct lsjson_reader *r;
	sd_error err = { "" };
	struct seen s = { 0 };

	r = lsjson_reader_new(on_row, &s);
	assert_int_equal(lsjson_reader_feed(r, t, strlen(t), &err), 0);
	assert_int_equal(lsjson_reader_finish(r, &err), 1);
	assert_string_equal(s.first, "a");   /* C string stops; len says 3 */
	lsjson_reader_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(icinga_dialect),
		cmocka_unit_test(mk_dialect_and_dicts),
		cmocka_unit_test(accessors),
		cmocka_unit_test(hostile),
		cmocka_unit_test(callback_stops),
		cmocka_unit_test(embedded_nul),
		cmocka_unit_test(errors_stick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
