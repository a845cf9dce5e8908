/* Unit tests: the REST API source's object reply reader (src/icinga2api/source_api.c),
 * with well-formed replies cut at every byte and hostile ones. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "icinga2api/source_api.h"

/* ---- a sink that writes every record as one line of text ----------------------------------- */

struct rec {
	char *text;
	size_t len;
	FILE *f;
	int fail_at;            /* the sink fails at this record (1-based; 0: never) */
	int n, skipped;
	char skipwhy[256];
};

static void list(FILE *f, const char *k, const struct sd_strlist *l)
{
	size_t i;

	fprintf(f, " %s=[", k);
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s%s", i ? "," : "", l->v[i]);
	fputc(']', f);
}

static int on_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct rec *r = ctx;
	size_t i;

	if (++r->n == r->fail_at)
		return sd_fail(err, "sink refused record %d", r->n);
	fprintf(r->f, "%s %s;%s st=%d/%d att=%d/%d chk=%d out=<%s> long=<%s> perf=<%s> lc=%.3f lsc=%lld lhs=%d "
		"flap=%d lat=%.3f ex=%.3f ct=%d ack=%d/%d alias=<%s> addr=<%s> cmd=<%s> ci=%.2f ri=%.2f notes=<%s|%s|%s|%s>",
		o->type == SD_HOST ? "host" : "service", o->host_name, o->description ? o->description : "-",
		o->state, o->state_type, o->current_attempt, o->max_check_attempts, o->has_been_checked,
		o->plugin_output, o->long_plugin_output, o->perf_data, o->last_check, o->last_state_change,
		o->last_hard_state, o->is_flapping, o->latency, o->execution_time, o->check_type, o->acknowledged,
		o->acknowledgement_type, o->alias, o->address, o->check_command, o->check_interval, o->retry_interval,
		o->notes, o->notes_url, o->action_url, o->icon_image);
	list(r->f, "groups", &o->groups);
	list(r->f, "parents", &o->parents);
	fputs(" vars={", r->f);
	for (i = 0; i < o->nvars; i++)
		fprintf(r->f, "%s%s=%s", i ? "," : "", o->vars[i].name, o->vars[i].value);
	fputs("}\n", r->f);
	return 0;
}

static int on_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct rec *r = ctx;

	r->n++;
	fprintf(r->f, "%sgroup %s <%s>\n", g->type == SD_HOST ? "host" : "service", g->name, g->alias);
	return 0;
}

static int on_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct rec *r = ctx;

	r->n++;
	fprintf(r->f, "comment %lld %s;%s type=%d <%s> <%s> pers=%d et=%lld\n", c->id, c->host_name,
		c->service_description ? c->service_description : "(null)", c->entry_type, c->author, c->comment,
		c->persistent, c->entry_time);
	return 0;
}

static int on_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct rec *r = ctx;

	r->n++;
	fprintf(r->f, "downtime %lld %s;%s %lld-%lld fixed=%d dur=%lld trig=%lld <%s> <%s> et=%lld\n", d->id,
		d->host_name, d->service_description ? d->service_description : "(null)", d->start_time, d->end_time,
		d->fixed, d->duration, d->triggered_by, d->author, d->comment, d->entry_time);
	return 0;
}

static void on_skipped(void *ctx, const char *what, const char *why)
{
	struct rec *r = ctx;

	r->skipped++;
	snprintf(r->skipwhy, sizeof(r->skipwhy), "%s: %s", what, why);
}

struct reply {
	enum api_query q;
	const char *json;
};

/* Feeds the replies in pieces of `step` bytes (0: whole); the records' text, or NULL on an
 * error (its message in err). */
static char *read_all(const struct reply *rp, size_t n, unsigned parts, size_t step, struct rec *r, sd_error *err)
{
	struct sd_sink sink = { .ctx = r, .group = on_group, .object = on_object, .downtime = on_downtime,
				.comment = on_comment, .skipped = on_skipped, .report_ctx = r };
	struct api_objreader *rd = api_objreader_new(parts, &sink);
	size_t i, off;
	int rc = 0;

	assert_non_null(rd);
	r->text = NULL;
	r->f = open_memstream(&r->text, &r->len);
	for (i = 0; i < n && rc == 0; i++) {
		size_t len = strlen(rp[i].json), k = step ? step : len;
		rc = api_objreader_begin(rd, rp[i].q, err);
		for (off = 0; off < len && rc == 0; off += k)
			rc = api_objreader_feed(rd, rp[i].json + off, len - off < k ? len - off : k, err);
		if (rc == 0 && api_objreader_end(rd, err) < 0)
			rc = -1;
	}
	api_objreader_free(rd);
	fclose(r->f);
	if (rc < 0) {
		free(r->text);
		return NULL;
	}
	return r->text;
}

/* ---- well-formed replies ------------------------------------------------------------------ */

static const struct reply site[] = {
	{ APIQ_HOSTGROUPS, "{\"results\":[{\"attrs\":{\"display_name\":\"Linux – ü\",\"name\":\"linux\"},"
			   "\"joins\":{},\"meta\":{},\"name\":\"linux\",\"type\":\"HostGroup\"}]}" },
	{ APIQ_DEPENDENCIES, "{\"results\":["
		"{\"attrs\":{\"child_host_name\":\"web\",\"child_service_name\":\"\",\"parent_host_name\":\"gw\","
		"\"parent_service_name\":\"\"},\"name\":\"web!d1\"},"
		"{\"attrs\":{\"child_host_name\":\"web\",\"child_service_name\":\"\",\"parent_host_name\":\"gw\","
		"\"parent_service_name\":\"\"},\"name\":\"web!d2\"},"
		"{\"attrs\":{\"child_host_name\":\"web\",\"child_service_name\":\"\",\"parent_host_name\":\"core\","
		"\"parent_service_name\":\"\"},\"name\":\"web!d3\"},"
		"{\"attrs\":{\"child_host_name\":\"web\",\"child_service_name\":\"http\",\"parent_host_name\":\"lb\","
		"\"parent_service_name\":\"\"},\"name\":\"web!http!d4\"},"
		"{\"attrs\":{\"child_host_name\":\"web\",\"child_service_name\":\"\",\"parent_host_name\":\"db\","
		"\"parent_service_name\":\"mysql\"},\"name\":\"web!d5\"}]}" },
	{ APIQ_HOSTS, "{\"results\":[{\"attrs\":{\"name\":\"web\",\"display_name\":\"Web\",\"address\":\"10.0.0.2\","
		"\"state\":1.0,\"state_type\":1.0,\"check_attempt\":1.0,\"max_check_attempts\":3.0,"
		"\"last_check_result\":{\"active\":false,\"output\":\"DOWN\\nline 2\\nline \\\"3\\\"\","
		"\"performance_data\":[\"rta=0.1ms;1;2\",{\"counter\":false,\"crit\":null,\"label\":\"a b\","
		"\"max\":100.0,\"min\":0.0,\"type\":\"PerfdataValue\",\"unit\":\"%\",\"value\":5.0,\"warn\":null}],"
		"\"schedule_start\":100.0,\"schedule_end\":103.5,\"execution_start\":101.0,\"execution_end\":102.25,"
		"\"vars_after\":{\"state\":1.0}},"
		"\"last_check\":1765000000.75,\"last_state_change\":1764999000.9,\"last_hard_state\":1.0,"
		"\"flapping\":false,\"enable_active_checks\":false,\"acknowledgement\":2.0,\"groups\":[\"linux\",\"dmz\"],"
		"\"check_command\":\"hostalive\",\"check_interval\":300.0,\"retry_interval\":90.0,\"notes\":\"n\","
		"\"notes_url\":\"https://n/\",\"action_url\":\"\",\"icon_image\":\"i.png\","
		"\"vars\":{\"os\":\"Linux\",\"rack\":42.0,\"t\":true,\"z\":null,\"l\":[1.0,\"x\",{\"a\":[]}],"
		"\"d\":{\"k\":\"v\\\"\",\"e\":{},\"n\":[[]]}},\"unknown\":{\"deep\":[[[1]]]}},"
		"\"joins\":{},\"meta\":{},\"name\":\"web\",\"type\":\"Host\"},"
		"{\"attrs\":{\"name\":\"new\",\"state\":1.0,\"last_check_result\":null,\"last_check\":-1.0,"
		"\"check_command\":\"\",\"groups\":[],\"vars\":null}}]}" },
	{ APIQ_SERVICES, "{\"results\":[{\"attrs\":{\"host_name\":\"web\",\"name\":\"semi;colon ü\",\"state\":2.0,"
		"\"last_check_result\":{\"output\":\"\\nonly long\",\"performance_data\":[],"
		"\"schedule_start\":10.0,\"schedule_end\":10.5,\"execution_start\":10.0,\"execution_end\":11.0}},"
		"\"name\":\"web!semi;colon ü\"}]}" },
	{ APIQ_COMMENTS, "{\"results\":[{\"attrs\":{\"legacy_id\":7.0,\"host_name\":\"web\",\"service_name\":\"\","
		"\"entry_type\":4.0,\"author\":\"al\",\"text\":\"on it\",\"persistent\":true,\"entry_time\":99.9}}]}" },
	{ APIQ_DOWNTIME_IDS, "{\"results\":[{\"attrs\":{\"legacy_id\":3.0},\"name\":\"web!uuid-a\"},"
		"{\"attrs\":{\"legacy_id\":4.0},\"name\":\"web!http!uuid-b\"}]}" },
	{ APIQ_DOWNTIMES, "{\"results\":[{\"attrs\":{\"legacy_id\":4.0,\"host_name\":\"web\",\"service_name\":\"http\","
		"\"start_time\":10.0,\"end_time\":20.0,\"fixed\":false,\"duration\":5.0,\"triggered_by\":\"web!uuid-a\","
		"\"author\":\"b\",\"comment\":\"c\",\"entry_time\":1.0}},"
		"{\"attrs\":{\"legacy_id\":5.0,\"host_name\":\"web\",\"triggered_by\":\"gone\"}}]}" },
};

static const char *site_text =
	"hostgroup linux <Linux – ü>\n"
	"host web;- st=1/1 att=1/3 chk=1 out=<DOWN> long=<line 2\nline \"3\"> perf=<rta=0.1ms;1;2 'a b'=5%;;;0;100> "
	"lc=1765000000.000 lsc=1764999000 lhs=1 flap=0 lat=2.250 ex=1.250 ct=1 ack=1/2 alias=<Web> addr=<10.0.0.2> "
	"cmd=<check_hostalive!> ci=5.00 ri=1.50 notes=<n|https://n/||i.png> groups=[linux,dmz] parents=[core,gw] "
	"vars={os=Linux,rack=42.0,t=true,z=null,l=[1.0,\"x\",{\"a\":[]}],d={\"k\":\"v\\\"\",\"e\":{},\"n\":[[]]}}\n"
	"host new;- st=1/0 att=0/0 chk=0 out=<> long=<> perf=<> lc=0.000 lsc=0 lhs=0 flap=0 lat=0.000 ex=0.000 ct=0 "
	"ack=0/0 alias=<> addr=<> cmd=<> ci=0.00 ri=0.00 notes=<|||> groups=[] parents=[] vars={}\n"
	"service web;semi;colon ü st=2/0 att=0/0 chk=1 out=<> long=<only long> perf=<> lc=0.000 lsc=0 lhs=0 flap=0 "
	"lat=0.000 ex=1.000 ct=0 ack=0/0 alias=<> addr=<> cmd=<> ci=0.00 ri=0.00 notes=<|||> groups=[] parents=[] vars={}\n"
	"comment 7 web;(null) type=4 <al> <on it> pers=1 et=99\n"
	"downtime 4 web;http 10-20 fixed=0 dur=5 trig=3 <b> <c> et=1\n"
	"downtime 5 web;(null) 0-0 fixed=0 dur=0 trig=0 <> <> et=0\n";

static void whole_site(void **state)
{
	struct rec r = { 0 };
	sd_error err = { "" };
	char *t = read_all(site, sizeof(site) / sizeof(site[0]), SD_PART_STATE | SD_PART_CONFIG, 0, &r, &err);

	if (!t)
		fail_msg("%s", err.msg);
	assert_string_equal(t, site_text);
	assert_int_equal(r.skipped, 0);
	free(t);
}

/* Every cut of every reply gives the same records. */
static void every_chunking(void **state)
{
	size_t step;

	for (step = 1; step < 40; step++) {
		struct rec r = { 0 };
		sd_error err = { "" };
		char *t = read_all(site, sizeof(site) / sizeof(site[0]), SD_PART_STATE | SD_PART_CONFIG, step, &r, &err);
		assert_non_null(t);
		assert_string_equal(t, site_text);
		free(t);
	}
}

static void bodies(void **state)
{
	char *b = api_query_body(APIQ_SERVICES, SD_PART_RESULT);

	assert_string_equal(b, "{\"attrs\":[\"host_name\",\"name\",\"state\",\"last_check_result\",\"last_check\"]}");
	free(b);
	b = api_query_body(APIQ_HOSTGROUPS, SD_PART_CONFIG);
	assert_string_equal(b, "{\"attrs\":[\"name\",\"display_name\"]}");
	free(b);
	assert_string_equal(api_query_type(APIQ_DOWNTIME_IDS), "downtimes");
}

/* ---- hostile replies ----------------------------------------------------------------------- */

static void fails(const char *json, enum api_query q, const char *want)
{
	struct reply rp = { q, json };
	struct rec r = { 0 };
	sd_error err = { "" };
	char *t = read_all(&rp, 1, SD_PART_STATE | SD_PART_CONFIG, 3, &r, &err);

	if (t)
		fail_msg("accepted %s: %s", json, t);
	if (!strstr(err.msg, want))
		fail_msg("%s: error '%s' lacks '%s'", json, err.msg, want);
}

static void hostile_shapes(void **state)
{
	fails("", APIQ_HOSTS, "truncated");
	fails("[]", APIQ_HOSTS, "not a JSON object");
	fails("\"x\"", APIQ_HOSTS, "not a JSON object");
	fails("{\"results\":{}}", APIQ_HOSTS, "\"results\" is not an array");
	fails("{\"results\":5}", APIQ_HOSTS, "\"results\" is not an array");
	fails("{\"results\":[1]}", APIQ_HOSTS, "a result is not an object");
	fails("{\"results\":[[]]}", APIQ_HOSTS, "a result is not an object");
	fails("{\"error\":404,\"status\":\"No objects found.\"}", APIQ_HOSTS, "no \"results\" array");
	fails("{\"results\":[{\"attrs\":{\"name\":\"h\"", APIQ_HOSTS, "truncated");
	fails("{\"results\":[]} x", APIQ_HOSTS, "hosts reply");
	fails("{\"results\":[{\"attrs\":{\"name\":\"h\",}}]}", APIQ_HOSTS, "hosts reply");
}

/* Wrong types, NUL bytes, huge numbers and deep nesting: records skipped or fields left
 * neutral, never a crash or a record with a cut name. */
static void hostile_values(void **state)
{
	struct reply rp[] = { { APIQ_HOSTS, "{\"results\":["
		"{\"attrs\":{\"name\":\"a\\u0000b\",\"state\":1}},"
		"{\"attrs\":{\"name\":\"\"}},"
		"{\"attrs\":{}},"
		"{\"attrs\":{\"name\":\"ok\",\"state\":\"x\",\"check_attempt\":1e999,\"last_check\":-1e300,"
		"\"last_state_change\":1e300,\"groups\":5,\"vars\":[1,2],\"last_check_result\":\"str\","
		"\"max_check_attempts\":" "123456789012345678901234567890123456789012345678901234567890123456789,"
		"\"notes\":[[[[[[[[[[]]]]]]]]]],"
		"\"address\":{\"x\":\"y\"},\"acknowledgement\":true}},"
		"{\"attrs\":{\"name\":\"v\",\"vars\":{\"n\":\"a\\u0000\",\"k\":{\"x\":\"\\u0000\"}}}},"
		"{\"name\":\"x\",\"attrs\":null},"
		"{\"attrs\":{\"name\":\"g\",\"groups\":[\"a\",1,null,{\"b\":1},[\"c\"],\"d\"],"
		"\"last_check_result\":{\"output\":5,\"performance_data\":\"p\"}}}"
		"]}" } };
	struct rec r = { 0 };
	sd_error err = { "" };
	char *t = read_all(rp, 1, SD_PART_STATE | SD_PART_CONFIG, 1, &r, &err);

	if (!t)
		fail_msg("%s", err.msg);
	assert_int_equal(r.skipped, 5);         /* the NUL name, "", no name, NUL in a variable, attrs null */
	assert_non_null(strstr(t, "host ok;- st=0/0 att=0/0 chk=0 out=<> long=<> perf=<> lc=0.000 lsc=0 "));
	assert_non_null(strstr(t, "ack=0/0 alias=<> addr=<> "));
	assert_non_null(strstr(t, "host g;- st=0/0 att=0/0 chk=1 out=<> "));
	assert_non_null(strstr(t, "groups=[a,d] "));
	assert_null(strstr(t, "host a"));
	assert_null(strstr(t, "host v"));
	free(t);
}

static void sink_error_stops(void **state)
{
	struct rec r = { .fail_at = 1 };
	sd_error err = { "" };
	char *t = read_all(site + 2, 1, SD_PART_STATE, 5, &r, &err);

	assert_null(t);
	assert_string_equal(err.msg, "sink refused record 1");
}

/* A feed without begin, and the reader reused after a failed reply. */
static void misuse_and_reuse(void **state)
{
	struct rec r = { 0 };
	struct sd_sink sink = { .ctx = &r, .object = on_object };
	struct api_objreader *rd = api_objreader_new(SD_PART_STATE, &sink);
	sd_error err = { "" };
	const char *good = "{\"results\":[{\"attrs\":{\"name\":\"h\"}}]}";

	r.f = open_memstream(&r.text, &r.len);
	assert_int_equal(api_objreader_feed(rd, "{", 1, &err), -1);
	assert_int_equal(api_objreader_begin(rd, APIQ_HOSTS, &err), 0);
	assert_int_equal(api_objreader_feed(rd, "{\"results\":[1,", 14, &err), -1);
	assert_int_equal(api_objreader_begin(rd, APIQ_HOSTS, &err), 0);
	assert_int_equal(api_objreader_feed(rd, good, strlen(good), &err), 0);
	assert_int_equal(api_objreader_end(rd, &err), 1);
	api_objreader_free(rd);
	api_objreader_free(NULL);
	fclose(r.f);
	assert_non_null(strstr(r.text, "host h;-"));
	free(r.text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(whole_site),
		cmocka_unit_test(every_chunking),
		cmocka_unit_test(bodies),
		cmocka_unit_test(hostile_shapes),
		cmocka_unit_test(hostile_values),
		cmocka_unit_test(sink_error_stops),
		cmocka_unit_test(misuse_and_reuse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
