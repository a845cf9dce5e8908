/*
 * minisign.h - minisign's key and signature files (Ed25519, libsodium).
 *
 * Bundles are signed in minisign's own format so that an admin can check
 * an unpacked manifest with the stock `minisign -V`, and a key made with
 * `minisign -G -W` can sign bundles. Secret keys live in sodium_malloc'd
 * memory and are wiped by ms_seckey_free.
 */
#ifndef SITEDUMP_MINISIGN_H
#define SITEDUMP_MINISIGN_H

#include <stddef.h>
#include <stdint.h>
#include "model/snapshot.h"

#define MS_KEYNUMBYTES 8
#define MS_TRUSTED_MAX 8192
/* The first line of every signature sitedump writes. */
#define MS_SIG_UNTRUSTED "untrusted comment: signature from sitedump secret key\n"

struct ms_pubkey {
	unsigned char keynum[MS_KEYNUMBYTES];
	unsigned char pk[32];
};

struct ms_seckey;       /* opaque, in guarded memory */

/* Parse a public key file's text (or the bare base64 line). 0 or -1. */
int ms_pubkey_parse(const char *text, size_t len, struct ms_pubkey *pk, sd_error *err);
/* The key id as minisign prints it (16 upper-case hex digits). */
void ms_keyid_hex(const unsigned char keynum[MS_KEYNUMBYTES], char out[17]);
/* Public key file text; malloc'd. */
char *ms_pubkey_format(const struct ms_pubkey *pk);

/* Parse an unencrypted secret key file (minisign -G -W); an encrypted one
 * is refused with a message saying so. NULL on error. */
struct ms_seckey *ms_seckey_parse(const char *text, size_t len, sd_error *err);
/* Secret key file text in guarded memory; free with ms_secret_text_free. */
char *ms_seckey_format(const struct ms_seckey *sk);
void ms_secret_text_free(char *text);
void ms_seckey_public(const struct ms_seckey *sk, struct ms_pubkey *pk);
void ms_seckey_free(struct ms_seckey *sk);

/* A new key pair. NULL on error. */
struct ms_seckey *ms_keygen(struct ms_pubkey *pk, sd_error *err);

/*
 * Sign msg (prehashed "ED" signature, as minisign 0.8+ writes by default)
 * with a trusted comment (one line, no CR/LF). Returns the .minisig file
 * text, malloc'd, or NULL.
 */
char *ms_sign(const struct ms_seckey *sk, const void *msg, size_t len,
	      const char *trusted_comment, sd_error *err);

/*
 * Verify a .minisig text for msg against pk. On success returns 0 and
 * copies the trusted comment to trusted (NUL-terminated). -1 with err set
 * (key id mismatch, bad signature, bad comment signature, malformed file).
 */
int ms_verify(const struct ms_pubkey *pk, const void *msg, size_t len,
	      const char *sigtext, size_t siglen, char *trusted, size_t trusted_len, sd_error *err);

/* Strict base64 (original alphabet only) of exactly `want` bytes. 0 or -1. */
int ms_b64_decode(const char *s, unsigned char *out, size_t want);

/* Raw Ed25519 over a short message, with the key's key number (for the
 * bundles' outer signature). */
void ms_sign_raw(const struct ms_seckey *sk, const unsigned char *m, size_t len,
		 unsigned char sig[64], unsigned char keynum[MS_KEYNUMBYTES]);
int ms_verify_raw(const struct ms_pubkey *pk, const unsigned char *m, size_t len, const unsigned char sig[64]);

#endif
