/*
 * icinga2_dsl.c - the config part as Icinga 2 DSL objects.
 *
 * Why (measured with icinga2 2.13.6 daemon -C; tests/data/config/validate.sh):
 * - DSL strings have a full escape set (\" \\ \n \r \t \b \f, octal), so text
 *   is carried unchanged. Lexer traps: a raw newline is "Unterminated string
 *   literal", "\$" is a bad escape, and "\0017" (octal then digit) is one bad
 *   escape: digits after an octal escape are octal-escaped too.
 * - Every string in vars is validated as a macro string ("Closing $ not
 *   found" for an odd number of '$'): there, and only then, '$' becomes "$$".
 * - "Object names may not contain '!'" (it joins host and service): skipped.
 *   Control characters in names are skipped too: Icinga takes them, but
 *   Livestatus, commands and status.dat would split them.
 * - check-livedump sets `execute = PluginCheck`: valid with and without the ITL.
 * - No Dependency objects for parents: passive results for a service that is
 *   unreachable through one are ignored, which would freeze the mirror just
 *   when the remote reports a problem. Parents, contacts and the remote check
 *   command are kept as vars.sitedump_*.
 * - The prefix goes on host and group names: otherwise two remotes with a
 *   group "linux" give "Object 'linux' of type 'HostGroup' re-defined".
 */
#include <stdlib.h>
#include <string.h>
#include "icinga2_dsl.h"

struct iw {
	struct sd_sink sink;
	FILE *out;
	const char *prefix;
	int templates;
	int contact_groups;
	int check_interval;
	const char *const *stale_argv;
	int stale_after;
	const char *site;
};

const char *icinga2_name_problem(const char *s)
{
	const unsigned char *p;

	if (!*s)
		return "empty name";
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p == '!')
			return "'!' in the name: Icinga 2 object names may not contain '!'";
		if (*p < 0x20 || *p == 0x7f)
			return "control character in the name";
	}
	return NULL;
}

/* dd: write '$' as "$$" (the macro escape). */
static void put_str(FILE *f, const char *s, int dd)
{
	const unsigned char *p;
	int after_octal = 0;

	putc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		int octal = 0;

		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '$': fputs(dd ? "$$" : "$", f); break;
		default:
			if (*p < 0x20 || *p == 0x7f || (after_octal && *p >= '0' && *p <= '9')) {
				fprintf(f, "\\%03o", *p);
				octal = 1;
			} else {
				putc(*p, f);
			}
		}
		after_octal = octal;
	}
	putc('"', f);
}

void icinga2_put_string(FILE *f, const char *s)
{
	put_str(f, s, 0);
}

/*
 * A string inside vars. Icinga validates every string in vars as a macro
 * string: an odd number of '$' fails with "Closing $ not found in macro
 * format string". Such values get every '$' doubled ("$$" is a literal '$'
 * when the macro is resolved) and are reported; the rest go unchanged,
 * $MACRO$ included, as an Icinga remote had them.
 */
static void put_var_string(struct iw *w, const char *what, const char *key, const char *s)
{
	const char *p;
	int n = 0;

	for (p = s; *p; p++)
		n += *p == '$';
	put_str(w->out, s, n % 2);
	if (n % 2 && w->sink.warned) {
		char why[600];

		snprintf(why, sizeof(why), "vars %s: odd number of '$' written as \"$$\" (Icinga reads "
			 "vars as macro strings and refuses an unclosed '$')", key);
		w->sink.warned(w->sink.report_ctx, what, why);
	}
}

static void warn(struct iw *w, const char *what, const char *why)
{
	if (w->sink.warned)
		w->sink.warned(w->sink.report_ctx, what, why);
}

/* Minutes as a DSL duration: 1m, 90s, 7.5s (the lexer has no exponents). */
static void fmt_duration(char *buf, size_t len, double minutes)
{
	double secs = minutes * 60.0;
	long long whole = (long long)(secs + 0.5);
	char *e;

	if (secs < 9e15 && (double)whole == secs) {
		if (whole % 60 == 0)
			snprintf(buf, len, "%lldm", whole / 60);
		else
			snprintf(buf, len, "%llds", whole);
		return;
	}
	snprintf(buf, len, "%.6f", secs);
	for (e = buf + strlen(buf); e > buf && e[-1] == '0'; e--)
		;
	if (e > buf && e[-1] == '.')
		e--;
	snprintf(e, len - (size_t)(e - buf), "s");
}

static int is_keyword(const char *s)
{
	static const char *const kw[] = {
		"object", "template", "include", "include_recursive", "include_zones", "library",
		"null", "true", "false", "const", "var", "this", "globals", "locals", "use",
		"__using", "using", "namespace", "apply", "default", "to", "where", "import",
		"assign", "ignore", "function", "return", "break", "continue", "for", "if",
		"else", "while", "throw", "try", "except", "ignore_on_error", "current_filename",
		"current_line", "debugger", "in", NULL
	};
	size_t i;

	for (i = 0; kw[i]; i++)
		if (!strcmp(s, kw[i]))
			return 1;
	return 0;
}

static int is_identifier(const char *s)
{
	const char *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (p = s + 1; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_'))
			return 0;
	return !is_keyword(s);
}

/* `  key = "value"`, left out when the value is empty. */
static void put_attr(struct iw *w, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	fprintf(w->out, "  %s = ", key);
	icinga2_put_string(w->out, value);
	putc('\n', w->out);
}

static void put_var_key(struct iw *w, const char *name)
{
	if (is_identifier(name)) {
		fprintf(w->out, "  vars.%s = ", name);
	} else {
		fputs("  vars[", w->out);
		icinga2_put_string(w->out, name);
		fputs("] = ", w->out);
	}
}

/*
 * `  key = [ "a", "b" ]` of the prefixed elements; with check set, names
 * that cannot be objects are dropped and reported. Left out when empty.
 * -1 on out of memory.
 */
static int put_list(struct iw *w, const char *what, const char *key, int var,
		    const struct sd_strlist *l, const char *prefix, int check)
{
	size_t i;
	int n = 0;

	for (i = 0; i < l->n; i++) {
		const char *name = l->v[i] ? l->v[i] : "";
		const char *p = NULL;
		size_t len = strlen(prefix) + strlen(name) + 1;
		char *full = malloc(len);

		if (!full)
			return -1;
		snprintf(full, len, "%s%s", prefix, name);
		if (!*name || (check && (p = icinga2_name_problem(full)))) {
			char why[1024];

			if (p)
				snprintf(why, sizeof(why), "%s: '%s' left out: %s", key, full, p);
			else
				snprintf(why, sizeof(why), "%s: an empty name left out", key);
			warn(w, what, why);
			free(full);
			continue;
		}
		if (!n++) {
			if (var)
				put_var_key(w, key);
			else
				fprintf(w->out, "  %s = ", key);
			fputs("[ ", w->out);
		} else {
			fputs(", ", w->out);
		}
		if (var)
			put_var_string(w, what, key, full);
		else
			icinga2_put_string(w->out, full);
		free(full);
	}
	if (n)
		fputs(" ]\n", w->out);
	return 0;
}

static int reserved_var(const char *name)
{
	return !strcmp(name, "sitedump_check_command") || !strcmp(name, "sitedump_parents") ||
	       !strcasecmp(name, "sitedump_site") ||
	       !strcmp(name, "sitedump_contacts") || !strcmp(name, "sitedump_contact_groups");
}

/* siteload's variant: Icinga 2 reschedules the next check whenever a
 * passive result arrives, so an active check that only runs after
 * stale_after seconds without one is its freshness check. */
static void put_stale_templates(struct iw *w)
{
	const char *const *a;

	fputs("object CheckCommand \"sitedump-stale\" {\n  execute = PluginCheck\n  command = [", w->out);
	for (a = w->stale_argv; *a; a++) {
		fputs(a == w->stale_argv ? " " : ", ", w->out);
		icinga2_put_string(w->out, *a);
	}
	fputs(" ]\n}\n\n", w->out);
	fprintf(w->out,
		"template Host \"livedump-host\" {\n"
		"  check_command = \"sitedump-stale\"\n"
		"  enable_active_checks = true\n"
		"  enable_passive_checks = true\n"
		"  max_check_attempts = 1\n"
		"  check_interval = %ds\n"
		"  retry_interval = %ds\n"
		"}\n\n"
		"template Service \"livedump-service\" {\n"
		"  check_command = \"sitedump-stale\"\n"
		"  enable_active_checks = true\n"
		"  enable_passive_checks = true\n"
		"  max_check_attempts = 1\n"
		"  check_interval = %ds\n"
		"  retry_interval = %ds\n"
		"}\n\n", w->stale_after, w->stale_after, w->stale_after, w->stale_after);
}

static void put_templates(struct iw *w)
{
	char ci[64] = "";

	if (w->stale_argv) {
		put_stale_templates(w);
		return;
	}

	if (w->check_interval > 0)
		snprintf(ci, sizeof(ci), "  check_interval = %dm\n", w->check_interval);
	fprintf(w->out,
		"object CheckCommand \"check-livedump\" {\n"
		"  execute = PluginCheck\n"
		"  command = [ \"/bin/sh\", \"-c\", \"echo 'UNKNOWN - sitedump shadow object: results "
		"come from the remote site, it cannot be checked here' && exit 3\" ]\n"
		"}\n\n"
		"template Host \"livedump-host\" {\n"
		"  check_command = \"check-livedump\"\n"
		"  enable_active_checks = false\n"
		"  enable_passive_checks = true\n"
		"  max_check_attempts = 1\n"
		"%s"
		"}\n\n"
		"template Service \"livedump-service\" {\n"
		"  check_command = \"check-livedump\"\n"
		"  enable_active_checks = false\n"
		"  enable_passive_checks = true\n"
		"  max_check_attempts = 1\n"
		"%s"
		"}\n\n", ci, ci);
}

static int write_error(FILE *f, sd_error *err)
{
	return ferror(f) ? sd_fail(err, "write error") : 0;
}

static int i_begin(void *ctx, const struct sd_meta *meta, sd_error *err)
{
	struct iw *w = ctx;
	writer_put_header(w->out, "Icinga 2 objects", meta);
	if (w->templates)
		put_templates(w);
	return write_error(w->out, err);
}

static int i_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct iw *w = ctx;
	const char *type = g->type == SD_HOST ? "HostGroup" : "ServiceGroup";
	const char *p;
	size_t len = strlen(w->prefix) + strlen(g->name ? g->name : "") + 1;
	char *name = malloc(len);

	if (!name)
		return sd_fail(err, "out of memory");
	snprintf(name, len, "%s%s", w->prefix, g->name ? g->name : "");
	if ((p = icinga2_name_problem(name))) {
		sd_fail(err, "%s name cannot be written for Icinga 2: %s", type, p);
		free(name);
		return 1;
	}
	fprintf(w->out, "object %s ", type);
	icinga2_put_string(w->out, name);
	free(name);
	fputs(" {\n", w->out);
	put_attr(w, "display_name", g->alias);
	fputs("}\n\n", w->out);
	return write_error(w->out, err);
}

static void put_interval(struct iw *w, const char *key, double minutes)
{
	char buf[64];

	if (minutes > 0) {
		fmt_duration(buf, sizeof(buf), minutes);
		fprintf(w->out, "  %s = %s\n", key, buf);
	}
}

static int i_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct iw *w = ctx;
	int svc = o->type == SD_SERVICE;
	char what[600];
	const char *p;
	char *host;
	size_t len, i;

	len = strlen(w->prefix) + strlen(o->host_name ? o->host_name : "") + 1;
	if (!(host = malloc(len)))
		return sd_fail(err, "out of memory");
	snprintf(host, len, "%s%s", w->prefix, o->host_name ? o->host_name : "");
	if ((p = icinga2_name_problem(host))) {
		sd_fail(err, "host name cannot be written for Icinga 2: %s", p);
		free(host);
		return 1;
	}
	if (svc && (p = icinga2_name_problem(o->description ? o->description : ""))) {
		sd_fail(err, "service name cannot be written for Icinga 2: %s", p);
		free(host);
		return 1;
	}
	sd_object_label(o, what, sizeof(what));
	fputs(svc ? "object Service " : "object Host ", w->out);
	icinga2_put_string(w->out, svc ? o->description : host);
	fprintf(w->out, " {\n  import \"%s\"\n", svc ? "livedump-service" : "livedump-host");
	if (svc) {
		put_attr(w, "host_name", host);
	} else {
		put_attr(w, "display_name", o->alias);
		put_attr(w, "address", o->address);
	}
	if (put_list(w, what, "groups", 0, &o->groups, w->prefix, 1) < 0)
		goto oom;
	if (o->max_check_attempts > 0)
		fprintf(w->out, "  max_check_attempts = %d\n", o->max_check_attempts);
	if (!w->stale_argv) {
		put_interval(w, "check_interval", o->check_interval);
		put_interval(w, "retry_interval", o->retry_interval);
	} else if (o->check_interval > 0 && o->check_interval < 1e6) {
		/* the interval is the stale check's threshold: the remote's own
		 * interval plus the time a bundle may take */
		long long t = (long long)(o->check_interval * 60) + w->stale_after;
		fprintf(w->out, "  check_interval = %llds\n  retry_interval = %llds\n", t, t);
	}
	if (!svc && w->site) {
		fputs("  vars.sitedump_site = ", w->out);
		icinga2_put_string(w->out, w->site);
		putc('\n', w->out);
	}
	put_attr(w, "notes", o->notes);
	put_attr(w, "notes_url", o->notes_url);
	put_attr(w, "action_url", o->action_url);
	put_attr(w, "icon_image", o->icon_image);
	if (o->check_command && *o->check_command) {
		fputs("  vars.sitedump_check_command = ", w->out);
		put_var_string(w, what, "sitedump_check_command", o->check_command);
		putc('\n', w->out);
	}
	if (!svc && put_list(w, what, "sitedump_parents", 1, &o->parents, w->prefix, 0) < 0)
		goto oom;
	if (w->contact_groups ? put_list(w, what, "sitedump_contact_groups", 1, &o->contact_groups, "", 0) < 0
			      : put_list(w, what, "sitedump_contacts", 1, &o->contacts, "", 0) < 0)
		goto oom;
	for (i = 0; i < o->nvars; i++) {
		const char *name = o->vars[i].name ? o->vars[i].name : "";
		char why[600];

		if (!*name || reserved_var(name)) {
			snprintf(why, sizeof(why), "custom variable '%s' left out: %s", name,
				 *name ? "the name is reserved for sitedump" : "empty name");
			warn(w, what, why);
			continue;
		}
		put_var_key(w, name);
		put_var_string(w, what, name, o->vars[i].value ? o->vars[i].value : "");
		putc('\n', w->out);
	}
	fputs("}\n\n", w->out);
	free(host);
	return write_error(w->out, err);
oom:
	fputs("}\n\n", w->out);
	free(host);
	return sd_fail(err, "out of memory");
}

static int i_end(void *ctx, sd_error *err)
{
	return writer_end(((struct iw *)ctx)->out, err);
}

struct sd_sink *icinga2_writer_new(FILE *out, const struct writer_opts *o)
{
	struct iw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	w->out = out;
	w->prefix = o && o->prefix ? o->prefix : "";
	w->templates = o ? o->templates : 0;
	w->contact_groups = o ? o->contact_groups : 0;
	w->check_interval = o ? o->check_interval : 0;
	w->stale_argv = o ? o->stale_argv : NULL;
	w->stale_after = o ? o->stale_after : 0;
	w->site = o ? o->site : NULL;
	w->sink.ctx = w;
	w->sink.begin = i_begin;
	w->sink.group = i_group;
	w->sink.object = i_object;
	w->sink.end = i_end;
	return &w->sink;
}

void icinga2_writer_free(struct sd_sink *s)
{
	free(s);
}
