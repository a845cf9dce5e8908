/*
 * optfile.c - options from an INI file, turned into command-line options.
 *
 * Why through argv: each tool already checks its options in one place
 * (getopt_long and the checks after it); a file that becomes options
 * meets exactly those checks, and "the command line wins" is getopt's
 * "the later option wins". The parsing itself is inih's.
 */
#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include "base/optfile.h"

struct merge {
	const char *section;
	const struct option *longopts;
	char **v;
	int n, cap;
	char bad[300];                  /* why the handler refused the line */
};

static int push(struct merge *m, char *s)
{
	if (!s)
		return -1;
	if (m->n == m->cap) {
		int cap = m->cap ? 2 * m->cap : 16;
		char **v = realloc(m->v, (size_t)cap * sizeof(*v));
		if (!v) {
			free(s);
			return -1;
		}
		m->v = v;
		m->cap = cap;
	}
	m->v[m->n++] = s;
	return 0;
}

static int truth(const char *v)
{
	static const char *yes[] = { "yes", "true", "on", "1" }, *no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* inih calls this per key; 0 stops it and makes ini_parse return the line */
static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct merge *m = user;
	const struct option *o;
	char *s = NULL;
	int t;

	if (*section && strcmp(section, m->section))
		return 1;       /* the other tool's section */
	for (o = m->longopts; o->name && strcmp(o->name, name); o++)
		;
	if (!o->name || !strcmp(name, "help") || !strcmp(name, "version")) {
		snprintf(m->bad, sizeof(m->bad), "unknown option '%.200s'", name);
		return 0;
	}
	if (o->has_arg == no_argument) {
		if ((t = truth(value)) < 0) {
			snprintf(m->bad, sizeof(m->bad), "'%.100s' is a switch: yes or no, not '%.100s'", name, value);
			return 0;
		}
		if (!t)
			return 1;
		if (asprintf(&s, "--%s", name) < 0)
			s = NULL;
	} else if (asprintf(&s, "--%s=%s", name, value) < 0) {
		s = NULL;
	}
	if (push(m, s) < 0) {
		snprintf(m->bad, sizeof(m->bad), "out of memory");
		return 0;
	}
	return 1;
}

int optfile_merge(const char *path, const char *section, const struct option *longopts,
		  int argc, char **argv, int *nargc, char ***nargv, sd_error *err)
{
	FILE *f = fopen(path, "r");
	int rc;

	if (!f)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	rc = optfile_merge_fp(f, path, section, longopts, argc, argv, nargc, nargv, err);
	fclose(f);
	return rc;
}

int optfile_merge_fp(FILE *f, const char *path, const char *section, const struct option *longopts,
		     int argc, char **argv, int *nargc, char ***nargv, sd_error *err)
{
	struct merge m = { .section = section, .longopts = longopts };
	int i, line;

	if (push(&m, strdup(argv[0])) < 0)
		goto oom;
	line = ini_parse_file(f, handler, &m);
	if (line != 0) {
		sd_fail(err, "%s:%d: %s", path, line, *m.bad ? m.bad
			: line < 0 ? "cannot be read" : "not a line of an INI file (key = value, [section])");
		goto fail;
	}
	for (i = 1; i < argc; i++)
		if (push(&m, strdup(argv[i])) < 0)
			goto oom;
	/* argv's NULL at the end: one more slot, not counted */
	if (push(&m, strdup("")) < 0)
		goto oom;
	free(m.v[--m.n]);
	m.v[m.n] = NULL;
	*nargc = m.n;
	*nargv = m.v;
	return 0;
oom:
	sd_fail(err, "out of memory");
fail:
	optfile_free(m.n, m.v);
	return -1;
}

void optfile_free(int nargc, char **nargv)
{
	int i;

	if (!nargv)
		return;
	for (i = 0; i < nargc; i++)
		free(nargv[i]);
	free(nargv);
}

int optfile_pick(const char *opt, int *argc, char **argv, const char *dflt, const char **path, sd_error *err)
{
	size_t ol = strlen(opt);
	int i, take = 0;

	*path = NULL;
	for (i = 1; i < *argc && strcmp(argv[i], "--"); i++) {
		const char *a = argv[i];
		if (a[0] != '-' || a[1] != '-' || strncmp(a + 2, opt, ol))
			continue;
		if (!a[2 + ol]) {
			if (i + 1 >= *argc)
				return sd_fail(err, "--%s: a file name is missing", opt);
			*path = argv[i + 1];
			take = 2;
		} else if (a[2 + ol] == '=') {
			*path = a + 3 + ol;
			take = 1;
		}
		if (take) {
			memmove(argv + i, argv + i + take, (size_t)(*argc - i - take + 1) * sizeof(*argv));
			*argc -= take;
			break;
		}
	}
	if (!*path && dflt && access(dflt, F_OK) == 0)
		*path = dflt;
	return 0;
}
