/* Unit tests: Nagios checkresult writer and output encoding. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "checkresult.h"

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode),
		cmocka_unit_test(records),
		cmocka_unit_test(never_checked_and_hostile_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
