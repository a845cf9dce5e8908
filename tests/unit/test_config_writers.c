/*
 * Unit tests: Nagios object and Icinga 2 DSL config writers.
 *
 * The whole-site outputs are compared with the files in tests/data/config/,
 * which tests/data/config/validate.sh feeds to the real nagios4 -v and
 * icinga2 daemon -C: so a passing test means the writers produce exactly
 * what the daemons were seen to accept. SITEDUMP_UPDATE_GOLDEN=1 rewrites
 * the files instead (then run validate.sh again).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/nagios_objects.h"
#include "formats/icinga2_dsl.h"
/* the fuzz target's site decoder and checks, for shadow_random and the
 * generator of tests/0021-config-validate.t */
#define CW_NO_FUZZ_ENTRY
#include "../fuzz/fuzz_config_writers.c"

/* ---------------------------------------------------------------- harness */

struct run {
	char *out;
	size_t len;
	char *log;          /* "skipped|warned WHAT: WHY\n" lines */
	size_t loglen;
	FILE *logf;
};

static void on_skipped(void *ctx, const char *what, const char *why)
{
	fprintf(((struct run *)ctx)->logf, "skipped %s: %s\n", what, why);
}

static void on_warned(void *ctx, const char *what, const char *why)
{
	fprintf(((struct run *)ctx)->logf, "warned %s: %s\n", what, why);
}

enum kind { NAGIOS, ICINGA };

static struct sd_sink *new_sink(enum kind k, FILE *f, const struct writer_opts *o)
{
	return k == NAGIOS ? nagios_objects_writer_new(f, o) : icinga2_writer_new(f, o);
}

static void free_sink(enum kind k, struct sd_sink *s)
{
	if (k == NAGIOS)
		nagios_objects_writer_free(s);
	else
		icinga2_writer_free(s);
}

static const struct sd_meta meta = {
	.site = "remote1",
	.source = "livestatus:unix:/omd/sites/remote1/tmp/run/live",
	.created = 1795000000,
	.parts = SD_PART_CONFIG,
};

/* Feed groups and objects through the sink the way a source does. */
static void run_site(struct run *r, enum kind k, const struct writer_opts *o,
		     const struct sd_group *g, size_t ng, const struct sd_object *obj, size_t no)
{
	FILE *f = open_memstream(&r->out, &r->len);
	struct sd_sink *s;
	sd_error err = { "" };
	size_t i;

	assert_non_null(f);
	r->logf = open_memstream(&r->log, &r->loglen);
	assert_non_null(r->logf);
	s = new_sink(k, f, o);
	assert_non_null(s);
	s->skipped = on_skipped;
	s->warned = on_warned;
	s->report_ctx = r;
	assert_int_equal(s->begin(s->ctx, &meta, &err), 0);
	for (i = 0; i < ng; i++)
		assert_int_equal(sd_emit_group(s, &g[i], &err), 0);
	for (i = 0; i < no; i++)
		assert_int_equal(sd_emit_object(s, &obj[i], &err), 0);
	assert_int_equal(s->end(s->ctx, &err), 0);
	free_sink(k, s);
	fclose(f);
	fclose(r->logf);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->log);
}

/* One record straight into a writer without templates; returns the rc. */
static int one(enum kind k, const struct writer_opts *o, const struct sd_object *obj,
	       const struct sd_group *g, char **out, char *errmsg, size_t errlen)
{
	size_t len;
	FILE *f = open_memstream(out, &len);
	struct sd_sink *s = new_sink(k, f, o);
	sd_error err = { "" };
	int rc = g ? s->group(s->ctx, g, &err) : s->object(s->ctx, obj, &err);

	snprintf(errmsg, errlen, "%s", err.msg);
	free_sink(k, s);
	fclose(f);
	return rc;
}

static char *data_path(const char *name)
{
	const char *dir = getenv("SITEDUMP_TEST_DATA");
	static char path[1024];

	snprintf(path, sizeof(path), "%s/%s", dir ? dir : "tests/data/config", name);
	return path;
}

static void assert_golden(const char *name, const char *got, size_t len)
{
	const char *path = data_path(name);
	FILE *f;
	char *want;
	long n;

	if (getenv("SITEDUMP_UPDATE_GOLDEN")) {
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(got, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		return;
	}
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the source root or set SITEDUMP_TEST_DATA)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	want = malloc((size_t)n + 1);
	assert_non_null(want);
	assert_int_equal(fread(want, 1, (size_t)n, f), (size_t)n);
	want[n] = '\0';
	fclose(f);
	if ((size_t)n != len || memcmp(want, got, len) != 0) {
		fprintf(stderr, "---- %s differs; got:\n%s\n----\n", path, got);
		free(want);
		fail_msg("output differs from %s", path);
	}
	free(want);
}

/* ---------------------------------------------------------------- records */

/* Lists live at file scope: compound literals in a function die with it. */
#define LIST(a) ((struct sd_strlist){ a, sizeof(a) / sizeof(a[0]) })

static char *l_gw[] = { "gw" };
static char *l_linux[] = { "linux" };
static char *l_admin[] = { "admin" };
static char *l_admins[] = { "admins" };
static char *l_websvc[] = { "web services" };
static char *l_hostile_groups[] = { "linux", "web;db", "bad!grp", "" };
static char *l_hostile_contacts[] = { "admin", "bad,contact", "" };
static char *l_hostile_cgroups[] = { "admins", "semi;group" };
static char *l_db_parents[] = { "gw", "web01", "bad(parent)" };
static char *l_disk_groups[] = { "disks", "web services" };

static struct sd_var web01_vars[] = {
	{ "TAGS", "/wato/ lan prod tcp" },
	{ "FILENAME", "/wato/hosts.mk" },
};

static struct sd_object host_web01(void)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = "web01";
	o.alias = "Web server 01";
	o.address = "10.0.0.1";
	o.parents = LIST(l_gw);
	o.groups = LIST(l_linux);
	o.contacts = LIST(l_admin);
	o.contact_groups = LIST(l_admins);
	o.check_command = "check-mk-host-ping!-w 200.00,80.00% -c 500.00,100.00%";
	o.max_check_attempts = 3;
	o.check_interval = 1;
	o.retry_interval = 0.5;
	o.notes = "Rack 4";
	o.notes_url = "https://wiki.example.com/hosts/$HOSTNAME$";
	o.icon_image = "linux.png";
	o.vars = web01_vars;
	o.nvars = 2;
	return o;
}

static struct sd_var http_vars[] = { { "SERVICE_PERIOD", "24X7" } };

static struct sd_object svc_http(void)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = "web01";
	o.description = "HTTP";
	o.groups = LIST(l_websvc);
	o.contacts = LIST(l_admin);
	o.contact_groups = LIST(l_admins);
	o.check_command = "check_http!-H www.example.com";
	o.max_check_attempts = 4;
	o.check_interval = 5;
	o.retry_interval = 1;
	o.vars = http_vars;
	o.nvars = 1;
	return o;
}

static struct sd_var hostile_vars[] = {
	{ "QUOTES", "say \"hi\" \\ back $USER1$ {{{ }}} \\$" },
	{ "MACRO", "$USER1$/check_foo -H $HOSTADDRESS$" },
	{ "ENDS", "C:\\temp\\" },
	{ "SEMI", "a;b;;c" },
	{ "CTL", "bell\a|del\x7f|one\x01" "7|tab\tend" },
	{ "MULTI", "line 1\nline 2\r\nline 3" },
	{ "UTF8", "\xc3\xa4\xc3\xb6\xc3\xbc \xe2\x82\xac \xe6\x97\xa5\xe6\x9c\xac" },
	{ "EMPTY", "" },
	{ "lower_case", "v" },
	{ "bad name", "dropped by Nagios" },
	{ "SITEDUMP_CHECK_COMMAND", "spoofed" },
	{ "sitedump_parents", "spoofed" },
	{ "object", "keyword" },
	{ "9lives", "not an identifier" },
};

static struct sd_object host_hostile(void)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = "hostile";
	o.alias = "  padded alias\t";
	o.address = "fe80::1%eth0";
	o.groups = LIST(l_hostile_groups);
	o.contacts = LIST(l_hostile_contacts);
	o.contact_groups = LIST(l_hostile_cgroups);
	o.check_command = "check_nrpe!-c check_load -a '15;10;5'";
	o.max_check_attempts = 0;      /* not set: the template's 1 applies */
	o.notes = "first line\nsecond line; with semicolon\\";
	o.notes_url = "http://x.example/a;b?c=d\\";
	o.action_url = "\n";          /* nothing left: left out */
	o.vars = hostile_vars;
	o.nvars = sizeof(hostile_vars) / sizeof(hostile_vars[0]);
	return o;
}

static struct sd_object plain_host(const char *name)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = (char *)name;
	o.max_check_attempts = 1;
	return o;
}

static struct sd_object plain_svc(const char *host, const char *desc)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = (char *)host;
	o.description = (char *)desc;
	o.max_check_attempts = 2;
	return o;
}

/* The site that goes into the golden files: normal and hostile records. */
static struct sd_group site_groups[] = {
	{ SD_HOST, "linux", "Linux servers" },
	{ SD_HOST, "web;db", "Web; and DB" },
	{ SD_HOST, "bad!grp", "" },
	{ SD_SERVICE, "web services", "Web services; all of them\n" },
	{ SD_SERVICE, "disks", "" },
};

static size_t site_objects(struct sd_object *v)
{
	size_t n = 0;

	v[n++] = plain_host("gw");
	v[n++] = host_web01();
	v[n] = plain_host("db 01");
	v[n].alias = "Datenbank \xc3\xa4\xc3\xb6\xc3\xbc";
	v[n].parents = LIST(l_db_parents);
	v[n++].groups = LIST(l_linux);
	v[n++] = host_hostile();
	v[n++] = plain_host("semi;colon");     /* Nagios: skipped; Icinga: fine */
	v[n++] = plain_host("bang!host");      /* both: skipped */
	v[n++] = plain_host("new\nline");      /* both: skipped */
	v[n++] = plain_host("trail\\");        /* Nagios: skipped */
	v[n++] = plain_host(" lead");          /* Nagios: skipped */
	v[n++] = plain_host("paren(1)");       /* Nagios: illegal_object_name_chars */
	v[n++] = plain_host("quote\"d");       /* Nagios: illegal_object_name_chars */
	v[n++] = svc_http();
	v[n] = plain_svc("web01", "Disk /var");
	v[n++].groups = LIST(l_disk_groups);
	v[n++] = plain_svc("db 01", "\xc3\x9c" "mlaut-Dienst \xe2\x82\xac");
	v[n++] = plain_svc("web01", "Disk; C:");        /* Nagios: skipped */
	v[n++] = plain_svc("web01", "ends\\");          /* Nagios: skipped */
	v[n++] = plain_svc("web01", "x!y");             /* both: skipped */
	v[n++] = plain_svc("web01", "say \"cheese\"");  /* Nagios: skipped */
	v[n++] = plain_svc("web01", "tab\there");       /* both: skipped */
	v[n++] = plain_svc("semi;colon", "svc");        /* Nagios: skipped (host) */
	v[n++] = plain_svc("web01", "Disk C:\\ / \xc3\xa4 #1 {x} [y] @z +-._: }");  /* both: fine */
	return n;
}

/* ------------------------------------------------------------------ tests */

static void nagios_normal(void **state)
{
	struct writer_opts wo = { .prefix = "r1-" };
	struct sd_object h = host_web01(), s = svc_http();
	char *out, msg[SD_ERRLEN];

	assert_int_equal(one(NAGIOS, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out,
		"define host {\n"
		"    use                     livedump-host\n"
		"    host_name               r1-web01\n"
		"    alias                   Web server 01\n"
		"    address                 10.0.0.1\n"
		"    parents                 r1-gw\n"
		"    hostgroups              r1-linux\n"
		"    contacts                admin\n"
		"    check_command           check-livedump\n"
		"    max_check_attempts      3\n"
		"    check_interval          1\n"
		"    retry_interval          0.5\n"
		"    notes                   Rack 4\n"
		"    notes_url               https://wiki.example.com/hosts/$HOSTNAME$\n"
		"    icon_image              linux.png\n"
		"    _SITEDUMP_CHECK_COMMAND check-mk-host-ping!-w 200.00,80.00% -c 500.00,100.00%\n"
		"    _TAGS                   /wato/ lan prod tcp\n"
		"    _FILENAME               /wato/hosts.mk\n"
		"}\n\n");
	free(out);

	wo.contact_groups = 1;
	assert_int_equal(one(NAGIOS, &wo, &s, NULL, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out,
		"define service {\n"
		"    use                     livedump-service\n"
		"    host_name               r1-web01\n"
		"    service_description     HTTP\n"
		"    servicegroups           r1-web services\n"
		"    contact_groups          admins\n"
		"    check_command           check-livedump\n"
		"    max_check_attempts      4\n"
		"    check_interval          5\n"
		"    retry_interval          1\n"
		"    _SITEDUMP_CHECK_COMMAND check_http!-H www.example.com\n"
		"    _SERVICE_PERIOD         24X7\n"
		"}\n\n");
	free(out);
}

static void icinga_normal(void **state)
{
	struct writer_opts wo = { .prefix = "r1-" };
	struct sd_object h = host_web01(), s = svc_http();
	char *out, msg[SD_ERRLEN];

	assert_int_equal(one(ICINGA, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out,
		"object Host \"r1-web01\" {\n"
		"  import \"livedump-host\"\n"
		"  display_name = \"Web server 01\"\n"
		"  address = \"10.0.0.1\"\n"
		"  groups = [ \"r1-linux\" ]\n"
		"  max_check_attempts = 3\n"
		"  check_interval = 1m\n"
		"  retry_interval = 30s\n"
		"  notes = \"Rack 4\"\n"
		"  notes_url = \"https://wiki.example.com/hosts/$HOSTNAME$\"\n"
		"  icon_image = \"linux.png\"\n"
		"  vars.sitedump_check_command = \"check-mk-host-ping!-w 200.00,80.00% -c 500.00,100.00%\"\n"
		"  vars.sitedump_parents = [ \"r1-gw\" ]\n"
		"  vars.sitedump_contacts = [ \"admin\" ]\n"
		"  vars.TAGS = \"/wato/ lan prod tcp\"\n"
		"  vars.FILENAME = \"/wato/hosts.mk\"\n"
		"}\n\n");
	free(out);

	wo.contact_groups = 1;
	assert_int_equal(one(ICINGA, &wo, &s, NULL, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out,
		"object Service \"HTTP\" {\n"
		"  import \"livedump-service\"\n"
		"  host_name = \"r1-web01\"\n"
		"  groups = [ \"r1-web services\" ]\n"
		"  max_check_attempts = 4\n"
		"  check_interval = 5m\n"
		"  retry_interval = 1m\n"
		"  vars.sitedump_check_command = \"check_http!-H www.example.com\"\n"
		"  vars.sitedump_contact_groups = [ \"admins\" ]\n"
		"  vars.SERVICE_PERIOD = \"24X7\"\n"
		"}\n\n");
	free(out);
}

static void templates(void **state)
{
	struct writer_opts wo = { .templates = 1, .check_interval = 2 };
	struct run r = { 0 };

	run_site(&r, NAGIOS, &wo, NULL, 0, NULL, 0);
	assert_non_null(strstr(r.out,
		"define host {\n"
		"    name                    livedump-host\n"
		"    register                0\n"
		"    active_checks_enabled   0\n"
		"    passive_checks_enabled  1\n"
		"    check_command           check-livedump\n"
		"    check_period            0x0\n"
		"    notification_period     livedump-24x7\n"
		"    max_check_attempts      1\n"
		"    check_interval          2\n"
		"}\n"));
	assert_non_null(strstr(r.out, "    command_line            echo \"UNKNOWN - "));
	assert_null(strchr(r.out, ';'));     /* livedump's "; exit 1" was a comment */
	run_free(&r);
	memset(&r, 0, sizeof(r));

	run_site(&r, ICINGA, &wo, NULL, 0, NULL, 0);
	assert_non_null(strstr(r.out,
		"template Service \"livedump-service\" {\n"
		"  check_command = \"check-livedump\"\n"
		"  enable_active_checks = false\n"
		"  enable_passive_checks = true\n"
		"  max_check_attempts = 1\n"
		"  check_interval = 2m\n"
		"}\n"));
	assert_non_null(strstr(r.out, "object CheckCommand \"check-livedump\" {\n  execute = PluginCheck\n"));
	run_free(&r);
	memset(&r, 0, sizeof(r));

	wo.templates = 0;          /* no templates: only the header comment */
	run_site(&r, NAGIOS, &wo, NULL, 0, NULL, 0);
	assert_string_equal(r.out,
		"# Nagios object definitions written by sitedump: shadow objects of site 'remote1'\n"
		"# as of 2026-11-18T11:06:40Z from livestatus:unix:/omd/sites/remote1/tmp/run/live.\n\n");
	run_free(&r);
}

static void nagios_skips(void **state)
{
	static const struct { const char *host, *desc, *reason; } cases[] = {
		{ "a;b", NULL, "';' in the name" },
		{ "web01", "d;e", "';' in the name" },
		{ "new\nline", NULL, "control character 0x0a" },
		{ "cr\r", NULL, "control character 0x0d" },
		{ "web01", "tab\tsvc", "control character 0x09" },
		{ "trail\\", NULL, "ends in a backslash" },
		{ "trail ", NULL, "leading or trailing space" },
		{ "web01", " lead", "leading or trailing space" },
		{ "h(1)", NULL, "'(' in the name is one of Nagios's default illegal_object_name_chars" },
		{ "web01", "a,b", "','" },
		{ "web01", "x=1", "'='" },
		{ "web01", "50%", "'%'" },
		{ "it's", NULL, "'''" },
		{ "", NULL, "empty name" },
	};
	struct writer_opts wo = { .prefix = "" };
	char *out, msg[SD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_object o = cases[i].desc ? plain_svc(cases[i].host, cases[i].desc)
						   : plain_host(cases[i].host);

		assert_int_equal(one(NAGIOS, &wo, &o, NULL, &out, msg, sizeof(msg)), 1);
		assert_string_equal(out, "");            /* nothing half-written */
		if (!strstr(msg, cases[i].reason))
			fail_msg("case %zu: '%s' does not mention \"%s\"", i, msg, cases[i].reason);
		free(out);
	}
	/* the prefix is part of the name */
	wo.prefix = "bad;";
	{
		struct sd_object o = plain_host("ok");
		struct sd_group g = { SD_HOST, "ok", "" };

		assert_int_equal(one(NAGIOS, &wo, &o, NULL, &out, msg, sizeof(msg)), 1);
		free(out);
		assert_int_equal(one(NAGIOS, &wo, NULL, &g, &out, msg, sizeof(msg)), 1);
		assert_non_null(strstr(msg, "hostgroup_name"));
		free(out);
	}
	/* names Nagios can carry */
	wo.prefix = "";
	{
		struct sd_object o = plain_svc("db 01", "Disk C:\\ / \xc3\xa4 #1 {x} [y] @z +-._:");

		assert_int_equal(one(NAGIOS, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
		assert_non_null(strstr(out, "    service_description     Disk C:\\ / \xc3\xa4 #1 {x} [y] @z +-._:\n"));
		free(out);
	}
}

static void nagios_text(void **state)
{
	struct writer_opts wo = { .prefix = "" };
	struct sd_object o = host_hostile();
	char *out, msg[SD_ERRLEN];

	assert_int_equal(one(NAGIOS, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
	/* outer whitespace trimmed (Nagios would strip it anyway) */
	assert_non_null(strstr(out, "    alias                   padded alias\n"));
	/* newline -> space, ';' -> U+FF1B, final backslash -> U+FF3C */
	assert_non_null(strstr(out, "    notes                   first line second line\xef\xbc\x9b with semicolon\xef\xbc\xbc\n"));
	/* URLs: percent-encoded instead */
	assert_non_null(strstr(out, "    notes_url               http://x.example/a%3Bb?c=d%5C\n"));
	assert_null(strstr(out, "action_url"));                 /* nothing left */
	assert_null(strstr(out, "max_check_attempts"));         /* 0: template's */
	/* lists: bad names dropped, empty ones too */
	assert_non_null(strstr(out, "    hostgroups              linux\n"));
	assert_non_null(strstr(out, "    contacts                admin\n"));
	/* custom variables */
	assert_non_null(strstr(out, "    _SITEDUMP_CHECK_COMMAND check_nrpe!-c check_load -a '15\xef\xbc\x9b" "10\xef\xbc\x9b" "5'\n"));
	assert_non_null(strstr(out, "    _QUOTES                 say \"hi\" \\ back $USER1$ {{{ }}} \\$\n"));
	assert_non_null(strstr(out, "    _ENDS                   C:\\temp\xef\xbc\xbc\n"));
	assert_non_null(strstr(out, "    _CTL                    bell |del |one 7|tab\tend\n"));
	assert_non_null(strstr(out, "    _MULTI                  line 1 line 2  line 3\n"));
	assert_null(strstr(out, "_EMPTY"));            /* empty value reads back as "null" */
	assert_non_null(strstr(out, "    _lower_case             v\n"));
	assert_null(strstr(out, "bad name"));
	assert_null(strstr(out, "_SITEDUMP_CHECK_COMMAND spoofed"));
	/* no ';' can reach the file, and no line ends in a backslash */
	assert_null(strchr(out, ';'));
	assert_null(strstr(out, "\\\n"));
	free(out);
}

static void icinga_skips(void **state)
{
	static const struct { const char *host, *desc, *reason; } cases[] = {
		{ "a!b", NULL, "'!'" },
		{ "web01", "x!y", "'!'" },
		{ "new\nline", NULL, "control character" },
		{ "web01", "tab\tsvc", "control character" },
		{ "", NULL, "empty name" },
		{ "web01", "", "empty name" },
	};
	struct writer_opts wo = { .prefix = "" };
	char *out, msg[SD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_object o = cases[i].desc ? plain_svc(cases[i].host, cases[i].desc)
						   : plain_host(cases[i].host);

		assert_int_equal(one(ICINGA, &wo, &o, NULL, &out, msg, sizeof(msg)), 1);
		assert_string_equal(out, "");
		if (!strstr(msg, cases[i].reason))
			fail_msg("case %zu: '%s' does not mention \"%s\"", i, msg, cases[i].reason);
		free(out);
	}
	{
		struct sd_group g = { SD_SERVICE, "g!1", "" };

		assert_int_equal(one(ICINGA, &wo, NULL, &g, &out, msg, sizeof(msg)), 1);
		free(out);
	}
	/* what Nagios refuses, Icinga carries */
	{
		struct sd_object o = plain_svc("semi;colon (1)", "say \"cheese\"; C:\\");

		assert_int_equal(one(ICINGA, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
		assert_non_null(strstr(out, "object Service \"say \\\"cheese\\\"; C:\\\\\" {\n"));
		assert_non_null(strstr(out, "  host_name = \"semi;colon (1)\"\n"));
		free(out);
	}
}

static void icinga_strings(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "plain", "\"plain\"" },
		{ "q\"b\\s", "\"q\\\"b\\\\s\"" },
		{ "a\nb\rc\td\be\ff", "\"a\\nb\\rc\\td\\be\\ff\"" },
		{ "$HOSTNAME$ {{{x}}}", "\"$HOSTNAME$ {{{x}}}\"" },
		{ "\x01", "\"\\001\"" },
		{ "\x01" "7", "\"\\001\\067\"" },        /* "\0017" would be a bad escape */
		{ "\x01" "78x9", "\"\\001\\067\\070x9\"" },
		{ "\x7f" "0", "\"\\177\\060\"" },
		{ "\xc3\xa4\xff", "\"\xc3\xa4\xff\"" },  /* bytes pass: the lexer takes them */
		{ "", "\"\"" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *buf;
		size_t len;
		FILE *f = open_memstream(&buf, &len);

		icinga2_put_string(f, cases[i].in);
		fclose(f);
		assert_string_equal(buf, cases[i].out);
		free(buf);
	}
}

static void icinga_vars(void **state)
{
	struct writer_opts wo = { .prefix = "" };
	struct sd_object o = host_hostile();
	char *out, msg[SD_ERRLEN];

	assert_int_equal(one(ICINGA, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "  display_name = \"  padded alias\\t\"\n"));   /* unchanged */
	assert_non_null(strstr(out, "  notes = \"first line\\nsecond line; with semicolon\\\\\"\n"));
	assert_non_null(strstr(out, "  action_url = \"\\n\"\n"));
	assert_non_null(strstr(out, "  groups = [ \"linux\", \"web;db\" ]\n"));
	assert_non_null(strstr(out, "  vars.sitedump_contacts = [ \"admin\", \"bad,contact\" ]\n"));
	assert_non_null(strstr(out, "  vars.CTL = \"bell\\007|del\\177|one\\001\\067|tab\\tend\"\n"));
	assert_non_null(strstr(out, "  vars.EMPTY = \"\"\n"));
	/* odd number of '$': Icinga refuses it in vars, so "$$" */
	assert_non_null(strstr(out, "  vars.QUOTES = \"say \\\"hi\\\" \\\\ back $$USER1$$ {{{ }}} \\\\$$\"\n"));
	assert_non_null(strstr(out, "  vars.MACRO = \"$USER1$/check_foo -H $HOSTADDRESS$\"\n"));
	assert_non_null(strstr(out, "  vars[\"bad name\"] = \"dropped by Nagios\"\n"));
	assert_non_null(strstr(out, "  vars[\"object\"] = \"keyword\"\n"));
	assert_non_null(strstr(out, "  vars[\"9lives\"] = \"not an identifier\"\n"));
	assert_non_null(strstr(out, "  vars.SITEDUMP_CHECK_COMMAND = \"spoofed\"\n"));  /* case differs */
	assert_null(strstr(out, "vars.sitedump_parents"));  /* the record's own is dropped */
	free(out);
}

static void durations(void **state)
{
	struct writer_opts wo = { .prefix = "" };
	struct sd_object o = plain_host("h");
	char *out, msg[SD_ERRLEN];

	o.check_interval = 1.0 / 3.0;    /* 20 s */
	o.retry_interval = 0.0125;       /* 0.75 s */
	assert_int_equal(one(ICINGA, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "  check_interval = 20s\n  retry_interval = 0.75s\n"));
	free(out);
	assert_int_equal(one(NAGIOS, &wo, &o, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "    check_interval          0.3333333333333333\n"));
	assert_non_null(strstr(out, "    retry_interval          0.0125\n"));
	free(out);
}

/* The whole site against the files validate.sh checked with the daemons. */
static void golden(void **state)
{
	struct sd_object objs[40];
	size_t n = site_objects(objs), ng = sizeof(site_groups) / sizeof(site_groups[0]);
	struct writer_opts a = { .prefix = "r1-", .templates = 1, .check_interval = 1 };
	struct writer_opts b = { .prefix = "r2-", .contact_groups = 1 };
	struct run r[4];
	char *report;
	size_t reportlen;
	FILE *f;

	memset(r, 0, sizeof(r));
	run_site(&r[0], NAGIOS, &a, site_groups, ng, objs, n);
	run_site(&r[1], NAGIOS, &b, site_groups, ng, objs, n);
	run_site(&r[2], ICINGA, &a, site_groups, ng, objs, n);
	run_site(&r[3], ICINGA, &b, site_groups, ng, objs, n);
	assert_golden("nagios_r1.cfg", r[0].out, r[0].len);
	assert_golden("nagios_r2.cfg", r[1].out, r[1].len);
	assert_golden("icinga2_r1.conf", r[2].out, r[2].len);
	assert_golden("icinga2_r2.conf", r[3].out, r[3].len);

	f = open_memstream(&report, &reportlen);
	fprintf(f, "# skipped/warned reports of the r1 runs (nagios_r1.cfg, icinga2_r1.conf)\n\n## nagios\n%s\n## icinga2\n%s",
		r[0].log, r[2].log);
	fclose(f);
	assert_golden("reports_r1.txt", report, reportlen);
	free(report);

	/* both formats skip by name, so both runs of a format skip alike */
	assert_non_null(strstr(r[0].log, "skipped host 'semi;colon': host_name cannot be written"));
	assert_null(strstr(r[2].log, "skipped host 'semi;colon'"));
	assert_non_null(strstr(r[2].log, "skipped host 'bang!host'"));
	for (n = 0; n < 4; n++)
		run_free(&r[n]);
}

static void write_error(void **state)
{
	struct writer_opts wo = { .templates = 1 };
	FILE *f = fopen("/dev/full", "w");
	struct sd_object o = host_web01();
	sd_error err = { "" };
	enum kind k;

	if (!f)
		skip();
	for (k = NAGIOS; k <= ICINGA; k++) {
		struct sd_sink *s = new_sink(k, f, &wo);
		int rc = 0, i;

		setvbuf(f, NULL, _IONBF, 0);
		rc |= s->begin(s->ctx, &meta, &err);
		for (i = 0; i < 3; i++)
			rc |= s->object(s->ctx, &o, &err);
		rc |= s->end(s->ctx, &err);
		assert_int_equal(rc, -1);
		assert_string_equal(err.msg, "write error");
		free_sink(k, s);
		clearerr(f);
	}
	fclose(f);
	nagios_objects_writer_free(NULL);
	icinga2_writer_free(NULL);
}


/* ------------------------------------------------------------ shadow mode */

/* siteload's options: the remote is untrusted */
static struct writer_opts shadow_opts(const char *contacts, const char *groups)
{
	struct writer_opts wo = { .prefix = "r1-", .site = "site1", .group_prefix = "SITE:" };

	wo.notify_contacts = contacts;
	wo.notify_contact_groups = groups;
	return wo;
}

static char *l_sh_groups[] = { "linux", "web$db", "" };
static char *l_sh_contacts[] = { "nagiosadmin" };
static char *l_sh_cgroups[] = { "admins" };
static char *l_sh_parents[] = { "gw", "p$(id)" };

static struct sd_var sh_vars[] = {
	{ "TAGS", "$(id)`id`\"'\\;|&<>()" },
	{ "A-B", "x" },
	{ "", "empty name" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "65" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "64" },
	{ "notification", "x" },
	{ "SITEDUMP_SITE", "spoofed" },
	{ "tags", "the same name but for case" },
	{ "MULTI", "a\nb\tc\x7f" },
	{ "bad;name\n", "x" },
};

/* The reproduced attack: metacharacters in every attribute. */
static struct sd_object host_attack(void)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_HOST;
	o.host_name = "web01";
	o.alias = "web\"$(id >marker-b)\"`id`";
	o.address = "10.0.0.1\"$(id >marker-a)\"";
	o.parents = LIST(l_sh_parents);
	o.groups = LIST(l_sh_groups);
	o.contacts = LIST(l_sh_contacts);
	o.contact_groups = LIST(l_sh_cgroups);
	o.check_command = "check_ping!$(id)!`id`";
	o.max_check_attempts = 3;
	o.notes = " a;b|c&d<e>f(g)h'\\";
	o.notes_url = "javascript:alert(1)";
	o.action_url = "https://x.example/a b?c=$(id)&d=`e`";
	o.icon_image = "../img/x.png'\"";
	o.vars = sh_vars;
	o.nvars = sizeof(sh_vars) / sizeof(sh_vars[0]);
	return o;
}

/* One record through a writer with warnings collected; returns the rc. */
static int one_logged(enum kind k, const struct writer_opts *o, const struct sd_object *obj,
		      const struct sd_group *g, struct run *r, char *errmsg, size_t errlen)
{
	FILE *f = open_memstream(&r->out, &r->len);
	struct sd_sink *s = new_sink(k, f, o);
	sd_error err = { "" };
	int rc;

	r->logf = open_memstream(&r->log, &r->loglen);
	s->warned = on_warned;
	s->report_ctx = r;
	rc = g ? s->group(s->ctx, g, &err) : s->object(s->ctx, obj, &err);
	snprintf(errmsg, errlen, "%s", err.msg);
	free_sink(k, s);
	fclose(f);
	fclose(r->logf);
	return rc;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The reproduced attack, exactly: look-alikes, no address, no remote
 * contacts, namespaced vars, one warning naming every change. */
static void shadow_attack(void **state)
{
	struct writer_opts wo = shadow_opts(NULL, NULL);
	struct sd_object h = host_attack();
	struct run r = { 0 };
	char msg[SD_ERRLEN];

	assert_int_equal(one_logged(NAGIOS, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
	assert_string_equal(r.out,
		"define host {\n"
		"    use                     livedump-host\n"
		"    host_name               r1-web01\n"
		"    alias                   web\xef\xbc\x82\xef\xbc\x84\xef\xbc\x88id \xef\xbc\x9emarker-b\xef\xbc\x89\xef\xbc\x82\xef\xbd\x80id\xef\xbd\x80\n"
		"    parents                 r1-gw\n"
		"    hostgroups              SITE:linux\n"
		"    notifications_enabled   0\n"
		"    check_command           check-livedump\n"
		"    _SITEDUMP_SITE          site1\n"
		"    max_check_attempts      3\n"
		"    notes                   a\xef\xbc\x9b" "b\xef\xbd\x9c" "c\xef\xbc\x86" "d\xef\xbc\x9c" "e\xef\xbc\x9e" "f\xef\xbc\x88g\xef\xbc\x89h\xef\xbc\x87\xef\xbc\xbc\n"
		"    action_url              https://x.example/a%20b?c=%24%28id%29%26d=%60e%60\n"
		"    icon_image              ../img/x.png%27%22\n"
		"    _SITEDUMP_CHECK_COMMAND check_ping!\xef\xbc\x84\xef\xbc\x88id\xef\xbc\x89!\xef\xbd\x80id\xef\xbd\x80\n"
		"    _SITEDUMP_REMOTE_TAGS   \xef\xbc\x84\xef\xbc\x88id\xef\xbc\x89\xef\xbd\x80id\xef\xbd\x80\xef\xbc\x82\xef\xbc\x87\xef\xbc\xbc\xef\xbc\x9b\xef\xbd\x9c\xef\xbc\x86\xef\xbc\x9c\xef\xbc\x9e\xef\xbc\x88\xef\xbc\x89\n"
		"    _SITEDUMP_REMOTE_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 64\n"
		"    _SITEDUMP_REMOTE_notification x\n"
		"    _SITEDUMP_REMOTE_SITEDUMP_SITE spoofed\n"
		"    _SITEDUMP_REMOTE_MULTI  a b c\n"
		"}\n\n");
	assert_int_equal(count_lines(r.log), 1);        /* one warning for the record */
	{
		static const char *const want[] = {
			"warned host 'web01': alias: metacharacters written as look-alikes",
			"; address left out: not a host name or an IP address",
			"; parents: 'r1-p$(id)' left out",
			"; hostgroups: 'SITE:web$db' left out",
			"; notes_url left out: not an http: or https: URL",
			"; action_url: metacharacters, spaces and control characters percent-encoded",
			"; icon_image: ", "; _SITEDUMP_CHECK_COMMAND: ", "; _SITEDUMP_REMOTE_TAGS: ",
			"; custom variable 'A-B' left out: not only letters, digits and '_'",
			"; custom variable '' left out: empty name",
			"; custom variable 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA...' left out: longer than 64",
			"; custom variable 'tags' left out: an earlier one differs only in case",
			"; custom variable 'bad;name?' left out",
		};
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strstr(r.log, want[i]))
				fail_msg("Nagios warning lacks \"%s\": %s", want[i], r.log);
	}
	run_free(&r);

	memset(&r, 0, sizeof(r));
	assert_int_equal(one_logged(ICINGA, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
	assert_string_equal(r.out,
		"object Host \"r1-web01\" {\n"
		"  import \"livedump-host\"\n"
		"  display_name = \"web\xef\xbc\x82\xef\xbc\x84\xef\xbc\x88id \xef\xbc\x9emarker-b\xef\xbc\x89\xef\xbc\x82\xef\xbd\x80id\xef\xbd\x80\"\n"
		"  groups = [ \"SITE:linux\" ]\n"
		"  max_check_attempts = 3\n"
		"  vars.sitedump_site = \"site1\"\n"
		"  notes = \" a\xef\xbc\x9b" "b\xef\xbd\x9c" "c\xef\xbc\x86" "d\xef\xbc\x9c" "e\xef\xbc\x9e" "f\xef\xbc\x88g\xef\xbc\x89h\xef\xbc\x87\xef\xbc\xbc\"\n"
		"  action_url = \"https://x.example/a%20b?c=%24%28id%29%26d=%60e%60\"\n"
		"  icon_image = \"../img/x.png%27%22\"\n"
		"  vars.sitedump_check_command = \"check_ping!\xef\xbc\x84\xef\xbc\x88id\xef\xbc\x89!\xef\xbd\x80id\xef\xbd\x80\"\n"
		"  vars.sitedump_parents = [ \"r1-gw\", \"r1-p\xef\xbc\x84\xef\xbc\x88id\xef\xbc\x89\" ]\n"
		"  enable_notifications = false\n"
		"  vars.sitedump_remote[\"TAGS\"] = \"\xef\xbc\x84\xef\xbc\x88id\xef\xbc\x89\xef\xbd\x80id\xef\xbd\x80\xef\xbc\x82\xef\xbc\x87\xef\xbc\xbc\xef\xbc\x9b\xef\xbd\x9c\xef\xbc\x86\xef\xbc\x9c\xef\xbc\x9e\xef\xbc\x88\xef\xbc\x89\"\n"
		"  vars.sitedump_remote[\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\"] = \"64\"\n"
		"  vars.sitedump_remote[\"notification\"] = \"x\"\n"
		"  vars.sitedump_remote[\"SITEDUMP_SITE\"] = \"spoofed\"\n"
		"  vars.sitedump_remote[\"tags\"] = \"the same name but for case\"\n"
		"  vars.sitedump_remote[\"MULTI\"] = \"a b c \"\n"
		"}\n\n");
	assert_int_equal(count_lines(r.log), 1);
	{
		static const char *const want[] = {
			"warned host 'web01': display_name: metacharacters written as look-alikes",
			"; groups: 'SITE:web$db' left out: one of $ ` \" ' | & < > in the name",
			"; address left out: not a host name or an IP address",
			"; notes_url left out: not an http: or https: URL",
			"; sitedump_parents: ", "; sitedump_remote[\"TAGS\"]: ",
			"; custom variable 'A-B' left out", "; custom variable '' left out: empty name",
			"; custom variable 'bad;name?' left out",
		};
		size_t i;

		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strstr(r.log, want[i]))
				fail_msg("Icinga 2 warning lacks \"%s\": %s", want[i], r.log);
	}
	run_free(&r);
}

/* Every metacharacter, alone, in every free-text attribute of both
 * writers: never in the output, always as its look-alike. */
static void shadow_every_metachar(void **state)
{
	static const char metas[] = "$`\"'\\;|&<>()";
	static const char *const look[] = {
		"\xef\xbc\x84", "\xef\xbd\x80", "\xef\xbc\x82", "\xef\xbc\x87", "\xef\xbc\xbc", "\xef\xbc\x9b",
		"\xef\xbd\x9c", "\xef\xbc\x86", "\xef\xbc\x9c", "\xef\xbc\x9e", "\xef\xbc\x88", "\xef\xbc\x89",
	};
	struct writer_opts wo = shadow_opts("nagiosadmin", NULL);
	size_t i, j;
	enum kind k;

	for (i = 0; metas[i]; i++) {
		char text[16], want[16];
		struct sd_var v = { "V", text };
		struct sd_group g = { SD_HOST, "g", text };
		struct sd_object h = plain_host("h");

		snprintf(text, sizeof(text), "a%cb", metas[i]);
		snprintf(want, sizeof(want), "a%sb", look[i]);
		h.alias = h.notes = h.check_command = text;
		h.vars = &v;
		h.nvars = 1;
		for (k = NAGIOS; k <= ICINGA; k++) {
			struct run r = { 0 };
			char msg[SD_ERRLEN], *p;

			assert_int_equal(one_logged(k, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
			for (j = 0, p = r.out; (p = strstr(p, want)); p++)
				j++;
			if (j != 4)
				fail_msg("'%c': %zu look-alikes in %s", metas[i], j, r.out);
			/* no metacharacter left but the DSL's quotes */
			for (p = r.out; *p; p++)
				if (*p == metas[i] && !(k == ICINGA && *p == '"'))
					fail_msg("'%c' in the output: %s", metas[i], r.out);
			assert_int_equal(count_lines(r.log), 1);
			run_free(&r);
			memset(&r, 0, sizeof(r));
			assert_int_equal(one_logged(k, &wo, NULL, &g, &r, msg, sizeof(msg)), 0);
			assert_non_null(strstr(r.out, want));
			assert_int_equal(count_lines(r.log), 1);
			run_free(&r);
		}
	}
}

static void shadow_urls(void **state)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "https://wiki.example/h?a=1", "https://wiki.example/h?a=1" },
		{ "HTTP://x.example/", "HTTP://x.example/" },
		{ "/nagios/img/x.png", "/nagios/img/x.png" },
		{ "x.png", "x.png" },
		{ "//cdn.example/x", "//cdn.example/x" },
		{ "https://x/$HOSTNAME$", "https://x/%24HOSTNAME%24" },
		{ "https://x/a b\tc;d", "https://x/a%20b%09c%3Bd" },
		{ "img/`id`'\"\\|&<>()", "img/%60id%60%27%22%5C%7C%26%3C%3E%28%29" },
		{ "javascript:alert(1)", NULL },
		{ "JavaScript:alert(1)", NULL },
		{ " javascript:alert(1)", NULL },
		{ "java\tscript:alert(1)", NULL },
		{ "data:text/html,<script>", NULL },
		{ "file:///etc/passwd", NULL },
		{ "mailto:x@example.com", NULL },
		{ "ftp://x/", NULL },
		{ "10.0.0.1:8080/x", NULL },
	};
	struct writer_opts wo = shadow_opts(NULL, NULL);
	size_t i;
	enum kind k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_object h = plain_host("h");

		h.notes_url = h.action_url = h.icon_image = (char *)cases[i].in;
		for (k = NAGIOS; k <= ICINGA; k++) {
			struct run r = { 0 };
			char msg[SD_ERRLEN], want[200];

			assert_int_equal(one_logged(k, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
			if (!cases[i].out) {
				if (strstr(r.out, "_url") || strstr(r.out, "icon_image"))
					fail_msg("case %zu written: %s", i, r.out);
				assert_non_null(strstr(r.log, "notes_url left out: not an http: or https: URL"));
				assert_non_null(strstr(r.log, "icon_image left out"));
			} else {
				snprintf(want, sizeof(want), k == NAGIOS ? "    notes_url               %s\n"
									 : "  notes_url = \"%s\"\n", cases[i].out);
				if (!strstr(r.out, want))
					fail_msg("case %zu: no \"%s\" in %s", i, want, r.out);
			}
			assert_true(count_lines(r.log) <= 1);
			run_free(&r);
		}
	}
}

static void shadow_address(void **state)
{
	static const struct { const char *in; int ok; } cases[] = {
		{ "10.0.0.1", 1 }, { "web01.example.com", 1 }, { "web_01-a", 1 }, { "::1", 1 },
		{ "2001:db8::1", 1 }, { "::ffff:10.0.0.1", 1 },
		{ "10.0.0.1\"$(id >marker-a)\"", 0 }, { "fe80::1%eth0", 0 }, { "-oProxyCommand=x", 0 },
		{ "-h", 0 }, { ".hidden", 0 }, { "a b", 0 }, { "a;b", 0 }, { "a`id`", 0 }, { "host\n", 0 },
		{ "[::1]", 0 }, { "h\xc3\xa4", 0 },
	};
	struct writer_opts wo = shadow_opts(NULL, NULL);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_object h = plain_host("h");
		struct run r = { 0 };
		char msg[SD_ERRLEN], want[200];

		h.address = (char *)cases[i].in;
		assert_int_equal(writer_shadow_address(cases[i].in), cases[i].ok);
		assert_int_equal(one_logged(NAGIOS, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
		snprintf(want, sizeof(want), "    address                 %s\n", cases[i].in);
		assert_int_equal(strstr(r.out, want) != NULL, cases[i].ok);
		assert_int_equal(strstr(r.out, "address") != NULL, cases[i].ok);
		assert_int_equal(strstr(r.log, "address left out") != NULL, !cases[i].ok);
		run_free(&r);

		/* Icinga 2: never `address` (the stock apply rules key on it) */
		memset(&r, 0, sizeof(r));
		assert_int_equal(one_logged(ICINGA, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
		snprintf(want, sizeof(want), "  vars.sitedump_address = \"%s\"\n", cases[i].in);
		assert_int_equal(strstr(r.out, want) != NULL, cases[i].ok);
		assert_null(strstr(r.out, "  address"));
		assert_int_equal(strstr(r.out, "sitedump_address") != NULL, cases[i].ok);
		assert_int_equal(strstr(r.log, "address left out") != NULL, !cases[i].ok);
		run_free(&r);
	}
}

/* The remote's contacts never; the central's, or no notifications. */
static void shadow_contacts(void **state)
{
	static const struct { const char *c, *g, *nagios, *icinga; } cases[] = {
		{ NULL, NULL, "    notifications_enabled   0\n", "  enable_notifications = false\n" },
		{ "", "", "    notifications_enabled   0\n", "  enable_notifications = false\n" },
		{ "nagiosadmin", NULL, "    contacts                nagiosadmin\n",
		  "  vars.sitedump_notify_users = [ \"nagiosadmin\" ]\n" },
		{ "", "ops,oncall", "    contact_groups          ops,oncall\n",
		  "  vars.sitedump_notify_user_groups = [ \"ops\", \"oncall\" ]\n" },
		{ "a,b", "g", "    contacts                a,b\n    contact_groups          g\n",
		  "  vars.sitedump_notify_users = [ \"a\", \"b\" ]\n  vars.sitedump_notify_user_groups = [ \"g\" ]\n" },
	};
	struct sd_object objs[2] = { host_attack(), svc_http() };   /* remote contacts admin(s), nagiosadmin */
	size_t i, j;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct writer_opts wo = shadow_opts(cases[i].c, cases[i].g);

		for (j = 0; j < 2; j++) {
			char *out, msg[SD_ERRLEN];

			assert_int_equal(one(NAGIOS, &wo, &objs[j], NULL, &out, msg, sizeof(msg)), 0);
			if (!strstr(out, cases[i].nagios))
				fail_msg("case %zu: no \"%s\" in %s", i, cases[i].nagios, out);
			if (strstr(out, "admin") && !strstr(cases[i].nagios, "admin"))
				fail_msg("case %zu: a remote contact written: %s", i, out);
			assert_int_equal(strstr(out, "notifications_enabled") != NULL, strstr(cases[i].nagios, "notif") != NULL);
			free(out);
			assert_int_equal(one(ICINGA, &wo, &objs[j], NULL, &out, msg, sizeof(msg)), 0);
			if (!strstr(out, cases[i].icinga))
				fail_msg("case %zu: no \"%s\" in %s", i, cases[i].icinga, out);
			if (strstr(out, "admin") && !strstr(cases[i].icinga, "admin"))
				fail_msg("case %zu: a remote contact written: %s", i, out);
			assert_null(strstr(out, "sitedump_contact"));
			assert_int_equal(strstr(out, "enable_notifications") != NULL, strstr(cases[i].icinga, "enable") != NULL);
			free(out);
		}
	}
	/* a name the core cannot carry is fatal at begin (siteload checks first) */
	{
		static const char *const bad[] = { "a;b", "a,,b", "a,", "x$y", "it's", " a", "a!b" };
		enum kind k;

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			for (k = NAGIOS; k <= ICINGA; k++) {
				struct writer_opts wo = shadow_opts(i % 2 ? bad[i] : NULL, i % 2 ? NULL : bad[i]);
				char *out;
				size_t len;
				FILE *f = open_memstream(&out, &len);
				struct sd_sink *s = new_sink(k, f, &wo);
				sd_error err = { "" };

				if (k == ICINGA && (!strcmp(bad[i], "a;b") || !strcmp(bad[i], " a")))
					assert_int_equal(s->begin(s->ctx, &meta, &err), 0);     /* Icinga names */
				else if (s->begin(s->ctx, &meta, &err) != -1 || !strstr(err.msg, "notify"))
					fail_msg("'%s' accepted by %s: %s", bad[i], k == NAGIOS ? "Nagios" : "Icinga", err.msg);
				free_sink(k, s);
				fclose(f);
				free(out);
			}
	}
}

/* The remote's custom variables: namespaced, only [A-Za-z0-9_]{1,64}. */
static void shadow_vars(void **state)
{
	static const struct { const char *name; int ok; } cases[] = {
		{ "notification", 1 }, { "A", 1 }, { "_", 1 }, { "a_B_9", 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 1 },
		{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 0 },
		{ "A-B", 0 }, { "", 0 }, { "a b", 0 }, { "a.b", 0 }, { "a\"b", 0 }, { "\xc3\xa4", 0 },
		{ "a$", 0 }, { "a\n", 0 },
	};
	struct writer_opts wo = shadow_opts(NULL, NULL);
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sd_var v = { (char *)cases[i].name, "value" };
		struct sd_object h = plain_host("h");
		char *out, msg[SD_ERRLEN], want[200];

		h.vars = &v;
		h.nvars = 1;
		assert_int_equal(writer_shadow_var_problem(cases[i].name) == NULL, cases[i].ok);
		assert_int_equal(one(NAGIOS, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
		snprintf(want, sizeof(want), "    _SITEDUMP_REMOTE_%s", cases[i].name);
		assert_int_equal(strstr(out, want) != NULL, cases[i].ok);
		assert_int_equal(strstr(out, " value\n") != NULL, cases[i].ok);
		free(out);
		assert_int_equal(one(ICINGA, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
		snprintf(want, sizeof(want), "  vars.sitedump_remote[\"%s\"] = \"value\"\n", cases[i].name);
		assert_int_equal(strstr(out, want) != NULL, cases[i].ok);
		assert_int_equal(strstr(out, "value") != NULL, cases[i].ok);
		free(out);
	}
	/* a remote "notification" cannot meet the stock assign rule, nor
	 * "sitedump_site" siteload's: both are inside the namespace */
	{
		struct sd_var v[] = { { "notification", "{ mail = true }" }, { "sitedump_site", "other" } };
		struct sd_object h = plain_host("h");
		char *out, msg[SD_ERRLEN];

		h.vars = v;
		h.nvars = 2;
		assert_int_equal(one(ICINGA, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
		assert_null(strstr(out, "vars.notification"));
		assert_non_null(strstr(out, "  vars.sitedump_site = \"site1\"\n"));
		assert_non_null(strstr(out, "  vars.sitedump_remote[\"sitedump_site\"] = \"other\"\n"));
		free(out);
		assert_int_equal(one(NAGIOS, &wo, &h, NULL, &out, msg, sizeof(msg)), 0);
		assert_non_null(strstr(out, "    _SITEDUMP_SITE          site1\n"));
		assert_non_null(strstr(out, "    _SITEDUMP_REMOTE_sitedump_site other\n"));
		free(out);
	}
}

/* Groups: group_prefix on definitions and references, bad ones skipped. */
static void shadow_groups(void **state)
{
	static char *refs[] = { "linux", "a$b", "q\"uote" };
	struct writer_opts wo = shadow_opts(NULL, NULL);
	struct sd_group ok = { SD_SERVICE, "web", "Web `services`" }, bad = { SD_HOST, "a$b", "" };
	struct sd_object s = plain_svc("web01", "HTTP");
	char *out, msg[SD_ERRLEN];

	s.groups = LIST(refs);
	assert_int_equal(one(NAGIOS, &wo, NULL, &ok, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out, "define servicegroup {\n    servicegroup_name       SITE:web\n"
			    "    alias                   Web \xef\xbd\x80services\xef\xbd\x80\n}\n\n");
	free(out);
	assert_int_equal(one(ICINGA, &wo, NULL, &ok, &out, msg, sizeof(msg)), 0);
	assert_string_equal(out, "object ServiceGroup \"SITE:web\" {\n"
			    "  display_name = \"Web \xef\xbd\x80services\xef\xbd\x80\"\n}\n\n");
	free(out);
	assert_int_equal(one(NAGIOS, &wo, NULL, &bad, &out, msg, sizeof(msg)), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(msg, "'$' in the name"));
	free(out);
	assert_int_equal(one(ICINGA, &wo, NULL, &bad, &out, msg, sizeof(msg)), 1);
	assert_string_equal(out, "");
	assert_non_null(strstr(msg, "one of $ ` \" ' | & < > in the name"));
	free(out);
	assert_int_equal(one(NAGIOS, &wo, &s, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "    servicegroups           SITE:linux\n"));
	free(out);
	assert_int_equal(one(ICINGA, &wo, &s, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "  groups = [ \"SITE:linux\" ]\n"));
	free(out);
	/* no group_prefix: the prefix */
	wo.group_prefix = NULL;
	assert_int_equal(one(ICINGA, &wo, &s, NULL, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "  groups = [ \"r1-linux\" ]\n"));
	free(out);
	assert_int_equal(one(NAGIOS, &wo, NULL, &ok, &out, msg, sizeof(msg)), 0);
	assert_non_null(strstr(out, "    servicegroup_name       r1-web\n"));
	free(out);
}

/* Icinga 2 names in shadow mode: what Nagios's illegal chars refuse too. */
static void shadow_names(void **state)
{
	static const struct { const char *host, *desc; } bad[] = {
		{ "a$b", NULL }, { "a`b", NULL }, { "a\"b", NULL }, { "it's", NULL }, { "end\\", NULL },
		{ "web01", "$(id)" }, { "web01", "say \"x\"" }, { "web01", "C:\\" }, { "a!b", NULL },
		{ "a&&id>/tmp/x&&b", NULL }, { "c|sh -c id|d", NULL }, { "x<(id)", NULL },
		{ "web01", "-oProxyCommand=id" },
	};
	struct writer_opts wo = shadow_opts(NULL, NULL);
	char *out, msg[SD_ERRLEN];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sd_object o = bad[i].desc ? plain_svc(bad[i].host, bad[i].desc) : plain_host(bad[i].host);
		const char *name = bad[i].desc ? bad[i].desc : bad[i].host;

		assert_non_null(icinga2_shadow_name_problem(name));
		assert_int_equal(one(ICINGA, &wo, &o, NULL, &out, msg, sizeof(msg)), 1);
		assert_string_equal(out, "");
		free(out);
	}
	assert_null(icinga2_shadow_name_problem("semi;colon (1) C:\\x"));
	assert_null(icinga2_name_problem("a$b"));       /* plain exports: unchanged */
	assert_non_null(strstr(icinga2_shadow_name_problem(""), "empty"));
}

/* Shadow values have lengths: a text is cut at WRITER_TEXT_MAX bytes at a
 * character boundary, a longer URL left out, variables after the first
 * WRITER_VARS_MAX left out; each said in the object's one warning. */
static void shadow_lengths(void **state)
{
	static struct sd_var vars[WRITER_VARS_MAX + 2];
	static char names[WRITER_VARS_MAX + 2][16];
	struct writer_opts wo = shadow_opts(NULL, NULL);
	struct sd_object h = plain_host("big");
	char *alias = malloc(WRITER_TEXT_MAX + 16), *url = malloc(WRITER_TEXT_MAX + 32), msg[SD_ERRLEN];
	const char *v;
	char *copy;
	unsigned changed;
	size_t i;
	int k;

	assert_non_null(alias);
	assert_non_null(url);
	memset(alias, 'a', WRITER_TEXT_MAX + 15);
	memcpy(alias + WRITER_TEXT_MAX - 1, "\xc3\xa4", 2);     /* an 'ä' across the cut */
	alias[WRITER_TEXT_MAX + 15] = 0;
	v = writer_shadow_text(alias, &copy, &changed);
	assert_int_equal(changed, WRITER_CUT);
	assert_int_equal(strlen(v), WRITER_TEXT_MAX - 1);       /* the 'ä' went whole */
	free(copy);
	alias[3] = '$';
	v = writer_shadow_text(alias, &copy, &changed);
	assert_int_equal(changed, WRITER_CUT | WRITER_MAPPED);
	assert_null(strchr(v, '$'));
	free(copy);
	strcpy(url, "https://x.example/");
	memset(url + 18, 'u', WRITER_TEXT_MAX);
	url[WRITER_TEXT_MAX + 18] = 0;
	assert_null(writer_shadow_url(url, &copy, &v));
	assert_non_null(v);
	for (i = 0; i < WRITER_VARS_MAX + 2; i++) {
		snprintf(names[i], sizeof(names[i]), "V%zu", i);
		vars[i].name = names[i];
		vars[i].value = "x";
	}
	h.alias = alias;
	h.notes_url = url;
	h.vars = vars;
	h.nvars = WRITER_VARS_MAX + 2;
	for (k = NAGIOS; k <= ICINGA; k++) {
		struct run r = { 0 };

		assert_int_equal(one_logged(k, &wo, &h, NULL, &r, msg, sizeof(msg)), 0);
		assert_int_equal(count_lines(r.log), 1);
		assert_non_null(strstr(r.log, "cut at 4096 bytes"));
		assert_non_null(strstr(r.log, "notes_url left out: longer than 4096 bytes"));
		assert_non_null(strstr(r.log, "custom variables after the first 100 left out"));
		assert_non_null(strstr(r.out, k == NAGIOS ? "_SITEDUMP_REMOTE_V99 " : "sitedump_remote[\"V99\"]"));
		assert_null(strstr(r.out, k == NAGIOS ? "_SITEDUMP_REMOTE_V100 " : "sitedump_remote[\"V100\"]"));
		free(r.out);
		free(r.log);
	}
	free(alias);
	free(url);
}

/* The fuzz target's property on random sites (tests/fuzz/fuzz_config_writers.c). */
static void shadow_random(void **state)
{
	struct cw_site *site = malloc(sizeof(*site));
	uint64_t i;

	assert_non_null(site);
	for (i = 1; i <= 2000; i++) {
		struct cw_src src = { NULL, 0, 0, i * 0x9e3779b97f4a7c15ULL };

		cw_decode(site, &src);
		cw_check_site(site);            /* aborts with the output on a broken promise */
		cw_site_free(site);
	}
	free(site);
}

/* A shadow site against files validate.sh checks with the daemons. */
static void shadow_golden(void **state)
{
	struct sd_object objs[40];
	size_t n = site_objects(objs), ng = sizeof(site_groups) / sizeof(site_groups[0]);
	struct writer_opts a = shadow_opts("admin", "admins"), b = shadow_opts(NULL, NULL);
	const char *argv[] = { "/usr/bin/siteload", "stale", "--site", NULL };
	struct run r[4];
	char *report;
	size_t reportlen;
	FILE *f;

	objs[n] = host_attack();
	objs[n++].host_name = "attack";
	a.prefix = "s1-";
	a.templates = 1;
	a.stale_argv = argv;
	a.stale_after = 600;
	b.prefix = "s2-";
	b.group_prefix = "S2:";
	b.stale_argv = argv;
	b.stale_after = 600;
	memset(r, 0, sizeof(r));
	run_site(&r[0], NAGIOS, &a, site_groups, ng, objs, n);
	run_site(&r[1], NAGIOS, &b, site_groups, ng, objs, n);
	run_site(&r[2], ICINGA, &a, site_groups, ng, objs, n);
	run_site(&r[3], ICINGA, &b, site_groups, ng, objs, n);
	assert_golden("nagios_shadow1.cfg", r[0].out, r[0].len);
	assert_golden("nagios_shadow2.cfg", r[1].out, r[1].len);
	assert_golden("icinga2_shadow1.conf", r[2].out, r[2].len);
	assert_golden("icinga2_shadow2.conf", r[3].out, r[3].len);
	f = open_memstream(&report, &reportlen);
	fprintf(f, "# skipped/warned reports of the shadow1 runs\n\n## nagios\n%s\n## icinga2\n%s",
		r[0].log, r[2].log);
	fclose(f);
	assert_golden("reports_shadow1.txt", report, reportlen);
	free(report);
	for (n = 0; n < 4; n++)
		run_free(&r[n]);
}

/* Write text to path; 1 if it worked. */
static int f_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		perror(path);
		return 0;
	}
	fputs(text, f);
	return fclose(f) == 0;
}

/* The templates siteload writes, for generate. */
static int put_templates_file(const char *dir, int nagios, const char *const *argv)
{
	struct writer_opts wo = { .templates = 1, .prefix = "" };
	struct cw_site *empty = calloc(1, sizeof(*empty));
	char path[4096], *out;
	int maxw, ok;

	if (!empty)
		return 0;
	wo.stale_argv = argv;
	wo.stale_after = 600;
	out = cw_write(empty, nagios, &wo, &maxw);
	snprintf(path, sizeof(path), "%s/%s", dir, nagios ? "nagios-templates.cfg" : "icinga2-templates.conf");
	ok = f_put(path, out);
	free(out);
	free(empty);
	return ok;
}

/*
 * test_config_writers generate SEED COUNT DIR: COUNT random hostile sites
 * (the fuzz target's decoder) through both writers in shadow mode, into
 * DIR/nagios/N.cfg and DIR/icinga2/N.conf, site N with prefix "rN-" and
 * groups "SN:" (or the prefix), plus siteload's templates; for
 * tests/0021-config-validate.t. Exit 1 if a check of the fuzz target fails.
 */
static int generate(unsigned long long seed, unsigned count, const char *dir)
{
	const char *nargv[] = { "/bin/echo", "stale", "$_HOSTSITEDUMP_SITE$", NULL };
	const char *iargv[] = { "/bin/echo", "stale", "$host.vars.sitedump_site$", NULL };
	struct cw_site *site = malloc(sizeof(*site));
	char path[4096], prefix[32], gprefix[32], sitename[32];
	unsigned i;
	int nagios, bad = 0;

	if (!site || !put_templates_file(dir, 1, nargv) || !put_templates_file(dir, 0, iargv))
		return 2;
	for (i = 0; i < count; i++) {
		struct cw_src src = { NULL, 0, 0, (seed * 1000003 + i + 1) * 0x9e3779b97f4a7c15ULL };
		struct writer_opts wo;

		cw_decode(site, &src);
		snprintf(prefix, sizeof(prefix), "r%u-", i);
		snprintf(gprefix, sizeof(gprefix), "S%u:", i);
		snprintf(sitename, sizeof(sitename), "site%u", i);
		cw_opts(site, &wo, prefix, gprefix, sitename);
		for (nagios = 0; nagios < 2; nagios++) {
			int maxw, line;
			const char *why;
			char *out;

			wo.stale_argv = nagios ? nargv : iargv;
			wo.stale_after = 600;
			out = cw_write(site, nagios, &wo, &maxw);
			why = nagios ? cw_check_nagios(out, &wo, &line) : cw_check_icinga2(out, &wo, &line);
			if (why || maxw > 1) {
				fprintf(stderr, "record %u (%s): %s at line %d\n", i, nagios ? "nagios" : "icinga2",
					why ? why : "more than one warning", line);
				bad = 1;
			}
			snprintf(path, sizeof(path), "%s/%s/%u.%s", dir, nagios ? "nagios" : "icinga2", i,
				 nagios ? "cfg" : "conf");
			if (!f_put(path, out))
				return 2;
			free(out);
		}
		cw_site_free(site);
	}
	free(site);
	return bad;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nagios_normal),
		cmocka_unit_test(icinga_normal),
		cmocka_unit_test(templates),
		cmocka_unit_test(nagios_skips),
		cmocka_unit_test(nagios_text),
		cmocka_unit_test(icinga_skips),
		cmocka_unit_test(icinga_strings),
		cmocka_unit_test(icinga_vars),
		cmocka_unit_test(durations),
		cmocka_unit_test(golden),
		cmocka_unit_test(write_error),
		cmocka_unit_test(shadow_attack),
		cmocka_unit_test(shadow_every_metachar),
		cmocka_unit_test(shadow_urls),
		cmocka_unit_test(shadow_address),
		cmocka_unit_test(shadow_contacts),
		cmocka_unit_test(shadow_vars),
		cmocka_unit_test(shadow_groups),
		cmocka_unit_test(shadow_names),
		cmocka_unit_test(shadow_lengths),
		cmocka_unit_test(shadow_random),
		cmocka_unit_test(shadow_golden),
	};

	if (argc == 5 && !strcmp(argv[1], "generate"))
		return generate(strtoull(argv[2], NULL, 10), (unsigned)strtoul(argv[3], NULL, 10), argv[4]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
