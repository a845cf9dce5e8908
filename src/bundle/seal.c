/*
 * seal.c - encrypted bundles.
 *
 * Layout: "SDSEAL1\n", recipient key id[8], crypto_box_seal(stream key)
 * [32 + 48], secretstream header [24], then chunks of 65536 plaintext
 * bytes + 17 (the last shorter, tagged FINAL). Sign-then-encrypt: what is
 * encrypted is a complete signed bundle, verified as usual after opening,
 * so the transport learns nothing and the central still checks who made it.
 * A missing FINAL chunk (truncation) or bytes after it are rejected.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "formats/minisign.h"
#include "base/output.h"
#include "bundle/keyfile.h"
#include "bundle/seal.h"

#define PLAIN 65536
#define CIPHER (PLAIN + crypto_secretstream_xchacha20poly1305_ABYTES)
#define SEALED_KEY (crypto_secretstream_xchacha20poly1305_KEYBYTES + crypto_box_SEALBYTES)

struct seal_sec {
	unsigned char keyid[8];
	unsigned char pk[32];
	unsigned char sk[32];
};

int seal_keygen(const char *name, int force, char *msg, size_t msglen, sd_error *err)
{
	unsigned char bin[2 + 8 + 32], *sbin = sodium_malloc(2 + 8 + 32);
	char pb64[sodium_base64_ENCODED_LEN(sizeof(bin), sodium_base64_VARIANT_ORIGINAL)];
	char *sb64 = sodium_malloc(sizeof(pb64)), *text = sodium_malloc(sizeof(pb64) + 128);
	char *pubpath = NULL, *keypath = NULL, pubtext[256];
	struct seal_sec *s = sodium_malloc(sizeof(*s));
	int rc = -1;

	if (!sbin || !sb64 || !text || !s || asprintf(&pubpath, "%s.pub", name) < 0 ||
	    asprintf(&keypath, "%s.key", name) < 0) {
		sd_fail(err, "out of memory");
		goto out;
	}
	if (!force && (!access(pubpath, F_OK) || !access(keypath, F_OK))) {
		sd_fail(err, "%s or %s exists; use -f to overwrite", keypath, pubpath);
		goto out;
	}
	randombytes_buf(s->keyid, 8);
	crypto_box_keypair(s->pk, s->sk);
	memcpy(bin, "X1", 2);
	memcpy(bin + 2, s->keyid, 8);
	memcpy(bin + 10, s->pk, 32);
	memcpy(sbin, "X1", 2);
	memcpy(sbin + 2, s->keyid, 8);
	memcpy(sbin + 10, s->sk, 32);
	sodium_bin2base64(pb64, sizeof(pb64), bin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(sb64, sizeof(pb64), sbin, sizeof(bin), sodium_base64_VARIANT_ORIGINAL);
	snprintf(pubtext, sizeof(pubtext), "untrusted comment: sitedump encryption public key\n%s\n", pb64);
	snprintf(text, sizeof(pb64) + 128, "untrusted comment: sitedump encryption secret key\n%s\n", sb64);
	if (out_write_new(keypath, text, 0600, force, err) < 0 || out_write_new(pubpath, pubtext, 0644, force, err) < 0)
		goto out;
	snprintf(msg, msglen, "wrote %s (secret, keep it on the central site) and %s (give it to the remote sites)",
		 keypath, pubpath);
	rc = 0;
out:
	sodium_free(sbin);
	sodium_free(sb64);
	sodium_free(text);
	sodium_free(s);
	free(pubpath);
	free(keypath);
	return rc;
}

/* Second line of a key file, decoded into out[len] ("X1" keyid key).
 * nofollow for the public key (keyfile.c says why). */
static int load_line(const char *path, int nofollow, unsigned char *out, size_t len, const char *what,
		     enum key_kind want, sd_error *err)
{
	char *buf = sodium_malloc(KEYFILE_MAX + 1), *nl, *line;
	size_t n;
	int rc = -1;

	if (!buf)
		return sd_fail(err, "out of memory");
	if (keyfile_read(path, nofollow, buf, KEYFILE_MAX + 1, &n, err) < 0 ||
	    keyfile_want(path, buf, n, want, err) < 0)
		goto out;
	if (strncmp(buf, "untrusted comment:", 18) || !(nl = strchr(buf, '\n'))) {
		sd_fail(err, "%s: not a sitedump %s", path, what);
		goto out;
	}
	line = nl + 1;
	line[strcspn(line, "\r\n")] = '\0';
	if (ms_b64_decode(line, out, len) < 0 || memcmp(out, "X1", 2)) {
		sd_fail(err, "%s: not a sitedump %s", path, what);
		goto out;
	}
	rc = 0;
out:
	sodium_free(buf);
	return rc;
}

int seal_pub_load(const char *path, struct seal_pub *pub, sd_error *err)
{
	unsigned char bin[42];

	if (load_line(path, 1, bin, sizeof(bin), "encryption public key", KEY_SEAL_PUB, err) < 0)
		return -1;
	memcpy(pub->keyid, bin + 2, 8);
	memcpy(pub->pk, bin + 10, 32);
	return 0;
}

struct seal_sec *seal_sec_load(const char *path, sd_error *err)
{
	unsigned char *bin = sodium_malloc(42);
	struct seal_sec *s = sodium_malloc(sizeof(*s));

	if (!bin || !s || load_line(path, 0, bin, 42, "encryption secret key", KEY_SEAL_SEC, err) < 0) {
		if (!bin || !s)
			sd_fail(err, "out of memory");
		sodium_free(bin);
		sodium_free(s);
		return NULL;
	}
	memcpy(s->keyid, bin + 2, 8);
	memcpy(s->sk, bin + 10, 32);
	crypto_scalarmult_base(s->pk, s->sk);
	sodium_free(bin);
	return s;
}

void seal_sec_free(struct seal_sec *s)
{
	sodium_free(s);
}

/* ---- writing ---- */

struct sw {
	FILE *out;
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned char buf[PLAIN];
	size_t n;
	unsigned char c[CIPHER];
};

static int flush_chunk(struct sw *w, unsigned char tag)
{
	unsigned long long clen;

	crypto_secretstream_xchacha20poly1305_push(&w->st, w->c, &clen, w->buf, w->n, NULL, 0, tag);
	w->n = 0;
	return fwrite(w->c, 1, (size_t)clen, w->out) == clen ? 0 : -1;
}

static ssize_t sw_write(void *cookie, const char *buf, size_t len)
{
	struct sw *w = cookie;
	size_t done = 0, k;

	while (done < len) {
		/* a full buffer is only pushed once more data follows, so the
		 * last chunk (tagged FINAL at close) is never empty unless the
		 * whole stream is */
		if (w->n == PLAIN && flush_chunk(w, 0) < 0)
			return -1;
		k = PLAIN - w->n < len - done ? PLAIN - w->n : len - done;
		memcpy(w->buf + w->n, buf + done, k);
		w->n += k;
		done += k;
	}
	return (ssize_t)len;
}

static int sw_close(void *cookie)
{
	struct sw *w = cookie;
	int rc = flush_chunk(w, crypto_secretstream_xchacha20poly1305_TAG_FINAL);

	sodium_memzero(&w->st, sizeof(w->st));
	sodium_free(w);
	return rc;
}

FILE *seal_writer(FILE *out, const struct seal_pub *to, sd_error *err)
{
	static const cookie_io_functions_t io = { .write = sw_write, .close = sw_close };
	unsigned char *key = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
	unsigned char sealed[SEALED_KEY], hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	struct sw *w = sodium_malloc(sizeof(*w));
	FILE *f;

	if (!key || !w) {
		sodium_free(key);
		sodium_free(w);
		sd_fail(err, "out of memory");
		return NULL;
	}
	w->out = out;
	w->n = 0;
	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_box_seal(sealed, key, crypto_secretstream_xchacha20poly1305_KEYBYTES, to->pk);
	crypto_secretstream_xchacha20poly1305_init_push(&w->st, hdr, key);
	sodium_free(key);
	fwrite(SEAL_MAGIC, 1, 8, out);
	fwrite(to->keyid, 1, 8, out);
	fwrite(sealed, 1, sizeof(sealed), out);
	fwrite(hdr, 1, sizeof(hdr), out);
	if (!(f = fopencookie(w, "w", io))) {
		sodium_free(w);
		sd_fail(err, "out of memory");
		return NULL;
	}
	return f;
}

/* ---- reading ---- */

static int bad_fail(int *bad, sd_error *err, const char *msg)
{
	*bad = 1;
	return sd_fail(err, "sealed bundle: %s", msg);
}

/* Anyone with the central's public key can seal: the plain text is capped
 * before it can fill the temp dir (the bundle's own limits come later). */
int seal_open_max(int fd, const struct seal_sec *key, const char *tmpdir, long long max, int *bad, sd_error *err)
{
	long long total = 0;
	unsigned char head[8 + 8 + SEALED_KEY + crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	unsigned char *skey = sodium_malloc(crypto_secretstream_xchacha20poly1305_KEYBYTES);
	unsigned char *c = malloc(CIPHER), *p = sodium_malloc(PLAIN);
	crypto_secretstream_xchacha20poly1305_state st;
	unsigned long long plen;
	unsigned char tag = 0;
	ssize_t n;
	int out = -1;

	*bad = 0;
	if (!tmpdir && !(tmpdir = getenv("TMPDIR")))
		tmpdir = "/tmp";
	if (!skey || !c || !p) {
		sd_fail(err, "out of memory");
		goto fail;
	}
	if ((n = out_read_full(fd, head, sizeof(head))) < 0) {
		sd_fail(err, "read error: %s", strerror(errno));
		goto fail;
	}
	if ((size_t)n < sizeof(head) || memcmp(head, SEAL_MAGIC, 8)) {
		bad_fail(bad, err, "truncated or not sealed");
		goto fail;
	}
	if (memcmp(head + 8, key->keyid, 8)) {
		bad_fail(bad, err, "sealed to another key");
		goto fail;
	}
	if (crypto_box_seal_open(skey, head + 16, SEALED_KEY, key->pk, key->sk) != 0) {
		bad_fail(bad, err, "cannot open the sealed key (damaged or wrong key)");
		goto fail;
	}
	if (crypto_secretstream_xchacha20poly1305_init_pull(&st, head + 16 + SEALED_KEY, skey) != 0) {
		bad_fail(bad, err, "bad stream header");
		goto fail;
	}
	if ((out = open(tmpdir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) < 0) {
		sd_fail(err, "%s: cannot create a temp file: %s", tmpdir, strerror(errno));
		goto fail;
	}
	while (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
		if ((n = out_read_full(fd, c, CIPHER)) < 0) {
			sd_fail(err, "read error: %s", strerror(errno));
			goto fail;
		}
		if (n < (ssize_t)crypto_secretstream_xchacha20poly1305_ABYTES) {
			bad_fail(bad, err, "truncated");
			goto fail;
		}
		if (crypto_secretstream_xchacha20poly1305_pull(&st, p, &plen, &tag, c, (size_t)n, NULL, 0) != 0) {
			bad_fail(bad, err, "damaged (authentication failed)");
			goto fail;
		}
		if (tag != crypto_secretstream_xchacha20poly1305_TAG_FINAL && n < CIPHER) {
			bad_fail(bad, err, "truncated");
			goto fail;
		}
		if ((total += (long long)plen) > max) {
			bad_fail(bad, err, "larger than the size limit");
			goto fail;
		}
		if (write(out, p, (size_t)plen) != (ssize_t)plen) {
			sd_fail(err, "temp file: %s", strerror(errno));
			goto fail;
		}
	}
	if (out_read_full(fd, c, 1) != 0) {
		bad_fail(bad, err, "data after the final chunk");
		goto fail;
	}
	lseek(out, 0, SEEK_SET);
	sodium_free(skey);
	sodium_free(p);
	free(c);
	sodium_memzero(&st, sizeof(st));
	return out;
fail:
	if (out >= 0)
		close(out);
	sodium_free(skey);
	sodium_free(p);
	free(c);
	sodium_memzero(&st, sizeof(st));
	return -1;
}
