/*
 * apply.c - the central's channels: checkresult spool, command FIFO,
 * Livestatus.
 *
 * Why the details (docs/core-behaviour.md §2, §6):
 * - spool files are written under a hidden temp name (Nagios only reads
 *   7-character c?????? names), fsynced, renamed onto a name mkstemp
 *   reserved, and only then get their .ok marker: Nagios never sees half a
 *   file. All records of one run go into few files, in order: across files
 *   Nagios's order is readdir's, within a file it is the file's.
 * - FIFO: opened non-blocking so a FIFO without reader is an error (ENXIO)
 *   rather than a hang; each command is one write() of at most PIPE_BUF, so
 *   no other writer's bytes can land inside it. A longer command (long
 *   output) could be split by the kernel and another writer's command could
 *   end up in the middle of ours, turning our text into a command line; it
 *   therefore goes into a file beside the FIFO that the core runs with
 *   PROCESS_FILE (both cores; the file is deleted by the core).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "import/apply.h"
#include "formats/checkresult.h"
#include "formats/extcmd.h"
#include "livestatus/livestatus.h"
#include "base/deadline.h"
#include "base/sbuf.h"
#include "base/text.h"

#define SPOOL_RECORDS_PER_FILE 5000

struct applier {
	struct apply_opts o;
	struct apply_stats st;
	struct ls_cmd *ls;
	int fifo;
	char *fifo_dir;
	/* spool */
	FILE *spool;                    /* current temp file */
	char *spool_tmp;
	int spool_records;
	char **pending;                 /* final names the core has yet to read */
	size_t npending, cappending;
	FILE *queue;                    /* commands held back until the spool is read */
	struct extcmd cmd;
	struct sbuf rec;                /* a spool record, as the export writes it */
	char *last_host, *last_svc;     /* the spool's last record */
	int sent;                       /* first_send called */
};

static void about_to_send(struct applier *a)
{
	if (!a->sent && !a->o.dry_run) {
		a->sent = 1;
		if (a->o.first_send)
			a->o.first_send(a->o.report_ctx);
	}
}

static int fifo_open(struct applier *a, sd_error *err)
{
	struct stat st;
	char *slash;

	a->fifo = open(a->o.command_file, O_WRONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	if (a->fifo < 0) {
		if (errno == ENXIO)
			return sd_fail(err, "%s: no process is reading the command FIFO (is the core running?)",
				       a->o.command_file);
		return sd_fail(err, "%s: %s", a->o.command_file, strerror(errno));
	}
	if (fstat(a->fifo, &st) < 0 || !S_ISFIFO(st.st_mode))
		return sd_fail(err, "%s: not a FIFO (the core's command file is a named pipe)", a->o.command_file);
	if (!(a->fifo_dir = strdup(a->o.command_file)))
		return sd_fail(err, "out of memory");
	slash = strrchr(a->fifo_dir, '/');
	if (slash)
		*slash = slash == a->fifo_dir ? (slash[1] = 0, '/') : 0;
	else
		strcpy(a->fifo_dir, ".");
	return 0;
}

/* Temp files of a run that was killed (kill -9 mid-write): hidden or
 * 7-character names without .ok that Nagios never reads. Only ours, and
 * only old ones: another siteload may be writing right now. */
static void spool_sweep(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	time_t now = (time_t)sd_now();
	char path[PATH_MAX], ok[PATH_MAX + 8];

	if (!d)
		return;
	while ((e = readdir(d))) {
		int ours_tmp = !strncmp(e->d_name, ".sitedump-", 10);
		int placeholder = strlen(e->d_name) == 7 && e->d_name[0] == 'c';
		if (!ours_tmp && !placeholder)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		snprintf(ok, sizeof(ok), "%s.ok", path);
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode) || now - st.st_mtime < 600)
			continue;
		/* a reserved name mkstemp made but that never got its content */
		if (placeholder && (st.st_size != 0 || access(ok, F_OK) == 0))
			continue;
		unlink(path);
	}
	closedir(d);
}

struct applier *apply_open(const struct apply_opts *o, sd_error *err)
{
	struct applier *a = calloc(1, sizeof(*a));

	if (!a) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	a->o = *o;
	a->fifo = -1;
	if (o->dry_run)
		return a;
	if (o->checkresults)
		spool_sweep(o->checkresults);
	if (o->command_file && fifo_open(a, err) < 0)
		goto fail;
	if (o->livestatus && !(a->ls = ls_command_open(o->livestatus, o->timeout_ms, err)))
		goto fail;
	return a;
fail:
	apply_free(a);
	return NULL;
}

static int wait_writable(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLOUT, 0 };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

/* A command too long for one atomic FIFO write: run it from a file. */
static int fifo_via_file(struct applier *a, const char *line, sd_error *err)
{
	char *path, cmd[PATH_MAX + 64];
	size_t n = strlen(a->fifo_dir) + 32;
	int fd, rc = -1;
	FILE *f;

	if (n + 64 > PIPE_BUF)
		return sd_fail(err, "%s: path too long for a command", a->fifo_dir);
	if (!(path = malloc(n)))
		return sd_fail(err, "out of memory");
	snprintf(path, n, "%s/.sitedump-cmd-XXXXXX", a->fifo_dir);
	if ((fd = mkstemp(path)) < 0) {
		sd_fail(err, "%s: cannot create a command file beside the FIFO: %s", a->fifo_dir, strerror(errno));
		free(path);
		return -1;
	}
	fchmod(fd, 0644);       /* the core may run as another user */
	if (!(f = fdopen(fd, "w"))) {
		close(fd);
		sd_fail(err, "out of memory");
		goto out;
	}
	fputs(line, f);
	fputc('\n', f);
	if (fflush(f) || fsync(fd) || ferror(f)) {
		fclose(f);
		sd_fail(err, "%s: write error", path);
		goto out;
	}
	fclose(f);
	snprintf(cmd, sizeof(cmd), "[%lld] PROCESS_FILE;%s;1\n", sd_now(), path);
	for (;;) {
		ssize_t w = write(a->fifo, cmd, strlen(cmd));
		if (w == (ssize_t)strlen(cmd)) {
			rc = 0;         /* the core deletes the file once it ran it */
			break;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN && wait_writable(a->fifo, a->o.timeout_ms) == 0)
			continue;
		sd_fail(err, "%s: %s", a->o.command_file, w < 0 ? strerror(errno) : "short write");
		break;
	}
out:
	if (rc < 0)
		unlink(path);   /* never leave a command file nobody will run */
	free(path);
	return rc;
}

static int fifo_send(struct applier *a, const char *line, sd_error *err)
{
	size_t l = strlen(line);
	char *buf;
	ssize_t w;

	if (l + 1 > PIPE_BUF)
		return fifo_via_file(a, line, err);
	if (!(buf = malloc(l + 2)))
		return sd_fail(err, "out of memory");
	memcpy(buf, line, l);
	buf[l] = '\n';
	for (;;) {
		w = write(a->fifo, buf, l + 1);
		if (w == (ssize_t)(l + 1))
			break;
		if (w < 0 && errno == EINTR)
			continue;
		/* a full pipe: wait for the core to read (bounded) */
		if (w < 0 && errno == EAGAIN && wait_writable(a->fifo, a->o.timeout_ms) == 0)
			continue;
		free(buf);
		if (w < 0 && errno == EPIPE)
			return sd_fail(err, "%s: the core stopped reading the command FIFO", a->o.command_file);
		return sd_fail(err, "%s: %s", a->o.command_file, w < 0 ? strerror(errno) : "short write");
	}
	free(buf);
	return 0;
}

static void refused(void *ctx, const char *line, const char *why)
{
	struct applier *a = ctx;

	a->st.refused++;
	if (a->o.report)
		a->o.report(a->o.report_ctx, line, why);
}

/* Send one command now, on the FIFO if there is one, else Livestatus. */
static int send_now(struct applier *a, const char *line, sd_error *err)
{
	a->st.commands++;
	if (a->o.dry_run) {
		fprintf(a->o.dry_run, "%s\n", line);
		return 0;
	}
	about_to_send(a);
	if (a->fifo >= 0)
		return fifo_send(a, line, err);
	if (a->ls)
		return ls_command_send(a->ls, line, refused, a, err) < 0 ? -1 : 0;
	return sd_fail(err, "acknowledgements, downtimes and comments need --command-file or --livestatus");
}

/* ---- checkresult spool ---- */

static int spool_new(struct applier *a, sd_error *err)
{
	size_t n = strlen(a->o.checkresults) + 32;
	int fd;

	if (!(a->spool_tmp = malloc(n)))
		return sd_fail(err, "out of memory");
	snprintf(a->spool_tmp, n, "%s/.sitedump-XXXXXX", a->o.checkresults);
	if ((fd = mkstemp(a->spool_tmp)) < 0) {
		sd_fail(err, "%s: %s", a->o.checkresults, strerror(errno));
		free(a->spool_tmp);
		a->spool_tmp = NULL;
		return -1;
	}
	fchmod(fd, 0644);
	if (!(a->spool = fdopen(fd, "w"))) {
		close(fd);
		unlink(a->spool_tmp);
		return sd_fail(err, "out of memory");
	}
	a->rec.len = 0;
	checkresult_put_file_header(&a->rec, sd_now());
	if (sbuf_flush(&a->rec, a->spool, 0) < 0)
		return sd_fail(err, "%s: write error", a->spool_tmp);
	a->spool_records = 0;
	return 0;
}

/* fsync, rename onto a reserved c?????? name, then the .ok marker. */
static int spool_close(struct applier *a, sd_error *err)
{
	char *final = NULL, *ok = NULL;
	int fd, rc = -1;
	size_t n;

	if (!a->spool)
		return 0;
	n = strlen(a->o.checkresults) + 16;
	if (fflush(a->spool) || ferror(a->spool) || fsync(fileno(a->spool))) {
		sd_fail(err, "%s: write error: %s", a->spool_tmp, strerror(errno));
		goto out;
	}
	if (!(final = malloc(n)) || !(ok = malloc(n + 3))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	snprintf(final, n, "%s/cXXXXXX", a->o.checkresults);
	if ((fd = mkstemp(final)) < 0) {
		sd_fail(err, "%s: %s", a->o.checkresults, strerror(errno));
		goto out;
	}
	close(fd);
	if (rename(a->spool_tmp, final) < 0) {
		sd_fail(err, "%s: rename: %s", final, strerror(errno));
		unlink(final);
		goto out;
	}
	snprintf(ok, n + 3, "%s.ok", final);
	if ((fd = open(ok, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		sd_fail(err, "%s: %s", ok, strerror(errno));
		unlink(final);
		goto out;
	}
	fchmod(fd, 0644);       /* whatever the umask: the core may run as another user */
	close(fd);
	if ((fd = open(a->o.checkresults, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	if (a->npending == a->cappending) {
		size_t cap = a->cappending ? a->cappending * 2 : 8;
		char **v = realloc(a->pending, cap * sizeof(*v));
		if (!v) {
			sd_fail(err, "out of memory");
			goto out;
		}
		a->pending = v;
		a->cappending = cap;
	}
	a->pending[a->npending++] = final;
	final = NULL;
	a->st.files++;
	rc = 0;
out:
	if (a->spool)
		fclose(a->spool);
	a->spool = NULL;
	if (rc < 0 && a->spool_tmp)
		unlink(a->spool_tmp);
	free(a->spool_tmp);
	a->spool_tmp = NULL;
	free(final);
	free(ok);
	return rc;
}

static int spool_put(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		     double exec_time, double latency, const char *output, sd_error *err)
{
	FILE *f;

	/* a full file is closed only between objects: one object's replayed
	 * results must stay in one file, in order (Nagios reads files in
	 * readdir order) */
	if (a->spool && a->spool_records >= SPOOL_RECORDS_PER_FILE &&
	    (strcmp(a->last_host ? a->last_host : "", host) || strcmp(a->last_svc ? a->last_svc : "", svc ? svc : "")) &&
	    spool_close(a, err) < 0)
		return -1;
	if (!a->o.dry_run && !a->spool) {
		about_to_send(a);
		if (spool_new(a, err) < 0)
			return -1;
	}
	free(a->last_host);
	free(a->last_svc);
	a->last_host = strdup(host);
	a->last_svc = strdup(svc ? svc : "");
	f = a->o.dry_run ? a->o.dry_run : a->spool;
	if (a->o.dry_run)
		fputs("# checkresult\n", f);
	checkresult_put_head(&a->rec, "", host, svc, latency, (double)ts, exec_time, rc);
	sbuf_puts(&a->rec, *output ? output : " ");
	sbuf_putn(&a->rec, "\n\n", 2);
	if (sbuf_flush(&a->rec, f, 0) < 0)
		return sd_fail(err, "%s: write error", a->o.dry_run ? "dry run" : a->spool_tmp);
	a->st.results++;
	if (a->o.dry_run)
		return 0;
	a->spool_records++;
	return 0;
}

int apply_result(struct applier *a, const char *host, const char *svc, int rc, long long ts,
		 double exec_time, double latency, const char *output, sd_error *err)
{
	if (extcmd_name_problem(host) || (svc && extcmd_name_problem(svc)))
		return sd_fail(err, "internal: unchecked name");
	if (a->o.checkresults)
		return spool_put(a, host, svc, rc, ts, exec_time, latency, output, err);
	if (extcmd_result(&a->cmd, ts, host, svc, rc, output) < 0)
		return sd_fail(err, "out of memory");
	a->st.results++;
	a->st.commands--;       /* counted as a result, not a command */
	return send_now(a, a->cmd.buf, err);
}

int apply_command(struct applier *a, const char *line, sd_error *err)
{
	if (strpbrk(line, "\n\r"))
		return sd_fail(err, "internal: line break inside a command");
	if (!a->o.checkresults || a->o.dry_run)
		return send_now(a, line, err);
	/* held back until the core has read the spool */
	if (!a->queue && !(a->queue = tmpfile()))
		return sd_fail(err, "temporary file: %s", strerror(errno));
	fputs(line, a->queue);
	fputc('\n', a->queue);
	return ferror(a->queue) ? sd_fail(err, "temporary file: write error") : 0;
}

static int wait_reaped(struct applier *a, sd_error *err)
{
	struct sd_deadline dl;
	size_t i;

	sd_deadline_start(&dl, a->o.reap_wait_ms);
	for (;;) {
		size_t left = 0;
		for (i = 0; i < a->npending; i++)
			if (access(a->pending[i], F_OK) == 0)
				left++;
		if (!left)
			return 0;
		if (sd_deadline_over(&dl))
			return sd_fail(err, "%s: the core has not read %zu checkresult file(s) within %d s "
				       "(check_result_path, is the core running?); acknowledgements, downtimes "
				       "and comments not sent", a->o.checkresults, left, a->o.reap_wait_ms / 1000);
		usleep(100000);
	}
}

int apply_finish(struct applier *a, sd_error *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;

	if (a->o.dry_run)
		return fflush(a->o.dry_run) ? sd_fail(err, "write error") : 0;
	if (spool_close(a, err) < 0)
		return -1;
	if (a->queue) {
		if (wait_reaped(a, err) < 0)
			return -1;
		rewind(a->queue);
		a->o.checkresults = NULL;
		while (rc == 0 && (n = getline(&line, &cap, a->queue)) > 0) {
			line[n - 1] = 0;
			rc = send_now(a, line, err);
		}
		free(line);
		fclose(a->queue);
		a->queue = NULL;
		if (rc < 0)
			return -1;
	}
	if (a->ls && ls_command_flush(a->ls, refused, a, err) < 0)
		return -1;
	return 0;
}

const struct apply_stats *apply_get_stats(const struct applier *a)
{
	return &a->st;
}

void apply_free(struct applier *a)
{
	size_t i;

	if (!a)
		return;
	if (a->spool) {
		fclose(a->spool);
		unlink(a->spool_tmp);
	}
	free(a->spool_tmp);
	for (i = 0; i < a->npending; i++)
		free(a->pending[i]);
	free(a->pending);
	if (a->queue)
		fclose(a->queue);
	if (a->fifo >= 0)
		close(a->fifo);
	free(a->fifo_dir);
	ls_command_close(a->ls);
	extcmd_free(&a->cmd);
	free(a->rec.p);
	free(a->last_host);
	free(a->last_svc);
	free(a);
}
