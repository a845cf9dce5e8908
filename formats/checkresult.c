/*
 * checkresult.c - write results Nagios 4 reads from its check_result_path.
 *
 * Why these choices (FACTS.md §2, measured on Nagios 4.4.6):
 * - file_time= first, or Nagios may skip the file as too old;
 * - start_time/finish_time as SEC.USEC (a bare integer gives last_check=0)
 *   and taken from the object's real last check, so the central shows when
 *   the remote checked, not when we dumped;
 * - output= is one line: Nagios unescapes only \n and \\, so we escape
 *   exactly those two, which also guarantees no value ends in a single
 *   backslash (that would swallow the next line);
 * - '|' outside the perf data cannot be escaped; it becomes U+00A6 and the
 *   record is reported as altered rather than silently split;
 * - a CR or LF in a name cannot be carried at all: the record is skipped;
 * - an empty output is written as one space: Nagios shows `output=` with
 *   nothing after it as "(No output returned from plugin)", a space as "".
 */
#include <stdlib.h>
#include <string.h>
#include "formats/checkresult.h"
#include "base/sbuf.h"
#include "base/text.h"

/* Each record is built in an sbuf (see sbuf.h for why) and handed to the
 * FILE whole when it is complete: a record is on the FILE when the sink
 * call returns, as for every writer. */
#define FLUSH_AT 0

struct cw {
	struct sd_sink sink;
	FILE *out;
	const char *prefix;
	time_t now;
	int header_done;
	struct sbuf b;
};

/* Append s escaped for Nagios; '|' replaced when bar is set. A line break
 * only belongs in the long output (lines set): in the plugin output or perf
 * data it would start the long output, so it becomes a space. Returns 1 if
 * something was replaced. Runs of plain bytes are copied whole. */
static int put_escaped(struct sbuf *b, const char *s, int bar, int lines)
{
	const char *stop = bar ? "\\\n|" : "\\\n";
	int altered = 0;
	size_t n;

	for (;;) {
		n = strcspn(s, stop);
		sbuf_putn(b, s, n);
		s += n;
		if (!*s)
			return altered;
		if (*s == '\\') {
			sbuf_putn(b, "\\\\", 2);
		} else if (*s == '\n' && !lines) {
			sbuf_putc(b, ' ');
			altered = 1;
		} else if (*s == '\n') {
			sbuf_putn(b, "\\n", 2);
		} else {
			sbuf_putn(b, "\xc2\xa6", 2);
			altered = 1;
		}
		s++;
	}
}

static int encode_output(struct sbuf *b, const char *plugin_output, const char *perf_data,
			 const char *long_output)
{
	int altered = put_escaped(b, plugin_output, 1, 0);

	if (*perf_data) {
		sbuf_putc(b, '|');
		altered |= put_escaped(b, perf_data, 0, 0);
	}
	if (*long_output) {
		sbuf_putn(b, "\\n", 2);
		altered |= put_escaped(b, long_output, 1, 1);
	}
	return altered;
}

char *checkresult_encode_output(const char *plugin_output, const char *perf_data,
				const char *long_output, int *altered)
{
	struct sbuf b = { 0 };

	*altered = encode_output(&b, plugin_output, perf_data, long_output);
	sbuf_putc(&b, '\0');
	if (b.oom) {
		sbuf_free(&b);
		return NULL;
	}
	return b.p;
}

/* "SEC.FRAC" with 3 or 6 decimals, without printf (hot path: three per
 * record); two digits per step from a table, constant divisors. */
static void put_fixed(struct sbuf *b, double t, int digits)
{
	static const char d2[] = "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
				 "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
				 "8081828384858687888990919293949596979899";
	unsigned long long v, sec, frac;
	char tmp[32], *p = tmp + sizeof(tmp);
	int i;

	if (!(t >= 0 && t < 9.2e12))    /* beyond, the old long long conversion overflowed */
		t = 0;
	if (digits == 3) {
		v = (unsigned long long)(t * 1000.0 + 0.5);
		sec = v / 1000;
		frac = v % 1000;
		*--p = (char)('0' + frac % 10);
		frac /= 10;
	} else {
		v = (unsigned long long)(t * 1000000.0 + 0.5);
		sec = v / 1000000;
		frac = v % 1000000;
	}
	for (i = 0; i < digits / 2; i++, frac /= 100) {
		p -= 2;
		memcpy(p, d2 + 2 * (frac % 100), 2);
	}
	*--p = '.';
	while (sec >= 100) {
		p -= 2;
		memcpy(p, d2 + 2 * (sec % 100), 2);
		sec /= 100;
	}
	if (sec >= 10) {
		p -= 2;
		memcpy(p, d2 + 2 * sec, 2);
	} else {
		*--p = (char)('0' + sec);
	}
	sbuf_putn(b, p, (size_t)(tmp + sizeof(tmp) - p));
}

#define PUT_LIT(b, s) sbuf_putn(b, s, sizeof(s) - 1)

void checkresult_put_file_header(struct sbuf *b, long long file_time)
{
	PUT_LIT(b, "### sitedump check results ###\nfile_time=");
	sbuf_put_ll(b, file_time);
	PUT_LIT(b, "\n\n");
}

static void put_header(struct cw *w)
{
	checkresult_put_file_header(&w->b, (long long)w->now);
	w->header_done = 1;
}

void checkresult_put_head(struct sbuf *b, const char *prefix, const char *host, const char *svc,
			  double latency, double last_check, double exec_time, int rc)
{
	size_t mark;

	PUT_LIT(b, "host_name=");
	sbuf_puts(b, prefix);
	sbuf_puts(b, host);
	sbuf_putc(b, '\n');
	if (svc) {
		PUT_LIT(b, "service_description=");
		sbuf_puts(b, svc);
		sbuf_putc(b, '\n');
	}
	PUT_LIT(b, "check_type=1\ncheck_options=0\nscheduled_check=0\nreschedule_check=0\nlatency=");
	put_fixed(b, latency > 0 ? latency : 0, 3);
	PUT_LIT(b, "\nstart_time=");
	mark = b->len;
	put_fixed(b, last_check > 0 ? last_check : 0, 6);
	PUT_LIT(b, "\nfinish_time=");
	if (exec_time > 0) {
		put_fixed(b, (last_check > 0 ? last_check : 0) + exec_time, 6);
	} else if (!b->oom && sbuf_room(b, b->len - mark) == 0) {
		/* no execution time (passive results): the same text again */
		size_t n = b->len - mark - (sizeof("\nfinish_time=") - 1);
		memcpy(b->p + b->len, b->p + mark, n);
		b->len += n;
	}
	PUT_LIT(b, "\nearly_timeout=0\nexited_ok=1\nreturn_code=");
	sbuf_putc(b, (char)('0' + (rc >= 0 && rc <= 9 ? rc : 3)));
	PUT_LIT(b, "\noutput=");
}

static int flush(struct cw *w, size_t min, sd_error *err)
{
	if (sbuf_flush(&w->b, w->out, min) < 0)
		return sd_fail(err, w->b.oom ? "out of memory" : "write error");
	return 0;
}

static int c_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct cw *w = ctx;
	struct sbuf *b = &w->b;
	size_t mark;
	char label[600];
	int altered;

	if (!o->has_been_checked)
		return 0;
	if (text_has_ctl(o->host_name, "\t") || (o->description && text_has_ctl(o->description, "\t"))) {
		sd_fail(err, "name contains a control character (CR/LF cannot be carried in a check result)");
		return 1;
	}
	if (!w->header_done)
		put_header(w);
	checkresult_put_head(b, w->prefix, o->host_name, o->type == SD_SERVICE ? o->description : NULL,
			     o->latency, (double)o->last_check, o->execution_time, o->state);
	mark = b->len;
	altered = encode_output(b, o->plugin_output, o->perf_data, o->long_plugin_output);
	if (b->len == mark)
		sbuf_putc(b, ' ');
	PUT_LIT(b, "\n\n");
	if (flush(w, FLUSH_AT, err) < 0)
		return -1;
	if (altered && w->sink.warned)
		w->sink.warned(w->sink.report_ctx, sd_object_label(o, label, sizeof(label)),
			       "'|' in the output is written as U+00A6: Nagios would read it as the start of perf data");
	return 0;
}

static int c_end(void *ctx, sd_error *err)
{
	struct cw *w = ctx;

	if (!w->header_done)    /* an empty site still gives a valid file */
		put_header(w);
	return flush(w, 0, err);
}

struct sd_sink *checkresult_writer_new(FILE *out, const struct writer_opts *opts)
{
	struct cw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->prefix = opts->prefix ? opts->prefix : "";
	w->now = opts->now ? opts->now : (time_t)sd_now();
	w->sink.ctx = w;
	w->sink.object = c_object;
	w->sink.end = c_end;
	return &w->sink;
}

void checkresult_writer_free(struct sd_sink *s)
{
	struct cw *w = (struct cw *)s;

	if (w)
		sbuf_free(&w->b);
	free(w);
}

/*
 * Reader half. Why a reader at all: the spool is a wire format like the
 * others, and tests, the fuzz target and anyone checking a spool need
 * Nagios's own reading of it, not a guess. Line continuation (a value
 * ending in one backslash swallows the next line, FACTS.md §2) is
 * reproduced because it is exactly the hazard the writer must avoid.
 */
#include <errno.h>

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
	/* line 1: output|perf; the rest: long output|more perf (FACTS.md §2) */
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
