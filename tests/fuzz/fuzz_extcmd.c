/* libFuzzer target: external commands. The input is a flags byte and up to
 * seven NUL-separated texts (host, service, plugin output, perf data, long
 * output, author, comment). Every command kind is built for both cores and
 * must be one line (no LF/CR) that extcmd_parse splits back into exactly the
 * fields written, verb first. The encoded output must keep plugin output,
 * perf data and long output apart the way each core splits them
 * (docs/core-behaviour.md §2, §6). extcmd_parse also runs on the raw input.
 *
 * The limits (extcmd.h): cleaned text is cut at a character boundary and
 * cleaning it again changes nothing; extcmd_cut_len is also run with small
 * limits so that any input reaches them; clamped times are in range.
 *
 * FUZZ_EXTCMD_SKIP_KNOWN=1 in the environment skips the output-split check
 * for the two inputs it is known to fail on (see tests/unit/test_extcmd.c:
 * encode_icinga_bar_before_line_break, encode_split_nagios), so that a long
 * run can look for anything else. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/extcmd.h"
#include "tests/support/readers.h"

#define TS 1795000000LL
#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static int skip_known = -1;

/* ---- the cores' reading of an output (as in tests/unit/test_extcmd.c) ---- */

struct decoded {
	char *po, *pd, *lo;
};

static void dec_free(struct decoded *d)
{
	free(d->po);
	free(d->pd);
	free(d->lo);
}

static void append(char **dst, const char *s, size_t n)
{
	size_t l = *dst ? strlen(*dst) : 0;
	char *p = realloc(*dst, l + n + 1);

	CHECK(p);
	memcpy(p + l, s, n);
	p[l + n] = 0;
	*dst = p;
}

static void nagios_decode(const char *e, struct decoded *d)
{
	char *u = malloc(strlen(e) + 1), *o = u, *nl, *bar;

	CHECK(u);
	for (; *e; e++) {
		if (e[0] == '\\' && (e[1] == '\\' || e[1] == 'n'))
			*o++ = e[1] == 'n' ? '\n' : '\\', e++;
		else
			*o++ = *e;
	}
	*o = 0;
	d->po = d->pd = d->lo = NULL;
	append(&d->pd, "", 0);
	append(&d->lo, "", 0);
	if ((nl = strchr(u, '\n')))
		*nl++ = 0;
	if ((bar = strchr(u, '|'))) {
		*bar++ = 0;
		append(&d->pd, bar, strlen(bar));
	}
	append(&d->po, u, strlen(u));
	if (nl) {
		if ((bar = strchr(nl, '|'))) {
			*bar++ = 0;
			if (d->pd[0])
				append(&d->pd, " ", 1);
			append(&d->pd, bar, strlen(bar));
		}
		append(&d->lo, nl, strlen(nl));
	}
	free(u);
}

static void icinga_decode(const char *e, int is_host, struct decoded *d)
{
	char *u = malloc(strlen(e) + 1), *o = u, *line, *text = NULL;
	int first = 1;

	CHECK(u);
	for (; *e; e++) {
		if (!is_host && e[0] == '\\' && e[1] == 'n')
			*o++ = '\n', e++;
		else
			*o++ = *e;
	}
	*o = 0;
	d->po = d->pd = d->lo = NULL;
	append(&d->pd, "", 0);
	append(&d->lo, "", 0);
	append(&text, "", 0);
	for (line = u;;) {
		size_t n = strcspn(line, "\r\n");
		char *bar = memchr(line, '|', n);
		if (!first)
			append(&text, "\n", 1);
		first = 0;
		if (bar && memchr(bar, '=', n - (size_t)(bar - line))) {
			append(&text, line, (size_t)(bar - line));
			if (d->pd[0])
				append(&d->pd, " ", 1);
			append(&d->pd, bar + 1, n - (size_t)(bar - line) - 1);
		} else {
			append(&text, line, n);
		}
		if (!line[n])
			break;
		line += n + 1;
	}
	if ((o = strchr(text, '\n')))
		*o++ = 0;
	append(&d->po, text, strlen(text));
	if (o)
		append(&d->lo, o, strlen(o));
	free(text);
	free(u);
}

static void decode(enum sd_core core, int is_host, const char *e, struct decoded *d)
{
	if (core == CORE_NAGIOS)
		nagios_decode(e, d);
	else
		icinga_decode(e, is_host, d);
}

static void unbar(char *s)
{
	char *p;

	while ((p = strstr(s, "\xc2\xa6"))) {
		*p = '|';
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
}

/* plugin output, perf data and long output each end up where they would
 * have ended up alone */
static void check_split(enum sd_core core, int is_host, const char *po, const char *pd, const char *lo)
{
	struct decoded d, dpo, dpd, dlo;
	int alt;
	char *e, *epo, *epd, *elo;

	if (core == CORE_ICINGA2 && *pd && !strchr(pd, '='))
		return;                         /* not perf data for Icinga at all */
	if (core == CORE_NAGIOS && (strchr(po, '\n') || strchr(pd, '\n')) && skip_known)
		return;                         /* known: encode_split_nagios */
	if (core == CORE_ICINGA2 && strpbrk(po, "\r\n") && strchr(po, '|') && skip_known)
		return;                         /* known: encode_icinga_bar_before_line_break */
	e = extcmd_encode_output(core, is_host, po, pd, lo, &alt);
	epo = extcmd_encode_output(core, is_host, po, "", "", &alt);
	epd = extcmd_encode_output(core, is_host, "x", pd, "", &alt);
	elo = extcmd_encode_output(core, is_host, "x", "", lo, &alt);
	CHECK(e && epo && epd && elo);
	decode(core, is_host, e, &d);
	decode(core, is_host, epo, &dpo);
	decode(core, is_host, epd, &dpd);
	decode(core, is_host, elo, &dlo);
	unbar(d.po);
	unbar(dpo.po);
	CHECK(!strcmp(d.po, dpo.po));
	CHECK(!strcmp(d.pd, dpd.pd));
	CHECK(!strcmp(d.lo, dlo.lo));
	CHECK(!dpd.lo[0]);
	dec_free(&d);
	dec_free(&dpo);
	dec_free(&dpd);
	dec_free(&dlo);
	free(e);
	free(epo);
	free(epd);
	free(elo);
}

/* ---- the command lines ---- */

static void check_line(const struct extcmd *c, const char *verb, int nf, const char *const *expect)
{
	char *copy, *f[32];
	long long ts = -1;
	sd_error err = { "" };
	int n, i;

	CHECK(c->buf && c->len == strlen(c->buf));
	CHECK(!strpbrk(c->buf, "\n\r"));
	CHECK(copy = strdup(c->buf));
	n = extcmd_parse(copy, &ts, f, nf, &err);
	CHECK(n == nf);
	CHECK(ts == TS);
	CHECK(!strcmp(f[0], verb));
	for (i = 1; i < nf; i++)
		CHECK(!expect[i] || !strcmp(f[i], expect[i]));
	free(copy);
}

/* the model of extcmd.c's clean(): the first `max` bytes at a character
 * boundary, control characters as spaces, `semi` as ',', a comment's
 * trailing spaces dropped, an empty result replaced for Icinga 2 */
static void check_clean(const char *in, const char *out, size_t max, int semi, int trim, const char *if_empty)
{
	size_t i, n = extcmd_cut_len(in, max, NULL);

	CHECK(out);
	if (trim)
		while (n && (in[n - 1] == ' ' || (unsigned char)in[n - 1] < 0x20 || in[n - 1] == 0x7f))
			n--;
	if (!n && if_empty && (trim || !*in)) {
		CHECK(!strcmp(out, if_empty));
		return;
	}
	CHECK(strlen(out) == n);
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)in[i];
		if (ch < 0x20 || ch == 0x7f)
			CHECK(out[i] == ' ');
		else if (ch == ';' && semi)
			CHECK(out[i] == ',');
		else
			CHECK(out[i] == in[i]);
	}
}

/* extcmd_cut_len with a small limit, so that any text reaches it: a
 * prefix, at most max bytes, never ending inside a UTF-8 character */
static void check_cut(const char *s, size_t max)
{
	int cut;
	size_t n = extcmd_cut_len(s, max, &cut), len = strlen(s);

	CHECK(n <= max && n <= len);
	CHECK(cut == (len > max));
	if (!cut)
		CHECK(n == len);
	else if (((unsigned char)s[n] & 0xc0) == 0x80)
		/* only when the bytes before are not a character's start
		 * either (not UTF-8): then it cuts at max */
		CHECK(n == max);
	else
		CHECK(max - n <= 3);
}

/* clamped times are within both cores' range and stay as they are */
static void check_clamp(const uint8_t *data, size_t size)
{
	long long v[3] = { 0, 0, 0 }, w[3];
	unsigned k;

	memcpy(v, data, size < sizeof(v) ? size : sizeof(v));
	memcpy(w, v, sizeof(w));
	k = extcmd_clamp_downtime(&w[0], &w[1], &w[2]);
	CHECK(w[0] >= EXTCMD_TIME_MIN && w[0] <= EXTCMD_TIME_MAX);
	CHECK(w[1] <= EXTCMD_TIME_MAX && w[2] >= 0 && w[2] <= EXTCMD_TIME_MAX);
	CHECK(!(k & EXTCMD_CLAMP_START) == (w[0] == v[0]));
	CHECK(!(k & EXTCMD_CLAMP_END) == (w[1] == v[1]));
	CHECK(!(k & EXTCMD_CLAMP_DURATION) == (w[2] == v[2]));
	CHECK(extcmd_clamp_downtime(&w[0], &w[1], &w[2]) == 0);
}

static void build_all(struct extcmd *c, enum sd_core core, const char *host, const char *svc, unsigned flags,
		      const char *po, const char *pd, const char *lo, const char *author, const char *comment)
{
	const char *e[16];
	char *out, *ca, *cc, *cdc, num[32];
	int alt, k, is_svc = svc != NULL, rc = (int)(flags >> 3 & 3);

	out = extcmd_encode_output(core, !is_svc, po, pd, lo, &alt);
	ca = extcmd_clean_author(core, author, NULL);
	cc = extcmd_clean_comment(core, comment, 0, NULL);
	cdc = extcmd_clean_comment(core, comment, 1, NULL);
	CHECK(out && ca && cc && cdc);
	check_clean(author, ca, EXTCMD_AUTHOR_MAX, 1, 0, core == CORE_ICINGA2 ? "(unknown)" : NULL);
	check_clean(comment, cc, EXTCMD_COMMENT_MAX, 0, 1, core == CORE_ICINGA2 ? "(no comment)" : NULL);
	check_clean(comment, cdc, EXTCMD_COMMENT_MAX, core == CORE_NAGIOS, 1, core == CORE_ICINGA2 ? "(no comment)" : NULL);
	{
		/* what is sent is what is compared: cleaning again changes nothing */
		char *a2 = extcmd_clean_author(core, ca, NULL), *c2 = extcmd_clean_comment(core, cdc, 1, NULL);
		CHECK(a2 && c2 && !strcmp(a2, ca) && !strcmp(c2, cdc));
		free(a2);
		free(c2);
	}
	CHECK(!strpbrk(out, "\r\n"));
	if (core == CORE_ICINGA2 && !is_svc && *lo)
		CHECK(alt);

	CHECK(extcmd_result(c, TS, host, svc, rc, out) == 0);
	snprintf(num, sizeof(num), "%d", rc);
	e[k = 0] = NULL; e[++k] = host; if (is_svc) e[++k] = svc; e[++k] = num; e[++k] = out;
	check_line(c, is_svc ? "PROCESS_SERVICE_CHECK_RESULT" : "PROCESS_HOST_CHECK_RESULT", k + 1, e);

	CHECK(extcmd_ack(c, core, TS, host, svc, flags & 1, flags & 2, author, comment) == 0);
	e[k = 0] = NULL; e[++k] = host; if (is_svc) e[++k] = svc; e[++k] = flags & 1 ? "2" : "0";
	e[++k] = "0"; e[++k] = flags & 2 ? "1" : "0"; e[++k] = ca; e[++k] = cc;
	check_line(c, is_svc ? "ACKNOWLEDGE_SVC_PROBLEM" : "ACKNOWLEDGE_HOST_PROBLEM", k + 1, e);

	CHECK(extcmd_downtime(c, core, TS, host, svc, 1795000000, 1795003600, flags & 2, 600, author, comment) == 0);
	e[k = 0] = NULL; e[++k] = host; if (is_svc) e[++k] = svc; e[++k] = "1795000000"; e[++k] = "1795003600";
	e[++k] = flags & 2 ? "1" : "0"; e[++k] = "0"; e[++k] = "600"; e[++k] = ca; e[++k] = cdc;
	check_line(c, is_svc ? "SCHEDULE_SVC_DOWNTIME" : "SCHEDULE_HOST_DOWNTIME", k + 1, e);
	if (core == CORE_NAGIOS)
		CHECK(!strchr(cdc, ';'));      /* Nagios reads it with strtok(";") */

	CHECK(extcmd_comment(c, core, TS, host, svc, flags & 4, author, comment) == 0);
	e[k = 0] = NULL; e[++k] = host; if (is_svc) e[++k] = svc; e[++k] = flags & 4 ? "1" : "0";
	e[++k] = ca; e[++k] = cc;
	check_line(c, is_svc ? "ADD_SVC_COMMENT" : "ADD_HOST_COMMENT", k + 1, e);

	CHECK(extcmd_remove_ack(c, TS, host, svc) == 0);
	e[k = 0] = NULL; e[++k] = host; if (is_svc) e[++k] = svc;
	check_line(c, is_svc ? "REMOVE_SVC_ACKNOWLEDGEMENT" : "REMOVE_HOST_ACKNOWLEDGEMENT", k + 1, e);

	snprintf(num, sizeof(num), "%u", flags * 7919u);
	e[0] = NULL;
	e[1] = num;
	CHECK(extcmd_del_downtime(c, TS, is_svc, flags * 7919LL) == 0);
	check_line(c, is_svc ? "DEL_SVC_DOWNTIME" : "DEL_HOST_DOWNTIME", 2, e);
	CHECK(extcmd_del_comment(c, TS, is_svc, flags * 7919LL) == 0);
	check_line(c, is_svc ? "DEL_SVC_COMMENT" : "DEL_HOST_COMMENT", 2, e);

	check_split(core, !is_svc, po, pd, lo);
	free(out);
	free(ca);
	free(cc);
	free(cdc);
}

static void check_name(const char *name)
{
	const char *why = extcmd_name_problem(name);
	const unsigned char *p = (const unsigned char *)name;
	int bad = !*p;

	for (; *p; p++)
		bad |= *p == ';' || *p < 0x20 || *p == 0x7f;
	bad |= strlen(name) > EXTCMD_NAME_MAX;
	CHECK(!why == !bad);
}

/* extcmd_parse on anything: fields are non-overlapping parts of the line */
static void parse_raw(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1), *f[8];
	long long ts;
	sd_error err = { "" };
	int n, i, max;

	CHECK(line);
	for (max = 1; max <= 8; max += 3) {
		memcpy(line, data, size);
		line[size] = 0;
		n = extcmd_parse(line, &ts, f, max, &err);
		if (n < 0) {
			CHECK(err.msg[0]);
			continue;
		}
		CHECK(n >= 1 && n <= max);
		CHECK(ts >= 0);
		CHECK(!strpbrk(line, "\r\n"));
		CHECK(f[0][0] && f[0][0] != ';');
		for (i = 0; i < n; i++) {
			CHECK(f[i] >= line && f[i] <= line + size);
			if (i < n - 1 || n < max)
				CHECK(!strchr(f[i], ';'));
		}
	}
	free(line);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf, *t[7];
	size_t i, nt = 0;
	unsigned flags;
	struct extcmd c = { 0 };
	int core, svc;

	if (skip_known < 0) {
		const char *v = getenv("FUZZ_EXTCMD_SKIP_KNOWN");
		skip_known = v && *v == '1';
	}
	parse_raw(data, size);
	if (size < 1)
		return 0;
	flags = data[0];
	if (!(buf = malloc(size)))
		return 0;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = 0;
	t[nt++] = buf;
	for (i = 0; i + 1 < size && nt < 7; i++)
		if (!buf[i])
			t[nt++] = buf + i + 1;
	for (; nt < 7; nt++)
		t[nt] = "";
	check_name(t[0]);
	check_name(t[1]);
	check_cut(t[5], flags % 16);
	check_cut(t[6], flags);
	check_clamp(data + 1, size - 1);
	for (core = 0; core < 2; core++)
		for (svc = 0; svc < 2; svc++)
			build_all(&c, core, extcmd_name_problem(t[0]) ? "h" : t[0],
				  svc ? (extcmd_name_problem(t[1]) ? "s" : t[1]) : NULL,
				  flags, t[2], t[3], t[4], t[5], t[6]);
	extcmd_free(&c);
	free(buf);
	return 0;
}
