/*
 * apply.c - what goes to which channel, and in which order.
 *
 * Why: check results go to the spool when there is one (it alone carries
 * latency and execution time), else as commands; everything else goes to
 * the FIFO or Livestatus (channel.h). Results reach the core before the
 * commands that depend on them: with a spool, commands are held back in a
 * temp file until the core has read the result files (an ack on an object
 * the core still thinks is OK is dropped). The command text each core
 * takes is built here, in one place (formats/extcmd.c); --dry-run prints
 * it through a channel of its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "import/apply.h"
#include "import/channel.h"
#include "formats/extcmd.h"

struct applier {
	struct apply_opts o;
	struct apply_stats st;
	struct channel *res;            /* takes results: the spool, or NULL */
	struct channel *cmd;            /* takes commands: FIFO, Livestatus, the dry-run printer */
	FILE *queue;                    /* commands held back until the spool is read */
	struct extcmd line;
	int sent;                       /* first_send called */
	char *last;                     /* verify: the last object reported */
};

/* ---- --dry-run: commands printed, one per line ---- */

struct printer {
	struct channel ch;
	FILE *f;
};

static int print_command(struct channel *ch, const char *line, const struct apply_cmd *cmd, sd_error *err)
{
	(void)cmd;
	(void)err;
	fprintf(((struct printer *)ch)->f, "%s\n", line);
	return 0;
}

static int print_flush(struct channel *ch, sd_error *err)
{
	return fflush(((struct printer *)ch)->f) ? sd_fail(err, "write error") : 0;
}

static void print_free(struct channel *ch)
{
	free(ch);
}

static const struct channel_ops print_ops = { NULL, print_command, print_flush, NULL, print_free };

static struct channel *printer_open(FILE *f, sd_error *err)
{
	struct printer *p = calloc(1, sizeof(*p));

	if (!p) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	p->ch.ops = &print_ops;
	p->f = f;
	return &p->ch;
}

/* ---- the applier ---- */

static void refused(void *ctx, const char *line, const char *why)
{
	struct applier *a = ctx;

	a->st.refused++;
	if (a->o.report)
		a->o.report(a->o.report_ctx, line, why);
}

static struct channel *cmd_channel(const struct apply_opts *o, sd_error *err)
{
	if (o->dry_run)
		return printer_open(o->dry_run, err);
	if (o->command_file)
		return channel_fifo_open(o->command_file, o->timeout_ms, (o->profile ? o->profile : core_profile(o->core))->name,
					 &o->waiter, err);
	if (o->livestatus)
		return channel_livestatus_open(o->livestatus, o->profile ? o->profile : core_profile(o->core),
					       o->timeout_ms, err);
	if (o->api)
		return channel_api_open(o->api, o->reload_wait_ms, &o->waiter, err);
	return NULL;
}

struct applier *apply_open(const struct apply_opts *o, sd_error *err)
{
	struct applier *a = calloc(1, sizeof(*a));

	if (!a) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	a->o = *o;
	if (o->verify)
		return a;
	if (o->checkresults &&
	    !(a->res = channel_spool_open(o->checkresults, o->dry_run, o->reap_wait_ms,
					  (o->profile ? o->profile : core_profile(o->core))->name, &o->waiter, err)))
		goto fail;
	if ((o->dry_run || o->command_file || o->livestatus || o->api) && !(a->cmd = cmd_channel(o, err)))
		goto fail;
	if (a->cmd) {
		a->cmd->refused = refused;
		a->cmd->ctx = a;
		a->cmd->source = o->check_source;
	}
	return a;
fail:
	apply_free(a);
	return NULL;
}

static void about_to_send(struct applier *a)
{
	if (!a->sent && !a->o.dry_run) {
		a->sent = 1;
		if (a->o.first_send)
			a->o.first_send(a->o.report_ctx);
	}
}

/* Send one command line now on the command channel. */
static int send_now(struct applier *a, const char *line, const struct apply_cmd *c, sd_error *err)
{
	a->st.commands++;
	if (!a->cmd)
		return sd_fail(err, "acknowledgements, downtimes and comments need --command-file or --livestatus");
	about_to_send(a);
	return a->cmd->ops->command(a->cmd, line, c, err);
}

/* A result to a channel that takes results (the spool, the API). */
static int result_to(struct applier *a, struct channel *ch, const struct chan_result *r, sd_error *err)
{
	about_to_send(a);
	if (ch->ops->result(ch, r, err) < 0)
		return -1;
	a->st.results++;
	a->st.already = ch->already;
	return 0;
}

const char *apply_name_problem(const char *name, int semi_ok)
{
	const char *why = extcmd_name_problem(name);
	char *t, *p;

	if (!why || !semi_ok || !strchr(name, ';'))
		return why;
	if (!(t = strdup(name)))
		return "out of memory";
	for (p = t; (p = strchr(p, ';')); )
		*p = ',';
	why = extcmd_name_problem(t);   /* static text */
	free(t);
	return why;
}

int apply_takes_parts(const struct applier *a)
{
	return a->cmd && a->cmd->parts && !a->res;
}

int apply_result_parts(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		       double exec_time, double latency, const char *output, const char *perf, sd_error *err)
{
	struct chan_result r = { host, svc, rc, ts, exec_time, latency, output, perf ? perf : "" };

	if (!apply_takes_parts(a))
		return sd_fail(err, "internal: the channel takes encoded output");
	return result_to(a, a->cmd, &r, err);
}

/* verify: one line per object that did not take its result */
static int not_taken(struct applier *a, const char *host, const char *svc, int rc, long long ts, sd_error *err)
{
	char what[600], why[128];

	a->st.results++;
	snprintf(what, sizeof(what), "%s '%s%s%s'", svc ? "service" : "host", host, svc ? ";" : "", svc ? svc : "");
	if (a->last && !strcmp(a->last, what))
		return 0;
	free(a->last);
	if (!(a->last = strdup(what)))
		return sd_fail(err, "out of memory");
	snprintf(why, sizeof(why), "the central core has not taken the result (state %d at %lld) it was sent", rc, ts);
	if (a->o.report)
		a->o.report(a->o.report_ctx, what, why);
	return 0;
}

int apply_result(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		 double exec_time, double latency, const char *output, sd_error *err)
{
	struct chan_result r = { host, svc, rc, ts, exec_time, latency, output, NULL };

	if (a->cmd && a->cmd->ops->result && !a->res)     /* the API: its names need no check */
		return result_to(a, a->cmd, &r, err);
	if (extcmd_name_problem(host) || (svc && extcmd_name_problem(svc)))
		return sd_fail(err, "internal: unchecked name");
	if (a->o.verify)
		return not_taken(a, host, svc, rc, ts, err);
	if (a->res) {
		about_to_send(a);
		if (a->res->ops->result(a->res, &r, err) < 0)
			return -1;
		a->st.results++;
		a->st.files = a->res->files;
		return 0;
	}
	if (extcmd_result(&a->line, ts, host, svc, rc, output) < 0)
		return sd_fail(err, "out of memory");
	a->st.results++;
	a->st.commands--;       /* counted as a result, not a command */
	return send_now(a, a->line.buf, NULL, err);
}

/* The line each core takes for c (extcmd.c), in a->line. */
static int build_line(struct applier *a, const struct apply_cmd *c)
{
	enum sd_core core = a->o.core;

	switch (c->verb) {
	case APPLY_ACK:
		return extcmd_ack(&a->line, core, c->ts, c->host, c->svc, c->sticky, c->persistent, c->author, c->comment);
	case APPLY_REMOVE_ACK:
		return extcmd_remove_ack(&a->line, c->ts, c->host, c->svc);
	case APPLY_DOWNTIME:
		return extcmd_downtime(&a->line, core, c->ts, c->host, c->svc, c->start, c->end, c->fixed,
				       c->duration, c->author, c->comment);
	case APPLY_DEL_DOWNTIME:
		return extcmd_del_downtime(&a->line, c->ts, c->is_service, c->id);
	case APPLY_COMMENT:
		return extcmd_comment(&a->line, core, c->ts, c->host, c->svc, c->persistent, c->author, c->comment);
	case APPLY_DEL_COMMENT:
		return extcmd_del_comment(&a->line, c->ts, c->is_service, c->id);
	}
	return -1;
}

int apply_cmd(struct applier *a, const struct apply_cmd *c, sd_error *err)
{
	if (build_line(a, c) < 0)
		return sd_fail(err, "out of memory");
	if (strpbrk(a->line.buf, "\n\r"))
		return sd_fail(err, "internal: line break inside a command");
	if (a->o.verify) {
		a->st.commands++;
		if (a->o.report)
			a->o.report(a->o.report_ctx, a->line.buf, "the central core has not taken this command");
		return 0;
	}
	if (!a->res || a->o.dry_run)
		return send_now(a, a->line.buf, c, err);
	/* held back until the core has read the spool */
	if (!a->queue && !(a->queue = tmpfile()))
		return sd_fail(err, "temporary file: %s", strerror(errno));
	fputs(a->line.buf, a->queue);
	fputc('\n', a->queue);
	return ferror(a->queue) ? sd_fail(err, "temporary file: write error") : 0;
}

/* The held-back commands, once the core has read the spool. */
static int send_queue(struct applier *a, sd_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (a->res->ops->wait && a->res->ops->wait(a->res, err) < 0)
		return -1;
	rewind(a->queue);
	while (rc == 0 && (n = getline(&line, &cap, a->queue)) > 0) {
		line[n - 1] = 0;
		rc = send_now(a, line, NULL, err);
	}
	free(line);
	fclose(a->queue);
	a->queue = NULL;
	return rc;
}

int apply_finish(struct applier *a, sd_error *err)
{
	if (a->res) {
		int rc = a->res->ops->flush(a->res, err);
		a->st.files = a->res->files;
		if (rc < 0)
			return -1;
	}
	if (a->queue && send_queue(a, err) < 0)
		return -1;
	if (a->cmd && a->cmd->ops->flush(a->cmd, err) < 0)
		return -1;
	return 0;
}

enum core_text apply_text(const struct applier *a)
{
	const struct core_profile *p = a->o.profile ? a->o.profile : core_profile(a->o.core);

	if (a->o.checkresults)
		return p->text_spool;
	if (a->o.command_file)
		return p->text_fifo;
	if (a->o.livestatus)
		return p->text_livestatus;
	return a->o.core == CORE_ICINGA2 ? TEXT_ICINGA2 : TEXT_NAGIOS;
}

const struct apply_stats *apply_get_stats(const struct applier *a)
{
	return &a->st;
}

static void channel_free(struct channel *ch)
{
	if (ch)
		ch->ops->free(ch);
}

void apply_free(struct applier *a)
{
	if (!a)
		return;
	if (a->queue)
		fclose(a->queue);
	channel_free(a->res);
	channel_free(a->cmd);
	extcmd_free(&a->line);
	free(a->last);
	free(a);
}
