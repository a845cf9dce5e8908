/*
 * rowpipe.h - Livestatus rows handed to a second thread.
 *
 * The parsing thread passes rowpipe_push as the row callback of
 * lsjson_reader/ls_query with a struct rowpipe_target as its context; the
 * pipe copies each row into a batch and its own thread calls the target's
 * callback with the copy, in order. A callback's failure (-1) comes back
 * from a later push, or from rowpipe_finish. Rows of a reply whose length
 * (struct ls_row's reply_bytes) is under 2 MiB, up to 2 MiB of them in
 * all, are handed on directly, before the thread starts: small replies
 * never start it, a large one starts it at its first row. Memory: four batches of
 * 128 KiB (a larger row gets a batch of its size).
 */
#ifndef SITEDUMP_ROWPIPE_H
#define SITEDUMP_ROWPIPE_H

#include "formats/livestatus_json.h"

struct rowpipe;

struct rowpipe_target {
	struct rowpipe *pipe;
	ls_row_cb cb;           /* called on the pipe's thread */
	void *ctx;              /* the callback's; it must not change while rows are in the pipe */
};

/* NULL when out of memory: call the callbacks directly then. */
struct rowpipe *rowpipe_new(void);
/* An ls_row_cb; ctx is a struct rowpipe_target. */
int rowpipe_push(void *ctx, const struct ls_row *row, sd_error *err);
/* Wait until every row went through its callback. 0 or -1 (err set). */
int rowpipe_finish(struct rowpipe *p, sd_error *err);
/* Stops the thread (rows not yet through are dropped); NULL ok. */
void rowpipe_free(struct rowpipe *p);

#endif
