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
 * Commands: `COMMAND [ts] ...` requests on one kept-open connection.
 * ls_command_send queues (and sends a full window); ls_command_flush sends
 * the rest and reads every reply. A command the core refused (452) is
 * passed to report with the server's text and counted; both return the
 * number refused, or -1 (err set) when the connection failed.
 * line must be one line (no CR/LF): the caller builds it with extcmd.
 */
typedef void (*ls_report_fn)(void *ctx, const char *line, const char *why);
struct ls_cmd;
struct ls_cmd *ls_command_open(const char *spec, int timeout_ms, sd_error *err);
int ls_command_send(struct ls_cmd *c, const char *line, ls_report_fn report, void *ctx, sd_error *err);
int ls_command_flush(struct ls_cmd *c, ls_report_fn report, void *ctx, sd_error *err);
void ls_command_close(struct ls_cmd *c);       /* NULL ok; unsent commands are dropped */
#endif
