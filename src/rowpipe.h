/*
 * rowpipe.h - run a reply's row callback on a second thread.
 *
 * Why: Icinga 2 builds its whole Livestatus reply before it sends a byte,
 * so everything we do with the rows happens after the last byte arrived,
 * in series: parsing (yajl, about half of it) and the row callbacks (row
 * building, the writers, bundle hashing and compression). With the pipe
 * the parser copies finished rows into batches and a worker thread runs
 * the callbacks, so the two halves overlap on a two-core machine.
 *
 * The first 8192 rows of a reply go straight to the callback on the
 * caller's thread; only a longer reply starts the worker (and when no
 * thread can be started, every row goes straight to the callback). Rows reach the callback in order, from one thread
 * at a time. Errors keep the order of the single-threaded code: a
 * callback error on a row wins over a later parse or socket error.
 */
#ifndef SITEDUMP_ROWPIPE_H
#define SITEDUMP_ROWPIPE_H

#include "livestatus_json.h"

struct rowpipe;

struct rowpipe *rowpipe_new(ls_row_cb cb, void *ctx);

/* An ls_row_cb: copies the row (ctx is the pipe). Returns -1 with the
 * callback's error once a callback has failed. */
int rowpipe_put(void *pipe, const struct ls_row *row, sd_error *err);

/* Run the callback for every row put so far, stop the worker, free the
 * pipe (NULL ok). Returns 0, or -1 with the first callback error in err
 * (err is left alone when there was none). */
int rowpipe_finish(struct rowpipe *p, sd_error *err);

#endif
