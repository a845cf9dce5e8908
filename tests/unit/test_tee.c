/* Unit tests: the tee hands every record to every sink, a record one sink
 * skips still reaches the others and is reported once per skipping sink
 * with the record's label and the sink's name, a failure stops the pass,
 * and the counts are those of the records that went through. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "export/tee.h"

struct out {
	int objects, groups;
	const char *skip_host;  /* rc 1 for this host's records */
	const char *fail_host;  /* rc -1 */
};

static char reports[4][700];
static int nreports;

static void on_skip(void *ctx, const char *what, const char *why)
{
	(void)ctx;
	if (nreports < 4)
		snprintf(reports[nreports], sizeof(reports[0]), "%s | %s", what, why);
	nreports++;
}

static int o_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct out *s = ctx;

	if (s->fail_host && !strcmp(o->host_name, s->fail_host))
		return sd_fail(err, "disk full");
	if (s->skip_host && !strcmp(o->host_name, s->skip_host)) {
		sd_fail(err, "name has a ';'");
		return 1;
	}
	s->objects++;
	return 0;
}

static int o_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct out *s = ctx;

	(void)g;
	sd_fail(err, "no groups here");
	s->groups++;
	return 1;
}

static void setup_sinks(struct out st[2], struct sd_sink sk[2], struct sd_sink **tee)
{
	struct sd_sink *outs[2] = { &sk[0], &sk[1] };
	const char *names[2] = { "state.json", "nagios.cfg" };
	int i;

	memset(st, 0, 2 * sizeof(*st));
	memset(sk, 0, 2 * sizeof(*sk));
	for (i = 0; i < 2; i++) {
		sk[i].ctx = &st[i];
		sk[i].object = o_object;
	}
	sk[1].group = o_group;
	*tee = tee_new(outs, names, 2);
	assert_non_null(*tee);
	(*tee)->skipped = on_skip;
	nreports = 0;
}

static void skip_reported_with_label(void **state)
{
	struct out st[2];
	struct sd_sink sk[2], *tee;
	struct sd_object o;
	struct sd_group g = { .type = SD_SERVICE, .name = "web" };
	sd_error err = { "" };

	(void)state;
	setup_sinks(st, sk, &tee);
	st[1].skip_host = "a;b";
	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = "a;b";
	o.description = "ping";
	assert_int_equal(tee->object(tee->ctx, &o, &err), 0);
	o.host_name = "ok";
	assert_int_equal(tee->object(tee->ctx, &o, &err), 0);
	o.type = SD_HOST;
	assert_int_equal(tee->object(tee->ctx, &o, &err), 0);
	assert_int_equal(tee->group(tee->ctx, &g, &err), 0);
	assert_int_equal(st[0].objects, 3);
	assert_int_equal(st[1].objects, 2);
	assert_int_equal(st[1].groups, 1);
	assert_int_equal(nreports, 2);
	assert_string_equal(reports[0], "service 'a;b;ping' | not in nagios.cfg: name has a ';'");
	assert_string_equal(reports[1], "servicegroup 'web' | not in nagios.cfg: no groups here");
	assert_string_equal(err.msg, "");
	assert_int_equal(tee_counts(tee)->services, 2);
	assert_int_equal(tee_counts(tee)->hosts, 1);
	tee_free(tee);
}

static void failure_stops(void **state)
{
	struct out st[2];
	struct sd_sink sk[2], *tee;
	struct sd_object o;
	sd_error err = { "" };

	(void)state;
	setup_sinks(st, sk, &tee);
	st[0].fail_host = "h";
	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = "h";
	assert_int_equal(tee->object(tee->ctx, &o, &err), -1);
	assert_string_equal(err.msg, "disk full");
	assert_int_equal(st[1].objects, 0);
	assert_int_equal(nreports, 0);
	assert_int_equal(tee_counts(tee)->hosts, 0);
	tee_free(tee);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(skip_reported_with_label),
		cmocka_unit_test(failure_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
