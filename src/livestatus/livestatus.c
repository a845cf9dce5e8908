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
#include <sys/un.h>
#include <unistd.h>
#include "livestatus/livestatus.h"

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

int ls_connect(const char *spec, int timeout_ms, sd_error *err)
{
	if (!spec || !*spec)
		return sd_fail(err, "livestatus: no socket given (use -s, or set OMD_ROOT)");
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
 * COMMAND channel. Every command goes with `ResponseHeader: fixed16`: that
 * is the only way Icinga 2 says whether a command failed (452 + text), and
 * without it no reply comes at all (docs/core-behaviour.md §7). Commands
 * are pipelined
 * in windows so 50,000 of them do not cost 50,000 round trips.
 */
#define LS_CMD_WINDOW 64
#define LS_CMD_SUFFIX "\nResponseHeader: fixed16\n\n"

struct ls_cmd {
	int fd;
	char *spec;
	int timeout_ms;
	char *buf;              /* requests not yet sent */
	size_t len, cap;
	char **lines;           /* the commands in the window, for reports */
	int n;
};

struct ls_cmd *ls_command_open(const char *spec, int timeout_ms, sd_error *err)
{
	struct ls_cmd *c = calloc(1, sizeof(*c));

	if (!c || !(c->spec = strdup(spec)) || !(c->lines = calloc(LS_CMD_WINDOW, sizeof(char *)))) {
		if (c)
			free(c->spec);
		free(c);
		sd_fail(err, "out of memory");
		return NULL;
	}
	c->timeout_ms = timeout_ms;
	if ((c->fd = ls_connect(spec, timeout_ms, err)) < 0) {
		free(c->lines);
		free(c->spec);
		free(c);
		return NULL;
	}
	return c;
}

int ls_command_flush(struct ls_cmd *c, ls_report_fn report, void *ctx, sd_error *err)
{
	char hdr[17], text[1024], *end;
	unsigned long code, len;
	int i, failed = 0;

	if (!c->n)
		return 0;
	if (write_all(c->fd, c->buf, c->len, c->timeout_ms) < 0)
		return sd_fail(err, "livestatus %s: send: %s", c->spec, strerror(errno));
	c->len = 0;
	for (i = 0; i < c->n; i++) {
		int k = read_exact(c->fd, hdr, 16, c->timeout_ms);
		if (k != 16)
			return sd_fail(err, "livestatus %s: no reply to a command%s%s", c->spec,
				       k < 0 ? ": " : " (connection closed)", k < 0 ? strerror(errno) : "");
		hdr[16] = 0;
		code = strtoul(hdr, &end, 10);
		if (end != hdr + 3 || hdr[15] != '\n')
			return sd_fail(err, "livestatus %s: malformed reply header", c->spec);
		len = strtoul(hdr + 3, &end, 10);
		if (end != hdr + 15)
			return sd_fail(err, "livestatus %s: malformed reply header", c->spec);
		if (code != 200) {
			read_error_text(c->fd, len, c->timeout_ms, text, sizeof(text));
			/* read_error_text stops at its buffer: drain the rest */
			if (len > 1023) {
				char junk[4096];
				unsigned long left = len - 1023;
				while (left) {
					int r = read_exact(c->fd, junk, left < sizeof(junk) ? left : sizeof(junk), c->timeout_ms);
					if (r <= 0)
						break;
					left -= (unsigned long)r;
				}
			}
			failed++;
			if (report)
				report(ctx, c->lines[i], text);
		} else if (len) {
			char junk[4096];
			while (len) {
				int r = read_exact(c->fd, junk, len < sizeof(junk) ? len : sizeof(junk), c->timeout_ms);
				if (r <= 0)
					break;
				len -= (unsigned long)r;
			}
		}
	}
	for (i = 0; i < c->n; i++) {
		free(c->lines[i]);
		c->lines[i] = NULL;
	}
	c->n = 0;
	return failed;
}

int ls_command_send(struct ls_cmd *c, const char *line, ls_report_fn report, void *ctx, sd_error *err)
{
	size_t l = strlen(line), need = l + 64;
	int rc = 0;

	if (strpbrk(line, "\n\r"))
		return sd_fail(err, "internal: line break inside a command");
	if (c->len + need > c->cap) {
		size_t cap = c->cap ? c->cap : 65536;
		char *b;
		while (cap < c->len + need)
			cap *= 2;
		if (!(b = realloc(c->buf, cap)))
			return sd_fail(err, "out of memory");
		c->buf = b;
		c->cap = cap;
	}
	if (!(c->lines[c->n] = strdup(line)))
		return sd_fail(err, "out of memory");
	memcpy(c->buf + c->len, "COMMAND ", 8);
	memcpy(c->buf + c->len + 8, line, l);
	c->len += 8 + l;
	memcpy(c->buf + c->len, LS_CMD_SUFFIX, sizeof(LS_CMD_SUFFIX) - 1);
	c->len += sizeof(LS_CMD_SUFFIX) - 1;
	if (++c->n == LS_CMD_WINDOW)
		rc = ls_command_flush(c, report, ctx, err);
	return rc;
}

void ls_command_close(struct ls_cmd *c)
{
	int i;

	if (!c)
		return;
	for (i = 0; i < c->n; i++)
		free(c->lines[i]);
	free(c->lines);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c->spec);
	free(c);
}
