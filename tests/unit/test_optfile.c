/* test_optfile.c - options from an INI file (src/base/optfile.c): what
 * becomes an option, what is refused with its line, hostile files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/optfile.h"

static const struct option opts[] = {
	{ "trust", required_argument, 0, 1 },
	{ "livestatus", required_argument, 0, 2 },
	{ "dry-run", no_argument, 0, 3 },
	{ "quiet", no_argument, 0, 4 },
	{ "help", no_argument, 0, 'h' },
	{ 0, 0, 0, 0 },
};

/* merge text before argv (NULL-terminated); returns the joined argv with
 * '|' between, or NULL with err */
static char *merge(const char *text, char **argv, sd_error *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	char **nv, *out;
	int argc = 0, n, i;
	size_t len = 1;

	while (argv[argc])
		argc++;
	assert_non_null(f);
	if (optfile_merge_fp(f, "t.conf", "siteload", opts, argc, argv, &n, &nv, err) < 0) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	assert_null(nv[n]);
	for (i = 0; i < n; i++)
		len += strlen(nv[i]) + 1;
	out = calloc(1, len);
	for (i = 0; i < n; i++) {
		strcat(out, nv[i]);
		if (i + 1 < n)
			strcat(out, "|");
	}
	optfile_free(n, nv);
	return out;
}

/* keys before any section and in the tool's own become options in front
 * of the command line's; the other tool's section is skipped; switches
 * take yes/no */
static void options_in_front(void **state)
{
	char *argv[] = { "siteload", "--trust", "/cli", "b.tar.gz", NULL };
	sd_error err = { "" };
	char *s = merge("; comment\ntrust = /etc/sitedump/trust\n[sitedump]\nlivestatus = unix:/no\n"
			"[siteload]\nlivestatus = unix:/run/live\ndry-run = yes\nquiet = off\n", argv, &err);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s, "siteload|--trust=/etc/sitedump/trust|--livestatus=unix:/run/live|--dry-run|"
			       "--trust|/cli|b.tar.gz");
	free(s);
}

/* an unknown key, a switch with a value, a line that is no INI line, help:
 * refused, the file and line named */
static void refused_with_line(void **state)
{
	char *argv[] = { "siteload", NULL };
	sd_error err = { "" };

	(void)state;
	assert_null(merge("trust = x\nlivestatsu = y\n", argv, &err));
	assert_string_equal(err.msg, "t.conf:2: unknown option 'livestatsu'");
	assert_null(merge("\n\ndry-run = maybe\n", argv, &err));
	assert_string_equal(err.msg, "t.conf:3: 'dry-run' is a switch: yes or no, not 'maybe'");
	assert_null(merge("trust\n", argv, &err));
	assert_string_equal(err.msg, "t.conf:1: not a line of an INI file (key = value, [section])");
	assert_null(merge("[siteload]\nhelp = yes\n", argv, &err));
	assert_string_equal(err.msg, "t.conf:2: unknown option 'help'");
}

/* hostile: NUL bytes, a very long line, a value with '=' and newlines in
 * an option's value cannot happen (one line each), control characters
 * pass as text to the tool's own checks */
static void hostile(void **state)
{
	char *argv[] = { "siteload", NULL };
	sd_error err = { "" };
	char big[70000], *s;

	(void)state;
	s = merge("trust = a=b=c\n", argv, &err);
	assert_non_null(s);
	assert_string_equal(s, "siteload|--trust=a=b=c");
	free(s);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	memcpy(big, "trust = ", 8);
	s = merge(big, argv, &err);
	/* inih cuts a line at its buffer: either an option or a refusal, never a crash */
	if (s)
		assert_true(strncmp(s, "siteload|--trust=aaa", 20) == 0);
	free(s);
	{
		static const char nul[] = "trust = x\0y\nquiet = yes\n";
		FILE *f = fmemopen((void *)nul, sizeof(nul) - 1, "r");
		char **nv;
		int n;
		if (optfile_merge_fp(f, "t.conf", "siteload", opts, 1, argv, &n, &nv, &err) == 0)
			optfile_free(n, nv);
		fclose(f);
	}
}

/* --OPT FILE and --OPT=FILE taken out of argv; a default only if it exists */
static void pick(void **state)
{
	char *a1[] = { "siteload", "--config-dir", "/d", "--config", "/x.conf", "b", NULL };
	char *a2[] = { "siteload", "--config=/y.conf", NULL };
	char *a3[] = { "siteload", "b", NULL };
	char *a4[] = { "siteload", "--config", NULL };
	const char *p;
	sd_error err = { "" };
	int n = 6;

	(void)state;
	assert_int_equal(optfile_pick("config", &n, a1, "/nonexistent", &p, &err), 0);
	assert_string_equal(p, "/x.conf");
	assert_int_equal(n, 4);
	assert_string_equal(a1[3], "b");
	assert_null(a1[4]);
	n = 2;
	assert_int_equal(optfile_pick("config", &n, a2, NULL, &p, &err), 0);
	assert_string_equal(p, "/y.conf");
	assert_int_equal(n, 1);
	n = 2;
	assert_int_equal(optfile_pick("config", &n, a3, "/nonexistent.conf", &p, &err), 0);
	assert_null(p);
	assert_int_equal(optfile_pick("config", &n, a3, "/dev/null", &p, &err), 0);
	assert_string_equal(p, "/dev/null");
	n = 2;
	assert_int_equal(optfile_pick("config", &n, a4, NULL, &p, &err), -1);
	assert_string_equal(err.msg, "--config: a file name is missing");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(options_in_front),
		cmocka_unit_test(refused_with_line),
		cmocka_unit_test(hostile),
		cmocka_unit_test(pick),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
