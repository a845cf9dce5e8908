/*
 * bundle.h - signed, compressed bundles (docs/bundle-format.md).
 *
 * Writing: bundle_open, then bundle_member for each member (a FILE the
 * caller writes and must not close), bundle_count for the manifest's
 * counts, bundle_close to sign and write the archive, bundle_free.
 * Reading: bundle_read verifies everything before it returns a handle;
 * nothing in a bundle is acted on before that.
 */
#ifndef SITEDUMP_BUNDLE_H
#define SITEDUMP_BUNDLE_H

#include <stdio.h>
#include <time.h>
#include "formats/minisign.h"
#include "model/snapshot.h"

#define BUNDLE_FORMAT_VERSION 1
#define BUNDLE_MANIFEST "manifest.json"
#define BUNDLE_SIGNATURE "manifest.json.minisig"

enum bundle_compress { BUNDLE_GZIP, BUNDLE_ZSTD, BUNDLE_NONE };

struct bundle_info {
	int version;
	char site[256];
	unsigned long long sequence;
	long long created;
	char kind[16];                  /* state, config, both */
	char compression[8];            /* gzip, zstd, none: the reader checks the file is that */
	char generator[64];
	long long hosts, services, comments, downtimes;
	int signature_checked;          /* 0 when read without a key (inspect) */
	char keyid[17];
};

struct bundle_writer;

/* Members are spooled to unlinked files in tmpdir (NULL: $TMPDIR or /tmp);
 * for gzip, deflated on the way (see bundle.c). */
struct bundle_writer *bundle_open(const char *tmpdir, enum bundle_compress c, sd_error *err);
/* A stream for member `name`; owned by the writer. NULL on error. */
FILE *bundle_member(struct bundle_writer *b, const char *name, sd_error *err);
void bundle_count(struct bundle_writer *b, long long hosts, long long services,
		  long long comments, long long downtimes);
/* Write the archive to out: manifest, its signature, the members. */
int bundle_close(struct bundle_writer *b, FILE *out, const struct bundle_info *info,
		 const struct ms_seckey *sk, sd_error *err);
void bundle_free(struct bundle_writer *b);      /* removes temp files; NULL ok */

struct bundle_limits {
	long long max_members;
	long long max_member_size;
	long long max_total_size;
};
extern const struct bundle_limits bundle_default_limits;

struct bundle_reader;

/*
 * Read a bundle from fd. With pk, the signature must verify against it;
 * without (inspect), everything but the signature is checked. Members are
 * unpacked into unlinked temp files (nothing stays on disk, even if the
 * process is killed) and checked against the manifest's sizes and hashes. Returns NULL with err set; *verify_failed is 1 when
 * the bundle itself is bad (exit 1) and 0 for I/O or usage trouble (exit 2).
 */
struct bundle_reader *bundle_read(int fd, const struct ms_pubkey *pk, const struct bundle_limits *lim,
				  const char *tmpdir, int *verify_failed, sd_error *err);
/*
 * The same, with the key chosen by the site the signature names: keyfor
 * fills *pk for `site` (the trust store) or returns -1 with err set (no key
 * for that site: verify_failed). keynum is the key number the signature
 * names (unverified, like the site): a site may have several trusted keys
 * (a key rotation) and keyfor picks the one of that number. The signature
 * must then verify against that key and the signed manifest must name the
 * same site.
 */
typedef int (*bundle_key_fn)(void *ctx, const char *site, const unsigned char keynum[MS_KEYNUMBYTES],
			     struct ms_pubkey *pk, sd_error *err);
struct bundle_reader *bundle_read_trusted(int fd, bundle_key_fn keyfor, void *keyctx,
					  const struct bundle_limits *lim, const char *tmpdir,
					  int *verify_failed, sd_error *err);
const struct bundle_info *bundle_reader_info(const struct bundle_reader *r);
/* An unpacked member, rewound to its start, owned by the reader; -1 if the
 * bundle has none of that name. */
int bundle_reader_fd(const struct bundle_reader *r, const char *name);
/* Member names in bundle order (NULL-terminated). */
const char *const *bundle_reader_members(const struct bundle_reader *r);
void bundle_reader_free(struct bundle_reader *r);   /* closes the members; NULL ok */

#endif
