/*
 * keyfile.c - key files (keyfile.h).
 *
 * Why one reader: siteload's -p, the importer's trust directory and the
 * encryption keys each read key files their own way, and only the trust
 * directory refused symbolic links. A link planted where a .pub is looked
 * for would choose whose bundles are trusted, so no public key is read
 * through one; a key file is small, so one that is not is refused whole
 * rather than its start taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bundle/keyfile.h"

static int open_key(const char *path, int nofollow, sd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));

	if (fd < 0 && nofollow && errno == ELOOP)
		return sd_fail(err, "%s: a symbolic link (key files are not read through links)", path);
	if (fd < 0)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	return fd;
}

int keyfile_read(const char *path, int nofollow, char *buf, size_t cap, size_t *len, sd_error *err)
{
	ssize_t n = 0;
	int fd, rc = 0;

	if ((fd = open_key(path, nofollow, err)) < 0)
		return -1;
	for (*len = 0; *len < cap; *len += (size_t)n) {
		if ((n = read(fd, buf + *len, cap - *len)) < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	if (n < 0)
		rc = sd_fail(err, "%s: %s", path, strerror(errno));
	else if (*len >= cap)
		rc = sd_fail(err, "%s: over %zu bytes: not a key file", path, cap - 1);
	close(fd);
	buf[*len < cap ? *len : cap - 1] = '\0';
	return rc < 0 ? -2 : 0;
}

int keyfile_pub_load(const char *path, struct ms_pubkey *pk, sd_error *err)
{
	char buf[KEYFILE_MAX + 1], msg[SD_ERRLEN];
	size_t len;
	int rc;

	if ((rc = keyfile_read(path, 1, buf, sizeof(buf), &len, err)) < 0)
		return rc;
	if (keyfile_want(path, buf, len, KEY_SIGN_PUB, err) < 0)
		return -2;
	if (ms_pubkey_parse(buf, len, pk, err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		sd_fail(err, "%s: %s", path, msg);
		return -2;
	}
	return 0;
}

/* One key line of a SITE.pub with several (from..end, no newline). */
static int pubs_line(const char *path, const char *line, size_t l, int lineno, struct ms_pubkey *pk,
		     sd_error *err)
{
	char msg[SD_ERRLEN];

	if (ms_pubkey_parse(line, l, pk, err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sd_fail(err, "%s: line %d: %s", path, lineno, msg);
	}
	return 0;
}

int keyfile_pubs_load(const char *path, struct ms_pubkey *pks, size_t max, size_t *n, sd_error *err)
{
	char buf[KEYFILE_MAX + 1];
	const char *p, *end, *nl;
	size_t len, l;
	int rc, lineno = 0;

	*n = 0;
	if ((rc = keyfile_read(path, 1, buf, sizeof(buf), &len, err)) < 0)
		return rc;
	if (keyfile_want(path, buf, len, KEY_SIGN_PUB, err) < 0)
		return -2;
	for (p = buf, end = buf + len; p < end; p = nl + 1) {
		lineno++;
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			nl = end;
		l = (size_t)(nl - p);
		if (l && p[l - 1] == '\r')
			l--;
		if (!l || (l >= 18 && !strncmp(p, "untrusted comment:", 18)))
			continue;
		if (*n == max) {
			sd_fail(err, "%s: over %zu keys", path, max);
			return -2;
		}
		if (pubs_line(path, p, l, lineno, &pks[*n], err) < 0)
			return -2;
		++*n;
	}
	if (!*n) {
		sd_fail(err, "%s: no public key in it", path);
		return -2;
	}
	return 0;
}

/* ---- which key is this ------------------------------------------------------------------------
 * An admin with four key files (SITE.key, SITE.pub, CENTRAL.key, CENTRAL.pub) gives one for
 * another; the parsers alone would then say "malformed key line" or "unsupported signature
 * algorithm". The key line's decoded length and magic tell the kinds apart, except the two
 * encryption keys (same layout): their comment line says which. */

#define SIGN_PUB_LEN (2 + MS_KEYNUMBYTES + 32)
#define SIGN_SEC_LEN (2 + 2 + 2 + 32 + 8 + 8 + MS_KEYNUMBYTES + 64 + 32)
#define SEAL_LEN (2 + 8 + 32)

enum key_kind keyfile_kind(const char *text, size_t len)
{
	char line[512];
	const char *p = text, *end = text + len, *nl;
	unsigned char bin[SIGN_SEC_LEN];
	size_t l;
	int commented = len >= 18 && !strncmp(text, "untrusted comment:", 18);

	if (commented) {
		if (!(nl = memchr(text, '\n', len)))
			return KEY_UNKNOWN;
		p = nl + 1;
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	l = (size_t)((nl ? nl : end) - p);
	if (l && p[l - 1] == '\r')
		l--;
	if (l >= sizeof(line) || memchr(p, '\0', l))
		return KEY_UNKNOWN;
	memcpy(line, p, l);
	line[l] = '\0';
	if (ms_b64_decode(line, bin, SIGN_SEC_LEN) == 0)
		return !memcmp(bin, "Ed", 2) ? KEY_SIGN_SEC : KEY_UNKNOWN;
	if (ms_b64_decode(line, bin, SIGN_PUB_LEN) < 0)
		return KEY_UNKNOWN;
	if (!memcmp(bin, "Ed", 2))
		return KEY_SIGN_PUB;
	if (memcmp(bin, "X1", 2) || !commented)
		return KEY_UNKNOWN;
	nl = memchr(text, '\n', len);
	if (memmem(text, (size_t)(nl - text), "secret", 6))
		return KEY_SEAL_SEC;
	return memmem(text, (size_t)(nl - text), "public", 6) ? KEY_SEAL_PUB : KEY_UNKNOWN;
}

static const struct {
	const char *name, *opt, *tool;
} kinds[] = {
	[KEY_UNKNOWN] = { "", "", "" },
	[KEY_SIGN_PUB] = { "a signing public key", "-p (and the trust dir)", "sitedump keygen" },
	[KEY_SIGN_SEC] = { "a signing secret key", "-k", "sitedump keygen" },
	[KEY_SEAL_PUB] = { "an encryption public key", "--encrypt-to", "siteload keygen" },
	[KEY_SEAL_SEC] = { "an encryption secret key", "--decrypt-key", "siteload keygen" },
};

/* The other half of the pair: path with .pub and .key swapped, when it exists. */
static void pair_hint(const char *path, enum key_kind got, enum key_kind want, char *out, size_t cap)
{
	char other[512];
	size_t n = strlen(path);
	int same_family = (got <= KEY_SIGN_SEC) == (want <= KEY_SIGN_SEC);

	out[0] = '\0';
	if (!same_family || n < 4 || n >= sizeof(other) || (strcmp(path + n - 4, ".pub") && strcmp(path + n - 4, ".key")))
		return;
	snprintf(other, sizeof(other), "%.*s%s", (int)(n - 4), path, strcmp(path + n - 4, ".pub") ? ".pub" : ".key");
	if (access(other, F_OK) == 0)
		snprintf(out, cap, " (%s)", other);
}

static int want_msg(const char *prefix, const char *path, enum key_kind got, enum key_kind want,
		    sd_error *err)
{
	char hint[600];
	const char *want_name = kinds[want].name + (want == KEY_SEAL_PUB || want == KEY_SEAL_SEC ? 3 : 2);

	pair_hint(path, got, want, hint, sizeof(hint));
	if (!hint[0])
		snprintf(hint, sizeof(hint), " (%s writes it)", kinds[want].tool);
	return sd_fail(err, "%sthis is %s; %s wants the %s%s", prefix, kinds[got].name, kinds[want].opt,
		       want_name, hint);
}

int keyfile_want(const char *path, const char *text, size_t len, enum key_kind want, sd_error *err)
{
	enum key_kind got = keyfile_kind(text, len);
	char prefix[600];

	if (got == KEY_UNKNOWN || got == want)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s: ", path);
	return want_msg(prefix, path, got, want, err);
}

struct ms_seckey *keyfile_sec_parse(const char *path, const char *text, size_t len, sd_error *err)
{
	enum key_kind got = keyfile_kind(text, len);

	if (got != KEY_UNKNOWN && got != KEY_SIGN_SEC) {
		want_msg("", path, got, KEY_SIGN_SEC, err);
		return NULL;
	}
	return ms_seckey_parse(text, len, err);
}
