/*
 * candidate.c - a site's config file: a candidate, compared, checked
 * (candidate.h).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "import/candidate.h"
#include "base/child.h"

/* generous: Icinga 2 takes ~6 s to load 50,000 services, and a check of a
 * large central on a busy machine takes several times that */
#define CHECK_TIMEOUT_MS (600 * 1000)

void candidate_free(struct candidate *sf)
{
	if (!sf)
		return;
	if (sf->f)
		fclose(sf->f);
	if (sf->tmp)
		unlink(sf->tmp);
	free(sf->path);
	free(sf->tmp);
	free(sf->aside);
	memset(sf, 0, sizeof(*sf));
}

/* Make the file aside the active one again at path (the candidate goes). */
static int file_restore(const char *aside, const char *path, sd_error *err)
{
	struct stat st;

	if (lstat(aside, &st) < 0)
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", aside, strerror(errno));
	if (st.st_size == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return sd_fail(err, "%s: %s", path, strerror(errno));
		unlink(aside);
		return 0;
	}
	if (rename(aside, path) < 0)
		return sd_fail(err, "%s: putting the previous config back: %s", path, strerror(errno));
	return 0;
}

static int aside_restore(const struct candidate *sf, sd_error *err)
{
	return file_restore(sf->aside, sf->path, err);
}

/*
 * Every candidate a run that died left unchecked in place, back to its
 * previous file, before anything else is checked or reloaded: the check of
 * any site validates the whole config dir, so one such candidate would
 * refuse every other site, and a reload would load it. Under the lock.
 */
int candidate_restore_all(const struct import_opts *o, sd_error *err)
{
	const char *ext = o->config_format == CORE_NAGIOS ? ".cfg.prev" : ".conf.prev";
	size_t el = strlen(ext);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!o->config_dir || o->dry_run)
		return 0;
	if (!(d = opendir(o->config_dir)))
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", o->config_dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char *aside = NULL, *path = NULL;

		if (strncmp(e->d_name, ".sitedump-", 10) || l <= 10 + el || strcmp(e->d_name + l - el, ext))
			continue;
		if (asprintf(&aside, "%s/%s", o->config_dir, e->d_name) < 0 ||
		    asprintf(&path, "%s/%.*s", o->config_dir, (int)(l - 1 - 5), e->d_name + 1) < 0)
			rc = sd_fail(err, "out of memory");
		else
			rc = file_restore(aside, path, err);
		free(aside);
		free(path);
	}
	closedir(d);
	return rc;
}

int candidate_open(const struct import_opts *o, const char *site, struct candidate *sf, sd_error *err)
{
	const char *ext = o->config_format == CORE_NAGIOS ? ".cfg" : ".conf";
	int fd;

	memset(sf, 0, sizeof(*sf));
	if (asprintf(&sf->path, "%s/sitedump-%s%s", o->config_dir, site, ext) < 0 ||
	    asprintf(&sf->aside, "%s/.sitedump-%s%s.prev", o->config_dir, site, ext) < 0) {
		sf->path = sf->aside = NULL;
		return sd_fail(err, "out of memory");
	}
	if (o->dry_run) {
		if (!(sf->f = tmpfile()))
			return sd_fail(err, "temp file: %s", strerror(errno));
		return 0;
	}
	/* left by a run that died while its candidate was being checked:
	 * that candidate was never found good */
	if (aside_restore(sf, err) < 0)
		return -1;
	if (asprintf(&sf->tmp, "%s/.sitedump-%s%s.XXXXXX", o->config_dir, site, ext) < 0) {
		sf->tmp = NULL;
		return sd_fail(err, "out of memory");
	}
	/* mkostemp opens with O_EXCL; the core, maybe another user, reads it */
	if ((fd = mkostemp(sf->tmp, O_CLOEXEC)) < 0) {
		sd_fail(err, "%s: %s", sf->tmp, strerror(errno));
		free(sf->tmp);
		sf->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || !(sf->f = fdopen(fd, "w+"))) {
		sd_fail(err, "%s: %s", sf->tmp, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

/* Does the file at path hold exactly what f holds? Both streamed. */
static int stream_same(FILE *f, const char *path)
{
	enum { CHUNK = 65536 };
	FILE *p = fopen(path, "re");
	char *a = malloc(2 * CHUNK), *b;
	size_t na, nb;
	int same = 1;

	if (!p || !a) {
		if (p)
			fclose(p);
		free(a);
		return 0;       /* out of memory: "changed" is the safe answer */
	}
	b = a + CHUNK;
	rewind(f);
	do {
		na = fread(a, 1, CHUNK, f);
		nb = fread(b, 1, CHUNK, p);
		if (na != nb || memcmp(a, b, na))
			same = 0;
	} while (same && na);
	if (ferror(f) || ferror(p))
		same = 0;
	fclose(p);
	free(a);
	return same;
}

int candidate_same(const struct candidate *sf)
{
	return stream_same(sf->f, sf->path);
}

static void dir_sync(const char *path)
{
	char *d = strdup(path), *sl = d ? strrchr(d, '/') : NULL;
	int fd;

	if (sl) {
		*sl = 0;
		if ((fd = open(*d ? d : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(d);
}

/* What a check command said: the lines that name the core's error. */
struct checkout {
	char line[512], error[512], critical[512], last[512];
	size_t len;
};

static void checkout_line(struct checkout *co)
{
	char *s = co->line, *e = s + co->len, *crit;

	*e = 0;
	co->len = 0;
	while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return;
	for (e = s; *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = ' ';
	if (!*co->error && !strncmp(s, "Error:", 6))                /* Nagios */
		snprintf(co->error, sizeof(co->error), "%s", s);
	if (!*co->critical && (crit = strstr(s, "critical/config:")))   /* Icinga 2 */
		snprintf(co->critical, sizeof(co->critical), "%s", crit);
	snprintf(co->last, sizeof(co->last), "%s", s);
}

static void checkout_feed(struct checkout *co, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n')
			checkout_line(co);
		else if (co->len < sizeof(co->line) - 1)
			co->line[co->len++] = buf[i];   /* a longer line is cut: one line of a report */
	}
}

static void checkout_cb(void *ctx, const char *buf, size_t n)
{
	checkout_feed(ctx, buf, n);
}

/*
 * Run --check-command (sh -c, stdin /dev/null, output captured, killed
 * with its process group at the timeout). 0 the core accepts its config;
 * 1 it refuses it (why: the core's own first error line); -1 the check
 * could not be run to its end (err).
 */
static int run_check(struct runctx *c, char *why, size_t len, sd_error *err)
{
	struct checkout co = { .len = 0 };
	struct child_opts o = { .in = CHILD_STDIN_NULL, .own_group = 1, .timeout_ms = CHECK_TIMEOUT_MS,
				.out = checkout_cb, .ctx = &co, .waiter = &c->o->waiter,
				.what = "the check command to validate the new config" };
	const char *cmd = c->o->check_command;
	struct child_result r;
	sd_error e;

	runctx_info(c, "running check command: %s", cmd);
	if (child_run(cmd, &o, &r, &e) < 0)
		return sd_fail(err, "check command: %s", e.msg);
	if (co.len)
		checkout_line(&co);
	if (r.end == CHILD_TIMED_OUT)
		return sd_fail(err, "check command timed out after %d s (killed): %s", CHECK_TIMEOUT_MS / 1000, cmd);
	if (r.end == CHILD_SIGNALED)
		return sd_fail(err, "check command killed by signal %d: %s", r.code, cmd);
	if (r.code == 0)
		return 0;
	if (r.code == 126 || r.code == 127)
		return sd_fail(err, "check command could not be run (exit %d%s%s): %s", r.code,
			       *co.last ? ": " : "", co.last, cmd);
	snprintf(why, len, "exit %d: %s", r.code,
		 *co.error ? co.error : *co.critical ? co.critical : *co.last ? co.last : "(no output)");
	return 1;
}

/*
 * Make the candidate the site's config file. With --check-command: the
 * previous file is kept aside, the candidate put in place and the check
 * run; if the core refuses, the previous file goes back (1, err says
 * why). The core is not reloaded in between: it only sees the candidate
 * if someone reloads it during the check. -1: an I/O error, or the check
 * could not be run (the previous file is back then too).
 */
int candidate_install(struct runctx *c, struct candidate *sf, sd_error *err)
{
	char why[600];
	int fd, r;

	if (fflush(sf->f) || ferror(sf->f) || fsync(fileno(sf->f)) < 0)
		return sd_fail(err, "%s: write error: %s", sf->tmp, strerror(errno));
	fclose(sf->f);
	sf->f = NULL;
	if (c->o->check_command) {
		if (link(sf->path, sf->aside) < 0) {
			if (errno != ENOENT)
				return sd_fail(err, "%s: %s", sf->aside, strerror(errno));
			/* no previous file: an empty one aside says so */
			if ((fd = open(sf->aside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
				return sd_fail(err, "%s: %s", sf->aside, strerror(errno));
			close(fd);
		}
	}
	if (rename(sf->tmp, sf->path) < 0) {
		sd_fail(err, "%s: rename: %s", sf->path, strerror(errno));
		if (c->o->check_command)
			unlink(sf->aside);
		return -1;
	}
	free(sf->tmp);
	sf->tmp = NULL;
	dir_sync(sf->path);
	if (!c->o->check_command)
		return 0;
	if ((r = run_check(c, why, sizeof(why), err)) == 0) {
		unlink(sf->aside);
		return 0;
	}
	if (r > 0)
		sd_fail(err, "refused by the core's config check (previous config kept, core not reloaded): %s", why);
	{
		sd_error e2;
		if (aside_restore(sf, &e2) < 0) {
			char msg[SD_ERRLEN];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			return sd_fail(err, "%s; and %s", msg, e2.msg);
		}
	}
	dir_sync(sf->path);
	return r;
}
