/*
 * channel_livestatus.c - commands through a Livestatus socket (COMMAND
 * requests on one kept-open connection: src/livestatus/livestatus.c).
 *
 * Why a file of its own although it is thin: the dialect differs per
 * server (docs/core-behaviour.md §7), and what the server says about a
 * refused command is read here, per window, and reported per command.
 */
#include <stdlib.h>
#include "import/channel.h"
#include "livestatus/livestatus.h"

struct lsch {
	struct channel ch;              /* first: the channel is the connection */
	struct ls_cmd *ls;
};

static void refused(void *ctx, const char *line, const char *why)
{
	struct channel *ch = ctx;

	if (ch->refused)
		ch->refused(ch->ctx, line, why);
}

static int ls_command(struct channel *ch, const char *line, const struct apply_cmd *cmd, sd_error *err)
{
	(void)cmd;
	return ls_command_send(((struct lsch *)ch)->ls, line, refused, ch, err) < 0 ? -1 : 0;
}

static int ls_flush(struct channel *ch, sd_error *err)
{
	return ls_command_flush(((struct lsch *)ch)->ls, refused, ch, err) < 0 ? -1 : 0;
}

static void ls_free(struct channel *ch)
{
	ls_command_close(((struct lsch *)ch)->ls);
	free(ch);
}

static const struct channel_ops ls_ops = { NULL, ls_command, ls_flush, NULL, ls_free };

struct channel *channel_livestatus_open(const char *spec, const struct core_profile *profile, int timeout_ms,
					sd_error *err)
{
	struct lsch *l = calloc(1, sizeof(*l));
	enum ls_dialect d = !profile->livestatus_mk ? LS_DIALECT_ICINGA2
			    : profile->livestatus_unescapes ? LS_DIALECT_NAEMON : LS_DIALECT_MK;

	if (!l) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	l->ch.ops = &ls_ops;
	if (!(l->ls = ls_command_open(spec, d, timeout_ms, err))) {
		free(l);
		return NULL;
	}
	return &l->ch;
}
