/*
 * api.h - client of Icinga 2's REST API (ApiListener, HTTPS, port 5665).
 *
 * One handle holds one libcurl easy handle, so consecutive requests reuse
 * one keep-alive HTTP/1.1 connection. Verification of the server's
 * certificate (against opts.ca_file only, host name included) is always
 * on; there is no switch to turn it off.
 *
 * Every function returns the HTTP status (any status the server sent,
 * err describing it when it is >= 400) or -1 when no status came (err set:
 * connection, TLS, timeout, a feed callback's own error). err is one line
 * that names the URL and the cause.
 */
#ifndef SITEDUMP_ICINGA2API_API_H
#define SITEDUMP_ICINGA2API_API_H

#include <stddef.h>
#include "base/error.h"

struct api_opts {
	/* Base URLs ("https://node1.example:5665", no path), tried in order:
	 * a URL that cannot be connected to (resolve, connect, TLS handshake
	 * error, connect timeout) or that answers 502/503/504 on a fresh
	 * connection is left for the next one; the URL that answered is kept
	 * for the following requests. A failed TLS verification never fails
	 * over: it is reported at once. */
	const char *const *urls;
	size_t n_urls;
	const char *user;               /* ApiUser; NULL: client certificate only */
	const char *password;           /* copied into locked memory (wiped at close) */
	const char *cert_file;          /* client certificate, PEM; NULL: none */
	const char *key_file;           /* its key, PEM; NULL: in cert_file */
	const char *ca_file;            /* required: the CA of the API's certificate */
	long timeout_ms;                /* connect, and each request; 0: 30000 */
	size_t max_reply;               /* api_request's bound on a body; 0: 4 MiB */
};

struct api_reply {
	long status;                    /* HTTP status, as returned */
	char *body;                     /* NUL-terminated (never NULL after success) */
	size_t len;
};

struct api;

/* Checks the options and sets up the handle; connects at the first request. */
struct api *api_open(const struct api_opts *o, sd_error *err);

/*
 * METHOD PATH (e.g. "POST", "/v1/actions/process-check-result") with an
 * optional JSON body; the reply body goes to out (free with
 * api_reply_free, also after -1). A GET with a body is sent as POST with
 * X-HTTP-Method-Override: GET, as Icinga 2 wants. A body longer than
 * max_reply fails (-1). Returns the HTTP status or -1.
 */
long api_request(struct api *h, const char *method, const char *path, const char *json_body,
		 struct api_reply *out, sd_error *err);

/*
 * The same for big replies (object queries): a 2xx body is handed to feed
 * in chunks as it arrives, nothing is held. feed returns 0, or -1 with err
 * set to stop (api_stream then returns -1 with that err). A reply that is
 * not 2xx is not fed; its status is returned with err set. The timeout is
 * for silence (no byte for timeout_ms), not for the whole transfer.
 */
typedef int (*api_feed_fn)(void *ctx, const char *buf, size_t n, sd_error *err);
long api_stream(struct api *h, const char *method, const char *path, const char *json_body,
		api_feed_fn feed, void *ctx, sd_error *err);

/* The base URL in use (the one that last answered, else the first). */
const char *api_url(const struct api *h);

/* s %-escaped for a path segment (object names: "/v1/objects/hosts/<x>");
 * malloc'd, NULL on OOM. */
char *api_escape(const char *s);

void api_reply_free(struct api_reply *r);     /* NULL ok */
void api_close(struct api *h);                /* NULL ok */

#endif
