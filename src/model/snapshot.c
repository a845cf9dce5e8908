/*
 * snapshot.c - small helpers around the record model of snapshot.h.
 * The dispatch helpers exist so that every source reports skipped records
 * the same way instead of each growing its own copy of the rc handling.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "model/snapshot.h"

const char *sd_object_label(const struct sd_object *o, char *buf, size_t len)
{
	if (o->type == SD_SERVICE)
		snprintf(buf, len, "service '%s;%s'", o->host_name, o->description ? o->description : "");
	else
		snprintf(buf, len, "host '%s'", o->host_name);
	return buf;
}

/* The label is built only for a skipped record: a snprintf per record
 * was a measurable part of a 50k-service export. */
static int handle_rc(const struct sd_sink *s, int rc, sd_error *err, void (*label)(const void *, char *, size_t),
		     const void *rec)
{
	char what[600];

	if (rc == 1) {
		if (s->skipped) {
			label(rec, what, sizeof(what));
			s->skipped(s->report_ctx, what, err->msg);
		}
		err->msg[0] = '\0';
		return 0;
	}
	return rc < 0 ? -1 : 0;
}

static void object_label(const void *rec, char *buf, size_t len)
{
	sd_object_label(rec, buf, len);
}

static void group_label(const void *rec, char *buf, size_t len)
{
	const struct sd_group *g = rec;

	snprintf(buf, len, "%s '%s'", g->type == SD_HOST ? "hostgroup" : "servicegroup", g->name);
}

static void downtime_label(const void *rec, char *buf, size_t len)
{
	snprintf(buf, len, "downtime %lld", ((const struct sd_downtime *)rec)->id);
}

static void comment_label(const void *rec, char *buf, size_t len)
{
	snprintf(buf, len, "comment %lld", ((const struct sd_comment *)rec)->id);
}

int sd_emit_object(const struct sd_sink *s, const struct sd_object *o, sd_error *err)
{
	if (!s->object)
		return 0;
	return handle_rc(s, s->object(s->ctx, o, err), err, object_label, o);
}

int sd_emit_group(const struct sd_sink *s, const struct sd_group *g, sd_error *err)
{
	if (!s->group)
		return 0;
	return handle_rc(s, s->group(s->ctx, g, err), err, group_label, g);
}

int sd_emit_downtime(const struct sd_sink *s, const struct sd_downtime *d, sd_error *err)
{
	if (!s->downtime)
		return 0;
	return handle_rc(s, s->downtime(s->ctx, d, err), err, downtime_label, d);
}

int sd_emit_comment(const struct sd_sink *s, const struct sd_comment *c, sd_error *err)
{
	if (!s->comment)
		return 0;
	return handle_rc(s, s->comment(s->ctx, c, err), err, comment_label, c);
}

void sd_object_clear(struct sd_object *o)
{
	static char empty[] = "";
	/* one struct copy per row instead of a memset and a dozen stores */
	static const struct sd_object blank = {
		.host_name = empty,
		.plugin_output = empty, .long_plugin_output = empty, .perf_data = empty,
		.alias = empty, .address = empty, .check_command = empty,
		.notes = empty, .notes_url = empty, .action_url = empty, .icon_image = empty,
		.current_attempt = 1,
		.max_check_attempts = 1,
	};

	*o = blank;
}
