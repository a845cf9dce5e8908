/*
 * extcmd.c - external command lines for Nagios 4 and Icinga 2.
 *
 * Why every field is rewritten here and nowhere else
 * (docs/core-behaviour.md §6):
 * a raw LF in a command ends it and whatever follows runs as a command of
 * its own (observed: a comment disabled notifications), and a ';' in any
 * field but the last shifts every later field. Names with either cannot be
 * addressed at all, so they are refused; free text (author, comment,
 * output) is rewritten to what the core can carry. The cleaning functions
 * are exported because reconciliation must compare the central's stored
 * text with exactly what we would send, or a second import would differ.
 */
/*
 * The limits (extcmd.h), and why. A remote is untrusted even with a valid
 * key: on a real Icinga 2 central a 65 MiB comment (an 88 KB bundle) kept
 * the core at 95% CPU for 25 minutes, and a downtime ending after 2038
 * came back as end -2147483648, so every import added another. Measured
 * on private Icinga 2.13.6 / Nagios 4.4.6 instances (Livestatus COMMAND,
 * FIFO; the commands and numbers are in docs/fidelity.md, "Limits"):
 * - Icinga 2's cost for a comment grows with the square of its length
 *   (why was not looked into): 2 KiB, 16 KiB, 64 KiB took 0.01 s of core
 *   CPU, 256 KiB 0.08 s, 1 MiB 1.0 s, 4 MiB 13.6 s.
 *   Nagios took 0.01 s for 1 MiB. A check result of 1 MiB: Icinga 0.25 s,
 *   Nagios 0.02 s, both stored whole (no MAX_PLUGIN_OUTPUT_LENGTH for
 *   passive results).
 * - EXTCMD_COMMENT_MAX 2048 and EXTCMD_NAME_MAX / EXTCMD_AUTHOR_MAX 255:
 *   the longest ack, comment or downtime command (two names, an author, a
 *   comment, five numbers) is then under 3,000 bytes, below PIPE_BUF
 *   (4096): one atomic write to the FIFO, never the PROCESS_FILE detour;
 *   and below Nagios's MAX_EXTERNAL_COMMAND_LENGTH (8192). 2 KiB is
 *   several paragraphs of a human's note; 255 bytes is more than a DNS
 *   name (253) and both cores took 255-byte host and service names in
 *   every command tried. Longer names are refused, not cut: a cut name
 *   would address another object.
 * - EXTCMD_OUTPUT_MAX 8192: Nagios's MAX_PLUGIN_OUTPUT_LENGTH (nagios.h:
 *   "max length of plugin output (including perf data)"); a status line
 *   longer than that is not one.
 *   EXTCMD_PERF_MAX and EXTCMD_LONG_OUTPUT_MAX 65535: a MySQL TEXT column,
 *   the type the IDO (Icinga 2) and NDO (Nagios) schemas give long output
 *   and perf data; a result is then at most about 140 KiB (Icinga 2 took 0.01 s
 *   for 64 KiB, 0.25 s for 1 MiB).
 * - EXTCMD_ITEMS_MAX 100 comments and 100 downtimes per object: more than
 *   a weekly downtime planned a year ahead (52); 100 downtimes or comments
 *   cost Icinga 0.4 s of CPU.
 * - Times: Icinga 2's Livestatus shows a time after EXTCMD_TIME_MAX
 *   (2^31-1) as -2147483648 (Nagios keeps it), so a later downtime end
 *   is clamped to it, and what the central shows then matches. Nothing a
 *   real site has is older than EXTCMD_TIME_MIN (2000-01-01): a start
 *   before it is raised (the downtime is in effect either way), a result
 *   before it is not sent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/extcmd.h"
#include "formats/checkresult.h"

size_t extcmd_cut_len(const char *s, size_t max, int *cut)
{
	size_t n = strnlen(s, max + 1), back;

	if (cut)
		*cut = n > max;
	if (n <= max)
		return n;
	/* s[max] is the first byte left out: step back over continuation
	 * bytes (10xxxxxx) to the start of its character, at most 3 (a
	 * character is at most 4 bytes; beyond that it is not UTF-8 anyway) */
	for (back = 0; back < 3 && back < max && ((unsigned char)s[max - back] & 0xc0) == 0x80; back++)
		;
	if (((unsigned char)s[max - back] & 0xc0) == 0x80)
		back = 0;
	return max - back;
}

const char *extcmd_name_problem(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!*p)
		return "empty name";
	if (strnlen(name, EXTCMD_NAME_MAX + 1) > EXTCMD_NAME_MAX)
		return "name longer than 255 bytes (siteload's limit, see docs/fidelity.md)";
	for (; *p; p++) {
		if (*p == ';')
			return "';' in a name splits the command's fields";
		if (*p == '\n' || *p == '\r')
			return "a line break in a name would end the command";
		if (*p < 0x20 || *p == 0x7f)
			return "a control character in a name";
	}
	return NULL;
}

/* The first `max` bytes (at a character boundary) with control characters
 * (LF, CR, ...) as spaces and `semi` as ','; trim: without trailing spaces. */
static char *clean(const char *s, size_t max, int semi, int trim, const char *if_empty, int *cut)
{
	size_t n = extcmd_cut_len(s, max, cut), i;
	char *out;

	if (!(out = malloc(n + 1)))
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (ch < 0x20 || ch == 0x7f)
			out[i] = ' ';
		else if (ch == ';' && semi)
			out[i] = ',';
		else
			out[i] = (char)ch;
	}
	/* both cores strip trailing white space from a command's last field
	 * (measured: "trailing space " came back as "trailing space"): a
	 * comment we compared with its spaces would never match */
	while (trim && n && out[n - 1] == ' ')
		n--;
	out[n] = 0;
	if (!n && if_empty) {
		free(out);
		return strdup(if_empty);
	}
	return out;
}

char *extcmd_clean_author(enum sd_core core, const char *author, int *cut)
{
	/* Icinga 2 refuses an empty author or comment ("must not be empty") */
	return clean(author, EXTCMD_AUTHOR_MAX, 1, 0, core == CORE_ICINGA2 ? "(unknown)" : NULL, cut);
}

char *extcmd_clean_comment(enum sd_core core, const char *comment, int is_downtime, int *cut)
{
	return clean(comment, EXTCMD_COMMENT_MAX, core == CORE_NAGIOS && is_downtime, 1,
		     core == CORE_ICINGA2 ? "(no comment)" : NULL, cut);
}

/* Icinga 2 reads a line as perf data from a '|' that has a '=' after it. */
static int icinga_bar_is_perf(const char *bar, int keep_lines)
{
	/* without keep_lines a line break becomes a space: the line goes on */
	for (bar++; *bar && (!keep_lines || (*bar != '\n' && *bar != '\r')); bar++)
		if (*bar == '=')
			return 1;
	return 0;
}

/* Icinga 2 service output: only backslash-n is unescaped, so LF and CR go
 * as \n and a literal backslash-n in the text must not look like one. */
static char *icinga_put(char *o, const char *s, int keep_lines, int bar_always, int *altered)
{
	for (; *s; s++) {
		if (*s == '\n' || *s == '\r') {
			if (keep_lines) {
				*o++ = '\\';
				*o++ = 'n';
			} else {
				*o++ = ' ';
				*altered = 1;
			}
		} else if (*s == '\\' && s[1] == 'n') {
			*o++ = '\\';
			*o++ = ' ';
			*altered = 1;
		} else if (*s == '|' && (bar_always || icinga_bar_is_perf(s, keep_lines))) {
			memcpy(o, "\xc2\xa6", 2);
			o += 2;
			*altered = 1;
		} else if ((unsigned char)*s < 0x20 && *s != '\t') {
			*o++ = ' ';
		} else {
			*o++ = *s;
		}
	}
	return o;
}

static char *encode(enum core_text text, int is_host, const char *plugin_output,
		    const char *perf_data, const char *long_output, int *altered)
{
	size_t len;
	char *buf, *o;

	*altered = 0;
	if (text != TEXT_ICINGA2) {
		/* Nagios keeps a CR raw; on a command channel (Livestatus reads
		 * lines) it must not travel, so it becomes a space */
		if ((buf = checkresult_encode_output_as(plugin_output, perf_data, text == TEXT_FLAT ? "" : long_output,
							text != TEXT_NAGIOS, altered)))
			for (o = buf; (o = strchr(o, '\r')); *altered = 1)
				*o++ = ' ';
		if (text == TEXT_FLAT && *long_output)
			*altered = 1;
		return buf;
	}
	len = 3 * (strlen(plugin_output) + strlen(perf_data) + strlen(long_output)) + 8;
	if (!(buf = malloc(len)))
		return NULL;
	/* the perf data joins the first line: with a '=' in it, every '|' of
	 * the output would start perf data */
	o = icinga_put(buf, plugin_output, 0, strchr(perf_data, '=') != NULL, altered);
	if (*perf_data) {
		*o++ = '|';
		o = icinga_put(o, perf_data, 0, 0, altered);
	}
	if (*long_output) {
		if (is_host) {
			/* PROCESS_HOST_CHECK_RESULT unescapes nothing
			 * (docs/core-behaviour.md §6) */
			*altered = 1;
		} else {
			*o++ = '\\';
			*o++ = 'n';
			o = icinga_put(o, long_output, 1, 0, altered);
		}
	}
	*o = 0;
	return buf;
}

/* A copy of s cut to max; *cut |= bit if it was cut. */
static char *cut_copy(const char *s, size_t max, unsigned bit, unsigned *cut)
{
	int c;
	size_t n = extcmd_cut_len(s, max, &c);

	if (c)
		*cut |= bit;
	return strndup(s, n);
}

char *extcmd_encode_result(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered, unsigned *cut)
{
	return extcmd_encode_result_text(core == CORE_ICINGA2 ? TEXT_ICINGA2 : TEXT_NAGIOS, is_host, plugin_output,
					 perf_data, long_output, altered, cut);
}

char *extcmd_encode_result_text(enum core_text text, int is_host, const char *plugin_output,
				const char *perf_data, const char *long_output, int *altered, unsigned *cut)
{
	unsigned dummy = 0, *k = cut ? cut : &dummy;
	char *po, *pd, *lo, *out = NULL;

	*k = 0;
	*altered = 0;
	/* cut before encoding: the limits are on what the core stores, and
	 * a 64 MiB output is never copied whole */
	po = cut_copy(plugin_output, EXTCMD_OUTPUT_MAX, EXTCMD_CUT_OUTPUT, k);
	pd = cut_copy(perf_data, EXTCMD_PERF_MAX, EXTCMD_CUT_PERF, k);
	lo = cut_copy(long_output, EXTCMD_LONG_OUTPUT_MAX, EXTCMD_CUT_LONG, k);
	if (po && pd && lo)
		out = encode(text, is_host, po, pd, lo, altered);
	free(po);
	free(pd);
	free(lo);
	return out;
}

char *extcmd_encode_output(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered)
{
	return extcmd_encode_result(core, is_host, plugin_output, perf_data, long_output, altered, NULL);
}

unsigned extcmd_clamp_downtime(long long *start, long long *end, long long *duration)
{
	unsigned k = 0;

	if (*end > EXTCMD_TIME_MAX) {
		*end = EXTCMD_TIME_MAX;
		k |= EXTCMD_CLAMP_END;
	}
	if (*start > EXTCMD_TIME_MAX) {
		*start = EXTCMD_TIME_MAX;
		k |= EXTCMD_CLAMP_START;
	} else if (*start < EXTCMD_TIME_MIN) {
		*start = EXTCMD_TIME_MIN;
		k |= EXTCMD_CLAMP_START;
	}
	if (*duration > EXTCMD_TIME_MAX || *duration < 0) {
		*duration = *duration < 0 ? 0 : EXTCMD_TIME_MAX;
		k |= EXTCMD_CLAMP_DURATION;
	}
	return k;
}

void extcmd_reset(struct extcmd *c)
{
	c->len = 0;
	c->oom = 0;
	if (c->buf)
		c->buf[0] = 0;
}

void extcmd_free(struct extcmd *c)
{
	free(c->buf);
	c->buf = NULL;
	c->len = c->cap = 0;
}

static void put(struct extcmd *c, const char *s, size_t n)
{
	if (c->oom)
		return;
	if (c->len + n + 1 > c->cap) {
		size_t cap = c->cap ? c->cap : 256;
		char *b;
		while (cap < c->len + n + 1)
			cap *= 2;
		if (!(b = realloc(c->buf, cap))) {
			c->oom = 1;
			return;
		}
		c->buf = b;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->buf[c->len] = 0;
}

static void puts_(struct extcmd *c, const char *s)
{
	put(c, s, strlen(s));
}

static void field(struct extcmd *c, const char *s)
{
	put(c, ";", 1);
	puts_(c, s);
}

static void numf(struct extcmd *c, long long v)
{
	char b[32];
	snprintf(b, sizeof(b), ";%lld", v);
	puts_(c, b);
}

static void head(struct extcmd *c, long long ts, const char *verb)
{
	char b[40];

	extcmd_reset(c);
	snprintf(b, sizeof(b), "[%lld] ", ts);
	puts_(c, b);
	puts_(c, verb);
}

static void target(struct extcmd *c, long long ts, const char *host_verb, const char *svc_verb,
		   const char *host, const char *svc)
{
	head(c, ts, svc ? svc_verb : host_verb);
	field(c, host);
	if (svc)
		field(c, svc);
}

static int done(struct extcmd *c)
{
	return c->oom ? -1 : 0;
}

int extcmd_result(struct extcmd *c, long long ts, const char *host, const char *svc, int rc,
		  const char *encoded_output)
{
	target(c, ts, "PROCESS_HOST_CHECK_RESULT", "PROCESS_SERVICE_CHECK_RESULT", host, svc);
	numf(c, rc);
	field(c, encoded_output);
	return done(c);
}

/* free text as the last field: cleaned for `core` */
static void textf(struct extcmd *c, char *cleaned)
{
	if (!cleaned) {
		c->oom = 1;
		return;
	}
	field(c, cleaned);
	free(cleaned);
}

int extcmd_ack(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
	       int sticky, int persistent, const char *author, const char *comment)
{
	target(c, ts, "ACKNOWLEDGE_HOST_PROBLEM", "ACKNOWLEDGE_SVC_PROBLEM", host, svc);
	/* sticky is 2 and normal 0: Nagios 4 and Icinga 2 take any value but
	 * 2 as normal, Naemon any value but 0 as sticky (docs/core-behaviour.md
	 * §3, §9); no notification; persistent as the remote's ack comment
	 * (removing a persistent ack leaves its comment, on every core) */
	numf(c, sticky ? 2 : 0);
	numf(c, 0);
	numf(c, persistent ? 1 : 0);
	textf(c, extcmd_clean_author(core, author, NULL));
	textf(c, extcmd_clean_comment(core, comment, 0, NULL));
	return done(c);
}

int extcmd_remove_ack(struct extcmd *c, long long ts, const char *host, const char *svc)
{
	target(c, ts, "REMOVE_HOST_ACKNOWLEDGEMENT", "REMOVE_SVC_ACKNOWLEDGEMENT", host, svc);
	return done(c);
}

int extcmd_downtime(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		    long long start, long long end, int fixed, long long duration,
		    const char *author, const char *comment)
{
	target(c, ts, "SCHEDULE_HOST_DOWNTIME", "SCHEDULE_SVC_DOWNTIME", host, svc);
	/* only lowered here (a later time never reaches a core); raising an
	 * early start, or refusing, is the caller's decision to report */
	numf(c, start < EXTCMD_TIME_MAX ? start : EXTCMD_TIME_MAX);
	numf(c, end < EXTCMD_TIME_MAX ? end : EXTCMD_TIME_MAX);
	numf(c, fixed ? 1 : 0);
	numf(c, 0);                     /* trigger: the remote's ids mean nothing here */
	numf(c, duration < EXTCMD_TIME_MAX ? duration : EXTCMD_TIME_MAX);
	textf(c, extcmd_clean_author(core, author, NULL));
	textf(c, extcmd_clean_comment(core, comment, 1, NULL));
	return done(c);
}

int extcmd_del_downtime(struct extcmd *c, long long ts, int is_service, long long id)
{
	head(c, ts, is_service ? "DEL_SVC_DOWNTIME" : "DEL_HOST_DOWNTIME");
	numf(c, id);
	return done(c);
}

int extcmd_comment(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		   int persistent, const char *author, const char *comment)
{
	target(c, ts, "ADD_HOST_COMMENT", "ADD_SVC_COMMENT", host, svc);
	numf(c, persistent ? 1 : 0);
	textf(c, extcmd_clean_author(core, author, NULL));
	textf(c, extcmd_clean_comment(core, comment, 0, NULL));
	return done(c);
}

int extcmd_del_comment(struct extcmd *c, long long ts, int is_service, long long id)
{
	head(c, ts, is_service ? "DEL_SVC_COMMENT" : "DEL_HOST_COMMENT");
	numf(c, id);
	return done(c);
}
