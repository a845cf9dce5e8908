/* Unit tests: the row pipe hands the callback exactly the rows the reader
 * parsed, in order (every value type, nested lists, embedded NULs, rows
 * larger than a batch, enough rows to go round the ring many times, two
 * callbacks in turn as for two queries), and returns a callback's failure
 * to the parser. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "livestatus/rowpipe.h"

struct rec {
	FILE *f;
	char *buf;
	size_t len;
	int n, fail_at;
	int off_main;           /* rows that came on another thread */
	char tag;
};

static pthread_t main_thread;

static void dump(FILE *f, const struct ls_value *v, size_t n)
{
	size_t i;

	fputc('[', f);
	for (i = 0; i < n; i++) {
		switch (v[i].type) {
		case LS_NULL: fputs("N", f); break;
		case LS_BOOL: fprintf(f, "B%d/%g", v[i].b, v[i].num); break;
		case LS_NUM: fprintf(f, "%.17g", v[i].num); break;
		case LS_STR:
			fprintf(f, "S%zu:", v[i].len);
			fwrite(v[i].str, 1, v[i].len + 1, f);   /* the NUL after it too */
			break;
		case LS_LIST: dump(f, v[i].items, v[i].n); break;
		}
		fputc(',', f);
	}
	fputc(']', f);
}

static int row_cb(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct rec *r = ctx;

	if (++r->n == r->fail_at)
		return sd_fail(err, "callback failed at row %d", r->n);
	if (!pthread_equal(pthread_self(), main_thread))
		r->off_main++;
	fputc(r->tag, r->f);
	dump(r->f, row->cols, row->n);
	fputc('\n', r->f);
	return 0;
}

/* A reply of n rows: numbers, bools, null, strings (one with \u0000 and
 * escapes, every 500th over 200 KiB), lists of strings and of pairs. */
static char *reply(int n, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	int i, k;

	assert_non_null(f);
	fputc('[', f);
	for (i = 0; i < n; i++) {
		fprintf(f, "%s[\"host-%d\",%d,%d.25,-%d,1e3,true,false,null,\"a\\u0000b\\n\\\"q\\\"\\u00e4\",", i ? ",\n" : "",
			i, i, i, i % 7);
		fputc('"', f);
		for (k = 0; k < (i % 500 == 499 ? 200000 : i % 40); k++)
			fputc('a' + k % 26, f);
		fprintf(f, "\",[\"g1\",\"g%d\"],[],[[\"VAR\",\"%d\"],[\"X\",\"\"]]]", i % 3, i);
	}
	fputc(']', f);
	fclose(f);
	return buf;
}

static void feed_announced(const char *json, size_t len, unsigned long long announced, ls_row_cb cb, void *ctx,
			   int expect_fail, sd_error *err)
{
	struct lsjson_reader *r = lsjson_reader_new(cb, ctx);
	size_t at;
	int rc = 0;

	assert_non_null(r);
	if (announced)
		lsjson_reader_expect(r, announced);
	for (at = 0; at < len && rc == 0; at += 65536)
		rc = lsjson_reader_feed(r, json + at, len - at < 65536 ? len - at : 65536, err);
	if (rc == 0)
		rc = lsjson_reader_finish(r, err) < 0 ? -1 : 0;
	lsjson_reader_free(r);
	assert_int_equal(rc, expect_fail ? -1 : 0);
}

static void feed(const char *json, size_t len, ls_row_cb cb, void *ctx, int expect_fail, sd_error *err)
{
	feed_announced(json, len, 0, cb, ctx, expect_fail, err);
}

static void rec_open(struct rec *r, char tag)
{
	memset(r, 0, sizeof(*r));
	r->f = open_memstream(&r->buf, &r->len);
	r->tag = tag;
	assert_non_null(r->f);
}

/* got holds exactly the rows want holds (both closed). */
static void same_output(const struct rec *got, const struct rec *want)
{
	assert_int_equal(got->len, want->len);
	assert_memory_equal(got->buf, want->buf, want->len);
}

/* q0 small (handed on directly, before the thread starts), q1 large
 * (starts it part way), q2 after it (all through the thread). */
static void same_rows(void **state)
{
	size_t len0, len1, len2;
	char *q0 = reply(100, &len0), *q1 = reply(20000, &len1), *q2 = reply(3000, &len2);
	struct rec d0, d1, d2, p0, p1, p2;
	struct rowpipe *p;
	struct rowpipe_target t0, t1, t2;
	sd_error err = { "" };

	(void)state;
	rec_open(&d0, 'z');
	rec_open(&d1, 'a');
	rec_open(&d2, 'b');
	feed(q0, len0, row_cb, &d0, 0, &err);
	feed(q1, len1, row_cb, &d1, 0, &err);
	feed(q2, len2, row_cb, &d2, 0, &err);

	rec_open(&p0, 'z');
	rec_open(&p1, 'a');
	rec_open(&p2, 'b');
	assert_non_null(p = rowpipe_new());
	t0 = (struct rowpipe_target){ p, row_cb, &p0 };
	t1 = (struct rowpipe_target){ p, row_cb, &p1 };
	t2 = (struct rowpipe_target){ p, row_cb, &p2 };
	feed(q0, len0, rowpipe_push, &t0, 0, &err);
	assert_int_equal(p0.n, 100);            /* small: already through, no thread */
	assert_int_equal(p0.off_main, 0);
	feed(q1, len1, rowpipe_push, &t1, 0, &err);
	feed(q2, len2, rowpipe_push, &t2, 0, &err);
	assert_int_equal(rowpipe_finish(p, &err), 0);
	rowpipe_free(p);
	fclose(d0.f);
	fclose(p0.f);
	same_output(&p0, &d0);
	free(d0.buf);
	free(p0.buf);
	free(q0);

	fclose(d1.f);
	fclose(d2.f);
	fclose(p1.f);
	fclose(p2.f);
	assert_int_equal(p1.n, 20000);
	assert_int_equal(p2.n, 3000);
	assert_true(p1.off_main > 0 && p1.off_main < 20000);    /* started part way */
	assert_int_equal(p2.off_main, 3000);
	assert_true(d1.len > 8u << 20);         /* many batches, and rows over one */
	same_output(&p1, &d1);
	same_output(&p2, &d2);
	free(d1.buf);
	free(d2.buf);
	free(p1.buf);
	free(p2.buf);
	free(q1);
	free(q2);
}

/* q through a new pipe, its length announced as `announced`; r gets the
 * rows (closed). */
static void through_pipe(const char *q, size_t len, unsigned long long announced, struct rec *r)
{
	struct rowpipe *p;
	struct rowpipe_target t;
	sd_error err = { "" };

	rec_open(r, 'a');
	assert_non_null(p = rowpipe_new());
	t = (struct rowpipe_target){ p, row_cb, r };
	feed_announced(q, len, announced, rowpipe_push, &t, 0, &err);
	assert_int_equal(rowpipe_finish(p, &err), 0);
	rowpipe_free(p);
	fclose(r->f);
}

/* A reply whose header announces 2 MiB or more goes through the thread
 * from its first row, even a short one; announced small, it does not. */
static void announced_large(void **state)
{
	size_t len;
	char *q = reply(100, &len);
	struct rec d, a, s;
	sd_error err = { "" };

	(void)state;
	rec_open(&d, 'a');
	feed(q, len, row_cb, &d, 0, &err);
	fclose(d.f);
	through_pipe(q, len, 2u << 20, &a);
	through_pipe(q, len, (2u << 20) - 1, &s);
	assert_int_equal(a.n, 100);
	assert_int_equal(a.off_main, 100);
	assert_int_equal(s.n, 100);
	assert_int_equal(s.off_main, 0);
	same_output(&a, &d);
	same_output(&s, &d);
	free(d.buf);
	free(a.buf);
	free(s.buf);
	free(q);
}

/* The callback fails: the parser gets its error and stops. Also the parser
 * failing first (free without finish) stops the thread. */
static void callback_fails(void **state)
{
	size_t len;
	char *q = reply(20000, &len);
	struct rec r;
	struct rowpipe *p;
	struct rowpipe_target t;
	sd_error err = { "" };
	struct lsjson_reader *lr;
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {       /* before the thread starts, and after */
		char want[64];

		rec_open(&r, 'a');
		r.fail_at = k ? 15000 : 1000;
		assert_non_null(p = rowpipe_new());
		t = (struct rowpipe_target){ p, row_cb, &r };
		lr = lsjson_reader_new(rowpipe_push, &t);
		assert_non_null(lr);
		if (lsjson_reader_feed(lr, q, len, &err) == 0 && lsjson_reader_finish(lr, &err) >= 0)
			assert_int_equal(rowpipe_finish(p, &err), -1);
		snprintf(want, sizeof(want), "callback failed at row %d", r.fail_at);
		assert_string_equal(err.msg, want);
		lsjson_reader_free(lr);
		rowpipe_free(p);
		assert_int_equal(r.n, r.fail_at);       /* nothing after the failure */
		fclose(r.f);
		free(r.buf);
	}

	rec_open(&r, 'a');
	assert_non_null(p = rowpipe_new());
	t = (struct rowpipe_target){ p, row_cb, &r };
	feed(q, len / 2, rowpipe_push, &t, 1, &err);    /* truncated: the parser fails */
	rowpipe_free(p);
	fclose(r.f);
	free(r.buf);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_rows),
		cmocka_unit_test(announced_large),
		cmocka_unit_test(callback_fails),
	};

	main_thread = pthread_self();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
