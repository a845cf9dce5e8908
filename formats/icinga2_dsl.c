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
 *
 * Shadow mode (o->site set: siteload; the remote is untrusted, writer.c):
 * - Strings keep their DSL escapes, but what a macro can carry into the
 *   central's commands is mapped by writer_shadow_*: look-alikes in free
 *   text (display_name, notes, vars), URLs http(s) or relative. No '$'
 *   is left, so no value needs "$$".
 * - No `address`: the stock apply rules (ping4: `assign where
 *   host.address`, ssh) would make the central check an address the
 *   remote chose. It is kept, as a host name or IP literal only, in
 *   vars.sitedump_address.
 * - The remote's custom variables live in the one dictionary
 *   vars.sitedump_remote["name"] (names [A-Za-z0-9_]{1,64}): a remote
 *   "notification" var broke the stock notifications.conf
 *   (host.vars.notification.mail), and no central apply rule may match
 *   on what a remote chose. Icinga creates the dictionary at the first
 *   index; an object without variables has none.
 * - No remote contacts: the central's own users go into
 *   vars.sitedump_notify_users / vars.sitedump_notify_user_groups for
 *   the central's Notification apply rule; with none,
 *   enable_notifications = false.
 * - Names with $ ` " ' or a final '\' are refused (icinga2_shadow_name_problem):
 *   Nagios's illegal_object_name_chars refuses those, and a final
 *   backslash escapes the closing quote of "$host.name$" in a shell.
 * - Everything changed or left out is one warning per record.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "formats/icinga2_dsl.h"

/* the longest name of the central's users in writer_opts, plus one */
#define NAME_MAX_LIST 512

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
	int shadow;
	const char *group_prefix;       /* group names: group_prefix, else prefix */
	const char *notify_contacts, *notify_contact_groups;    /* shadow: "" = none */
	/* shadow mode: what was changed in the record, one warning at its end */
	struct writer_notes notes;
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

const char *icinga2_shadow_name_problem(const char *s)
{
	const char *p = icinga2_name_problem(s);
	size_t n;

	if (p)
		return p;
	/* Icinga 2 runs a command given as a string through sh -c with its
	 * macros unescaped: what would start a command there, or an option */
	if (strpbrk(s, "$`\"'|&<>"))
		return "one of $ ` \" ' | & < > in the name: it would reach the central's commands through "
		       "macros (Nagios's illegal_object_name_chars refuses them too)";
	if (s[0] == '-')
		return "a name starting with '-' would be read as an option where a command passes it";
	n = strlen(s);
	if (s[n - 1] == '\\')
		return "the name ends in a backslash: it would escape the closing quote of \"$host.name$\"";
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
static void warn(struct iw *w, const char *what, const char *why);
static int put_shadow_string(struct iw *w, const char *key, const char *s);

static int put_var_string(struct iw *w, const char *what, const char *key, const char *s)
{
	const char *p;
	int n = 0;

	if (w->shadow)
		return put_shadow_string(w, key, s);
	for (p = s; *p; p++)
		n += *p == '$';
	put_str(w->out, s, n % 2);
	if (n % 2 && w->sink.warned) {
		char why[600];

		snprintf(why, sizeof(why), "vars %s: odd number of '$' written as \"$$\" (Icinga reads "
			 "vars as macro strings and refuses an unclosed '$')", key);
		w->sink.warned(w->sink.report_ctx, what, why);
	}
	return 0;
}

/* Shadow mode: the record's one warning, if anything was changed. */
static void notes_flush(struct iw *w, const char *what)
{
	if (w->notes.len && w->sink.warned)
		w->sink.warned(w->sink.report_ctx, what, w->notes.text);
	writer_notes_clear(&w->notes);
}

static void warn(struct iw *w, const char *what, const char *why)
{
	if (w->shadow)
		writer_notes_add(&w->notes, why);
	else if (w->sink.warned)
		w->sink.warned(w->sink.report_ctx, what, why);
}

/* Shadow mode: free text as a string, metacharacters as look-alikes. -1
 * on out of memory. */
static int put_shadow_string(struct iw *w, const char *key, const char *s)
{
	char *copy, why[600];
	unsigned changed;
	const char *v = writer_shadow_text(s, &copy, &changed);

	if (!v)
		return -1;
	if (changed) {
		snprintf(why, sizeof(why), "%s: %s", key, writer_shadow_change(changed));
		writer_notes_add(&w->notes, why);
	}
	put_str(w->out, v, 0);
	free(copy);
	return 0;
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

/* A free-text attribute, mapped in shadow mode; left out when empty. -1
 * on out of memory. */
static int put_text(struct iw *w, const char *key, const char *value)
{
	if (!w->shadow || !value || !*value) {
		put_attr(w, key, value);
		return 0;
	}
	fprintf(w->out, "  %s = ", key);
	if (put_shadow_string(w, key, value) < 0)
		return -1;
	putc('\n', w->out);
	return 0;
}

/* A URL attribute: in shadow mode http(s) or relative only, percent-encoded.
 * -1 on out of memory. */
static int put_url(struct iw *w, const char *key, const char *value)
{
	const char *v, *reason;
	char *copy, why[600];

	if (!w->shadow || !value || !*value) {
		put_attr(w, key, value);
		return 0;
	}
	if (!(v = writer_shadow_url(value, &copy, &reason))) {
		if (!reason)
			return -1;
		snprintf(why, sizeof(why), "%s left out: %s", key, reason);
		writer_notes_add(&w->notes, why);
		return 0;
	}
	if (copy) {
		snprintf(why, sizeof(why), "%s: metacharacters, spaces and control characters percent-encoded", key);
		writer_notes_add(&w->notes, why);
	}
	put_attr(w, key, v);
	free(copy);
	return 0;
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
		if (!*name || (check && (p = w->shadow ? icinga2_shadow_name_problem(full)
							 : icinga2_name_problem(full)))) {
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
		if (var && put_var_string(w, what, key, full) < 0) {
			free(full);
			return -1;
		}
		if (!var)
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

/* Shadow mode: the central's names are written as given, so each must be
 * one Icinga 2 can carry (siteload checked them; a mistake is fatal here
 * rather than a config Icinga refuses). */
static int names_check(const char *what, const char *list, sd_error *err)
{
	const char *p, *e, *problem;
	char one[NAME_MAX_LIST];

	if (!*list)
		return 0;
	for (p = list;; p = e + 1) {
		e = p + strcspn(p, ",");
		snprintf(one, sizeof(one), "%.*s", (int)(e - p), p);
		if ((problem = icinga2_shadow_name_problem(one)) || (size_t)(e - p) >= sizeof(one))
			return sd_fail(err, "%s: '%s' cannot be written for Icinga 2: %s", what, one,
				       problem ? problem : "too long");
		if (!*e)
			return 0;
	}
}

static int i_begin(void *ctx, const struct sd_meta *meta, sd_error *err)
{
	struct iw *w = ctx;

	if (w->shadow && (names_check("notify users", w->notify_contacts, err) < 0 ||
			  names_check("notify user groups", w->notify_contact_groups, err) < 0))
		return -1;
	writer_put_header(w->out, "Icinga 2 objects", meta);
	if (w->templates)
		put_templates(w);
	return write_error(w->out, err);
}

/* The name check of the mode: shadow mode refuses more (see the top). */
static const char *name_problem(const struct iw *w, const char *s)
{
	return w->shadow ? icinga2_shadow_name_problem(s) : icinga2_name_problem(s);
}

static int i_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct iw *w = ctx;
	const char *type = g->type == SD_HOST ? "HostGroup" : "ServiceGroup";
	const char *p;
	size_t len = strlen(w->group_prefix) + strlen(g->name ? g->name : "") + 1;
	char *name = malloc(len), what[600];

	if (!name)
		return sd_fail(err, "out of memory");
	snprintf(name, len, "%s%s", w->group_prefix, g->name ? g->name : "");
	if ((p = name_problem(w, name))) {
		sd_fail(err, "%s name cannot be written for Icinga 2: %s", type, p);
		free(name);
		return 1;
	}
	snprintf(what, sizeof(what), "%s '%s'", g->type == SD_HOST ? "hostgroup" : "servicegroup", name);
	fprintf(w->out, "object %s ", type);
	icinga2_put_string(w->out, name);
	free(name);
	fputs(" {\n", w->out);
	if (put_text(w, "display_name", g->alias) < 0)
		return sd_fail(err, "out of memory");
	fputs("}\n\n", w->out);
	notes_flush(w, what);
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

/* `  vars.KEY = [ "a", "b" ]` of a comma-separated list (the central's
 * own names, each shorter than NAME_MAX_LIST: checked by begin). */
static void put_name_list(struct iw *w, const char *key, const char *list)
{
	char one[NAME_MAX_LIST];
	const char *p, *e;

	fprintf(w->out, "  vars.%s = [ ", key);
	for (p = list;; p = e + 1) {
		e = p + strcspn(p, ",");
		snprintf(one, sizeof(one), "%.*s", (int)(e - p), p);
		icinga2_put_string(w->out, one);
		if (!*e)
			break;
		fputs(", ", w->out);
	}
	fputs(" ]\n", w->out);
}

/* Shadow mode: the address only as a host name or an IP literal, and only
 * in vars (see the top). */
static void shadow_host_address(struct iw *w, const char *address)
{
	if (!address || !*address)
		return;
	if (!writer_shadow_address(address)) {
		writer_notes_add(&w->notes, "address left out: not a host name or an IP address");
		return;
	}
	fputs("  vars.sitedump_address = ", w->out);
	icinga2_put_string(w->out, address);
	putc('\n', w->out);
}

/* Shadow mode: the central's users instead of the remote's contacts, and
 * the remote's variables in vars.sitedump_remote. -1 on out of memory. */
static int shadow_tail(struct iw *w, const struct sd_object *o)
{
	char why[600];
	size_t i, j;

	if (*w->notify_contacts)
		put_name_list(w, "sitedump_notify_users", w->notify_contacts);
	if (*w->notify_contact_groups)
		put_name_list(w, "sitedump_notify_user_groups", w->notify_contact_groups);
	if (!*w->notify_contacts && !*w->notify_contact_groups)
		fputs("  enable_notifications = false\n", w->out);
	for (i = 0; i < o->nvars; i++) {
		const char *name = o->vars[i].name ? o->vars[i].name : "", *p;

		if (i == WRITER_VARS_MAX) {
			writer_notes_add(&w->notes, "custom variables after the first 100 left out");
			break;
		}
		if ((p = writer_shadow_var_problem(name))) {
			char pr[80];

			for (j = 0; name[j] && j < 64; j++)
				pr[j] = name[j] > ' ' && name[j] < 0x7f && name[j] != '\'' ? name[j] : '?';
			strcpy(pr + j, name[j] ? "..." : "");
			snprintf(why, sizeof(why), "custom variable '%s' left out: %s", pr, p);
			writer_notes_add(&w->notes, why);
			continue;
		}
		snprintf(why, sizeof(why), "sitedump_remote[\"%s\"]", name);
		fprintf(w->out, "  vars.%s = ", why);
		if (put_shadow_string(w, why, o->vars[i].value ? o->vars[i].value : "") < 0)
			return -1;
		putc('\n', w->out);
	}
	return 0;
}

/* Not in shadow mode: the remote's contacts and variables as they are. */
static int plain_tail(struct iw *w, const char *what, const struct sd_object *o)
{
	size_t i;

	if (w->contact_groups ? put_list(w, what, "sitedump_contact_groups", 1, &o->contact_groups, "", 0) < 0
			      : put_list(w, what, "sitedump_contacts", 1, &o->contacts, "", 0) < 0)
		return -1;
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
	return 0;
}

/* Why the object cannot be written (rc 1 with err), or 0; *host gets the
 * prefixed host name (malloc'd). */
static int object_names(struct iw *w, const struct sd_object *o, char **host, sd_error *err)
{
	size_t len = strlen(w->prefix) + strlen(o->host_name ? o->host_name : "") + 1;
	const char *p;

	if (!(*host = malloc(len)))
		return sd_fail(err, "out of memory");
	snprintf(*host, len, "%s%s", w->prefix, o->host_name ? o->host_name : "");
	if ((p = name_problem(w, *host))) {
		sd_fail(err, "host name cannot be written for Icinga 2: %s", p);
	} else if (o->type == SD_SERVICE && (p = name_problem(w, o->description ? o->description : ""))) {
		sd_fail(err, "service name cannot be written for Icinga 2: %s", p);
	} else {
		return 0;
	}
	free(*host);
	*host = NULL;
	return 1;
}

static int i_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct iw *w = ctx;
	int svc = o->type == SD_SERVICE, rc;
	char what[600], *host;

	if ((rc = object_names(w, o, &host, err)) != 0)
		return rc;
	sd_object_label(o, what, sizeof(what));
	fputs(svc ? "object Service " : "object Host ", w->out);
	icinga2_put_string(w->out, svc ? o->description : host);
	fprintf(w->out, " {\n  import \"%s\"\n", svc ? "livedump-service" : "livedump-host");
	if (svc) {
		put_attr(w, "host_name", host);
	} else {
		if (put_text(w, "display_name", o->alias) < 0)
			goto oom;
		if (!w->shadow)
			put_attr(w, "address", o->address);
	}
	if (put_list(w, what, "groups", 0, &o->groups, w->group_prefix, 1) < 0)
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
	if (!svc && w->shadow)
		shadow_host_address(w, o->address);
	if (put_text(w, "notes", o->notes) < 0 || put_url(w, "notes_url", o->notes_url) < 0 ||
	    put_url(w, "action_url", o->action_url) < 0 || put_url(w, "icon_image", o->icon_image) < 0)
		goto oom;
	if (o->check_command && *o->check_command) {
		fputs("  vars.sitedump_check_command = ", w->out);
		if (put_var_string(w, what, "sitedump_check_command", o->check_command) < 0)
			goto oom;
		putc('\n', w->out);
	}
	if (!svc && put_list(w, what, "sitedump_parents", 1, &o->parents, w->prefix, 0) < 0)
		goto oom;
	if (w->shadow ? shadow_tail(w, o) < 0 : plain_tail(w, what, o) < 0)
		goto oom;
	fputs("}\n\n", w->out);
	free(host);
	notes_flush(w, what);
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
	w->shadow = w->site != NULL;
	w->group_prefix = o && o->group_prefix ? o->group_prefix : w->prefix;
	w->notify_contacts = o && o->notify_contacts ? o->notify_contacts : "";
	w->notify_contact_groups = o && o->notify_contact_groups ? o->notify_contact_groups : "";
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
