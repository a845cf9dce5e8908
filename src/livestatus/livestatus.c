/*
 * livestatus.c - the socket half of the Livestatus client.
 *
 * Why poll() around every read: a hung core must not hang a cron job
 * forever (livedump has no timeout). The body is streamed straight into the
 * JSON reader in 64 KiB chunks; nothing is buffered beyond that.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include "livestatus/livestatus.h"
#include "base/sbuf.h"

const char *ls_default_spec(void)
{
	static char buf[4096];
	const char *root = getenv("OMD_ROOT");

	if (!root || !*root)
		return NULL;
	snprintf(buf, sizeof(buf), "unix:%s/tmp/run/live", root);
	return buf;
}

static int wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms);
	while (rc < 0 && errno == EINTR);
	if (rc == 0)
		errno = ETIMEDOUT;
	return rc > 0 ? 0 : -1;
}

static int connect_wait(int fd, const struct sockaddr *sa, socklen_t len, int timeout_ms)
{
	int soerr = 0;
	socklen_t sl = sizeof(soerr);

	if (connect(fd, sa, len) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EAGAIN)
		return -1;
	if (wait_fd(fd, POLLOUT, timeout_ms) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
		return -1;
	if (soerr) {
		errno = soerr;
		return -1;
	}
	return 0;
}

static int connect_unix(const char *path, int timeout_ms, const char *spec, sd_error *err)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path))
		return sd_fail(err, "livestatus %s: socket path too long", spec);
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return sd_fail(err, "livestatus %s: socket: %s", spec, strerror(errno));
	if (connect_wait(fd, (struct sockaddr *)&sun, sizeof(sun), timeout_ms) < 0) {
		sd_fail(err, "livestatus %s: connect: %s", spec, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_tcp(const char *hostport, int timeout_ms, const char *spec, sd_error *err)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res, *ai;
	char host[256];
	const char *colon = strrchr(hostport, ':');
	int fd = -1, rc, saved = 0;
	size_t hl;

	if (!colon || colon == hostport || !colon[1])
		return sd_fail(err, "livestatus %s: expected tcp:HOST:PORT", spec);
	hl = (size_t)(colon - hostport);
	if (hl >= sizeof(host))
		return sd_fail(err, "livestatus %s: host name too long", spec);
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') { /* [::1]:6557 */
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0)
		return sd_fail(err, "livestatus %s: %s", spec, gai_strerror(rc));
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect_wait(fd, ai->ai_addr, ai->ai_addrlen, timeout_ms) == 0)
			break;
		saved = errno;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		return sd_fail(err, "livestatus %s: connect: %s", spec, strerror(saved ? saved : ECONNREFUSED));
	return fd;
}

int ls_spec_check(const char *spec, sd_error *err)
{
	const char *path = spec, *colon;
	struct stat st;
	char *end;
	long port;

	if (!spec || !*spec)
		return sd_fail(err, "livestatus: no socket given (use -s, or set OMD_ROOT)");
	if (!strncmp(spec, "tcp:", 4)) {
		colon = strrchr(spec + 4, ':');
		if (!colon || colon == spec + 4)
			return sd_fail(err, "livestatus %s: expected tcp:HOST:PORT", spec);
		port = strtol(colon + 1, &end, 10);
		if (!colon[1] || *end || port < 1 || port > 65535)
			return sd_fail(err, "livestatus %s: bad port '%s' (1-65535)", spec, colon + 1);
		return 0;
	}
	if (!strncmp(spec, "unix:", 5))
		path = spec + 5;
	if (!*path)
		return sd_fail(err, "livestatus %s: empty path", spec);
	if (stat(path, &st) == 0 && !S_ISSOCK(st.st_mode))
		return sd_fail(err, "livestatus %s: not a socket (%s)", spec,
			       S_ISDIR(st.st_mode) ? "a directory" : S_ISREG(st.st_mode) ? "a file" : "not a socket");
	return 0;
}

int ls_connect(const char *spec, int timeout_ms, sd_error *err)
{
	if (ls_spec_check(spec, err) < 0)
		return -1;
	if (!strncmp(spec, "unix:", 5))
		return connect_unix(spec + 5, timeout_ms, spec, err);
	if (!strncmp(spec, "tcp:", 4))
		return connect_tcp(spec + 4, timeout_ms, spec, err);
	return connect_unix(spec, timeout_ms, spec, err);
}

static int write_all(int fd, const char *buf, size_t len, int timeout_ms)
{
	ssize_t n;

	while (len) {
		n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN || wait_fd(fd, POLLOUT, timeout_ms) < 0)
				return -1;
			continue;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read up to len bytes; 0 at EOF, -1 on error/timeout. */
static ssize_t read_some(int fd, void *buf, size_t len, int timeout_ms)
{
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, len, 0);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN || wait_fd(fd, POLLIN, timeout_ms) < 0)
			return -1;
	}
}

static int read_exact(int fd, char *buf, size_t len, int timeout_ms)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read_some(fd, buf + got, len - got, timeout_ms);
		if (n <= 0)
			return n < 0 ? -1 : (int)got;
		got += (size_t)n;
	}
	return (int)got;
}

/* Error replies are short; keep the first line of the server's text. */
static void read_error_text(int fd, unsigned long len, int timeout_ms, char *out, size_t outlen)
{
	char buf[1024];
	size_t want = len < sizeof(buf) - 1 ? len : sizeof(buf) - 1;
	int n = read_exact(fd, buf, want, timeout_ms);
	char *p;

	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (p = buf; *p; p++)          /* keep it one printable line */
		if (*p == '\n' || *p == '\r')
			break;
		else if ((unsigned char)*p < 0x20)
			*p = ' ';
	*p = '\0';
	snprintf(out, outlen, "%s", buf);
}

long ls_query(const char *spec, const char *request, int timeout_ms,
	      ls_row_cb cb, void *ctx, sd_error *err)
{
	struct lsjson_reader *r = NULL;
	char hdr[17], text[1024], *req = NULL, *end;
	static char buf[65536];
	unsigned long code, len, got = 0;
	long rows = -1;
	int fd, n;
	size_t rl;

	if ((fd = ls_connect(spec, timeout_ms, err)) < 0)
		return -1;
	rl = strlen(request);
	if (!(req = malloc(rl + 64))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	memcpy(req, request, rl);
	while (rl && req[rl - 1] == '\n')
		rl--;
	memcpy(req + rl, LS_REQUEST_SUFFIX, sizeof(LS_REQUEST_SUFFIX));
	if (write_all(fd, req, strlen(req), timeout_ms) < 0) {
		sd_fail(err, "livestatus %s: send: %s", spec, strerror(errno));
		goto out;
	}
	shutdown(fd, SHUT_WR);
	n = read_exact(fd, hdr, 16, timeout_ms);
	if (n != 16) {
		if (n < 0)
			sd_fail(err, "livestatus %s: reading reply: %s", spec, strerror(errno));
		else
			sd_fail(err, "livestatus %s: reply ended after %d bytes of the 16-byte header", spec, n);
		goto out;
	}
	hdr[16] = '\0';
	code = strtoul(hdr, &end, 10);
	if (end != hdr + 3 || hdr[15] != '\n') {
		sd_fail(err, "livestatus %s: malformed reply header", spec);
		goto out;
	}
	len = strtoul(hdr + 3, &end, 10);
	if (end != hdr + 15) {
		sd_fail(err, "livestatus %s: malformed reply header", spec);
		goto out;
	}
	if (code != 200) {
		read_error_text(fd, len, timeout_ms, text, sizeof(text));
		sd_fail(err, "livestatus %s: server error %lu: %s", spec, code, text);
		goto out;
	}
	if (!(r = lsjson_reader_new(cb, ctx))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	lsjson_reader_expect(r, len);
	while (got < len) {
		size_t want = len - got < sizeof(buf) ? len - got : sizeof(buf);
		ssize_t k = read_some(fd, buf, want, timeout_ms);
		if (k < 0) {
			sd_fail(err, "livestatus %s: reading reply: %s", spec, strerror(errno));
			goto out;
		}
		if (k == 0) {
			sd_fail(err, "livestatus %s: reply truncated: %lu of %lu bytes", spec, got, len);
			goto out;
		}
		got += (unsigned long)k;
		if (lsjson_reader_feed(r, buf, (size_t)k, err) < 0)
			goto prefixed;
	}
	if ((rows = lsjson_reader_finish(r, err)) < 0)
		goto prefixed;
	goto out;
prefixed:
	{
		char msg[SD_ERRLEN];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		sd_fail(err, "livestatus %s: %s", spec, msg);
		rows = -1;
	}
out:
	lsjson_reader_free(r);
	free(req);
	close(fd);
	return rows;
}

/*
 * COMMAND channel. Servers differ in what they say about a command
 * (docs/core-behaviour.md §7, §9):
 * - Icinga 2 answers 200 or 452 + text per command, but only when the
 *   COMMAND request itself carries `ResponseHeader: fixed16`; without it
 *   nothing comes at all.
 * - mk-livestatus (Checkmk) and naemon-livestatus never answer a command
 *   that worked; Naemon's answers one that failed with a plain `400: why`
 *   line, Checkmk's says nothing. A header line after a COMMAND line is
 *   read by both as the next request, so commands go bare. naemon-
 *   livestatus runs each COMMAND to its end before it reads the next
 *   request, so one `GET status` with fixed16 and KeepAlive after a window
 *   is answered after every line the window's commands caused. One such
 *   barrier per window, not per command: a barrier per command made a
 *   50k-service import 1.6x the floor (one per window 1.2x). Naemon's
 *   reason does not name the object, so a window that got `400:` lines is
 *   attributed afterwards by asking the central which of its objects
 *   exist (attribute()).
 * Commands are pipelined in windows so 50,000 of them do not cost 50,000
 * round trips; a window's replies are read before the next goes out.
 */
#define LS_CMD_WINDOW 64
#define LS_CMD_SUFFIX "\nResponseHeader: fixed16\n\n"
#define LS_CMD_BARRIER "GET status\nColumns: livestatus_version\nKeepAlive: on\nResponseHeader: fixed16\n\n"

struct ls_cmd {
	int fd;
	char *spec;
	int timeout_ms;
	enum ls_dialect dialect;
	char *buf;              /* requests not yet sent */
	size_t len, cap;
	char **lines;           /* the commands in the window, for reports */
	int n;
	char **why;             /* the window's refusals (mk dialects), in order */
	int nwhy;
	char in[8192];          /* replies read but not yet used */
	size_t ipos, ilen;
};

struct ls_cmd *ls_command_open(const char *spec, enum ls_dialect dialect, int timeout_ms, sd_error *err)
{
	struct ls_cmd *c = calloc(1, sizeof(*c));

	if (!c || !(c->spec = strdup(spec)) || !(c->lines = calloc(LS_CMD_WINDOW, sizeof(char *))) ||
	    !(c->why = calloc(LS_CMD_WINDOW, sizeof(char *)))) {
		if (c) {
			free(c->lines);
			free(c->spec);
		}
		free(c);
		sd_fail(err, "out of memory");
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	c->dialect = dialect;
	if ((c->fd = ls_connect(spec, timeout_ms, err)) < 0) {
		c->fd = -1;
		ls_command_close(c);
		return NULL;
	}
	return c;
}

/* The next reply byte; -1 (errno set, 0 at EOF) when none comes. */
static int in_byte(struct ls_cmd *c)
{
	if (c->ipos == c->ilen) {
		ssize_t n = read_some(c->fd, c->in, sizeof(c->in), c->timeout_ms);
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		c->ipos = 0;
		c->ilen = (size_t)n;
	}
	return (unsigned char)c->in[c->ipos++];
}

/* One reply line without its '\n', cut to one printable line of out. */
static int in_line(struct ls_cmd *c, char *out, size_t outlen, size_t *len)
{
	size_t n = 0;
	int ch;

	while ((ch = in_byte(c)) != '\n') {
		if (ch < 0)
			return -1;
		if (n + 1 < outlen)
			out[n] = ch < 0x20 ? ' ' : (char)ch;
		n++;
	}
	out[n + 1 < outlen ? n : outlen - 1] = 0;
	*len = n;
	return 0;
}

static int in_skip(struct ls_cmd *c, unsigned long len)
{
	for (; len; len--)
		if (in_byte(c) < 0)
			return -1;
	return 0;
}

static int no_reply(struct ls_cmd *c, sd_error *err)
{
	return sd_fail(err, "livestatus %s: no reply to a command%s%s", c->spec,
		       errno ? ": " : " (connection closed)", errno ? strerror(errno) : "");
}

/* A fixed16 header line "CCC LLLLLLLLLLL": code and length, or -1. */
static int fixed16(const char *line, size_t n, unsigned long *code, unsigned long *len)
{
	char *end;

	if (n != 15 || line[3] != ' ')
		return -1;
	*code = strtoul(line, &end, 10);
	if (end != line + 3)
		return -1;
	*len = strtoul(line + 3, &end, 10);
	return end == line + 15 ? 0 : -1;
}

/* len bytes of reply text: its first line (printable) in out. */
static int in_text(struct ls_cmd *c, unsigned long len, char *out, size_t outlen)
{
	size_t n = 0;
	int ch, line = 1;

	for (; len; len--) {
		if ((ch = in_byte(c)) < 0)
			return -1;
		if (ch == '\n' || ch == '\r')
			line = 0;
		else if (line && n + 1 < outlen)
			out[n++] = ch < 0x20 ? ' ' : (char)ch;
	}
	out[n] = 0;
	return 0;
}

/* Icinga 2: one fixed16 reply per command, 452 + the reason when refused. */
static int reply_icinga2(struct ls_cmd *c, int i, ls_report_fn report, void *ctx, sd_error *err)
{
	char line[1024], text[1024];
	unsigned long code, len;
	size_t n;

	if (in_line(c, line, sizeof(line), &n) < 0)
		return no_reply(c, err);
	if (fixed16(line, n, &code, &len) < 0)
		return sd_fail(err, "livestatus %s: malformed reply header", c->spec);
	if (in_text(c, len, text, sizeof(text)) < 0)
		return no_reply(c, err);
	if (code == 200)
		return 0;
	if (report)
		report(ctx, c->lines[i], text);
	return 1;
}

/*
 * Attribution of a window's `400:` lines (mk dialects). What a command is
 * about, from its text "[ts] VERB;host;service;...": a verb with _SVC_ or
 * _SERVICE_ names a service, one with _HOST_ a host; DEL_* take an id
 * (Naemon never refuses an unknown id: it only logs it), other verbs are
 * not checked.
 */
struct ls_obj {
	const char *host, *svc;         /* host NULL: nothing to look up */
	size_t hl, sl;
	int found;
};

static void cmd_object(const char *line, struct ls_obj *o)
{
	const char *verb = strstr(line, "] "), *semi;
	char v[64];
	size_t vl;

	memset(o, 0, sizeof(*o));
	if (!verb || !(semi = strchr(verb += 2, ';')) || (vl = (size_t)(semi - verb)) >= sizeof(v))
		return;
	memcpy(v, verb, vl);
	v[vl] = 0;
	if (!strncmp(v, "DEL_", 4))
		return;
	o->host = semi + 1;
	o->hl = strcspn(o->host, ";");
	if (strstr(v, "_SVC_") || strstr(v, "_SERVICE_")) {
		if (!o->host[o->hl])
			o->host = NULL;         /* no service field */
		else
			o->sl = strcspn(o->svc = o->host + o->hl + 1, ";");
	} else if (!strstr(v, "_HOST_"))
		o->host = NULL;
}

struct found_ctx {
	struct ls_obj *o;
	int n, svc;
};

static int eq(const char *s, const char *name, size_t len)
{
	return strlen(s) == len && !memcmp(s, name, len);
}

static int found_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct found_ctx *f = ctx;
	const char *h, *s;
	int i;

	(void)err;
	if (row->n < (size_t)(f->svc ? 2 : 1))
		return 0;
	h = ls_str(&row->cols[0]);
	s = f->svc ? ls_str(&row->cols[1]) : "";
	for (i = 0; i < f->n; i++)
		if (f->o[i].host && !f->o[i].svc == !f->svc && eq(h, f->o[i].host, f->o[i].hl) &&
		    (!f->svc || eq(s, f->o[i].svc, f->o[i].sl)))
			f->o[i].found = 1;
	return 0;
}

/* One query for the window's hosts (svc 0) or services (svc 1): sets found
 * on each that the central has. 0, or -1 with err set. */
static int objects_find(struct ls_cmd *c, struct ls_obj *o, int n, int svc, sd_error *err)
{
	struct found_ctx f = { o, n, svc };
	struct sbuf q = { 0 };
	int i, k = 0;
	long rows;

	sbuf_puts(&q, svc ? "GET services\nColumns: host_name description" : "GET hosts\nColumns: name");
	for (i = 0; i < n; i++) {
		if (!o[i].host || !o[i].svc != !svc)
			continue;
		sbuf_puts(&q, svc ? "\nFilter: host_name = " : "\nFilter: name = ");
		sbuf_putn(&q, o[i].host, o[i].hl);
		if (svc) {
			sbuf_puts(&q, "\nFilter: description = ");
			sbuf_putn(&q, o[i].svc, o[i].sl);
			sbuf_puts(&q, "\nAnd: 2");
		}
		k++;
	}
	if (k > 1) {
		sbuf_puts(&q, "\nOr: ");
		sbuf_put_ll(&q, k);
	}
	sbuf_putc(&q, 0);
	if (q.oom) {
		sbuf_free(&q);
		return sd_fail(err, "out of memory");
	}
	rows = k ? ls_query(c->spec, q.p, c->timeout_ms, found_row, &f, err) : 0;
	sbuf_free(&q);
	return rows < 0 ? -1 : 0;
}

/* "host 'h'", "service 'h;s'", or the command's text (cut). */
static void describe(const struct ls_obj *o, const char *line, char *out, size_t outlen)
{
	const char *b = strstr(line, "] ");

	if (o->host && o->svc)
		snprintf(out, outlen, "service '%.*s;%.*s'", (int)o->hl, o->host, (int)o->sl, o->svc);
	else if (o->host)
		snprintf(out, outlen, "host '%.*s'", (int)o->hl, o->host);
	else
		snprintf(out, outlen, "'%.60s'", b ? b + 2 : line);
}

/*
 * Name the commands behind the window's k refusals. A command whose
 * object the central does not have is always refused (Naemon validates
 * its arguments first), and refusals come in command order, so when the
 * missing objects are exactly k they pair with the reasons in order.
 * Otherwise (some other refusal; or the central could not be asked) each
 * reason is reported for the window's range of commands.
 */
static void attribute(struct ls_cmd *c, int k, ls_report_fn report, void *ctx)
{
	struct ls_obj o[LS_CMD_WINDOW];
	char first[600], last[600], what[1400];
	sd_error qerr;
	int i, j, m = 0;

	for (i = 0; i < c->n; i++)
		cmd_object(c->lines[i], &o[i]);
	if (c->n > 1 && (objects_find(c, o, c->n, 0, &qerr) < 0 || objects_find(c, o, c->n, 1, &qerr) < 0))
		m = -1;
	for (i = 0; m >= 0 && i < c->n; i++)
		m += o[i].host && !o[i].found;
	if (c->n == 1) {
		for (j = 0; j < k; j++)
			report(ctx, c->lines[0], c->why[j]);
		return;
	}
	if (m == k) {
		for (i = j = 0; i < c->n; i++)
			if (o[i].host && !o[i].found)
				report(ctx, c->lines[i], c->why[j++]);
		return;
	}
	describe(&o[0], c->lines[0], first, sizeof(first));
	describe(&o[c->n - 1], c->lines[c->n - 1], last, sizeof(last));
	snprintf(what, sizeof(what), "one of %d commands, for %s to %s", c->n, first, last);
	for (j = 0; j < k; j++)
		report(ctx, what, c->why[j]);
}

/* mk-livestatus, Naemon: the window's `400: why` lines, then the barrier's
 * answer; the refusals attributed. Returns how many came. */
static int reply_mk(struct ls_cmd *c, ls_report_fn report, void *ctx, sd_error *err)
{
	char line[1024];
	unsigned long code, len;
	size_t n;
	int k = 0;

	for (;;) {
		if (in_line(c, line, sizeof(line), &n) < 0)
			return no_reply(c, err);
		if (fixed16(line, n, &code, &len) == 0)
			break;
		/* more refusals than commands: not a server we know; the first are kept */
		if (c->nwhy < LS_CMD_WINDOW && !(c->why[c->nwhy++] = strdup(line)))
			return sd_fail(err, "out of memory");
		k++;
	}
	if (in_skip(c, len) < 0)
		return no_reply(c, err);
	if (code != 200)
		return sd_fail(err, "livestatus %s: the server refused a status query (%lu)", c->spec, code);
	if (k && report)
		attribute(c, c->nwhy, report, ctx);
	return k;
}

static void window_clear(struct ls_cmd *c)
{
	int i;

	for (i = 0; i < c->n; i++) {
		free(c->lines[i]);
		c->lines[i] = NULL;
	}
	for (i = 0; i < c->nwhy; i++) {
		free(c->why[i]);
		c->why[i] = NULL;
	}
	c->n = c->nwhy = 0;
	c->len = 0;
}

static int put(struct ls_cmd *c, const char *s, size_t n)
{
	if (c->len + n > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		char *b;
		while (cap < c->len + n)
			cap *= 2;
		if (!(b = realloc(c->buf, cap)))
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	return 0;
}

int ls_command_flush(struct ls_cmd *c, ls_report_fn report, void *ctx, sd_error *err)
{
	int i, k, failed = 0;

	if (!c->n)
		return 0;
	if (c->dialect != LS_DIALECT_ICINGA2 && put(c, LS_CMD_BARRIER, sizeof(LS_CMD_BARRIER) - 1) < 0)
		return sd_fail(err, "out of memory");
	if (write_all(c->fd, c->buf, c->len, c->timeout_ms) < 0)
		return sd_fail(err, "livestatus %s: send: %s", c->spec, strerror(errno));
	c->len = 0;
	if (c->dialect != LS_DIALECT_ICINGA2)
		failed = reply_mk(c, report, ctx, err);
	for (i = 0; failed >= 0 && c->dialect == LS_DIALECT_ICINGA2 && i < c->n; i++) {
		if ((k = reply_icinga2(c, i, report, ctx, err)) < 0)
			failed = -1;
		else
			failed += k;
	}
	if (failed >= 0)
		window_clear(c);
	return failed;
}

/* The command's text; naemon-livestatus takes "\\x" as x and "\\n" as a
 * line break before the core sees it. A backslash goes doubled, so the
 * core gets it; "\\n" goes as it is: the result text for this server
 * (TEXT_LINES, formats/extcmd.c) writes line breaks so and a literal
 * backslash-n otherwise. */
static int put_text(struct ls_cmd *c, const char *line)
{
	const char *b;

	if (c->dialect != LS_DIALECT_NAEMON)
		return put(c, line, strlen(line));
	while ((b = strchr(line, '\\'))) {
		if (put(c, line, (size_t)(b - line) + 1) < 0 || (b[1] != 'n' && put(c, "\\", 1) < 0))
			return -1;
		line = b + 1;
	}
	return put(c, line, strlen(line));
}

int ls_command_send(struct ls_cmd *c, const char *line, ls_report_fn report, void *ctx, sd_error *err)
{
	/* the mk dialects: a request ends at its empty line, the barrier comes at the flush */
	const char *tail = c->dialect == LS_DIALECT_ICINGA2 ? LS_CMD_SUFFIX : "\n\n";

	if (strpbrk(line, "\n\r"))
		return sd_fail(err, "internal: line break inside a command");
	if (!(c->lines[c->n] = strdup(line)) || put(c, "COMMAND ", 8) < 0 || put_text(c, line) < 0 ||
	    put(c, tail, strlen(tail)) < 0)
		return sd_fail(err, "out of memory");
	if (++c->n == LS_CMD_WINDOW)
		return ls_command_flush(c, report, ctx, err);
	return 0;
}

void ls_command_close(struct ls_cmd *c)
{
	if (!c)
		return;
	window_clear(c);
	free(c->lines);
	free(c->why);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->spec);
	free(c);
}

static int server_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	struct ls_server *sv = ctx;

	(void)err;
	if (row->n >= 2) {
		snprintf(sv->program_version, sizeof(sv->program_version), "%s", ls_str(&row->cols[0]));
		snprintf(sv->livestatus_version, sizeof(sv->livestatus_version), "%s", ls_str(&row->cols[1]));
	}
	return 0;
}

int ls_server_info(const char *spec, int timeout_ms, struct ls_server *out, sd_error *err)
{
	memset(out, 0, sizeof(*out));
	return ls_query(spec, "GET status\nColumns: program_version livestatus_version", timeout_ms, server_row,
			out, err) < 0 ? -1 : 0;
}
