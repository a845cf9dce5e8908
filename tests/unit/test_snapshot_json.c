/* Unit tests: snapshot JSON reader (docs/snapshot-schema.md), round trip
 * through the writer, chunked input, hostile documents. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <yajl/yajl_gen.h>
#include "base/sbuf.h"
#include "formats/snapshot_json.h"

/* ---- a sink that records every field of every record as text ---- */

struct rec {
	char *text;             /* every record, one canonical description each */
	size_t len, cap;
	int begins, ends, records;
	int fail_at, skip_at;   /* record number (1-based) to fail / skip */
	int skipped;
	char skip_what[256], skip_why[256];
	struct sd_meta meta;
	char site[64], source[128];
};

static void add(struct rec *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = r->cap - r->len;
		va_start(ap, fmt);
		n = vsnprintf(r->text ? r->text + r->len : NULL, r->text ? room : 0, fmt, ap);
		va_end(ap);
		assert_true(n >= 0);
		if (r->text && (size_t)n < room) {
			r->len += (size_t)n;
			return;
		}
		r->cap = (r->cap + (size_t)n + 1) * 2;
		r->text = realloc(r->text, r->cap);
		assert_non_null(r->text);
	}
}

static void add_str(struct rec *r, const char *k, const char *v)
{
	add(r, " %s=", k);
	if (!v)
		add(r, "(null)");
	else
		add(r, "[%zu:%s]", strlen(v), v);
}

static void add_list(struct rec *r, const char *k, const struct sd_strlist *l)
{
	size_t i;

	add(r, " %s=(", k);
	for (i = 0; i < l->n; i++)
		add_str(r, "", l->v[i]);
	add(r, ")");
}

static int step(struct rec *r, sd_error *err)
{
	r->records++;
	if (r->fail_at == r->records)
		return sd_fail(err, "sink says no");
	if (r->skip_at == r->records) {
		sd_fail(err, "not wanted");
		return 1;
	}
	return 0;
}

static int r_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct rec *r = ctx;

	r->begins++;
	r->meta = *m;
	snprintf(r->site, sizeof(r->site), "%s", m->site);
	snprintf(r->source, sizeof(r->source), "%s", m->source);
	return 0;
}

static int r_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct rec *r = ctx;

	add(r, "group type=%d", g->type);
	add_str(r, "name", g->name);
	add_str(r, "alias", g->alias);
	add(r, "\n");
	return step(r, err);
}

static void describe_object(struct rec *r, const struct sd_object *o, unsigned parts)
{
	size_t i;

	add(r, "object type=%d", o->type);
	add_str(r, "host_name", o->host_name);
	add_str(r, "description", o->description);
	if (parts & SD_PART_STATE) {
		add(r, " state=%d state_type=%d current_attempt=%d max_check_attempts=%d has_been_checked=%d",
		    o->state, o->state_type, o->current_attempt, o->max_check_attempts, o->has_been_checked);
		add_str(r, "plugin_output", o->plugin_output);
		add_str(r, "long_plugin_output", o->long_plugin_output);
		add_str(r, "perf_data", o->perf_data);
		add(r, " last_check=%.17g last_state_change=%lld last_hard_state=%d is_flapping=%d"
		    " latency=%.17g execution_time=%.17g check_type=%d acknowledged=%d acknowledgement_type=%d",
		    o->last_check, o->last_state_change, o->last_hard_state, o->is_flapping, o->latency,
		    o->execution_time, o->check_type, o->acknowledged, o->acknowledgement_type);
	}
	if (parts & SD_PART_CONFIG) {
		if (o->type == SD_HOST) {
			add_str(r, "alias", o->alias);
			add_str(r, "address", o->address);
			add_list(r, "parents", &o->parents);
		}
		add(r, " max=%d", o->max_check_attempts);
		add_list(r, "groups", &o->groups);
		add_list(r, "contacts", &o->contacts);
		add_list(r, "contact_groups", &o->contact_groups);
		add_str(r, "check_command", o->check_command);
		add(r, " check_interval=%.17g retry_interval=%.17g", o->check_interval, o->retry_interval);
		add_str(r, "notes", o->notes);
		add_str(r, "notes_url", o->notes_url);
		add_str(r, "action_url", o->action_url);
		add_str(r, "icon_image", o->icon_image);
		add(r, " vars=(");
		for (i = 0; i < o->nvars; i++) {
			add_str(r, "name", o->vars[i].name);
			add_str(r, "value", o->vars[i].value);
		}
		add(r, ")");
	}
	add(r, "\n");
}

static int r_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct rec *r = ctx;

	describe_object(r, o, SD_PART_STATE | SD_PART_CONFIG);
	return step(r, err);
}

static void describe_downtime(struct rec *r, const struct sd_downtime *d)
{
	add(r, "downtime id=%lld", d->id);
	add_str(r, "host_name", d->host_name);
	add_str(r, "service_description", d->service_description);
	add(r, " start=%lld end=%lld fixed=%d duration=%lld triggered_by=%lld", d->start_time, d->end_time,
	    d->fixed, d->duration, d->triggered_by);
	add_str(r, "author", d->author);
	add_str(r, "comment", d->comment);
	add(r, " entry_time=%lld\n", d->entry_time);
}

static int r_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	describe_downtime(ctx, d);
	return step(ctx, err);
}

static void describe_comment(struct rec *r, const struct sd_comment *c)
{
	add(r, "comment id=%lld", c->id);
	add_str(r, "host_name", c->host_name);
	add_str(r, "service_description", c->service_description);
	add(r, " entry_type=%d", c->entry_type);
	add_str(r, "author", c->author);
	add_str(r, "comment", c->comment);
	add(r, " persistent=%d entry_time=%lld\n", c->persistent, c->entry_time);
}

static int r_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	describe_comment(ctx, c);
	return step(ctx, err);
}

static int r_end(void *ctx, sd_error *err)
{
	((struct rec *)ctx)->ends++;
	return 0;
}

static void r_skipped(void *ctx, const char *what, const char *why)
{
	struct rec *r = ctx;

	r->skipped++;
	snprintf(r->skip_what, sizeof(r->skip_what), "%s", what);
	snprintf(r->skip_why, sizeof(r->skip_why), "%s", why);
}

static struct sd_sink rec_sink(struct rec *r)
{
	struct sd_sink s = {
		.ctx = r, .begin = r_begin, .group = r_group, .object = r_object, .downtime = r_downtime,
		.comment = r_comment, .end = r_end, .skipped = r_skipped, .report_ctx = r,
	};
	return s;
}

static void rec_free(struct rec *r)
{
	free(r->text);
	memset(r, 0, sizeof(*r));
}

/* Feed `len` bytes in chunks of `chunk`; returns finish's result or -1. */
static long read_doc(const char *doc, size_t len, size_t chunk, struct rec *r, sd_error *err)
{
	struct sd_sink s = rec_sink(r);
	struct snapshot_json_reader *rd = snapshot_json_reader_new(&s, "x.json", err);
	size_t off = 0;
	long rc = 0;

	assert_non_null(rd);
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;
		if (snapshot_json_reader_feed(rd, doc + off, n) < 0) {
			rc = -1;
			break;
		}
		off += n;
	}
	if (rc == 0)
		rc = snapshot_json_reader_finish(rd);
	snapshot_json_reader_free(rd);
	return rc;
}

/* ---- the records of the round trip ---- */

static char *hparents[] = { "gw 1", "r\xc3\xa4" "ck" };
static char *hgroups[] = { "linux", "web" };
static char *scontacts[] = { "alice", "b\"o\\b" };
static char *scgroups[] = { "admins" };
static struct sd_var hvars[] = { { "OS", "Linux" }, { "RACK", "B\xe2\x82\xac 7" }, { "JSON", "{\"a\":[1,2]}" } };

static void make_records(struct sd_object *h1, struct sd_object *h2, struct sd_object *s1,
			 struct sd_object *s2, struct sd_comment *c1, struct sd_comment *c2,
			 struct sd_downtime *d1, struct sd_downtime *d2, struct sd_group *g1, struct sd_group *g2)
{
	sd_object_clear(h1);
	h1->type = SD_HOST;
	h1->host_name = "web server 01";
	h1->state = 1;
	h1->state_type = 1;
	h1->current_attempt = 3;
	h1->max_check_attempts = 3;
	h1->has_been_checked = 1;
	h1->plugin_output = "PING CRITICAL - 100% packet loss";
	h1->long_plugin_output = "";
	h1->perf_data = "rta=0.000ms;100;200;0 pl=100%;20;60;0";
	h1->last_check = 1795288035.25;
	h1->last_state_change = 1795280000;
	h1->last_hard_state = 1;
	h1->is_flapping = 1;
	h1->latency = 0.001;
	h1->execution_time = 10.0625;
	h1->check_type = 1;
	h1->acknowledged = 1;
	h1->acknowledgement_type = 2;
	h1->alias = "Web server \"one\"";
	h1->address = "192.0.2.1";
	h1->parents.v = hparents;
	h1->parents.n = 2;
	h1->groups.v = hgroups;
	h1->groups.n = 2;
	h1->contacts.v = scontacts;
	h1->contacts.n = 2;
	h1->contact_groups.v = scgroups;
	h1->contact_groups.n = 1;
	h1->check_command = "check-host-alive!3000,80%!5000,100%";
	h1->check_interval = 5;
	h1->retry_interval = 0.5;
	h1->notes = "n";
	h1->notes_url = "https://example.org/?a=1&b=<2>";
	h1->action_url = "a";
	h1->icon_image = "i.png";
	h1->vars = hvars;
	h1->nvars = 3;

	sd_object_clear(h2);            /* never checked, defaults, h\u00e4st */
	h2->type = SD_HOST;
	h2->host_name = "h\xc3\xa4st-\xc3\xbc";

	sd_object_clear(s1);
	s1->type = SD_SERVICE;
	s1->host_name = "web server 01";
	s1->description = "disk /var \xe2\x82\xac";
	s1->state = 2;
	s1->state_type = 0;
	s1->current_attempt = 2;
	s1->max_check_attempts = 4;
	s1->has_been_checked = 1;
	s1->plugin_output = "CRIT - /var 99% | \"quoted\" \\ back\tslash";
	s1->long_plugin_output = "line 2 C:\\temp\nline 3 \xc3\xa4\xc3\xb6\r\n\nline 5 \\n literal\x01\x1f";
	s1->perf_data = "'/var'=99%;90;95;0;100";
	s1->last_check = 1795288035.123456;
	s1->last_state_change = 1795288000;
	s1->last_hard_state = 0;
	s1->latency = 0.25;
	s1->execution_time = 1e-6;
	s1->check_type = 0;
	s1->groups.v = hgroups;
	s1->groups.n = 1;
	s1->contacts.v = scontacts;
	s1->contacts.n = 2;
	s1->check_command = "check_disk!-w 10%";
	s1->check_interval = 1;
	s1->retry_interval = 1;
	s1->vars = hvars + 1;
	s1->nvars = 1;

	sd_object_clear(s2);
	s2->type = SD_SERVICE;
	s2->host_name = "h\xc3\xa4st-\xc3\xbc";
	s2->description = "x";
	s2->state = 3;
	s2->has_been_checked = 1;
	s2->last_check = 1;
	s2->max_check_attempts = 1000000;
	s2->current_attempt = 1000000;

	memset(c1, 0, sizeof(*c1));
	c1->id = 12;
	c1->host_name = "web server 01";
	c1->service_description = NULL;         /* host comment */
	c1->entry_type = 4;
	c1->author = "alice";
	c1->comment = "sticky; semi;colon = sign\nsecond line";
	c1->persistent = 1;
	c1->entry_time = 1795288035;
	memset(c2, 0, sizeof(*c2));
	c2->id = -3;
	c2->host_name = "web server 01";
	c2->service_description = "disk /var \xe2\x82\xac";
	c2->entry_type = 1;
	c2->author = "";
	c2->comment = "";
	c2->persistent = 0;
	c2->entry_time = 0;

	memset(d1, 0, sizeof(*d1));
	d1->id = 7;
	d1->host_name = "web server 01";
	d1->service_description = NULL;
	d1->start_time = 1795288000;
	d1->end_time = 1795291600;
	d1->fixed = 1;
	d1->duration = 3600;
	d1->triggered_by = 0;
	d1->author = "bob";
	d1->comment = "host dt";
	d1->entry_time = 1795287000;
	memset(d2, 0, sizeof(*d2));
	d2->id = 8;
	d2->host_name = "h\xc3\xa4st-\xc3\xbc";
	d2->service_description = "x";
	d2->start_time = 1;
	d2->end_time = 2;
	d2->fixed = 0;
	d2->duration = 600;
	d2->triggered_by = 7;
	d2->author = "b\xc3\xb6" "b";
	d2->comment = "flex\tdt";
	d2->entry_time = 5;

	memset(g1, 0, sizeof(*g1));
	g1->type = SD_HOST;
	g1->name = "linux";
	g1->alias = "Linux servers";
	memset(g2, 0, sizeof(*g2));
	g2->type = SD_SERVICE;
	g2->name = "disks";
	g2->alias = "";
}

/* the layout write_doc writes: 0 rows (version 1), 1 columns (version 2),
 * 2 column blocks (version 3) */
static int g_columns;

/* Writes the document with the writer; fills `expect` with what a reader
 * must report (the same records, in order). */
static char *write_doc(size_t *len, struct rec *expect, int downtimes_first)
{
	struct sd_object h1, h2, s1, s2;
	struct sd_comment c1, c2;
	struct sd_downtime d1, d2;
	struct sd_group g1, g2;
	struct writer_opts wo = { .parts = SD_PART_STATE | SD_PART_CONFIG, .json_columns = g_columns == 1,
				  .json_blocks = g_columns == 2 };
	struct sd_meta meta = { .site = "s\xc3\xaete", .source = "livestatus:unix:/run/live", .created = 1795288100,
				.parts = SD_PART_STATE | SD_PART_CONFIG };
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);
	struct sd_sink *w = snapshot_json_writer_new(f, &wo);
	sd_error err = { "" };

	assert_non_null(w);
	make_records(&h1, &h2, &s1, &s2, &c1, &c2, &d1, &d2, &g1, &g2);
	assert_int_equal(w->begin(w->ctx, &meta, &err), 0);
	assert_int_equal(w->group(w->ctx, &g1, &err), 0);
	assert_int_equal(w->group(w->ctx, &g2, &err), 0);
	assert_int_equal(w->object(w->ctx, &h1, &err), 0);
	assert_int_equal(w->object(w->ctx, &h2, &err), 0);
	assert_int_equal(w->object(w->ctx, &s1, &err), 0);
	assert_int_equal(w->object(w->ctx, &s2, &err), 0);
	if (downtimes_first) {
		assert_int_equal(w->downtime(w->ctx, &d1, &err), 0);
		assert_int_equal(w->downtime(w->ctx, &d2, &err), 0);
	}
	assert_int_equal(w->comment(w->ctx, &c1, &err), 0);
	assert_int_equal(w->comment(w->ctx, &c2, &err), 0);
	if (!downtimes_first) {
		assert_int_equal(w->downtime(w->ctx, &d1, &err), 0);
		assert_int_equal(w->downtime(w->ctx, &d2, &err), 0);
	}
	assert_int_equal(w->end(w->ctx, &err), 0);
	snapshot_json_writer_free(w);
	fclose(f);

	if (expect) {
		memset(expect, 0, sizeof(*expect));
		r_group(expect, &g1, &err);
		r_group(expect, &g2, &err);
		h1.description = h2.description = NULL;
		r_object(expect, &h1, &err);
		r_object(expect, &h2, &err);
		r_object(expect, &s1, &err);
		r_object(expect, &s2, &err);
		if (downtimes_first) {
			r_downtime(expect, &d1, &err);
			r_downtime(expect, &d2, &err);
		}
		r_comment(expect, &c1, &err);
		r_comment(expect, &c2, &err);
		if (!downtimes_first) {
			r_downtime(expect, &d1, &err);
			r_downtime(expect, &d2, &err);
		}
	}
	return buf;
}

/* write_doc in another layout (g_columns), which is 0 again after */
static char *write_doc_in(int layout, size_t *len, struct rec *expect, int downtimes_first)
{
	char *doc;

	g_columns = layout;
	doc = write_doc(len, expect, downtimes_first);
	g_columns = 0;
	return doc;
}

static void round_trip(void **state)
{
	int order;

	for (order = 0; order < 2; order++) {
		struct rec expect, got = { 0 };
		sd_error err = { "" };
		size_t len;
		char *doc = write_doc(&len, &expect, order);

		assert_int_equal(read_doc(doc, len, len, &got, &err), 10);
		assert_string_equal(err.msg, "");
		assert_int_equal(got.begins, 1);
		assert_int_equal(got.ends, 1);
		assert_int_equal(got.records, 10);
		assert_string_equal(got.text, expect.text);
		assert_string_equal(got.site, "s\xc3\xaete");
		assert_string_equal(got.source, "livestatus:unix:/run/live");
		assert_int_equal((long long)got.meta.created, 1795288100);
		assert_int_equal(got.meta.parts, SD_PART_STATE | SD_PART_CONFIG);
		/* a few fields by hand, in case the description hides something */
		assert_non_null(strstr(got.text, "long_plugin_output=[48:line 2 C:\\temp\nline 3 \xc3\xa4\xc3\xb6\r\n\nline 5 \\n literal\x01\x1f]"));
		assert_non_null(strstr(got.text, "comment id=12 host_name=[13:web server 01] service_description=(null) entry_type=4"));
		assert_non_null(strstr(got.text, "last_check=1795288035.123456"));
		rec_free(&expect);
		rec_free(&got);
		free(doc);
	}
}

static void one_byte_chunks(void **state)
{
	struct rec expect, whole = { 0 }, bytes = { 0 }, sevens = { 0 };
	sd_error err = { "" };
	size_t len;
	char *doc = write_doc(&len, &expect, 0);

	assert_int_equal(read_doc(doc, len, len, &whole, &err), 10);
	assert_int_equal(read_doc(doc, len, 1, &bytes, &err), 10);
	assert_int_equal(read_doc(doc, len, 7, &sevens, &err), 10);
	assert_string_equal(bytes.text, whole.text);
	assert_string_equal(sevens.text, whole.text);
	assert_string_equal(bytes.text, expect.text);
	assert_int_equal(bytes.ends, 1);
	rec_free(&expect);
	rec_free(&whole);
	rec_free(&bytes);
	rec_free(&sevens);
	free(doc);
}

static void read_fd(void **state)
{
	struct rec expect, got = { 0 };
	struct sd_sink s = rec_sink(&got);
	sd_error err = { "" };
	size_t len;
	char *doc = write_doc(&len, &expect, 1);
	FILE *f = tmpfile();

	assert_non_null(f);
	assert_int_equal(fwrite(doc, 1, len, f), len);
	fflush(f);
	assert_int_equal(lseek(fileno(f), 0, SEEK_SET), 0);
	assert_int_equal(snapshot_json_read_fd(fileno(f), "state.json", &s, &err), 10);
	assert_string_equal(got.text, expect.text);
	fclose(f);
	/* a bad fd: -1 and a message */
	err.msg[0] = 0;
	assert_int_equal(snapshot_json_read_fd(-1, "state.json", &s, &err), -1);
	assert_non_null(strstr(err.msg, "state.json"));
	rec_free(&expect);
	rec_free(&got);
	free(doc);
}

/* the sitediff fixtures: valid ones read, broken ones refused */
static void fixtures(void **state)
{
	static const char *const good[] = { "ref", "same", "ack-author", "never-checked", "config-only" };
	static const char *const bad[] = { "broken", "not-snapshot", "version4" };
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]) + sizeof(bad) / sizeof(bad[0]); i++) {
		int is_good = i < sizeof(good) / sizeof(good[0]);
		const char *n = is_good ? good[i] : bad[i - sizeof(good) / sizeof(good[0])];
		struct rec got = { 0 };
		struct sd_sink s = rec_sink(&got);
		sd_error err = { "" };
		FILE *f;
		long rc;

		snprintf(path, sizeof(path), "tests/data/sitediff/%s.json", n);
		if (!(f = fopen(path, "r")))
			skip();
		rc = snapshot_json_read_fd(fileno(f), n, &s, &err);
		fclose(f);
		if (is_good) {
			assert_true(rc >= 0);
			assert_int_equal(got.ends, 1);
		} else {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(err.msg, n));
		}
		rec_free(&got);
	}
}

/* ---- hostile input ---- */

#define HEAD "{\"format\":\"sitedump-snapshot\",\"version\":1,\"site\":\"s\",\"parts\":[\"state\",\"config\"],"

static void expect_fail(const char *doc, const char *needle)
{
	size_t chunks[] = { 0, 1, 3 };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct rec got = { 0 };
		sd_error err = { "" };
		size_t len = strlen(doc);
		long rc = read_doc(doc, len, chunks[i] ? chunks[i] : len + 1, &got, &err);

		if (rc != -1 || !strstr(err.msg, needle))
			print_message("doc: %s\nchunk %zu: rc %ld, message \"%s\", wanted \"%s\"\n", doc, chunks[i], rc,
				      err.msg, needle);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err.msg, needle));
		assert_non_null(strstr(err.msg, "x.json: byte "));
		assert_int_equal(got.ends, 0);
		rec_free(&got);
	}
}

static void hostile_values(void **state)
{
	char deep[400];
	int i;

	/* wrong types */
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state\":\"1\"}]}", "wrong type (string) for key state");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"plugin_output\":5}]}", "wrong type (number) for key plugin_output");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"has_been_checked\":1}]}", "wrong type (number) for key has_been_checked");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state\":true}]}", "wrong type (boolean) for key state");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"plugin_output\":null}]}", "null not allowed for key plugin_output");
	expect_fail(HEAD "\"hosts\":[{\"name\":5}]}", "wrong type (number) for key name");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"groups\":\"linux\"}]}", "wrong type (string) for key groups");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"groups\":[1]}]}", "unexpected number");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"groups\":{\"a\":\"b\"}}]}", "unexpected object");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"custom_variables\":[\"a\"]}]}", "unexpected array for key custom_variables");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"custom_variables\":{\"a\":1}}]}", "unexpected number");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"plugin_output\":[]}]}", "unexpected array for key plugin_output");
	expect_fail(HEAD "\"hosts\":[5]}", "unexpected number");
	expect_fail(HEAD "\"hosts\":[\"h\"]}", "unexpected string");
	expect_fail(HEAD "\"hosts\":[[]]}", "a record as an array without columns");
	/* out of range */
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state\":7}]}", "value out of range for key state");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state\":-1}]}", "value out of range for key state");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state\":1.5}]}", "value out of range for key state");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"last_check\":-1}]}", "value out of range for key last_check");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"state_type\":2}]}", "value out of range for key state_type");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"latency\":-0.5}]}", "value out of range for key latency");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"acknowledgement_type\":3}]}", "value out of range");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"current_attempt\":1e300}]}", "value out of range");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"last_state_change\":1e400}]}", "bad number");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"last_check\":1" "0000000000000000000000000000000000000000000000000000000000000000000}]}",
		    "number too long");
	expect_fail(HEAD "\"comments\":[{\"host_name\":\"h\",\"entry_type\":5}]}", "value out of range for key entry_type");
	expect_fail(HEAD "\"downtimes\":[{\"host_name\":\"h\",\"end_time\":-5}]}", "value out of range for key end_time");
	/* header */
	expect_fail("{\"version\":1,\"hosts\":[{\"name\":\"h\"}]}", "not a sitedump snapshot");
	expect_fail("{\"hosts\":[],\"format\":\"sitedump-snapshot\",\"version\":1}", "not a sitedump snapshot");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"hosts\":[]}", "unsupported snapshot version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"hosts\":[],\"version\":1}", "unsupported snapshot version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":4,\"hosts\":[]}", "unsupported snapshot version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":4}", "unsupported snapshot version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":0}", "snapshot version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":\"1\"}", "wrong type for top-level key version");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":1234567}", "snapshot version");
	expect_fail("{\"format\":\"livedump\",\"version\":1}", "not a sitedump snapshot");
	expect_fail("{}", "not a sitedump snapshot");
	expect_fail("[]", "unexpected array");
	expect_fail("\"x\"", "unexpected string");
	expect_fail("5", "unexpected number");
	/* NUL */
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"plugin_output\":\"a\\u0000b\"}]}", "NUL in a string of key plugin_output");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\\u0000x\"}]}", "NUL in a string of key name");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"groups\":[\"\\u0000\"]}]}", "NUL in a string");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"custom_variables\":{\"a\\u0000\":\"b\"}}]}", "NUL in a string");
	expect_fail("{\"format\":\"sitedump-snapshot\",\"version\":1,\"site\":\"a\\u0000\"}", "NUL in site");
	/* nesting */
	strcpy(deep, HEAD "\"hosts\":[{\"name\":\"h\",\"x\":");
	for (i = 0; i < 100; i++)
		strcat(deep, "[");
	expect_fail(deep, "nesting too deep");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"h\",\"custom_variables\":{\"a\":{\"b\":\"c\"}}}]}", "unexpected object");
	/* identity */
	expect_fail(HEAD "\"services\":[{\"host_name\":\"h\"}]}", "service without host_name or description");
	expect_fail(HEAD "\"services\":[{\"description\":\"s\"}]}", "service without host_name or description");
	expect_fail(HEAD "\"services\":[{\"host_name\":\"h\",\"service_description\":\"s\"}]}", "service without host_name or description");
	expect_fail(HEAD "\"services\":[{\"host_name\":\"h\",\"description\":\"\"}]}", "empty object name");
	expect_fail(HEAD "\"hosts\":[{\"name\":\"\"}]}", "empty object name");
	expect_fail(HEAD "\"hosts\":[{\"state\":0}]}", "host without a name");
	expect_fail(HEAD "\"hostgroups\":[{\"alias\":\"a\"}]}", "group without a name");
	expect_fail(HEAD "\"comments\":[{\"host_name\":\"h\"}]}", "comment without host_name or entry_type");
	expect_fail(HEAD "\"downtimes\":[{\"service_description\":\"s\"}]}", "downtime without host_name");
}

/* Every prefix of a valid document is refused, with a message. */
static void truncated_everywhere(void **state)
{
	struct rec expect;
	size_t len, cut;
	char *doc = write_doc(&len, &expect, 0);

	rec_free(&expect);
	for (cut = 0; cut < len - 1; cut++) {   /* the last byte is the writer's '\n' */
		struct rec got = { 0 };
		sd_error err = { "" };
		long rc = read_doc(doc, cut, cut ? cut : 1, &got, &err);

		if (rc != -1)
			print_message("cut at %zu accepted\n", cut);
		assert_int_equal(rc, -1);
		assert_non_null(strstr(err.msg, "x.json"));
		assert_int_equal(got.ends, 0);
		rec_free(&got);
	}
	free(doc);
}

/* The offset in a message is the document's, however the bytes arrive.
 * yajl_get_bytes_consumed() counts from the start of the current
 * yajl_parse() call, and snapshot_json.c uses it as is (rfail, sj_status):
 * with 64 KiB reads (snapshot_json_read_fd) or small chunks the byte named
 * is an offset into the last chunk, and a truncated document is always
 * reported at "byte 1" (the one-space buffer yajl_complete_parse parses). */
static void error_offset_is_document_offset(void **state)
{
	const char *doc = HEAD "\"hosts\":[{\"name\":\"h\",\"state\":7}]}";
	struct rec got = { 0 };
	sd_error whole = { "" }, bytes = { "" }, cut = { "" };
	char want[64];
	size_t len;
	char *full;

	assert_int_equal(read_doc(doc, strlen(doc), strlen(doc), &got, &whole), -1);
	assert_int_equal(read_doc(doc, strlen(doc), 1, &got, &bytes), -1);
	print_message("  whole: %s\n  1-byte chunks: %s\n", whole.msg, bytes.msg);
	full = write_doc(&len, NULL, 0);
	assert_int_equal(read_doc(full, 500, 500, &got, &cut), -1);
	print_message("  cut at 500: %s", cut.msg);
	rec_free(&got);
	free(full);
	assert_string_equal(bytes.msg, whole.msg);
	snprintf(want, sizeof(want), "byte 500");
	assert_non_null(strstr(cut.msg, want));
}

/* yajl's own messages end in '\n' (yajl_get_error); snapshot_json.c copies
 * them into err unchanged (sj_status), so err holds two lines where the
 * header promises one (livestatus_json.c strips it). */
static void parse_error_message_one_line(void **state)
{
	const char *docs[] = {
		HEAD "\"hosts\":[{\"name\":\"h\",\"state\":1]}",
		HEAD "\"hosts\":[{\"name\":\"h\"",
		HEAD "\"hosts\":[]} trailing",
		"{\"format\":\"sitedump-snapshot\",\"version\":1,\"hosts\":[{\"name\":\"\xff\"}]}",
		"",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rec got = { 0 };
		sd_error err = { "" };

		assert_int_equal(read_doc(docs[i], strlen(docs[i]), strlen(docs[i]) + 1, &got, &err), -1);
		assert_non_null(strstr(err.msg, "x.json: byte "));
		if (strchr(err.msg, '\n')) {
			bad++;
			print_message("  line break in: \"%.*s\\n\"\n", (int)strcspn(err.msg, "\n"), err.msg);
		}
		rec_free(&got);
	}
	assert_int_equal(bad, 0);
}

static void unknown_scalar_keys_ignored(void **state)
{
	const char *doc = "{\"zzz\":1,\"format\":\"sitedump-snapshot\",\"future\":\"x\",\"version\":1,\"flag\":true,"
			  "\"nothing\":null,\"parts\":[\"state\",\"weird\"],"
			  "\"hosts\":[{\"name\":\"h\",\"new_key\":\"v\",\"n2\":3.5,\"n3\":false,\"n4\":null,"
			  "\"n5\":[1,\"a\",true,null],\"n6\":{\"a\":1,\"b\":\"c\"},\"state\":1,\"n7\":[]}],"
			  "\"services\":[{\"host_name\":\"h\",\"description\":\"s\",\"extra\":{}}],"
			  "\"comments\":[{\"host_name\":\"h\",\"entry_type\":1,\"expires\":false,\"expire_time\":0}],"
			  "\"downtimes\":[{\"host_name\":\"h\",\"is_in_effect\":true,\"type\":1}]}";
	struct rec got = { 0 };
	sd_error err = { "" };

	assert_int_equal(read_doc(doc, strlen(doc), strlen(doc), &got, &err), 4);
	assert_int_equal(got.meta.parts, SD_PART_STATE);
	assert_non_null(strstr(got.text, "object type=0 host_name=[1:h] description=(null) state=1 "));
	rec_free(&got);
	memset(&got, 0, sizeof(got));
	assert_int_equal(read_doc(doc, strlen(doc), 1, &got, &err), 4);
	rec_free(&got);
}

/* Unknown keys whose values are objects or arrays (top level), or nested
 * two deep (in a record), are refused although the reader means to ignore
 * unknown keys ("unknown key: ignored (forward compatible)"): sj_start_map
 * and sj_start_array accept containers only where they expect sections and
 * records, and sj_number/sj_string at depth 2 fail outside "parts". */
static void unknown_structured_keys_ignored(void **state)
{
	const char *docs[] = {
		HEAD "\"stats\":{\"took\":1.5},\"hosts\":[{\"name\":\"h\"}]}",
		HEAD "\"tags\":[\"a\",\"b\"],\"hosts\":[{\"name\":\"h\"}]}",
		HEAD "\"hosts\":[{\"name\":\"h\",\"future\":{\"a\":[1]}}]}",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rec got = { 0 };
		sd_error err = { "" };
		long rc = read_doc(docs[i], strlen(docs[i]), strlen(docs[i]), &got, &err);
		if (rc != 1) {
			bad++;
			print_message("  refused: %s\n    -> %s\n", docs[i], err.msg);
		}
		rec_free(&got);
	}
	assert_int_equal(bad, 0);
}

/* A section that is not an array is a wrong type, not an empty section:
 * sj_number/sj_string/sj_bool/sj_null at depth 1 ignore any key but
 * version/created/format/site/source, so "hosts": 5 reads as no hosts. */
static void section_wrong_type(void **state)
{
	const char *docs[] = {
		HEAD "\"hosts\":5}",
		HEAD "\"services\":\"web\"}",
		HEAD "\"comments\":null}",
		HEAD "\"parts\":\"state\"}",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rec got = { 0 };
		sd_error err = { "" };
		long rc = read_doc(docs[i], strlen(docs[i]), strlen(docs[i]), &got, &err);
		if (rc != -1) {
			bad++;
			print_message("  accepted (%ld records): %s\n", rc, docs[i]);
		}
		rec_free(&got);
	}
	assert_int_equal(bad, 0);
}

/* "version" is an integer and a reader MUST refuse a version it does not
 * know; sj_number takes it with atoi(), so 1.9 (or 1e5) reads as 1. */
static void version_must_be_exactly_1(void **state)
{
	const char *docs[] = {
		"{\"format\":\"sitedump-snapshot\",\"version\":1.9,\"hosts\":[]}",
		"{\"format\":\"sitedump-snapshot\",\"version\":1e5,\"hosts\":[]}",
	};
	size_t i;
	int bad = 0;

	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct rec got = { 0 };
		sd_error err = { "" };
		long rc = read_doc(docs[i], strlen(docs[i]), strlen(docs[i]), &got, &err);
		if (rc != -1) {
			bad++;
			print_message("  accepted: %s\n", docs[i]);
		}
		rec_free(&got);
	}
	assert_int_equal(bad, 0);
}

/* sj_number (formats/snapshot_json.c) reads "version" with atoi(s), but
 * yajl's number text is not NUL-terminated: atoi runs on past the token.
 * JSON ends a number at a leading "0", so in "version":01 the token is "0"
 * (a bad version) but atoi reads "01" and takes 1; at the end of a buffer
 * (the 32 bytes {"site":"live","version":0897645) it reads past it. */
static void version_token_only(void **state)
{
	const char *doc = "{\"format\":\"sitedump-snapshot\",\"version\":01,\"hosts\":[]}";
	struct rec got = { 0 };
	sd_error err = { "" };

	assert_int_equal(read_doc(doc, strlen(doc), strlen(doc), &got, &err), -1);
	print_message("  %s\n", err.msg);
	assert_non_null(strstr(err.msg, "version"));
	rec_free(&got);
}

static void sink_fails(void **state)
{
	struct rec expect, got = { 0 };
	sd_error err = { "" };
	size_t len;
	char *doc = write_doc(&len, &expect, 0);
	size_t chunk;

	rec_free(&expect);
	for (chunk = 1; chunk <= len; chunk = chunk * 3 + 1) {
		memset(&got, 0, sizeof(got));
		got.fail_at = 4;
		err.msg[0] = 0;
		assert_int_equal(read_doc(doc, len, chunk, &got, &err), -1);
		assert_string_equal(err.msg, "sink says no");   /* passed through as is */
		assert_int_equal(got.records, 4);
		assert_int_equal(got.ends, 0);
		rec_free(&got);
	}
	free(doc);
}

static void sink_skips(void **state)
{
	struct rec expect, got = { 0 };
	sd_error err = { "" };
	size_t len;
	char *doc = write_doc(&len, &expect, 0);

	rec_free(&expect);
	got.skip_at = 5;        /* s1, the first service */
	assert_true(read_doc(doc, len, 5, &got, &err) >= 0);
	assert_int_equal(got.records, 10);
	assert_int_equal(got.skipped, 1);
	assert_string_equal(got.skip_what, "service 'web server 01;disk /var \xe2\x82\xac'");
	assert_string_equal(got.skip_why, "not wanted");
	assert_string_equal(err.msg, "");
	assert_int_equal(got.ends, 1);
	rec_free(&got);
	free(doc);
}

/* ---- version 2: records as arrays under "columns" ---- */

static void columns_layout(void **state)
{
	struct rec er, ec, gr = { 0 }, gc = { 0 };
	sd_error err = { "" };
	size_t lr, lc;
	char *rows, *cols;

	rows = write_doc_in(0, &lr, &er, 0);
	cols = write_doc_in(1, &lc, &ec, 0);
	assert_non_null(strstr(rows, "\"version\":1,"));
	assert_null(strstr(rows, "\"columns\""));
	assert_non_null(strstr(cols, "\"version\":2,"));
	assert_non_null(strstr(cols, "\"columns\":{\"hostgroups\":[\"name\",\"alias\"],"));
	assert_non_null(strstr(cols, "\"services\":[\"host_name\",\"description\",\"state\","));
	assert_null(strstr(cols, "\"plugin_output\":"));       /* no keys in the records */
	assert_true(lc < lr);
	/* both read to the same records, whole and byte by byte */
	assert_int_equal(read_doc(rows, lr, lr, &gr, &err), 10);
	assert_int_equal(read_doc(cols, lc, 1, &gc, &err), 10);
	assert_string_equal(gc.text, gr.text);
	assert_string_equal(gc.text, ec.text);
	rec_free(&er);
	rec_free(&ec);
	rec_free(&gr);
	rec_free(&gc);
	free(rows);
	free(cols);
}

static void columns_truncated_everywhere(void **state)
{
	g_columns = 1;
	truncated_everywhere(state);
	g_columns = 0;
}

#define HEAD2 "{\"format\":\"sitedump-snapshot\",\"version\":2,\"site\":\"s\",\"parts\":[\"state\"],"
#define COLS2 "\"columns\":{\"hosts\":[\"name\",\"state\",\"groups\",\"custom_variables\"]},"

static void columns_hostile(void **state)
{
	struct rec got = { 0 };
	sd_error err = { "" };
	const char *ok = HEAD2 "\"columns\":{\"hosts\":[\"name\",\"later_key\",\"state\"],\"later_section\":[\"x\"]},"
			 "\"hosts\":[[\"h\",{\"a\":[1,{}]},2]]}";

	/* unknown columns and sections of a later minor version: skipped */
	assert_int_equal(read_doc(ok, strlen(ok), 3, &got, &err), 1);
	assert_non_null(strstr(got.text, "host_name=[1:h]"));
	assert_non_null(strstr(got.text, "state=2"));
	rec_free(&got);

	expect_fail(HEAD2 "\"hosts\":[[\"h\",0]]}", "a record as an array without columns for hosts");
	expect_fail(HEAD "\"hosts\":[[\"h\",0]]}", "a record as an array without columns for hosts");
	expect_fail(HEAD COLS2 "\"hosts\":[]}", "columns need snapshot version 2");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",0,[],{},1]]}", "more values than columns in hosts");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",0]]}", "fewer values than columns in hosts");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",\"0\",[],{}]]}", "wrong type (string) for key state");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",0,{},{}]]}", "unexpected object");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",0,[],[]]]}", "unexpected array for key custom_variables");
	expect_fail(HEAD2 COLS2 "\"hosts\":[[\"h\",0,[],{}],{\"name\":\"x\",\"state\":9}]}", "out of range for key state");
	expect_fail(HEAD2 "\"columns\":{\"hosts\":[\"name\"],\"hosts\":[\"name\"]},\"hosts\":[]}", "columns given twice for hosts");
	expect_fail(HEAD2 "\"columns\":{\"hosts\":[1]},\"hosts\":[]}", "bad columns");
	expect_fail(HEAD2 "\"columns\":{\"hosts\":[[\"name\"]]},\"hosts\":[]}", "bad columns");
	expect_fail(HEAD2 "\"columns\":{\"hosts\":{}},\"hosts\":[]}", "bad columns");
	expect_fail(HEAD2 "\"columns\":{\"hosts\":\"name\"},\"hosts\":[]}", "bad columns");
	expect_fail(HEAD2 "\"columns\":[],\"hosts\":[]}", "wrong type for top-level key columns");
	expect_fail(HEAD2 "\"hosts\":[{\"name\":\"a\"}],\"columns\":{\"hosts\":[\"name\"]},\"services\":[]}",
		    "columns after the first section");
	expect_fail(HEAD2 "\"columns\":7,\"hosts\":[]}", "wrong type for top-level key columns");
	{
		/* more than MAX_COLUMNS names for one section */
		char doc[4096];
		int i, n = snprintf(doc, sizeof(doc), "%s\"columns\":{\"hosts\":[", HEAD2);
		for (i = 0; i < 70; i++)
			n += snprintf(doc + n, sizeof(doc) - (size_t)n, "%s\"name\"", i ? "," : "");
		snprintf(doc + n, sizeof(doc) - (size_t)n, "]},\"hosts\":[]}");
		expect_fail(doc, "too many columns for hosts");
	}
}

/* ---- version 3: column blocks ---- */

static void blocks_layout(void **state)
{
	struct rec er, eb, gr = { 0 }, gb = { 0 };
	sd_error err = { "" };
	size_t lr, lb;
	char *rows, *blocks;

	rows = write_doc_in(0, &lr, &er, 0);
	blocks = write_doc_in(2, &lb, &eb, 1);
	assert_non_null(strstr(blocks, "\"version\":3,"));
	assert_non_null(strstr(blocks, "\"columns\":{\"hostgroups\":[\"name\",\"alias\"],"));
	/* one block per section, each a list of columns: the two hosts' names, then
	 * their states, ...; lists and custom variables nested in their column */
	assert_non_null(strstr(blocks, "\"hostgroups\":[[[\"linux\"],[\"Linux servers\"]]]"));
	assert_non_null(strstr(blocks, "\"hosts\":[[[\"web server 01\",\"h\xc3\xa4st-\xc3\xbc\"],["));
	assert_non_null(strstr(blocks, "[{\"OS\":\"Linux\",\"RACK\":\"B\xe2\x82\xac 7\",\"JSON\":\"{\\\"a\\\":[1,2]}\"},{}]]]"));
	assert_null(strstr(blocks, "\"plugin_output\":"));
	/* the same records as the rows, whole and byte by byte */
	assert_int_equal(read_doc(rows, lr, lr, &gr, &err), 10);
	assert_int_equal(read_doc(blocks, lb, 1, &gb, &err), 10);
	assert_string_equal(gb.text, eb.text);
	rec_free(&gb);
	assert_int_equal(read_doc(blocks, lb, lb, &gb, &err), 10);
	assert_string_equal(gb.text, eb.text);
	rec_free(&er);
	rec_free(&eb);
	rec_free(&gr);
	rec_free(&gb);
	free(rows);
	free(blocks);
}

static void blocks_truncated_everywhere(void **state)
{
	g_columns = 2;
	truncated_everywhere(state);
	g_columns = 0;
}

/* n services in the given layout; every `big`-th has a 300 KB output, so
 * blocks end by bytes as well as by rows. */
static char *write_many(int layout, int n, int big, size_t *len)
{
	struct writer_opts wo = { .parts = SD_PART_STATE, .json_columns = layout == 1, .json_blocks = layout == 2 };
	struct sd_meta meta = { .site = "s", .source = "x", .created = 1, .parts = SD_PART_STATE };
	char *buf = NULL, host[32], desc[32], out[64], *huge = malloc(300001);
	FILE *f = open_memstream(&buf, len);
	struct sd_sink *w = snapshot_json_writer_new(f, &wo);
	sd_error err = { "" };
	struct sd_object o;
	int i;

	assert_non_null(w);
	assert_non_null(huge);
	memset(huge, 'x', 300000);
	huge[300000] = 0;
	assert_int_equal(w->begin(w->ctx, &meta, &err), 0);
	for (i = 0; i < n; i++) {
		sd_object_clear(&o);
		o.type = SD_SERVICE;
		snprintf(host, sizeof(host), "h%d", i / 25);
		snprintf(desc, sizeof(desc), "svc %d", i);
		snprintf(out, sizeof(out), "OK - %d", i * 7);
		o.host_name = host;
		o.description = desc;
		o.state = i % 4;
		o.has_been_checked = i % 3 != 0;
		o.plugin_output = big && i % big == 0 ? huge : out;
		o.last_check = 1795288000 + i;
		o.latency = i * 0.001;
		assert_int_equal(w->object(w->ctx, &o, &err), 0);
	}
	assert_int_equal(w->end(w->ctx, &err), 0);
	snapshot_json_writer_free(w);
	fclose(f);
	free(huge);
	return buf;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	while ((hay = strstr(hay, needle))) {
		n++;
		hay++;
	}
	return n;
}

static void blocks_many(void **state)
{
	/* 20000 records: blocks of 8192, 8192, 3616; with big outputs every
	 * 100th, blocks end at 2 MiB of values instead */
	static const int cases[][3] = { { 20000, 0, 3 }, { 3000, 100, 0 }, { 8192, 0, 1 }, { 8193, 0, 2 } };
	size_t k;

	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct rec gr = { 0 }, gb = { 0 };
		sd_error err = { "" };
		size_t lr, lb;
		char *rows = write_many(0, cases[k][0], cases[k][1], &lr);
		char *blocks = write_many(2, cases[k][0], cases[k][1], &lb);
		size_t nblocks = count(blocks, "[[\"h");       /* a block's first column, the host names */

		if (cases[k][2])
			assert_int_equal(nblocks, cases[k][2]);
		else
			assert_true(nblocks > 3 && nblocks < 10);      /* 2 MiB of 300 KB values each */
		assert_int_equal(read_doc(rows, lr, lr, &gr, &err), cases[k][0]);
		assert_int_equal(read_doc(blocks, lb, 65536, &gb, &err), cases[k][0]);
		assert_string_equal(err.msg, "");
		assert_true(gb.len == gr.len && memcmp(gb.text, gr.text, gr.len) == 0);
		rec_free(&gr);
		rec_free(&gb);
		free(rows);
		free(blocks);
	}
}

#define HEAD3 "{\"format\":\"sitedump-snapshot\",\"version\":3,\"site\":\"s\",\"parts\":[\"state\"],"

static void blocks_hostile(void **state)
{
	struct rec got = { 0 };
	sd_error err = { "" };
	const char *ok = HEAD3 "\"columns\":{\"hosts\":[\"name\",\"later_key\",\"state\"],\"later_section\":[\"x\"]},"
			 "\"hosts\":[[[\"h\",\"i\"],[{\"a\":[1,{}]},[[]]],[2,3]],[[],[],[]],[[\"j\"],[null],[1]]]}";
	char deep[512];
	char *huge;
	size_t n;
	int i;

	/* unknown columns skipped, whatever their values; an empty block */
	assert_int_equal(read_doc(ok, strlen(ok), 3, &got, &err), 3);
	assert_non_null(strstr(got.text, "host_name=[1:h]"));
	assert_non_null(strstr(got.text, "host_name=[1:j]"));
	assert_non_null(strstr(got.text, "state=3"));
	rec_free(&got);

	expect_fail(HEAD3 "\"hosts\":[[[\"h\"],[0]]]}", "a block without columns for hosts");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[\"h\",0,[],{}]]}", "a block holds column arrays, not values");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[{}]]}", "a block holds column arrays, not objects");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[0],[[]],[{}],[1]]]}", "block with more columns than columns in hosts");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[0],[[]]]]}", "block with fewer columns than columns in hosts");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\",\"i\"],[0],[[],[]],[{},{}]]]}", "columns of unequal length in a block of hosts");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[\"0\"],[[]],[{}]]]}", "wrong type (string) for key state");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[9],[[]],[{}]]]}", "value out of range for key state");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[0],[{}],[{}]]]}", "unexpected object");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[0],[[]],[[]]]]}", "unexpected array for key custom_variables");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"\"],[0],[[]],[{}]]]}", "empty object name");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\\u0000\"],[0],[[]],[{}]]]}", "NUL in a string of key name");
	expect_fail(HEAD3 COLS2 "\"hosts\":[[[\"h\"],[0],[[]],[{}]],7]}", "unexpected number");
	/* a version 2 document with blocks: its "records" start with an array */
	expect_fail(HEAD2 COLS2 "\"hosts\":[[[\"h\"],[0],[[]],[{}]]]}", "unexpected array for key name");
	/* nesting inside a value is bounded */
	n = (size_t)snprintf(deep, sizeof(deep), "%s%s\"hosts\":[[[\"h\"],[0],[", HEAD3, COLS2);
	for (i = 0; i < 40; i++)
		deep[n++] = '[';
	deep[n] = 0;
	expect_fail(deep, "nesting too deep");
	/* a block larger than a reader holds (256 MiB): 10M empty lists are
	 * 30 MB of JSON but two events and an index entry each */
	{
		const size_t nv = 10u << 20;
		size_t i2;

		n = (size_t)snprintf(NULL, 0, "%s\"columns\":{\"hosts\":[\"name\"]},\"hosts\":[[[", HEAD3);
		huge = malloc(n + 3 * nv + 16);
		assert_non_null(huge);
		snprintf(huge, n + 1, "%s\"columns\":{\"hosts\":[\"name\"]},\"hosts\":[[[", HEAD3);
		for (i2 = 0; i2 < nv; i2++)
			memcpy(huge + n + 3 * i2, "[],", 3);
		strcpy(huge + n + 3 * nv - 1, "]]]}");
		err.msg[0] = 0;
		assert_int_equal(read_doc(huge, strlen(huge), 1 << 20, &got, &err), -1);
		assert_non_null(strstr(err.msg, "block too large in hosts"));
		assert_int_equal(got.records, 0);
		rec_free(&got);
		free(huge);
	}
	/* version 3 sections hold blocks only; one version per document */
	expect_fail(HEAD3 "\"hosts\":[{\"name\":\"h\"}]}", "a block holds column arrays, not objects");
	expect_fail(HEAD3 "\"columns\":{\"hosts\":[\"name\"]},\"hosts\":[[[\"a\"]],{\"name\":\"h\"}]}",
		    "a block holds column arrays, not objects");
	expect_fail(HEAD3 "\"version\":2,\"hosts\":[]}", "version given twice");
	expect_fail(HEAD2 "\"version\":3,\"hosts\":[]}", "version given twice");
	/* a block whose strings are all empty (no bytes on the tape) */
	{
		const char *empty = HEAD3 "\"columns\":{\"downtimes\":[\"host_name\",\"comment\"]},"
				    "\"downtimes\":[[[\"\",\"\"],[\"\",\"\"]]]}";

		assert_int_equal(read_doc(empty, strlen(empty), 7, &got, &err), 2);
		rec_free(&got);
	}
}

/* A custom variable's name that is not UTF-8 is repaired like a value, so
 * the document stays JSON that reads back (in every layout). */
static void var_name_repaired(void **state)
{
	static struct sd_var bad[] = { { "R\xff" "CK", "B\xfe" } };
	struct writer_opts wo = { .parts = SD_PART_CONFIG };
	struct sd_meta meta = { .site = "s", .source = "x", .created = 1, .parts = SD_PART_CONFIG };
	int layout;

	for (layout = 0; layout < 3; layout++) {
		char *buf = NULL;
		size_t len;
		FILE *f = open_memstream(&buf, &len);
		struct sd_sink *w;
		struct sd_object o;
		struct rec got = { 0 };
		sd_error err = { "" };

		wo.json_columns = layout == 1;
		wo.json_blocks = layout == 2;
		w = snapshot_json_writer_new(f, &wo);
		assert_non_null(w);
		sd_object_clear(&o);
		o.type = SD_HOST;
		o.host_name = "h";
		o.vars = bad;
		o.nvars = 1;
		assert_int_equal(w->begin(w->ctx, &meta, &err), 0);
		assert_int_equal(w->object(w->ctx, &o, &err), 0);
		assert_int_equal(w->end(w->ctx, &err), 0);
		snapshot_json_writer_free(w);
		fclose(f);
		assert_non_null(strstr(buf, "{\"R\xef\xbf\xbd" "CK\":\"B\xef\xbf\xbd\"}"));
		assert_int_equal(read_doc(buf, len, len, &got, &err), 1);
		rec_free(&got);
		free(buf);
	}
}

static int begin_fails(void *ctx, const struct sd_meta *m, sd_error *err)
{
	return sd_fail(err, "no begin");
}

/* The writer's string escaping must equal yajl_gen's, which wrote the
 * snapshot before it: every single byte value, and random strings. */
static void yajl_same(const char *s, size_t n)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	struct sbuf b = { 0 };
	const unsigned char *want;
	size_t wlen;

	assert_non_null(g);
	assert_int_equal(yajl_gen_string(g, (const unsigned char *)s, n), yajl_gen_status_ok);
	assert_int_equal(yajl_gen_get_buf(g, &want, &wlen), yajl_gen_status_ok);
	sbuf_put_json_string(&b, s, n);
	assert_false(b.oom);
	assert_int_equal(b.len, wlen);
	assert_memory_equal(b.p, want, wlen);
	sbuf_free(&b);
	yajl_gen_free(g);
}

static void string_escapes_as_yajl(void **state)
{
	char s[300];
	int c, i, k;
	unsigned seed = 12345;

	(void)state;
	yajl_same("", 0);
	for (c = 1; c < 256; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		yajl_same(s + 1, 1);
		yajl_same(s, 3);
	}
	for (k = 0; k < 2000; k++) {
		int n = (int)(rand_r(&seed) % sizeof(s));
		for (i = 0; i < n; i++) {
			c = (int)(rand_r(&seed) % 256);
			s[i] = (char)(c ? c : ' ');
		}
		yajl_same(s, (size_t)n);
	}
}

static void begin_and_end(void **state)
{
	struct rec got = { 0 };
	struct sd_sink s = rec_sink(&got);
	struct snapshot_json_reader *rd;
	sd_error err = { "" };
	const char *doc = "{\"format\":\"sitedump-snapshot\",\"version\":1}";

	/* no sections at all: begin and end still called, 0 records */
	assert_int_equal(read_doc(doc, strlen(doc), 4, &got, &err), 0);
	assert_int_equal(got.begins, 1);
	assert_int_equal(got.ends, 1);
	rec_free(&got);
	/* a begin that fails stops the reader */
	memset(&got, 0, sizeof(got));
	s = rec_sink(&got);
	s.begin = begin_fails;
	rd = snapshot_json_reader_new(&s, "x.json", &err);
	doc = HEAD "\"hosts\":[{\"name\":\"h\"}]}";
	assert_int_equal(snapshot_json_reader_feed(rd, doc, strlen(doc)), -1);
	assert_string_equal(err.msg, "no begin");
	assert_int_equal(snapshot_json_reader_feed(rd, "x", 1), -1);   /* stays failed */
	assert_int_equal(snapshot_json_reader_finish(rd), -1);
	assert_int_equal(got.records, 0);
	snapshot_json_reader_free(rd);
	snapshot_json_reader_free(NULL);
	/* all callbacks NULL: records still counted */
	memset(&s, 0, sizeof(s));
	rd = snapshot_json_reader_new(&s, NULL, &err);
	assert_int_equal(snapshot_json_reader_feed(rd, doc, strlen(doc)), 0);
	assert_int_equal(snapshot_json_reader_finish(rd), 1);
	snapshot_json_reader_free(rd);
	rec_free(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(one_byte_chunks),
		cmocka_unit_test(read_fd),
		cmocka_unit_test(fixtures),
		cmocka_unit_test(hostile_values),
		cmocka_unit_test(truncated_everywhere),
		cmocka_unit_test(unknown_scalar_keys_ignored),
		cmocka_unit_test(sink_fails),
		cmocka_unit_test(sink_skips),
		cmocka_unit_test(begin_and_end),
		cmocka_unit_test(string_escapes_as_yajl),
		cmocka_unit_test(error_offset_is_document_offset),
		cmocka_unit_test(parse_error_message_one_line),
		cmocka_unit_test(unknown_structured_keys_ignored),
		cmocka_unit_test(section_wrong_type),
		cmocka_unit_test(version_must_be_exactly_1),
		cmocka_unit_test(version_token_only),
		cmocka_unit_test(columns_layout),
		cmocka_unit_test(columns_truncated_everywhere),
		cmocka_unit_test(columns_hostile),
		cmocka_unit_test(blocks_layout),
		cmocka_unit_test(blocks_truncated_everywhere),
		cmocka_unit_test(blocks_many),
		cmocka_unit_test(blocks_hostile),
		cmocka_unit_test(var_name_repaired),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
