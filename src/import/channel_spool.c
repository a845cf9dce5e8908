/*
 * channel_spool.c - the Nagios checkresult spool (check_result_path):
 * results only, with latency and execution time, which no command carries.
 *
 * Why the details (docs/core-behaviour.md §2): files are written under a
 * hidden temp name (Nagios only reads 7-character c?????? names), fsynced,
 * renamed onto a name mkstemp reserved, and only then get their .ok
 * marker: Nagios never sees half a file. All records of one run go into
 * few files, in order: across files Nagios's order is readdir's, within a
 * file it is the file's, so one object's replayed results stay in one file.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "import/channel.h"
#include "formats/checkresult.h"
#include "base/deadline.h"
#include "base/sbuf.h"

#define SPOOL_RECORDS_PER_FILE 5000

struct spool {
	struct channel ch;              /* first: the channel is the spool */
	char *dir;
	FILE *dry;                      /* --dry-run: records go here */
	int reap_wait_ms;
	const char *who;                /* the core, in the wait's notice */
	struct sd_waiter waiter;
	long long results;              /* records published */
	FILE *f;                        /* current temp file */
	char *tmp;
	int records;
	char **pending;                 /* final names the core has yet to read */
	size_t npending, cappending;
	struct sbuf rec;                /* a record, as the export writes it */
	char *last_host, *last_svc;     /* the last record's object */
};

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

static int spool_new(struct spool *s, sd_error *err)
{
	size_t n = strlen(s->dir) + 32;
	int fd;

	if (!(s->tmp = malloc(n)))
		return sd_fail(err, "out of memory");
	snprintf(s->tmp, n, "%s/.sitedump-XXXXXX", s->dir);
	if ((fd = mkstemp(s->tmp)) < 0) {
		sd_fail(err, "%s: %s", s->dir, strerror(errno));
		free(s->tmp);
		s->tmp = NULL;
		return -1;
	}
	fchmod(fd, 0644);
	if (!(s->f = fdopen(fd, "w"))) {
		close(fd);
		unlink(s->tmp);
		return sd_fail(err, "out of memory");
	}
	s->rec.len = 0;
	checkresult_put_file_header(&s->rec, sd_now());
	if (sbuf_flush(&s->rec, s->f, 0) < 0)
		return sd_fail(err, "%s: write error", s->tmp);
	s->records = 0;
	return 0;
}

static int pending_add(struct spool *s, char *final, sd_error *err)
{
	if (s->npending == s->cappending) {
		size_t cap = s->cappending ? s->cappending * 2 : 8;
		char **v = realloc(s->pending, cap * sizeof(*v));
		if (!v)
			return sd_fail(err, "out of memory");
		s->pending = v;
		s->cappending = cap;
	}
	s->pending[s->npending++] = final;
	return 0;
}

/* The temp file renamed onto a reserved c?????? name, then its .ok marker. */
static int spool_publish(struct spool *s, char *final, size_t n, sd_error *err)
{
	char *ok = malloc(n + 3);
	int fd;

	if (!ok)
		return sd_fail(err, "out of memory");
	snprintf(final, n, "%s/cXXXXXX", s->dir);
	if ((fd = mkstemp(final)) < 0) {
		sd_fail(err, "%s: %s", s->dir, strerror(errno));
		goto fail;
	}
	close(fd);
	if (rename(s->tmp, final) < 0) {
		sd_fail(err, "%s: rename: %s", final, strerror(errno));
		unlink(final);
		goto fail;
	}
	snprintf(ok, n + 3, "%s.ok", final);
	if ((fd = open(ok, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
		sd_fail(err, "%s: %s", ok, strerror(errno));
		unlink(final);
		goto fail;
	}
	fchmod(fd, 0644);       /* whatever the umask: the core may run as another user */
	close(fd);
	free(ok);
	if ((fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(fd);
		close(fd);
	}
	return 0;
fail:
	free(ok);
	return -1;
}

/* fsync, publish, remember the name until the core has read it. */
static int spool_close(struct spool *s, sd_error *err)
{
	char *final = NULL;
	size_t n = strlen(s->dir) + 16;
	int rc = -1;

	if (!s->f)
		return 0;
	if (fflush(s->f) || ferror(s->f) || fsync(fileno(s->f)))
		sd_fail(err, "%s: write error: %s", s->tmp, strerror(errno));
	else if (!(final = malloc(n)))
		sd_fail(err, "out of memory");
	else if (spool_publish(s, final, n, err) == 0 && pending_add(s, final, err) == 0) {
		final = NULL;
		s->ch.files++;
		rc = 0;
	}
	fclose(s->f);
	s->f = NULL;
	if (rc < 0 && s->tmp)
		unlink(s->tmp);
	free(s->tmp);
	s->tmp = NULL;
	free(final);
	return rc;
}

static int same_object(const struct spool *s, const struct chan_result *r)
{
	return !strcmp(s->last_host ? s->last_host : "", r->host) &&
	       !strcmp(s->last_svc ? s->last_svc : "", r->svc ? r->svc : "");
}

static int spool_result(struct channel *ch, const struct chan_result *r, sd_error *err)
{
	struct spool *s = (struct spool *)ch;
	FILE *f;

	/* a full file is closed only between objects: one object's replayed
	 * results must stay in one file, in order (Nagios reads files in
	 * readdir order) */
	if (s->f && s->records >= SPOOL_RECORDS_PER_FILE && !same_object(s, r) && spool_close(s, err) < 0)
		return -1;
	if (!s->dry && !s->f && spool_new(s, err) < 0)
		return -1;
	free(s->last_host);
	free(s->last_svc);
	s->last_host = strdup(r->host);
	s->last_svc = strdup(r->svc ? r->svc : "");
	f = s->dry ? s->dry : s->f;
	if (s->dry)
		fputs("# checkresult\n", f);
	checkresult_put_head(&s->rec, "", r->host, r->svc, r->latency, (double)r->ts, r->exec_time, r->rc);
	sbuf_puts(&s->rec, *r->output ? r->output : " ");
	sbuf_putn(&s->rec, "\n\n", 2);
	if (sbuf_flush(&s->rec, f, 0) < 0)
		return sd_fail(err, "%s: write error", s->dry ? "dry run" : s->tmp);
	if (!s->dry) {
		s->records++;
		s->results++;
	}
	return 0;
}

static int spool_flush(struct channel *ch, sd_error *err)
{
	struct spool *s = (struct spool *)ch;

	return s->dry ? 0 : spool_close(s, err);
}

/* Until the core has read (and deleted) every file we published. */
static int spool_wait(struct channel *ch, sd_error *err)
{
	struct spool *s = (struct spool *)ch;
	struct sd_deadline dl;
	size_t i;

	sd_deadline_start(&dl, s->reap_wait_ms);
	for (;;) {
		size_t left = 0;
		for (i = 0; i < s->npending; i++)
			if (access(s->pending[i], F_OK) == 0)
				left++;
		if (!left)
			return 0;
		sd_deadline_notice(&dl, &s->waiter, "%s to reap %lld check results (%zu file%s) in %s", s->who,
				   s->results, left, left == 1 ? "" : "s", s->dir);
		if (sd_deadline_over(&dl))
			return sd_fail(err, "%s: the core has not read %zu checkresult file(s) within %d s "
				       "(check_result_path, is the core running?); acknowledgements, downtimes "
				       "and comments not sent", s->dir, left, s->reap_wait_ms / 1000);
		usleep(100000);
	}
}

static void spool_free(struct channel *ch)
{
	struct spool *s = (struct spool *)ch;
	size_t i;

	if (s->f) {
		fclose(s->f);
		unlink(s->tmp);         /* never half a file */
	}
	free(s->tmp);
	for (i = 0; i < s->npending; i++)
		free(s->pending[i]);
	free(s->pending);
	free(s->rec.p);
	free(s->last_host);
	free(s->last_svc);
	free(s->dir);
	free(s);
}

static const struct channel_ops spool_ops = { spool_result, NULL, spool_flush, spool_wait, spool_free };

struct channel *channel_spool_open(const char *dir, FILE *dry, int reap_wait_ms, const char *who,
				   const struct sd_waiter *w, sd_error *err)
{
	struct spool *s = calloc(1, sizeof(*s));

	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		sd_fail(err, "out of memory");
		return NULL;
	}
	s->ch.ops = &spool_ops;
	s->dry = dry;
	s->reap_wait_ms = reap_wait_ms;
	s->who = who;
	if (w)
		s->waiter = *w;
	if (!dry)
		spool_sweep(dir);
	return &s->ch;
}
