/*
 * sitestate.c - siteload's per-site files in the state dir (sitestate.h).
 *
 * The sets are kept sorted in memory (bsearch): a site may own 200,000
 * hosts, and each object of a state bundle is looked up in them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "import/sitestate.h"
#include "base/output.h"

void lines_free(struct lines *l)
{
	size_t i;

	if (!l)
		return;
	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int lines_has(const struct lines *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(char *), strp_cmp);
}

/* index of s in the sorted l, or -1 */
long lines_find(const struct lines *l, const char *s)
{
	char **hit = l->n ? bsearch(&s, l->v, l->n, sizeof(char *), strp_cmp) : NULL;

	return hit ? (long)(hit - l->v) : -1;
}

int lines_add(struct lines *l, const char *s)
{
	if ((l->n & (l->n - 1)) == 0) {         /* at 0, 1, 2, 4, ...: double */
		char **v = realloc(l->v, (l->n ? 2 * l->n : 1) * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

void lines_sort(struct lines *l)
{
	size_t i, j = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(char *), strp_cmp);
	for (i = 0; i < l->n; i++) {    /* unique */
		if (j && !strcmp(l->v[j - 1], l->v[i]))
			free(l->v[i]);
		else
			l->v[j++] = l->v[i];
	}
	l->n = j;
}

char *sitestate_path(const char *dir, const char *site, const char *ext)
{
	size_t n = strlen(dir) + strlen(site) + strlen(ext) + 3;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s%s", dir, site, ext);
	return p;
}

/* Missing file: empty set. */
int lines_read(const char *path, struct lines *l, sd_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	if (!f)
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (n && lines_add(l, line) < 0) {
			fclose(f);
			free(line);
			return sd_fail(err, "out of memory");
		}
	}
	free(line);
	if (ferror(f)) {
		fclose(f);
		return sd_fail(err, "%s: read error", path);
	}
	fclose(f);
	lines_sort(l);
	return 0;
}

/* State files are 0600 (siteload's main sets umask 077); what the core
 * must read (its config) is given 0644 explicitly. */
int sitestate_write(const char *path, const char *text, size_t len, mode_t mode, sd_error *err)
{
	struct out_file *of = out_open(path, err);

	if (!of)
		return -1;
	if (mode && fchmod(fileno(out_stream(of)), mode) < 0) {
		out_abort(of);
		return sd_fail(err, "%s: %s", path, strerror(errno));
	}
	if (len && fwrite(text, 1, len, out_stream(of)) != len) {
		out_abort(of);
		return sd_fail(err, "%s: write error", path);
	}
	return out_commit(of, err);
}

int lines_write(const char *path, const struct lines *l, sd_error *err)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return sd_fail(err, "out of memory");
	for (i = 0; i < l->n; i++)
		fprintf(m, "%s\n", l->v[i]);
	fclose(m);
	rc = buf ? sitestate_write(path, buf, len, 0, err) : sd_fail(err, "out of memory");
	free(buf);
	return rc;
}

/* Same content already there? */
int sitestate_same(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "re");
	char buf[65536];
	size_t off = 0, n;
	int same = 1;

	if (!f)
		return 0;
	while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (off + n > len || memcmp(buf, text + off, n))
			same = 0;
		off += n;
	}
	fclose(f);
	return same && off == len;
}

int sitestate_imported_read(const char *dir, const char *site, struct imported *im, sd_error *err)
{
	char *p = sitestate_path(dir, site, ".imported");
	FILE *f;
	int rc = 0;

	memset(im, 0, sizeof(*im));
	if (!p)
		return sd_fail(err, "out of memory");
	if ((f = fopen(p, "re"))) {
		if (fscanf(f, "%llu %lld %lld", &im->seq, &im->created, &im->at) != 3)
			rc = sd_fail(err, "%s: damaged (want: SEQUENCE CREATED IMPORTED_AT [KEYID])", p);
		else if (fscanf(f, " %16[0-9A-F]", im->keyid) != 1)
			im->keyid[0] = '\0';   /* written before the key id was */
		fclose(f);
	} else if (errno != ENOENT) {
		rc = sd_fail(err, "%s: %s", p, strerror(errno));
	}
	free(p);
	return rc;
}

int sitestate_imported_write(const char *dir, const char *site, const struct imported *im, sd_error *err)
{
	char *p = sitestate_path(dir, site, ".imported"), buf[128];
	int rc;

	if (!p)
		return sd_fail(err, "out of memory");
	snprintf(buf, sizeof(buf), "%llu %lld %lld%s%s\n", im->seq, im->created, im->at, im->keyid[0] ? " " : "",
		 im->keyid);
	/* readable by the core, which runs `siteload stale` as its own user */
	rc = sitestate_write(p, buf, strlen(buf), 0644, err);
	free(p);
	return rc;
}

int sitestate_error_write(const char *dir, const char *site, long long at, const char *reason, sd_error *err)
{
	char *p = sitestate_path(dir, site, ".error"), buf[SD_ERRLEN + 32];
	size_t i, k;
	int rc;

	if (!p)
		return sd_fail(err, "out of memory");
	k = (size_t)snprintf(buf, sizeof(buf), "%lld %s", at, reason);
	if (k >= sizeof(buf) - 1)
		k = sizeof(buf) - 2;
	for (i = 0; i < k; i++)         /* one line, whatever the reason held */
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = ' ';
	buf[k++] = '\n';
	/* read by `siteload status`, maybe as the core's user (a check) */
	rc = sitestate_write(p, buf, k, 0644, err);
	free(p);
	return rc;
}

int sitestate_error_clear(const char *dir, const char *site, sd_error *err)
{
	char *p = sitestate_path(dir, site, ".error");
	int rc = 0;

	if (!p)
		return sd_fail(err, "out of memory");
	if (unlink(p) < 0 && errno != ENOENT)
		rc = sd_fail(err, "%s: %s", p, strerror(errno));
	free(p);
	return rc;
}

/* other sites' hosts, from their SITE.hosts files */
int sitestate_others_read(const char *dir, const char *site, const char *ext, struct lines *out, sd_error *err)
{
	size_t el = strlen(ext);
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!d)
		return sd_fail(err, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct lines one;
		char *p;
		if (l < el + 1 || strcmp(e->d_name + l - el, ext) || e->d_name[0] == '.')
			continue;
		if (l - el == strlen(site) && !strncmp(e->d_name, site, l - el))
			continue;
		if (!(p = sitestate_path(dir, e->d_name, ""))) {
			closedir(d);
			return sd_fail(err, "out of memory");
		}
		if (lines_read(p, &one, err) < 0) {
			free(p);
			closedir(d);
			return -1;
		}
		free(p);
		for (i = 0; i < one.n; i++)
			if (lines_add(out, one.v[i]) < 0) {
				lines_free(&one);
				closedir(d);
				return sd_fail(err, "out of memory");
			}
		lines_free(&one);
	}
	closedir(d);
	lines_sort(out);
	return 0;
}
