/*
 * jscan.h - a streaming JSON scanner: text in pieces in, parse events out.
 *
 * The events and their arguments are yajl's (yajl_parse.h): a string's
 * bytes are decoded but not checked for UTF-8, a number is its text. A
 * callback returns 0 to stop the scan. See jscan.c for why it exists.
 */
#ifndef SITEDUMP_JSCAN_H
#define SITEDUMP_JSCAN_H

#include <stddef.h>

struct jscan_callbacks {
	int (*null)(void *ctx);
	int (*boolean)(void *ctx, int b);
	int (*number)(void *ctx, const char *s, size_t len);
	int (*string)(void *ctx, const unsigned char *s, size_t len);
	int (*start_map)(void *ctx);
	int (*map_key)(void *ctx, const unsigned char *s, size_t len);
	int (*end_map)(void *ctx);
	int (*start_array)(void *ctx);
	int (*end_array)(void *ctx);
};

enum jscan_status {
	JSCAN_OK = 0,
	JSCAN_STOPPED,          /* a callback returned 0 */
	JSCAN_ERROR,            /* not JSON; jscan_error() says why and where */
	JSCAN_TRUNCATED,        /* jscan_finish: the text ended inside a value */
};

/* Nesting deeper than this is an error. */
#define JSCAN_MAX_DEPTH 64

struct jscan;

/* max_token bounds one string's decoded length (and so the memory one
 * token held across pieces can take). callbacks must outlive the scanner. */
struct jscan *jscan_new(const struct jscan_callbacks *cb, void *ctx, size_t max_token);
/* Feed the next piece. Returns JSCAN_OK or the status that stopped the scan;
 * once stopped, every later call returns that status again. */
enum jscan_status jscan_feed(struct jscan *s, const void *buf, size_t len);
/* End of text: a value must be complete. */
enum jscan_status jscan_finish(struct jscan *s);
/* One line: what was wrong and at which byte offset (from the first piece). */
const char *jscan_error(const struct jscan *s);
void jscan_free(struct jscan *s);

#endif
