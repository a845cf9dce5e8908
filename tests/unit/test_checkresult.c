/* Unit tests: Nagios checkresult writer and output encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/checkresult.h"
#include "base/sbuf.h"
#include "tests/support/readers.h"

static void encode(void **state)
{
	int alt;
	char *s;

	s = checkresult_encode_output("CRIT first", "a=1;2;3 b=2s", "second C:\\temp\nthird", &alt);
	assert_string_equal(s, "CRIT first|a=1;2;3 b=2s\\nsecond C:\\\\temp\\nthird");
	assert_int_equal(alt, 0);
	free(s);
	s = checkresult_encode_output("ends in \\", "", "", &alt);
	assert_string_equal(s, "ends in \\\\");      /* even count: no line continuation */
	free(s);
	s = checkresult_encode_output("a | b", "", "x|y", &alt);
	assert_string_equal(s, "a \xc2\xa6 b\\nx\xc2\xa6y");
	assert_int_equal(alt, 1);
	free(s);
	s = checkresult_encode_output("OK", "", "", &alt);
	assert_string_equal(s, "OK");
	free(s);
}

static char *run(struct sd_object *o, int *rc)
{
	struct writer_opts wo = { .prefix = "r1-", .now = 1795000000 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct sd_sink *s = checkresult_writer_new(f, &wo);
	sd_error err = { "" };

	*rc = s->object(s->ctx, o, &err);
	assert_int_equal(s->end(s->ctx, &err), 0);
	checkresult_writer_free(s);
	fclose(f);
	return buf;
}

static void records(void **state)
{
	struct sd_object o;
	char *out;
	int rc;

	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = "web server 01";
	o.description = "disk /var";
	o.has_been_checked = 1;
	o.state = 2;
	o.plugin_output = "CRIT";
	o.last_check = 1794999000.25;
	o.execution_time = 1.5;
	o.latency = 0.125;
	out = run(&o, &rc);
	assert_int_equal(rc, 0);
	assert_string_equal(out,
		"### sitedump check results ###\nfile_time=1795000000\n\n"
		"host_name=r1-web server 01\nservice_description=disk /var\ncheck_type=1\n"
		"check_options=0\nscheduled_check=0\nreschedule_check=0\nlatency=0.125\n"
		"start_time=1794999000.250000\nfinish_time=1794999001.750000\nearly_timeout=0\n"
		"exited_ok=1\nreturn_code=2\noutput=CRIT\n\n");
	free(out);

	o.plugin_output = "";            /* empty output stays empty on Nagios */
	out = run(&o, &rc);
	assert_non_null(strstr(out, "\noutput= \n\n"));
	free(out);
}

static void never_checked_and_hostile_names(void **state)
{
	struct sd_object o;
	char *out;
	int rc;

	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = "pending";
	o.state = 1;                    /* Icinga reports DOWN for never-checked hosts */
	out = run(&o, &rc);
	assert_int_equal(rc, 0);
	assert_null(strstr(out, "host_name="));
	free(out);

	o.has_been_checked = 1;
	o.host_name = "evil\nreturn_code=0";
	out = run(&o, &rc);
	assert_int_equal(rc, 1);
	assert_null(strstr(out, "evil"));
	free(out);
}


/* ---- reader ---- */

struct got {
	int n, skipped;
	char host[64], svc[64], out[256];
	int rc;
	double start, finish;
};

static int got_cb(void *ctx, const struct cr_record *r, sd_error *err)
{
	struct got *g = ctx;

	g->n++;
	snprintf(g->host, sizeof(g->host), "%s", r->host_name);
	snprintf(g->svc, sizeof(g->svc), "%s", r->service_description ? r->service_description : "(host)");
	snprintf(g->out, sizeof(g->out), "%s", r->output);
	g->rc = r->return_code;
	g->start = r->start_time;
	g->finish = r->finish_time;
	return 0;
}

static void got_skip(void *ctx, long line, const char *why)
{
	((struct got *)ctx)->skipped++;
}

static long read_text(const char *text, struct got *g, long long *ft, sd_error *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	long n;

	memset(g, 0, sizeof(*g));
	n = checkresult_read(f, "t", ft, got_cb, got_skip, g, err);
	fclose(f);
	return n;
}

static void reader_round_trip(void **state)
{
	struct sd_object o;
	struct got g;
	long long ft;
	sd_error err = { "" };
	int rc;
	char *text, *po, *pd, *lo;

	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = "web 01";
	o.description = "http";
	o.has_been_checked = 1;
	o.state = 2;
	o.plugin_output = "CRIT first";
	o.perf_data = "a=1;2;3";
	o.long_plugin_output = "second C:\\temp\nthird ends in \\";
	o.last_check = 1795000100.5;
	o.execution_time = 1.25;
	text = run(&o, &rc);
	assert_int_equal(read_text(text, &g, &ft, &err), 1);
	assert_int_equal(ft, 1795000000);
	assert_string_equal(g.host, "r1-web 01");
	assert_string_equal(g.svc, "http");
	assert_int_equal(g.rc, 2);
	assert_true(g.start > 1795000100.4 && g.start < 1795000100.6);
	assert_true(g.finish - g.start > 1.2 && g.finish - g.start < 1.3);
	assert_int_equal(checkresult_decode_output(g.out, &po, &pd, &lo), 0);
	assert_string_equal(po, "CRIT first");
	assert_string_equal(pd, "a=1;2;3");
	assert_string_equal(lo, "second C:\\temp\nthird ends in \\");
	free(po);
	free(pd);
	free(lo);
	free(text);
}

static void reader_nagios_rules(void **state)
{
	struct got g;
	long long ft;
	sd_error err = { "" };

	/* a record without output or host_name is skipped; comments and lines
	 * without '=' are ignored; the blank line ends a record */
	assert_int_equal(read_text("file_time=5\n\n# c\nhost_name=h\nreturn_code=1\n\nhost_name=h2\nnoequals\noutput=x\n", &g, &ft, &err), 1);
	assert_int_equal(g.skipped, 1);
	assert_string_equal(g.host, "h2");
	assert_string_equal(g.svc, "(host)");
	/* one trailing backslash swallows the next line (the writer's hazard) */
	assert_int_equal(read_text("host_name=h\noutput=ends with \\\n   return_code=2\n", &g, &ft, &err), 1);
	assert_string_equal(g.out, "ends with return_code=2");
	assert_int_equal(g.rc, 0);
	/* an escaped backslash at the end does not */
	assert_int_equal(read_text("host_name=h\noutput=ok \\\\\nreturn_code=2\n", &g, &ft, &err), 1);
	assert_int_equal(g.rc, 2);
	/* a bare integer start_time reads as 0 (Nagios needs SEC.USEC) */
	assert_int_equal(read_text("host_name=h\noutput=o\nstart_time=17\n", &g, &ft, &err), 1);
	assert_true(g.start == 0);
}

static void reader_hostile(void **state)
{
	struct got g;
	long long ft;
	sd_error err = { "" };
	char nul[] = "host_name=h\0x\noutput=o\n";
	FILE *f = fmemopen(nul, sizeof(nul) - 1, "r");
	char *big;

	memset(&g, 0, sizeof(g));
	assert_int_equal(checkresult_read(f, "t", &ft, got_cb, got_skip, &g, &err), -1);
	assert_non_null(strstr(err.msg, "t:1: NUL"));
	fclose(f);
	big = malloc((1 << 20) + 64);
	memcpy(big, "output=", 7);
	memset(big + 7, 'a', (1 << 20) + 10);
	big[(1 << 20) + 17] = '\n';
	big[(1 << 20) + 18] = 0;
	assert_int_equal(read_text(big, &g, &ft, &err), -1);
	assert_non_null(strstr(err.msg, "longer than"));
	free(big);
	assert_int_equal(read_text("", &g, &ft, &err), 0);
	assert_int_equal(read_text("\\", &g, &ft, &err), 0);
}

/* The record head siteload's spool and the export share: exact text. */
static void record_head(void **state)
{
	struct sbuf b = { 0 };

	(void)state;
	checkresult_put_head(&b, "r1-", "web", "http", 0.1234, 1795000000, 0.5, 2);
	sbuf_putc(&b, 0);
	assert_string_equal(b.p, "host_name=r1-web\nservice_description=http\ncheck_type=1\ncheck_options=0\n"
				 "scheduled_check=0\nreschedule_check=0\nlatency=0.123\nstart_time=1795000000.000000\n"
				 "finish_time=1795000000.500000\nearly_timeout=0\nexited_ok=1\nreturn_code=2\noutput=");
	b.len = 0;
	/* host result; no execution time: finish = start; negatives clamp to 0; rc out of range: 3 */
	checkresult_put_head(&b, "", "gw", NULL, -1, 1795000000.25, 0, -1);
	sbuf_putc(&b, 0);
	assert_string_equal(b.p, "host_name=gw\ncheck_type=1\ncheck_options=0\nscheduled_check=0\nreschedule_check=0\n"
				 "latency=0.000\nstart_time=1795000000.250000\nfinish_time=1795000000.250000\n"
				 "early_timeout=0\nexited_ok=1\nreturn_code=3\noutput=");
	b.len = 0;
	checkresult_put_file_header(&b, 1795000001);
	sbuf_putc(&b, 0);
	assert_string_equal(b.p, "### sitedump check results ###\nfile_time=1795000001\n\n");
	free(b.p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode),
		cmocka_unit_test(reader_round_trip),
		cmocka_unit_test(reader_nagios_rules),
		cmocka_unit_test(reader_hostile),
		cmocka_unit_test(records),
		cmocka_unit_test(never_checked_and_hostile_names),
		cmocka_unit_test(record_head),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
