/* test_nagios_cfg.c - the paths siteload takes from nagios.cfg / naemon.cfg
 * (formats/nagios_cfg.c): Debian's layout, the core's line rules, relative
 * paths, and hostile files refused with their line. */
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/nagios_cfg.h"

static int parse(const char *text, const char *name, struct nagios_cfg *c, sd_error *err)
{
	return nagios_cfg_parse(text, strlen(text), name, c, err);
}

/* Debian 12's nagios4: two cfg_dir lines, the plugins' first */
static void debian(void **state)
{
	struct nagios_cfg c;
	sd_error err = { "" };

	assert_int_equal(parse("# NAGIOS.CFG\n\nlog_file=/var/log/nagios4/nagios.log\n"
			       "cfg_dir=/etc/nagios-plugins/config\ncfg_dir=/etc/nagios4/conf.d\n"
			       "object_cache_file=/var/lib/nagios4/objects.cache\n"
			       "status_file=/var/lib/nagios4/status.dat\n"
			       "command_file=/var/lib/nagios4/rw/nagios.cmd\n"
			       "check_result_path=/var/lib/nagios4/spool/checkresults\n"
			       "illegal_macro_output_chars=`~$&|'\"<>\n", "/etc/nagios4/nagios.cfg", &c, &err), 0);
	assert_string_equal(c.command_file, "/var/lib/nagios4/rw/nagios.cmd");
	assert_string_equal(c.check_result_path, "/var/lib/nagios4/spool/checkresults");
	assert_string_equal(c.status_file, "/var/lib/nagios4/status.dat");
	assert_string_equal(c.object_cache_file, "/var/lib/nagios4/objects.cache");
	assert_int_equal(c.n_cfg_dirs, 2);
	assert_string_equal(c.cfg_dirs[0], "/etc/nagios-plugins/config");
	assert_string_equal(c.cfg_dirs[1], "/etc/nagios4/conf.d");
	assert_null(c.cfg_dirs[2]);
	nagios_cfg_free(&c);
	nagios_cfg_free(NULL);
}

/* blanks around key and value, the last of a key wins, a backslash
 * continues a line, relative paths from the file's directory (or
 * config_rel_path), the spool's trailing slash dropped, keys absent: NULL */
static void core_rules(void **state)
{
	struct nagios_cfg c;
	sd_error err = { "" };

	assert_int_equal(parse("  command_file = /a/first \r\ncommand_file=/a/second\r\n"
			       "status_file=var/\\\nstatus.dat\ncheck_result_path=spool/\n"
			       "config_rel_path=/srv/n\ncfg_dir=conf.d\nx=a=b\n#cfg_dir=/no\n\t# cfg_dir=/no2",
			       "/etc/naemon/naemon.cfg", &c, &err), 0);
	assert_string_equal(c.command_file, "/a/second");
	assert_string_equal(c.status_file, "/etc/naemon/var/status.dat");
	assert_string_equal(c.check_result_path, "/etc/naemon/spool");
	assert_null(c.object_cache_file);
	assert_int_equal(c.n_cfg_dirs, 1);
	assert_string_equal(c.cfg_dirs[0], "/srv/n/conf.d");
	nagios_cfg_free(&c);
	/* a bare file name: relative to the current directory */
	assert_int_equal(parse("status_file=s.dat", "nagios.cfg", &c, &err), 0);
	assert_string_equal(c.status_file, "s.dat");
	assert_non_null(c.cfg_dirs);
	assert_int_equal(c.n_cfg_dirs, 0);
	nagios_cfg_free(&c);
	/* an empty file is a config without the keys */
	assert_int_equal(nagios_cfg_parse("", 0, "e.cfg", &c, &err), 0);
	assert_null(c.command_file);
	nagios_cfg_free(&c);
}

/* each refusal is one line naming the file and the line; cfg is empty after */
static void hostile(void **state)
{
	static const struct { const char *text; size_t len; const char *msg; } cases[] = {
		{ "# ok\nlog_file=/x\njust some words\n", 0, "n.cfg:3: not a key=value line" },
		{ "cfg_dir=/a\n=/b\n", 0, "n.cfg:2: no key before '='" },
		{ "command_file=\n", 0, "n.cfg:1: command_file has no value" },
		{ "command_file=   \t\n", 0, "n.cfg:1: command_file has no value" },
		{ "a=1\nstatus_file=/x\033[2J\n", 0, "n.cfg:2: status_file: a control character in the path" },
		{ "a=1\nb=2\0\nc=3\n", 10, "n.cfg:2: a NUL byte" },
		{ "a=\\\n\\\n\\\nwords\n", 0, NULL },     /* continued: one line "a=words" */
		{ "a=\\\nb\\\nwords\nfoo\n", 0, "n.cfg:4: not a key=value line" },
	};
	struct nagios_cfg c;
	sd_error err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&err, 0, sizeof(err));
		int rc = nagios_cfg_parse(cases[i].text, cases[i].len ? cases[i].len : strlen(cases[i].text),
					  "n.cfg", &c, &err);
		if (!cases[i].msg) {
			assert_int_equal(rc, 0);
			nagios_cfg_free(&c);
			continue;
		}
		assert_int_equal(rc, -1);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(c.cfg_dirs);
		assert_null(c.command_file);
	}
}

/* a path longer than PATH_MAX, many cfg_dirs, a file that does not exist */
static void limits(void **state)
{
	size_t n = PATH_MAX + 20, i;
	char *t = malloc(n + 32);
	struct nagios_cfg c;
	sd_error err = { "" };
	char *big;

	strcpy(t, "cfg_dir=/");
	memset(t + 9, 'a', n);
	t[9 + n] = 0;
	assert_int_equal(parse(t, "n.cfg", &c, &err), -1);
	assert_non_null(strstr(err.msg, "n.cfg:1: cfg_dir: path longer than"));
	free(t);
	big = malloc(10000 * 12 + 1);
	for (i = 0; i < 10000; i++)
		memcpy(big + 12 * i, "cfg_dir=/dd\n", 12);
	big[12 * 10000] = 0;
	assert_int_equal(parse(big, "n.cfg", &c, &err), 0);
	assert_int_equal(c.n_cfg_dirs, 10000);
	assert_string_equal(c.cfg_dirs[9999], "/dd");
	nagios_cfg_free(&c);
	free(big);
	assert_int_equal(nagios_cfg_load("/nonexistent/nagios.cfg", &c, &err), -1);
	assert_string_equal(err.msg, "/nonexistent/nagios.cfg: No such file or directory");
	assert_int_equal(nagios_cfg_load("/dev/null", &c, &err), 0);
	assert_int_equal(c.n_cfg_dirs, 0);
	nagios_cfg_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(debian),
		cmocka_unit_test(core_rules),
		cmocka_unit_test(hostile),
		cmocka_unit_test(limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
