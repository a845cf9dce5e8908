/*
 * zstream.c - gzip (written by pdeflate, read with zlib) and zstd (libzstd) streams for bundles; see
 * zstream.h for why we do not let libarchive decompress.
 *
 * Layout we write and demand on reading:
 *   gzip: 1f 8b 08 04 00000000 00 03, XLEN=78, subfield 'S' 'D' LEN=74:
 *         "v1" keynum[8] sig[64]; then raw deflate, CRC32, ISIZE (empty as
 *         we write it); then members 1f 8b 08 00 00000000 00 03, raw
 *         deflate, CRC32, ISIZE (pdeflate.h) up to EOF.
 *   zstd: skippable frame 50 2a 4d 18, size 76: "SD" "v1" keynum[8] sig[64];
 *         then one zstd frame with a content checksum; then EOF.
 *   none: the tar itself (every byte is covered by tar's header checksums,
 *         the members' hashes and the zero-padding walk).
 * sig = Ed25519(BLAKE2b-512("sitedump-outer-v1" || all bytes after the
 * container)). Compressed bytes are spooled to a temp file so the
 * signature can precede them without holding them in memory.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <zlib.h>
#include <zstd.h>
#include "base/output.h"
#include "bundle/pdeflate.h"
#include "bundle/zstream.h"

#define CHUNK 65536
#define OUTER_DOMAIN "sitedump-outer-v1"
#define PAYLOAD 74                      /* "v1" keynum[8] sig[64] */

static const unsigned char gz_canon[12] = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 78, 0 };
/* the container member's data: an empty final deflate block, CRC 0, ISIZE 0 */
static const unsigned char gz_empty[10] = { 3, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
static const unsigned char zstd_magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
static const unsigned char skip_magic[4] = { 0x50, 0x2a, 0x4d, 0x18 };

static void outer_init(crypto_generichash_state *hs)
{
	crypto_generichash_init(hs, NULL, 0, crypto_generichash_BYTES_MAX);
	crypto_generichash_update(hs, (const unsigned char *)OUTER_DOMAIN, strlen(OUTER_DOMAIN));
}

struct zs_writer {
	FILE *out;
	FILE *spool;                    /* compressed bytes, before the container */
	enum zs_kind kind;
	const struct ms_seckey *sk;
	crypto_generichash_state hs;
	struct pdeflate *pd;            /* gzip: members deflated on two threads */
	ZSTD_CCtx *zc;
	unsigned char buf[CHUNK];
};

static void emit(struct zs_writer *w, const void *buf, size_t len)
{
	if (w->kind == ZS_NONE) {
		fwrite(buf, 1, len, w->out);
		return;
	}
	crypto_generichash_update(&w->hs, buf, len);
	fwrite(buf, 1, len, w->spool);
}

static void pd_out(void *ctx, const void *buf, size_t len)
{
	emit(ctx, buf, len);
}

struct zs_writer *zs_writer_new(FILE *out, enum zs_kind k, const struct ms_seckey *sk,
				const char *tmpdir, sd_error *err)
{
	struct zs_writer *w = calloc(1, sizeof(*w));
	int fd;

	if (!w) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	w->out = out;
	w->kind = k;
	w->sk = sk;
	if (k != ZS_NONE) {
		if (!sk) {
			free(w);
			sd_fail(err, "bundle: a compressed bundle needs a signing key");
			return NULL;
		}
		if ((fd = out_anon_file(tmpdir, err)) < 0) {
			free(w);
			return NULL;
		}
		if (!(w->spool = fdopen(fd, "w+"))) {
			close(fd);
			free(w);
			sd_fail(err, "bundle: temp file: %s", strerror(errno));
			return NULL;
		}
		outer_init(&w->hs);
	}
	if (k == ZS_GZIP) {
		/* the member whose header holds the signature holds no data;
		 * pdeflate's members follow it */
		emit(w, gz_empty, sizeof(gz_empty));
		if (!(w->pd = pd_new(6, pd_out, NULL, w, err))) {
			zs_writer_free(w);
			return NULL;
		}
	} else if (k == ZS_ZSTD) {
		if (!(w->zc = ZSTD_createCCtx()) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 1)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, 3))) {
			zs_writer_free(w);
			sd_fail(err, "zstd: cannot create a compressor");
			return NULL;
		}
	}
	return w;
}

static int zstd_some(struct zs_writer *w, const void *buf, size_t len, ZSTD_EndDirective mode, sd_error *err)
{
	ZSTD_inBuffer in = { buf, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { w->buf, CHUNK, 0 };
		left = ZSTD_compressStream2(w->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return sd_fail(err, "zstd: %s", ZSTD_getErrorName(left));
		emit(w, w->buf, out.pos);
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

static int io_check(struct zs_writer *w, sd_error *err)
{
	if (ferror(w->out) || (w->spool && ferror(w->spool)))
		return sd_fail(err, "write error: %s", strerror(errno));
	return 0;
}

int zs_write(struct zs_writer *w, const void *buf, size_t len, sd_error *err)
{
	switch (w->kind) {
	case ZS_GZIP:
		if (pd_write(w->pd, buf, len, err) < 0)
			return -1;
		break;
	case ZS_ZSTD:
		if (zstd_some(w, buf, len, ZSTD_e_continue, err) < 0)
			return -1;
		break;
	case ZS_NONE:
		emit(w, buf, len);
		break;
	}
	return io_check(w, err);
}

int zs_writer_finish(struct zs_writer *w, sd_error *err)
{
	unsigned char hash[crypto_generichash_BYTES_MAX], payload[PAYLOAD];
	size_t n;

	if (w->kind == ZS_GZIP) {
		if (pd_flush(w->pd, err) < 0)
			return -1;
	} else if (w->kind == ZS_ZSTD) {
		if (zstd_some(w, "", 0, ZSTD_e_end, err) < 0)
			return -1;
	}
	if (w->kind != ZS_NONE) {
		crypto_generichash_final(&w->hs, hash, sizeof(hash));
		memcpy(payload, "v1", 2);
		ms_sign_raw(w->sk, hash, sizeof(hash), payload + 10, payload + 2);
		if (w->kind == ZS_GZIP) {
			fwrite(gz_canon, 1, sizeof(gz_canon), w->out);
			fwrite("SD\x4a\x00", 1, 4, w->out);             /* subfield SD, LEN 74 */
		} else {
			fwrite(skip_magic, 1, 4, w->out);
			fwrite("\x4c\x00\x00\x00SD", 1, 6, w->out);     /* frame size 76 */
		}
		fwrite(payload, 1, PAYLOAD, w->out);
		if (fflush(w->spool) != 0 || fseek(w->spool, 0, SEEK_SET) != 0)
			return sd_fail(err, "write error: %s", strerror(errno));
		while ((n = fread(w->buf, 1, CHUNK, w->spool)) > 0)
			fwrite(w->buf, 1, n, w->out);
	}
	if (fflush(w->out) != 0 || io_check(w, err) < 0)
		return sd_fail(err, "write error: %s", strerror(errno));
	return 0;
}

int zs_splice(struct zs_writer *w, int fd, long long zlen, sd_error *err)
{
	off_t at = 0;
	ssize_t got;

	if (w->kind != ZS_GZIP)
		return sd_fail(err, "internal: splice into a %s stream", w->kind == ZS_ZSTD ? "zstd" : "plain");
	if (pd_flush(w->pd, err) < 0)
		return -1;
	while (at < zlen) {
		got = pread(fd, w->buf, zlen - at < CHUNK ? (size_t)(zlen - at) : CHUNK, at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return sd_fail(err, "bundle: temp file: %s", got < 0 ? strerror(errno) : "shrank");
		emit(w, w->buf, (size_t)got);
		at += got;
	}
	return io_check(w, err);
}

void zs_writer_free(struct zs_writer *w)
{
	if (!w)
		return;
	pd_free(w->pd);
	ZSTD_freeCCtx(w->zc);
	if (w->spool)
		fclose(w->spool);
	free(w);
}

/* ---- reader ---------------------------------------------------------- */

enum tar_state { T_HEADER, T_DATA, T_PAD, T_END };

struct zs_reader {
	int fd;
	enum zs_kind kind;
	int eof;                        /* raw input exhausted */
	int done;                       /* compressed stream ended */
	int hashing;                    /* container read: hash consumed bytes */
	unsigned char in[CHUNK];
	size_t in_pos, in_len;
	unsigned char out[CHUNK];
	crypto_generichash_state hs;
	unsigned char payload[PAYLOAD];
	z_stream z;
	uLong crc;
	unsigned long long isize;       /* gzip: of the current member */
	ZSTD_DCtx *zd;
	/* tar walker */
	enum tar_state ts;
	unsigned char hdr[512];
	size_t hdr_len;
	unsigned long long left;        /* data bytes left in this member */
	unsigned long long pad;         /* padding bytes after it */
	unsigned long long end_bytes;   /* zero bytes from the end marker on */
};

static int fill(struct zs_reader *r, sd_error *err)
{
	ssize_t n;

	if (r->in_pos < r->in_len || r->eof)
		return 0;
	do
		n = read(r->fd, r->in, sizeof(r->in));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return sd_fail(err, "read error: %s", strerror(errno));
	if (n == 0)
		r->eof = 1;
	r->in_pos = 0;
	r->in_len = (size_t)n;
	return 0;
}

/* Make at least n bytes available at in[in_pos] (n <= CHUNK), keeping the
 * unconsumed ones: a pipe may deliver a header in pieces. 1 if the input
 * ends first, -1 on error. */
static int need(struct zs_reader *r, size_t n, sd_error *err)
{
	ssize_t k;

	while (r->in_len - r->in_pos < n) {
		if (r->eof)
			return 1;
		memmove(r->in, r->in + r->in_pos, r->in_len - r->in_pos);
		r->in_len -= r->in_pos;
		r->in_pos = 0;
		do
			k = read(r->fd, r->in + r->in_len, sizeof(r->in) - r->in_len);
		while (k < 0 && errno == EINTR);
		if (k < 0)
			return sd_fail(err, "read error: %s", strerror(errno));
		if (k == 0)
			r->eof = 1;
		r->in_len += (size_t)k;
	}
	return 0;
}

/* Mark in[in_pos..to) consumed; it counts for the outer signature. */
static void advance(struct zs_reader *r, size_t to)
{
	if (r->hashing && to > r->in_pos)
		crypto_generichash_update(&r->hs, r->in + r->in_pos, to - r->in_pos);
	r->in_pos = to;
}

/* Read exactly n raw bytes. 0, 1 if the input ended first, -1 on error. */
static int raw_exact(struct zs_reader *r, unsigned char *dst, size_t n, sd_error *err)
{
	size_t k;

	while (n) {
		if (fill(r, err) < 0)
			return -1;
		if (r->in_pos == r->in_len)
			return 1;
		k = r->in_len - r->in_pos < n ? r->in_len - r->in_pos : n;
		memcpy(dst, r->in + r->in_pos, k);
		advance(r, r->in_pos + k);
		dst += k;
		n -= k;
	}
	return 0;
}

static int corrupt_fail(int *corrupt, sd_error *err, const char *msg)
{
	*corrupt = 1;
	return sd_fail(err, "bundle: %s", msg);
}

/* The container in front of a compressed stream: exact bytes, then payload. */
static int read_container(struct zs_reader *r, int *corrupt, sd_error *err)
{
	unsigned char h[16];
	int rc;

	if (r->kind == ZS_GZIP) {
		if ((rc = raw_exact(r, h, 16, err)) != 0)
			return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated gzip header");
		if (memcmp(h, gz_canon, 12) || memcmp(h + 12, "SD\x4a\x00", 4))
			return corrupt_fail(corrupt, err, "gzip header is not the one sitedump writes");
	} else {
		if ((rc = raw_exact(r, h, 10, err)) != 0)
			return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated zstd header");
		if (memcmp(h, skip_magic, 4) || memcmp(h + 4, "\x4c\x00\x00\x00SD", 6))
			return corrupt_fail(corrupt, err, "zstd stream does not start with sitedump's signature frame");
	}
	if ((rc = raw_exact(r, r->payload, PAYLOAD, err)) != 0)
		return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated signature container");
	if (memcmp(r->payload, "v1", 2))
		return corrupt_fail(corrupt, err, "unknown outer signature version");
	if (r->kind == ZS_ZSTD) {
		/* RFC 8878: the frame header descriptor (byte 4) bit 2 is the
		 * content checksum flag; look at it however the bytes arrive */
		if ((rc = need(r, 5, err)) != 0)
			return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated zstd stream");
		if (memcmp(r->in + r->in_pos, zstd_magic, 4) || !(r->in[r->in_pos + 4] & 0x04))
			return corrupt_fail(corrupt, err, "zstd frame without a checksum");
	}
	outer_init(&r->hs);
	r->hashing = 1;
	return 0;
}

struct zs_reader *zs_reader_new(int fd, sd_error *err)
{
	struct zs_reader *r = calloc(1, sizeof(*r));

	if (!r) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	r->fd = fd;
	if (fill(r, err) < 0) {
		free(r);
		return NULL;
	}
	if (r->in_len >= 8 && !memcmp(r->in, "SDSEAL1\n", 8)) {
		free(r);
		sd_fail(err, "bundle is encrypted: give siteload --decrypt-key CENTRAL.key");
		return NULL;
	}
	/* a pipe may deliver fewer bytes; two are enough to tell gzip */
	if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		r->kind = ZS_GZIP;
		if (inflateInit2(&r->z, -15) != Z_OK) {
			free(r);
			sd_fail(err, "zlib: inflateInit failed");
			return NULL;
		}
		r->crc = crc32(0, NULL, 0);
	} else if ((r->in_len >= 1 && r->in[0] == skip_magic[0]) ||
		   (r->in_len >= 4 && !memcmp(r->in, zstd_magic, 4))) {
		/* a plain zstd stream is ours too, minus the signature frame:
		 * read_container then says exactly that */
		r->kind = ZS_ZSTD;
		if (!(r->zd = ZSTD_createDCtx())) {
			free(r);
			sd_fail(err, "zstd: cannot create a decompressor");
			return NULL;
		}
	} else {
		r->kind = ZS_NONE;
	}
	return r;
}

/*
 * A member header must be exactly what sitedump's writer (libarchive,
 * ustar) produces: only name, size, mtime and the checksum vary, and those
 * in one spelling each. Otherwise mode, owner, mtime spelling or a
 * "+0001000" size (read one way here, another by libarchive) could change
 * bytes of an uncompressed bundle without touching what the signature
 * covers. On success *size is the member's size.
 */
static int canonical_header(const unsigned char *h, unsigned long long *size, char *why, size_t wl)
{
	unsigned char want[512];
	unsigned long long v, sum = 0;
	size_t n, i;

	memset(want, 0, sizeof(want));
	n = strnlen((const char *)h, 100);
	if (!n || n >= 64 || h[0] == '.') {
		snprintf(why, wl, "tar member with a bad name");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-", h[i])) {
			snprintf(why, wl, "tar member with a bad name");
			return -1;
		}
	for (i = 0; i < 11; i++)
		if (h[124 + i] < '0' || h[124 + i] > '7' || h[136 + i] < '0' || h[136 + i] > '7') {
			snprintf(why, wl, "tar header of %.*s: size or mtime not in octal digits", (int)n,
				 (const char *)h);
			return -1;
		}
	memcpy(want, h, n);
	memcpy(want + 100, "000644 \0", 8);
	memcpy(want + 108, "000000 \0", 8);
	memcpy(want + 116, "000000 \0", 8);
	for (i = 0, v = 0; i < 11; i++)
		v = v * 8 + (unsigned)(h[124 + i] - '0');
	*size = v;
	memcpy(want + 124, h + 124, 11);
	want[135] = ' ';
	memcpy(want + 136, h + 136, 11);       /* bundle.c checks it equals "created" */
	want[147] = ' ';
	want[156] = '0';
	memcpy(want + 257, "ustar\0", 6);
	memcpy(want + 263, "00", 2);
	memcpy(want + 329, "000000 \0", 8);
	memcpy(want + 337, "000000 \0", 8);
	memset(want + 148, ' ', 8);
	for (i = 0; i < 512; i++)
		sum += want[i];
	snprintf((char *)want + 148, 8, "%06llo", sum);
	want[155] = ' ';
	if (memcmp(want, h, 512)) {
		snprintf(why, wl, "tar header of %.*s is not in the form sitedump writes", (int)n, (const char *)h);
		return -1;
	}
	return 0;
}

/* Feed decompressed bytes to the tar walker: padding must be zero. */
static int walk(struct zs_reader *r, const unsigned char *p, size_t n, int *corrupt, sd_error *err)
{
	size_t i, k;

	while (n) {
		switch (r->ts) {
		case T_HEADER:
			k = 512 - r->hdr_len < n ? 512 - r->hdr_len : n;
			memcpy(r->hdr + r->hdr_len, p, k);
			r->hdr_len += k;
			p += k;
			n -= k;
			if (r->hdr_len < 512)
				break;
			r->hdr_len = 0;
			for (i = 0; i < 512 && !r->hdr[i]; i++)
				;
			if (i == 512) {         /* first block of the end marker */
				r->ts = T_END;
				r->end_bytes = 512;
				break;
			}
			/* we write plain ustar regular files only: pax ('x', 'g') and GNU
			 * headers would be applied by libarchive without a word, links
			 * and devices are never content */
			if (r->hdr[156] != '0' && r->hdr[156] != '\0') {
				char name[65], msg[160];
				for (i = 0; i < 64 && r->hdr[i]; i++)
					name[i] = r->hdr[i] >= 0x20 && r->hdr[i] < 0x7f ? (char)r->hdr[i] : '?';
				name[i] = '\0';
				snprintf(msg, sizeof(msg), "%s is not a regular file (tar type '%c'; sitedump "
					 "writes plain ustar members only)", name,
					 r->hdr[156] >= 0x20 && r->hdr[156] < 0x7f ? r->hdr[156] : '?');
				return corrupt_fail(corrupt, err, msg);
			}
			{
				char why[160];
				if (canonical_header(r->hdr, &r->left, why, sizeof(why)) < 0)
					return corrupt_fail(corrupt, err, why);
			}
			r->pad = (512 - r->left % 512) % 512;
			r->ts = r->left ? T_DATA : T_HEADER;
			break;
		case T_DATA:
			k = r->left < n ? (size_t)r->left : n;
			r->left -= k;
			p += k;
			n -= k;
			if (!r->left)
				r->ts = r->pad ? T_PAD : T_HEADER;
			break;
		case T_PAD:
			k = r->pad < n ? (size_t)r->pad : n;
			for (i = 0; i < k; i++)
				if (p[i])
					return corrupt_fail(corrupt, err, "non-zero tar padding");
			r->pad -= k;
			p += k;
			n -= k;
			if (!r->pad)
				r->ts = T_HEADER;
			break;
		case T_END:
			for (i = 0; i < n; i++)
				if (p[i])
					return corrupt_fail(corrupt, err, "data after the end of the archive");
			r->end_bytes += n;
			n = 0;
			break;
		}
	}
	return 0;
}

static ssize_t gzip_step(struct zs_reader *r, int *corrupt, sd_error *err)
{
	unsigned char t[8];
	unsigned long c = 0, s = 0;
	size_t produced;
	int rc, i;

	if (r->in_pos == r->in_len)
		return corrupt_fail(corrupt, err, "truncated gzip stream");
	r->z.next_in = r->in + r->in_pos;
	r->z.avail_in = (uInt)(r->in_len - r->in_pos);
	r->z.next_out = r->out;
	r->z.avail_out = CHUNK;
	rc = inflate(&r->z, Z_NO_FLUSH);
	if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
		return corrupt_fail(corrupt, err, "corrupt gzip data");
	advance(r, r->in_len - r->z.avail_in);
	produced = CHUNK - r->z.avail_out;
	r->crc = crc32(r->crc, r->out, (uInt)produced);
	r->isize += produced;
	if (rc == Z_STREAM_END) {
		if ((rc = raw_exact(r, t, 8, err)) != 0)
			return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated gzip trailer");
		for (i = 3; i >= 0; i--) {
			c = (c << 8) | t[i];
			s = (s << 8) | t[4 + i];
		}
		if (c != r->crc || s != (unsigned long)(r->isize & 0xffffffffUL))
			return corrupt_fail(corrupt, err, "gzip checksum mismatch");
		/* members follow one another to the end of the file, each with
		 * the one header pdeflate writes (the first: the container's) */
		if ((rc = need(r, 1, err)) < 0)
			return -1;
		if (rc == 1) {
			r->done = 1;
		} else {
			if ((rc = need(r, PD_HEADER_LEN, err)) != 0)
				return rc < 0 ? -1 : corrupt_fail(corrupt, err, "truncated gzip member header");
			if (memcmp(r->in + r->in_pos, PD_HEADER, PD_HEADER_LEN))
				return corrupt_fail(corrupt, err, "gzip member header is not the one sitedump writes");
			advance(r, r->in_pos + PD_HEADER_LEN);
			if (inflateReset(&r->z) != Z_OK)
				return corrupt_fail(corrupt, err, "zlib: inflateReset failed");
			r->crc = crc32(0, NULL, 0);
			r->isize = 0;
		}
	}
	return (ssize_t)produced;
}

static ssize_t zstd_step(struct zs_reader *r, int *corrupt, sd_error *err)
{
	ZSTD_inBuffer in = { r->in, r->in_len, r->in_pos };
	ZSTD_outBuffer out = { r->out, CHUNK, 0 };
	size_t zr;

	if (r->in_pos == r->in_len)
		return corrupt_fail(corrupt, err, "truncated zstd stream");
	zr = ZSTD_decompressStream(r->zd, &out, &in);
	if (ZSTD_isError(zr))
		return corrupt_fail(corrupt, err, "corrupt zstd data");
	advance(r, in.pos);
	r->isize += out.pos;
	if (zr == 0)
		r->done = 1;
	return (ssize_t)out.pos;
}

ssize_t zs_read(struct zs_reader *r, const void **buf, int *corrupt, sd_error *err)
{
	ssize_t produced = 0;

	*corrupt = 0;
	if (r->kind != ZS_NONE && !r->hashing && read_container(r, corrupt, err) < 0)
		return -1;
	while (!r->done && !produced) {
		if (fill(r, err) < 0)
			return -1;
		if (r->kind == ZS_NONE) {
			if (r->in_pos == r->in_len) {
				r->done = 1;
				break;
			}
			produced = (ssize_t)(r->in_len - r->in_pos);
			memcpy(r->out, r->in + r->in_pos, (size_t)produced);
			advance(r, r->in_len);
		} else if ((produced = r->kind == ZS_GZIP ? gzip_step(r, corrupt, err) : zstd_step(r, corrupt, err)) < 0) {
			return -1;
		}
	}
	if (produced && walk(r, r->out, (size_t)produced, corrupt, err) < 0)
		return -1;
	if (r->done) {
		/* nothing may follow the stream (gzip: its last member) */
		if (fill(r, err) < 0)
			return -1;
		if (r->in_pos != r->in_len)
			return corrupt_fail(corrupt, err, "data after the end of the compressed stream");
	}
	*buf = r->out;
	return produced;
}

int zs_reader_drain(struct zs_reader *r, const struct ms_pubkey *pk, int *corrupt, sd_error *err)
{
	unsigned char hash[crypto_generichash_BYTES_MAX];
	const void *b;
	ssize_t n;

	while ((n = zs_read(r, &b, corrupt, err)) > 0)
		;
	if (n < 0)
		return -1;
	if (r->ts != T_END || r->end_bytes < 1024)
		return corrupt_fail(corrupt, err, "archive ends without its end marker");
	if (r->kind == ZS_NONE || !pk)
		return 0;
	crypto_generichash_final(&r->hs, hash, sizeof(hash));
	if (memcmp(r->payload + 2, pk->keynum, MS_KEYNUMBYTES))
		return corrupt_fail(corrupt, err, "outer signature made by another key");
	if (ms_verify_raw(pk, hash, sizeof(hash), r->payload + 10) < 0)
		return corrupt_fail(corrupt, err, "outer signature verification failed (compressed bytes changed)");
	return 0;
}

void zs_reader_free(struct zs_reader *r)
{
	if (!r)
		return;
	if (r->kind == ZS_GZIP)
		inflateEnd(&r->z);
	ZSTD_freeDCtx(r->zd);
	free(r);
}

enum zs_kind zs_reader_kind(const struct zs_reader *r)
{
	return r->kind;
}
