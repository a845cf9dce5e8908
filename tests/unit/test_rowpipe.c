/* Unit tests: rowpipe (row callbacks on a worker thread): order, deep
 * copies of strings and nested lists, and which error is told. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "livestatus_json.h"
#include "rowpipe.h"

struct seen {
	long rows;
	long bad;               /* rows that arrived out of order or damaged */
	long fail_at;           /* the callback fails on this row (0: never) */
};

static int on_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct seen *s = ctx;
	char want[64];

	snprintf(want, sizeof(want), "row-%ld", s->rows);
	if (row->n != 3 || row->cols[0].type != LS_STR || strcmp(row->cols[0].str, want) ||
	    ls_int(&row->cols[1]) != s->rows || row->cols[2].type != LS_LIST || row->cols[2].n != 2 ||
	    strcmp(ls_str(&row->cols[2].items[1]), want))
		s->bad++;
	s->rows++;
	if (s->fail_at && s->rows == s->fail_at)
		return sd_fail(err, "callback failed at row %ld", s->rows);
	return 0;
}

/* Rows as the reader hands them over: strings and lists in memory that is
 * reused for the next row (so the pipe must copy them). */
static int put_rows(struct rowpipe *p, long n, sd_error *err)
{
	struct ls_value items[2], cols[3];
	char name[64];
	long i;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "row-%ld", i);
		memset(cols, 0, sizeof(cols));
		memset(items, 0, sizeof(items));
		items[0].type = LS_NUM;
		items[1].type = LS_STR;
		items[1].str = name;
		items[1].len = strlen(name);
		cols[0].type = LS_STR;
		cols[0].str = name;
		cols[0].len = strlen(name);
		cols[1].type = LS_NUM;
		cols[1].num = (double)i;
		cols[2].type = LS_LIST;
		cols[2].items = items;
		cols[2].n = cols[2].cap = 2;
		if (rowpipe_put(p, &(struct ls_row){ cols, 3 }, err) < 0)
			return -1;
		memset(name, 'x', sizeof(name) - 1);    /* the reader reuses its memory */
	}
	return 0;
}

static void all_rows_in_order(void **state)
{
	long sizes[] = { 0, 1, 8191, 8192, 8193, 100000 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct seen s = { 0 };
		struct rowpipe *p = rowpipe_new(on_row, &s);
		sd_error err = { "" };

		assert_non_null(p);
		assert_int_equal(put_rows(p, sizes[k], &err), 0);
		assert_int_equal(rowpipe_finish(p, &err), 0);
		assert_int_equal(s.rows, sizes[k]);
		assert_int_equal(s.bad, 0);
	}
}

static void callback_error_stops_and_is_told(void **state)
{
	long at[] = { 5, 8192, 20000, 99999 };
	size_t k;

	for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		struct seen s = { .fail_at = at[k] };
		struct rowpipe *p = rowpipe_new(on_row, &s);
		sd_error err = { "" }, ferr = { "" };
		char want[64];
		int put = put_rows(p, 100000, &err);

		snprintf(want, sizeof(want), "callback failed at row %ld", at[k]);
		/* the parser may learn of it at a later put, or only at the end */
		if (put < 0)
			assert_string_equal(err.msg, want);
		assert_int_equal(rowpipe_finish(p, &ferr), -1);
		assert_string_equal(ferr.msg, want);
		assert_int_equal(s.rows, at[k]);        /* nothing after the failed row */
		assert_int_equal(s.bad, 0);
	}
}

/* The reader feeding the pipe, as ls_query does: a 100,000-row reply fed
 * in odd-sized pieces arrives whole and in order, or stops at the failed
 * row. */
static void from_the_reader(void **state)
{
	long n = 100000, i, fail_at[] = { 0, 50000 };
	size_t k, len = 0, at;
	char *json = NULL;
	FILE *f = open_memstream(&json, &len);

	assert_non_null(f);
	fputs("[", f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s[\"row-%ld\",%ld,[1,\"row-%ld\"]]", i ? ",\n" : "", i, i, i);
	fputs("]", f);
	fclose(f);
	for (k = 0; k < sizeof(fail_at) / sizeof(fail_at[0]); k++) {
		struct seen s = { .fail_at = fail_at[k] };
		struct rowpipe *p = rowpipe_new(on_row, &s);
		struct lsjson_reader *r = lsjson_reader_new(rowpipe_put, p);
		sd_error err = { "" }, ferr = { "" };
		int rc = 0;

		assert_non_null(r);
		for (at = 0; at < len && rc == 0; at += 4099)
			rc = lsjson_reader_feed(r, json + at, len - at < 4099 ? len - at : 4099, &err);
		if (rc == 0)
			assert_int_equal(lsjson_reader_finish(r, &err), n);
		lsjson_reader_free(r);
		if (fail_at[k]) {
			assert_int_equal(rowpipe_finish(p, &ferr), -1);
			assert_int_equal(s.rows, fail_at[k]);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(rowpipe_finish(p, &ferr), 0);
			assert_int_equal(s.rows, n);
		}
		assert_int_equal(s.bad, 0);
	}
	free(json);
}

static void finish_null(void **state)
{
	sd_error err = { "" };

	assert_int_equal(rowpipe_finish(NULL, &err), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(all_rows_in_order),
		cmocka_unit_test(callback_error_stops_and_is_told),
		cmocka_unit_test(from_the_reader),
		cmocka_unit_test(finish_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
