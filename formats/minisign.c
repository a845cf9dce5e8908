/*
 * minisign.c - read and write minisign's key and signature formats.
 *
 * Why our own code instead of calling minisign(1): sitedump signs from cron
 * without a terminal and must not depend on a second binary being present;
 * the format is small and fully specified by minisign's source, and all
 * the cryptography is libsodium's (Ed25519, BLAKE2b). Interoperability is
 * tested against Debian's minisign in both directions.
 *
 * Layouts (base64, original alphabet):
 *   public key  "Ed" keynum[8] pk[32]
 *   secret key  "Ed" kdf[2] "B2" salt[32] ops[8] mem[8] keynum[8] sk[64] chk[32]
 *               (kdf "\0\0" = not encrypted; chk = BLAKE2b-256(sig_alg keynum sk))
 *   signature   "ED" keynum[8] sig[64], sig over BLAKE2b-512(message);
 *               global sig = Ed25519(sig || trusted comment)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "formats/minisign.h"

struct ms_seckey {
	unsigned char keynum[MS_KEYNUMBYTES];
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
};

#define SK_BIN_LEN (2 + 2 + 2 + 32 + 8 + 8 + MS_KEYNUMBYTES + crypto_sign_SECRETKEYBYTES + 32)
#define PK_BIN_LEN (2 + MS_KEYNUMBYTES + crypto_sign_PUBLICKEYBYTES)
#define SIG_BIN_LEN (2 + MS_KEYNUMBYTES + crypto_sign_BYTES)

static int ms_init(sd_error *err)
{
	if (sodium_init() < 0)
		return sd_fail(err, "libsodium failed to initialise");
	return 0;
}

/* Line `n` (0-based) of text, without CR/LF; into buf. -1 if absent/too long. */
static int get_line(const char *text, size_t len, int n, char *buf, size_t buflen)
{
	const char *p = text, *end = text + len, *nl;
	size_t l;

	while (n-- > 0) {
		if (!(nl = memchr(p, '\n', (size_t)(end - p))))
			return -1;
		p = nl + 1;
	}
	if (p >= end)
		return -1;
	nl = memchr(p, '\n', (size_t)(end - p));
	l = (size_t)((nl ? nl : end) - p);
	if (l && p[l - 1] == '\r')
		l--;
	if (l >= buflen || memchr(p, '\0', l))
		return -1;
	memcpy(buf, p, l);
	buf[l] = '\0';
	return 0;
}

int ms_b64_decode(const char *s, unsigned char *out, size_t want)
{
	size_t got = 0, i;

	/* libsodium 1.0.18 decodes any byte >= 0x80 as '/' (signed char), so a
	 * changed byte could pass unnoticed: allow the alphabet only */
	for (i = 0; s[i]; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=", s[i]))
			return -1;
	if (sodium_base642bin(out, want, s, strlen(s), NULL, &got, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return got == want ? 0 : -1;
}

static char *b64_encode(const unsigned char *bin, size_t len, char *out, size_t outlen)
{
	return sodium_bin2base64(out, outlen, bin, len, sodium_base64_VARIANT_ORIGINAL);
}

void ms_keyid_hex(const unsigned char keynum[MS_KEYNUMBYTES], char out[17])
{
	int i;

	/* minisign prints the little-endian 64-bit key number */
	for (i = 0; i < MS_KEYNUMBYTES; i++)
		snprintf(out + 2 * i, 3, "%02X", keynum[MS_KEYNUMBYTES - 1 - i]);
}

int ms_pubkey_parse(const char *text, size_t len, struct ms_pubkey *pk, sd_error *err)
{
	char line[256];
	unsigned char bin[PK_BIN_LEN];

	if (ms_init(err) < 0)
		return -1;
	/* a file has an untrusted comment line first; a bare key does not */
	if (get_line(text, len, 0, line, sizeof(line)) < 0)
		return sd_fail(err, "public key: empty or malformed");
	if (!strncmp(line, "untrusted comment:", 18) && get_line(text, len, 1, line, sizeof(line)) < 0)
		return sd_fail(err, "public key: missing key line");
	if (ms_b64_decode(line, bin, sizeof(bin)) < 0)
		return sd_fail(err, "public key: not a minisign public key");
	if (memcmp(bin, "Ed", 2))
		return sd_fail(err, "public key: unsupported signature algorithm");
	memcpy(pk->keynum, bin + 2, MS_KEYNUMBYTES);
	memcpy(pk->pk, bin + 2 + MS_KEYNUMBYTES, sizeof(pk->pk));
	return 0;
}

char *ms_pubkey_format(const struct ms_pubkey *pk)
{
	unsigned char bin[PK_BIN_LEN];
	char b64[sodium_base64_ENCODED_LEN(PK_BIN_LEN, sodium_base64_VARIANT_ORIGINAL)], id[17], *out;

	memcpy(bin, "Ed", 2);
	memcpy(bin + 2, pk->keynum, MS_KEYNUMBYTES);
	memcpy(bin + 2 + MS_KEYNUMBYTES, pk->pk, sizeof(pk->pk));
	b64_encode(bin, sizeof(bin), b64, sizeof(b64));
	ms_keyid_hex(pk->keynum, id);
	if (asprintf(&out, "untrusted comment: minisign public key %s\n%s\n", id, b64) < 0)
		return NULL;
	return out;
}

static void seckey_chk(const struct ms_seckey *sk, unsigned char chk[32])
{
	crypto_generichash_state hs;

	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, (const unsigned char *)"Ed", 2);
	crypto_generichash_update(&hs, sk->keynum, MS_KEYNUMBYTES);
	crypto_generichash_update(&hs, sk->sk, sizeof(sk->sk));
	crypto_generichash_final(&hs, chk, 32);
}

struct ms_seckey *ms_seckey_parse(const char *text, size_t len, sd_error *err)
{
	char *line = NULL;
	unsigned char *bin = NULL, chk[32];
	struct ms_seckey *sk = NULL;
	static const unsigned char zero[32];
	const size_t linelen = 512;

	if (ms_init(err) < 0)
		return NULL;
	line = sodium_malloc(linelen);
	bin = sodium_malloc(SK_BIN_LEN);
	sk = sodium_malloc(sizeof(*sk));
	if (!line || !bin || !sk) {
		sd_fail(err, "out of memory");
		goto fail;
	}
	if (get_line(text, len, 0, line, linelen) < 0 || strncmp(line, "untrusted comment:", 18)) {
		sd_fail(err, "secret key: not a minisign secret key file");
		goto fail;
	}
	if (get_line(text, len, 1, line, linelen) < 0 || ms_b64_decode(line, bin, SK_BIN_LEN) < 0) {
		sd_fail(err, "secret key: malformed key line");
		goto fail;
	}
	if (memcmp(bin, "Ed", 2) || memcmp(bin + 4, "B2", 2)) {
		sd_fail(err, "secret key: unsupported algorithm");
		goto fail;
	}
	if (!memcmp(bin + 2, "Sc", 2)) {
		sd_fail(err, "secret key: encrypted with a password; sitedump runs unattended and needs "
			     "an unencrypted key (minisign -G -W, or sitedump keygen)");
		goto fail;
	}
	if (memcmp(bin + 2, "\0\0", 2)) {
		sd_fail(err, "secret key: unsupported key derivation");
		goto fail;
	}
	memcpy(sk->keynum, bin + 54, MS_KEYNUMBYTES);
	memcpy(sk->sk, bin + 62, sizeof(sk->sk));
	/* minisign leaves the checksum zero in unencrypted keys; check it when present */
	seckey_chk(sk, chk);
	if (memcmp(bin + 126, zero, 32) && sodium_memcmp(bin + 126, chk, 32)) {
		sd_fail(err, "secret key: checksum mismatch (damaged key file)");
		goto fail;
	}
	sodium_memzero(chk, sizeof(chk));
	sodium_free(line);
	sodium_free(bin);
	return sk;
fail:
	sodium_free(line);
	sodium_free(bin);
	sodium_free(sk);
	return NULL;
}

char *ms_seckey_format(const struct ms_seckey *sk)
{
	const size_t b64len = sodium_base64_ENCODED_LEN(SK_BIN_LEN, sodium_base64_VARIANT_ORIGINAL);
	const char *head = "untrusted comment: sitedump secret key (unencrypted)\n";
	unsigned char *bin = sodium_malloc(SK_BIN_LEN);
	char *out = sodium_malloc(strlen(head) + b64len + 2);

	if (!bin || !out) {
		sodium_free(bin);
		sodium_free(out);
		return NULL;
	}
	memset(bin, 0, SK_BIN_LEN);
	memcpy(bin, "Ed\0\0B2", 6);
	memcpy(bin + 54, sk->keynum, MS_KEYNUMBYTES);
	memcpy(bin + 62, sk->sk, sizeof(sk->sk));
	seckey_chk(sk, bin + 126);
	strcpy(out, head);
	b64_encode(bin, SK_BIN_LEN, out + strlen(head), b64len);
	strcat(out, "\n");
	sodium_free(bin);
	return out;
}

void ms_secret_text_free(char *text)
{
	sodium_free(text);
}

void ms_seckey_public(const struct ms_seckey *sk, struct ms_pubkey *pk)
{
	memcpy(pk->keynum, sk->keynum, MS_KEYNUMBYTES);
	crypto_sign_ed25519_sk_to_pk(pk->pk, sk->sk);
}

void ms_seckey_free(struct ms_seckey *sk)
{
	sodium_free(sk);       /* sodium_free wipes and accepts NULL */
}

struct ms_seckey *ms_keygen(struct ms_pubkey *pk, sd_error *err)
{
	struct ms_seckey *sk;

	if (ms_init(err) < 0)
		return NULL;
	if (!(sk = sodium_malloc(sizeof(*sk)))) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	randombytes_buf(sk->keynum, MS_KEYNUMBYTES);
	crypto_sign_keypair(pk->pk, sk->sk);
	memcpy(pk->keynum, sk->keynum, MS_KEYNUMBYTES);
	return sk;
}

char *ms_sign(const struct ms_seckey *sk, const void *msg, size_t len,
	      const char *trusted_comment, sd_error *err)
{
	unsigned char hash[crypto_generichash_BYTES_MAX], bin[SIG_BIN_LEN], gsig[crypto_sign_BYTES];
	char b64[sodium_base64_ENCODED_LEN(SIG_BIN_LEN, sodium_base64_VARIANT_ORIGINAL)];
	char gb64[sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL)];
	unsigned char *both;
	size_t tl = strlen(trusted_comment);
	char *out;

	if (ms_init(err) < 0)
		return NULL;
	if (strpbrk(trusted_comment, "\r\n") || tl >= MS_TRUSTED_MAX - 32) {
		sd_fail(err, "trusted comment must be one short line");
		return NULL;
	}
	crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
	memcpy(bin, "ED", 2);
	memcpy(bin + 2, sk->keynum, MS_KEYNUMBYTES);
	crypto_sign_detached(bin + 2 + MS_KEYNUMBYTES, NULL, hash, sizeof(hash), sk->sk);
	if (!(both = malloc(crypto_sign_BYTES + tl))) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	memcpy(both, bin + 2 + MS_KEYNUMBYTES, crypto_sign_BYTES);
	memcpy(both + crypto_sign_BYTES, trusted_comment, tl);
	crypto_sign_detached(gsig, NULL, both, crypto_sign_BYTES + tl, sk->sk);
	free(both);
	b64_encode(bin, sizeof(bin), b64, sizeof(b64));
	b64_encode(gsig, sizeof(gsig), gb64, sizeof(gb64));
	if (asprintf(&out, MS_SIG_UNTRUSTED "%s\ntrusted comment: %s\n%s\n",
		     b64, trusted_comment, gb64) < 0) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	return out;
}

int ms_verify(const struct ms_pubkey *pk, const void *msg, size_t len,
	      const char *sigtext, size_t siglen, char *trusted, size_t trusted_len, sd_error *err)
{
	unsigned char bin[SIG_BIN_LEN], gsig[crypto_sign_BYTES], hash[crypto_generichash_BYTES_MAX], *both;
	char line[256], *tc;
	char id1[17], id2[17];
	size_t tl;
	int rc;

	if (ms_init(err) < 0)
		return -1;
	if (get_line(sigtext, siglen, 0, line, sizeof(line)) < 0 || strncmp(line, "untrusted comment:", 18))
		return sd_fail(err, "signature: malformed (no untrusted comment line)");
	if (get_line(sigtext, siglen, 1, line, sizeof(line)) < 0 || ms_b64_decode(line, bin, sizeof(bin)) < 0)
		return sd_fail(err, "signature: malformed signature line");
	if (!(tc = malloc(MS_TRUSTED_MAX)))
		return sd_fail(err, "out of memory");
	if (get_line(sigtext, siglen, 2, tc, MS_TRUSTED_MAX) < 0 || strncmp(tc, "trusted comment: ", 17)) {
		free(tc);
		return sd_fail(err, "signature: malformed trusted comment line");
	}
	if (get_line(sigtext, siglen, 3, line, sizeof(line)) < 0 || ms_b64_decode(line, gsig, sizeof(gsig)) < 0) {
		free(tc);
		return sd_fail(err, "signature: malformed comment signature line");
	}
	if (memcmp(pk->keynum, bin + 2, MS_KEYNUMBYTES)) {
		ms_keyid_hex(bin + 2, id1);
		ms_keyid_hex(pk->keynum, id2);
		free(tc);
		return sd_fail(err, "signature: made by key %s, but the trusted key is %s", id1, id2);
	}
	if (!memcmp(bin, "ED", 2)) {
		crypto_generichash(hash, sizeof(hash), msg, len, NULL, 0);
		rc = crypto_sign_verify_detached(bin + 10, hash, sizeof(hash), pk->pk);
	} else if (!memcmp(bin, "Ed", 2)) {
		rc = crypto_sign_verify_detached(bin + 10, msg, len, pk->pk);
	} else {
		free(tc);
		return sd_fail(err, "signature: unsupported algorithm");
	}
	if (rc != 0) {
		free(tc);
		return sd_fail(err, "signature: verification failed (content changed or wrong key)");
	}
	tl = strlen(tc + 17);
	if (!(both = malloc(crypto_sign_BYTES + tl))) {
		free(tc);
		return sd_fail(err, "out of memory");
	}
	memcpy(both, bin + 10, crypto_sign_BYTES);
	memcpy(both + crypto_sign_BYTES, tc + 17, tl);
	rc = crypto_sign_verify_detached(gsig, both, crypto_sign_BYTES + tl, pk->pk);
	free(both);
	if (rc != 0) {
		free(tc);
		return sd_fail(err, "signature: trusted comment signature verification failed");
	}
	if (tl >= trusted_len) {
		free(tc);
		return sd_fail(err, "signature: trusted comment too long");
	}
	memcpy(trusted, tc + 17, tl + 1);
	free(tc);
	return 0;
}

void ms_sign_raw(const struct ms_seckey *sk, const unsigned char *m, size_t len,
		 unsigned char sig[64], unsigned char keynum[MS_KEYNUMBYTES])
{
	crypto_sign_detached(sig, NULL, m, len, sk->sk);
	memcpy(keynum, sk->keynum, MS_KEYNUMBYTES);
}

int ms_verify_raw(const struct ms_pubkey *pk, const unsigned char *m, size_t len, const unsigned char sig[64])
{
	return crypto_sign_verify_detached(sig, m, len, pk->pk) == 0 ? 0 : -1;
}
