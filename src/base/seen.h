/*
 * seen.h - a set of records already met, in 8 bytes each.
 *
 * For streams that must not hold their records (a site's config: 200k
 * services) but must notice a repeat: a keyed 64-bit hash of each record
 * is kept, not the record. The key is random per set (libsodium's
 * crypto_shorthash, SipHash-2-4), so a remote that chooses the records
 * cannot make two of them collide; by chance a collision needs ~2^32
 * records.
 */
#ifndef SITEDUMP_SEEN_H
#define SITEDUMP_SEEN_H
#include <stddef.h>

struct seen;

struct seen *seen_new(void);                    /* NULL on out of memory */
/* 1 if the bytes are new (now added), 0 if met before, -1 on out of memory. */
int seen_add(struct seen *s, const void *p, size_t len);
void seen_free(struct seen *s);                 /* NULL ok */
#endif
