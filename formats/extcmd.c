/*
 * extcmd.c - external command lines for Nagios 4 and Icinga 2.
 *
 * Why every field is rewritten here and nowhere else (FACTS.md §1, §6):
 * a raw LF in a command ends it and whatever follows runs as a command of
 * its own (observed: a comment disabled notifications), and a ';' in any
 * field but the last shifts every later field. Names with either cannot be
 * addressed at all, so they are refused; free text (author, comment,
 * output) is rewritten to what the core can carry. The cleaning functions
 * are exported because reconciliation must compare the central's stored
 * text with exactly what we would send, or a second import would differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "extcmd.h"
#include "checkresult.h"

const char *extcmd_name_problem(const char *name)
{
	const unsigned char *p = (const unsigned char *)name;

	if (!*p)
		return "empty name";
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

/* Copy with control characters (LF, CR, ...) as spaces and `semi` as ','. */
static char *clean(const char *s, int semi, const char *if_empty)
{
	size_t n = strlen(s);
	char *out, *o;

	if (!n && if_empty)
		return strdup(if_empty);
	if (!(out = malloc(n + 1)))
		return NULL;
	for (o = out; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			*o++ = ' ';
		else if (ch == ';' && semi)
			*o++ = ',';
		else
			*o++ = (char)ch;
	}
	*o = 0;
	return out;
}

char *extcmd_clean_author(enum sd_core core, const char *author)
{
	/* Icinga 2 refuses an empty author or comment ("must not be empty") */
	return clean(author, 1, core == CORE_ICINGA2 ? "(unknown)" : NULL);
}

char *extcmd_clean_comment(enum sd_core core, const char *comment, int is_downtime)
{
	return clean(comment, core == CORE_NAGIOS && is_downtime, core == CORE_ICINGA2 ? "(no comment)" : NULL);
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

char *extcmd_encode_output(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered)
{
	size_t len;
	char *buf, *o;

	*altered = 0;
	if (core == CORE_NAGIOS) {
		/* Nagios keeps a CR raw; on a command channel (Livestatus reads
		 * lines) it must not travel, so it becomes a space */
		if ((buf = checkresult_encode_output(plugin_output, perf_data, long_output, altered)))
			for (o = buf; (o = strchr(o, '\r')); *altered = 1)
				*o++ = ' ';
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
			/* PROCESS_HOST_CHECK_RESULT unescapes nothing (FACTS.md §6) */
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
	       int sticky, const char *author, const char *comment)
{
	target(c, ts, "ACKNOWLEDGE_HOST_PROBLEM", "ACKNOWLEDGE_SVC_PROBLEM", host, svc);
	/* sticky is 2 (any other value is "normal"); no notification; not
	 * persistent, so removing the ack removes its comment on both cores */
	numf(c, sticky ? 2 : 1);
	numf(c, 0);
	numf(c, 0);
	textf(c, extcmd_clean_author(core, author));
	textf(c, extcmd_clean_comment(core, comment, 0));
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
	numf(c, start);
	numf(c, end);
	numf(c, fixed ? 1 : 0);
	numf(c, 0);                     /* trigger: the remote's ids mean nothing here */
	numf(c, duration);
	textf(c, extcmd_clean_author(core, author));
	textf(c, extcmd_clean_comment(core, comment, 1));
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
	textf(c, extcmd_clean_author(core, author));
	textf(c, extcmd_clean_comment(core, comment, 0));
	return done(c);
}

int extcmd_del_comment(struct extcmd *c, long long ts, int is_service, long long id)
{
	head(c, ts, is_service ? "DEL_SVC_COMMENT" : "DEL_HOST_COMMENT");
	numf(c, id);
	return done(c);
}

int extcmd_parse(char *line, long long *ts, char **fields, int max_fields, sd_error *err)
{
	char *p = line, *end;
	int n = 0;

	if (max_fields < 1)
		return sd_fail(err, "no room for fields");
	if (strpbrk(line, "\n\r"))
		return sd_fail(err, "line break inside a command");
	if (*p++ != '[')
		return sd_fail(err, "command does not start with '['");
	if (*p < '0' || *p > '9')
		return sd_fail(err, "bad timestamp");
	*ts = strtoll(p, &end, 10);
	if (*end != ']' || end[1] != ' ' || end - p > 18)
		return sd_fail(err, "bad timestamp");
	p = end + 2;
	if (!*p || *p == ';')
		return sd_fail(err, "missing command name");
	fields[n++] = p;
	while ((p = strchr(p, ';'))) {
		if (n == max_fields)
			break;
		*p++ = 0;
		fields[n++] = p;
	}
	return n;
}
