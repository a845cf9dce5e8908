/*
 * keyfile.h - reading key files (SITE.pub, CENTRAL.pub, CENTRAL.key) in one
 * place: small, whole, and a .pub never through a symbolic link.
 */
#ifndef SITEDUMP_KEYFILE_H
#define SITEDUMP_KEYFILE_H

#include <stddef.h>
#include "formats/minisign.h"

/* Every key file sitedump, siteload or minisign writes is under 400 bytes;
 * a bigger file is not a key (and is not read on). */
#define KEYFILE_MAX 1023

/*
 * Read the key file at path whole into buf[cap] (cap <= KEYFILE_MAX + 1),
 * NUL-terminated, its length in *len. nofollow: open with O_NOFOLLOW, for
 * public keys, which decide whose bundles are trusted. 0; -1 when it
 * cannot be opened; -2 when it cannot be read or holds cap bytes or more.
 * err is one line naming path.
 */
int keyfile_read(const char *path, int nofollow, char *buf, size_t cap, size_t *len, sd_error *err);

/* A minisign public key file (SITE.pub, -p): 0, or keyfile_read's -1 or
 * -2 (-2 also when it is not a public key), err one line naming path. */
int keyfile_pub_load(const char *path, struct ms_pubkey *pk, sd_error *err);

/*
 * A trust dir's SITE.pub: one public key, or several during a key rotation
 * (the new key's .pub appended to the old one's: `cat new.pub >> SITE.pub`).
 * Each key is its key line, after an optional "untrusted comment:" line;
 * blank lines are skipped. Up to max keys into pks[], their number in *n.
 * 0, or keyfile_read's -1 or -2 (-2 also when a line is not a public key,
 * or there are none or over max), err one line naming path.
 */
#define KEYFILE_MAX_PUBS 8
int keyfile_pubs_load(const char *path, struct ms_pubkey *pks, size_t max, size_t *n, sd_error *err);

/* What a key file holds, told apart by its key line (length and magic) and,
 * for the encryption keys that share a layout, by their comment line. */
enum key_kind {
	KEY_UNKNOWN,
	KEY_SIGN_PUB,   /* minisign public key: -p, the trust dir's SITE.pub */
	KEY_SIGN_SEC,   /* minisign secret key: sitedump -k */
	KEY_SEAL_PUB,   /* encryption public key: sitedump --encrypt-to */
	KEY_SEAL_SEC,   /* encryption secret key: siteload --decrypt-key */
};

enum key_kind keyfile_kind(const char *text, size_t len);

/*
 * When text (read from path) is a key of another kind than want: -1, err
 * one line naming what it is, which option wants what, and the file next
 * to it that may be the right one ("r1.pub: this is a signing public key;
 * -k wants the signing secret key (r1.key)"). 0 when it is of kind want or
 * of no kind known (the parser then says what is wrong).
 */
int keyfile_want(const char *path, const char *text, size_t len, enum key_kind want, sd_error *err);

/* A minisign secret key (sitedump -k) from text read from path: NULL with
 * err (not naming path: the caller does) when it is none, saying what it
 * is when it is another kind of key. */
struct ms_seckey *keyfile_sec_parse(const char *path, const char *text, size_t len, sd_error *err);

#endif
