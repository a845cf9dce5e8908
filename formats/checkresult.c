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
#include "checkresult.h"
#include "text.h"

struct cw {
	struct sd_sink sink;
	FILE *out;
	const char *prefix;
	time_t now;
	int header_done;
};

/* Append s escaped for Nagios into *o; '|' replaced when bar is set. A
 * line break only belongs in the long output (lines set): in the plugin
 * output or perf data it would start the long output, so it becomes a space. */
static char *put_escaped(char *o, const char *s, int bar, int lines, int *altered)
{
	for (; *s; s++) {
		if (*s == '\\') {
			*o++ = '\\';
			*o++ = '\\';
		} else if (*s == '\n' && !lines) {
			*o++ = ' ';
			*altered = 1;
		} else if (*s == '\n') {
			*o++ = '\\';
			*o++ = 'n';
		} else if (*s == '|' && bar) {
			memcpy(o, "\xc2\xa6", 2);
			o += 2;
			*altered = 1;
		} else {
			*o++ = *s;
		}
	}
	return o;
}

char *checkresult_encode_output(const char *plugin_output, const char *perf_data,
				const char *long_output, int *altered)
{
	size_t len = 2 * (strlen(plugin_output) + strlen(perf_data) + strlen(long_output)) + 8;
	char *buf = malloc(len), *o = buf;

	*altered = 0;
	if (!buf)
		return NULL;
	o = put_escaped(o, plugin_output, 1, 0, altered);
	if (*perf_data) {
		*o++ = '|';
		o = put_escaped(o, perf_data, 0, 0, altered);
	}
	if (*long_output) {
		*o++ = '\\';
		*o++ = 'n';
		o = put_escaped(o, long_output, 1, 1, altered);
	}
	*o = '\0';
	return buf;
}

/* "SEC.FRAC" with `digits` decimals, without printf (hot path). */
static void fmt_fixed(char *buf, double t, int digits)
{
	static const long long scale[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	long long v = (long long)(t * (double)scale[digits] + 0.5), sec = v / scale[digits], frac = v % scale[digits];
	char tmp[24], *p = tmp + sizeof(tmp);
	int i;

	*--p = '\0';
	for (i = 0; i < digits; i++, frac /= 10)
		*--p = (char)('0' + frac % 10);
	*--p = '.';
	do
		*--p = (char)('0' + sec % 10);
	while (sec /= 10);
	strcpy(buf, p);
}

static void put(FILE *f, const char *key, const char *value)
{
	fputs(key, f);
	fputs(value, f);
	putc('\n', f);
}

static int c_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct cw *w = ctx;
	char start[40], finish[40], latency[40], rc[2] = "0", *output, label[600];
	int altered;

	if (!o->has_been_checked)
		return 0;
	if (text_has_ctl(o->host_name, "\t") || (o->description && text_has_ctl(o->description, "\t"))) {
		sd_fail(err, "name contains a control character (CR/LF cannot be carried in a check result)");
		return 1;
	}
	if (!w->header_done) {
		fprintf(w->out, "### sitedump check results ###\nfile_time=%lld\n\n", (long long)w->now);
		w->header_done = 1;
	}
	if (!(output = checkresult_encode_output(o->plugin_output, o->perf_data, o->long_plugin_output, &altered)))
		return sd_fail(err, "out of memory");
	fmt_fixed(start, o->last_check > 0 ? o->last_check : 0, 6);
	fmt_fixed(finish, (o->last_check > 0 ? o->last_check : 0) + (o->execution_time > 0 ? o->execution_time : 0), 6);
	fmt_fixed(latency, o->latency > 0 ? o->latency : 0, 3);
	rc[0] = (char)('0' + (o->state >= 0 && o->state <= 9 ? o->state : 3));
	fputs("host_name=", w->out);
	fputs(w->prefix, w->out);
	fputs(o->host_name, w->out);
	putc('\n', w->out);
	if (o->type == SD_SERVICE)
		put(w->out, "service_description=", o->description);
	fputs("check_type=1\ncheck_options=0\nscheduled_check=0\nreschedule_check=0\n", w->out);
	put(w->out, "latency=", latency);
	put(w->out, "start_time=", start);
	put(w->out, "finish_time=", finish);
	fputs("early_timeout=0\nexited_ok=1\n", w->out);
	put(w->out, "return_code=", rc);
	fputs("output=", w->out);
	fputs(*output ? output : " ", w->out);
	fputs("\n\n", w->out);
	free(output);
	if (ferror(w->out))
		return sd_fail(err, "write error");
	if (altered && w->sink.warned)
		w->sink.warned(w->sink.report_ctx, sd_object_label(o, label, sizeof(label)),
			       "'|' in the output is written as U+00A6: Nagios would read it as the start of perf data");
	return 0;
}

static int c_end(void *ctx, sd_error *err)
{
	struct cw *w = ctx;

	if (!w->header_done)    /* an empty site still gives a valid file */
		fprintf(w->out, "### sitedump check results ###\nfile_time=%lld\n\n", (long long)w->now);
	return ferror(w->out) ? sd_fail(err, "write error") : 0;
}

struct sd_sink *checkresult_writer_new(FILE *out, const struct writer_opts *opts)
{
	struct cw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->prefix = opts->prefix ? opts->prefix : "";
	w->now = opts->now ? opts->now : time(NULL);
	w->sink.ctx = w;
	w->sink.object = c_object;
	w->sink.end = c_end;
	return &w->sink;
}

void checkresult_writer_free(struct sd_sink *s)
{
	free(s);
}
