/*
 * livestatus.h - Livestatus client: connect, send one GET, stream the rows.
 *
 * SPEC is `unix:PATH`, `tcp:HOST:PORT` or a bare path (unix). Every query
 * is sent with `OutputFormat: json` and `ResponseHeader: fixed16`, because
 * without fixed16 Icinga 2 answers errors with an empty reply.
 */
#ifndef SITEDUMP_LIVESTATUS_H
#define SITEDUMP_LIVESTATUS_H

#include "model/snapshot.h"
#include "formats/livestatus_json.h"

/* What ls_query appends to every request. */
#define LS_REQUEST_SUFFIX "\nOutputFormat: json\nResponseHeader: fixed16\n\n"

/* Whether spec can name a socket at all: "unix:" with a path (one that
 * exists must be a socket), "tcp:HOST:PORT" with a port 1-65535, or a
 * bare path. 0, or -1 with err saying what is wrong (before any connect:
 * a misconfiguration, not a core that is down). */
int ls_spec_check(const char *spec, sd_error *err);

/* Open a connection; returns an fd or -1. timeout_ms bounds the connect. */
int ls_connect(const char *spec, int timeout_ms, sd_error *err);

/*
 * Run `request` (a GET with its headers, no trailing blank line, no
 * OutputFormat/ResponseHeader) and call cb per row. timeout_ms bounds every
 * wait for the server (connect, each read). Returns the number of rows or
 * -1; on a server error err carries the code and the server's first line.
 */
long ls_query(const char *spec, const char *request, int timeout_ms,
	      ls_row_cb cb, void *ctx, sd_error *err);

/* The default socket: $OMD_ROOT/tmp/run/live when OMD_ROOT is set, else NULL.
 * Returns a static buffer. */
const char *ls_default_spec(void);


/*
 * Commands: `COMMAND [ts] ...` requests on one kept-open connection, in the
 * server's dialect (livestatus.c says why they differ).
 * ls_command_send queues (and sends a full window); ls_command_flush sends
 * the rest and reads every reply. A command the core refused (Icinga 2's
 * 452, Naemon's `400:` line) is passed to report with the server's text
 * and counted; both return the number refused, or -1 (err set) when the
 * connection failed. Naemon's reason does not name the object: a window
 * with refusals is matched to the commands whose host or service the
 * central lacks (one more query each for hosts and services); when that
 * does not explain them, report gets "one of N commands, for X to Y" as
 * the line. line must be one line (no CR/LF): the caller builds it with
 * extcmd. A server that says nothing about a refused command (Checkmk's)
 * is only caught by reading the central back.
 */
enum ls_dialect {
	LS_DIALECT_ICINGA2,     /* fixed16 on each COMMAND, 200/452 per command */
	LS_DIALECT_MK,          /* bare COMMANDs, a status query after each window (Checkmk) */
	LS_DIALECT_NAEMON,      /* the same, and the server unescapes a backslash and the next
				 * character in the text (\\n: line break): backslashes sent
				 * doubled but in \\n */
};
typedef void (*ls_report_fn)(void *ctx, const char *line, const char *why);
struct ls_cmd;
struct ls_cmd *ls_command_open(const char *spec, enum ls_dialect dialect, int timeout_ms, sd_error *err);
int ls_command_send(struct ls_cmd *c, const char *line, ls_report_fn report, void *ctx, sd_error *err);
int ls_command_flush(struct ls_cmd *c, ls_report_fn report, void *ctx, sd_error *err);
void ls_command_close(struct ls_cmd *c);       /* NULL ok; unsent commands are dropped */

/*
 * What the server says it is: `GET status` program_version and
 * livestatus_version (Naemon: "1.5.2..." and "...-naemon"; Icinga 2:
 * "r2.13.6-1"; Checkmk's own). 0 or -1.
 */
struct ls_server {
	char program_version[128];
	char livestatus_version[128];
};
int ls_server_info(const char *spec, int timeout_ms, struct ls_server *out, sd_error *err);
#endif
