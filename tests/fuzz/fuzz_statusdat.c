/*
 * libFuzzer target: status.dat + objects.cache reader. The input is split at
 * its first NUL (or in half) into status.dat and objects.cache; both parts
 * are read. The sink touches every string so that ASan sees stale pointers,
 * checks snapshot.h's conventions, and skips or refuses some records to walk
 * the reporting paths. The reader's own reports (blocks skipped, times
 * clamped) must be single lines and come before any record.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/statusdat.h"

struct fz {
	unsigned n;
	unsigned seed;
	unsigned parts;
	int failed;             /* an error came back after records were emitted */
};

static size_t touch(const char *s)
{
	if (!s)
		abort();
	return strlen(s);
}

static int verdict(struct fz *z, sd_error *err)
{
	z->n++;
	if (z->seed && z->n % 7 == z->seed % 7)
		return sd_fail(err, "skipped"), 1;
	if (z->seed && z->n == z->seed % 97 + 1)
		return sd_fail(err, "refused");
	return 0;
}

static int on_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	touch(g->name);
	touch(g->alias);
	if (!*g->name)
		abort();
	return verdict(ctx, err);
}

static void strlist(const struct sd_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!touch(l->v[i]))    /* empty items are dropped */
			abort();
}

static int on_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	size_t i;

	if (!touch(o->host_name) || (o->type == SD_HOST) != !o->description)
		abort();
	if (o->description && !touch(o->description))
		abort();
	touch(o->plugin_output);
	touch(o->long_plugin_output);
	touch(o->perf_data);
	touch(o->alias);
	touch(o->address);
	touch(o->check_command);
	touch(o->notes);
	touch(o->notes_url);
	touch(o->action_url);
	touch(o->icon_image);
	strlist(&o->parents);
	strlist(&o->groups);
	strlist(&o->contacts);
	strlist(&o->contact_groups);
	for (i = 0; i < o->nvars; i++)
		touch(o->vars[i].name), touch(o->vars[i].value);
	if (o->state < 0 || o->state > 3 || o->last_check < 0 || (!o->acknowledged && o->acknowledgement_type))
		abort();
	return verdict(ctx, err);
}

static int on_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	touch(c->host_name);
	touch(c->author);
	touch(c->comment);
	if (c->service_description)
		touch(c->service_description);
	return verdict(ctx, err);
}

static int on_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	touch(d->host_name);
	touch(d->author);
	touch(d->comment);
	if (d->service_description)
		touch(d->service_description);
	return verdict(ctx, err);
}

/* The reader's own reports (not a sink's "skipped", whose label holds the
 * raw name) are one line each and all come before the first record. */
static void on_report(void *ctx, const char *what, const char *why)
{
	struct fz *z = ctx;

	touch(what);
	touch(why);
	if (!strcmp(why, "skipped"))
		return;
	if (strchr(what, '\n') || strchr(why, '\n') || z->n)
		abort();
}

static FILE *open_part(const uint8_t *p, size_t n)
{
	static char nl[] = "\n";        /* fmemopen refuses size 0; a blank line is the same */

	return n ? fmemopen((void *)p, n, "r") : fmemopen(nl, 1, "r");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	size_t slen = nul ? (size_t)(nul - data) : size / 2;
	const uint8_t *ob = nul ? nul + 1 : data + slen;
	size_t olen = size - (size_t)(ob - data);
	unsigned parts[2] = { SD_PART_STATE, SD_PART_CONFIG };
	struct fz z;
	struct sd_sink sink = {
		.ctx = &z, .group = on_group, .object = on_object, .comment = on_comment,
		.downtime = on_downtime, .skipped = on_report, .warned = on_report, .report_ctx = &z,
	};
	sd_error err;
	FILE *fs, *fo;
	int i, rc;

	for (i = 0; i < 2; i++) {
		memset(&z, 0, sizeof(z));
		z.seed = size > 2 ? data[size - 1] : 0;
		z.parts = parts[i];
		fs = open_part(data, slen);
		fo = open_part(ob, olen);
		if (!fs || !fo)
			abort();
		err.msg[0] = '\0';
		rc = statusdat_read_fp(fs, NULL, fo, NULL, parts[i], &sink, &err);
		/* errors: one line; without a sink refusal, never after records */
		if (rc < 0 && (!err.msg[0] || strchr(err.msg, '\n')))
			abort();
		if (rc < 0 && z.n && strcmp(err.msg, "refused"))
			abort();
		if (rc != 0 && rc != -1)
			abort();
		fclose(fs);
		fclose(fo);
	}
	return 0;
}
