/*
 * bundle_name.c - SITE-SEQ-KIND.EXT (bundle_name.h).
 *
 * Why one codec: the spool and the queue each had a parser and sitedump a
 * formatter of its own, and they disagreed (the queue took sequence 0).
 * The rules are the strictest of them; the formatter checks its parts
 * against the same rules, so sitedump never writes a name the receiving
 * side ignores.
 */
#include <stdio.h>
#include <string.h>
#include "bundle/bundle_name.h"
#include "bundle/seqstate.h"

/* an encrypted bundle is not a tar: ".sealed" says so, and what is inside */
static const char *const exts[] = { "tar.gz", "tar.zst", "tar", "tar.gz.sealed", "tar.zst.sealed", "tar.sealed" };
static const char *const kinds[] = { "state", "config", "both" };

#define SEQ_DIGITS_MAX 20       /* ULLONG_MAX has 20 */

/* The table's entry equal to the n bytes at s, or NULL. */
static const char *one_of(const char *const *tab, size_t count, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < count; i++)
		if (strlen(tab[i]) == n && !memcmp(tab[i], s, n))
			return tab[i];
	return NULL;
}

/* The extension name ends in (after a '.', with something before it):
 * its table entry, *stem the length before the dot. */
static const char *ext_of(const char *name, size_t n, size_t *stem)
{
	size_t i, l;

	for (i = 0; i < sizeof(exts) / sizeof(*exts); i++) {
		l = strlen(exts[i]);
		if (n > l + 1 && name[n - l - 1] == '.' && !strcmp(name + n - l, exts[i])) {
			*stem = n - l - 1;
			return exts[i];
		}
	}
	return NULL;
}

/* The digits s[0..n) as a sequence number: 1..20 digits, no overflow, not 0. */
static int seq_of(const char *s, size_t n, unsigned long long *seq)
{
	unsigned long long v = 0;
	size_t i;

	if (n < 1 || n > SEQ_DIGITS_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (s[i] < '0' || s[i] > '9' || v > (~0ULL - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (!v)
		return -1;      /* seq_next never hands out 0 */
	*seq = v;
	return 0;
}

/* The last '-' in s[0..n), or NULL. */
static const char *last_dash(const char *s, size_t n)
{
	while (n--)
		if (s[n] == '-')
			return s + n;
	return NULL;
}

int bundle_name_parse(const char *name, struct bundle_name *bn)
{
	const char *kd, *sd;
	size_t stem, sl;

	if (!(bn->ext = ext_of(name, strlen(name), &stem)) || !(kd = last_dash(name, stem)))
		return -1;
	if (!(bn->kind = one_of(kinds, sizeof(kinds) / sizeof(*kinds), kd + 1, stem - (size_t)(kd + 1 - name))))
		return -1;
	if (!(sd = last_dash(name, (size_t)(kd - name))) || seq_of(sd + 1, (size_t)(kd - sd - 1), &bn->seq) < 0)
		return -1;
	if ((sl = (size_t)(sd - name)) >= sizeof(bn->site))
		return -1;
	memcpy(bn->site, name, sl);
	bn->site[sl] = '\0';
	return seq_site_ok(bn->site) ? 0 : -1;
}

int bundle_name_format(char *buf, size_t len, const char *site, unsigned long long seq, const char *kind,
		       const char *ext)
{
	int n;

	if (!seq_site_ok(site) || !seq || !one_of(kinds, sizeof(kinds) / sizeof(*kinds), kind, strlen(kind)) ||
	    !one_of(exts, sizeof(exts) / sizeof(*exts), ext, strlen(ext)))
		return -1;
	n = snprintf(buf, len, "%s-%llu-%s.%s", site, seq, kind, ext);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *bundle_name_ext(enum bundle_compress c, int sealed)
{
	if (sealed)
		return c == BUNDLE_GZIP ? "tar.gz.sealed" : c == BUNDLE_ZSTD ? "tar.zst.sealed" : "tar.sealed";
	return c == BUNDLE_GZIP ? "tar.gz" : c == BUNDLE_ZSTD ? "tar.zst" : "tar";
}
