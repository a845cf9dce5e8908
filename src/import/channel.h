/*
 * channel.h - one way of handing results and commands to the central
 * core: the checkresult spool (channel_spool.c), the command FIFO
 * (channel_fifo.c), a Livestatus socket (channel_livestatus.c), Icinga
 * 2's REST API (channel_api.c: results and commands).
 *
 * Why this interface: apply.c decides what goes where and in which order
 * (results before the commands that depend on them); a channel only
 * moves bytes and says when the core has taken them. A new channel is a
 * new file with these five functions; nothing above apply.c changes.
 */
#ifndef SITEDUMP_CHANNEL_H
#define SITEDUMP_CHANNEL_H
#include <stdio.h>
#include "import/apply.h"

/* A check result as the spool takes it; output already encoded for the
 * core (extcmd_encode_result), or (perf not NULL) the raw parts: output
 * is the first line and long output joined by a newline. */
struct chan_result {
	const char *host, *svc;         /* svc NULL: a host result */
	int rc;
	long long ts;                   /* the result's time (last_check) */
	double exec_time, latency;
	const char *output;
	const char *perf;               /* NULL: output is encoded (perf data inside) */
};

struct channel;
struct channel_ops {
	/* One check result. NULL: the channel takes results as commands
	 * (PROCESS_*_CHECK_RESULT lines). */
	int (*result)(struct channel *ch, const struct chan_result *r, sd_error *err);
	/* One command: line as extcmd.c built it ("[ts] VERB;...", one line)
	 * and cmd the same as fields (NULL for a result sent as a command, or
	 * a command held back while the spool is read). NULL: takes none. */
	int (*command)(struct channel *ch, const char *line, const struct apply_cmd *cmd, sd_error *err);
	/* Hand over everything queued; whatever the channel can read back
	 * about refused commands is read and reported here. */
	int (*flush)(struct channel *ch, sd_error *err);
	/* Wait until the core has taken in what was handed over (the spool:
	 * until it read the files). NULL: the channel cannot tell. */
	int (*wait)(struct channel *ch, sd_error *err);
	void (*free)(struct channel *ch);
};

struct channel {
	const struct channel_ops *ops;
	/* a command the core refused: reported through this (set by apply.c) */
	void (*refused)(void *ctx, const char *line, const char *why);
	void *ctx;
	long long files;                /* files written (the spool) */
	long long already;              /* results the core had newer ones of (the API) */
	int parts;                      /* takes chan_result's raw parts (the API) */
	const char *source;             /* the results' check source (the site), or NULL */
};

/* dry: write the records there instead (siteload --dry-run). who: the
 * core's name for w, told when the wait for its reaping lasts. */
struct channel *channel_spool_open(const char *dir, FILE *dry, int reap_wait_ms, const char *who,
				   const struct sd_waiter *w, sd_error *err);
/* A FIFO nobody reads is an error here, not a hang. who, w: as for the
 * spool (a wait while the pipe is full). */
struct channel *channel_fifo_open(const char *path, int timeout_ms, const char *who, const struct sd_waiter *w,
				  sd_error *err);
/* In the dialect of the core's Livestatus (profile). */
struct channel *channel_livestatus_open(const char *spec, const struct core_profile *profile, int timeout_ms,
					sd_error *err);
/* Icinga 2's REST API: results and commands as actions, each reply read;
 * a 503 (the core reloading) or a lost connection retried for reload_wait_ms. */
struct channel *channel_api_open(const struct api_opts *o, int reload_wait_ms, const struct sd_waiter *w,
				 sd_error *err);
#endif
