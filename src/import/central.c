/*
 * central.c - read the central core's current state into a small model.
 *
 * The sources are the same ones sitedump exports from (Livestatus,
 * status.dat), driven into a sink that keeps only decision fields. The
 * central's files hold what every remote site sent, so what the reader
 * skips or clamps is reported and the model is built from the rest: one
 * site's odd object must not stop the imports of all the others.
 */

#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "import/central.h"
#include "livestatus/source_livestatus.h"
#include "formats/statusdat.h"

static int obj_cmp(const void *a, const void *b)
{
	const struct central_obj *x = a, *y = b;
	int r = strcmp(x->host, y->host);

	if (r)
		return r;
	if (!x->svc || !y->svc)
		return !!x->svc - !!y->svc;
	return strcmp(x->svc, y->svc);
}

static void obj_free(void *p)
{
	struct central_obj *o = p;

	free(o->host);
	free(o->svc);
	free(o->ack_author);
	free(o->ack_comment);
	free(o);
}

struct central *central_new(void)
{
	return calloc(1, sizeof(struct central));
}

static struct central_obj *find_mut(const struct central *c, const char *host, const char *svc)
{
	struct central_obj key = { 0 };
	void *const *p;

	key.host = (char *)host;
	key.svc = (char *)svc;
	p = tfind(&key, &c->root, obj_cmp);
	return p ? *(struct central_obj *const *)p : NULL;
}

const struct central_obj *central_find(const struct central *c, const char *host, const char *svc)
{
	return find_mut(c, host, svc);
}

int central_has_host(const struct central *c, const char *host)
{
	return find_mut(c, host, NULL) != NULL;
}

static int c_object(void *ctx, const struct sd_object *so, sd_error *err)
{
	struct central *c = ctx;
	struct central_obj *o = calloc(1, sizeof(*o));
	void *p;

	if (!o || !(o->host = strdup(so->host_name)) || (so->description && !(o->svc = strdup(so->description)))) {
		if (o)
			obj_free(o);
		return sd_fail(err, "out of memory");
	}
	o->state = so->state;
	o->state_type = so->state_type;
	o->attempt = so->current_attempt;
	o->max_attempts = so->max_check_attempts;
	o->has_been_checked = so->has_been_checked;
	o->last_check = so->last_check;
	o->acknowledged = so->acknowledged;
	o->ack_type = so->acknowledgement_type;
	o->stale = !strncmp(so->plugin_output, CENTRAL_STALE_PREFIX, strlen(CENTRAL_STALE_PREFIX));
	if (!(p = tsearch(o, &c->root, obj_cmp))) {
		obj_free(o);
		return sd_fail(err, "out of memory");
	}
	if (*(struct central_obj **)p != o)
		obj_free(o);    /* a duplicate row: keep the first */
	else
		c->nobjs++;
	return 0;
}

static int push(struct central_item **v, size_t *n, size_t *cap, struct central_item *it)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct central_item *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = *it;
	return 0;
}

static void item_free(struct central_item *it)
{
	free(it->host);
	free(it->svc);
	free(it->author);
	free(it->comment);
}

static int fill_item(struct central_item *it, long long id, const char *host, const char *svc,
		     const char *author, const char *comment)
{
	memset(it, 0, sizeof(*it));
	it->id = id;
	if (!(it->host = strdup(host)) || (svc && !(it->svc = strdup(svc))) ||
	    !(it->author = strdup(author)) || !(it->comment = strdup(comment))) {
		item_free(it);
		return -1;
	}
	return 0;
}

static int c_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct central *c = ctx;
	struct central_item it;

	if (fill_item(&it, d->id, d->host_name, d->service_description, d->author, d->comment) < 0)
		return sd_fail(err, "out of memory");
	it.start = d->start_time < CENTRAL_TIME_MAX ? d->start_time : CENTRAL_TIME_MAX;
	it.end = d->end_time < CENTRAL_TIME_MAX ? d->end_time : CENTRAL_TIME_MAX;
	it.fixed = d->fixed;
	it.duration = d->duration < CENTRAL_TIME_MAX ? d->duration : CENTRAL_TIME_MAX;
	it.entry_time = d->entry_time;
	if (push(&c->downtimes, &c->ndowntimes, &c->capd, &it) < 0) {
		item_free(&it);
		return sd_fail(err, "out of memory");
	}
	return 0;
}

static int c_comment(void *ctx, const struct sd_comment *sc, sd_error *err)
{
	struct central *c = ctx;
	struct central_item it;

	if (sc->entry_type == 4) {
		/* the ack's author and text: objects come before comments */
		struct central_obj *o = find_mut(c, sc->host_name, sc->service_description);
		if (o && (!o->ack_author || sc->entry_time >= o->ack_time)) {
			char *a = strdup(sc->author), *t = strdup(sc->comment);
			if (!a || !t) {
				free(a);
				free(t);
				return sd_fail(err, "out of memory");
			}
			free(o->ack_author);
			free(o->ack_comment);
			o->ack_author = a;
			o->ack_comment = t;
			o->ack_time = sc->entry_time;
		}
		return 0;
	}
	if (sc->entry_type != 1)
		return 0;       /* downtime and flapping comments belong to the core */
	if (fill_item(&it, sc->id, sc->host_name, sc->service_description, sc->author, sc->comment) < 0)
		return sd_fail(err, "out of memory");
	it.entry_time = sc->entry_time;
	it.persistent = sc->persistent;
	if (push(&c->comments, &c->ncomments, &c->capc, &it) < 0) {
		item_free(&it);
		return sd_fail(err, "out of memory");
	}
	return 0;
}

static void sink_init(struct sd_sink *s, struct central *c)
{
	memset(s, 0, sizeof(*s));
	s->ctx = c;
	s->object = c_object;
	s->downtime = c_downtime;
	s->comment = c_comment;
}

/* The filters on a site's mark: Nagios-family Livestatus matches a custom
 * variable by name and value; Icinga 2's takes only = on the whole dict or
 * >= on the list of values, so there any top-level variable with the
 * site's name as its value matches (a superset: ownership is checked
 * anyway, and the remote's own variables are below vars.sitedump_remote). */
static int site_filters(const char *site, enum sd_core core, char **hosts, char **others)
{
	if (core == CORE_ICINGA2)
		return asprintf(hosts, "Filter: custom_variable_values >= %s\n", site) < 0 ||
		       asprintf(others, "Filter: host_custom_variable_values >= %s\n", site) < 0 ? -1 : 0;
	return asprintf(hosts, "Filter: custom_variables = SITEDUMP_SITE %s\n", site) < 0 ||
	       asprintf(others, "Filter: host_custom_variables = SITEDUMP_SITE %s\n", site) < 0 ? -1 : 0;
}

struct central *central_read_livestatus(const char *spec, int timeout_ms, const char *site, enum sd_core core,
					sd_error *err)
{
	struct central *c = central_new();
	struct ls_source_opts o = { 0 };
	struct sd_sink s;
	char *hf = NULL, *of = NULL;
	int rc = -1;

	if (!c || (site && site_filters(site, core, &hf, &of) < 0)) {
		sd_fail(err, "out of memory");
		goto out;
	}
	sink_init(&s, c);
	o.spec = spec;
	o.timeout_ms = timeout_ms;
	o.host_headers = "";
	o.host_only_headers = hf ? hf : "";
	o.service_headers = o.item_headers = of ? of : "";
	o.parts = SD_PART_CENTRAL;     /* only the columns c_object reads */
	rc = source_livestatus_run(&o, &s, err);
out:
	free(hf);
	free(of);
	if (rc < 0) {
		central_free(c);
		return NULL;
	}
	return c;
}

struct central *central_read_statusdat(const char *status, const char *objects,
				       void (*report)(void *ctx, const char *what, const char *why),
				       void *report_ctx, sd_error *err)
{
	struct central *c = central_new();
	struct sd_sink s;

	if (!c) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	sink_init(&s, c);
	/* the reader's own reports: blocks it skipped, times it clamped */
	s.skipped = report;
	s.warned = report;
	s.report_ctx = report_ctx;
	if (statusdat_read(status, objects, SD_PART_STATE, &s, err) < 0) {
		central_free(c);
		return NULL;
	}
	return c;
}

void central_free(struct central *c)
{
	size_t i;

	if (!c)
		return;
	tdestroy(c->root, obj_free);
	for (i = 0; i < c->ndowntimes; i++)
		item_free(&c->downtimes[i]);
	for (i = 0; i < c->ncomments; i++)
		item_free(&c->comments[i]);
	free(c->downtimes);
	free(c->comments);
	free(c);
}
