/* libFuzzer target: the REST API source's object reply reader (src/icinga2api/source_api.c).
 * The first byte picks the query (object type), the rest is the reply, fed in two pieces;
 * a dependencies and a downtime-ids reply made of the same bytes go first, so the indexes
 * they fill are used too. Every string of every record is read in full (ASan sees any
 * overrun). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "icinga2api/source_api.h"

static size_t sum;

static void list(const struct sd_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		sum += strlen(l->v[i]);
}

static int on_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	size_t i;

	sum += strlen(o->host_name) + (o->description ? strlen(o->description) : 0) + strlen(o->plugin_output) +
	       strlen(o->long_plugin_output) + strlen(o->perf_data) + strlen(o->alias) + strlen(o->address) +
	       strlen(o->check_command) + strlen(o->notes) + strlen(o->notes_url) + strlen(o->action_url) +
	       strlen(o->icon_image) + (size_t)o->state + (size_t)o->last_check;
	list(&o->groups);
	list(&o->parents);
	list(&o->contacts);
	list(&o->contact_groups);
	for (i = 0; i < o->nvars; i++)
		sum += strlen(o->vars[i].name) + strlen(o->vars[i].value);
	return 0;
}

static int on_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	sum += strlen(g->name) + strlen(g->alias);
	return 0;
}

static int on_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	sum += strlen(c->host_name) + (c->service_description ? strlen(c->service_description) : 0) +
	       strlen(c->author) + strlen(c->comment);
	return 0;
}

static int on_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	sum += strlen(d->host_name) + (d->service_description ? strlen(d->service_description) : 0) +
	       strlen(d->author) + strlen(d->comment) + (size_t)d->triggered_by;
	return 0;
}

static void feed(struct api_objreader *r, enum api_query q, const char *p, size_t n)
{
	sd_error err = { "" };
	size_t half = n / 2;

	if (api_objreader_begin(r, q, &err) < 0)
		return;
	if (api_objreader_feed(r, p, half, &err) == 0 && api_objreader_feed(r, p + half, n - half, &err) == 0)
		api_objreader_end(r, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sd_sink sink = { .group = on_group, .object = on_object, .downtime = on_downtime,
				.comment = on_comment };
	struct api_objreader *r;
	enum api_query q;

	if (size < 1)
		return 0;
	q = (enum api_query)(data[0] % (APIQ_DOWNTIMES + 1));
	if (!(r = api_objreader_new(SD_PART_STATE | SD_PART_CONFIG, &sink)))
		return 0;
	feed(r, APIQ_DEPENDENCIES, (const char *)data + 1, size - 1);
	feed(r, APIQ_DOWNTIME_IDS, (const char *)data + 1, size - 1);
	feed(r, q, (const char *)data + 1, size - 1);
	api_objreader_free(r);
	return 0;
}
