/*
 * apply.h - deliver what reconciliation decided to the central core.
 *
 * Four channels (channel.h), chosen per run: a Nagios checkresult spool
 * directory (results only), the core's command FIFO, a Livestatus socket,
 * Icinga 2's REST API (results as raw parts, commands as fields).
 * Check results go to the spool when one is given, else as commands; every
 * other command (acks, downtimes, comments) goes to the FIFO or Livestatus.
 * Results always reach the core before the commands that depend on them:
 * with a spool, commands wait until the core has read the result files
 * (an ack on an object the core still thinks is OK is dropped).
 */
#ifndef SITEDUMP_APPLY_H
#define SITEDUMP_APPLY_H
#include <stdio.h>
#include "model/snapshot.h"
#include "base/deadline.h"
#include "model/core.h"

struct api_opts;

struct apply_opts {
	enum sd_core core;
	const struct core_profile *profile;     /* the central core; NULL: core's family */
	const char *checkresults;       /* spool dir, or NULL */
	const char *command_file;       /* FIFO, or NULL */
	const char *livestatus;         /* spec, or NULL */
	/* Icinga 2's REST API (src/icinga2api/api.h), or NULL: takes results
	 * (raw parts, apply_result_parts) and every command */
	const struct api_opts *api;
	int reload_wait_ms;             /* the API: how long a 503 (reload) is retried */
	const char *check_source;       /* the API: results' check_source (the site) */
	FILE *dry_run;                  /* print here instead of delivering */
	/* deliver nothing: each object a result would go to and each command
	 * is reported as not taken (reading the central back after a run:
	 * what a new run would still send did not arrive) */
	int verify;
	int timeout_ms;                 /* every wait on a socket or FIFO */
	int reap_wait_ms;               /* how long the core may take to read the spool */
	/* a command the core refused (Livestatus 452): reported, not fatal */
	void (*report)(void *ctx, const char *line, const char *why);
	void *report_ctx;
	/* called once, before the first byte goes to the core (not in a dry run) */
	void (*first_send)(void *ctx);
	/* told about a wait for the core over a second (the spool's reaping,
	 * the API back after a reload) */
	struct sd_waiter waiter;
};

struct apply_stats {
	long long results, commands, files, refused;
	long long already;              /* the core had a newer result (the API's 409) */
};

/* A command for the core, as fields; apply.c builds the line each core
 * takes (extcmd.c), a channel that speaks something else uses the fields. */
enum apply_verb {
	APPLY_ACK, APPLY_REMOVE_ACK, APPLY_DOWNTIME, APPLY_DEL_DOWNTIME, APPLY_COMMENT, APPLY_DEL_COMMENT
};
struct apply_cmd {
	enum apply_verb verb;
	long long ts;                   /* the command's time (entry time of a comment) */
	const char *host, *svc;         /* svc NULL: the host; for deletions only is_service counts */
	int is_service;                 /* deletions */
	const char *author, *comment;   /* ack, downtime, comment; cleaned by extcmd.c */
	int sticky;                     /* ack */
	int fixed, persistent;          /* downtime / comment */
	long long start, end, duration; /* downtime */
	long long id;                   /* deletions: the central's id */
	const char *name;               /* deletions: the central's name (the REST API), or NULL */
};

struct applier;
/* Opens the channels (a FIFO nobody reads is an error here, not a hang). */
struct applier *apply_open(const struct apply_opts *o, sd_error *err);
/* One check result; output already encoded for the core (extcmd_encode_output).
 * ts is the result's time (last_check); exec_time and latency only reach the
 * core through the spool. */
int apply_result(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		 double exec_time, double latency, const char *output, sd_error *err);
/* Does the channel take a result's parts as they are (output and long
 * output joined by a real newline, perf data apart: the REST API)? Then
 * apply_result_parts, not an encoded output. */
int apply_takes_parts(const struct applier *a);
int apply_result_parts(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		       double exec_time, double latency, const char *output, const char *perf, sd_error *err);
/* extcmd_name_problem, but with semi_ok a ';' is no problem (the REST
 * API names objects in JSON; Livestatus and the FIFO split at ';'). */
const char *apply_name_problem(const char *name, int semi_ok);
/* Any other command. */
int apply_cmd(struct applier *a, const struct apply_cmd *c, sd_error *err);
/* Deliver everything queued, in order. 0 or -1. */
int apply_finish(struct applier *a, sd_error *err);
/* How the core will read a result's text on the channel results take
 * (extcmd_encode_result_text). */
enum core_text apply_text(const struct applier *a);
const struct apply_stats *apply_get_stats(const struct applier *a);
void apply_free(struct applier *a);             /* NULL ok; removes unfinished temp files */
#endif
