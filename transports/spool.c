/*
 * spool.c - siteload --spool: import the bundles in a directory, then file
 * each by its outcome (docs/transport-spool.md).
 *
 * Why it is built this way:
 * - only final names are taken (SITE-SEQ-KIND.tar[.gz|.zst], what
 *   sitedump -o DIR/ renames its hidden temp file to): a bundle still being
 *   written under a temp name is never seen half;
 * - one flock on the spool directory's own fd, taken before listing and
 *   held until every bundle is filed: two runs never import the same
 *   bundle, and the second finds the first one's bundles already moved. A
 *   directory fd can be locked on a read-only mount too. Lock order is
 *   always spool, then state dir (inside import_run), so no deadlock with
 *   plain imports, which take only the state dir's lock;
 * - the bundles go to import_run together, which verifies them, sorts them
 *   by site and sequence and skips state superseded in the same run;
 * - a bundle is moved only after import_run recorded its sequence: a crash
 *   in between leaves it in place, and the next run finds it not newer
 *   (filed in rejected/ with that reason: nothing was lost);
 * - read-only media cannot be emptied, so there the sequence numbers do the
 *   bookkeeping: a bundle already imported is skipped without a word.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include "transports/spool.h"
#include "bundle/bundle_name.h"

#define OUTCOME_NONE (-1)       /* import_run did not get to this bundle */

struct entry {
	char *name, *path;
	struct bundle_name bn;
	int oc;                 /* enum import_outcome or OUTCOME_NONE */
	char reason[SD_ERRLEN];
};

struct spool {
	const struct handoff *user;
	struct entry *e;        /* the batch being imported */
	int n;
	int loose;              /* reports not about a whole bundle (objects, commands) */
};

static int entry_cmp(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	int r = strcmp(a->bn.site, b->bn.site);

	if (r)
		return r;
	if (a->bn.seq != b->bn.seq)
		return a->bn.seq < b->bn.seq ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* ---- callbacks around the caller's ---- */

static struct entry *entry_of(struct spool *s, const char *what)
{
	int i;

	for (i = 0; i < s->n; i++) {
		size_t l = strlen(s->e[i].path);
		if (!strncmp(what, s->e[i].path, l) && (what[l] == 0 || what[l] == ':'))
			return &s->e[i];
	}
	return NULL;
}

static void sp_report(void *ctx, const char *what, const char *why)
{
	struct spool *s = ctx;

	/* a whole bundle's refusal comes back as its outcome: said once, when filed */
	if (entry_of(s, what))
		return;
	s->loose++;
	if (s->user->report)
		s->user->report(s->user->ctx, what, why);
}

static void sp_info(void *ctx, const char *line)
{
	struct spool *s = ctx;

	if (s->user->info)
		s->user->info(s->user->ctx, line);
}

static void sp_outcome(void *ctx, const char *path, enum import_outcome oc, const char *reason)
{
	struct spool *s = ctx;
	int i;

	for (i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].path, path)) {
			s->e[i].oc = (int)oc;
			snprintf(s->e[i].reason, sizeof(s->e[i].reason), "%s", reason ? reason : "");
			return;
		}
}

static void say(const struct handoff *o, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(const struct handoff *o, const char *what, const char *fmt, ...)
{
	char buf[SD_ERRLEN + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (what && o->report)
		o->report(o->ctx, what, buf);
	else if (!what && o->info)
		o->info(o->ctx, buf);
}

/* ---- the spool directory ---- */

/* Nothing can be moved out of it: read-only mount, immutable, no write permission. */
static int spool_read_only(int dfd)
{
	struct statvfs vfs;

	if (fstatvfs(dfd, &vfs) == 0 && (vfs.f_flag & ST_RDONLY))
		return 1;
	if (faccessat(dfd, ".", W_OK, AT_EACCESS) < 0 && (errno == EROFS || errno == EACCES || errno == EPERM))
		return 1;
	return 0;
}

/* done/ or rejected/, created 0700 when missing (bundles carry the site's state). */
static int subdir_open(int dfd, const char *dir, const char *sub, sd_error *err)
{
	int fd;

	if (mkdirat(dfd, sub, 0700) < 0 && errno != EEXIST)
		return sd_fail(err, "%s/%s: %s", dir, sub, strerror(errno));
	if ((fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return sd_fail(err, "%s/%s: %s", dir, sub, strerror(errno));
	return fd;
}

/* NAME.reason beside the rejected bundle: one line, written whole (temp, fsync, rename). */
static int reason_write(int rfd, const char *name, const char *reason, sd_error *err)
{
	char final[512], tmp[600], line[SD_ERRLEN + 1];
	size_t len, i;
	int fd;

	snprintf(final, sizeof(final), "%s.reason", name);
	snprintf(tmp, sizeof(tmp), ".%s.%ld.tmp", final, (long)getpid());
	len = (size_t)snprintf(line, sizeof(line) - 1, "%s", reason);
	if (len > sizeof(line) - 2)
		len = sizeof(line) - 2;
	for (i = 0; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	unlinkat(rfd, tmp, 0);
	if ((fd = openat(rfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0)
		return sd_fail(err, "%s: %s", tmp, strerror(errno));
	if (write(fd, line, len) != (ssize_t)len || fsync(fd) < 0) {
		sd_fail(err, "%s: %s", tmp, strerror(errno ? errno : EIO));
		close(fd);
		unlinkat(rfd, tmp, 0);
		return -1;
	}
	close(fd);
	if (renameat(rfd, tmp, rfd, final) < 0) {
		sd_fail(err, "%s: %s", final, strerror(errno));
		unlinkat(rfd, tmp, 0);
		return -1;
	}
	return 0;
}

/* The bundles in the spool (under the lock), sorted by site and sequence. */
static int spool_list(int dfd, const char *dir, const struct handoff *o, struct entry **out, int *nout,
		      int *ignored, sd_error *err)
{
	struct entry *e = NULL;
	int n = 0, cap = 0, lfd;
	struct dirent *de;
	DIR *d;
	size_t dl = strlen(dir);

	*out = NULL;
	*nout = 0;
	while (dl > 1 && dir[dl - 1] == '/')
		dl--;
	if ((lfd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || !(d = fdopendir(lfd))) {
		sd_fail(err, "%s: %s", dir, strerror(errno));
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	for (;;) {
		struct stat st;
		struct entry x = { 0 };

		errno = 0;      /* readdir's NULL is an error only with errno set */
		if (!(de = readdir(d)))
			break;
		if (de->d_name[0] == '.')
			continue;       /* ., .., and temp names of files still being written */
		if (bundle_name_parse(de->d_name, &x.bn) < 0) {
			if (strcmp(de->d_name, SPOOL_DONE) && strcmp(de->d_name, SPOOL_REJECTED)) {
				(*ignored)++;
				say(o, NULL, "spool %.*s: %s: not a bundle name (SITE-SEQ-KIND.tar[.gz|.zst]): ignored",
				    (int)dl, dir, de->d_name);
			}
			continue;
		}
		/* regular files only: a symlink could point the import anywhere */
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)) {
			(*ignored)++;
			say(o, NULL, "spool %.*s: %s: not a regular file: ignored", (int)dl, dir, de->d_name);
			continue;
		}
		if (n == cap) {
			struct entry *ne = realloc(e, (size_t)(cap = cap ? cap * 2 : 32) * sizeof(*e));
			if (!ne)
				goto oom;
			e = ne;
		}
		x.oc = OUTCOME_NONE;
		if (!(x.name = strdup(de->d_name)) || asprintf(&x.path, "%.*s/%s", (int)dl, dir, de->d_name) < 0) {
			free(x.name);
			goto oom;
		}
		e[n++] = x;
	}
	if (errno) {
		sd_fail(err, "%s: %s", dir, strerror(errno));
		goto fail;
	}
	closedir(d);
	if (n)
		qsort(e, (size_t)n, sizeof(*e), entry_cmp);
	*out = e;
	*nout = n;
	return 0;
oom:
	sd_fail(err, "out of memory");
fail:
	closedir(d);
	while (n--) {
		free(e[n].name);
		free(e[n].path);
	}
	free(e);
	return -1;
}

/*
 * How many bundles one import_run gets. import_run keeps every bundle of
 * a run open to the end (up to four unpacked members each, unlinked temp
 * files in $TMPDIR): a spool that piled up for days (offline media) is
 * taken in batches, each site's bundles in sequence order across them, so
 * the order holds; only the skipping of superseded state works per batch.
 */
static int batch_size(void)
{
	struct rlimit rl;
	long long b = 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		b = ((long long)rl.rlim_cur - 32) / 6;
	return b < 4 ? 4 : b > 64 ? 64 : (int)b;
}

/* ---- the run ---- */

struct filing {
	const char *dir;
	int dfd, donefd, rejfd, ro;
	int status;
	struct spool_stats st;
};

static void status_at_least(struct filing *f, int s)
{
	if (f->status < s)
		f->status = s;
}

static int move_to(struct filing *f, struct entry *e, int *subfd, const char *sub, sd_error *err)
{
	if (*subfd < 0 && (*subfd = subdir_open(f->dfd, f->dir, sub, err)) < 0)
		return -1;
	if (renameat(f->dfd, e->name, *subfd, e->name) < 0)
		return sd_fail(err, "moving it to %s/: %s", sub, strerror(errno));
	return 0;
}

static void file_one(struct filing *f, const struct handoff *o, struct entry *e)
{
	sd_error err = { "" };

	switch (e->oc) {
	case IMPORT_APPLIED:
	case IMPORT_SKIPPED:
		if (e->oc == IMPORT_APPLIED)
			f->st.applied++;
		else
			f->st.skipped++;
		if (f->ro) {
			if (e->oc == IMPORT_SKIPPED)
				say(o, NULL, "%s: %s: skipped", e->path, e->reason);
		} else if (move_to(f, e, &f->donefd, SPOOL_DONE, &err) < 0) {
			say(o, e->path, "%s, but %s (a later run finds it not newer)",
			    e->oc == IMPORT_APPLIED ? "applied" : "skipped", err.msg);
			status_at_least(f, 2);
		} else if (e->oc == IMPORT_SKIPPED) {
			say(o, NULL, "%s: %s: skipped, moved to %s/", e->path, e->reason, SPOOL_DONE);
		}
		break;
	case IMPORT_OLD:
	case IMPORT_REJECTED:
		if (e->oc == IMPORT_OLD)
			f->st.old++;
		else
			f->st.rejected++;
		if (f->ro) {
			/* media read before: the sequence numbers say so, nothing to report */
			if (e->oc == IMPORT_REJECTED) {
				say(o, e->path, "%s", e->reason);
				status_at_least(f, 1);
			}
			break;
		}
		status_at_least(f, 1);
		if (f->rejfd < 0 && (f->rejfd = subdir_open(f->dfd, f->dir, SPOOL_REJECTED, &err)) < 0) {
			say(o, e->path, "%s (not moved: %s)", e->reason, err.msg);
			status_at_least(f, 2);
		} else if (reason_write(f->rejfd, e->name, e->reason, &err) < 0 ||
			   move_to(f, e, &f->rejfd, SPOOL_REJECTED, &err) < 0) {
			say(o, e->path, "%s (not moved: %s)", e->reason, err.msg);
			status_at_least(f, 2);
		} else {
			say(o, e->path, "%s (moved to %s/)", e->reason, SPOOL_REJECTED);
		}
		break;
	case IMPORT_FAILED:
	default:
		f->st.failed++;
		status_at_least(f, 2);
		/* OUTCOME_NONE: the run as a whole failed, said once by the caller */
		if (e->oc != OUTCOME_NONE)
			say(o, e->path, "%s (left in the spool for the next run)", e->reason[0] ? e->reason : "failed");
		break;
	}
}

int spool_import(const char *dir, const struct handoff *o, struct spool_stats *stp, sd_error *err)
{
	struct filing f = { 0 };
	struct entry *e = NULL;
	struct handoff io = *o;
	struct spool sp = { 0 };
	char **paths = NULL;
	int n = 0, i, b, bs, rc;
	sd_error runerr = { "" };

	f.dir = dir;
	f.donefd = f.rejfd = -1;
	err->msg[0] = 0;
	if ((f.dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sd_fail(err, "spool %s: %s", dir, strerror(errno));
		return 2;
	}
	while ((rc = flock(f.dfd, LOCK_EX)) < 0 && errno == EINTR)
		;
	if (rc < 0) {
		sd_fail(err, "spool %s: lock: %s", dir, strerror(errno));
		close(f.dfd);
		return 2;
	}
	f.ro = o->dry_run || spool_read_only(f.dfd);
	f.st.read_only = f.ro;
	if (spool_list(f.dfd, dir, o, &e, &n, &f.st.ignored, err) < 0) {
		f.status = 2;
		goto out;
	}
	f.st.found = n;
	if (!n)
		goto summary;
	if (!(paths = calloc((size_t)n, sizeof(*paths)))) {
		sd_fail(err, "out of memory");
		f.status = 2;
		goto out;
	}
	for (i = 0; i < n; i++)
		paths[i] = e[i].path;
	sp.user = o;
	io.report = sp_report;
	io.info = sp_info;
	io.outcome = sp_outcome;
	io.ctx = &sp;
	bs = batch_size();
	for (b = 0; b < n; b += bs) {
		int m = n - b < bs ? n - b : bs, refused = 0, old = 0;

		sp.e = e + b;
		sp.n = m;
		sp.loose = 0;
		runerr.msg[0] = 0;
		rc = io.run(&io, paths + b, m, &runerr);
		for (i = b; i < b + m; i++) {
			refused += e[i].oc == IMPORT_REJECTED;
			old += e[i].oc == IMPORT_OLD;
		}
		/* import_run's 1 also counts a bundle refused as not newer; on
		 * read-only media that is expected, so its 1 stands only if
		 * something besides whole bundles was refused */
		if (rc == 1 && (refused || !old || !f.ro || sp.loose))
			status_at_least(&f, 1);
		if (rc == 2)
			status_at_least(&f, 2);
		for (i = b; i < b + m; i++)
			file_one(&f, o, &e[i]);
		if (rc == 2 && runerr.msg[0]) {
			/* the run as a whole failed (state dir, key): stop here, the
			 * bundles not tried yet stay for the next run too */
			snprintf(err->msg, sizeof(err->msg), "%s", runerr.msg);
			f.st.failed += n - (b + m);
			break;
		}
	}
	if (!f.ro) {
		/* the moves survive a crash: the directories are synced */
		if (f.donefd >= 0 && fsync(f.donefd) < 0)
			status_at_least(&f, 2), say(o, dir, "fsync %s/: %s", SPOOL_DONE, strerror(errno));
		if (f.rejfd >= 0 && fsync(f.rejfd) < 0)
			status_at_least(&f, 2), say(o, dir, "fsync %s/: %s", SPOOL_REJECTED, strerror(errno));
		if (fsync(f.dfd) < 0)
			status_at_least(&f, 2), say(o, dir, "fsync: %s", strerror(errno));
	}
summary:
	say(o, NULL, "spool %s: %d bundles: %d applied, %d skipped (superseded), %d not newer, %d rejected, "
	    "%d failed (left for the next run)%s%s", dir, f.st.found, f.st.applied, f.st.skipped, f.st.old,
	    f.st.rejected, f.st.failed, f.st.ignored ? ", other entries ignored" : "",
	    o->dry_run ? "; dry run: nothing moved" : f.ro ? "; read-only: nothing moved" : "");
out:
	if (stp)
		*stp = f.st;
	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].path);
	}
	free(e);
	free(paths);
	if (f.donefd >= 0)
		close(f.donefd);
	if (f.rejfd >= 0)
		close(f.rejfd);
	close(f.dfd);           /* releases the lock, after every bundle was filed */
	return f.status;
}
