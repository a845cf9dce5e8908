/*
 * snapshot_json.c - write the snapshot as JSON with yajl's generator.
 *
 * Why a generator and not printf: escaping every control character and
 * quote correctly is exactly what livedump got wrong. Records are written
 * as they arrive, so the document streams; sections ("hosts", "services",
 * ...) open when the first record of their kind arrives, which is why the
 * sources' emit order (snapshot.h) matters and is checked here.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>
#include "snapshot_json.h"
#include "text.h"

enum section { SEC_NONE = -1, SEC_HOSTGROUPS, SEC_SERVICEGROUPS, SEC_HOSTS, SEC_SERVICES,
	       SEC_COMMENTS, SEC_DOWNTIMES, SEC_N };

static const char *const section_names[SEC_N] = {
	"hostgroups", "servicegroups", "hosts", "services", "comments", "downtimes",
};

struct jw {
	struct sd_sink sink;    /* first: the sink's ctx is this struct */
	yajl_gen g;
	FILE *out;
	unsigned parts;
	enum section cur;
	unsigned seen;
};

/* yajl buffers internally; we hand its buffer to stdio once per record
 * (a print callback would mean one fwrite per token: 3M calls at 50k). */
static void flush_gen(struct jw *w)
{
	const unsigned char *buf;
	size_t len;

	if (yajl_gen_get_buf(w->g, &buf, &len) == yajl_gen_status_ok && len) {
		fwrite(buf, 1, len, w->out);
		yajl_gen_clear(w->g);
	}
}

static void key(struct jw *w, const char *k)
{
	yajl_gen_string(w->g, (const unsigned char *)k, strlen(k));
}

static void str(struct jw *w, const char *k, const char *v)
{
	size_t len, rlen;
	char *fixed;

	key(w, k);
	if (!v) {
		yajl_gen_null(w->g);
		return;
	}
	len = strlen(v);
	if (text_utf8_valid(v, len)) {
		yajl_gen_string(w->g, (const unsigned char *)v, len);
		return;
	}
	fixed = text_utf8_repair(v, len, &rlen);
	if (fixed)
		yajl_gen_string(w->g, (const unsigned char *)fixed, rlen);
	else
		yajl_gen_null(w->g);
	free(fixed);
}

/* yajl_gen_integer goes through sprintf; integers are most of our values */
static void num(struct jw *w, const char *k, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	key(w, k);
	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	yajl_gen_number(w->g, p, (size_t)(buf + sizeof(buf) - p));
}

static void dbl(struct jw *w, const char *k, double v)
{
	char buf[40];

	if (v == (double)(long long)v && v > -1e15 && v < 1e15) {
		num(w, k, (long long)v);
		return;
	}
	key(w, k);
	text_fmt_double(buf, sizeof(buf), v);
	yajl_gen_number(w->g, buf, strlen(buf));
}

static void boolean(struct jw *w, const char *k, int v)
{
	key(w, k);
	yajl_gen_bool(w->g, v);
}

static int io(struct jw *w, sd_error *err)
{
	flush_gen(w);
	if (ferror(w->out))
		return sd_fail(err, "write error");
	return 0;
}

static int enter(struct jw *w, enum section s, sd_error *err)
{
	if (w->cur == s)
		return 0;
	if (w->seen & (1u << s))
		return sd_fail(err, "internal: %s records out of order", section_names[s]);
	if (w->cur != SEC_NONE)
		yajl_gen_array_close(w->g);
	w->cur = s;
	w->seen |= 1u << s;
	key(w, section_names[s]);
	yajl_gen_array_open(w->g);
	return 0;
}

static int j_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct jw *w = ctx;

	yajl_gen_map_open(w->g);
	str(w, "format", "sitedump-snapshot");
	num(w, "version", 1);
	str(w, "site", m->site);
	str(w, "source", m->source);
	num(w, "created", (long long)m->created);
	key(w, "parts");
	yajl_gen_array_open(w->g);
	if (w->parts & SD_PART_STATE)
		yajl_gen_string(w->g, (const unsigned char *)"state", 5);
	if (w->parts & SD_PART_CONFIG)
		yajl_gen_string(w->g, (const unsigned char *)"config", 6);
	yajl_gen_array_close(w->g);
	return io(w, err);
}

static int j_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_CONFIG))
		return 0;
	if (enter(w, g->type == SD_HOST ? SEC_HOSTGROUPS : SEC_SERVICEGROUPS, err) < 0)
		return -1;
	yajl_gen_map_open(w->g);
	str(w, "name", g->name);
	str(w, "alias", g->alias);
	yajl_gen_map_close(w->g);
	return io(w, err);
}

static void strlist(struct jw *w, const char *k, const struct sd_strlist *l)
{
	size_t i;

	key(w, k);
	yajl_gen_array_open(w->g);
	for (i = 0; i < l->n; i++) {
		size_t len = strlen(l->v[i]), rlen;
		char *fixed = text_utf8_valid(l->v[i], len) ? NULL : text_utf8_repair(l->v[i], len, &rlen);
		if (fixed)
			yajl_gen_string(w->g, (const unsigned char *)fixed, rlen);
		else
			yajl_gen_string(w->g, (const unsigned char *)l->v[i], len);
		free(fixed);
	}
	yajl_gen_array_close(w->g);
}

static int j_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct jw *w = ctx;
	size_t i;

	if (enter(w, o->type == SD_HOST ? SEC_HOSTS : SEC_SERVICES, err) < 0)
		return -1;
	yajl_gen_map_open(w->g);
	if (o->type == SD_HOST) {
		str(w, "name", o->host_name);
	} else {
		str(w, "host_name", o->host_name);
		str(w, "description", o->description);
	}
	if (w->parts & SD_PART_STATE) {
		num(w, "state", o->state);
		num(w, "state_type", o->state_type);
		num(w, "current_attempt", o->current_attempt);
		num(w, "max_check_attempts", o->max_check_attempts);
		boolean(w, "has_been_checked", o->has_been_checked);
		str(w, "plugin_output", o->plugin_output);
		str(w, "long_plugin_output", o->long_plugin_output);
		str(w, "perf_data", o->perf_data);
		dbl(w, "last_check", o->last_check);
		num(w, "last_state_change", o->last_state_change);
		num(w, "last_hard_state", o->last_hard_state);
		boolean(w, "is_flapping", o->is_flapping);
		dbl(w, "latency", o->latency);
		dbl(w, "execution_time", o->execution_time);
		num(w, "check_type", o->check_type);
		boolean(w, "acknowledged", o->acknowledged);
		num(w, "acknowledgement_type", o->acknowledgement_type);
	}
	if (w->parts & SD_PART_CONFIG) {
		if (o->type == SD_HOST) {
			str(w, "alias", o->alias);
			str(w, "address", o->address);
			strlist(w, "parents", &o->parents);
		}
		if (!(w->parts & SD_PART_STATE))
			num(w, "max_check_attempts", o->max_check_attempts);
		strlist(w, "groups", &o->groups);
		strlist(w, "contacts", &o->contacts);
		strlist(w, "contact_groups", &o->contact_groups);
		str(w, "check_command", o->check_command);
		dbl(w, "check_interval", o->check_interval);
		dbl(w, "retry_interval", o->retry_interval);
		str(w, "notes", o->notes);
		str(w, "notes_url", o->notes_url);
		str(w, "action_url", o->action_url);
		str(w, "icon_image", o->icon_image);
		key(w, "custom_variables");
		yajl_gen_map_open(w->g);
		for (i = 0; i < o->nvars; i++)
			str(w, o->vars[i].name, o->vars[i].value);
		yajl_gen_map_close(w->g);
	}
	yajl_gen_map_close(w->g);
	return io(w, err);
}

static int j_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_STATE))
		return 0;
	if (enter(w, SEC_DOWNTIMES, err) < 0)
		return -1;
	yajl_gen_map_open(w->g);
	num(w, "id", d->id);
	str(w, "host_name", d->host_name);
	str(w, "service_description", d->service_description);
	num(w, "start_time", d->start_time);
	num(w, "end_time", d->end_time);
	boolean(w, "fixed", d->fixed);
	num(w, "duration", d->duration);
	num(w, "triggered_by", d->triggered_by);
	str(w, "author", d->author);
	str(w, "comment", d->comment);
	num(w, "entry_time", d->entry_time);
	yajl_gen_map_close(w->g);
	return io(w, err);
}

static int j_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_STATE))
		return 0;
	if (enter(w, SEC_COMMENTS, err) < 0)
		return -1;
	yajl_gen_map_open(w->g);
	num(w, "id", c->id);
	str(w, "host_name", c->host_name);
	str(w, "service_description", c->service_description);
	num(w, "entry_type", c->entry_type);
	str(w, "author", c->author);
	str(w, "comment", c->comment);
	boolean(w, "persistent", c->persistent);
	num(w, "entry_time", c->entry_time);
	yajl_gen_map_close(w->g);
	return io(w, err);
}

static int j_end(void *ctx, sd_error *err)
{
	struct jw *w = ctx;
	int s;

	if (w->cur != SEC_NONE)
		yajl_gen_array_close(w->g);
	/* every section of the written parts is present, empty or not */
	for (s = 0; s < SEC_N; s++) {
		int cfg = s == SEC_HOSTGROUPS || s == SEC_SERVICEGROUPS;
		int st = s == SEC_COMMENTS || s == SEC_DOWNTIMES;
		if (w->seen & (1u << s))
			continue;
		if ((cfg && !(w->parts & SD_PART_CONFIG)) || (st && !(w->parts & SD_PART_STATE)))
			continue;
		key(w, section_names[s]);
		yajl_gen_array_open(w->g);
		yajl_gen_array_close(w->g);
	}
	w->cur = SEC_NONE;
	if (yajl_gen_map_close(w->g) != yajl_gen_status_ok)
		return sd_fail(err, "internal: unbalanced JSON");
	flush_gen(w);
	fputc('\n', w->out);
	return io(w, err);
}

struct sd_sink *snapshot_json_writer_new(FILE *out, const struct writer_opts *opts)
{
	struct jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	if (!(w->g = yajl_gen_alloc(NULL))) {
		free(w);
		return NULL;
	}
	w->out = out;
	w->parts = opts->parts ? opts->parts : SD_PART_STATE;
	w->cur = SEC_NONE;
	w->sink.ctx = w;
	w->sink.begin = j_begin;
	w->sink.group = j_group;
	w->sink.object = j_object;
	w->sink.downtime = j_downtime;
	w->sink.comment = j_comment;
	w->sink.end = j_end;
	return &w->sink;
}

void snapshot_json_writer_free(struct sd_sink *s)
{
	struct jw *w = (struct jw *)s;

	if (!w)
		return;
	yajl_gen_free(w->g);
	free(w);
}
