/*
 * seqstate.c - the sequence file of a site: DIR/SITE.seq holding the last
 * number handed out, guarded by flock on DIR/SITE.seq.lock.
 *
 * Why max(last + 1, now in milliseconds): sequence numbers only protect the
 * central if they never go backwards. A remote whose state file is lost
 * (new disk, restored backup) would otherwise start again at 1 and have
 * every bundle refused as old; the clock keeps it ahead as long as the clock
 * is sane and fewer than 1000 bundles a second were made (seconds were not
 * enough: five bundles in one second, then a lost file, repeated a number).
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "bundle/seqstate.h"

const char *seq_default_dir(void)
{
	static char buf[4096];
	const char *root = getenv("OMD_ROOT");

	if (root && *root) {
		snprintf(buf, sizeof(buf), "%s/var/sitedump", root);
		return buf;
	}
	return "/var/lib/sitedump";
}

int seq_site_ok(const char *site)
{
	size_t i, n = strlen(site);

	if (!n || n > 64 || site[0] == '.')
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", site[i]))
			return 0;
	return 1;
}

static int read_last(const char *path, unsigned long long *last, sd_error *err)
{
	char buf[64], *end;
	FILE *f = fopen(path, "r");

	*last = 0;
	if (!f)
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", path, strerror(errno));
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return sd_fail(err, "%s: empty sequence file", path);
	}
	fclose(f);
	errno = 0;
	/* digits only: strtoull would take "-1" as ULLONG_MAX, and the number
	 * must fit the manifest's signed 64-bit integer */
	*last = buf[0] >= '0' && buf[0] <= '9' ? strtoull(buf, &end, 10) : 0;
	if (buf[0] < '0' || buf[0] > '9' || errno || (*end && *end != '\n') || *last >= (unsigned long long)LLONG_MAX)
		return sd_fail(err, "%s: not a sequence number", path);
	return 0;
}

int seq_next(const char *dir, const char *site, unsigned long long *seq, sd_error *err)
{
	char *path = NULL, *tmp = NULL, *lock = NULL;
	unsigned long long last, now;
	struct timespec ts;
	int lfd = -1, fd = -1, dfd = -1, rc = -1;
	FILE *f;

	if (!seq_site_ok(site))
		return sd_fail(err, "site name '%s': use letters, digits, '.', '_' and '-'", site);
	/* 0711 as siteload makes it: the two share the default dir, and the
	 * central's stale check (the core's user) must reach its files in it;
	 * nobody else lists it, and the files are 0600 */
	if (mkdir(dir, 0711) == 0)
		chmod(dir, 0711);       /* not narrowed by the umask */
	else if (errno != EEXIST)
		return sd_fail(err, "state dir %s: %s", dir, strerror(errno));
	if (asprintf(&path, "%s/%s.seq", dir, site) < 0 || asprintf(&tmp, "%s/.%s.seq.tmp", dir, site) < 0 ||
	    asprintf(&lock, "%s/%s.seq.lock", dir, site) < 0) {
		sd_fail(err, "out of memory");
		goto out;
	}
	if ((lfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 || flock(lfd, LOCK_EX) < 0) {
		sd_fail(err, "%s: %s", lock, strerror(errno));
		goto out;
	}
	if (read_last(path, &last, err) < 0)
		goto out;
	clock_gettime(CLOCK_REALTIME, &ts);
	now = (unsigned long long)ts.tv_sec * 1000ULL + (unsigned long long)ts.tv_nsec / 1000000ULL;
	*seq = last + 1 > now ? last + 1 : now;
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 ||
	    !(f = fdopen(fd, "w"))) {
		sd_fail(err, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	fprintf(f, "%llu\n", *seq);
	if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
		sd_fail(err, "%s: %s", tmp, strerror(errno));
		fclose(f);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path) != 0) {
		sd_fail(err, "%s: %s", path, strerror(errno));
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || fsync(dfd) != 0) {
		sd_fail(err, "state dir %s: %s", dir, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	if (lfd >= 0)
		close(lfd);     /* releases the lock */
	free(path);
	free(tmp);
	free(lock);
	return rc;
}
