/*
 * libFuzzer target: both config writers in shadow mode (siteload's, with
 * an untrusted remote) on random sites.
 *
 * The input is decoded into a consistent site (cw_decode): groups, hosts
 * whose parents come before them, services of those hosts, every text
 * field, lists and custom variables, each byte of text either a raw byte
 * or a token from a hostile list ("$(id)", backticks, "javascript:", ...);
 * most names are plain so that records get written. Both writers run on
 * it with shadow options from the input, and the output must hold what
 * shadow mode promises (cw_check_nagios, cw_check_icinga2):
 *
 * - Nagios: every attribute line of an object or group is "    KEY VALUE"
 *   with a non-empty VALUE that holds none of $ ` " ' ; and no control
 *   character and does not end in a backslash or a space: no attribute
 *   value can carry a macro or shell metacharacter (names cannot either:
 *   illegal_object_name_chars). contacts / contact_groups are exactly the
 *   central's, notifications_enabled 0 when there are none; custom
 *   variables are only _SITEDUMP_SITE, _SITEDUMP_CHECK_COMMAND and
 *   _SITEDUMP_REMOTE_<[A-Za-z0-9_]{1,64}>; an address is a host name or
 *   an IP literal.
 * - Icinga 2: in every string literal no $ ` ' and no control character,
 *   and no '"' at all, not even as the escape \": the only escape left is
 *   "\\" (from a backslash inside a name: values have none), and no
 *   string ends in one. Outside strings none of $ ` ' either. No
 *   `address` attribute, vars only sitedump_site, sitedump_address,
 *   sitedump_check_command, sitedump_parents, sitedump_notify_users,
 *   sitedump_notify_user_groups and sitedump_remote["NAME"];
 *   enable_notifications = false exactly when the central has no users.
 * - At most one warning per record.
 *
 * tests/unit/test_config_writers.c includes this file (CW_NO_FUZZ_ENTRY)
 * for a property test and as the generator of tests/0021-config-validate.t.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/nagios_objects.h"
#include "formats/icinga2_dsl.h"

/* ------------------------------------------------------------ the input */

/* Bytes from the fuzzer's input (0 when it is used up, which ends every
 * count), or from a PRNG (the generator). */
struct cw_src {
	const uint8_t *p;
	size_t n, i;
	uint64_t rng;           /* 0: read p */
};

static unsigned cw_byte(struct cw_src *s)
{
	if (s->rng) {
		s->rng ^= s->rng << 13;
		s->rng ^= s->rng >> 7;
		s->rng ^= s->rng << 17;
		return (unsigned)(s->rng >> 24) & 0xff;
	}
	return s->i < s->n ? s->p[s->i++] : 0;
}

/* Everything the decoder allocates, freed at once. */
struct cw_site {
	struct sd_group groups[8];
	size_t ngroups;
	struct sd_object objs[48];
	size_t nobjs;
	void *mem[2048];
	size_t nmem;
	unsigned opts;          /* bits: notify contacts, notify groups, group prefix */
};

static void *cw_keep(struct cw_site *site, void *p)
{
	if (!p || site->nmem == sizeof(site->mem) / sizeof(site->mem[0]))
		abort();
	return site->mem[site->nmem++] = p;
}

static void cw_site_free(struct cw_site *site)
{
	while (site->nmem)
		free(site->mem[--site->nmem]);
}

static const char *const cw_tokens[] = {
	"$", "`", "\"", "'", "\\", ";", "|", "&", "<", ">", "(", ")", "$(id)", "`id`",
	"\"$(id >marker-a)\"", "${IFS}", "$HOSTADDRESS$", "$USER1$", "$host.name$", "$$",
	"javascript:", "JaVaScRiPt:alert(1)", "data:text/html,", "file:///etc/passwd",
	"http://", "https://", "//evil.example/", "\n", "\r", "\t", "\x01", "\x1b[2J", "\x7f", " ",
	"\xef\xbc\x84", "\xc3\xa4", "\xff", "%24", "{{{", "}}}", "#", "!", ",", "=", ":", "/",
	"\\\n", "-oProxyCommand=x", "10.0.0.1", "::1", "fe80::1%eth0", "\\\"", "\\$", "\\0017",
};
#define CW_NTOKENS (sizeof(cw_tokens) / sizeof(cw_tokens[0]))

/* Hostile text of up to 23 pieces: a raw byte (NUL as '0'), a letter or
 * digit, or a token. */
static char *cw_text(struct cw_site *site, struct cw_src *s)
{
	static const char an[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	unsigned n = cw_byte(s) % 24, i;
	char *t = cw_keep(site, malloc(24 * 24 + 1)), *o = t;

	for (i = 0; i < n; i++) {
		unsigned b = cw_byte(s);

		if (b < 0x80) {
			*o++ = b ? (char)b : '0';
		} else if (b < 0xc0) {
			*o++ = an[b % (sizeof(an) - 1)];
		} else {
			const char *tok = cw_tokens[(b - 0xc0) % CW_NTOKENS];

			memcpy(o, tok, strlen(tok));
			o += strlen(tok);
		}
	}
	*o = '\0';
	return t;
}

/* A name: mostly plain (the record gets written), else hostile text. */
static char *cw_name(struct cw_site *site, struct cw_src *s)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ0123456789-_.";
	unsigned m = cw_byte(s), n, i;
	char *t;

	if (m >= 0xd8)
		return cw_text(site, s);
	n = 1 + m % 12;
	t = cw_keep(site, malloc(n + 1));
	for (i = 0; i < n; i++)
		t[i] = plain[cw_byte(s) % (sizeof(plain) - 1)];
	t[n] = '\0';
	return t;
}

static char *cw_url(struct cw_site *site, struct cw_src *s)
{
	static const char *const schemes[] = {
		"", "http://", "https://", "HTTPS://", "javascript:", " javascript:", "data:", "file:",
		"//", "java\tscript:", "mailto:", "/nagios/cgi-bin/", "",
	};
	const char *sc = schemes[cw_byte(s) % (sizeof(schemes) / sizeof(schemes[0]))];
	char *t = cw_text(site, s), *u = cw_keep(site, malloc(strlen(sc) + strlen(t) + 1));

	strcpy(u, sc);
	strcat(u, t);
	return u;
}

static char *cw_address(struct cw_site *site, struct cw_src *s)
{
	char *t = cw_keep(site, malloc(64));

	switch (cw_byte(s) % 6) {
	case 0: snprintf(t, 64, "10.%u.%u.%u", cw_byte(s), cw_byte(s), cw_byte(s)); return t;
	case 1: snprintf(t, 64, "fd00::%x", cw_byte(s)); return t;
	case 2: return cw_name(site, s);
	case 3: snprintf(t, 64, "10.0.0.1\"$(id >marker-%u)\"", cw_byte(s)); return t;
	default: return cw_text(site, s);
	}
}

static char *cw_var_name(struct cw_site *site, struct cw_src *s)
{
	static const char *const names[] = {
		"A-B", "", "notification", "SITEDUMP_SITE", "sitedump_site", "a", "A", "address",
		"SITEDUMP_CHECK_COMMAND", "x y", "_", "TAGS", "sitedump_remote",
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",     /* 65 */
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",      /* 64 */
	};
	unsigned b = cw_byte(s);
	size_t nn = sizeof(names) / sizeof(names[0]);

	if (b < nn * 8)
		return (char *)names[b % nn];
	return b & 1 ? cw_name(site, s) : cw_text(site, s);
}

static struct sd_strlist cw_list(struct cw_site *site, struct cw_src *s, unsigned max)
{
	struct sd_strlist l = { NULL, cw_byte(s) % (max + 1) };
	size_t i;

	if (l.n) {
		l.v = cw_keep(site, calloc(l.n, sizeof(char *)));
		for (i = 0; i < l.n; i++)
			l.v[i] = cw_name(site, s);
	}
	return l;
}

/* Names of the groups of one type, as an object references them. */
static struct sd_strlist cw_group_refs(struct cw_site *site, struct cw_src *s, enum sd_objtype t)
{
	struct sd_strlist l = { NULL, 0 };
	unsigned n = cw_byte(s) % 4, i;

	l.v = cw_keep(site, calloc(4, sizeof(char *)));
	for (i = 0; i < n && site->ngroups; i++) {
		const struct sd_group *g = &site->groups[cw_byte(s) % site->ngroups];
		size_t j;

		for (j = 0; j < l.n && strcmp(l.v[j], g->name); j++)
			;
		if (g->type == t && j == l.n)
			l.v[l.n++] = g->name;
	}
	return l;
}

static void cw_common(struct cw_site *site, struct cw_src *s, struct sd_object *o)
{
	size_t i;

	o->groups = cw_group_refs(site, s, o->type);
	o->contacts = cw_list(site, s, 2);
	o->contact_groups = cw_list(site, s, 2);
	o->check_command = cw_text(site, s);
	o->max_check_attempts = (int)(cw_byte(s) % 5);
	o->check_interval = cw_byte(s) % 10;
	o->retry_interval = (cw_byte(s) % 4) / 2.0;
	o->notes = cw_text(site, s);
	o->notes_url = cw_url(site, s);
	o->action_url = cw_url(site, s);
	o->icon_image = cw_url(site, s);
	o->nvars = cw_byte(s) % 6;
	o->vars = cw_keep(site, calloc(o->nvars + 1, sizeof(struct sd_var)));
	for (i = 0; i < o->nvars; i++) {
		o->vars[i].name = cw_var_name(site, s);
		o->vars[i].value = cw_text(site, s);
	}
}

static int cw_host_index(const struct cw_site *site, const char *name)
{
	size_t i;

	for (i = 0; i < site->nobjs; i++)
		if (site->objs[i].type == SD_HOST && !strcmp(site->objs[i].host_name, name))
			return (int)i;
	return -1;
}

static void cw_decode_host(struct cw_site *site, struct cw_src *s)
{
	struct sd_object *o = &site->objs[site->nobjs];
	size_t i, np;

	sd_object_clear(o);
	o->type = SD_HOST;
	o->host_name = cw_name(site, s);
	if (cw_host_index(site, o->host_name) >= 0)
		return;         /* a duplicate: both cores refuse it, siteload never sends it */
	o->alias = cw_text(site, s);
	o->address = cw_address(site, s);
	/* parents: earlier hosts only (a cycle is a Nagios config error) */
	np = site->nobjs ? cw_byte(s) % 3 : 0;
	o->parents.v = cw_keep(site, calloc(3, sizeof(char *)));
	for (i = 0; i < np; i++) {
		const char *p = site->objs[cw_byte(s) % site->nobjs].host_name;
		size_t j;

		for (j = 0; j < o->parents.n && strcmp(o->parents.v[j], p); j++)
			;
		if (j == o->parents.n)
			o->parents.v[o->parents.n++] = (char *)p;
	}
	cw_common(site, s, o);
	site->nobjs++;
}

static void cw_decode_service(struct cw_site *site, struct cw_src *s, size_t nhosts)
{
	struct sd_object *o = &site->objs[site->nobjs];
	size_t i;

	sd_object_clear(o);
	o->type = SD_SERVICE;
	o->host_name = site->objs[cw_byte(s) % nhosts].host_name;
	o->description = cw_name(site, s);
	for (i = 0; i < site->nobjs; i++)
		if (site->objs[i].type == SD_SERVICE && !strcmp(site->objs[i].host_name, o->host_name) &&
		    !strcmp(site->objs[i].description, o->description))
			return;
	cw_common(site, s, o);
	site->nobjs++;
}

/* A consistent site from s: unique names, references only to what it
 * defines, as siteload hands the writer. */
static void cw_decode(struct cw_site *site, struct cw_src *s)
{
	unsigned ng, nh, ns, i;
	size_t nhosts;

	memset(site, 0, sizeof(*site));
	site->opts = cw_byte(s);
	ng = cw_byte(s) % 8;
	for (i = 0; i < ng; i++) {
		struct sd_group *g = &site->groups[site->ngroups];
		size_t j;

		g->type = cw_byte(s) & 1 ? SD_SERVICE : SD_HOST;
		g->name = cw_name(site, s);
		g->alias = cw_text(site, s);
		for (j = 0; j < site->ngroups && (site->groups[j].type != g->type ||
						  strcmp(site->groups[j].name, g->name)); j++)
			;
		if (j == site->ngroups)
			site->ngroups++;
	}
	nh = 1 + cw_byte(s) % 8;
	for (i = 0; i < nh; i++)
		cw_decode_host(site, s);
	nhosts = site->nobjs;
	ns = nhosts ? cw_byte(s) % 24 : 0;
	for (i = 0; i < ns; i++)
		cw_decode_service(site, s, nhosts);
}

/* ------------------------------------------------------------ the writers */

/* The central's users of a site: from none to two of each. */
static const char *const cw_notify[] = { NULL, "nagiosadmin", "", "nagiosadmin,sitedump-other" };
static const char *const cw_notify_groups[] = { NULL, "admins", "", "admins,sitedump-others" };

static void cw_opts(const struct cw_site *site, struct writer_opts *wo, const char *prefix,
		    const char *group_prefix, const char *site_name)
{
	memset(wo, 0, sizeof(*wo));
	wo->prefix = prefix;
	wo->site = site_name;
	wo->group_prefix = site->opts & 16 ? group_prefix : NULL;
	wo->notify_contacts = cw_notify[site->opts & 3];
	wo->notify_contact_groups = cw_notify_groups[site->opts >> 2 & 3];
}

struct cw_run {
	int warnings;           /* warned calls of the current record */
	int max_warnings;
};

static void cw_warned(void *ctx, const char *what, const char *why)
{
	struct cw_run *r = ctx;

	(void)what;
	(void)why;
	if (++r->warnings > r->max_warnings)
		r->max_warnings = r->warnings;
}

/* Both writers' text for site; rc -1 from a writer aborts (no record can
 * make a writer fail but memory). nagios: 1 for Nagios. The text is
 * malloc'd; *max_warnings: the most warnings one record had. */
static char *cw_write(const struct cw_site *site, int nagios, const struct writer_opts *wo,
		      int *max_warnings)
{
	struct sd_meta m = { .site = "site", .source = "fuzz", .created = 0, .parts = SD_PART_CONFIG };
	struct cw_run run = { 0, 0 };
	sd_error err = { "" };
	struct sd_sink *k;
	char *out = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&out, &len);

	if (!f || !(k = nagios ? nagios_objects_writer_new(f, wo) : icinga2_writer_new(f, wo)))
		abort();
	k->warned = cw_warned;
	k->report_ctx = &run;
	if (k->begin(k->ctx, &m, &err) != 0)
		abort();
	for (i = 0; i < site->ngroups; i++) {
		run.warnings = 0;
		if (k->group(k->ctx, &site->groups[i], &err) < 0)
			abort();
	}
	for (i = 0; i < site->nobjs; i++) {
		run.warnings = 0;
		if (k->object(k->ctx, &site->objs[i], &err) < 0)
			abort();
	}
	if (k->end(k->ctx, &err) != 0)
		abort();
	if (nagios)
		nagios_objects_writer_free(k);
	else
		icinga2_writer_free(k);
	fclose(f);
	*max_warnings = run.max_warnings;
	return out;
}

/* ------------------------------------------------------------ the checks */

static int cw_is_ctl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* A Nagios attribute line's problem, or NULL. */
static const char *cw_nagios_attr(const char *key, size_t kl, const char *v, size_t vl,
				  const struct writer_opts *wo)
{
	size_t i;

	if (!vl)
		return "empty value";
	for (i = 0; i < vl; i++) {
		if (strchr("$`\"';", v[i]))
			return "a metacharacter in a value";
		if (cw_is_ctl((unsigned char)v[i]))
			return "a control character in a value";
	}
	if (v[vl - 1] == '\\' || v[vl - 1] == ' ' || v[0] == ' ')
		return "a value ends in a backslash or has outer space";
	if (kl == 8 && !memcmp(key, "contacts", 8) &&
	    (!wo->notify_contacts || strncmp(v, wo->notify_contacts, vl) || wo->notify_contacts[vl]))
		return "contacts not the central's";
	if (kl == 14 && !memcmp(key, "contact_groups", 14) &&
	    (!wo->notify_contact_groups || strncmp(v, wo->notify_contact_groups, vl) ||
	     wo->notify_contact_groups[vl]))
		return "contact_groups not the central's";
	if (*key == '_' && !(kl == 14 && !memcmp(key, "_SITEDUMP_SITE", 14)) &&
	    !(kl == 23 && !memcmp(key, "_SITEDUMP_CHECK_COMMAND", 23))) {
		char name[128];

		if (kl <= 17 || kl - 17 > WRITER_VAR_MAX || memcmp(key, "_SITEDUMP_REMOTE_", 17))
			return "a custom variable outside _SITEDUMP_REMOTE_";
		snprintf(name, sizeof(name), "%.*s", (int)(kl - 17), key + 17);
		if (writer_shadow_var_problem(name))
			return "a bad custom variable name";
	}
	if (kl == 7 && !memcmp(key, "address", 7)) {
		char a[300];

		snprintf(a, sizeof(a), "%.*s", (int)vl, v);
		if (!writer_shadow_address(a))
			return "an address that is not a host name or IP";
	}
	return NULL;
}

/* Why Nagios text out breaks shadow mode's promises, or NULL; *line the
 * line number. */
static const char *cw_check_nagios(const char *out, const struct writer_opts *wo, int *line)
{
	int in = 0, notify_off = 0, contacts = 0;
	const char *l, *e, *p;

	for (*line = 1, l = out; *l; l = *e ? e + 1 : e, ++*line) {
		e = strchr(l, '\n');
		if (!e)
			return "no newline at the end";
		if (l == e || *l == '#')
			continue;
		if (!in) {
			if (strncmp(l, "define ", 7) || e[-1] != '{')
				return "not a define line";
			in = 1;
			notify_off = contacts = 0;
			continue;
		}
		if (l[0] == '}' && e == l + 1) {
			int none = (!wo->notify_contacts || !*wo->notify_contacts) &&
				   (!wo->notify_contact_groups || !*wo->notify_contact_groups);

			if (in == 2 && (none ? !notify_off || contacts : notify_off))
				return "notifications_enabled 0 not exactly when the central has no contacts";
			in = 0;
			continue;
		}
		if (strncmp(l, "    ", 4) || l[4] == ' ')
			return "not an attribute line";
		p = l + 4 + strcspn(l + 4, " \n");
		if (!strncmp(l + 4, "use ", 4))
			in = 2;         /* a host or service, not a group */
		if (!strncmp(l + 4, "notifications_enabled ", 22))
			notify_off = 1;
		if (!strncmp(l + 4, "contact", 7))
			contacts = 1;
		while (*p == ' ')
			p++;
		if ((l = cw_nagios_attr(l + 4, strcspn(l + 4, " \n"), p, (size_t)(e - p), wo)))
			return l;
	}
	return in ? "unterminated define" : NULL;
}

/* One Icinga 2 string literal at *pp (after the quote); the problem or NULL. */
static const char *cw_icinga2_string(const char **pp)
{
	const char *p = *pp;

	for (; *p != '"'; p++) {
		if (!*p || *p == '\n')
			return "unterminated string";
		if (strchr("$`'", *p))
			return "a metacharacter in a string";
		if (cw_is_ctl((unsigned char)*p))
			return "a control character in a string";
		if (*p == '\\') {
			if (p[1] != '\\')
				return "an escape other than \\\\ in a string";
			if (p[2] == '"')
				return "a string ends in a backslash";
			p++;
		}
	}
	*pp = p + 1;
	return NULL;
}

static const char *const cw_icinga2_vars[] = {
	"vars.sitedump_site = ", "vars.sitedump_address = ", "vars.sitedump_check_command = ",
	"vars.sitedump_parents = ", "vars.sitedump_notify_users = ",
	"vars.sitedump_notify_user_groups = ", "vars.sitedump_remote[\"", NULL,
};

/* An Icinga 2 attribute line's problem, or NULL. */
static const char *cw_icinga2_attr(const char *l)
{
	size_t i;

	if (!strncmp(l, "  address", 9))
		return "an address attribute";
	if (!strncmp(l, "  vars", 6)) {
		for (i = 0; cw_icinga2_vars[i] && strncmp(l + 2, cw_icinga2_vars[i], strlen(cw_icinga2_vars[i])); i++)
			;
		if (!cw_icinga2_vars[i])
			return "a custom variable outside the sitedump_* set";
		if (i == 6) {
			char name[128];
			size_t n = strcspn(l + 24, "\"");

			snprintf(name, sizeof(name), "%.*s", (int)n, l + 24);
			if (n > 100 || writer_shadow_var_problem(name))
				return "a bad custom variable name";
		}
	}
	return NULL;
}

/* Why Icinga 2 text out breaks shadow mode's promises, or NULL. */
static const char *cw_check_icinga2(const char *out, const struct writer_opts *wo, int *line)
{
	int in = 0, off = 0;
	const char *l, *e, *p, *why;
	int none = (!wo->notify_contacts || !*wo->notify_contacts) &&
		   (!wo->notify_contact_groups || !*wo->notify_contact_groups);

	for (*line = 1, l = out; *l; l = *e ? e + 1 : e, ++*line) {
		e = strchr(l, '\n');
		if (!e)
			return "no newline at the end";
		if (l == e || *l == '#')
			continue;
		for (p = l; p < e; p++) {
			if (*p == '"') {
				p++;
				if ((why = cw_icinga2_string(&p)))
					return why;
				p--;
			} else if (strchr("$`'", *p) || cw_is_ctl((unsigned char)*p)) {
				return "a metacharacter outside strings";
			}
		}
		if (!strncmp(l, "object Host ", 12) || !strncmp(l, "object Service ", 15)) {
			in = 2;
			off = 0;
		} else if (!strncmp(l, "object ", 7)) {
			in = 1;
		} else if (*l == '}') {
			if (in == 2 && off != none)
				return "enable_notifications = false not exactly when the central has no users";
			in = 0;
		} else if (!strncmp(l, "  enable_notifications = false", 30)) {
			off = 1;
		} else if ((why = cw_icinga2_attr(l))) {
			return why;
		}
	}
	return in ? "unterminated object" : NULL;
}

/* Both writers on site with shadow options; aborts with the reason on a
 * broken promise. */
static void cw_check_site(const struct cw_site *site)
{
	struct writer_opts wo;
	int nagios, line, maxw;

	cw_opts(site, &wo, site->opts & 32 ? "r1-" : "", "SITE:", "site1");
	for (nagios = 0; nagios < 2; nagios++) {
		char *out = cw_write(site, nagios, &wo, &maxw);
		const char *why = nagios ? cw_check_nagios(out, &wo, &line) : cw_check_icinga2(out, &wo, &line);

		if (why || maxw > 1) {
			fprintf(stderr, "%s shadow output: %s (line %d)\n%s\n", nagios ? "Nagios" : "Icinga 2",
				why ? why : "more than one warning for a record", line, out);
			abort();
		}
		free(out);
	}
}

#ifndef CW_NO_FUZZ_ENTRY
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cw_src s = { data, size, 0, 0 };
	struct cw_site *site = malloc(sizeof(*site));

	if (!site)
		return 0;
	cw_decode(site, &s);
	cw_check_site(site);
	cw_site_free(site);
	free(site);
	return 0;
}
#endif
