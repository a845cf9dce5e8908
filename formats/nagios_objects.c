/*
 * nagios_objects.c - the config part as Nagios 4 object definitions.
 *
 * Why (measured with nagios4 4.4.6; tests/data/config/validate.sh):
 * - Values must survive Nagios reading them *twice*: OMD's init script starts
 *   with -pv, then -ud (the precache), and the CGIs read objects.cache; both
 *   re-read what Nagios wrote back unescaped. `\;` and a doubled final
 *   backslash work once, then "d\;e" becomes "d" and a value ending in '\'
 *   swallows the next line. So nothing is escaped:
 *   - a name with ';', a control character, outer space, a final '\' or a
 *     character of the stock illegal_object_name_chars cannot be carried:
 *     the record is skipped (rc 1) with the reason;
 *   - free text is repaired and reported (warned): control characters become
 *     spaces, outer whitespace goes (Nagios strips it anyway), ';' becomes
 *     U+FF1B and a final '\' U+FF3C (%3B / %5C in URLs).
 * - An empty attribute is fatal (livedump's empty contacts): left out.
 * - The remote's check command does not exist here: objects run
 *   check-livedump and keep it in _SITEDUMP_CHECK_COMMAND.
 * - The prefix goes on host *and group* names: two remotes with a group of
 *   the same name would be "Duplicate definition found for hostgroup", fatal.
 *   Services live in their host's namespace; contacts are the central's own.
 * - The templates need no other template (livedump's needed check_mk_default).
 *
 * Shadow mode (o->site set: siteload; the remote is untrusted, writer.c):
 * Nagios expands $HOSTADDRESS$, $HOSTALIAS$, $_HOSTX$ into the central's
 * notification and event command lines unfiltered (illegal_macro_output_chars
 * covers only output macros), so every value is mapped by writer_shadow_*:
 * look-alikes in free text, address only as a host name or IP literal, URLs
 * http(s) or relative. The remote's contacts are not written (they would
 * be the central's people, with the central's commands): the central's own
 * notify_contacts / notify_contact_groups are, or notifications_enabled 0.
 * Custom variables become _SITEDUMP_REMOTE_<NAME>, [A-Za-z0-9_]{1,64}, so
 * no central command or script reads one by accident; one name per object
 * whatever the case (Nagios upper-cases them and keeps duplicates). Groups
 * get group_prefix. Everything changed or left out is one warning per
 * record, collected in notes.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "formats/nagios_objects.h"
#include "base/sbuf.h"
#include "base/text.h"

/* illegal_object_name_chars of the stock nagios.cfg (Debian nagios4 4.4.6). */
#define NAGIOS_ILLEGAL_NAME_CHARS "`~!$%^&*|'\"<>?,()="
#define CHECK_COMMAND_VAR "SITEDUMP_CHECK_COMMAND"

/* Each record is built in an sbuf (see sbuf.h for why) and handed to the
 * FILE whole when it is complete: a record is on the FILE when the sink
 * call returns, as for every writer. */
#define FLUSH_AT 0

struct nw {
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
	struct sbuf b;
	/* shadow mode: what was changed in the record, one warning at its end */
	struct writer_notes notes;
	/* the record being written, for warnings: its label is built only
	 * when there is something to warn about */
	const struct sd_object *obj;
	const struct sd_group *grp;
};

/* Bytes that make a name need the full check of nagios_name_problem:
 * control characters, ';' and the illegal_object_name_chars. A table, as
 * strchr per byte was 2% of a 50k-service config export. */
static unsigned char name_bad[256];

static void name_bad_init(void)
{
	const unsigned char *p;
	int c;

	if (name_bad[0])
		return;
	for (c = 0; c < 0x20; c++)
		name_bad[c] = 1;
	name_bad[0x7f] = 1;
	name_bad[';'] = 1;
	for (p = (const unsigned char *)NAGIOS_ILLEGAL_NAME_CHARS; *p; p++)
		name_bad[*p] = 1;
}

/* 1 if a followed by b is certainly a good name (the common case). */
static int name2_plain(const char *a, const char *b)
{
	const unsigned char *p;
	const char *first = *a ? a : b, *last;
	size_t lb = strlen(b);

	if (!*first)
		return 0;
	for (p = (const unsigned char *)a; *p; p++)
		if (name_bad[*p])
			return 0;
	for (p = (const unsigned char *)b; *p; p++)
		if (name_bad[*p])
			return 0;
	last = lb ? b + lb - 1 : a + strlen(a) - 1;
	return *first != ' ' && *last != ' ' && *last != '\\';
}

enum { ALT_CTL = 1, ALT_TRIM = 2, ALT_SEMI = 4, ALT_BSL = 8 };

const char *nagios_name_problem(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	const unsigned char *p;

	if (n == 0)
		return snprintf(buf, len, "empty name"), buf;
	for (p = (const unsigned char *)s; *p; p++) {
		if (*p < 0x20 || *p == 0x7f)
			return snprintf(buf, len, "control character 0x%02x in the name", *p), buf;
		if (*p == ';')
			return snprintf(buf, len, "';' in the name: it starts a comment in Nagios object "
					"files, and objects.cache, the precache and external commands "
					"cut the name there even when it is escaped"), buf;
		if (strchr(NAGIOS_ILLEGAL_NAME_CHARS, *p))
			return snprintf(buf, len, "'%c' in the name is one of Nagios's default "
					"illegal_object_name_chars (%s)", *p, NAGIOS_ILLEGAL_NAME_CHARS), buf;
	}
	if (s[0] == ' ' || s[n - 1] == ' ')
		return snprintf(buf, len, "leading or trailing space in the name: Nagios strips it"), buf;
	if (s[n - 1] == '\\')
		return snprintf(buf, len, "the name ends in a backslash: Nagios reads it as a line "
				"continuation"), buf;
	return NULL;
}

static char *concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *r = malloc(la + lb + 1);

	if (r) {
		memcpy(r, a, la);
		memcpy(r + la, b, lb + 1);
	}
	return r;
}

static void warn(struct nw *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Shadow mode: the record's one warning, if anything was changed. */
static void notes_flush(struct nw *w)
{
	char what[600];

	if (!w->notes.len || !w->sink.warned)
		return;
	if (w->obj)
		sd_object_label(w->obj, what, sizeof(what));
	else
		snprintf(what, sizeof(what), "%s '%s%s'", w->grp->type == SD_HOST ? "hostgroup" : "servicegroup",
			 w->group_prefix, w->grp->name);
	w->sink.warned(w->sink.report_ctx, what, w->notes.text);
	writer_notes_clear(&w->notes);
}

static void warn(struct nw *w, const char *fmt, ...)
{
	char why[1024], what[600];
	va_list ap;

	if (!w->sink.warned)
		return;
	if (w->shadow) {
		va_start(ap, fmt);
		vsnprintf(why, sizeof(why), fmt, ap);
		va_end(ap);
		writer_notes_add(&w->notes, why);
		return;
	}
	if (w->obj)
		sd_object_label(w->obj, what, sizeof(what));
	else if (w->grp)
		snprintf(what, sizeof(what), "%s '%s'", w->grp->type == SD_HOST ? "hostgroup" : "servicegroup",
			 w->grp->name);
	else
		snprintf(what, sizeof(what), "?");
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	w->sink.warned(w->sink.report_ctx, what, why);
}

/*
 * Free text made safe for a Nagios value (see the top of the file); *alt
 * gets the ALT_* bits of what was changed. url: percent-encode instead of
 * using look-alike characters. malloc'd, NULL when out of memory.
 */
static char *clean_text(const char *s, int url, unsigned *alt)
{
	size_t n = strlen(s), i;
	char *tmp = malloc(n + 1), *out = malloc(3 * n + 4), *o = out, *b, *e;

	*alt = 0;
	if (!tmp || !out) {
		free(tmp);
		free(out);
		return NULL;
	}
	for (i = 0; i <= n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c && c != '\t' && (c < 0x20 || c == 0x7f)) {
			c = ' ';
			*alt |= ALT_CTL;
		}
		tmp[i] = (char)c;
	}
	for (b = tmp; *b == ' ' || *b == '\t'; b++)
		;
	for (e = tmp + n; e > b && (e[-1] == ' ' || e[-1] == '\t'); e--)
		;
	if (b != tmp || e != tmp + n)
		*alt |= ALT_TRIM;
	for (; b < e; b++) {
		if (*b == ';') {
			memcpy(o, url ? "%3B" : "\xef\xbc\x9b", 3);
			o += 3;
			*alt |= ALT_SEMI;
		} else {
			*o++ = *b;
		}
	}
	if (o > out && o[-1] == '\\') {
		memcpy(o - 1, url ? "%5C" : "\xef\xbc\xbc", 3);
		o += 2;
		*alt |= ALT_BSL;
	}
	*o = '\0';
	free(tmp);
	return out;
}

/* "    %-23s " (the start of an attribute line), without printf: this
 * runs for every attribute of every object. */
static void put_key(struct nw *w, const char *key)
{
	static const char pad[] = "                        ";
	size_t kl = strlen(key);

	sbuf_putn(&w->b, "    ", 4);
	sbuf_putn(&w->b, key, kl);
	sbuf_putn(&w->b, pad, kl < 23 ? 24 - kl : 1);
}

/* As "    %-23s %s\n". */
static void put_kv(struct nw *w, const char *key, const char *value)
{
	put_key(w, key);
	sbuf_puts(&w->b, value);
	sbuf_putc(&w->b, '\n');
}

/* 1 if clean_text would leave s as it is: no control character but tab,
 * no ';', no outer whitespace, no final backslash. */
static int text_plain(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (*p == ' ' || *p == '\t')
		return 0;
	for (; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == ';')
			return 0;
	return p == (const unsigned char *)s || (p[-1] != ' ' && p[-1] != '\\');
}

/* A free-text attribute as Nagios can carry it; left out when empty. -1
 * on out of memory. */
static int put_nagios_text(struct nw *w, const char *key, const char *value, int url)
{
	unsigned alt;
	char *v;

	if (!value || !*value)
		return 0;
	if (text_plain(value)) {        /* nothing to repair: no copy */
		put_kv(w, key, value);
		return 0;
	}
	if (!(v = clean_text(value, url, &alt)))
		return -1;
	if (*v)
		put_kv(w, key, v);
	if (alt) {
		const char *part[4];
		int n = 0;

		if (alt & ALT_CTL)
			part[n++] = "control characters (CR, LF, ...) replaced by spaces";
		if (alt & ALT_TRIM)
			part[n++] = "leading/trailing whitespace removed";
		if (alt & ALT_SEMI)
			part[n++] = url ? "';' written as %3B (it starts a comment)"
					: "';' written as U+FF1B (it starts a comment)";
		if (alt & ALT_BSL)
			part[n++] = url ? "final '\\' written as %5C (line continuation)"
					: "final '\\' written as U+FF3C (line continuation)";
		warn(w, "%s altered for Nagios: %s%s%s%s%s%s%s", key, part[0],
		     n > 1 ? "; " : "", n > 1 ? part[1] : "", n > 2 ? "; " : "", n > 2 ? part[2] : "",
		     n > 3 ? "; " : "", n > 3 ? part[3] : "");
	}
	free(v);
	return 0;
}

/* A free-text attribute (url: a URL); in shadow mode mapped first. Left
 * out when empty. -1 on out of memory. */
static int put_text(struct nw *w, const char *key, const char *value, int url)
{
	const char *why;
	char *copy = NULL;
	unsigned changed = 0;
	int rc;

	if (!value || !*value)
		return 0;
	if (!w->shadow)
		return put_nagios_text(w, key, value, url);
	value = url ? writer_shadow_url(value, &copy, &why) : writer_shadow_text(value, &copy, &changed);
	if (!value && url && why) {
		warn(w, "%s left out: %s", key, why);
		return 0;
	}
	if (!value)
		return -1;
	if (url && copy)
		warn(w, "%s: metacharacters, spaces and control characters percent-encoded", key);
	else if (changed)
		warn(w, "%s: %s", key, writer_shadow_change(changed));
	rc = put_nagios_text(w, key, value, url);
	free(copy);
	return rc;
}

/* A comma-separated name list; names Nagios cannot carry are dropped and
 * reported. Left out when empty. -1 on out of memory. */
static int put_list(struct nw *w, const char *key, const struct sd_strlist *l, const char *prefix)
{
	char why[512];
	size_t i, mark = w->b.len;
	int n = 0;

	if (!l->n)
		return 0;
	put_key(w, key);
	for (i = 0; i < l->n; i++) {
		char *name;
		const char *p;

		if (!l->v[i] || !*l->v[i]) {
			warn(w, "%s: an empty name left out", key);
			continue;
		}
		if (name2_plain(prefix, l->v[i])) {
			if (n++)
				sbuf_putc(&w->b, ',');
			sbuf_puts(&w->b, prefix);
			sbuf_puts(&w->b, l->v[i]);
			continue;
		}
		if (!(name = concat(prefix, l->v[i])))
			return -1;
		if ((p = nagios_name_problem(name, why, sizeof(why)))) {
			warn(w, "%s: '%s' left out: %s", key, name, p);
		} else {
			if (n++)
				sbuf_putc(&w->b, ',');
			sbuf_puts(&w->b, name);
		}
		free(name);
	}
	if (n)
		sbuf_putc(&w->b, '\n');
	else
		w->b.len = mark;        /* nothing to write: no attribute */
	return 0;
}

/* Why a custom variable name cannot be written, or NULL; *len its length. */
static const char *var_name_problem(const char *name, size_t max, size_t *len)
{
	const unsigned char *p;

	if (!*name)
		return "empty custom variable name";
	for (p = (const unsigned char *)name; *p; p++)
		if (*p <= ' ' || *p == 0x7f || *p == ';')
			return "whitespace, control character or ';' in a custom variable name";
	*len = (size_t)(p - (const unsigned char *)name);
	if (*len > max)
		return "the name is too long";
	/* lengths first: strcasecmp per variable showed in the profile */
	if (*len == sizeof(CHECK_COMMAND_VAR) - 1 && !strcasecmp(name, CHECK_COMMAND_VAR))
		return "the name is reserved for the remote check command";
	if (*len == sizeof("SITEDUMP_SITE") - 1 && !strcasecmp(name, "SITEDUMP_SITE"))
		return "the name is reserved for siteload (the site of a shadow host)";
	return NULL;
}

/* the notification period both template sets use */
#define TP_24X7 \
	"define timeperiod {\n" \
	"    timeperiod_name         livedump-24x7\n" \
	"    alias                   Always (sitedump notification period)\n" \
	"    sunday                  00:00-24:00\n" \
	"    monday                  00:00-24:00\n" \
	"    tuesday                 00:00-24:00\n" \
	"    wednesday               00:00-24:00\n" \
	"    thursday                00:00-24:00\n" \
	"    friday                  00:00-24:00\n" \
	"    saturday                00:00-24:00\n" \
	"}\n\n"

/* siteload's variant: the stale check runs when no result came for
 * stale_after seconds; freshness needs a check period that is not 0x0. */
static void put_stale_templates(struct nw *w)
{
	const char *const *a;

	fprintf(w->out, "define command {\n    command_name            sitedump-stale\n    command_line           ");
	for (a = w->stale_argv; *a; a++)
		fprintf(w->out, " %s", *a);
	fprintf(w->out, "\n}\n\n");
	fputs(TP_24X7, w->out);
	fprintf(w->out,
		"define host {\n"
		"    name                    livedump-host\n"
		"    register                0\n"
		"    active_checks_enabled   0\n"
		"    passive_checks_enabled  1\n"
		"    check_command           sitedump-stale\n"
		"    check_period            livedump-24x7\n"
		"    notification_period     livedump-24x7\n"
		"    check_freshness         1\n"
		"    freshness_threshold     %d\n"
		"    max_check_attempts      1\n"
		"}\n\n"
		"define service {\n"
		"    name                    livedump-service\n"
		"    register                0\n"
		"    active_checks_enabled   0\n"
		"    passive_checks_enabled  1\n"
		"    check_command           sitedump-stale\n"
		"    check_period            livedump-24x7\n"
		"    notification_period     livedump-24x7\n"
		"    check_freshness         1\n"
		"    freshness_threshold     %d\n"
		"    max_check_attempts      1\n"
		"}\n\n", w->stale_after, w->stale_after);
}

static void put_templates(struct nw *w)
{
	char ci[64] = "";

	if (w->stale_argv) {
		put_stale_templates(w);
		return;
	}

	if (w->check_interval > 0)
		snprintf(ci, sizeof(ci), "    %-23s %d\n", "check_interval", w->check_interval);
	fprintf(w->out,
		"define timeperiod {\n"
		"    timeperiod_name         0x0\n"
		"    alias                   Never ever\n"
		"}\n\n"
		TP_24X7
		"define command {\n"
		"    command_name            check-livedump\n"
		"    command_line            echo \"UNKNOWN - sitedump shadow object: results come from "
		"the remote site, it cannot be checked here\" && exit 3\n"
		"}\n\n"
		"define host {\n"
		"    name                    livedump-host\n"
		"    register                0\n"
		"    active_checks_enabled   0\n"
		"    passive_checks_enabled  1\n"
		"    check_command           check-livedump\n"
		"    check_period            0x0\n"
		"    notification_period     livedump-24x7\n"
		"    max_check_attempts      1\n"
		"%s"
		"}\n\n"
		"define service {\n"
		"    name                    livedump-service\n"
		"    register                0\n"
		"    active_checks_enabled   0\n"
		"    passive_checks_enabled  1\n"
		"    check_command           check-livedump\n"
		"    check_period            0x0\n"
		"    notification_period     livedump-24x7\n"
		"    max_check_attempts      1\n"
		"%s"
		"}\n\n", ci, ci);
}

static int write_error(FILE *f, sd_error *err)
{
	return ferror(f) ? sd_fail(err, "write error") : 0;
}

/* Shadow mode: the central's names are written as given, so each must be
 * one Nagios can carry (siteload checked them; a mistake is fatal here
 * rather than a config Nagios refuses). */
static int names_check(const char *what, const char *list, sd_error *err)
{
	char one[512], why[512];
	const char *p, *e, *problem;

	if (!*list)
		return 0;
	for (p = list;; p = e + 1) {
		e = p + strcspn(p, ",");
		snprintf(one, sizeof(one), "%.*s", (int)(e - p), p);
		if ((problem = nagios_name_problem(one, why, sizeof(why))) || (size_t)(e - p) >= sizeof(one))
			return sd_fail(err, "%s: '%s' cannot be written for Nagios: %s", what, one,
				       problem ? problem : "too long");
		if (!*e)
			return 0;
	}
}

static int n_begin(void *ctx, const struct sd_meta *meta, sd_error *err)
{
	struct nw *w = ctx;

	if (w->shadow && (names_check("notify contacts", w->notify_contacts, err) < 0 ||
			  names_check("notify contact groups", w->notify_contact_groups, err) < 0))
		return -1;
	writer_put_header(w->out, "Nagios object definitions", meta);
	if (w->templates)
		put_templates(w);
	return write_error(w->out, err);
}

/* Why prefix+name cannot be a Nagios name (text in buf), or NULL; the
 * concatenation is made only when the quick check is not sure. */
static const char *name2_problem(const char *prefix, const char *name, char *buf, size_t len, int *oom)
{
	const char *p;
	char *full;

	*oom = 0;
	if (name2_plain(prefix, name))
		return NULL;
	if (!(full = concat(prefix, name))) {
		*oom = 1;
		return NULL;
	}
	p = nagios_name_problem(full, buf, len);
	free(full);
	return p;
}

static int flush(struct nw *w, size_t min, sd_error *err)
{
	if (sbuf_flush(&w->b, w->out, min) < 0)
		return sd_fail(err, w->b.oom ? "out of memory" : "write error");
	return 0;
}

#define PUT_LIT(w, s) sbuf_putn(&(w)->b, s, sizeof(s) - 1)

static int n_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct nw *w = ctx;
	const char *type = g->type == SD_HOST ? "hostgroup" : "servicegroup";
	const char *name = g->name ? g->name : "";
	char key[32], why[512];
	const char *p;
	int oom;

	if ((p = name2_problem(w->group_prefix, name, why, sizeof(why), &oom))) {
		sd_fail(err, "%s_name cannot be written for Nagios: %s", type, p);
		return 1;
	}
	if (oom)
		return sd_fail(err, "out of memory");
	w->grp = g;
	w->obj = NULL;
	writer_notes_clear(&w->notes);
	snprintf(key, sizeof(key), "%s_name", type);
	PUT_LIT(w, "define ");
	sbuf_puts(&w->b, type);
	PUT_LIT(w, " {\n");
	put_key(w, key);
	sbuf_puts(&w->b, w->group_prefix);
	sbuf_puts(&w->b, name);
	sbuf_putc(&w->b, '\n');
	if (put_text(w, "alias", g->alias, 0) < 0)
		return sd_fail(err, "out of memory");
	PUT_LIT(w, "}\n\n");
	notes_flush(w);
	return flush(w, FLUSH_AT, err);
}

/* A positive count or interval as text_fmt_double writes it. */
static void put_number(struct nw *w, const char *key, double d)
{
	char num[64];

	put_key(w, key);
	if (d > -1e15 && d < 1e15 && d == (double)(long long)d) {
		sbuf_put_ll(&w->b, (long long)d);
	} else {
		text_fmt_double(num, sizeof(num), d);
		sbuf_puts(&w->b, num);
	}
	sbuf_putc(&w->b, '\n');
}

/* Shadow mode: the address only as a host name or an IP literal. */
static int put_address(struct nw *w, const char *address)
{
	if (!w->shadow)
		return put_text(w, "address", address, 0);
	if (!address || !*address)
		return 0;
	if (writer_shadow_address(address))
		put_kv(w, "address", address);
	else
		warn(w, "address left out: not a host name or an IP address");
	return 0;
}

/* Shadow mode: the central's own contacts instead of the remote's (the
 * remote's would name central people to be notified with central
 * commands); none at all: no notifications. */
static void put_central_contacts(struct nw *w)
{
	if (*w->notify_contacts)
		put_kv(w, "contacts", w->notify_contacts);
	if (*w->notify_contact_groups)
		put_kv(w, "contact_groups", w->notify_contact_groups);
	if (!*w->notify_contacts && !*w->notify_contact_groups)
		PUT_LIT(w, "    notifications_enabled   0\n");
}

/* s for a message: at most 64 bytes and "...", '?' for what is not
 * printable ASCII or a quote. buf: 68 bytes or more. */
static const char *printable(char *buf, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i < 64; i++)
		buf[i] = s[i] > ' ' && s[i] < 0x7f && s[i] != '\'' ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

/* 1 if vars[0..n) has a name the shadow writer took that is name in
 * another case: Nagios upper-cases custom variable names and would keep
 * both. */
static int var_taken(const struct sd_var *vars, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (vars[i].name && !strcasecmp(vars[i].name, name) && !writer_shadow_var_problem(vars[i].name))
			return 1;
	return 0;
}

/* Shadow mode: the remote's custom variables as _SITEDUMP_REMOTE_<NAME>,
 * where no central command or script reads them by accident. */
static int put_remote_vars(struct nw *w, const struct sd_object *o)
{
	char key[sizeof("_SITEDUMP_REMOTE_") + WRITER_VAR_MAX], pr[80];
	const char *p;
	size_t i;

	for (i = 0; i < o->nvars; i++) {
		const char *name = o->vars[i].name ? o->vars[i].name : "";

		if (i == WRITER_VARS_MAX) {
			warn(w, "custom variables after the first 100 left out");
			break;
		}
		if ((p = writer_shadow_var_problem(name))) {
			warn(w, "custom variable '%s' left out: %s", printable(pr, name), p);
			continue;
		}
		if (var_taken(o->vars, i, name)) {
			warn(w, "custom variable '%s' left out: an earlier one differs only in case", name);
			continue;
		}
		snprintf(key, sizeof(key), "_SITEDUMP_REMOTE_%s", name);
		if (put_text(w, key, o->vars[i].value, 0) < 0)
			return -1;
	}
	return 0;
}

static int object_body(struct nw *w, const struct sd_object *o)
{
	int svc = o->type == SD_SERVICE;
	char key[600];
	const char *p;
	size_t i;

	if (svc) {
		PUT_LIT(w, "    use                     livedump-service\n");
	} else {
		PUT_LIT(w, "    use                     livedump-host\n");
	}
	PUT_LIT(w, "    host_name               ");
	sbuf_puts(&w->b, w->prefix);
	sbuf_puts(&w->b, o->host_name);
	sbuf_putc(&w->b, '\n');
	if (svc) {
		put_kv(w, "service_description", o->description);
	} else if (put_text(w, "alias", o->alias, 0) < 0 ||
		   put_address(w, o->address) < 0 ||
		   put_list(w, "parents", &o->parents, w->prefix) < 0) {
		return -1;
	}
	if (put_list(w, svc ? "servicegroups" : "hostgroups", &o->groups, w->group_prefix) < 0)
		return -1;
	if (w->shadow)
		put_central_contacts(w);
	else if (w->contact_groups ? put_list(w, "contact_groups", &o->contact_groups, "") < 0
				   : put_list(w, "contacts", &o->contacts, "") < 0)
		return -1;
	if (!w->stale_argv) {
		PUT_LIT(w, "    check_command           check-livedump\n");
	} else if (o->check_interval > 0 && o->check_interval < 1e6) {
		/* a result is due every check_interval on the remote, then it
		 * still has to travel: stale after both */
		put_number(w, "freshness_threshold", (double)((long long)(o->check_interval * 60) + w->stale_after));
	}
	if (!svc && w->site)
		put_kv(w, "_SITEDUMP_SITE", w->site);
	if (o->max_check_attempts > 0)
		put_number(w, "max_check_attempts", o->max_check_attempts);
	if (o->check_interval > 0)
		put_number(w, "check_interval", o->check_interval);
	if (o->retry_interval > 0)
		put_number(w, "retry_interval", o->retry_interval);
	if (put_text(w, "notes", o->notes, 0) < 0 ||
	    put_text(w, "notes_url", o->notes_url, 1) < 0 ||
	    put_text(w, "action_url", o->action_url, 1) < 0 ||
	    put_text(w, "icon_image", o->icon_image, 1) < 0 ||
	    put_text(w, "_" CHECK_COMMAND_VAR, o->check_command, 0) < 0)
		return -1;
	if (w->shadow)
		return put_remote_vars(w, o);
	for (i = 0; i < o->nvars; i++) {
		const char *name = o->vars[i].name ? o->vars[i].name : "";
		size_t len = 0;

		if ((p = var_name_problem(name, sizeof(key) - 2, &len))) {
			warn(w, "custom variable '%s' left out: %s", name, p);
			continue;
		}
		key[0] = '_';
		memcpy(key + 1, name, len + 1);
		if (put_text(w, key, o->vars[i].value, 0) < 0)
			return -1;
	}
	return 0;
}

static int n_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct nw *w = ctx;
	char why[512];
	const char *p;
	int rc, oom;

	if ((p = name2_problem(w->prefix, o->host_name ? o->host_name : "", why, sizeof(why), &oom))) {
		sd_fail(err, "host_name cannot be written for Nagios: %s", p);
		return 1;
	}
	if (oom)
		return sd_fail(err, "out of memory");
	if (o->type == SD_SERVICE &&
	    (p = name2_problem("", o->description ? o->description : "", why, sizeof(why), &oom))) {
		sd_fail(err, "service_description cannot be written for Nagios: %s", p);
		return 1;
	}
	if (oom)
		return sd_fail(err, "out of memory");
	w->obj = o;
	w->grp = NULL;
	writer_notes_clear(&w->notes);
	if (o->type == SD_SERVICE) {
		PUT_LIT(w, "define service {\n");
	} else {
		PUT_LIT(w, "define host {\n");
	}
	rc = object_body(w, o);
	PUT_LIT(w, "}\n\n");
	if (rc < 0)
		return sd_fail(err, "out of memory");
	notes_flush(w);
	return flush(w, FLUSH_AT, err);
}

static int n_end(void *ctx, sd_error *err)
{
	struct nw *w = ctx;

	if (flush(w, 0, err) < 0)
		return -1;
	return writer_end(w->out, err);
}

struct sd_sink *nagios_objects_writer_new(FILE *out, const struct writer_opts *o)
{
	struct nw *w = calloc(1, sizeof(*w));

	if (!w)
		return NULL;
	name_bad_init();
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
	w->sink.begin = n_begin;
	w->sink.group = n_group;
	w->sink.object = n_object;
	w->sink.end = n_end;
	return &w->sink;
}

void nagios_objects_writer_free(struct sd_sink *s)
{
	struct nw *w = (struct nw *)s;

	if (w)
		sbuf_free(&w->b);
	free(w);
}
