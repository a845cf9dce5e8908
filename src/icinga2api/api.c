/*
 * api.c - Icinga 2 REST API client on libcurl.
 *
 * Why libcurl: HTTPS with verification, keep-alive, chunked replies and
 * client certificates are what it does; an easy handle reused for every
 * request keeps one connection open (a check result per request costs a
 * round trip, not a TLS handshake).
 *
 * Trust: only opts.ca_file is trusted (the system's CA path is switched
 * off: the API's certificate comes from Icinga's own CA), host names are
 * checked, only https is spoken, redirects are not followed.
 *
 * The password is kept in sodium_malloc memory and wiped at close. libcurl
 * copies it into its own heap (CURLOPT_PASSWORD): that copy is freed, not
 * wiped, by curl_easy_cleanup; there is no way around it with libcurl.
 *
 * Failover is only done where the request cannot have reached a core:
 * nothing connected, or a gateway status (502/503/504) on a connection
 * opened for this request. 500 is not one: Icinga answers it for an
 * action whose every object failed, and resending that elsewhere would
 * apply it twice where it partly took effect.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>
/* the calls go through the table `cu` below: no type-checking macros in their way */
#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <dlfcn.h>
#include <sodium.h>
#include <yajl/yajl_tree.h>
#include "icinga2api/api.h"

#define API_TIMEOUT_MS 30000L
#define API_MAX_REPLY  (4u << 20)
#define API_ERR_BODY   (64u << 10)  /* what is kept of a non-2xx body for the message */

struct api {
	CURL *curl;
	struct curl_slist *hdr_get, *hdr_body, *hdr_override;
	char **urls;
	size_t n_urls, cur;
	char *password;                 /* sodium_malloc */
	char *ca_file;
	long timeout_ms;
	size_t max_reply;
	char *url;                      /* the request's full URL */
	char errbuf[CURL_ERROR_SIZE];
	curl_socket_t sock;             /* the connection's (quickack); CURL_SOCKET_BAD: none */
};

/* one transfer: where the body goes */
struct xfer {
	struct api *h;
	api_feed_fn feed;               /* NULL: buffer into body */
	void *ctx;
	sd_error *err;
	char *body;
	size_t len, cap, limit;
	int fed, feed_failed, too_big;
};

/*
 * libcurl is loaded with dlopen when an API is opened, not at start-up:
 * it pulls in 27 libraries (TLS twice, Kerberos, LDAP, ssh, rtmp) whose
 * loading cost every sitedump run 5 ms of CPU and 6 MiB of RSS (perf stat
 * of `sitedump --version`: 6.4 ms with libcurl linked, 1.25 ms without;
 * peak RSS 8.2 MiB, 2.1 MiB), for a source only `-s https://` uses. The
 * same reason and the same way as libarchive in src/bundle/bundle.c.
 */
#ifndef LIBCURL_SONAME
#define LIBCURL_SONAME "libcurl.so.4"
#endif

#define CU_FUNCS(X) \
	X(curl_global_init) \
	X(curl_easy_init) \
	X(curl_easy_setopt) \
	X(curl_easy_getinfo) \
	X(curl_easy_perform) \
	X(curl_easy_cleanup) \
	X(curl_easy_strerror) \
	X(curl_easy_escape) \
	X(curl_free) \
	X(curl_slist_append) \
	X(curl_slist_free_all)

static struct {
#define CU_PTR(f) __typeof__(&f) p_##f;
	CU_FUNCS(CU_PTR)
#undef CU_PTR
} cu;

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static char curl_why[256];              /* empty: loaded and initialised */

static void curl_load_once(void)
{
	void *h, *sym;

	if (!(h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		snprintf(curl_why, sizeof(curl_why), "cannot load libcurl: %s", dlerror());
		return;
	}
#define CU_SYM(f)                                                                               \
	if (!(sym = dlsym(h, #f))) {                                                            \
		dlclose(h);                                                                     \
		snprintf(curl_why, sizeof(curl_why), "libcurl (%s) has no %s", LIBCURL_SONAME, #f); \
		return;                                                                         \
	}                                                                                       \
	memcpy(&cu.p_##f, &sym, sizeof(sym));
	CU_FUNCS(CU_SYM)
#undef CU_SYM
	if ((*cu.p_curl_global_init)(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		snprintf(curl_why, sizeof(curl_why), "cannot initialise libcurl");
}

static int curl_load(sd_error *err)
{
	pthread_once(&curl_once, curl_load_once);
	if (curl_why[0]) {
		if (err)
			sd_fail(err, "icinga2 api: %s", curl_why);
		return -1;
	}
	return 0;
}

#define curl_easy_init (*cu.p_curl_easy_init)
#undef curl_easy_setopt               /* curl.h's pass-through macros */
#undef curl_easy_getinfo
#define curl_easy_setopt (*cu.p_curl_easy_setopt)
#define curl_easy_getinfo (*cu.p_curl_easy_getinfo)
#define curl_easy_perform (*cu.p_curl_easy_perform)
#define curl_easy_cleanup (*cu.p_curl_easy_cleanup)
#define curl_easy_strerror (*cu.p_curl_easy_strerror)
#define curl_easy_escape (*cu.p_curl_easy_escape)
#define curl_free (*cu.p_curl_free)
#define curl_slist_append (*cu.p_curl_slist_append)
#define curl_slist_free_all (*cu.p_curl_slist_free_all)

static int buf_add(struct xfer *x, const char *p, size_t n)
{
	if (x->len + n > x->limit) {
		x->too_big = 1;
		return -1;
	}
	if (x->len + n + 1 > x->cap) {
		size_t cap = x->cap ? x->cap : 4096;
		char *b;

		while (cap < x->len + n + 1)
			cap *= 2;
		if (!(b = realloc(x->body, cap)))
			return -1;
		x->body = b;
		x->cap = cap;
	}
	memcpy(x->body + x->len, p, n);
	x->len += n;
	x->body[x->len] = '\0';
	return 0;
}

/* Icinga 2 writes a reply in several small pieces with Nagle's algorithm
 * on, so each piece after the first waited for our delayed ACK: a 2 KB
 * object query reply took 47 ms instead of 0.4 ms. Quick ACKs, asked
 * again at every piece (the kernel leaves that mode on its own). The
 * socket is remembered when libcurl makes it: CURLINFO_ACTIVESOCKET is
 * -1 inside a transfer's callbacks (libcurl 7.88). */
static void quickack(const struct api *h)
{
	int one = 1;

	if (h->sock != CURL_SOCKET_BAD)
		setsockopt(h->sock, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
}

static int on_sockopt(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	((struct api *)ctx)->sock = fd;
	return CURL_SOCKOPT_OK;
}

static int on_close(void *ctx, curl_socket_t fd)
{
	struct api *h = ctx;

	if (h->sock == fd)
		h->sock = CURL_SOCKET_BAD;
	return close(fd);
}

static size_t on_data(char *p, size_t size, size_t nmemb, void *userdata)
{
	struct xfer *x = userdata;
	size_t n = size * nmemb;
	long status = 0;

	quickack(x->h);
	if (x->feed) {
		curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE, &status);
		if (status >= 200 && status < 300) {
			x->fed = 1;
			if (x->feed(x->ctx, p, n, x->err) < 0) {
				x->feed_failed = 1;
				return 0;
			}
			return n;
		}
		/* an error reply: its start is enough for the message */
		if (x->len + n > x->limit)
			return n;
	}
	return buf_add(x, p, n) == 0 ? n : 0;
}

/* Icinga's error replies are {"error": CODE, "status": "TEXT"}, a failed
 * action's {"results": [{"code": 400, "status": "TEXT"}, ...]}: the
 * (first) text, one line */
static void reply_status_text(const char *body, char *out, size_t outlen)
{
	static const char *status[] = { "status", NULL }, *results[] = { "results", NULL };
	yajl_val v, s, r;
	size_t i;

	out[0] = '\0';
	if (!body || !(v = yajl_tree_parse(body, NULL, 0)))
		return;
	if (!(s = yajl_tree_get(v, status, yajl_t_string)) && (r = yajl_tree_get(v, results, yajl_t_array))
	    && YAJL_GET_ARRAY(r)->len > 0)
		s = yajl_tree_get(YAJL_GET_ARRAY(r)->values[0], status, yajl_t_string);
	if (s)
		snprintf(out, outlen, "%s", YAJL_GET_STRING(s));
	yajl_tree_free(v);
	for (i = 0; out[i]; i++)
		if (iscntrl((unsigned char)out[i]))
			out[i] = ' ';
}

static void status_fail(struct api *h, long status, const char *body, sd_error *err)
{
	char text[200];

	reply_status_text(body, text, sizeof(text));
	if (status == 401)
		sd_fail(err, "%s: 401 Unauthorized: wrong user or password (or no ApiUser for the client certificate)",
			h->url);
	else if (status == 403)
		sd_fail(err, "%s: 403 Forbidden: the ApiUser lacks the permission%s%s", h->url,
			*text ? ": " : "", text);
	else if (status == 404)
		/* Icinga 2.13 answers a missing permission with 404 too, never 403
		 * (tests/0027-icinga2-api.t) */
		sd_fail(err, "%s: HTTP 404%s%s (no such object, or the ApiUser lacks the permission)", h->url,
			*text ? ": " : "", text);
	else
		sd_fail(err, "%s: HTTP %ld%s%s", h->url, status, *text ? ": " : "", text);
}

/* the handshake failed in the certificate check: OpenSSL may report it as
 * a handshake error ("invalid padding" when another CA of the same name
 * signed it), so the verification result is asked too */
static int verify_failed(struct api *h, CURLcode rc)
{
	long v = 0;

	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return 1;
	return rc == CURLE_SSL_CONNECT_ERROR && curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &v) == CURLE_OK
		&& v != 0;
}

static void curl_fail(struct api *h, CURLcode rc, const char *ca, sd_error *err)
{
	const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
	long v = 0;

	if (verify_failed(h, rc)) {
		curl_easy_getinfo(h->curl, CURLINFO_SSL_VERIFYRESULT, &v);
		sd_fail(err, "%s: TLS verification of the server's certificate failed (against %s, X509 error %ld): %s",
			h->url, ca, v, why);
		return;
	}
	switch (rc) {
	case CURLE_SSL_CACERT_BADFILE:
		sd_fail(err, "%s: cannot use the CA file %s: %s", h->url, ca, why);
		break;
	case CURLE_SSL_CERTPROBLEM:
		sd_fail(err, "%s: cannot use the client certificate or key: %s", h->url, why);
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
		sd_fail(err, "%s: connection failed: %s", h->url, why);
		break;
	default:
		sd_fail(err, "%s: %s", h->url, why);
	}
}

/* rc means the request never reached the server: safe to send elsewhere */
static int never_connected(struct api *h, CURLcode rc)
{
	curl_off_t t = 0;

	if (verify_failed(h, rc))
		return 0;
	if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT || rc == CURLE_SSL_CONNECT_ERROR)
		return 1;
	if (rc != CURLE_OPERATION_TIMEDOUT)
		return 0;
	curl_easy_getinfo(h->curl, CURLINFO_APPCONNECT_TIME_T, &t);
	return t == 0;
}

static int set_url(struct api *h, size_t u, const char *path)
{
	size_t n = strlen(h->urls[u]) + strlen(path) + 1;
	char *s = malloc(n);

	if (!s)
		return -1;
	snprintf(s, n, "%s%s", h->urls[u], path);
	free(h->url);
	h->url = s;
	return curl_easy_setopt(h->curl, CURLOPT_URL, s) == CURLE_OK ? 0 : -1;
}

static int set_method(struct api *h, const char *method, const char *body)
{
	CURL *c = h->curl;
	int get = strcmp(method, "GET") == 0;

	/* a GET with a body is a POST that says GET (Icinga 2 docs, "Requests") */
	if (get && !body) {
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
		return curl_easy_setopt(c, CURLOPT_HTTPHEADER, h->hdr_get) == CURLE_OK ? 0 : -1;
	}
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, get || strcmp(method, "POST") == 0 ? NULL : method);
	return curl_easy_setopt(c, CURLOPT_HTTPHEADER, get ? h->hdr_override : h->hdr_body) == CURLE_OK
		? 0 : -1;
}

/* one request over the URLs in turn from the current one; the status or -1 */
static long api_perform(struct api *h, const char *method, const char *path, const char *body,
			struct xfer *x, sd_error *err)
{
	char before[SD_ERRLEN] = "";
	size_t i;

	if (set_method(h, method, body) < 0)
		return sd_fail(err, "icinga2 api: cannot set up a %s request", method);
	for (i = 0; i < h->n_urls; i++) {
		size_t u = (h->cur + i) % h->n_urls;
		int last = i + 1 == h->n_urls;
		long status = 0, conns = 0;
		CURLcode rc;

		if (set_url(h, u, path) < 0)
			return sd_fail(err, "icinga2 api: out of memory");
		x->len = 0;
		x->too_big = 0;
		h->errbuf[0] = '\0';
		rc = curl_easy_perform(h->curl);
		if (x->feed_failed)
			return -1;
		if (rc == CURLE_WRITE_ERROR)    /* on_data refused: too big or no memory */
			return x->too_big ? sd_fail(err, "%s: reply larger than %zu bytes", h->url, x->limit)
				: sd_fail(err, "%s: out of memory for the reply", h->url);
		if (rc != CURLE_OK) {
			curl_fail(h, rc, h->ca_file, err);
			if (!never_connected(h, rc) || x->fed || last)
				break;
		} else {
			curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
			curl_easy_getinfo(h->curl, CURLINFO_NUM_CONNECTS, &conns);
			if (status >= 400)
				status_fail(h, status, x->body, err);
			if (status < 502 || status > 504 || conns == 0 || x->fed || last) {
				h->cur = u;
				return status;
			}
		}
		/* left for the next URL: keep what this one said for the message */
		snprintf(before + strlen(before), sizeof(before) - strlen(before), "%s%.200s",
			 *before ? "; " : "", err ? err->msg : "");
	}
	if (*before && err) {
		char last[SD_ERRLEN];

		snprintf(last, sizeof(last), "%s", err->msg);
		sd_fail(err, "%.250s (before: %.250s)", last, before);
	}
	return -1;
}

static int headers_make(struct api *h)
{
	static const char *const common[] = { "Accept: application/json", "Expect:", NULL };
	struct curl_slist **lists[] = { &h->hdr_get, &h->hdr_body, &h->hdr_override };
	size_t i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; common[j]; j++)
			if (!(*lists[i] = curl_slist_append(*lists[i], common[j])))
				return -1;
		if (i > 0 && !(*lists[i] = curl_slist_append(*lists[i], "Content-Type: application/json")))
			return -1;
	}
	return curl_slist_append(h->hdr_override, "X-HTTP-Method-Override: GET") ? 0 : -1;
}

/* the options every request shares; 0 or -1 */
static int curl_setup(struct api *h, const struct api_opts *o)
{
	CURL *c = h->curl;
	CURLcode rc = CURLE_OK;

#define SET(opt, val) do { if (rc == CURLE_OK) rc = curl_easy_setopt(c, opt, val); } while (0)
	SET(CURLOPT_ERRORBUFFER, h->errbuf);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_PROTOCOLS_STR, "https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_CAINFO, o->ca_file);
	SET(CURLOPT_CAPATH, NULL);
	SET(CURLOPT_TCP_KEEPALIVE, 1L);
	SET(CURLOPT_CONNECTTIMEOUT_MS, h->timeout_ms);
	SET(CURLOPT_WRITEFUNCTION, on_data);
	h->sock = CURL_SOCKET_BAD;
	SET(CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	SET(CURLOPT_SOCKOPTDATA, h);
	SET(CURLOPT_CLOSESOCKETFUNCTION, on_close);
	SET(CURLOPT_CLOSESOCKETDATA, h);
	if (o->cert_file) {
		SET(CURLOPT_SSLCERT, o->cert_file);
		SET(CURLOPT_SSLKEY, o->key_file ? o->key_file : o->cert_file);
	}
	if (o->user) {
		SET(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SET(CURLOPT_USERNAME, o->user);
		SET(CURLOPT_PASSWORD, h->password);
	}
#undef SET
	return rc == CURLE_OK ? 0 : -1;
}

static int opts_check(const struct api_opts *o, sd_error *err)
{
	size_t i;

	if (!o->n_urls)
		return sd_fail(err, "icinga2 api: no URL");
	for (i = 0; i < o->n_urls; i++)
		if (!o->urls[i] || strncmp(o->urls[i], "https://", 8) != 0)
			return sd_fail(err, "icinga2 api: %s: not an https:// URL", o->urls[i] ? o->urls[i] : "(null)");
	if (!o->ca_file || !*o->ca_file)
		return sd_fail(err, "icinga2 api: a CA file is required (the server's certificate is always verified)");
	if (!o->user && !o->cert_file)
		return sd_fail(err, "icinga2 api: neither a user nor a client certificate");
	if (o->user && !o->password)
		return sd_fail(err, "icinga2 api: user %s without a password", o->user);
	return 0;
}

struct api *api_open(const struct api_opts *o, sd_error *err)
{
	struct api *h;
	size_t i;

	if (opts_check(o, err) < 0)
		return NULL;
	if (curl_load(err) < 0)
		return NULL;
	if (sodium_init() < 0) {
		sd_fail(err, "icinga2 api: cannot initialise libsodium");
		return NULL;
	}
	if (!(h = calloc(1, sizeof(*h))) || !(h->urls = calloc(o->n_urls, sizeof(*h->urls))))
		goto oom;
	h->n_urls = o->n_urls;
	h->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : API_TIMEOUT_MS;
	h->max_reply = o->max_reply ? o->max_reply : API_MAX_REPLY;
	for (i = 0; i < o->n_urls; i++) {
		size_t n = strlen(o->urls[i]);

		while (n > 8 && o->urls[i][n - 1] == '/')
			n--;
		if (!(h->urls[i] = strndup(o->urls[i], n)))
			goto oom;
	}
	if (o->password) {
		size_t n = strlen(o->password) + 1;

		if (!(h->password = sodium_malloc(n)))
			goto oom;
		memcpy(h->password, o->password, n);
	}
	if (!(h->ca_file = strdup(o->ca_file)) || !(h->curl = curl_easy_init()) || headers_make(h) < 0)
		goto oom;
	if (curl_setup(h, o) < 0) {
		sd_fail(err, "icinga2 api: libcurl refused an option (built without https?)");
		api_close(h);
		return NULL;
	}
	return h;
oom:
	sd_fail(err, "icinga2 api: out of memory");
	api_close(h);
	return NULL;
}

long api_request(struct api *h, const char *method, const char *path, const char *json_body,
		 struct api_reply *out, sd_error *err)
{
	struct xfer x = { .h = h, .err = err, .limit = h->max_reply };
	long status;

	memset(out, 0, sizeof(*out));
	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, h->timeout_ms);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
	status = api_perform(h, method, path, json_body, &x, err);
	if (status >= 0 && !x.body && !(x.body = calloc(1, 1)))
		return sd_fail(err, "icinga2 api: out of memory");
	out->status = status;
	out->body = x.body;
	out->len = x.len;
	return status;
}

long api_stream(struct api *h, const char *method, const char *path, const char *json_body,
		api_feed_fn feed, void *ctx, sd_error *err)
{
	struct xfer x = { .h = h, .err = err, .feed = feed, .ctx = ctx, .limit = API_ERR_BODY };
	long secs = (h->timeout_ms + 999) / 1000, status;

	curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, 0L);
	/* silence, not length, is the failure: under 1 byte/s for the timeout */
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h->curl, CURLOPT_LOW_SPEED_TIME, secs);
	status = api_perform(h, method, path, json_body, &x, err);
	free(x.body);
	return status;
}

const char *api_url(const struct api *h)
{
	return h->urls[h->cur];
}

char *api_escape(const char *s)
{
	char *e, *r;

	if (curl_load(NULL) < 0 || !(e = curl_easy_escape(NULL, s, 0)))
		return NULL;
	r = strdup(e);
	curl_free(e);
	return r;
}

void api_reply_free(struct api_reply *r)
{
	if (!r)
		return;
	free(r->body);
	r->body = NULL;
	r->len = 0;
}

void api_close(struct api *h)
{
	size_t i;

	if (!h)
		return;
	if (h->curl)
		curl_easy_cleanup(h->curl);
	curl_slist_free_all(h->hdr_get);
	curl_slist_free_all(h->hdr_body);
	curl_slist_free_all(h->hdr_override);
	for (i = 0; h->urls && i < h->n_urls; i++)
		free(h->urls[i]);
	free(h->urls);
	sodium_free(h->password);       /* wipes */
	free(h->ca_file);
	free(h->url);
	free(h);
}
