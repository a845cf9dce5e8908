/*
 * channel_fifo.c - the core's command FIFO (Nagios command_file, Icinga 2
 * ExternalCommandListener).
 *
 * Why the details (docs/core-behaviour.md §6): opened non-blocking so a
 * FIFO without reader is an error (ENXIO) rather than a hang; each
 * command is one write() of at most PIPE_BUF, so no other writer's bytes
 * can land inside it. A longer command (long output) could be split by
 * the kernel and another writer's command could end up in the middle of
 * ours, turning our text into a command line; it therefore goes into a
 * file beside the FIFO that the core runs with PROCESS_FILE (both cores;
 * the file is deleted by the core). A FIFO says nothing back: a refused
 * command is only seen in the core's log.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "import/channel.h"
#include "base/deadline.h"
#include "base/error.h"

struct fifo {
	struct channel ch;              /* first: the channel is the fifo */
	int fd;
	char *path, *dir;
	int timeout_ms;
	const char *who;                /* the core, in the wait's notice */
	struct sd_waiter waiter;
};

/* While the pipe is full (the core busy): polled a second at a time, so
 * that a long wait can be told. */
static int wait_writable(struct fifo *f)
{
	struct pollfd p = { f->fd, POLLOUT, 0 };
	struct sd_deadline dl;
	long long left;
	int r;

	sd_deadline_start(&dl, f->timeout_ms);
	for (;;) {
		left = sd_deadline_left(&dl);
		if ((r = poll(&p, 1, (int)(left > SD_NOTICE_AFTER_MS ? SD_NOTICE_AFTER_MS : left))) > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
		if (sd_deadline_over(&dl)) {
			errno = ETIMEDOUT;
			return -1;
		}
		sd_deadline_notice(&dl, &f->waiter, "%s to read its command FIFO %s", f->who, f->path);
	}
}

/* One write of buf, waiting (bounded) while the pipe is full. */
static int write_whole(struct fifo *f, const char *buf, size_t len, sd_error *err)
{
	for (;;) {
		ssize_t w = write(f->fd, buf, len);
		if (w == (ssize_t)len)
			return 0;
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && wait_writable(f) == 0)
			continue;
		if (w < 0 && errno == EPIPE)
			return sd_fail(err, "%s: the core stopped reading the command FIFO", f->path);
		return sd_fail(err, "%s: %s", f->path, w < 0 ? strerror(errno) : "short write");
	}
}

/* A command too long for one atomic FIFO write: run it from a file. */
static int via_file(struct fifo *f, const char *line, sd_error *err)
{
	char *path, cmd[PATH_MAX + 64];
	size_t n = strlen(f->dir) + 32;
	int fd, rc = -1;
	FILE *fp;

	if (n + 64 > PIPE_BUF)
		return sd_fail(err, "%s: path too long for a command", f->dir);
	if (!(path = malloc(n)))
		return sd_fail(err, "out of memory");
	snprintf(path, n, "%s/.sitedump-cmd-XXXXXX", f->dir);
	if ((fd = mkstemp(path)) < 0) {
		sd_fail(err, "%s: cannot create a command file beside the FIFO: %s", f->dir, strerror(errno));
		free(path);
		return -1;
	}
	fchmod(fd, 0644);       /* the core may run as another user */
	if (!(fp = fdopen(fd, "w"))) {
		close(fd);
		sd_fail(err, "out of memory");
		goto out;
	}
	fputs(line, fp);
	fputc('\n', fp);
	if (fflush(fp) || fsync(fd) || ferror(fp)) {
		fclose(fp);
		sd_fail(err, "%s: write error", path);
		goto out;
	}
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "[%lld] PROCESS_FILE;%s;1\n", sd_now(), path);
	/* the core deletes the file once it ran it */
	rc = write_whole(f, cmd, strlen(cmd), err);
out:
	if (rc < 0)
		unlink(path);   /* never leave a command file nobody will run */
	free(path);
	return rc;
}

static int fifo_command(struct channel *ch, const char *line, const struct apply_cmd *cmd, sd_error *err)
{
	struct fifo *f = (struct fifo *)ch;
	size_t l = strlen(line);
	char *buf;
	int rc;

	(void)cmd;
	if (l + 1 > PIPE_BUF)
		return via_file(f, line, err);
	if (!(buf = malloc(l + 2)))
		return sd_fail(err, "out of memory");
	memcpy(buf, line, l);
	buf[l] = '\n';
	rc = write_whole(f, buf, l + 1, err);
	free(buf);
	return rc;
}

static int fifo_flush(struct channel *ch, sd_error *err)
{
	(void)ch;
	(void)err;
	return 0;               /* every command went out whole when it came */
}

static void fifo_free(struct channel *ch)
{
	struct fifo *f = (struct fifo *)ch;

	if (f->fd >= 0)
		close(f->fd);
	free(f->path);
	free(f->dir);
	free(f);
}

static const struct channel_ops fifo_ops = { NULL, fifo_command, fifo_flush, NULL, fifo_free };

/* The FIFO's directory, where long commands go as files. */
static char *dir_of(const char *path)
{
	char *d = strdup(path), *slash;

	if (!d)
		return NULL;
	slash = strrchr(d, '/');
	if (slash)
		*slash = slash == d ? (slash[1] = 0, '/') : 0;
	else
		strcpy(d, ".");
	return d;
}

struct channel *channel_fifo_open(const char *path, int timeout_ms, const char *who, const struct sd_waiter *w,
				  sd_error *err)
{
	struct fifo *f = calloc(1, sizeof(*f));
	struct stat st;

	if (!f || !(f->path = strdup(path)) || !(f->dir = dir_of(path))) {
		if (f)
			free(f->path);
		free(f);
		sd_fail(err, "out of memory");
		return NULL;
	}
	f->ch.ops = &fifo_ops;
	f->timeout_ms = timeout_ms;
	f->who = who;
	if (w)
		f->waiter = *w;
	f->fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (f->fd < 0) {
		if (errno == ENXIO)
			sd_fail(err, "%s: no process is reading the command FIFO (is the core running?)", path);
		else
			sd_fail(err, "%s: %s", path, strerror(errno));
	} else if (fstat(f->fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		sd_fail(err, "%s: not a FIFO (the core's command file is a named pipe)", path);
	} else {
		return &f->ch;
	}
	fifo_free(&f->ch);
	return NULL;
}
