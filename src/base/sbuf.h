/*
 * sbuf.h - a growable byte buffer the text writers build records in.
 *
 * Why not stdio: a record of a check result or a Nagios object is 15-30
 * small pieces; one fputs/putc per piece (each taking the FILE's lock
 * path, strlen and a bounds check) was a quarter of a 50k-service export
 * (perf, `make bench`). Pieces are appended here with memcpy and handed to
 * the FILE in large writes. An allocation failure is remembered (oom) and
 * reported once by the writer instead of at every append.
 */
#ifndef SITEDUMP_SBUF_H
#define SITEDUMP_SBUF_H

#include <stdio.h>
#include <string.h>

struct sbuf {
	char *p;
	size_t len, cap;
	int oom;
};

/* Make room for n more bytes; 0, or -1 (and oom set). */
int sbuf_grow(struct sbuf *b, size_t n);

static inline int sbuf_room(struct sbuf *b, size_t n)
{
	return b->cap - b->len >= n ? 0 : sbuf_grow(b, n);
}

static inline void sbuf_putn(struct sbuf *b, const char *s, size_t n)
{
	/* n == 0 on an empty buffer: memcpy to NULL is undefined even for 0 bytes */
	if (n && sbuf_room(b, n) == 0) {
		memcpy(b->p + b->len, s, n);
		b->len += n;
	}
}

static inline void sbuf_puts(struct sbuf *b, const char *s)
{
	sbuf_putn(b, s, strlen(s));
}

static inline void sbuf_putc(struct sbuf *b, char c)
{
	if (sbuf_room(b, 1) == 0)
		b->p[b->len++] = c;
}

/* A JSON string with its quotes, escaped byte for byte as yajl_gen does
 * (\" \\ \b \f \n \r \t, other bytes below 0x20 as \u00XX, nothing else),
 * so output is the same whichever of the two wrote it. s must be UTF-8. */
void sbuf_put_json_string(struct sbuf *b, const char *s, size_t n);

/* Decimal integer, without printf. */
void sbuf_put_ll(struct sbuf *b, long long v);

/* Hand the buffered bytes to f once at least `min` are buffered (0: always).
 * Returns -1 when the buffer ran out of memory or f has an error. */
int sbuf_flush(struct sbuf *b, FILE *f, size_t min);

void sbuf_free(struct sbuf *b);

#endif
