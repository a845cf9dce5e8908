/* Unit tests: Icinga 2 API action bodies and the action reply reader (hostile input). */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/icinga2_api.h"

/* ---- writer ------------------------------------------------------------------------------ */

static void check_result_service(void **state)
{
	const char *perf[] = { "time=0.5s;1;2", "'a b'=3" };
	struct ia_target t = { .host = "web 1", .service = "http \"s\"" };
	struct ia_check_result cr = {
		.exit_status = 2, .output = "CRIT \\ x\nlong\t2\x01", .perf = perf, .n_perf = 2,
		.start = 1765000000.25, .end = 1765000001.75, .check_source = "site-a",
	};
	sd_error err = { "" };
	char *b = ia_process_check_result(&t, &cr, &err);

	assert_non_null(b);
	assert_string_equal(b, "{\"type\":\"Service\",\"service\":\"web 1!http \\\"s\\\"\",\"exit_status\":2,"
			    "\"plugin_output\":\"CRIT \\\\ x\\nlong\\t2\\u0001\","
			    "\"performance_data\":[\"time=0.5s;1;2\",\"'a b'=3\"],"
			    "\"execution_start\":1765000000.25,\"execution_end\":1765000001.75,"
			    "\"check_source\":\"site-a\"}");
	free(b);
}

static void check_result_host_minimal(void **state)
{
	struct ia_target t = { .host = "h" };
	struct ia_check_result cr = { .exit_status = 1, .output = "DOWN", .start = NAN, .end = -1 };
	sd_error err = { "" };
	char *b = ia_process_check_result(&t, &cr, &err);

	/* no perf data, a NaN or negative time and no source are left out, not sent as junk */
	assert_string_equal(b, "{\"type\":\"Host\",\"host\":\"h\",\"exit_status\":1,\"plugin_output\":\"DOWN\"}");
	free(b);
}

static void other_actions(void **state)
{
	struct ia_target svc = { .host = "h", .service = "s" }, byname = { .name = "h!s!c-1" };
	struct ia_target filt = { .filter = "match(\"web*\", host.name)", .filter_type = "Host" };
	struct ia_ack a = { .author = "me", .comment = "on it", .expiry = 1800000000, .sticky = 1, .notify = 0, .persistent = 1 };
	struct ia_comment c = { .author = "me", .comment = "note" };
	struct ia_downtime d = { .author = "me", .comment = "maint", .start = 10, .end = 20, .duration = 5, .fixed = 0,
				 .trigger_name = "h!t" };
	sd_error err = { "" };
	char *b;

	b = ia_acknowledge_problem(&svc, &a, &err);
	assert_string_equal(b, "{\"type\":\"Service\",\"service\":\"h!s\",\"author\":\"me\",\"comment\":\"on it\","
			    "\"expiry\":1800000000,\"sticky\":true,\"notify\":false,\"persistent\":true}");
	free(b);
	b = ia_remove_acknowledgement(&filt, &err);
	assert_string_equal(b, "{\"type\":\"Host\",\"filter\":\"match(\\\"web*\\\", host.name)\"}");
	free(b);
	b = ia_add_comment(&svc, &c, &err);
	assert_string_equal(b, "{\"type\":\"Service\",\"service\":\"h!s\",\"author\":\"me\",\"comment\":\"note\"}");
	free(b);
	b = ia_remove_comment(&byname, &err);
	assert_string_equal(b, "{\"comment\":\"h!s!c-1\"}");
	free(b);
	b = ia_remove_comment(&svc, &err);     /* every comment of the object */
	assert_string_equal(b, "{\"type\":\"Service\",\"service\":\"h!s\"}");
	free(b);
	b = ia_schedule_downtime(&svc, &d, &err);
	assert_string_equal(b, "{\"type\":\"Service\",\"service\":\"h!s\",\"author\":\"me\",\"comment\":\"maint\","
			    "\"start_time\":10,\"end_time\":20,\"fixed\":false,\"duration\":5,\"trigger_name\":\"h!t\"}");
	free(b);
	d.fixed = 1;
	d.trigger_name = NULL;
	b = ia_schedule_downtime(&svc, &d, &err);
	assert_null(strstr(b, "duration"));
	free(b);
	byname.name = "h!s!d-1";
	b = ia_remove_downtime(&byname, &err);
	assert_string_equal(b, "{\"downtime\":\"h!s!d-1\"}");
	free(b);
}

static void writer_refuses(void **state)
{
	struct ia_check_result cr = { .output = "x" };
	struct ia_target none = { 0 }, bang = { .host = "a!b", .service = "s" }, latin = { .host = "caf\xe9" };
	struct ia_target name_only = { .name = "n" }, bad_name = { .name = "\xff" };
	sd_error err = { "" };

	assert_null(ia_process_check_result(&none, &cr, &err));
	assert_non_null(strstr(err.msg, "no target"));
	/* a '!' in the host name would name another service */
	assert_null(ia_process_check_result(&bang, &cr, &err));
	assert_non_null(strstr(err.msg, "'!'"));
	/* a name is never repaired: U+FFFD would name another object */
	assert_null(ia_process_check_result(&latin, &cr, &err));
	assert_non_null(strstr(err.msg, "not UTF-8"));
	/* a name target is only for the removals */
	assert_null(ia_process_check_result(&name_only, &cr, &err));
	assert_null(ia_remove_downtime(&bad_name, &err));
}

static void writer_repairs_text(void **state)
{
	struct ia_target t = { .host = "h" };
	const char *perf[] = { "a=\xff" };
	struct ia_check_result cr = { .output = "caf\xe9 \xc3", .perf = perf, .n_perf = 1 };
	sd_error err = { "" };
	char *b = ia_process_check_result(&t, &cr, &err);

	assert_non_null(b);
	assert_non_null(strstr(b, "\"plugin_output\":\"caf\xef\xbf\xbd \xef\xbf\xbd\""));
	assert_non_null(strstr(b, "[\"a=\xef\xbf\xbd\"]"));
	free(b);
}

/* ---- reader ------------------------------------------------------------------------------ */

struct seen {
	int n, codes[8];
	char status[8][64], name[8][64];
	int stop_at;
};

static int on_result(void *ctx, const struct ia_result *r, sd_error *err)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->codes[s->n] = r->code;
		snprintf(s->status[s->n], 64, "%s", r->status ? r->status : "(null)");
		snprintf(s->name[s->n], 64, "%s", r->name ? r->name : "(null)");
	}
	s->n++;
	if (s->stop_at && s->n == s->stop_at)
		return sd_fail(err, "stopped by the callback");
	return 0;
}

/* feed in pieces of `chunk` bytes */
static long read_chunked(const char *t, size_t chunk, struct seen *s, sd_error *err)
{
	struct ia_reader *r = ia_reader_new(on_result, s);
	size_t off, len = strlen(t);
	long rc = 0;

	assert_non_null(r);
	for (off = 0; off < len && rc == 0; off += chunk)
		rc = ia_reader_feed(r, t + off, len - off < chunk ? len - off : chunk, err);
	if (rc == 0)
		rc = ia_reader_finish(r, err);
	ia_reader_free(r);
	return rc;
}

static void results(void **state)
{
	const char *t = "{\"results\":[{\"code\":200.0,\"status\":\"Successfully processed check result for object 'h!s'.\"},"
			"{\"legacy_id\":7,\"name\":\"h!s!abc\",\"code\":200,\"status\":\"Successfully added comment\",\"x\":{\"a\":[1,{}]}},"
			"{\"code\":409,\"status\":\"Object is not in a problem state.\"}],\"extra\":[[[]]]}";
	size_t chunk;

	/* the same in any split, down to a byte at a time */
	for (chunk = 1; chunk <= strlen(t); chunk = chunk < 8 ? chunk + 1 : chunk * 3) {
		struct seen s = { 0 };
		sd_error err = { "" };

		assert_int_equal(read_chunked(t, chunk, &s, &err), 3);
		assert_int_equal(s.n, 3);
		assert_int_equal(s.codes[0], 200);
		assert_string_equal(s.status[0], "Successfully processed check result for object 'h!s'.");
		assert_string_equal(s.name[0], "(null)");
		assert_string_equal(s.name[1], "h!s!abc");
		assert_int_equal(s.codes[2], 409);
	}
}

static void error_reply(void **state)
{
	struct seen s = { 0 };
	sd_error err = { "" };

	assert_int_equal(read_chunked("{\"error\":404,\"status\":\"No objects\\nfound.\"}", 5, &s, &err), -1);
	/* one line: the control character is not carried into the message */
	assert_string_equal(err.msg, "icinga2 api reply: error 404: No objects found.");
	assert_int_equal(s.n, 0);
	assert_int_equal(read_chunked("{\"results\":[]}", 3, &s, &err), 0);
}

static void hostile(void **state)
{
	static const struct { const char *text, *why; } bad[] = {
		{ "", "truncated" },
		{ "[]", "not a JSON object" },
		{ "\"results\"", "not a JSON object" },
		{ "{}", "neither results nor an error" },
		{ "{\"results\":{}}", "\"results\" is not an array" },
		{ "{\"results\":\"x\"}", "\"results\" is not an array" },
		{ "{\"results\":[1]}", "a result is not an object" },
		{ "{\"results\":[[]]}", "a result is not an object" },
		{ "{\"results\":[{\"status\":\"x\"}]}", "a result without a code" },
		{ "{\"results\":[{\"code\":\"200\"}]}", "a result's code is not a number" },
		{ "{\"results\":[{\"code\":[200]}]}", "a result's code is not a number" },
		{ "{\"results\":[{\"code\":200.5}]}", "not an HTTP status" },
		{ "{\"results\":[{\"code\":-1}]}", "not an HTTP status" },
		{ "{\"results\":[{\"code\":1e300}]}", "not an HTTP status" },
		{ "{\"results\":[{\"code\":100000000000000000000000000000000000000000000000000000000000000000000}]}",
		  "not an HTTP status" },
		{ "{\"results\":[{\"code\":200}", "truncated" },
		{ "{\"results\":[{\"code\":200}]} x", "" },
		{ "{\"results\":[{\"code\":200,}]}", "" },
	};
	char deep[400];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct seen s = { 0 };
		sd_error err = { "" };

		if (read_chunked(bad[i].text, 2, &s, &err) != -1 || !strstr(err.msg, bad[i].why))
			fail_msg("input %zu (%s): %s", i, bad[i].text, err.msg);
		assert_true(strncmp(err.msg, "icinga2 api reply: ", 19) == 0);
	}
	/* nesting past jscan's depth inside a skipped value: refused, not a stack overflow */
	memset(deep, '[', sizeof(deep));
	memcpy(deep, "{\"x\":", 5);
	deep[sizeof(deep) - 1] = '\0';
	{
		struct seen s = { 0 };
		sd_error err = { "" };

		assert_int_equal(read_chunked(deep, 64, &s, &err), -1);
	}
}

static void callback_stops_and_nul(void **state)
{
	const char *t = "{\"results\":[{\"code\":200,\"status\":\"a\\u0000b\"},{\"code\":200},{\"code\":200}]}";
	struct seen s = { .stop_at = 2 };
	sd_error err = { "" };

	assert_int_equal(ia_read_results(t, strlen(t), on_result, &s, &err), -1);
	assert_string_equal(err.msg, "stopped by the callback");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.status[0], "a");   /* a NUL ends the C string */
	/* after a stop every feed fails the same way */
	{
		struct ia_reader *r = ia_reader_new(on_result, &s);

		s.n = 0;
		s.stop_at = 1;
		assert_int_equal(ia_reader_feed(r, t, strlen(t), &err), -1);
		assert_int_equal(ia_reader_feed(r, "{", 1, &err), -1);
		assert_int_equal(ia_reader_finish(r, &err), -1);
		ia_reader_free(r);
	}
	ia_reader_free(NULL);
	/* a NUL byte after the reply is text after it: refused */
	assert_int_equal(ia_read_results("{\"results\":[]}", 15, NULL, NULL, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_result_service),
		cmocka_unit_test(check_result_host_minimal),
		cmocka_unit_test(other_actions),
		cmocka_unit_test(writer_refuses),
		cmocka_unit_test(writer_repairs_text),
		cmocka_unit_test(results),
		cmocka_unit_test(error_reply),
		cmocka_unit_test(hostile),
		cmocka_unit_test(callback_stops_and_nul),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
