/*
 * checkresult.c - write results Nagios 4 reads from its check_result_path.
 *
 * Why these choices (docs/core-behaviour.md §2, measured on Nagios 4.4.6):
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
static int put_escaped_as(struct sbuf *b, const char *s, int bar, int lines, int raw_backslash)
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
		if (*s == '\\' && raw_backslash) {
			/* a reader that unescapes only \n: a backslash stays, a
			 * literal backslash-n cannot be told from a line break */
			sbuf_putn(b, s[1] == 'n' ? "\\ " : "\\", s[1] == 'n' ? 2 : 1);
			altered |= s[1] == 'n';
		} else if (*s == '\\') {
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

static int encode_output_as(struct sbuf *b, const char *plugin_output, const char *perf_data,
			    const char *long_output, int raw_backslash)
{
	int altered = put_escaped_as(b, plugin_output, 1, 0, raw_backslash);

	if (*perf_data) {
		sbuf_putc(b, '|');
		altered |= put_escaped_as(b, perf_data, 0, 0, raw_backslash);
	}
	if (*long_output) {
		sbuf_putn(b, "\\n", 2);
		altered |= put_escaped_as(b, long_output, 1, 1, raw_backslash);
	}
	return altered;
}

static int encode_output(struct sbuf *b, const char *plugin_output, const char *perf_data,
			 const char *long_output)
{
	return encode_output_as(b, plugin_output, perf_data, long_output, 0);
}

char *checkresult_encode_output(const char *plugin_output, const char *perf_data,
				const char *long_output, int *altered)
{
	return checkresult_encode_output_as(plugin_output, perf_data, long_output, 0, altered);
}

char *checkresult_encode_output_as(const char *plugin_output, const char *perf_data,
				   const char *long_output, int raw_backslash, int *altered)
{
	struct sbuf b = { 0 };

	*altered = encode_output_as(&b, plugin_output, perf_data, long_output, raw_backslash);
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
