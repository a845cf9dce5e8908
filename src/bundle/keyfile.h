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

#endif
