/*
 * channel_api.c - results and commands through Icinga 2's REST API
 * (src/icinga2api: one keep-alive HTTPS connection; formats/icinga2_api:
 * the action bodies and the reader of their replies).
 *
 * Why a channel of its own, and why it ignores the command line apply.c
 * built: the API takes what Livestatus commands cannot carry (a result's
 * output and long output as they are, hosts included; perf data as items;
 * execution start and end; names with ';'; comments and downtimes removed
 * by their name), so results come as raw parts (chan_result.perf set) and
 * commands as fields (struct apply_cmd). Each request is answered before
 * the next goes: a refusal (4xx/5xx) names its object and Icinga's reason
 * through the channel's refused callback and the run goes on; a 409
 * "newer result" (Icinga >= 2.14) means the central already has it; a 503
 * or a lost connection (the core reloading, docs/core-behaviour.md) is
 * retried until --reload-wait is over. docs/core-behaviour.md §10.
 */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "import/channel.h"
#include "icinga2api/api.h"
#include "formats/icinga2_api.h"
#include "base/deadline.h"

struct apich {
	struct channel ch;              /* first: the channel is the connection */
	struct api *api;
	int reload_wait_ms;
	struct sd_waiter waiter;        /* told when a reload keeps the API away */
	const char *what;               /* the object of the request in flight */
	int is_result;                  /* ... and it is a check result */
};

static void refuse(struct apich *a, const char *why)
{
	if (a->ch.refused)
		a->ch.refused(a->ch.ctx, a->what, why);
}

/* One result of an action's reply. */
static int on_result(void *ctx, const struct ia_result *r, sd_error *err)
{
	struct apich *a = ctx;
	char why[SD_ERRLEN];

	(void)err;
	if (r->code >= 200 && r->code < 300)
		return 0;
	if (r->code == 409 && a->is_result && r->status && strstr(r->status, "ewer")) {
		/* "Newer check result already present" (Icinga >= 2.14); other
		 * 409s (an ack on an OK object) are refusals */
		a->ch.already++;
		return 0;
	}
	snprintf(why, sizeof(why), "%d: %s", r->code, r->status ? r->status : "(no reason given)");
	refuse(a, why);
	return 0;
}

/* POST one action; a refusal is reported (0), a failure to reach the
 * core or to be let in is -1. body: NULL when the builder refused it. */
static int post(struct apich *a, const char *path, char *body, sd_error *err)
{
	struct api_reply rep = { 0 };
	struct sd_deadline dl;
	sd_error e = { "" };
	long st;
	int retrying = 0;

	if (!body) {            /* a name that is not UTF-8, say: that object only */
		refuse(a, err->msg);
		return 0;
	}
	for (;;) {
		api_reply_free(&rep);
		memset(&rep, 0, sizeof(rep));
		st = api_request(a->api, "POST", path, body, &rep, &e);
		if (st != 503 && st != -1)
			break;
		/* the core reloading: its API refuses (503) or drops the connection */
		if (!retrying) {
			retrying = 1;
			sd_deadline_start(&dl, a->reload_wait_ms);
		}
		sd_deadline_notice(&dl, &a->waiter, "icinga2's API to answer again (a reload?)");
		if (sd_deadline_over(&dl))
			break;
		usleep(250000);
	}
	free(body);
	if (st < 0 || st == 503 || st == 401 || st == 403) {
		/* the run's trouble, not the object's: e names URL and cause */
		api_reply_free(&rep);
		return sd_fail(err, "%s", e.msg);
	}
	if (ia_read_results(rep.body, rep.len, on_result, a, &e) < 0) {
		if (st == 409 && a->is_result && strstr(e.msg, "ewer"))
			a->ch.already++;
		else
			refuse(a, st == 404 ? "404: No objects found (not on the central, or the ApiUser's "
			       "permissions exclude it)" : e.msg);
	}
	api_reply_free(&rep);
	return 0;
}

/* "service 'h!s'" / "host 'h'" (or the item's name) for reports */
static const char *name_what(char *buf, size_t len, const char *kind, const char *host, const char *svc)
{
	snprintf(buf, len, "%s%s%s '%s%s%s'", kind, *kind ? " on " : "", svc ? "service" : "host", host,
		 svc ? "!" : "", svc ? svc : "");
	return buf;
}

/* Perf data as items: split at spaces outside single quotes (a quoted
 * label may hold spaces; '' inside quotes is a quote). s is changed. */
static size_t split_perf(char *s, const char **items, size_t max)
{
	size_t n = 0;
	int q = 0;

	while (*s && n < max) {
		while (*s == ' ')
			s++;
		if (!*s)
			break;
		items[n++] = s;
		for (; *s && (q || *s != ' '); s++)
			if (*s == '\'')
				q = !q;
		if (*s)
			*s++ = 0;
		q = 0;
	}
	return n;
}

static int api_result(struct channel *ch, const struct chan_result *r, sd_error *err)
{
	struct apich *a = (struct apich *)ch;
	struct ia_target t = { .host = r->host, .service = r->svc };
	struct ia_check_result cr = { 0 };
	char *out, *perf, *bar, what[700];
	const char **items;
	int rc;

	/* encoded output (siteload's own link and stale results): perf data after '|' */
	if (!(out = strdup(r->output)) || !(perf = strdup(r->perf ? r->perf : ""))) {
		free(out);
		return sd_fail(err, "out of memory");
	}
	if (!r->perf && (bar = strchr(out, '|'))) {
		*bar = 0;
		free(perf);
		if (!(perf = strdup(bar + 1))) {
			free(out);
			return sd_fail(err, "out of memory");
		}
	}
	if (!(items = calloc(strlen(perf) / 2 + 1, sizeof(*items)))) {
		free(out);
		free(perf);
		return sd_fail(err, "out of memory");
	}
	cr.exit_status = r->rc;
	cr.output = out;
	cr.perf = items;
	cr.n_perf = split_perf(perf, items, strlen(perf) / 2 + 1);
	/* end = the result's time: Icinga makes it last_state_change, and the
	 * central's model reads it back as the last check; the execution time
	 * before it (reconcile.c keeps start after the central's current one:
	 * Icinga drops a result that starts earlier, with 200) */
	cr.end = (double)r->ts;
	cr.start = (double)r->ts - (r->exec_time > 0 ? r->exec_time : 0);
	cr.check_source = a->ch.source;
	a->what = name_what(what, sizeof(what), "check result", r->host, r->svc);
	a->is_result = 1;
	rc = post(a, IA_PATH_PROCESS_CHECK_RESULT, ia_process_check_result(&t, &cr, err), err);
	free(items);
	free(out);
	free(perf);
	return rc;
}

static char *cmd_body(const struct apply_cmd *c, char *what, size_t len, const char **path, sd_error *err)
{
	struct ia_target t = { .host = c->host, .service = c->svc };

	switch (c->verb) {
	case APPLY_ACK: {
		struct ia_ack k = { c->author, c->comment, 0, c->sticky, 0, c->persistent };
		*path = IA_PATH_ACKNOWLEDGE_PROBLEM;
		name_what(what, len, "acknowledgement", c->host, c->svc);
		return ia_acknowledge_problem(&t, &k, err);
	}
	case APPLY_REMOVE_ACK:
		*path = IA_PATH_REMOVE_ACKNOWLEDGEMENT;
		name_what(what, len, "removing the acknowledgement", c->host, c->svc);
		return ia_remove_acknowledgement(&t, err);
	case APPLY_COMMENT: {
		struct ia_comment k = { c->author, c->comment };
		*path = IA_PATH_ADD_COMMENT;
		name_what(what, len, "comment", c->host, c->svc);
		return ia_add_comment(&t, &k, err);
	}
	case APPLY_DOWNTIME: {
		struct ia_downtime d = { c->author, c->comment, c->start, c->end, c->fixed ? 0 : c->duration,
					 c->fixed, NULL };
		*path = IA_PATH_SCHEDULE_DOWNTIME;
		name_what(what, len, "downtime", c->host, c->svc);
		return ia_schedule_downtime(&t, &d, err);
	}
	case APPLY_DEL_COMMENT:
	case APPLY_DEL_DOWNTIME:
		t = (struct ia_target){ .name = c->name };
		*path = c->verb == APPLY_DEL_COMMENT ? IA_PATH_REMOVE_COMMENT : IA_PATH_REMOVE_DOWNTIME;
		snprintf(what, len, "removing %s '%s'", c->verb == APPLY_DEL_COMMENT ? "comment" : "downtime",
			 c->name ? c->name : "");
		if (!c->name) {
			sd_fail(err, "internal: a deletion without the API's name (the central not read through the API)");
			return NULL;
		}
		return c->verb == APPLY_DEL_COMMENT ? ia_remove_comment(&t, err) : ia_remove_downtime(&t, err);
	}
	sd_fail(err, "internal: unknown command");
	return NULL;
}

static int api_command(struct channel *ch, const char *line, const struct apply_cmd *c, sd_error *err)
{
	struct apich *a = (struct apich *)ch;
	const char *path = NULL;
	char what[700];
	char *body;

	(void)line;
	if (!c)
		return sd_fail(err, "internal: the API channel takes commands as fields");
	body = cmd_body(c, what, sizeof(what), &path, err);
	a->what = what;
	a->is_result = 0;
	return post(a, path, body, err);
}

static int api_flush(struct channel *ch, sd_error *err)
{
	(void)ch;
	(void)err;
	return 0;       /* every request was answered when it was sent */
}

static void api_free(struct channel *ch)
{
	api_close(((struct apich *)ch)->api);
	free(ch);
}

static const struct channel_ops api_ops = { api_result, api_command, api_flush, NULL, api_free };

struct channel *channel_api_open(const struct api_opts *o, int reload_wait_ms, const struct sd_waiter *w,
				 sd_error *err)
{
	struct apich *a = calloc(1, sizeof(*a));

	if (!a) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	a->ch.ops = &api_ops;
	a->ch.parts = 1;
	a->reload_wait_ms = reload_wait_ms;
	if (w)
		a->waiter = *w;
	if (!(a->api = api_open(o, err))) {
		free(a);
		return NULL;
	}
	return &a->ch;
}
