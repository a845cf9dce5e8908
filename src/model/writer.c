/*
 * writer.c - what the config writers share: the header comment naming
 * site, time and source, and shadow mode's value rules.
 *
 * A comment line must not end in a backslash (Nagios would join the next
 * line) or hold control characters.
 *
 * Shadow mode (siteload): a remote is untrusted even with a valid key, and
 * on the central its text reaches macros ($HOSTALIAS$, $HOSTADDRESS$,
 * $_HOSTX$, $host.vars.x$) that the central's commands put into shell
 * command lines ("$HOSTADDRESS$" in Debian's notify-host-by-email), and
 * Nagios's illegal_macro_output_chars covers only output macros. So the
 * shell and macro metacharacters never reach the config: free text gets
 * the fullwidth look-alikes (as the Nagios writer did for ';' already:
 * readable, and no shell or core gives them a meaning), URLs are
 * percent-encoded and limited to http(s) or relative (no javascript:
 * in the CGIs or Icinga Web), an address is a host name or an IP literal
 * or nothing. One table lookup per byte; no copy when nothing changes,
 * as almost every value of a real site.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "model/writer.h"

static void put_comment_text(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)(s ? s : ""); *p; p++)
		putc(*p < 0x20 || *p == 0x7f || (*p == '\\' && !p[1]) ? '?' : *p, f);
}

void writer_put_header(FILE *f, const char *title, const struct sd_meta *meta)
{
	char when[32] = "?";
	struct tm tm;

	if (meta && gmtime_r(&meta->created, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "# %s written by sitedump: shadow objects of site '", title);
	put_comment_text(f, meta ? meta->site : "");
	if (meta && !meta->created)     /* siteload: stable text, rewritten only on change */
		fputs("'\n# from ", f);
	else
		fprintf(f, "'\n# as of %s from ", when);
	put_comment_text(f, meta ? meta->source : "");
	fputs(".\n\n", f);
}

int writer_end(FILE *f, sd_error *err)
{
	if (fflush(f) != 0 || ferror(f))
		return sd_fail(err, "write error");
	return 0;
}

/* 1: control character (a space), 2: metacharacter (its look-alike). */
#define C1(c) [c] = 1
static const unsigned char shadow_class[256] = {
	C1(0x01), C1(0x02), C1(0x03), C1(0x04), C1(0x05), C1(0x06), C1(0x07), C1(0x08),
	C1(0x09), C1(0x0a), C1(0x0b), C1(0x0c), C1(0x0d), C1(0x0e), C1(0x0f), C1(0x10),
	C1(0x11), C1(0x12), C1(0x13), C1(0x14), C1(0x15), C1(0x16), C1(0x17), C1(0x18),
	C1(0x19), C1(0x1a), C1(0x1b), C1(0x1c), C1(0x1d), C1(0x1e), C1(0x1f), C1(0x7f),
	['$'] = 2, ['`'] = 2, ['"'] = 2, ['\''] = 2, ['\\'] = 2, [';'] = 2,
	['|'] = 2, ['&'] = 2, ['<'] = 2, ['>'] = 2, ['('] = 2, [')'] = 2,
};
#undef C1

const char *writer_shadow_text(const char *s, char **copy, unsigned *changed)
{
	const unsigned char *p, *end;
	size_t n;
	char *o;

	*copy = NULL;
	*changed = 0;
	for (p = (const unsigned char *)s; *p; p++)
		if (shadow_class[*p])
			break;
	n = (size_t)(p - (const unsigned char *)s) + strlen((const char *)p);
	if (!*p && n <= WRITER_TEXT_MAX)
		return s;       /* the common case: nothing to map, no copy */
	if (n > WRITER_TEXT_MAX) {
		n = WRITER_TEXT_MAX;
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)       /* not inside a character */
			n--;
		*changed |= WRITER_CUT;
	}
	if (!(*copy = malloc(3 * n + 1)))
		return NULL;
	end = (const unsigned char *)s + n;
	if (p > end)
		p = end;
	o = *copy;
	memcpy(o, s, (size_t)(p - (const unsigned char *)s));
	o += p - (const unsigned char *)s;
	if (p < end)
		*changed |= WRITER_MAPPED;      /* a byte the scan stopped at, within the cut */
	for (; p < end; p++) {
		unsigned cp = 0xff00 + *p - 0x20;       /* U+FF01..U+FF5E for '!'..'~' */

		if (shadow_class[*p] == 1) {
			*o++ = ' ';
		} else if (shadow_class[*p] == 2) {
			*o++ = (char)0xef;
			*o++ = (char)(0x80 | (cp >> 6 & 0x3f));
			*o++ = (char)(0x80 | (cp & 0x3f));
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return *copy;
}

const char *writer_shadow_change(unsigned changed)
{
	switch (changed & (WRITER_MAPPED | WRITER_CUT)) {
	case WRITER_MAPPED: return "metacharacters written as look-alikes, control characters as spaces";
	case WRITER_CUT: return "cut at 4096 bytes";
	case WRITER_MAPPED | WRITER_CUT:
		return "metacharacters written as look-alikes, control characters as spaces, cut at 4096 bytes";
	}
	return "unchanged";
}

int writer_shadow_address(const char *s)
{
	unsigned char ip[16];
	const char *p;

	if (!*s || strlen(s) > 253)
		return 0;
	if (inet_pton(AF_INET, s, ip) == 1 || inet_pton(AF_INET6, s, ip) == 1)
		return 1;
	/* a leading '-' would be an option of the central's check plugins */
	if (*s == '-' || *s == '.')
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		      *p == '-' || *p == '_' || *p == '.'))
			return 0;
	return 1;
}

/* 1 if s[0..n) is "http" or "https" (any case). */
static int web_scheme(const char *s, size_t n)
{
	return (n == 4 && !strncasecmp(s, "http", 4)) || (n == 5 && !strncasecmp(s, "https", 5));
}

const char *writer_shadow_url(const char *s, char **copy, const char **why)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strcspn(s, ":/?#");
	const unsigned char *p;
	char *o;

	*copy = NULL;
	*why = NULL;
	if (strlen(s) > WRITER_TEXT_MAX) {
		*why = "longer than 4096 bytes";
		return NULL;
	}
	/* any ':' before the first '/', '?' or '#' makes (or could make, to
	 * a browser that strips what it likes) a scheme */
	if (s[n] == ':' && !web_scheme(s, n)) {
		*why = "not an http: or https: URL or a relative one";
		return NULL;
	}
	for (p = (const unsigned char *)s; *p; p++)
		if (shadow_class[*p] || *p == ' ')
			break;
	if (!*p)
		return s;
	if (!(*copy = malloc(3 * strlen(s) + 1)))
		return NULL;
	o = *copy;
	for (p = (const unsigned char *)s; *p; p++) {
		if (shadow_class[*p] || *p == ' ') {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		} else {
			*o++ = (char)*p;
		}
	}
	*o = '\0';
	return *copy;
}

const char *writer_shadow_var_problem(const char *name)
{
	const char *p;

	if (!*name)
		return "empty name";
	for (p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return "not only letters, digits and '_'";
	if (p - name > WRITER_VAR_MAX)
		return "longer than 64 characters";
	return NULL;
}

void writer_notes_add(struct writer_notes *n, const char *why)
{
	size_t left = sizeof(n->text) - n->len;
	int k;

	if (left < 8 || strstr(n->text, why))
		return;
	k = snprintf(n->text + n->len, left, "%s%s", n->len ? "; " : "", why);
	if (k < 0 || (size_t)k >= left)
		strcpy(n->text + sizeof(n->text) - 5, "...");
	n->len = strlen(n->text);
}

void writer_notes_clear(struct writer_notes *n)
{
	n->len = 0;
	n->text[0] = '\0';
}
