/*
 * snapshot_json.c - write the snapshot as JSON; read it with yajl.
 *
 * Why not printf: escaping every control character and quote correctly is
 * exactly what livedump got wrong. Why not yajl's generator, which wrote
 * this before: its per-token state checks and byte-wise string encoder
 * were 45% of a 50k-service JSON export's CPU (perf, `make bench`). The
 * writer below appends to an sbuf, with sbuf_put_json_string escaping
 * exactly as yajl_gen does (test_snapshot_json compares the two on every
 * byte value), and keeps the one piece of generator state we need: whether
 * a container already has a member (the comma). Records are written
 * as they arrive, so the document streams; sections ("hosts", "services",
 * ...) open when the first record of their kind arrives, which is why the
 * sources' emit order (snapshot.h) matters and is checked here.
 *
 * Two layouts. Rows (version 1): every record an object with its keys, what
 * a person or jq wants. Columns (version 2, the bundles' layout): the keys of
 * each section once in a top-level "columns" object, every record an array
 * of values in that order. At 50k services the keys were 60% of the bytes
 * (25 MB against 10 MB) and gzip -6 of the rows was larger than livedump's
 * text for the same site; the column lists are taken from the record code
 * itself (a dry run over an empty record), so the two cannot disagree.
 *
 * Column blocks (version 3, what bundles carry): a section is a list of
 * blocks of up to BLOCK_ROWS records, each block a list of columns, each
 * column the values of one key for the block's records. Why: deflate then
 * sees every state, attempt and timestamp of 8192 services side by side
 * and the outputs and names next to their like. On the 50k-service bench
 * site, libdeflate level 1 over the blocks gives a smaller member than
 * level 6 over the rows (596 KB against 600 KB) in a third of the time
 * (0.018 s against 0.059-0.074 s); that time was the largest part of a
 * signed bundle's cost over the raw query (`make bench`). The memory is
 * one block's values (BLOCK_BYTES), not the site's. A record's values are
 * written straight onto the ends of their columns: sep() points cb, the
 * buffer all writing goes to, at the value's column.
 */
#include <stdlib.h>
#include <string.h>
#include "base/sbuf.h"
#include "formats/snapshot_json.h"
#include "base/text.h"

enum section { SEC_NONE = -1, SEC_HOSTGROUPS, SEC_SERVICEGROUPS, SEC_HOSTS, SEC_SERVICES,
	       SEC_COMMENTS, SEC_DOWNTIMES, SEC_N };

static const char *const section_names[SEC_N] = {
	"hostgroups", "servicegroups", "hosts", "services", "comments", "downtimes",
};

#define MAX_COLUMNS 64

struct jw {
	struct sd_sink sink;    /* first: the sink's ctx is this struct */
	struct sbuf b;
	struct sbuf *cb;        /* where values go: b, or a block's column */
	unsigned long filled;   /* bit d: the container at depth d has a member */
	int depth;
	int after_key;          /* the next value follows a key's ':' */
	FILE *out;
	unsigned parts;
	enum section cur;
	unsigned seen;
	int columns;            /* version 2 layout: records as arrays */
	int in_record;          /* keys of a record's own fields are left out */
	int in_vars;            /* ... but not those of custom_variables */
	/* collecting a section's column names (a dry run of a record) */
	const char **col;
	size_t ncol;
	/* version 3: the block being built */
	int blocks;
	int in_block_record;    /* a record whose values go to the columns */
	int rdepth;             /* depth of a record's own values */
	size_t nval, bcols;     /* values of this record, columns of the block */
	struct sbuf colb[MAX_COLUMNS];  /* the block's columns, comma-separated values */
	size_t brows;
	int bad;                /* records of one block with unequal value counts */
};

/* A block ends at BLOCK_ROWS records or once its values reach BLOCK_BYTES:
 * 8192 rows of the bench site's services are 1.6 MB; deflate's gain from
 * longer blocks is small above that (591 KB at 16384 rows), and memory is
 * about twice a block (the columns, then the block in b). */
#define BLOCK_ROWS 8192
#define BLOCK_BYTES (2u << 20)

/* Before a value or key: the comma if its container has a member. */
static void sep(struct jw *w)
{
	if (w->after_key) {
		w->after_key = 0;
		return;
	}
	if (w->in_block_record && w->depth == w->rdepth) {
		/* a record's value: onto its column, after the rows before */
		if (w->nval >= MAX_COLUMNS) {
			w->bad = 1;
			w->cb = &w->colb[MAX_COLUMNS - 1];
		} else {
			w->cb = &w->colb[w->nval];
		}
		w->nval++;
		if (w->brows)
			sbuf_putc(w->cb, ',');
		return;
	}
	if (w->filled & (1UL << w->depth))
		sbuf_putc(w->cb, ',');
	w->filled |= 1UL << w->depth;
}

static void j_open(struct jw *w, char c)
{
	sep(w);
	sbuf_putc(w->cb, c);
	w->depth++;
	w->filled &= ~(1UL << w->depth);
}

static void j_close(struct jw *w, char c)
{
	sbuf_putc(w->cb, c);
	w->depth--;
}

static void j_raw(struct jw *w, const char *s, size_t n)
{
	sep(w);
	sbuf_putn(w->cb, s, n);
}

static void j_str(struct jw *w, const char *s, size_t n)
{
	sep(w);
	sbuf_put_json_string(w->cb, s, n);
}

static void key(struct jw *w, const char *k)
{
	if (w->in_record && !w->in_vars && w->columns) {
		if (w->col && w->ncol < MAX_COLUMNS)
			w->col[w->ncol++] = k;
		return;
	}
	j_str(w, k, strlen(k));
	sbuf_putc(w->cb, ':');
	w->after_key = 1;
}

static void str(struct jw *w, const char *k, const char *v)
{
	size_t len, rlen;
	char *fixed;

	key(w, k);
	if (!v) {
		j_raw(w, "null", 4);
		return;
	}
	len = strlen(v);
	if (text_utf8_valid(v, len)) {
		j_str(w, v, len);
		return;
	}
	fixed = text_utf8_repair(v, len, &rlen);
	if (fixed)
		j_str(w, fixed, rlen);
	else
		j_raw(w, "null", 4);
	free(fixed);
}

static void num(struct jw *w, const char *k, long long v)
{
	key(w, k);
	sep(w);
	sbuf_put_ll(w->cb, v);
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
	j_raw(w, buf, strlen(buf));
}

static void boolean(struct jw *w, const char *k, int v)
{
	key(w, k);
	if (v)
		j_raw(w, "true", 4);
	else
		j_raw(w, "false", 5);
}

/* Records are handed to stdio in 16 KiB pieces, not one fwrite each. */
static int io(struct jw *w, size_t min, sd_error *err)
{
	if (w->b.oom)
		return sd_fail(err, "out of memory");
	if (sbuf_flush(&w->b, w->out, min) < 0)
		return sd_fail(err, "write error");
	return 0;
}

static void block_flush(struct jw *w);

static int enter(struct jw *w, enum section s, sd_error *err)
{
	if (w->cur == s)
		return 0;
	if (w->seen & (1u << s))
		return sd_fail(err, "internal: %s records out of order", section_names[s]);
	if (w->cur != SEC_NONE) {
		block_flush(w);
		j_close(w, ']');
	}
	w->cur = s;
	w->seen |= 1u << s;
	key(w, section_names[s]);
	j_open(w, '[');
	return 0;
}

static void record_open(struct jw *w)
{
	w->in_record = 1;
	if (w->blocks && !w->col) {     /* not in put_columns' dry run */
		/* nothing of the record itself is written, only its values */
		w->in_block_record = 1;
		w->rdepth = ++w->depth;
		w->nval = 0;
		return;
	}
	j_open(w, w->columns ? '[' : '{');
}

static void record_close(struct jw *w)
{
	size_t k, bytes = 0;

	w->in_record = 0;
	if (!w->in_block_record) {
		j_close(w, w->columns ? ']' : '}');
		return;
	}
	w->in_block_record = 0;
	w->depth--;
	w->cb = &w->b;
	if (w->brows && w->nval != w->bcols)
		w->bad = 1;
	w->bcols = w->nval < MAX_COLUMNS ? w->nval : MAX_COLUMNS;
	for (k = 0; k < w->bcols; k++) {
		bytes += w->colb[k].len;
		if (w->colb[k].oom)
			w->b.oom = 1;
	}
	if (++w->brows >= BLOCK_ROWS || bytes >= BLOCK_BYTES)
		block_flush(w);
}

/* Version 3: the block so far as one JSON array of columns. The columns go
 * to the stream as they are, not through b (a block is megabytes). */
static void block_flush(struct jw *w)
{
	size_t k;

	if (!w->brows)
		return;
	j_open(w, '[');
	for (k = 0; k < w->bcols; k++) {
		sep(w);
		sbuf_putc(&w->b, '[');
		if (sbuf_flush(&w->b, w->out, 0) == 0 && w->colb[k].len)
			fwrite(w->colb[k].p, 1, w->colb[k].len, w->out);   /* an error shows at io() */
		sbuf_putc(&w->b, ']');
		w->colb[k].len = 0;
	}
	j_close(w, ']');
	w->brows = 0;
}

static void group_body(struct jw *w, const struct sd_group *g);
static void object_body(struct jw *w, const struct sd_object *o);
static void downtime_body(struct jw *w, const struct sd_downtime *d);
static void comment_body(struct jw *w, const struct sd_comment *c);

/* "columns": { SECTION: [KEY, ...], ... } for the sections of the parts
 * written: each list is what the record code emits for an empty record,
 * whose bytes are then taken back out of the buffer. */
static void put_columns(struct jw *w)
{
	const char *names[MAX_COLUMNS];
	struct jw saved;
	struct sd_object o;
	struct sd_group gr = { SD_HOST, "", "" };
	struct sd_downtime d;
	struct sd_comment c;
	int s;
	size_t i;

	sd_object_clear(&o);
	memset(&d, 0, sizeof(d));
	memset(&c, 0, sizeof(c));
	key(w, "columns");
	j_open(w, '{');
	for (s = 0; s < SEC_N; s++) {
		int cfg = s == SEC_HOSTGROUPS || s == SEC_SERVICEGROUPS;
		int st = s == SEC_COMMENTS || s == SEC_DOWNTIMES;

		if ((cfg && !(w->parts & SD_PART_CONFIG)) || (st && !(w->parts & SD_PART_STATE)))
			continue;
		saved = *w;
		w->col = names;
		w->ncol = 0;
		switch (s) {
		case SEC_HOSTGROUPS: case SEC_SERVICEGROUPS: group_body(w, &gr); break;
		case SEC_HOSTS: o.type = SD_HOST; object_body(w, &o); break;
		case SEC_SERVICES: o.type = SD_SERVICE; object_body(w, &o); break;
		case SEC_DOWNTIMES: downtime_body(w, &d); break;
		case SEC_COMMENTS: comment_body(w, &c); break;
		}
		w->col = NULL;
		w->b.len = saved.b.len;         /* the dry run's bytes go */
		w->depth = saved.depth;
		w->filled = saved.filled;
		w->after_key = saved.after_key;
		key(w, section_names[s]);
		j_open(w, '[');
		for (i = 0; i < w->ncol; i++)
			j_str(w, names[i], strlen(names[i]));
		j_close(w, ']');
	}
	j_close(w, '}');
}

static int j_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct jw *w = ctx;

	j_open(w, '{');
	str(w, "format", "sitedump-snapshot");
	num(w, "version", w->blocks ? 3 : w->columns ? 2 : 1);
	str(w, "site", m->site);
	str(w, "source", m->source);
	if (m->core) {
		str(w, "core", m->core);
		str(w, "core_version", m->core_version ? m->core_version : "");
	}
	num(w, "created", (long long)m->created);
	key(w, "parts");
	j_open(w, '[');
	if (w->parts & SD_PART_STATE)
		j_str(w, "state", 5);
	if (w->parts & SD_PART_CONFIG)
		j_str(w, "config", 6);
	j_close(w, ']');
	if (w->columns)
		put_columns(w);
	return io(w, 16384, err);
}

static int j_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_CONFIG))
		return 0;
	if (enter(w, g->type == SD_HOST ? SEC_HOSTGROUPS : SEC_SERVICEGROUPS, err) < 0)
		return -1;
	group_body(w, g);
	return io(w, 16384, err);
}

static void group_body(struct jw *w, const struct sd_group *g)
{
	record_open(w);
	str(w, "name", g->name);
	str(w, "alias", g->alias);
	record_close(w);
}

static void strlist(struct jw *w, const char *k, const struct sd_strlist *l)
{
	size_t i;

	key(w, k);
	j_open(w, '[');
	for (i = 0; i < l->n; i++) {
		size_t len = strlen(l->v[i]), rlen;
		char *fixed = text_utf8_valid(l->v[i], len) ? NULL : text_utf8_repair(l->v[i], len, &rlen);
		if (fixed)
			j_str(w, fixed, rlen);
		else
			j_str(w, l->v[i], len);
		free(fixed);
	}
	j_close(w, ']');
}

static int j_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct jw *w = ctx;

	if (enter(w, o->type == SD_HOST ? SEC_HOSTS : SEC_SERVICES, err) < 0)
		return -1;
	object_body(w, o);
	return io(w, 16384, err);
}

static void object_body(struct jw *w, const struct sd_object *o)
{
	size_t i;

	record_open(w);
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
		j_open(w, '{');
		w->in_vars = 1;
		for (i = 0; i < o->nvars; i++) {
			/* a name is written as a key: repaired as values are */
			const char *n = o->vars[i].name;
			size_t len = strlen(n), rlen;
			char *fixed = text_utf8_valid(n, len) ? NULL : text_utf8_repair(n, len, &rlen);

			str(w, fixed ? fixed : n, o->vars[i].value);
			free(fixed);
		}
		w->in_vars = 0;
		j_close(w, '}');
	}
	record_close(w);
}

static int j_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_STATE))
		return 0;
	if (enter(w, SEC_DOWNTIMES, err) < 0)
		return -1;
	downtime_body(w, d);
	return io(w, 16384, err);
}

static void downtime_body(struct jw *w, const struct sd_downtime *d)
{
	record_open(w);
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
	record_close(w);
}

static int j_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct jw *w = ctx;

	if (!(w->parts & SD_PART_STATE))
		return 0;
	if (enter(w, SEC_COMMENTS, err) < 0)
		return -1;
	comment_body(w, c);
	return io(w, 16384, err);
}

static void comment_body(struct jw *w, const struct sd_comment *c)
{
	record_open(w);
	num(w, "id", c->id);
	str(w, "host_name", c->host_name);
	str(w, "service_description", c->service_description);
	num(w, "entry_type", c->entry_type);
	str(w, "author", c->author);
	str(w, "comment", c->comment);
	boolean(w, "persistent", c->persistent);
	num(w, "entry_time", c->entry_time);
	record_close(w);
}

static int j_end(void *ctx, sd_error *err)
{
	struct jw *w = ctx;
	int s;

	if (w->cur != SEC_NONE) {
		block_flush(w);
		j_close(w, ']');
	}
	if (w->bad)
		return sd_fail(err, "internal: records of one section with unequal value counts");
	/* every section of the written parts is present, empty or not */
	for (s = 0; s < SEC_N; s++) {
		int cfg = s == SEC_HOSTGROUPS || s == SEC_SERVICEGROUPS;
		int st = s == SEC_COMMENTS || s == SEC_DOWNTIMES;
		if (w->seen & (1u << s))
			continue;
		if ((cfg && !(w->parts & SD_PART_CONFIG)) || (st && !(w->parts & SD_PART_STATE)))
			continue;
		key(w, section_names[s]);
		j_open(w, '[');
		j_close(w, ']');
	}
	w->cur = SEC_NONE;
	j_close(w, '}');
	if (w->depth != 0)
		return sd_fail(err, "internal: unbalanced JSON");
	sbuf_putc(&w->b, '\n');
	return io(w, 0, err);
}

struct sd_sink *snapshot_json_writer_new(FILE *out, const struct writer_opts *opts)
{
	struct jw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->parts = opts->parts ? opts->parts : SD_PART_STATE;
	w->columns = opts->json_columns || opts->json_blocks;
	w->blocks = opts->json_blocks;
	w->cur = SEC_NONE;
	w->cb = &w->b;
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
	size_t k;

	if (!w)
		return;
	sbuf_free(&w->b);
	for (k = 0; k < MAX_COLUMNS; k++)
		sbuf_free(&w->colb[k]);
	free(w);
}

/*
 * Reader half. Why events (yajl_parse) again: a state member holds every
 * service of a site, and siteload must not hold the document. One record
 * is built at a time (its strings malloc'd, freed after the sink saw it).
 * The header keys (format, version, site, parts, and in version 2 the
 * columns) must come before the record arrays: our writer puts them first,
 * and a streaming reader has to know the version and the column order
 * before it can trust a record. A version 2 record given as an array has
 * its values mapped to keys by the section's column list, and then takes
 * exactly the path of a record given as an object.
 *
 * Version 3 blocks are taken down as they arrive onto a tape (the events
 * of every value, their bytes in one arena; at most TAPE_MAX bytes in all)
 * and at the block's end played back row by row through these same
 * callbacks as version 2 records would be: one path checks every record,
 * whatever its layout.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

enum rkey {
	K_NONE, K_NAME, K_HOST_NAME, K_DESCRIPTION, K_SERVICE_DESCRIPTION,
	K_STATE, K_STATE_TYPE, K_CURRENT_ATTEMPT, K_MAX_CHECK_ATTEMPTS, K_HAS_BEEN_CHECKED,
	K_PLUGIN_OUTPUT, K_LONG_PLUGIN_OUTPUT, K_PERF_DATA, K_LAST_CHECK, K_LAST_STATE_CHANGE,
	K_LAST_HARD_STATE, K_IS_FLAPPING, K_LATENCY, K_EXECUTION_TIME, K_CHECK_TYPE,
	K_ACKNOWLEDGED, K_ACKNOWLEDGEMENT_TYPE, K_ALIAS, K_ADDRESS, K_PARENTS, K_GROUPS,
	K_CONTACTS, K_CONTACT_GROUPS, K_CHECK_COMMAND, K_CHECK_INTERVAL, K_RETRY_INTERVAL,
	K_NOTES, K_NOTES_URL, K_ACTION_URL, K_ICON_IMAGE, K_CUSTOM_VARIABLES,
	K_ID, K_START_TIME, K_END_TIME, K_FIXED, K_DURATION, K_TRIGGERED_BY, K_AUTHOR,
	K_COMMENT, K_ENTRY_TIME, K_ENTRY_TYPE, K_PERSISTENT, K_N
};

static const char *const rkey_names[K_N] = {
	"", "name", "host_name", "description", "service_description",
	"state", "state_type", "current_attempt", "max_check_attempts", "has_been_checked",
	"plugin_output", "long_plugin_output", "perf_data", "last_check", "last_state_change",
	"last_hard_state", "is_flapping", "latency", "execution_time", "check_type",
	"acknowledged", "acknowledgement_type", "alias", "address", "parents", "groups",
	"contacts", "contact_groups", "check_command", "check_interval", "retry_interval",
	"notes", "notes_url", "action_url", "icon_image", "custom_variables",
	"id", "start_time", "end_time", "fixed", "duration", "triggered_by", "author",
	"comment", "entry_time", "entry_type", "persistent",
};

struct snapshot_json_reader {
	yajl_handle h;
	const struct sd_sink *sink;
	const char *name;
	sd_error *err;
	int failed;             /* err already set by us or the sink */
	size_t fed;             /* bytes of earlier chunks: offsets are per document */
	/* a string not yet ended at the end of a chunk, held back (feed) */
	unsigned char *held;
	size_t nheld, capheld;
	int in_str, esc;        /* where the text fed so far stands */
	int skip;               /* >0: inside a value of an unknown key, this deep */
	int depth;              /* 1 top map, 2 section array, 3 record, 4 list/vars */
	/* header */
	char *hkey;             /* current top-level key */
	int version;
	int format_ok;
	char *site, *source;
	long long created;
	unsigned parts;
	int begun;
	/* record */
	enum section sec;
	enum rkey key;
	char *var_name;         /* inside custom_variables */
	struct sd_object o;
	struct sd_downtime d;
	struct sd_comment c;
	struct sd_group g;
	unsigned have;          /* identity keys seen */
	char **owned;           /* every string of the record, freed at its end */
	size_t nowned, capowned;
	long records;
	/* version 2: the column list of every section */
	enum rkey cols[SEC_N][MAX_COLUMNS];
	int ncols[SEC_N];       /* -1: no list given */
	int in_columns;         /* 1 in "columns", 2 in a section's list */
	int colsec;             /* the list being read, SEC_NONE: unknown section */
	int positional;         /* the record is an array */
	int pos;
	/* version 3: the block being taken down */
	int blk;                /* 0 none, 1 in a block, 2 in one of its columns */
	int tnest;              /* depth inside the current value */
	int bcol;               /* the column being read */
	size_t brows;           /* values in the block's first column */
	struct tev *tev;        /* the events */
	size_t nev, capev;
	unsigned char *arena;   /* their bytes */
	size_t narena, caparena;
	uint32_t *vi;           /* where each value's events begin, column by column */
	size_t nvi, capvi;
	size_t colv[MAX_COLUMNS];       /* where each column's values begin in vi */
};

enum tevtype { T_NULL, T_FALSE, T_TRUE, T_NUM, T_STR, T_KEY, T_SMAP, T_EMAP, T_SARR, T_EARR };

struct tev {
	uint32_t off, len;      /* bytes in the arena (numbers, strings, keys) */
	unsigned char type;
};

/* The memory one block's tape may take (allocated: values, events, value
 * index). A block of our writer's is at most BLOCK_BYTES of values (whose
 * events take up to 8 times their bytes) plus one record, and a record
 * from Livestatus is at most 64 MiB (LSJSON_MAX_ROW_BYTES): such a block
 * takes at most about 150 MiB here. Without a bound, a block of empty
 * values could make the events many times the document's size. */
#define TAPE_MAX (256u << 20)
#define TAPE_NEST 16

static int rfail(struct snapshot_json_reader *r, const char *fmt, const char *a)
{
	if (!r->failed)
		sd_fail(r->err, "%s: byte %zu: %s%s", r->name,
			r->fed + (size_t)yajl_get_bytes_consumed(r->h), fmt, a ? a : "");
	r->failed = 1;
	return 0;
}

static char *own(struct snapshot_json_reader *r, const unsigned char *s, size_t len)
{
	char *p;

	if (memchr(s, 0, len)) {
		rfail(r, "NUL in a string of key ", rkey_names[r->key]);
		return NULL;
	}
	if (r->nowned == r->capowned) {
		size_t cap = r->capowned ? r->capowned * 2 : 32;
		char **v = realloc(r->owned, cap * sizeof(*v));
		if (!v) {
			rfail(r, "out of memory", NULL);
			return NULL;
		}
		r->owned = v;
		r->capowned = cap;
	}
	if (!(p = malloc(len + 1))) {
		rfail(r, "out of memory", NULL);
		return NULL;
	}
	memcpy(p, s, len);
	p[len] = 0;
	r->owned[r->nowned++] = p;
	return p;
}

static void record_reset(struct snapshot_json_reader *r)
{
	size_t i;

	for (i = 0; i < r->nowned; i++)
		free(r->owned[i]);
	r->nowned = 0;
	free(r->o.parents.v);
	free(r->o.groups.v);
	free(r->o.contacts.v);
	free(r->o.contact_groups.v);
	free(r->o.vars);
	sd_object_clear(&r->o);
	memset(&r->d, 0, sizeof(r->d));
	memset(&r->c, 0, sizeof(r->c));
	memset(&r->g, 0, sizeof(r->g));
	r->d.host_name = r->d.author = r->d.comment = (char *)"";
	r->c.host_name = r->c.author = r->c.comment = (char *)"";
	r->g.name = r->g.alias = (char *)"";
	r->have = 0;
}

static int begin_once(struct snapshot_json_reader *r)
{
	struct sd_meta m;

	if (r->begun)
		return 0;
	if (!r->format_ok)
		return rfail(r, "not a sitedump snapshot (\"format\" missing before the records)", NULL), -1;
	if (r->version < 1 || r->version > 3)
		return rfail(r, "unsupported snapshot version (want 1, 2 or 3)", NULL), -1;
	r->begun = 1;
	m.site = r->site ? r->site : "";
	m.source = r->source ? r->source : "";
	m.created = (time_t)r->created;
	m.parts = r->parts;
	if (r->sink->begin && r->sink->begin(r->sink->ctx, &m, r->err) < 0) {
		r->failed = 1;
		return -1;
	}
	return 0;
}

static struct sd_strlist *cur_list(struct snapshot_json_reader *r)
{
	switch (r->key) {
	case K_PARENTS: return &r->o.parents;
	case K_GROUPS: return &r->o.groups;
	case K_CONTACTS: return &r->o.contacts;
	case K_CONTACT_GROUPS: return &r->o.contact_groups;
	default: return NULL;
	}
}

/* A number in the record: which field, with range checks. */
static int set_num(struct snapshot_json_reader *r, const char *txt, size_t len, int is_bool)
{
	char buf[64], *end;
	double v;
	long long iv;
	int integral;

	if (len >= sizeof(buf))
		return rfail(r, "number too long for key ", rkey_names[r->key]);
	memcpy(buf, txt, len);
	buf[len] = 0;
	errno = 0;
	v = strtod(buf, &end);
	if (*end || errno || !isfinite(v))
		return rfail(r, "bad number for key ", rkey_names[r->key]);
	integral = v == floor(v) && fabs(v) < 9e15;
	iv = integral ? (long long)v : 0;
	(void)is_bool;
#define NEED_INT(lo, hi) do { if (!integral || iv < (lo) || iv > (hi)) return rfail(r, "value out of range for key ", rkey_names[r->key]); } while (0)
	switch (r->key) {
	case K_STATE: NEED_INT(0, 3); r->o.state = (int)iv; break;
	case K_STATE_TYPE: NEED_INT(0, 1); r->o.state_type = (int)iv; break;
	case K_CURRENT_ATTEMPT: NEED_INT(0, 1000000); r->o.current_attempt = (int)iv; break;
	case K_MAX_CHECK_ATTEMPTS: NEED_INT(0, 1000000); r->o.max_check_attempts = (int)iv; break;
	case K_LAST_CHECK: if (v < 0 || v > 9e15) return rfail(r, "value out of range for key ", "last_check"); r->o.last_check = v; break;
	case K_LAST_STATE_CHANGE: NEED_INT(0, 9e15); r->o.last_state_change = iv; break;
	case K_LAST_HARD_STATE: NEED_INT(0, 3); r->o.last_hard_state = (int)iv; break;
	case K_LATENCY: if (v < 0) return rfail(r, "value out of range for key ", "latency"); r->o.latency = v; break;
	case K_EXECUTION_TIME: if (v < 0) return rfail(r, "value out of range for key ", "execution_time"); r->o.execution_time = v; break;
	case K_CHECK_TYPE: NEED_INT(0, 1); r->o.check_type = (int)iv; break;
	case K_ACKNOWLEDGEMENT_TYPE: NEED_INT(0, 2); r->o.acknowledgement_type = (int)iv; break;
	case K_CHECK_INTERVAL: if (v < 0) return rfail(r, "value out of range for key ", "check_interval"); r->o.check_interval = v; break;
	case K_RETRY_INTERVAL: if (v < 0) return rfail(r, "value out of range for key ", "retry_interval"); r->o.retry_interval = v; break;
	case K_ID: NEED_INT(-9e15, 9e15); r->d.id = r->c.id = iv; break;
	case K_START_TIME: NEED_INT(0, 9e15); r->d.start_time = iv; break;
	case K_END_TIME: NEED_INT(0, 9e15); r->d.end_time = iv; break;
	case K_DURATION: NEED_INT(0, 9e15); r->d.duration = iv; break;
	case K_TRIGGERED_BY: NEED_INT(0, 9e15); r->d.triggered_by = iv; break;
	case K_ENTRY_TIME: NEED_INT(0, 9e15); r->d.entry_time = r->c.entry_time = iv; break;
	case K_ENTRY_TYPE: NEED_INT(1, 4); r->c.entry_type = (int)iv; break;
	case K_NONE: break;      /* unknown key: ignored (forward compatible) */
	default: return rfail(r, "wrong type (number) for key ", rkey_names[r->key]);
	}
#undef NEED_INT
	return 1;
}

/* What a top-level key is: its value's type is checked, unknown keys
 * (a later minor version's) are skipped whatever their value. */
enum hkind { H_UNKNOWN, H_STRING, H_NUMBER, H_PARTS, H_SECTION, H_COLUMNS };

static int section_of(const char *k);

static enum hkind hkey_kind(const struct snapshot_json_reader *r)
{
	const char *k = r->hkey;

	if (!k)
		return H_UNKNOWN;
	if (!strcmp(k, "format") || !strcmp(k, "site") || !strcmp(k, "source"))
		return H_STRING;
	if (!strcmp(k, "version") || !strcmp(k, "created"))
		return H_NUMBER;
	if (!strcmp(k, "parts"))
		return H_PARTS;
	if (!strcmp(k, "columns"))
		return H_COLUMNS;
	return section_of(k) != SEC_NONE ? H_SECTION : H_UNKNOWN;
}

/* A value of the wrong JSON type for a known top-level key. */
static int top_type(struct snapshot_json_reader *r, enum hkind got)
{
	enum hkind k = hkey_kind(r);

	if (k == H_UNKNOWN || k == got)
		return 1;
	return rfail(r, "wrong type for top-level key ", r->hkey);
}

/* An unknown key's value that is an object or array: skipped whole. */
static int skip_start(struct snapshot_json_reader *r)
{
	if (r->skip) {
		if (++r->skip > 16)     /* yajl keeps a stack per level: bounded */
			return rfail(r, "nesting too deep", NULL), -1;
		return 1;
	}
	if ((r->depth == 1 && hkey_kind(r) == H_UNKNOWN) || (r->depth == 3 && r->key == K_NONE)) {
		r->skip = 1;
		return 1;
	}
	return 0;
}

static enum rkey key_of(const unsigned char *s, size_t len)
{
	int k;

	for (k = 1; k < K_N; k++)
		if (strlen(rkey_names[k]) == len && !memcmp(rkey_names[k], s, len))
			return (enum rkey)k;
	return K_NONE;
}

/* A value in an array record: its key is the next column's. 1 ok, 0 fail. */
static int next_col(struct snapshot_json_reader *r)
{
	if (r->skip || r->depth != 3 || !r->positional)
		return 1;
	if (r->pos >= r->ncols[r->sec])
		return rfail(r, "record with more values than columns in ", section_names[r->sec]);
	r->key = r->cols[r->sec][r->pos++];
	return 1;
}

/* Inside "columns": { SECTION: [KEY, ...], ... }. 1 ok, 0 fail. */
static int columns_string(struct snapshot_json_reader *r, const unsigned char *s, size_t len)
{
	if (r->in_columns != 2)
		return rfail(r, "bad columns", NULL);
	if (r->colsec == SEC_NONE)
		return 1;       /* a later version's section */
	if (r->ncols[r->colsec] >= MAX_COLUMNS)
		return rfail(r, "too many columns for ", section_names[r->colsec]);
	r->cols[r->colsec][r->ncols[r->colsec]++] = key_of(s, len);
	return 1;
}

static size_t tape_alloc(const struct snapshot_json_reader *r)
{
	return r->caparena + r->capev * sizeof(struct tev) + r->capvi * sizeof(uint32_t);
}

/* Room for `need` elements of size sz in *v, all of the tape within
 * TAPE_MAX. 0 ok, -1 failed (r told). */
static int tape_grow(struct snapshot_json_reader *r, void **v, size_t *cap, size_t need, size_t sz)
{
	size_t c = *cap ? *cap : 1024, others = tape_alloc(r) - *cap * sz;
	void *p;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	if (others + c * sz > TAPE_MAX)
		c = need;               /* near the bound: no more than needed */
	if (need > TAPE_MAX / sz || others + c * sz > TAPE_MAX)
		return rfail(r, "block too large in ", section_names[r->sec]), -1;
	if (!(p = realloc(*v, c * sz)))
		return rfail(r, "out of memory", NULL), -1;
	*v = p;
	*cap = c;
	return 0;
}

/* An event of the current column's current value (a value's first marks
 * where the value begins). 1 ok, 0 fail. */
static int tape_put(struct snapshot_json_reader *r, enum tevtype t, const void *s, size_t len)
{
	struct tev *e;

	if (r->blk == 1)
		return rfail(r, "a block holds column arrays, not ", t == T_SMAP ? "objects" : "values");
	if (r->tnest == 0) {
		if (tape_grow(r, (void **)&r->vi, &r->capvi, r->nvi + 1, sizeof(*r->vi)) < 0)
			return 0;
		r->vi[r->nvi++] = (uint32_t)r->nev;
	}
	if (tape_grow(r, (void **)&r->tev, &r->capev, r->nev + 1, sizeof(*r->tev)) < 0 ||
	    (len && tape_grow(r, (void **)&r->arena, &r->caparena, r->narena + len, 1) < 0))
		return 0;
	e = &r->tev[r->nev++];
	e->type = (unsigned char)t;
	e->off = (uint32_t)r->narena;
	e->len = (uint32_t)len;
	if (len)
		memcpy(r->arena + r->narena, s, len);
	r->narena += len;
	if (t == T_SMAP || t == T_SARR) {
		if (++r->tnest > TAPE_NEST)
			return rfail(r, "nesting too deep", NULL);
	} else if (t == T_EMAP || t == T_EARR) {
		r->tnest--;
	}
	return 1;
}

static int emit_record(struct snapshot_json_reader *r);

static void record_begin_positional(struct snapshot_json_reader *r)
{
	record_reset(r);
	r->depth = 3;
	r->positional = 1;
	r->pos = 0;
}

static int record_end_positional(struct snapshot_json_reader *r)
{
	int ok;

	if (r->pos != r->ncols[r->sec])
		return rfail(r, "record with fewer values than columns in ", section_names[r->sec]);
	ok = emit_record(r);
	record_reset(r);
	r->depth = 2;
	r->key = K_NONE;
	r->positional = 0;
	return ok;
}

static int sj_null(void *ctx);
static int sj_bool(void *ctx, int b);
static int sj_string(void *ctx, const unsigned char *s, size_t len);
static int sj_map_key(void *ctx, const unsigned char *s, size_t len);
static int sj_start_map(void *ctx);
static int sj_end_map(void *ctx);
static int sj_start_array(void *ctx);
static int sj_end_array(void *ctx);
static int sj_number(void *ctx, const char *s, size_t len);

/* Events [a, b) of the tape, through the callbacks. */
static int tape_play(struct snapshot_json_reader *r, size_t a, size_t b)
{
	int ok = 1;

	for (; ok && a < b; a++) {
		const struct tev *e = &r->tev[a];
		/* no arena at all when every string of the block is empty */
		const unsigned char *s = e->len ? r->arena + e->off : (const unsigned char *)"";

		switch ((enum tevtype)e->type) {
		case T_NULL: ok = sj_null(r); break;
		case T_FALSE: ok = sj_bool(r, 0); break;
		case T_TRUE: ok = sj_bool(r, 1); break;
		case T_NUM: ok = sj_number(r, (const char *)s, e->len); break;
		case T_STR: ok = sj_string(r, s, e->len); break;
		case T_KEY: ok = sj_map_key(r, s, e->len); break;
		case T_SMAP: ok = sj_start_map(r); break;
		case T_EMAP: ok = sj_end_map(r); break;
		case T_SARR: ok = sj_start_array(r); break;
		case T_EARR: ok = sj_end_array(r); break;
		}
	}
	return ok;
}

/* The block's end: its records, row by row, as version 2 arrays. */
static int block_play(struct snapshot_json_reader *r)
{
	size_t i, c, ncol = (size_t)r->ncols[r->sec];
	int ok = 1;

	if ((size_t)(r->bcol + 1) != ncol)
		return rfail(r, "block with fewer columns than columns in ", section_names[r->sec]);
	r->blk = 0;
	if (tape_grow(r, (void **)&r->vi, &r->capvi, r->nvi + 1, sizeof(*r->vi)) < 0)
		return 0;
	r->vi[r->nvi] = (uint32_t)r->nev;      /* the last value's end */
	for (i = 0; ok && i < r->brows; i++) {
		record_begin_positional(r);
		for (c = 0; ok && c < ncol; c++) {
			size_t v = r->colv[c] + i;
			ok = tape_play(r, r->vi[v], r->vi[v + 1]);
		}
		if (ok)
			ok = record_end_positional(r);
	}
	r->nev = r->narena = r->nvi = 0;
	return ok;
}

static int sj_number(void *ctx, const char *s, size_t len)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, T_NUM, s, len);
	if (r->skip)
		return 1;
	if (r->in_columns)
		return rfail(r, "bad columns", NULL);
	if (!next_col(r))
		return 0;
	if (r->depth == 1) {
		if (!top_type(r, H_NUMBER))
			return 0;
		if (r->hkey && !strcmp(r->hkey, "version")) {
			/* yajl's number text is not NUL-terminated: compare it as bytes */
			if (len != 1 || s[0] < '1' || s[0] > '3')
				return rfail(r, "unsupported snapshot version (want 1, 2 or 3)", NULL);
			if (r->version)         /* one layout for the whole document */
				return rfail(r, "version given twice", NULL);
			r->version = s[0] - '0';
		} else if (r->hkey && !strcmp(r->hkey, "created")) {
			char buf[32];
			if (len >= sizeof(buf))
				return rfail(r, "bad created", NULL);
			memcpy(buf, s, len);
			buf[len] = 0;
			r->created = strtoll(buf, NULL, 10);
		}
		return 1;
	}
	if (r->depth == 3)
		return set_num(r, s, len, 0);
	if (r->depth == 4 && r->key == K_NONE)
		return 1;
	return rfail(r, "unexpected number", NULL);
}

static int sj_bool(void *ctx, int b)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, b ? T_TRUE : T_FALSE, NULL, 0);
	if (r->skip)
		return 1;
	if (r->in_columns)
		return rfail(r, "bad columns", NULL);
	if (!next_col(r))
		return 0;
	if (r->depth == 1)
		return hkey_kind(r) == H_UNKNOWN ? 1 : rfail(r, "wrong type for top-level key ", r->hkey);
	if (r->depth != 3)
		return rfail(r, "unexpected boolean", NULL);
	switch (r->key) {
	case K_HAS_BEEN_CHECKED: r->o.has_been_checked = b; break;
	case K_IS_FLAPPING: r->o.is_flapping = b; break;
	case K_ACKNOWLEDGED: r->o.acknowledged = b; break;
	case K_FIXED: r->d.fixed = b; break;
	case K_PERSISTENT: r->c.persistent = b; break;
	case K_NONE: break;
	default: return rfail(r, "wrong type (boolean) for key ", rkey_names[r->key]);
	}
	return 1;
}

static int sj_null(void *ctx)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, T_NULL, NULL, 0);
	if (r->skip)
		return 1;
	if (r->in_columns)
		return rfail(r, "bad columns", NULL);
	if (!next_col(r))
		return 0;
	if (r->depth == 3 && r->key == K_SERVICE_DESCRIPTION)
		return 1;       /* host comment/downtime */
	if (r->depth == 1)
		return hkey_kind(r) == H_UNKNOWN ? 1 : rfail(r, "wrong type for top-level key ", r->hkey);
	if (r->depth == 3 && r->key == K_NONE)
		return 1;
	return rfail(r, "null not allowed for key ", rkey_names[r->key]);
}

static int sj_string(void *ctx, const unsigned char *s, size_t len)
{
	struct snapshot_json_reader *r = ctx;
	char *p;

	if (r->blk)
		return tape_put(r, T_STR, s, len);
	if (r->skip)
		return 1;
	if (r->in_columns)
		return columns_string(r, s, len);
	if (!next_col(r))
		return 0;
	if (r->depth == 1) {
		if (!top_type(r, H_STRING))
			return 0;
		if (!r->hkey)
			return 1;
		if (!strcmp(r->hkey, "format")) {
			if (len != 17 || memcmp(s, "sitedump-snapshot", 17))
				return rfail(r, "not a sitedump snapshot (format)", NULL);
			r->format_ok = 1;
		} else if (!strcmp(r->hkey, "site") || !strcmp(r->hkey, "source")) {
			char **dst = r->hkey[1] == 'i' ? &r->site : &r->source;
			if (memchr(s, 0, len))
				return rfail(r, "NUL in ", r->hkey);
			free(*dst);
			if (!(*dst = strndup((const char *)s, len)))
				return rfail(r, "out of memory", NULL);
		}
		return 1;
	}
	if (r->depth == 2 && r->hkey && !strcmp(r->hkey, "parts")) {
		if (len == 5 && !memcmp(s, "state", 5))
			r->parts |= SD_PART_STATE;
		else if (len == 6 && !memcmp(s, "config", 6))
			r->parts |= SD_PART_CONFIG;
		return 1;
	}
	if (r->depth == 4) {
		struct sd_strlist *l = cur_list(r);
		if (r->key == K_CUSTOM_VARIABLES) {
			struct sd_var *v;
			if (!r->var_name)
				return rfail(r, "custom variable without a name", NULL);
			if (!(p = own(r, s, len)))
				return 0;
			if (!(v = realloc(r->o.vars, (r->o.nvars + 1) * sizeof(*v))))
				return rfail(r, "out of memory", NULL);
			r->o.vars = v;
			v[r->o.nvars].name = r->var_name;
			v[r->o.nvars++].value = p;
			r->var_name = NULL;
			return 1;
		}
		if (!l)
			return r->key == K_NONE ? 1 : rfail(r, "unexpected string", NULL);
		if (!(p = own(r, s, len)))
			return 0;
		{
			char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
			if (!v)
				return rfail(r, "out of memory", NULL);
			l->v = v;
			v[l->n++] = p;
		}
		return 1;
	}
	if (r->depth != 3)
		return rfail(r, "unexpected string", NULL);
	if (r->key == K_NONE)
		return 1;
	if (!(p = own(r, s, len)))
		return 0;
	switch (r->key) {
	case K_NAME:
		r->o.host_name = p;
		r->g.name = p;
		r->have |= 1;
		break;
	case K_HOST_NAME:
		r->o.host_name = r->d.host_name = r->c.host_name = p;
		r->have |= 1;
		break;
	case K_DESCRIPTION:
		r->o.description = p;
		r->have |= 2;
		break;
	case K_SERVICE_DESCRIPTION: r->d.service_description = r->c.service_description = p; break;
	case K_PLUGIN_OUTPUT: r->o.plugin_output = p; break;
	case K_LONG_PLUGIN_OUTPUT: r->o.long_plugin_output = p; break;
	case K_PERF_DATA: r->o.perf_data = p; break;
	case K_ALIAS: r->o.alias = p; r->g.alias = p; break;
	case K_ADDRESS: r->o.address = p; break;
	case K_CHECK_COMMAND: r->o.check_command = p; break;
	case K_NOTES: r->o.notes = p; break;
	case K_NOTES_URL: r->o.notes_url = p; break;
	case K_ACTION_URL: r->o.action_url = p; break;
	case K_ICON_IMAGE: r->o.icon_image = p; break;
	case K_AUTHOR: r->d.author = r->c.author = p; break;
	case K_COMMENT: r->d.comment = r->c.comment = p; break;
	default: return rfail(r, "wrong type (string) for key ", rkey_names[r->key]);
	}
	return 1;
}

static int sj_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, T_KEY, s, len);
	if (r->skip)
		return 1;
	if (r->in_columns == 1) {
		char buf[32];
		if (len >= sizeof(buf)) {
			r->colsec = SEC_NONE;
			return 1;
		}
		memcpy(buf, s, len);
		buf[len] = 0;
		r->colsec = section_of(buf);
		if (r->colsec != SEC_NONE && r->ncols[r->colsec] >= 0)
			return rfail(r, "columns given twice for ", section_names[r->colsec]);
		if (r->colsec != SEC_NONE)
			r->ncols[r->colsec] = 0;
		return 1;
	}
	if (r->depth == 1) {
		free(r->hkey);
		if (!(r->hkey = strndup((const char *)s, len)))
			return rfail(r, "out of memory", NULL);
		return 1;
	}
	if (r->depth == 4 && r->key == K_CUSTOM_VARIABLES) {
		if (!(r->var_name = own(r, s, len)))
			return 0;
		return 1;
	}
	if (r->depth != 3)
		return 1;
	r->key = key_of(s, len);
	return 1;
}

static int section_of(const char *k)
{
	int s;

	for (s = 0; s < SEC_N; s++)
		if (!strcmp(section_names[s], k))
			return s;
	return SEC_NONE;
}

static int sj_start_map(void *ctx)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, T_SMAP, NULL, 0);
	if (r->in_columns)
		return rfail(r, "bad columns", NULL);
	if (!next_col(r))
		return 0;
	switch (skip_start(r)) {
	case 1: return 1;
	case -1: return 0;
	}
	if (r->depth == 0) {
		r->depth = 1;
		return 1;
	}
	if (r->depth == 1 && hkey_kind(r) == H_COLUMNS) {
		if (r->version < 2)
			return rfail(r, "columns need snapshot version 2 or 3 (given first)", NULL);
		if (r->begun)
			return rfail(r, "columns after the first section", NULL);
		r->in_columns = 1;
		return 1;
	}
	if (r->depth == 1)
		return rfail(r, "wrong type for top-level key ", r->hkey);
	if (r->depth == 2 && r->sec != SEC_NONE) {
		if (r->version == 3)    /* records only in blocks */
			return rfail(r, "a block holds column arrays, not ", "objects");
		record_reset(r);
		r->depth = 3;
		return 1;
	}
	if (r->depth == 3 && r->key == K_CUSTOM_VARIABLES) {
		r->depth = 4;
		return 1;
	}
	return rfail(r, "unexpected object", NULL);
}

static int emit_record(struct snapshot_json_reader *r)
{
	int rc = 0;

	switch (r->sec) {
	case SEC_HOSTGROUPS:
	case SEC_SERVICEGROUPS:
		if (!(r->have & 1))
			return rfail(r, "group without a name", NULL);
		r->g.type = r->sec == SEC_HOSTGROUPS ? SD_HOST : SD_SERVICE;
		rc = sd_emit_group(r->sink, &r->g, r->err);
		break;
	case SEC_HOSTS:
	case SEC_SERVICES:
		r->o.type = r->sec == SEC_HOSTS ? SD_HOST : SD_SERVICE;
		if (!(r->have & 1) || (r->o.type == SD_SERVICE && !(r->have & 2)))
			return rfail(r, r->o.type == SD_HOST ? "host without a name" : "service without host_name or description", NULL);
		if (r->o.type == SD_HOST)
			r->o.description = NULL;
		if (!r->o.host_name[0] || (r->o.description && !r->o.description[0]))
			return rfail(r, "empty object name", NULL);
		rc = sd_emit_object(r->sink, &r->o, r->err);
		break;
	case SEC_DOWNTIMES:
		if (!(r->have & 1))
			return rfail(r, "downtime without host_name", NULL);
		rc = sd_emit_downtime(r->sink, &r->d, r->err);
		break;
	case SEC_COMMENTS:
		if (!(r->have & 1) || !r->c.entry_type)
			return rfail(r, "comment without host_name or entry_type", NULL);
		rc = sd_emit_comment(r->sink, &r->c, r->err);
		break;
	default:
		break;
	}
	if (rc < 0) {
		r->failed = 1;
		return 0;
	}
	r->records++;
	return 1;
}

static int sj_end_map(void *ctx)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk)
		return tape_put(r, T_EMAP, NULL, 0);
	if (r->skip) {
		r->skip--;
		return 1;
	}
	if (r->in_columns) {
		r->in_columns = 0;
		return 1;
	}
	if (r->depth == 4) {
		r->depth = 3;
		return 1;
	}
	if (r->depth == 3) {
		int ok = emit_record(r);
		record_reset(r);
		r->depth = 2;
		r->key = K_NONE;
		return ok;
	}
	r->depth = 0;
	return 1;
}

static int sj_start_array(void *ctx)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk == 1) {             /* a column of the block */
		if (r->bcol + 1 >= r->ncols[r->sec])
			return rfail(r, "block with more columns than columns in ", section_names[r->sec]);
		r->colv[++r->bcol] = r->nvi;
		r->blk = 2;
		return 1;
	}
	if (r->blk)
		return tape_put(r, T_SARR, NULL, 0);
	if (r->in_columns) {
		if (r->in_columns != 1)
			return rfail(r, "bad columns", NULL);
		r->in_columns = 2;
		return 1;
	}
	if (!next_col(r))
		return 0;
	switch (skip_start(r)) {
	case 1: return 1;
	case -1: return 0;
	}
	if (r->depth == 1) {
		int s = r->hkey ? section_of(r->hkey) : SEC_NONE;
		if (hkey_kind(r) != H_SECTION && hkey_kind(r) != H_PARTS)
			return rfail(r, "wrong type for top-level key ", r->hkey);
		r->sec = (enum section)s;
		if (s != SEC_NONE && begin_once(r) < 0)
			return 0;
		r->depth = 2;
		return 1;
	}
	if (r->depth == 2 && r->sec != SEC_NONE) {
		if (r->version < 2 || r->ncols[r->sec] < 0)
			return rfail(r, r->version == 3 ? "a block without columns for " :
				     "a record as an array without columns for ", section_names[r->sec]);
		if (r->version == 3) {
			r->blk = 1;
			r->bcol = -1;
			r->brows = 0;
			r->nev = r->narena = r->nvi = 0;
			return 1;
		}
		record_begin_positional(r);
		return 1;
	}
	if (r->depth == 3) {
		if (!cur_list(r))
			return rfail(r, "unexpected array for key ", rkey_names[r->key]);
		r->depth = 4;
		return 1;
	}
	return rfail(r, "unexpected array", NULL);
}

static int sj_end_array(void *ctx)
{
	struct snapshot_json_reader *r = ctx;

	if (r->blk == 2 && r->tnest == 0) {    /* a column's end */
		size_t rows = r->nvi - r->colv[r->bcol];
		if (r->bcol == 0)
			r->brows = rows;
		else if (rows != r->brows)
			return rfail(r, "columns of unequal length in a block of ", section_names[r->sec]);
		r->blk = 1;
		return 1;
	}
	if (r->blk == 2)
		return tape_put(r, T_EARR, NULL, 0);
	if (r->blk == 1)
		return block_play(r);
	if (r->skip) {
		r->skip--;
		return 1;
	}
	if (r->in_columns) {
		r->in_columns = 1;
		return 1;
	}
	if (r->depth == 4) {
		r->depth = 3;
		return 1;
	}
	if (r->depth == 3 && r->positional)
		return record_end_positional(r);
	r->depth = 1;
	r->sec = SEC_NONE;
	return 1;
}

static int sj_integer(void *ctx, long long v)
{
	(void)ctx;
	(void)v;
	return 1;       /* unused: yajl_number takes precedence */
}

static const yajl_callbacks sj_callbacks = {
	sj_null, sj_bool, sj_integer, NULL, sj_number, sj_string,
	sj_start_map, sj_map_key, sj_end_map, sj_start_array, sj_end_array,
};

struct snapshot_json_reader *snapshot_json_reader_new(const struct sd_sink *sink, const char *name, sd_error *err)
{
	struct snapshot_json_reader *r = calloc(1, sizeof(*r));
	int i;

	if (!r || !(r->h = yajl_alloc(&sj_callbacks, NULL, r))) {
		free(r);
		return NULL;
	}
	/* strings are checked as UTF-8 by yajl (the writer repairs before writing) */
	r->sink = sink;
	r->name = name ? name : "snapshot";
	r->err = err;
	r->sec = SEC_NONE;
	for (i = 0; i < SEC_N; i++)
		r->ncols[i] = -1;
	sd_object_clear(&r->o);
	return r;
}

static int sj_status(struct snapshot_json_reader *r, yajl_status st, const unsigned char *buf, size_t len)
{
	if (st == yajl_status_ok)
		return 0;
	if (!r->failed) {
		unsigned char *m = yajl_get_error(r->h, 0, buf, len);
		char *nl;
		if (m && (nl = strpbrk((char *)m, "\r\n")))
			*nl = 0;        /* one line: yajl ends its message with a newline */
		sd_fail(r->err, "%s: byte %zu: %s", r->name,
			r->fed + (buf ? (size_t)yajl_get_bytes_consumed(r->h) : 0), m ? (const char *)m : "parse error");
		if (m)
			yajl_free_error(r->h, m);
	}
	r->failed = 1;
	return -1;
}

static int parse(struct snapshot_json_reader *r, const unsigned char *buf, size_t len)
{
	int rc;

	if (!len)
		return 0;
	rc = sj_status(r, yajl_parse(r->h, buf, len), buf, len);
	r->fed += len;
	return rc;
}

/* The offset just after the last byte of p[0, len) that is outside a
 * JSON string; r->in_str and r->esc follow the text. *first: just after
 * the end of the string p began inside of (0 if none or not ended).
 * memchr jumps: the scan costs a few percent of yajl's. */
static size_t string_scan(struct snapshot_json_reader *r, const unsigned char *p, size_t len, size_t *first)
{
	size_t i = 0, out = r->in_str ? 0 : len;
	int open_at_start = r->in_str;

	*first = 0;
	while (i < len) {
		const unsigned char *q, *b;
		if (!r->in_str) {
			if (!(q = memchr(p + i, '"', len - i)))
				return len;
			r->in_str = 1;
			out = (size_t)(q - p);
			i = out + 1;
			continue;
		}
		if (r->esc) {
			r->esc = 0;
			i++;
			continue;
		}
		q = memchr(p + i, '"', len - i);
		b = memchr(p + i, '\\', (q ? (size_t)(q - p) : len) - i);
		if (b) {
			r->esc = 1;
			i = (size_t)(b - p) + 1;
		} else if (q) {
			r->in_str = 0;
			i = (size_t)(q - p) + 1;
			out = i;
			if (open_at_start && !*first)
				*first = i;
		} else {
			i = len;
		}
	}
	return out;
}

static int hold(struct snapshot_json_reader *r, const unsigned char *p, size_t n)
{
	if (r->nheld + n > r->capheld) {
		size_t cap = r->capheld ? r->capheld : 65536;
		unsigned char *h;
		while (cap < r->nheld + n)
			cap *= 2;
		if (!(h = realloc(r->held, cap))) {
			r->failed = 1;
			return sd_fail(r->err, "%s: out of memory", r->name);
		}
		r->held = h;
		r->capheld = cap;
	}
	memcpy(r->held + r->nheld, p, n);
	r->nheld += n;
	return 0;
}

/*
 * Why strings are held back: yajl restarts a token that a chunk cut from
 * its beginning at every later chunk, so a 64 MiB string fed in 64 KiB
 * chunks was scanned 1,024 times (measured: 193 s of CPU for a bundle
 * with 64 MiB texts, 0.97 s with 4 MiB ones). The part of a chunk that
 * is inside a string waits here until the string ends, and then goes to
 * yajl whole, with its end: yajl neither rescans nor copies it.
 */
int snapshot_json_reader_feed(struct snapshot_json_reader *r, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t out, first;

	if (r->failed)
		return -1;
	out = string_scan(r, p, len, &first);
	if (r->nheld && first) {
		if (hold(r, p, first) < 0 || parse(r, r->held, r->nheld) < 0)
			return -1;
		r->nheld = 0;
		p += first;
		len -= first;
		out -= first;
	}
	if (parse(r, p, out) < 0)
		return -1;
	return out < len ? hold(r, p + out, len - out) : 0;
}

long snapshot_json_reader_finish(struct snapshot_json_reader *r)
{
	if (r->failed)
		return -1;
	if (parse(r, r->held, r->nheld) < 0)    /* an unended string: yajl says so */
		return -1;
	r->nheld = 0;
	if (sj_status(r, yajl_complete_parse(r->h), NULL, 0) < 0)
		return -1;
	if (r->depth != 0)
		return sd_fail(r->err, "%s: truncated", r->name);
	if (begin_once(r) < 0)
		return -1;
	if (r->sink->end && r->sink->end(r->sink->ctx, r->err) < 0)
		return -1;
	return r->records;
}

void snapshot_json_reader_free(struct snapshot_json_reader *r)
{
	if (!r)
		return;
	record_reset(r);
	free(r->owned);
	free(r->tev);
	free(r->arena);
	free(r->vi);
	free(r->held);
	free(r->hkey);
	free(r->site);
	free(r->source);
	yajl_free(r->h);
	free(r);
}

long snapshot_json_read_fd(int fd, const char *name, const struct sd_sink *sink, sd_error *err)
{
	struct snapshot_json_reader *r = snapshot_json_reader_new(sink, name, err);
	char buf[65536];
	ssize_t n;
	long rc = -1;

	if (!r)
		return sd_fail(err, "out of memory");
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			sd_fail(err, "%s: %s", r->name, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (snapshot_json_reader_feed(r, buf, (size_t)n) < 0)
			goto out;
	}
	rc = snapshot_json_reader_finish(r);
out:
	snapshot_json_reader_free(r);
	return rc;
}
