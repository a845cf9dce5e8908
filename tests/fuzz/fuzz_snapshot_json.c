/* libFuzzer target: snapshot JSON reader. The input is read three ways (in
 * one piece, split at a point taken from the data, and byte by byte when
 * short); the sink touches every field of every record and folds them into
 * a checksum, and all three readings must agree on the result, the records
 * and the checksum. A failed reading must leave a message.
 *
 * FUZZ_SNAPSHOT_SKIP_KNOWN=1 in the environment feeds the input from a copy
 * with a NUL after it, which hides the known read past the end of the
 * buffer by atoi() in sj_number ("version":0 followed by digits at the very
 * end of the input), so that a long run can look for anything else. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "formats/snapshot_json.h"

struct acc {
	uint64_t h;
	long n;
};

static void mix(struct acc *a, const void *p, size_t len)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < len; i++)
		a->h = (a->h ^ s[i]) * 1099511628211ULL;
	a->h = (a->h ^ 0xff) * 1099511628211ULL;
}

static void mix_str(struct acc *a, const char *s)
{
	if (!s)
		mix(a, "\x01(null)", 7);
	else
		mix(a, s, strlen(s));
}

static void mix_num(struct acc *a, long long v)
{
	mix(a, &v, sizeof(v));
}

static void mix_dbl(struct acc *a, double v)
{
	mix(a, &v, sizeof(v));
}

static void mix_list(struct acc *a, const struct sd_strlist *l)
{
	size_t i;

	mix_num(a, (long long)l->n);
	for (i = 0; i < l->n; i++)
		mix_str(a, l->v[i]);
}

/* The sink decides from the record itself whether to go on, skip or fail,
 * so that every reading decides the same way. */
static int verdict(const char *name, sd_error *err)
{
	if (name && name[0] == '!')
		return sd_fail(err, "sink refuses %s", name);
	if (name && name[0] == '~') {
		sd_fail(err, "skipped");
		return 1;
	}
	return 0;
}

static int f_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct acc *a = ctx;

	mix_str(a, m->site);
	mix_str(a, m->source);
	mix_num(a, (long long)m->created);
	mix_num(a, m->parts);
	return m->site && !strcmp(m->site, "!") ? sd_fail(err, "no begin") : 0;
}

static int f_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct acc *a = ctx;

	a->n++;
	mix_num(a, g->type);
	mix_str(a, g->name);
	mix_str(a, g->alias);
	return verdict(g->name, err);
}

static int f_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct acc *a = ctx;
	size_t i;

	a->n++;
	mix_num(a, o->type);
	mix_str(a, o->host_name);
	mix_str(a, o->description);
	if ((o->type == SD_HOST) != (o->description == NULL) || !o->host_name[0])
		__builtin_trap();
	mix_num(a, o->state);
	mix_num(a, o->state_type);
	mix_num(a, o->current_attempt);
	mix_num(a, o->max_check_attempts);
	mix_num(a, o->has_been_checked);
	mix_str(a, o->plugin_output);
	mix_str(a, o->long_plugin_output);
	mix_str(a, o->perf_data);
	mix_dbl(a, o->last_check);
	mix_num(a, o->last_state_change);
	mix_num(a, o->last_hard_state);
	mix_num(a, o->is_flapping);
	mix_dbl(a, o->latency);
	mix_dbl(a, o->execution_time);
	mix_num(a, o->check_type);
	mix_num(a, o->acknowledged);
	mix_num(a, o->acknowledgement_type);
	mix_str(a, o->alias);
	mix_str(a, o->address);
	mix_list(a, &o->parents);
	mix_list(a, &o->groups);
	mix_list(a, &o->contacts);
	mix_list(a, &o->contact_groups);
	mix_str(a, o->check_command);
	mix_dbl(a, o->check_interval);
	mix_dbl(a, o->retry_interval);
	mix_str(a, o->notes);
	mix_str(a, o->notes_url);
	mix_str(a, o->action_url);
	mix_str(a, o->icon_image);
	mix_num(a, (long long)o->nvars);
	for (i = 0; i < o->nvars; i++) {
		mix_str(a, o->vars[i].name);
		mix_str(a, o->vars[i].value);
	}
	/* the schema's ranges hold for whatever got through */
	if (o->state < 0 || o->state > 3 || o->state_type < 0 || o->state_type > 1 || o->last_check < 0 ||
	    o->latency < 0 || o->execution_time < 0 || o->acknowledgement_type < 0 || o->acknowledgement_type > 2)
		__builtin_trap();
	return verdict(o->description ? o->description : o->host_name, err);
}

static int f_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct acc *a = ctx;

	a->n++;
	mix_num(a, d->id);
	mix_str(a, d->host_name);
	mix_str(a, d->service_description);
	mix_num(a, d->start_time);
	mix_num(a, d->end_time);
	mix_num(a, d->fixed);
	mix_num(a, d->duration);
	mix_num(a, d->triggered_by);
	mix_str(a, d->author);
	mix_str(a, d->comment);
	mix_num(a, d->entry_time);
	return verdict(d->author, err);
}

static int f_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct acc *a = ctx;

	a->n++;
	mix_num(a, c->id);
	mix_str(a, c->host_name);
	mix_str(a, c->service_description);
	mix_num(a, c->entry_type);
	mix_str(a, c->author);
	mix_str(a, c->comment);
	mix_num(a, c->persistent);
	mix_num(a, c->entry_time);
	if (c->entry_type < 1 || c->entry_type > 4)
		__builtin_trap();
	return verdict(c->author, err);
}

static int f_end(void *ctx, sd_error *err)
{
	mix(ctx, "end", 3);
	return 0;
}

static void f_skipped(void *ctx, const char *what, const char *why)
{
	struct acc *a = ctx;

	mix_str(a, what);
	mix_str(a, why);
}

struct reading {
	long rc;
	struct acc a;
	sd_error err;
};

static void read_in(const uint8_t *data, size_t size, size_t split, size_t chunk, struct reading *out)
{
	struct sd_sink s = {
		.begin = f_begin, .group = f_group, .object = f_object, .downtime = f_downtime,
		.comment = f_comment, .end = f_end, .skipped = f_skipped,
	};
	struct snapshot_json_reader *r;
	size_t off = 0;

	memset(out, 0, sizeof(*out));
	out->a.h = 1469598103934665603ULL;
	s.ctx = s.report_ctx = &out->a;
	if (!(r = snapshot_json_reader_new(&s, "f", &out->err))) {
		out->rc = -2;
		return;
	}
	out->rc = 0;
	while (off < size) {
		size_t n = chunk ? chunk : (off < split ? split - off : size - off);
		if (n > size - off)
			n = size - off;
		if (snapshot_json_reader_feed(r, data + off, n) < 0) {
			out->rc = -1;
			break;
		}
		off += n;
	}
	if (out->rc == 0)
		out->rc = snapshot_json_reader_finish(r);
	snapshot_json_reader_free(r);
	if (out->rc == -1 && !out->err.msg[0])
		__builtin_trap();               /* a failure always says why */
}

static int skip_known = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reading whole, split, bytes;
	size_t at = size ? (size_t)data[size - 1] * size / 256 : 0;
	uint8_t *copy = NULL;

	if (skip_known < 0) {
		const char *v = getenv("FUZZ_SNAPSHOT_SKIP_KNOWN");
		skip_known = v && *v == '1';
	}
	if (skip_known) {
		if (!(copy = malloc(size + 1)))
			return 0;
		memcpy(copy, data, size);
		copy[size] = 0;
		data = copy;
	}

	read_in(data, size, size, 0, &whole);
	if (whole.rc == -2) {
		free(copy);
		return 0;
	}
	read_in(data, size, at, 0, &split);
	if (split.rc != -2 && (split.rc != whole.rc || split.a.h != whole.a.h || split.a.n != whole.a.n))
		__builtin_trap();
	if (size <= 300) {
		read_in(data, size, size, 1, &bytes);
		if (bytes.rc != -2 && (bytes.rc != whole.rc || bytes.a.h != whole.a.h || bytes.a.n != whole.a.n))
			__builtin_trap();
	}
	free(copy);
	return 0;
}
