/*
 * seal.h - optional confidentiality for bundles: sign, then encrypt to the
 * central site's X25519 key (libsodium crypto_box_seal + secretstream).
 */
#ifndef SITEDUMP_SEAL_H
#define SITEDUMP_SEAL_H

#include <stdio.h>
#include "model/snapshot.h"

#define SEAL_MAGIC "SDSEAL1\n"

struct seal_pub {
	unsigned char keyid[8];
	unsigned char pk[32];
};
struct seal_sec;        /* guarded memory */

/* Key files: text, one comment line and one base64 line. */
int seal_keygen(const char *name, int force, char *msg, size_t msglen, sd_error *err);
int seal_pub_load(const char *path, struct seal_pub *pub, sd_error *err);
struct seal_sec *seal_sec_load(const char *path, sd_error *err);
void seal_sec_free(struct seal_sec *s);

/* A stream that encrypts everything written to it onto out; fclose it to
 * write the final chunk (then check ferror(out)). NULL on error. */
FILE *seal_writer(FILE *out, const struct seal_pub *to, sd_error *err);

/* Decrypt fd into an unlinked temp file under tmpdir; returns its fd
 * positioned at 0, or -1 (*bad = 1 when the data is bad, not I/O). The
 * decrypted size is capped at max bytes; over it: *bad = 1. */
int seal_open_max(int fd, const struct seal_sec *key, const char *tmpdir, long long max, int *bad, sd_error *err);
#endif
