/*
 * zstream.h - the compression layer of bundles, strict on reading.
 *
 * libarchive reads gzip without checking its CRC or header, so a flipped
 * byte there would pass unnoticed. Bundles are therefore compressed and
 * decompressed here with zlib and libzstd directly (libarchive only does
 * tar), and the reader insists on a verified checksum and a canonical
 * header for every gzip member (or the one zstd frame) and on nothing
 * after the last. It also walks the
 * decompressed tar's block structure and requires every padding byte to
 * be zero, which libarchive skips without looking.
 *
 * Compressed streams carry one more thing: an Ed25519 signature over the
 * exact compressed bytes (in a gzip FEXTRA subfield "SD", or a zstd
 * skippable frame before the data frame), because deflate can encode the
 * same data in more than one way: a byte flipped in a back-reference that
 * points at equal bytes changes nothing the inner signature covers. gzip,
 * zstd and tar ignore both containers, so `tar -xzf` works as usual.
 */
#ifndef SITEDUMP_ZSTREAM_H
#define SITEDUMP_ZSTREAM_H

#include <stdio.h>
#include <sys/types.h>
#include "formats/minisign.h"
#include "model/snapshot.h"

enum zs_kind { ZS_GZIP, ZS_ZSTD, ZS_NONE };

struct zs_writer;
/* sk signs the compressed bytes (required for gzip and zstd); they are
 * spooled to an unlinked file in tmpdir (NULL: $TMPDIR or /tmp). */
struct zs_writer *zs_writer_new(FILE *out, enum zs_kind k, const struct ms_seckey *sk,
				const char *tmpdir, sd_error *err);
int zs_write(struct zs_writer *w, const void *buf, size_t len, sd_error *err);
int zs_writer_finish(struct zs_writer *w, sd_error *err);       /* flush the trailer */
/*
 * gzip only: append zlen bytes read from fd at offset 0, whole gzip members
 * (a bundle member deflated by pdeflate while it was written), after the
 * members of what was written so far; writing goes on after them.
 */
int zs_splice(struct zs_writer *w, int fd, long long zlen, sd_error *err);
void zs_writer_free(struct zs_writer *w);

struct zs_reader;
struct zs_reader *zs_reader_new(int fd, sd_error *err);
/* Next block of decompressed data: >0 bytes, 0 at a clean end, -1 on error
 * (err set; *corrupt 1 when the data is bad rather than unreadable). */
ssize_t zs_read(struct zs_reader *r, const void **buf, int *corrupt, sd_error *err);
/* Read to the end, check what follows the tar's end marker and, with pk,
 * the outer signature. 0 or -1. */
int zs_reader_drain(struct zs_reader *r, const struct ms_pubkey *pk, int *corrupt, sd_error *err);
void zs_reader_free(struct zs_reader *r);
/* What the stream turned out to be (the manifest says what it must be). */
enum zs_kind zs_reader_kind(const struct zs_reader *r);

#endif
