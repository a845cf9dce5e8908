/* Unit tests: external command builders, text cleaning, output encoding
 * for Nagios 4 and Icinga 2 (docs/core-behaviour.md §1, §3-§6), and the
 * line parser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include "formats/extcmd.h"
#include "formats/checkresult.h"
#include "tests/support/readers.h"

#define TS 1795000000LL

static void name_problem(void **state)
{
	assert_null(extcmd_name_problem("web server 01"));
	assert_null(extcmd_name_problem("h\xc3\xa4st-\xc3\xbc"));       /* UTF-8 is fine */
	assert_null(extcmd_name_problem("disk C:\\ =|,[1]"));
	assert_null(extcmd_name_problem("\xe2\x82\xac\xf0\x9f\x98\x80"));
	assert_non_null(extcmd_name_problem(""));
	assert_non_null(strstr(extcmd_name_problem("a;b"), "';'"));
	assert_non_null(strstr(extcmd_name_problem("a\nb"), "line break"));
	assert_non_null(strstr(extcmd_name_problem("a\rb"), "line break"));
	assert_non_null(strstr(extcmd_name_problem("a\tb"), "control"));
	assert_non_null(extcmd_name_problem("a\x01"));
	assert_non_null(extcmd_name_problem("\x1f"));
	assert_non_null(extcmd_name_problem("a\x7f"));
	assert_non_null(extcmd_name_problem(";"));
	assert_non_null(extcmd_name_problem("x\n[1] SHUTDOWN_PROGRAM"));
}

static void check_clean(char *got, const char *want)
{
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void clean_texts(void **state)
{
	/* author: ';' -> ',' always, control characters -> ' ' */
	check_clean(extcmd_clean_author(CORE_NAGIOS, "al;ice", NULL), "al,ice");
	check_clean(extcmd_clean_author(CORE_ICINGA2, "al;ice", NULL), "al,ice");
	check_clean(extcmd_clean_author(CORE_NAGIOS, "a\nb\rc\td\x01" "e\x7f", NULL), "a b c d e ");
	check_clean(extcmd_clean_author(CORE_ICINGA2, "a\nb\rc\td\x01" "e\x7f", NULL), "a b c d e ");
	check_clean(extcmd_clean_author(CORE_NAGIOS, "J\xc3\xbcrgen", NULL), "J\xc3\xbcrgen");
	/* empty: Nagios takes it, Icinga 2 refuses it */
	check_clean(extcmd_clean_author(CORE_NAGIOS, "", NULL), "");
	check_clean(extcmd_clean_author(CORE_ICINGA2, "", NULL), "(unknown)");
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "", 0, NULL), "");
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "", 1, NULL), "");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "", 0, NULL), "(no comment)");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "", 1, NULL), "(no comment)");
	/* only a text that is empty to begin with is replaced */
	check_clean(extcmd_clean_author(CORE_ICINGA2, "\n", NULL), " ");
	/* comment: ';' kept (last field) except in Nagios downtime comments */
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "a;b = c|d", 0, NULL), "a;b = c|d");
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "a;b = c|d", 1, NULL), "a,b = c|d");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "a;b = c|d", 0, NULL), "a;b = c|d");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "a;b = c|d", 1, NULL), "a;b = c|d");
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "x\n[1] DISABLE_NOTIFICATIONS", 0, NULL),
		    "x [1] DISABLE_NOTIFICATIONS");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "x\r\n[1] DISABLE_NOTIFICATIONS", 1, NULL),
		    "x  [1] DISABLE_NOTIFICATIONS");
	check_clean(extcmd_clean_comment(CORE_ICINGA2, "caf\xc3\xa9 \\n", 0, NULL), "caf\xc3\xa9 \\n");
}

static void check_enc(enum sd_core core, int is_host, const char *po, const char *pd, const char *lo,
		      const char *want, int want_alt)
{
	int alt = -1;
	char *s = extcmd_encode_output(core, is_host, po, pd, lo, &alt);

	int same;

	assert_non_null(s);
	same = !strcmp(s, want);
	if (!same)
		print_message("  encoded \"%s\"\n     want \"%s\"\n", s, want);
	free(s);                /* before asserting: no leak when it fails */
	assert_true(same);
	assert_int_equal(alt, want_alt);
}

static void encode_nagios(void **state)
{
	const char *cases[][3] = {
		{ "CRIT first", "a=1;2;3 b=2s", "second C:\\temp\nthird" },
		{ "ends in \\", "", "" },
		{ "a | b", "", "x|y" },
		{ "OK", "", "" },
		{ "", "", "" },
		{ "x", "p=1", "" },
		{ "x", "", "long" },
	};
	size_t i;
	int is_host;

	/* identical to the checkresult encoding, hosts and services alike */
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (is_host = 0; is_host < 2; is_host++) {
			int a1, a2;
			char *want = checkresult_encode_output(cases[i][0], cases[i][1], cases[i][2], &a1);
			char *got = extcmd_encode_output(CORE_NAGIOS, is_host, cases[i][0], cases[i][1], cases[i][2], &a2);
			assert_string_equal(got, want);
			assert_int_equal(a1, a2);
			free(want);
			free(got);
		}
	check_enc(CORE_NAGIOS, 0, "CRIT first", "a=1;2;3 b=2s", "second C:\\temp\nthird",
		  "CRIT first|a=1;2;3 b=2s\\nsecond C:\\\\temp\\nthird", 0);
	check_enc(CORE_NAGIOS, 0, "a | b", "", "x|y", "a \xc2\xa6 b\\nx\xc2\xa6y", 1);
	check_enc(CORE_NAGIOS, 1, "DOWN", "rta=1", "l1\nl2", "DOWN|rta=1\\nl1\\nl2", 0);
	check_enc(CORE_NAGIOS, 0, "ends in \\", "", "", "ends in \\\\", 0);
	check_enc(CORE_NAGIOS, 0, "", "", "", "", 0);
	check_enc(CORE_NAGIOS, 0, "literal \\n", "", "", "literal \\\\n", 0);
	/* a CR stays raw in Nagios, but must not travel on a command line */
	check_enc(CORE_NAGIOS, 0, "a\rb", "p=1\r", "c\r\nd", "a b|p=1 \\nc \\nd", 1);
	check_enc(CORE_NAGIOS, 1, "a\rb", "", "", "a b", 1);
}

static void encode_icinga(void **state)
{
	/* service: LF/CR in long output -> \n; only backslash-n is unescaped,
	 * so backslashes stay single and a literal backslash-n becomes "\ n" */
	check_enc(CORE_ICINGA2, 0, "CRIT first", "a=1;2;3 b=2s", "second C:\\temp\nthird",
		  "CRIT first|a=1;2;3 b=2s\\nsecond C:\\temp\\nthird", 0);
	check_enc(CORE_ICINGA2, 0, "OK", "", "l1\r\nl2\rl3", "OK\\nl1\\n\\nl2\\nl3", 0);
	check_enc(CORE_ICINGA2, 0, "C:\\new", "", "D:\\new\\n", "C:\\ new\\nD:\\ new\\ n", 1);
	check_enc(CORE_ICINGA2, 0, "x", "", "a\\\\nb", "x\\na\\\\ nb", 1);
	/* a line break in the first line cannot be carried: space, altered */
	check_enc(CORE_ICINGA2, 0, "one\ntwo", "", "", "one two", 1);
	check_enc(CORE_ICINGA2, 0, "one\rtwo", "", "", "one two", 1);
	/* '|' is perf data only when '=' follows on the same line */
	check_enc(CORE_ICINGA2, 0, "a | b", "", "", "a | b", 0);
	check_enc(CORE_ICINGA2, 0, "a | b=1", "", "", "a \xc2\xa6 b=1", 1);
	check_enc(CORE_ICINGA2, 0, "OK", "", "x|y\nz=1", "OK\\nx|y\\nz=1", 0);
	check_enc(CORE_ICINGA2, 0, "OK", "", "x|y=1\nz", "OK\\nx\xc2\xa6y=1\\nz", 1);
	/* other control characters: space; tab kept */
	check_enc(CORE_ICINGA2, 0, "a\tb\x01" "c", "", "", "a\tb c", 0);
	/* UTF-8 untouched */
	check_enc(CORE_ICINGA2, 0, "h\xc3\xa4st \xe2\x82\xac", "", "", "h\xc3\xa4st \xe2\x82\xac", 0);
	check_enc(CORE_ICINGA2, 0, "", "", "", "", 0);
	/* host: no long output through PROCESS_HOST_CHECK_RESULT */
	check_enc(CORE_ICINGA2, 1, "DOWN", "rta=1", "more\nlines", "DOWN|rta=1", 1);
	check_enc(CORE_ICINGA2, 1, "DOWN", "rta=1", "", "DOWN|rta=1", 0);
	check_enc(CORE_ICINGA2, 1, "a\nb", "", "", "a b", 1);
}

/* Icinga 2 splits a line at its FIRST '|' when a '=' follows anywhere later
 * on that line (docs/core-behaviour.md §6; PluginUtility::ParseCheckOutput).
 * Plugin
 * output and perf data share the first line, so with perf data present
 * every '|' of the plugin output has a '=' after it on that line. */
static void encode_icinga_bar_before_perfdata(void **state)
{
	check_enc(CORE_ICINGA2, 0, "a | b", "load=1", "", "a \xc2\xa6 b|load=1", 1);
	check_enc(CORE_ICINGA2, 1, "up | fine", "rta=1ms", "", "up \xc2\xa6 fine|rta=1ms", 1);
}

/* ---- what the cores make of an encoded output
 * (docs/core-behaviour.md §2, §6) ---- */

struct decoded {
	char po[1024], pd[1024], lo[2048];
};

static void cat(char *dst, size_t cap, const char *s, size_t n)
{
	size_t l = strlen(dst);

	assert_true(l + n < cap);
	memcpy(dst + l, s, n);
	dst[l + n] = 0;
}

/* Nagios: unescape \\ and \n, then the first '|' of line 1 starts the perf
 * data; in the long part, everything after its first '|' is perf data. */
static void nagios_decode(const char *e, struct decoded *d)
{
	char u[4096], *o = u, *nl, *bar;

	memset(d, 0, sizeof(*d));
	for (; *e; e++) {
		if (e[0] == '\\' && e[1] == '\\')
			*o++ = '\\', e++;
		else if (e[0] == '\\' && e[1] == 'n')
			*o++ = '\n', e++;
		else
			*o++ = *e;
	}
	*o = 0;
	if ((nl = strchr(u, '\n')))
		*nl++ = 0;
	if ((bar = strchr(u, '|'))) {
		*bar++ = 0;
		cat(d->pd, sizeof(d->pd), bar, strlen(bar));
	}
	cat(d->po, sizeof(d->po), u, strlen(u));
	if (nl) {
		if ((bar = strchr(nl, '|'))) {
			*bar++ = 0;
			if (d->pd[0])
				cat(d->pd, sizeof(d->pd), " ", 1);
			cat(d->pd, sizeof(d->pd), bar, strlen(bar));
		}
		cat(d->lo, sizeof(d->lo), nl, strlen(nl));
	}
}

/* Icinga 2: services unescape backslash-n only (hosts nothing); lines split
 * at CR and LF; a line with '|' and a '=' after it splits at its first '|'. */
static void icinga_decode(const char *e, int is_host, struct decoded *d)
{
	char u[4096], *o = u, *line, text[4096] = "";
	int first = 1;

	memset(d, 0, sizeof(*d));
	for (; *e; e++) {
		if (!is_host && e[0] == '\\' && e[1] == 'n')
			*o++ = '\n', e++;
		else
			*o++ = *e;
	}
	*o = 0;
	for (line = u;;) {
		size_t n = strcspn(line, "\r\n");
		char *bar = memchr(line, '|', n);
		if (!first)
			cat(text, sizeof(text), "\n", 1);
		first = 0;
		if (bar && memchr(bar, '=', n - (size_t)(bar - line))) {
			cat(text, sizeof(text), line, (size_t)(bar - line));
			if (d->pd[0])
				cat(d->pd, sizeof(d->pd), " ", 1);
			cat(d->pd, sizeof(d->pd), bar + 1, n - (size_t)(bar - line) - 1);
		} else {
			cat(text, sizeof(text), line, n);
		}
		if (!line[n])
			break;
		line += n + 1;
	}
	o = strchr(text, '\n');
	if (o)
		*o++ = 0;
	cat(d->po, sizeof(d->po), text, strlen(text));
	if (o)
		cat(d->lo, sizeof(d->lo), o, strlen(o));
}

static void decode(enum sd_core core, int is_host, const char *e, struct decoded *d)
{
	if (core == CORE_NAGIOS)
		nagios_decode(e, d);
	else
		icinga_decode(e, is_host, d);
}

static unsigned dseed = 99;

static char benign_char(int allow_nl)
{
	static const char set[] = "abcXYZ 019.,:%/-_()[]'\"\\#=~";
	dseed = dseed * 1103515245u + 12345u;
	if (allow_nl && (dseed >> 9) % 9 == 0)
		return '\n';
	return set[(dseed >> 12) % (sizeof(set) - 1)];
}

static void benign(char *buf, size_t n, int allow_nl, int allow_eq)
{
	size_t i;

	for (i = 0; i < n; i++) {
		char ch;
		do
			ch = benign_char(allow_nl);
		while ((!allow_eq && ch == '=') || (ch == '\\' && i + 1 == n) ||
		       (i > 0 && buf[i - 1] == '\\' && ch == 'n'));
		buf[i] = ch;
	}
	buf[n] = 0;
	/* no backslash-n across what we produce; no leading/trailing blanks */
	for (i = 0; i < n; i++)
		if (buf[i] == ' ' && (i == 0 || i + 1 == n))
			buf[i] = '_';
}

/* Ordinary texts (no '|', no literal backslash-n, perf data one line with
 * '='): what the core stores is exactly what the remote had. */
static void decode_round_trip(void **state)
{
	int i, core, is_host;

	for (i = 0; i < 3000; i++) {
		char po[80], pd[80], lo[300];
		struct decoded d;
		int alt;

		benign(po, (size_t)(dseed >> 20) % 60 + 1, 0, 1);
		benign(pd, (size_t)(dseed >> 18) % 30, 0, 1);
		if (pd[0])
			strcat(pd, " x=1;2;3");
		benign(lo, (size_t)(dseed >> 16) % 200, 1, 1);
		for (core = 0; core < 2; core++)
			for (is_host = 0; is_host < 2; is_host++) {
				char *e = extcmd_encode_output(core, is_host, po, pd, lo, &alt);
				int host_drops = core == CORE_ICINGA2 && is_host;
				assert_non_null(e);
				decode(core, is_host, e, &d);
				if (strcmp(d.po, po) || strcmp(d.pd, pd) || strcmp(d.lo, host_drops ? "" : lo))
					print_message("  %s %s: po \"%s\" pd \"%s\" lo \"%s\"\n  encoded \"%s\"\n"
						      "  decoded po \"%s\" pd \"%s\" lo \"%s\"\n",
						      core ? "icinga2" : "nagios", is_host ? "host" : "service",
						      po, pd, lo, e, d.po, d.pd, d.lo);
				assert_string_equal(d.po, po);
				assert_string_equal(d.pd, pd);
				assert_string_equal(d.lo, host_drops ? "" : lo);
				assert_int_equal(alt, host_drops && lo[0]);
				free(e);
			}
	}
}

static void unbar(char *s)
{
	char *p;

	while ((p = strstr(s, "\xc2\xa6"))) {
		*p = '|';
		memmove(p + 1, p + 2, strlen(p + 2) + 1);
	}
}

/* Whatever the text, the core stores the plugin output, the perf data and
 * the long output each as it would if it had been sent alone: nothing
 * moves from one into another. */
static void decode_split_where_written(enum sd_core core, int is_host, const char *po, const char *pd,
				       const char *lo, int *bad)
{
	struct decoded d, dpo, dpd, dlo;
	int alt;
	char *e = extcmd_encode_output(core, is_host, po, pd, lo, &alt);
	char *epo = extcmd_encode_output(core, is_host, po, "", "", &alt);
	char *epd = extcmd_encode_output(core, is_host, "x", pd, "", &alt);
	char *elo = extcmd_encode_output(core, is_host, "x", "", lo, &alt);

	assert_true(e && epo && epd && elo);
	decode(core, is_host, e, &d);
	decode(core, is_host, epo, &dpo);      /* the plugin output alone */
	decode(core, is_host, epd, &dpd);      /* the perf data alone */
	decode(core, is_host, elo, &dlo);      /* the long output alone */
	/* a '|' may have to become U+00A6 in one context and not another */
	unbar(d.po);
	unbar(dpo.po);
	if (strcmp(d.po, dpo.po) || strcmp(d.pd, dpd.pd) || strcmp(d.lo, dlo.lo) || dpd.lo[0]) {
		if ((*bad)++ < 4)
			print_message("  %s %s: plugin output \"%s\", perf data \"%s\", long output \"%s\"\n"
				      "    sent \"%s\"\n    stored as plugin output \"%s\", perf data \"%s\", long output \"%s\"\n",
				      core ? "icinga2" : "nagios", is_host ? "host" : "service", po, pd, lo, e,
				      d.po, d.pd, d.lo);
	}
	free(e);
	free(epo);
	free(epd);
	free(elo);
}

static void encode_split_icinga(void **state)
{
	int bad = 0, is_host;

	for (is_host = 0; is_host < 2; is_host++) {
		decode_split_where_written(CORE_ICINGA2, is_host, "a | b", "load=1", "", &bad);
		decode_split_where_written(CORE_ICINGA2, is_host, "x|y=1", "z=2", "", &bad);
		decode_split_where_written(CORE_ICINGA2, is_host, "fine", "a=1\nb=2", "", &bad);
		decode_split_where_written(CORE_ICINGA2, is_host, "fine", "a=1", "l|x\nm", &bad);
	}
	assert_int_equal(bad, 0);
}

/* checkresult_encode_output (formats/checkresult.c) escapes a LF in the
 * plugin output and in the perf data as \n, as in the long output: Nagios
 * starts the long output there, so the rest of the perf data (or of the
 * first line) is stored as long output. The Icinga 2 encoder makes such a
 * LF a space and reports the text as altered. */
static void encode_split_nagios(void **state)
{
	int bad = 0, is_host;

	for (is_host = 0; is_host < 2; is_host++) {
		decode_split_where_written(CORE_NAGIOS, is_host, "a | b", "load=1", "", &bad);
		decode_split_where_written(CORE_NAGIOS, is_host, "x|y=1", "z=2|w", "l|x", &bad);
		decode_split_where_written(CORE_NAGIOS, is_host, "fine", "a=1\nb=2", "", &bad);
		decode_split_where_written(CORE_NAGIOS, is_host, "one\ntwo", "", "long", &bad);
	}
	assert_int_equal(bad, 0);
}

/* In the first line a CR or LF becomes a space, so the line goes on; but
 * icinga_bar_is_perf() (formats/extcmd.c) stops looking for '=' at the
 * CR/LF of the original text, and the '|' stays: Icinga 2 then cuts the
 * plugin output there. (A raw CR in plugin_output comes from Nagios
 * status.dat, docs/core-behaviour.md §8.) */
static void encode_icinga_bar_before_line_break(void **state)
{
	check_enc(CORE_ICINGA2, 0, "a|b\rc=1", "", "", "a\xc2\xa6" "b c=1", 1);
	check_enc(CORE_ICINGA2, 1, "a|b\nc=1", "", "", "a\xc2\xa6" "b c=1", 1);
	check_enc(CORE_ICINGA2, 0, "a|b\r\nc=1", "", "long", "a\xc2\xa6" "b  c=1\\nlong", 1);
}

static void builders(void **state)
{
	struct extcmd c = { 0 };
	int core;

	/* results: the same for both cores */
	assert_int_equal(extcmd_result(&c, TS, "web 01", "disk /var", 2, "CRIT|a=1;2"), 0);
	assert_string_equal(c.buf, "[1795000000] PROCESS_SERVICE_CHECK_RESULT;web 01;disk /var;2;CRIT|a=1;2");
	assert_int_equal(c.len, strlen(c.buf));
	assert_int_equal(extcmd_result(&c, TS, "web 01", NULL, 1, "DOWN"), 0);
	assert_string_equal(c.buf, "[1795000000] PROCESS_HOST_CHECK_RESULT;web 01;1;DOWN");
	assert_int_equal(extcmd_result(&c, 0, "h", NULL, 0, ""), 0);
	assert_string_equal(c.buf, "[0] PROCESS_HOST_CHECK_RESULT;h;0;");

	for (core = 0; core < 2; core++) {
		assert_int_equal(extcmd_remove_ack(&c, TS, "h", "s"), 0);
		assert_string_equal(c.buf, "[1795000000] REMOVE_SVC_ACKNOWLEDGEMENT;h;s");
		assert_int_equal(extcmd_remove_ack(&c, TS, "h", NULL), 0);
		assert_string_equal(c.buf, "[1795000000] REMOVE_HOST_ACKNOWLEDGEMENT;h");
		assert_int_equal(extcmd_del_downtime(&c, TS, 1, 17), 0);
		assert_string_equal(c.buf, "[1795000000] DEL_SVC_DOWNTIME;17");
		assert_int_equal(extcmd_del_downtime(&c, TS, 0, 5), 0);
		assert_string_equal(c.buf, "[1795000000] DEL_HOST_DOWNTIME;5");
		assert_int_equal(extcmd_del_comment(&c, TS, 1, 3), 0);
		assert_string_equal(c.buf, "[1795000000] DEL_SVC_COMMENT;3");
		assert_int_equal(extcmd_del_comment(&c, TS, 0, 4), 0);
		assert_string_equal(c.buf, "[1795000000] DEL_HOST_COMMENT;4");
	}

	/* acks: sticky as 2, normal as 0, no notification, persistent as asked */
	assert_int_equal(extcmd_ack(&c, CORE_NAGIOS, TS, "h", "s", 1, 0, "al;ice", "look; here\n[1] X"), 0);
	assert_string_equal(c.buf, "[1795000000] ACKNOWLEDGE_SVC_PROBLEM;h;s;2;0;0;al,ice;look; here [1] X");
	assert_int_equal(extcmd_ack(&c, CORE_ICINGA2, TS, "h", "s", 1, 1, "al;ice", "look; here\n[1] X"), 0);
	assert_string_equal(c.buf, "[1795000000] ACKNOWLEDGE_SVC_PROBLEM;h;s;2;0;1;al,ice;look; here [1] X");
	assert_int_equal(extcmd_ack(&c, CORE_NAGIOS, TS, "h", NULL, 0, 0, "", ""), 0);
	assert_string_equal(c.buf, "[1795000000] ACKNOWLEDGE_HOST_PROBLEM;h;0;0;0;;");
	assert_int_equal(extcmd_ack(&c, CORE_ICINGA2, TS, "h", NULL, 0, 0, "", ""), 0);
	assert_string_equal(c.buf, "[1795000000] ACKNOWLEDGE_HOST_PROBLEM;h;0;0;0;(unknown);(no comment)");
	assert_int_equal(extcmd_ack(&c, CORE_ICINGA2, TS, "h", NULL, 7, 0, "a", "b"), 0);
	assert_string_equal(c.buf, "[1795000000] ACKNOWLEDGE_HOST_PROBLEM;h;2;0;0;a;b");

	/* downtimes: trigger always 0; ';' in the comment only replaced for Nagios */
	assert_int_equal(extcmd_downtime(&c, CORE_NAGIOS, TS, "h", "s", 100, 200, 1, 100, "bob", "patch; reboot"), 0);
	assert_string_equal(c.buf, "[1795000000] SCHEDULE_SVC_DOWNTIME;h;s;100;200;1;0;100;bob;patch, reboot");
	assert_int_equal(extcmd_downtime(&c, CORE_ICINGA2, TS, "h", "s", 100, 200, 1, 100, "bob", "patch; reboot"), 0);
	assert_string_equal(c.buf, "[1795000000] SCHEDULE_SVC_DOWNTIME;h;s;100;200;1;0;100;bob;patch; reboot");
	assert_int_equal(extcmd_downtime(&c, CORE_NAGIOS, TS, "h", NULL, 100, 9000, 0, 600, "b;o\tb", ""), 0);
	assert_string_equal(c.buf, "[1795000000] SCHEDULE_HOST_DOWNTIME;h;100;9000;0;0;600;b,o b;");
	assert_int_equal(extcmd_downtime(&c, CORE_ICINGA2, TS, "h", NULL, 100, 9000, 5, 600, "", ""), 0);
	assert_string_equal(c.buf, "[1795000000] SCHEDULE_HOST_DOWNTIME;h;100;9000;1;0;600;(unknown);(no comment)");

	/* comments */
	assert_int_equal(extcmd_comment(&c, CORE_NAGIOS, TS, "h", "s", 1, "eve;1;injected", "real; comment\r\n"), 0);
	/* trailing spaces dropped: both cores strip them from the last field */
	assert_string_equal(c.buf, "[1795000000] ADD_SVC_COMMENT;h;s;1;eve,1,injected;real; comment");
	assert_int_equal(extcmd_comment(&c, CORE_ICINGA2, TS, "h", NULL, 0, "eve", "caf\xc3\xa9"), 0);
	assert_string_equal(c.buf, "[1795000000] ADD_HOST_COMMENT;h;0;eve;caf\xc3\xa9");
	assert_int_equal(extcmd_comment(&c, CORE_ICINGA2, TS, "h", NULL, 9, "", ""), 0);
	assert_string_equal(c.buf, "[1795000000] ADD_HOST_COMMENT;h;1;(unknown);(no comment)");

	/* the buffer is reused; reset empties it */
	extcmd_reset(&c);
	assert_int_equal(c.len, 0);
	assert_string_equal(c.buf, "");
	extcmd_free(&c);
	assert_null(c.buf);
	extcmd_free(&c);        /* twice is fine */
}

static void long_lines(void **state)
{
	struct extcmd c = { 0 };
	size_t n = 100000;
	char *big = malloc(n + 1);

	memset(big, 'x', n);
	big[n] = 0;
	assert_int_equal(extcmd_result(&c, TS, "h", "s", 0, big), 0);
	assert_int_equal(c.len, strlen("[1795000000] PROCESS_SERVICE_CHECK_RESULT;h;s;0;") + n);
	assert_int_equal(c.len, strlen(c.buf));
	assert_int_equal(extcmd_comment(&c, CORE_NAGIOS, TS, "h", "s", 0, big, big), 0);
	assert_int_equal(c.len, strlen(c.buf));
	assert_int_equal(extcmd_del_comment(&c, TS, 0, 1), 0);
	assert_string_equal(c.buf, "[1795000000] DEL_HOST_COMMENT;1");
	extcmd_free(&c);
	free(big);
}

static int parse(const char *line, int max, long long *ts, char **f, char *copy, size_t cap, sd_error *err)
{
	snprintf(copy, cap, "%s", line);
	return extcmd_parse(copy, ts, f, max, err);
}

static void parser(void **state)
{
	char buf[512], *f[16];
	long long ts = -1;
	sd_error err = { "" };

	assert_int_equal(parse("[1795000000] PROCESS_SERVICE_CHECK_RESULT;h;s;2;out;put", 5, &ts, f, buf, sizeof(buf), &err), 5);
	assert_true(ts == TS);
	assert_string_equal(f[0], "PROCESS_SERVICE_CHECK_RESULT");
	assert_string_equal(f[1], "h");
	assert_string_equal(f[2], "s");
	assert_string_equal(f[3], "2");
	assert_string_equal(f[4], "out;put");          /* the last field keeps its ';' */
	assert_int_equal(parse("[1795000000] PROCESS_SERVICE_CHECK_RESULT;h;s;2;out;put", 16, &ts, f, buf, sizeof(buf), &err), 6);
	assert_int_equal(parse("[0] DISABLE_NOTIFICATIONS", 16, &ts, f, buf, sizeof(buf), &err), 1);
	assert_true(ts == 0);
	assert_string_equal(f[0], "DISABLE_NOTIFICATIONS");
	assert_int_equal(parse("[1] A;;", 16, &ts, f, buf, sizeof(buf), &err), 3);
	assert_string_equal(f[1], "");
	assert_string_equal(f[2], "");
	assert_int_equal(parse("[1] A;b;c;d", 1, &ts, f, buf, sizeof(buf), &err), 1);
	assert_string_equal(f[0], "A;b;c;d");
	assert_int_equal(parse("[123456789012345678] A", 4, &ts, f, buf, sizeof(buf), &err), 1);
	assert_true(ts == 123456789012345678LL);
}

static void parser_hostile(void **state)
{
	static const char *const bad[] = {
		"", "PROCESS_HOST_CHECK_RESULT;h;0;x", " [1] A", "[", "[]", "[] A", "[x] A", "[-1] A",
		"[+1] A", "[ 1] A", "[1 ] A", "[1]A", "[1]", "[1] ", "[1] ;A", "[1]\tA",
		"[1234567890123456789] A", "[99999999999999999999999] A",
		"[1] A;b\n[2] SHUTDOWN_PROGRAM", "[1] A\n", "[1] A\r", "\n[1] A", "[1] A;\rb",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char buf[128], *f[8];
		long long ts = 0;
		sd_error err = { "" };
		int n = parse(bad[i], 8, &ts, f, buf, sizeof(buf), &err);
		if (n != -1)
			print_message("accepted: \"%s\" (%d fields)\n", bad[i], n);
		assert_int_equal(n, -1);
		assert_true(err.msg[0] != 0);
	}
	{
		char buf[] = "[1] A", *f[1];
		long long ts;
		sd_error err = { "" };
		assert_int_equal(extcmd_parse(buf, &ts, f, 0, &err), -1);
	}
}

/* ---- injection property ---- */

static unsigned seed = 4711;

static unsigned rnd(unsigned k)
{
	seed = seed * 1103515245u + 12345u;
	return (seed >> 8) % k;
}

static const char *const pieces[] = {
	"\n[1795000000] SHUTDOWN_PROGRAM", "\r", "\r\n", "\n", ";", ";;", "|", "|a=1", "=", "\\", "\\n",
	"\\\\n", "\t", "\x01", "\x1f", "\x7f", "\xc3\xa4", "\xe2\x82\xac", "\xff", "\xc3", " ", "[1] ",
	"DISABLE_NOTIFICATIONS", "(unknown)", "x", "ok",
};

static void random_text(char *buf, size_t cap)
{
	size_t n = 0, want = rnd(6) == 0 ? 0 : rnd((unsigned)cap / 8);

	while (n < want) {
		if (rnd(3) == 0) {
			buf[n++] = (char)(rnd(255) + 1);       /* any byte but NUL */
		} else {
			const char *p = pieces[rnd(sizeof(pieces) / sizeof(pieces[0]))];
			size_t l = strlen(p);
			if (n + l >= cap - 1)
				break;
			memcpy(buf + n, p, l);
			n += l;
		}
	}
	buf[n] = 0;
}

static void random_name(char *buf, size_t cap)
{
	do {
		random_text(buf, cap);
	} while (extcmd_name_problem(buf));
}

struct viol {
	const char *what;
	int count;
	char example[300];
};

static void note(struct viol *v, const char *what, const char *line)
{
	size_t i, o = 0;

	if (!v->count++) {
		v->what = what;
		for (i = 0; line[i] && o < sizeof(v->example) - 5; i++) {
			unsigned char ch = (unsigned char)line[i];
			if (ch < 0x20 || ch >= 0x7f)
				o += (size_t)snprintf(v->example + o, sizeof(v->example) - o, "\\x%02x", ch);
			else
				v->example[o++] = (char)ch;
		}
		v->example[o] = 0;
	}
}

/* The line must be one line and split back into exactly `nf` fields, the
 * verb first and `expect` (NULL = not checked) for the others. */
static void check_line(struct viol *v, const struct extcmd *c, const char *verb, int nf, const char *const *expect)
{
	char *copy = strdup(c->buf), *f[24];
	long long ts = -1;
	sd_error err = { "" };
	int n, i;

	assert_non_null(copy);
	if (strpbrk(c->buf, "\n\r")) {
		note(v, "line break in the command", c->buf);
		free(copy);
		return;
	}
	n = extcmd_parse(copy, &ts, f, nf, &err);
	if (n != nf || ts != TS || strcmp(f[0], verb)) {
		note(v, "does not split back", c->buf);
	} else {
		for (i = 1; i < nf; i++)
			if (expect[i] && strcmp(f[i], expect[i])) {
				note(v, "a field differs", c->buf);
				break;
			}
		/* with room for more, still no field beyond those we wrote but in the last */
		strcpy(copy, c->buf);
		n = extcmd_parse(copy, &ts, f, 24, &err);
		if (n < nf)
			note(v, "fewer fields than written", c->buf);
	}
	free(copy);
}

enum { V_RESULT_N, V_RESULT_I, V_ACK, V_DOWNTIME, V_COMMENT, V_OTHER, V_N };

static void injection_run(int rounds, struct viol *v)
{
	struct extcmd c = { 0 };
	int r, core, svc, pers;

	for (r = 0; r < rounds; r++) {
		char host[64], desc[64], po[200], pd[120], lo[300], author[120], comment[200];
		random_name(host, sizeof(host));
		random_name(desc, sizeof(desc));
		random_text(po, sizeof(po));
		random_text(pd, sizeof(pd));
		random_text(lo, sizeof(lo));
		random_text(author, sizeof(author));
		random_text(comment, sizeof(comment));
		for (core = 0; core < 2; core++)
		for (svc = 0; svc < 2; svc++) {
			const char *s = svc ? desc : NULL;
			const char *e[12];
			char *out, *ca, *cc, *cdc, nb[32];
			int alt, k = 0;

			out = extcmd_encode_output(core, !svc, po, pd, lo, &alt);
			ca = extcmd_clean_author(core, author, NULL);
			cc = extcmd_clean_comment(core, comment, 0, NULL);
			cdc = extcmd_clean_comment(core, comment, 1, NULL);
			assert_true(out && ca && cc && cdc);

			assert_int_equal(extcmd_result(&c, TS, host, s, 2, out), 0);
			e[k = 0] = NULL; e[++k] = host; if (svc) e[++k] = desc; e[++k] = "2"; e[++k] = out;
			check_line(&v[core == CORE_NAGIOS ? V_RESULT_N : V_RESULT_I], &c,
				   svc ? "PROCESS_SERVICE_CHECK_RESULT" : "PROCESS_HOST_CHECK_RESULT", k + 1, e);

			pers = (int)rnd(2);
			assert_int_equal(extcmd_ack(&c, core, TS, host, s, (int)rnd(2), pers, author, comment), 0);
			e[k = 0] = NULL; e[++k] = host; if (svc) e[++k] = desc; e[++k] = NULL; e[++k] = "0";
			e[++k] = pers ? "1" : "0";
			e[++k] = ca; e[++k] = cc;
			check_line(&v[V_ACK], &c, svc ? "ACKNOWLEDGE_SVC_PROBLEM" : "ACKNOWLEDGE_HOST_PROBLEM", k + 1, e);

			assert_int_equal(extcmd_downtime(&c, core, TS, host, s, 100, 200, (int)rnd(2), 100, author, comment), 0);
			e[k = 0] = NULL; e[++k] = host; if (svc) e[++k] = desc; e[++k] = "100"; e[++k] = "200"; e[++k] = NULL;
			e[++k] = "0"; e[++k] = "100"; e[++k] = ca; e[++k] = cdc;
			check_line(&v[V_DOWNTIME], &c, svc ? "SCHEDULE_SVC_DOWNTIME" : "SCHEDULE_HOST_DOWNTIME", k + 1, e);
			/* Nagios reads the downtime comment up to the next ';' (strtok) */
			if (core == CORE_NAGIOS && strchr(cdc, ';'))
				note(&v[V_DOWNTIME], "';' in a Nagios downtime comment", c.buf);

			assert_int_equal(extcmd_comment(&c, core, TS, host, s, (int)rnd(2), author, comment), 0);
			e[k = 0] = NULL; e[++k] = host; if (svc) e[++k] = desc; e[++k] = NULL; e[++k] = ca; e[++k] = cc;
			check_line(&v[V_COMMENT], &c, svc ? "ADD_SVC_COMMENT" : "ADD_HOST_COMMENT", k + 1, e);

			assert_int_equal(extcmd_remove_ack(&c, TS, host, s), 0);
			e[k = 0] = NULL; e[++k] = host; if (svc) e[++k] = desc;
			check_line(&v[V_OTHER], &c, svc ? "REMOVE_SVC_ACKNOWLEDGEMENT" : "REMOVE_HOST_ACKNOWLEDGEMENT", k + 1, e);
			snprintf(nb, sizeof(nb), "%u", rnd(100000));
			assert_int_equal(extcmd_del_downtime(&c, TS, svc, atoll(nb)), 0);
			e[0] = NULL; e[1] = nb;
			check_line(&v[V_OTHER], &c, svc ? "DEL_SVC_DOWNTIME" : "DEL_HOST_DOWNTIME", 2, e);
			assert_int_equal(extcmd_del_comment(&c, TS, svc, atoll(nb)), 0);
			check_line(&v[V_OTHER], &c, svc ? "DEL_SVC_COMMENT" : "DEL_HOST_COMMENT", 2, e);

			free(out);
			free(ca);
			free(cc);
			free(cdc);
		}
	}
	extcmd_free(&c);
}

/* Hostile texts: nothing moves between plugin output, perf data and long
 * output (for Nagios, plugin output and perf data without line breaks: see
 * encode_split_nagios; for Icinga 2, perf data has a '=' or is not perf data). */
static void encode_split_random(void **state)
{
	int i, core, is_host, bad = 0;

	seed = 99;
	for (i = 0; i < 20000; i++) {
		char po[200], pd[120], lo[300];
		random_text(po, sizeof(po));
		random_text(pd, sizeof(pd));
		random_text(lo, sizeof(lo));
		for (core = 0; core < 2; core++)
			for (is_host = 0; is_host < 2; is_host++) {
				char p1[200], p2[120];
				strcpy(p1, po);
				strcpy(p2, pd);
				if (core == CORE_NAGIOS) {
					p1[strcspn(p1, "\n")] = 0;
					p2[strcspn(p2, "\n")] = 0;
				} else if (!strchr(p2, '=')) {
					p2[0] = 0;      /* not perf data for Icinga 2 at all */
				}
				decode_split_where_written(core, is_host, p1, p2, lo, &bad);
			}
	}
	assert_int_equal(bad, 0);
}

static const char *const vnames[V_N] = {
	"PROCESS_*_CHECK_RESULT (Nagios output)", "PROCESS_*_CHECK_RESULT (Icinga 2 output)",
	"ACKNOWLEDGE_*", "SCHEDULE_*_DOWNTIME", "ADD_*_COMMENT", "REMOVE_*/DEL_*",
};

static int report(struct viol *v, int from, int to)
{
	int i, bad = 0;

	for (i = from; i < to; i++)
		if (v[i].count) {
			print_message("  %s: %d lines: %s, e.g. \"%s\"\n", vnames[i], v[i].count, v[i].what, v[i].example);
			bad += v[i].count;
		}
	return bad;
}

static void injection_property(void **state)
{
	struct viol v[V_N];

	memset(v, 0, sizeof(v));
	seed = 4711;
	injection_run(3000, v);
	/* everything but the Nagios result output, which has its own test */
	assert_int_equal(report(v, V_RESULT_I, V_N), 0);
}

/* checkresult_encode_output (used for Nagios by extcmd_encode_output)
 * escapes '\' and LF but passes CR through: the result command then holds
 * a raw CR, which docs/core-behaviour.md §6 (NUL, CR and LF never go out
 * raw in any field) and extcmd.h ("a command is always exactly one line")
 * rule out. */
static void nagios_result_has_no_cr(void **state)
{
	struct viol v[V_N];
	struct extcmd c = { 0 };
	int alt, i, bad = 0;
	char *out;
	static const char *const texts[][4] = {
		{ "first\rsecond", "", "", "plugin output" },
		{ "ok", "a=1\r", "", "perf data" },
		{ "ok", "", "l1\r\nl2", "long output" },
	};

	for (i = 0; i < 3; i++) {
		out = extcmd_encode_output(CORE_NAGIOS, 0, texts[i][0], texts[i][1], texts[i][2], &alt);
		assert_int_equal(extcmd_result(&c, TS, "h", "s", 2, out), 0);
		if (strchr(c.buf, '\r')) {
			print_message("  raw CR from the %s\n", texts[i][3]);
			bad++;
		}
		free(out);
	}
	extcmd_free(&c);
	memset(v, 0, sizeof(v));
	seed = 4711;
	injection_run(3000, v);
	bad += report(v, V_RESULT_N, V_RESULT_N + 1);
	assert_int_equal(bad, 0);
}

/* ---- limits (extcmd.h): at, over, and multi-byte UTF-8 across the cut ---- */

static char *filled(size_t n, char ch)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memset(s, ch, n);
	s[n] = 0;
	return s;
}

static void cut_utf8(void **state)
{
	int cut = -1;

	assert_int_equal(extcmd_cut_len("", 0, &cut), 0);
	assert_int_equal(cut, 0);
	assert_int_equal(extcmd_cut_len("abc", 3, &cut), 3);           /* exactly the limit */
	assert_int_equal(cut, 0);
	assert_int_equal(extcmd_cut_len("abcd", 3, &cut), 3);          /* limit + 1 */
	assert_int_equal(cut, 1);
	assert_int_equal(extcmd_cut_len("abcd", 3, NULL), 3);
	/* a 2-byte character (U+00E4) across the cut is left out whole */
	assert_int_equal(extcmd_cut_len("ab\xc3\xa4", 3, &cut), 2);
	assert_int_equal(cut, 1);
	assert_int_equal(extcmd_cut_len("ab\xc3\xa4", 4, &cut), 4);
	assert_int_equal(cut, 0);
	/* 3 bytes (U+20AC) and 4 bytes (U+1F600), cut after each of their bytes */
	assert_int_equal(extcmd_cut_len("a\xe2\x82\xac", 1, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xe2\x82\xac", 2, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xe2\x82\xac", 3, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xe2\x82\xac" "b", 4, NULL), 4);
	assert_int_equal(extcmd_cut_len("a\xf0\x9f\x98\x80", 2, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xf0\x9f\x98\x80", 3, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xf0\x9f\x98\x80", 4, NULL), 1);
	assert_int_equal(extcmd_cut_len("a\xf0\x9f\x98\x80" "b", 5, NULL), 5);
	assert_int_equal(extcmd_cut_len("\xf0\x9f\x98\x80", 3, NULL), 0);
	/* not UTF-8 (continuation bytes only): cut at the limit, nothing lost beyond */
	assert_int_equal(extcmd_cut_len("\x80\x80\x80\x80\x80\x80", 5, NULL), 5);
}

static void name_limit(void **state)
{
	char *n = filled(EXTCMD_NAME_MAX + 1, 'n');

	n[EXTCMD_NAME_MAX] = 0;
	assert_null(extcmd_name_problem(n));                            /* 255 */
	n[EXTCMD_NAME_MAX] = 'n';
	assert_non_null(strstr(extcmd_name_problem(n), "longer than 255 bytes"));  /* 256 */
	/* bytes, not characters: 127 two-byte characters and one byte */
	memset(n, 0, EXTCMD_NAME_MAX + 2);
	while (strlen(n) < 254)
		strcat(n, "\xc3\xa4");
	strcat(n, "x");
	assert_null(extcmd_name_problem(n));
	strcat(n, "y");
	assert_non_null(extcmd_name_problem(n));
	free(n);
}

/* cut is read after the call that sets it (not as an argument beside it) */
static void check_cut(char *got, const int *cut, size_t want_len, int want_cut)
{
	assert_non_null(got);
	assert_int_equal(strlen(got), want_len);
	assert_int_equal(*cut, want_cut);
	free(got);
}

static void text_limits(void **state)
{
	char *a = filled(EXTCMD_AUTHOR_MAX + 1, 'a'), *c = filled(EXTCMD_COMMENT_MAX + 1, 'c'), *again;
	int cut, core, dt;

	for (core = 0; core < 2; core++) {
		a[EXTCMD_AUTHOR_MAX] = 0;
		check_cut(extcmd_clean_author(core, a, &cut), &cut, EXTCMD_AUTHOR_MAX, 0);
		a[EXTCMD_AUTHOR_MAX] = 'a';
		check_cut(extcmd_clean_author(core, a, &cut), &cut, EXTCMD_AUTHOR_MAX, 1);
		memcpy(a + EXTCMD_AUTHOR_MAX - 1, "\xc3\xa4", 2);     /* across the cut */
		check_cut(extcmd_clean_author(core, a, &cut), &cut, EXTCMD_AUTHOR_MAX - 1, 1);
		memset(a, 'a', EXTCMD_AUTHOR_MAX + 1);
		for (dt = 0; dt < 2; dt++) {
			c[EXTCMD_COMMENT_MAX] = 0;
			check_cut(extcmd_clean_comment(core, c, dt, &cut), &cut, EXTCMD_COMMENT_MAX, 0);
			c[EXTCMD_COMMENT_MAX] = 'c';
			check_cut(extcmd_clean_comment(core, c, dt, &cut), &cut, EXTCMD_COMMENT_MAX, 1);
			memcpy(c + EXTCMD_COMMENT_MAX - 2, "\xe2\x82\xac", 3);
			check_cut(extcmd_clean_comment(core, c, dt, &cut), &cut, EXTCMD_COMMENT_MAX - 2, 1);
			/* a space before the cut is dropped with the rest: the cores
			 * strip a trailing space and the next import must match */
			c[EXTCMD_COMMENT_MAX - 3] = ' ';
			c[EXTCMD_COMMENT_MAX - 4] = '\n';
			check_cut(extcmd_clean_comment(core, c, dt, &cut), &cut, EXTCMD_COMMENT_MAX - 4, 1);
			/* cleaning what was cleaned changes nothing (sent == compared) */
			again = extcmd_clean_comment(core, c, dt, NULL);
			check_clean(extcmd_clean_comment(core, again, dt, &cut), again);
			assert_int_equal(cut, 0);
			free(again);
			memset(c, 'c', EXTCMD_COMMENT_MAX + 1);
		}
	}
	check_clean(extcmd_clean_comment(CORE_ICINGA2, " \n ", 0, NULL), "(no comment)");
	check_clean(extcmd_clean_comment(CORE_NAGIOS, "x \r\n", 1, NULL), "x");
	free(a);
	free(c);
}

static void output_limits(void **state)
{
	char *po = filled(EXTCMD_OUTPUT_MAX + 1, 'o'), *pd = filled(EXTCMD_PERF_MAX + 1, 'p');
	char *lo = filled(EXTCMD_LONG_OUTPUT_MAX + 1, 'l'), *e;
	unsigned cut;
	int alt, core;

	for (core = 0; core < 2; core++) {
		po[EXTCMD_OUTPUT_MAX] = pd[EXTCMD_PERF_MAX] = lo[EXTCMD_LONG_OUTPUT_MAX] = 0;
		pd[0] = '=';    /* perf data for Icinga */
		assert_non_null(e = extcmd_encode_result(core, 0, po, pd, lo, &alt, &cut));
		assert_int_equal(cut, 0);
		assert_int_equal(strlen(e), EXTCMD_OUTPUT_MAX + 1 + EXTCMD_PERF_MAX + 2 + EXTCMD_LONG_OUTPUT_MAX);
		free(e);
		po[EXTCMD_OUTPUT_MAX] = 'o';
		assert_non_null(e = extcmd_encode_result(core, 0, po, pd, lo, &alt, &cut));
		assert_int_equal(cut, EXTCMD_CUT_OUTPUT);
		free(e);
		pd[EXTCMD_PERF_MAX] = 'p';
		lo[EXTCMD_LONG_OUTPUT_MAX] = 'l';
		assert_non_null(e = extcmd_encode_result(core, 0, po, pd, lo, &alt, &cut));
		assert_int_equal(cut, EXTCMD_CUT_OUTPUT | EXTCMD_CUT_PERF | EXTCMD_CUT_LONG);
		assert_int_equal(strlen(e), EXTCMD_OUTPUT_MAX + 1 + EXTCMD_PERF_MAX + 2 + EXTCMD_LONG_OUTPUT_MAX);
		free(e);
		/* the encoded-only entry point cuts the same way */
		assert_non_null(e = extcmd_encode_output(core, 0, po, "", "", &alt));
		assert_int_equal(strlen(e), EXTCMD_OUTPUT_MAX);
		free(e);
		/* a character across the cut; the escapes of a cut text stay whole */
		memcpy(po + EXTCMD_OUTPUT_MAX - 1, "\xc3\xa4", 2);
		assert_non_null(e = extcmd_encode_result(core, 0, po, "", "", &alt, &cut));
		assert_int_equal(strlen(e), EXTCMD_OUTPUT_MAX - 1);
		free(e);
		po[EXTCMD_OUTPUT_MAX - 1] = '\\';     /* the last byte kept: a backslash */
		po[EXTCMD_OUTPUT_MAX] = 'n';
		assert_non_null(e = extcmd_encode_result(core, 0, po, "", "x", &alt, &cut));
		/* Nagios doubles it; for Icinga a lone backslash before the
		 * long output's \n stays a backslash (only backslash-n unescapes) */
		assert_string_equal(e + EXTCMD_OUTPUT_MAX - 1, core == CORE_NAGIOS ? "\\\\\\nx" : "\\\\nx");
		free(e);
		memset(po, 'o', EXTCMD_OUTPUT_MAX + 1);
	}
	free(po);
	free(pd);
	free(lo);
}

static void time_limits(void **state)
{
	/* { start, end, duration } in, out, and the bits */
	static const long long t[][7] = {
		{ 0, 1795003600, 0, EXTCMD_TIME_MIN, 1795003600, 0, EXTCMD_CLAMP_START },
		{ -1, 1795003600, -1, EXTCMD_TIME_MIN, 1795003600, 0, EXTCMD_CLAMP_START | EXTCMD_CLAMP_DURATION },
		{ EXTCMD_TIME_MIN, EXTCMD_TIME_MAX, EXTCMD_TIME_MAX, EXTCMD_TIME_MIN, EXTCMD_TIME_MAX, EXTCMD_TIME_MAX, 0 },
		{ 1794999940, 2147483648LL, 0, 1794999940, EXTCMD_TIME_MAX, 0, EXTCMD_CLAMP_END },
		{ 1794999940, 8000000000000000LL, 8000000000000000LL, 1794999940, EXTCMD_TIME_MAX, EXTCMD_TIME_MAX,
		  EXTCMD_CLAMP_END | EXTCMD_CLAMP_DURATION },
		{ 1794999940, 10382734800LL, 600, 1794999940, EXTCMD_TIME_MAX, 600, EXTCMD_CLAMP_END },   /* 2300 */
		{ 2147483648LL, 10382734800LL, 600, EXTCMD_TIME_MAX, EXTCMD_TIME_MAX, 600,
		  EXTCMD_CLAMP_START | EXTCMD_CLAMP_END },                       /* start >= end: the caller refuses */
		{ 1794999940, -1, 0, 1794999940, -1, 0, 0 },                     /* over: the caller skips it */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		long long s = t[i][0], e = t[i][1], d = t[i][2];
		unsigned k = extcmd_clamp_downtime(&s, &e, &d);
		assert_true(s == t[i][3] && e == t[i][4] && d == t[i][5]);
		assert_int_equal(k, (unsigned)t[i][6]);
		/* clamped values stay as they are */
		assert_int_equal(extcmd_clamp_downtime(&s, &e, &d), 0);
	}
}

/* The builder lowers what no core stores: a 2300 end is never sent. */
static void downtime_builder_clamps(void **state)
{
	struct extcmd c = { 0 };

	assert_int_equal(extcmd_downtime(&c, CORE_ICINGA2, TS, "h", "s", 1794999940, 10382734800LL, 0,
					 8000000000000000LL, "a", "b"), 0);
	assert_string_equal(c.buf, "[1795000000] SCHEDULE_SVC_DOWNTIME;h;s;1794999940;2147483647;0;0;2147483647;a;b");
	extcmd_free(&c);
}

/* The reason for the name, author and comment limits: the longest ack,
 * comment or downtime command fits one atomic FIFO write (PIPE_BUF). */
static void longest_command_under_pipe_buf(void **state)
{
	char *name = filled(EXTCMD_NAME_MAX, 'n'), *author = filled(10000, 'a'), *comment = filled(100000, 'c');
	struct extcmd c = { 0 };
	size_t longest = 0;
	int core;

	for (core = 0; core < 2; core++) {
		assert_int_equal(extcmd_ack(&c, core, 9999999999LL, name, name, 1, 1, author, comment), 0);
		longest = c.len > longest ? c.len : longest;
		assert_int_equal(extcmd_comment(&c, core, 9999999999LL, name, name, 1, author, comment), 0);
		longest = c.len > longest ? c.len : longest;
		assert_int_equal(extcmd_downtime(&c, core, 9999999999LL, name, name, EXTCMD_TIME_MAX - 1, EXTCMD_TIME_MAX,
						 0, EXTCMD_TIME_MAX, author, comment), 0);
		longest = c.len > longest ? c.len : longest;
	}
	print_message("  longest ack/comment/downtime command: %zu bytes\n", longest);
	assert_true(longest < 4096);
	extcmd_free(&c);
	free(name);
	free(author);
	free(comment);
}

/* 64 MiB texts: what is read of them is bounded by the limit. */
static void huge_texts_fast(void **state)
{
	size_t n = 64u << 20;
	char *big = filled(n, 'x'), *t;
	struct timespec t0, t1;
	unsigned cut;
	int alt, c;
	double s;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_non_null(t = extcmd_clean_comment(CORE_ICINGA2, big, 1, &c));
	assert_int_equal(strlen(t), EXTCMD_COMMENT_MAX);
	free(t);
	assert_non_null(t = extcmd_clean_author(CORE_NAGIOS, big, &c));
	free(t);
	assert_non_null(t = extcmd_encode_result(CORE_ICINGA2, 0, big, big, big, &alt, &cut));
	free(t);
	assert_non_null(t = extcmd_encode_result(CORE_NAGIOS, 0, big, big, big, &alt, &cut));
	free(t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("  cleaning and encoding 64 MiB texts: %.4f s\n", s);
	assert_true(s < 0.5);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(name_problem),
		cmocka_unit_test(clean_texts),
		cmocka_unit_test(encode_nagios),
		cmocka_unit_test(encode_icinga),
		cmocka_unit_test(decode_round_trip),
		cmocka_unit_test(encode_icinga_bar_before_perfdata),
		cmocka_unit_test(encode_icinga_bar_before_line_break),
		cmocka_unit_test(encode_split_icinga),
		cmocka_unit_test(encode_split_nagios),
		cmocka_unit_test(encode_split_random),
		cmocka_unit_test(builders),
		cmocka_unit_test(long_lines),
		cmocka_unit_test(parser),
		cmocka_unit_test(parser_hostile),
		cmocka_unit_test(injection_property),
		cmocka_unit_test(nagios_result_has_no_cr),
		cmocka_unit_test(cut_utf8),
		cmocka_unit_test(name_limit),
		cmocka_unit_test(text_limits),
		cmocka_unit_test(output_limits),
		cmocka_unit_test(time_limits),
		cmocka_unit_test(downtime_builder_clamps),
		cmocka_unit_test(longest_command_under_pipe_buf),
		cmocka_unit_test(huge_texts_fast),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
