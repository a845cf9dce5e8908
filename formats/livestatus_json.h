/*
 * livestatus_json.h - Livestatus `OutputFormat: json` replies, row by row.
 *
 * The reader is fed the reply body in chunks as it arrives from the socket
 * and calls back once per row; only the current row is in memory. JSON
 * objects (mk-livestatus's custom_variables dict) become lists of
 * [key, value] pairs, so consumers see one shape for both dialects.
 */
#ifndef SITEDUMP_LIVESTATUS_JSON_H
#define SITEDUMP_LIVESTATUS_JSON_H

#include <stddef.h>
#include <stdio.h>
#include "model/snapshot.h"

enum ls_type { LS_NULL, LS_BOOL, LS_NUM, LS_STR, LS_LIST };

struct ls_value {
	enum ls_type type;
	int b;
	double num;
	char *str;              /* NUL-terminated copy; len counts embedded NULs */
	size_t len;
	struct ls_value *items; /* LS_LIST */
	size_t n, cap;
};

struct ls_row {
	const struct ls_value *cols;
	size_t n;
	unsigned long long reply_bytes;  /* the whole reply's length if known (lsjson_reader_expect), else 0 */
};

/* Return 0 to go on, -1 to stop (err set). */
typedef int (*ls_row_cb)(void *ctx, const struct ls_row *row, sd_error *err);

struct lsjson_reader;

/* Limits keep a hostile server from making us allocate without bound. */
#define LSJSON_MAX_DEPTH 8
#define LSJSON_MAX_ROW_BYTES (64u << 20)

struct lsjson_reader *lsjson_reader_new(ls_row_cb cb, void *ctx);
/* The reply is this many bytes long (a Livestatus fixed16 header says so):
 * passed on with every row, so a consumer can size its work up front. */
void lsjson_reader_expect(struct lsjson_reader *r, unsigned long long bytes);
int lsjson_reader_feed(struct lsjson_reader *r, const void *buf, size_t len, sd_error *err);
/* End of input: error if the reply was incomplete. Returns the row count or -1. */
long lsjson_reader_finish(struct lsjson_reader *r, sd_error *err);
void lsjson_reader_free(struct lsjson_reader *r);

/* Tolerant accessors for both dialects (true/false vs 0/1, null). */
long long ls_int(const struct ls_value *v);
double ls_num(const struct ls_value *v);
int ls_bool(const struct ls_value *v);
/* "" for null; the string itself otherwise; numbers are not converted. */
const char *ls_str(const struct ls_value *v);

/* Writer half: one value as JSON text (used for custom variables that are
 * not strings, and by tests to build replies). Returns 0 or -1. */
int lsjson_write_value(FILE *out, const struct ls_value *v);

#endif
