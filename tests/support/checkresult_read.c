/*
 * checkresult_read.c - Nagios's reading of a check result spool file
 * (formats/checkresult.c writes them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tests/support/readers.h"

/*
 * Reader half. Why a reader at all: the spool is a wire format like the
 * others, and tests, the fuzz target and anyone checking a spool need
 * Nagios's own reading of it, not a guess. Line continuation (a value
 * ending in one backslash swallows the next line, docs/core-behaviour.md
 * §2) is
 * reproduced because it is exactly the hazard the writer must avoid.
 */
#define CR_MAX_LINE (1 << 20)

struct cr_state {
	struct cr_record r;
	char *host, *svc, *out;
	int have_host, have_out;
	double ft;
};

static void cr_reset(struct cr_state *s)
{
	free(s->host);
	free(s->svc);
	free(s->out);
	memset(s, 0, sizeof(*s));
	s->r.check_type = 0;    /* Nagios: without check_type the record is active */
}

static int cr_flush(struct cr_state *s, long *count,
		    int (*cb)(void *, const struct cr_record *, sd_error *),
		    void (*skipped)(void *, long, const char *), void *ctx, sd_error *err)
{
	int rc = 0;

	if (!s->r.line)
		return 0;
	if (!s->have_host || !s->have_out) {
		if (skipped)
			skipped(ctx, s->r.line, !s->have_host ? "record without host_name" : "record without output");
	} else {
		s->r.host_name = s->host;
		s->r.service_description = s->svc;
		s->r.output = s->out;
		if (cb && cb(ctx, &s->r, err) < 0)
			rc = -1;
		else
			(*count)++;
	}
	cr_reset(s);
	return rc;
}

static int set_str(char **dst, const char *v)
{
	free(*dst);
	return (*dst = strdup(v)) ? 0 : -1;
}

long checkresult_read(FILE *in, const char *name, long long *file_time,
		      int (*cb)(void *ctx, const struct cr_record *r, sd_error *err),
		      void (*skipped)(void *ctx, long line, const char *why), void *ctx, sd_error *err)
{
	struct cr_state s;
	char *line = NULL, *joined = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0, count = 0, rc = -1;
	int seen_record = 0;

	memset(&s, 0, sizeof(s));
	if (!name)
		name = "checkresult";
	if (file_time)
		*file_time = 0;
	while ((n = getline(&line, &cap, in)) > 0) {
		char *eq, *v;
		lineno++;
		if ((size_t)n > CR_MAX_LINE) {
			sd_fail(err, "%s:%ld: line longer than %d bytes", name, lineno, CR_MAX_LINE);
			goto out;
		}
		if (memchr(line, 0, (size_t)n)) {
			sd_fail(err, "%s:%ld: NUL byte", name, lineno);
			goto out;
		}
		if (line[n - 1] == '\n')
			line[--n] = 0;
		/* continuation: one trailing backslash joins the next line,
		 * its leading white space stripped (mmap_fgets_multiline) */
		while (n && line[n - 1] == '\\' && (n < 2 || line[n - 2] != '\\')) {
			char *next = NULL;
			size_t ncap = 0;
			ssize_t m = getline(&next, &ncap, in);
			char *p = next;
			if (m <= 0) {
				free(next);
				break;
			}
			lineno++;
			if (next[m - 1] == '\n')
				next[--m] = 0;
			while (*p == ' ' || *p == '\t')
				p++;
			line[--n] = 0;
			if ((size_t)n + strlen(p) > CR_MAX_LINE) {
				free(next);
				sd_fail(err, "%s:%ld: line longer than %d bytes", name, lineno, CR_MAX_LINE);
				goto out;
			}
			free(joined);
			if (!(joined = malloc((size_t)n + strlen(p) + 1))) {
				free(next);
				sd_fail(err, "out of memory");
				goto out;
			}
			memcpy(joined, line, (size_t)n);
			strcpy(joined + n, p);
			free(line);
			line = joined;
			joined = NULL;
			cap = strlen(line) + 1;
			n = (ssize_t)strlen(line);
			free(next);
		}
		if (!n) {
			if (cr_flush(&s, &count, cb, skipped, ctx, err) < 0)
				goto out;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!(eq = strchr(line, '=')))
			continue;       /* Nagios ignores lines without '=' */
		*eq = 0;
		v = eq + 1;
		if (!strcmp(line, "file_time")) {
			if (!seen_record && file_time)
				*file_time = strtoll(v, NULL, 10);
			continue;
		}
		if (!s.r.line)
			s.r.line = lineno;
		seen_record = 1;
		if (!strcmp(line, "host_name")) {
			if (set_str(&s.host, v) < 0)
				goto oom;
			s.have_host = 1;
		} else if (!strcmp(line, "service_description")) {
			if (set_str(&s.svc, v) < 0)
				goto oom;
		} else if (!strcmp(line, "output")) {
			if (set_str(&s.out, v) < 0)
				goto oom;
			s.have_out = 1;
		} else if (!strcmp(line, "check_type")) {
			s.r.check_type = atoi(v);
		} else if (!strcmp(line, "return_code")) {
			s.r.return_code = atoi(v);     /* Nagios: atoi, garbage is 0 */
		} else if (!strcmp(line, "start_time")) {
			s.r.start_time = strchr(v, '.') ? strtod(v, NULL) : 0;   /* needs SEC.USEC */
		} else if (!strcmp(line, "finish_time")) {
			s.r.finish_time = strchr(v, '.') ? strtod(v, NULL) : 0;
		} else if (!strcmp(line, "latency")) {
			s.r.latency = strtod(v, NULL);
		}
	}
	if (ferror(in)) {
		sd_fail(err, "%s: %s", name, strerror(errno));
		goto out;
	}
	if (cr_flush(&s, &count, cb, skipped, ctx, err) < 0)
		goto out;
	rc = count;
	goto out;
oom:
	sd_fail(err, "out of memory");
out:
	cr_reset(&s);
	free(line);
	free(joined);
	return rc;
}

static char *unescape_nagios(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	size_t i;

	if (!out)
		return NULL;
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 'n' || s[i + 1] == '\\')) {
			*o++ = s[i + 1] == 'n' ? '\n' : '\\';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

int checkresult_decode_output(const char *value, char **plugin_output, char **perf_data, char **long_output)
{
	char *all, *nl, *bar, *first_end;
	char *po = NULL, *pd = NULL, *lo = NULL;

	*plugin_output = *perf_data = *long_output = NULL;
	if (!(all = unescape_nagios(value, strlen(value))))
		return -1;
	/* line 1: output|perf; the rest: long output|more perf
	 * (docs/core-behaviour.md §2) */
	nl = strchr(all, '\n');
	first_end = nl ? nl : all + strlen(all);
	bar = memchr(all, '|', (size_t)(first_end - all));
	if (bar) {
		char *t = bar;
		while (t > all && t[-1] == ' ')
			t--;    /* Nagios trims the space before '|' */
		po = strndup(all, (size_t)(t - all));
		pd = strndup(bar + 1, (size_t)(first_end - bar - 1));
	} else {
		po = strndup(all, (size_t)(first_end - all));
		pd = strdup("");
	}
	if (nl) {
		char *rest = nl + 1, *b2 = strchr(rest, '|');
		if (b2) {
			char *more = strdup(b2 + 1), *np = NULL, *q;
			lo = strndup(rest, (size_t)(b2 - rest));
			for (q = more; q && *q; q++)
				if (*q == '\n')
					*q = ' ';
			if (more && pd && (np = malloc(strlen(pd) + strlen(more) + 2))) {
				sprintf(np, "%s%s%s", pd, *pd && *more ? " " : "", more);
				free(pd);
				pd = np;
			}
			free(more);
		} else {
			lo = strdup(rest);
		}
	} else {
		lo = strdup("");
	}
	free(all);
	if (!po || !pd || !lo) {
		free(po);
		free(pd);
		free(lo);
		return -1;
	}
	*plugin_output = po;
	*perf_data = pd;
	*long_output = lo;
	return 0;
}
