/*
 * bundle_name.h - the bundle file name, SITE-SEQ-KIND.EXT, in one place:
 * sitedump names its bundles with it, the queue and the spool find them
 * by it (docs/transport-spool.md, docs/transport-queue.md).
 *
 * The name only finds a bundle; what counts is the signed manifest inside.
 * An encrypted bundle's EXT ends in ".sealed" (SITE-SEQ-KIND.tar.gz.sealed):
 * it is not a tar, and `tar -tzf` on it should not be tried.
 */
#ifndef SITEDUMP_BUNDLE_NAME_H
#define SITEDUMP_BUNDLE_NAME_H

#include <stddef.h>
#include "bundle/bundle.h"

/* Longer than any name the rules allow: 64 + 1 + 20 + 1 + 6 + 1 + 14. */
#define BUNDLE_NAME_MAX 128

struct bundle_name {
	char site[65];                  /* seq_site_ok */
	unsigned long long seq;         /* 1 or more */
	const char *kind;               /* "state", "config" or "both" (static) */
	const char *ext;                /* "tar", "tar.gz" or "tar.zst", each maybe + ".sealed" (static) */
};

/*
 * Parse name: SITE (seq_site_ok: [A-Za-z0-9._-], 1..64, no leading dot,
 * so temp and hidden names never match), '-', SEQ (1..20 decimal digits,
 * not 0, no overflow), '-', KIND, '.', EXT. SITE may hold '-': KIND and
 * SEQ are taken from the right. 0, or -1 (bn then undefined).
 */
int bundle_name_parse(const char *name, struct bundle_name *bn);

/* The name of site's bundle seq of kind with ext into buf[len]: 0, or -1
 * when a part breaks the rules above or buf is too short. */
int bundle_name_format(char *buf, size_t len, const char *site, unsigned long long seq, const char *kind,
		       const char *ext);

/* The extension of a bundle compressed with c ("tar.gz", "tar.zst", "tar"),
 * with ".sealed" appended when it is encrypted. */
const char *bundle_name_ext(enum bundle_compress c, int sealed);

#endif
