/*
 * queue.c - transports (a command, sendmail, a directory) and the
 * store-and-forward queue (queue.h, docs/transport-queue.md).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "transports/mail.h"
#include "base/child.h"
#include "base/output.h"
#include "transports/queue.h"
#include "bundle/bundle_name.h"


void queue_describe(const struct queue_transport *t, char *buf, size_t len)
{
	switch (t->via) {
	case QUEUE_VIA_COMMAND:
		snprintf(buf, len, "--send-command '%.200s'", t->command);
		break;
	case QUEUE_VIA_MAIL:
		snprintf(buf, len, "mail to %.200s through '%.200s'", t->mail_to, t->sendmail ? t->sendmail : QUEUE_SENDMAIL);
		break;
	default:
		snprintf(buf, len, "copy to %.300s", t->dir);
		break;
	}
}

/* cmd through /bin/sh -c, fd (from its start) on its stdin, in its own
 * process group unless there is a terminal (child.h says why). At
 * timeout_s (0: no limit) SIGTERM, and SIGKILL to the group once it is
 * gone or 5 s later: a hung ssh or MTA must not hold the queue (and its
 * lock) for ever, nor a straggler of it deliver the bundle later. 0 for
 * exit 0, QUEUE_REFUSED for exit 1 when refusable (see queue.h), else -1
 * with err. */
static int run_command(const char *what, const char *cmd, int fd, int timeout_s, int refusable, sd_error *err)
{
	struct child_opts o = { .in = fd, .own_group = !child_have_tty(), .timeout_ms = timeout_s * 1000LL,
				.grace_ms = 5000 };
	struct child_result r;
	sd_error e;

	if (lseek(fd, 0, SEEK_SET) < 0)
		return sd_fail(err, "%s: %s", what, strerror(errno));
	if (child_run(cmd, &o, &r, &e) < 0)
		return sd_fail(err, "%s: %s", what, e.msg);
	if (r.end == CHILD_TIMED_OUT)
		return sd_fail(err, "%s did not finish within %d s (--send-timeout) and was stopped", what, timeout_s);
	if (r.end == CHILD_SIGNALED)
		return sd_fail(err, "%s was killed by signal %d", what, r.code);
	if (r.code == 0)
		return 0;
	if (refusable && r.code == 1) {
		sd_fail(err, "%s exited with status 1: the central refused the bundle", what);
		return QUEUE_REFUSED;
	}
	if (r.code == 127)
		return sd_fail(err, "%s: command not found (exit status 127)", what);
	if (r.code == 126)
		return sd_fail(err, "%s: command not executable (exit status 126)", what);
	return sd_fail(err, "%s exited with status %d", what, r.code);
}

static int send_mail(const struct queue_transport *t, int fd, const char *name, sd_error *err)
{
	struct bundle_name qn;
	struct mail_meta m = { 0 };
	char what[512];
	FILE *f;
	int mfd, d, rc;

	if (bundle_name_parse(name, &qn) < 0)
		return sd_fail(err, "%s: not a bundle name (SITE-SEQ-KIND.tar.gz)", name);
	m.from = t->mail_from;
	m.to = t->mail_to;
	m.site = qn.site;
	m.kind = qn.kind;
	m.sequence = qn.seq;
	m.filename = name;
	m.date = sd_now();
	/* the whole message first, so sendmail never gets half of one */
	if ((mfd = out_anon_file(NULL, err)) < 0)
		return -1;
	if ((d = dup(mfd)) < 0 || !(f = fdopen(d, "w"))) {
		sd_fail(err, "mail: %s", strerror(errno));
		if (d >= 0)
			close(d);
		close(mfd);
		return -1;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		sd_fail(err, "mail: %s", strerror(errno));
		fclose(f);
		close(mfd);
		return -1;
	}
	rc = mail_write(f, &m, fd, err);
	if (fclose(f) != 0 && rc == 0)
		rc = sd_fail(err, "mail: writing the message: %s", strerror(errno));
	if (rc == 0) {
		snprintf(what, sizeof(what), "sendmail '%.300s'", t->sendmail ? t->sendmail : QUEUE_SENDMAIL);
		rc = run_command(what, t->sendmail ? t->sendmail : QUEUE_SENDMAIL, mfd, t->timeout_s, 0, err);
	}
	close(mfd);
	return rc;
}

static int copy_to_dir(const struct queue_transport *t, int fd, const char *name, sd_error *err)
{
	char *path, buf[1 << 16];
	struct out_file *of;
	ssize_t n;

	if (asprintf(&path, "%s/%s", t->dir, name) < 0)
		return sd_fail(err, "out of memory");
	of = out_open(path, err);
	free(path);
	if (!of)
		return -1;
	if (lseek(fd, 0, SEEK_SET) < 0) {
		out_abort(of);
		return sd_fail(err, "%s", strerror(errno));
	}
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || fwrite(buf, 1, (size_t)n, out_stream(of)) != (size_t)n) {
			sd_fail(err, "copy to %s: %s", t->dir, strerror(errno));
			out_abort(of);
			return -1;
		}
	}
	return out_commit(of, err);
}

int queue_send(const struct queue_transport *t, int fd, const char *name, sd_error *err)
{
	char what[300];

	switch (t->via) {
	case QUEUE_VIA_COMMAND:
		snprintf(what, sizeof(what), "--send-command '%.200s'", t->command);
		return run_command(what, t->command, fd, t->timeout_s, 1, err);
	case QUEUE_VIA_MAIL:
		return send_mail(t, fd, name, err);
	default:
		return copy_to_dir(t, fd, name, err);
	}
}

/* ---- the queue ---------------------------------------------------------- */

struct queue {
	char *dir;
	int dfd;
};

struct qent {
	char name[NAME_MAX + 1];
	struct bundle_name qn;
	int drop;
};

int queue_create(const char *dir, sd_error *err)
{
	struct stat st;

	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return sd_fail(err, "queue %s: %s", dir, strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return sd_fail(err, "queue %s: not a directory", dir);
	return 0;
}

struct queue *queue_open(const char *dir, int wait_ms, sd_error *err)
{
	struct queue *q = calloc(1, sizeof(*q));
	int waited = 0;

	if (!q || !(q->dir = strdup(dir))) {
		free(q);
		sd_fail(err, "out of memory");
		return NULL;
	}
	/* O_CLOEXEC: a command we run (an ssh master left behind) must not
	 * inherit the lock and hold the queue after we are gone */
	if ((q->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		sd_fail(err, "queue %s: %s", dir, strerror(errno));
		goto fail;
	}
	while (flock(q->dfd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK) {
			sd_fail(err, "queue %s: lock: %s", dir, strerror(errno));
			goto fail;
		}
		if (waited >= wait_ms) {
			sd_fail(err, "queue %s: locked by another sitedump for %d s (still sending?)", dir, wait_ms / 1000);
			goto fail;
		}
		usleep(100 * 1000);
		waited += 100;
	}
	return q;
fail:
	queue_close(q);
	return NULL;
}

void queue_close(struct queue *q)
{
	if (!q)
		return;
	if (q->dfd >= 0)
		close(q->dfd);
	free(q->dir);
	free(q);
}

static int qent_cmp(const void *x, const void *y)
{
	const struct qent *a = x, *b = y;

	if (a->qn.seq != b->qn.seq)
		return a->qn.seq < b->qn.seq ? -1 : 1;
	return strcmp(a->name, b->name);
}

/* The bundles in the queue, oldest first; other names (temp files of
 * out_open start with '.') are not ours and left alone. */
static int qlist(struct queue *q, struct qent **out, int *count, sd_error *err)
{
	struct qent *v = NULL, *nv;
	struct dirent *de;
	int fd = openat(q->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), n = 0, cap = 0;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return sd_fail(err, "queue %s: %s", q->dir, strerror(errno));
	}
	while ((de = readdir(d))) {
		struct bundle_name qn;

		if (de->d_name[0] == '.' || bundle_name_parse(de->d_name, &qn) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			if (!(nv = realloc(v, (size_t)cap * sizeof(*v)))) {
				free(v);
				closedir(d);
				return sd_fail(err, "out of memory");
			}
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", de->d_name);
		v[n].qn = qn;
		v[n].drop = 0;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, (size_t)n, sizeof(*v), qent_cmp);
	*out = v;
	*count = n;
	return 0;
}

static int has_state(const struct qent *e)
{
	return strcmp(e->qn.kind, "config") != 0;
}

static int has_config(const struct qent *e)
{
	return strcmp(e->qn.kind, "state") != 0;
}

/* A newer kept bundle of e's site carrying state (want_state) or config. */
static const struct qent *newer(const struct qent *v, int n, int i, int want_state)
{
	int j;

	for (j = i + 1; j < n; j++)
		if (!v[j].drop && !strcmp(v[j].qn.site, v[i].qn.site) && v[j].qn.seq > v[i].qn.seq &&
		    (want_state ? has_state(&v[j]) : has_config(&v[j])))
			return &v[j];
	return NULL;
}

/* Temp files of writers killed before their rename (out_open's
 * .NAME.XXXXXX) would stay for ever: gone once an hour old. */
static void qsweep(struct queue *q)
{
	int fd = openat(q->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	time_t now = (time_t)sd_now();
	struct bundle_name qn;
	struct dirent *de;
	struct stat st;
	char base[NAME_MAX + 1];
	size_t n;
	DIR *d;

	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((de = readdir(d))) {
		n = strlen(de->d_name);
		if (de->d_name[0] != '.' || n < 9 || de->d_name[n - 7] != '.')
			continue;
		memcpy(base, de->d_name + 1, n - 8);
		base[n - 8] = '\0';
		if (bundle_name_parse(base, &qn) == 0 && fstatat(q->dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISREG(st.st_mode) && st.st_mtime < now - 3600)
			unlinkat(q->dfd, de->d_name, 0);
	}
	closedir(d);
}

int queue_prune(struct queue *q, int max, queue_note_fn note, void *ctx, sd_error *err)
{
	struct qent *v = NULL;
	const struct qent *by;
	char why[NAME_MAX + 128];
	int n, i, live, dropped = 0;

	qsweep(q);
	if (qlist(q, &v, &n, err) < 0)
		return -1;
	/* the central applies only the newest state of a site anyway */
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].qn.kind, "state") && (by = newer(v, n, i, 1))) {
			v[i].drop = 1;
			snprintf(why, sizeof(why), "superseded by %s", by->name);
			if (note)
				note(ctx, v[i].name, why);
		}
	for (live = 0, i = 0; i < n; i++)
		live += !v[i].drop;
	for (i = 0; i < n && live > max; i++)
		if (!v[i].drop && !strcmp(v[i].qn.kind, "state")) {
			v[i].drop = 1;
			live--;
			snprintf(why, sizeof(why), "over --queue-max %d (state goes first, oldest first)", max);
			if (note)
				note(ctx, v[i].name, why);
		}
	/* a configuration bundle is the whole configuration: one that a newer
	 * one of the site replaces (and, for both, whose state is newer too)
	 * carries nothing the central still needs */
	for (i = 0; i < n && live > max; i++)
		if (!v[i].drop && (by = newer(v, n, i, 0)) && (!has_state(&v[i]) || newer(v, n, i, 1))) {
			v[i].drop = 1;
			live--;
			snprintf(why, sizeof(why), "over --queue-max %d (configuration superseded by %s)", max, by->name);
			if (note)
				note(ctx, v[i].name, why);
		}
	if (live > max && note) {
		snprintf(why, sizeof(why), "%d bundles queued, over --queue-max %d: all are the newest configuration of "
			 "their sites and are kept", live, max);
		note(ctx, NULL, why);
	}
	for (i = 0; i < n; i++)
		if (v[i].drop && unlinkat(q->dfd, v[i].name, 0) == 0)
			dropped++;
		else if (v[i].drop && errno != ENOENT) {
			sd_fail(err, "queue %s: %s: %s", q->dir, v[i].name, strerror(errno));
			free(v);
			return -1;
		}
	if (dropped)
		fsync(q->dfd);
	free(v);
	return 0;
}

/* Out of the queue into DIR/refused/ (created 0700), durably: sent again,
 * it would be refused again and hold up everything behind it. */
static int set_aside(struct queue *q, const char *name, sd_error *err)
{
	char to[NAME_MAX + 16];
	int dfd;

	if (mkdirat(q->dfd, QUEUE_REFUSED_DIR, 0700) < 0 && errno != EEXIST)
		return sd_fail(err, "queue %s: %s/: %s", q->dir, QUEUE_REFUSED_DIR, strerror(errno));
	snprintf(to, sizeof(to), "%s/%s", QUEUE_REFUSED_DIR, name);
	if (renameat(q->dfd, name, q->dfd, to) < 0)
		return sd_fail(err, "queue %s: %s: cannot move it to %s/: %s", q->dir, name, QUEUE_REFUSED_DIR,
			       strerror(errno));
	if ((dfd = openat(q->dfd, QUEUE_REFUSED_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	fsync(q->dfd);
	return 0;
}

int queue_flush(struct queue *q, const struct queue_transport *t, queue_note_fn sent_note,
		queue_note_fn refused_note, void *ctx, int *sent, int *left, sd_error *err)
{
	struct qent *v = NULL;
	char how[600];
	sd_error e;
	int n, i, fd, rc, done = 0;

	if (sent)
		*sent = 0;
	if (left)
		*left = 0;
	if (qlist(q, &v, &n, err) < 0)
		return -1;
	if (left)
		*left = n;
	queue_describe(t, how, sizeof(how));
	for (i = 0; i < n; i++) {
		if ((fd = openat(q->dfd, v[i].name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
			if (errno == ENOENT)
				continue;
			sd_fail(err, "queue %s: %s: %s", q->dir, v[i].name, strerror(errno));
			goto fail;
		}
		e.msg[0] = '\0';
		rc = queue_send(t, fd, v[i].name, &e);
		close(fd);
		if (rc == QUEUE_REFUSED) {
			if (set_aside(q, v[i].name, err) < 0)
				goto fail;
			done++;
			if (refused_note)
				refused_note(ctx, v[i].name, e.msg);
			continue;
		}
		if (rc < 0) {
			sd_fail(err, "%s not sent: %s", v[i].name, e.msg);
			goto fail;
		}
		/* durably gone before the next is sent: sent again, a bundle would
		 * be refused at the central as a replay */
		if (unlinkat(q->dfd, v[i].name, 0) < 0 && errno != ENOENT) {
			sd_fail(err, "queue %s: %s was sent but cannot be removed: %s", q->dir, v[i].name, strerror(errno));
			goto fail;
		}
		fsync(q->dfd);
		done++;
		if (sent_note)
			sent_note(ctx, v[i].name, how);
	}
	if (sent)
		*sent = done;
	if (left)
		*left = 0;
	free(v);
	return 0;
fail:
	if (sent)
		*sent = done;
	if (left)
		*left = n - done;
	free(v);
	return -1;
}
