/*
 * sbuf.c - see sbuf.h.
 */
#include <stdlib.h>
#include "base/sbuf.h"

int sbuf_grow(struct sbuf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 4096;
	char *p;

	if (b->oom)
		return -1;
	while (cap - b->len < n) {
		if (cap > ((size_t)-1) / 2) {
			b->oom = 1;
			return -1;
		}
		cap *= 2;
	}
	if (!(p = realloc(b->p, cap))) {
		b->oom = 1;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

void sbuf_put_ll(struct sbuf *b, long long v)
{
	char buf[24], *p = buf + sizeof(buf);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while (u /= 10);
	if (v < 0)
		*--p = '-';
	sbuf_putn(b, p, (size_t)(buf + sizeof(buf) - p));
}

/* bytes a JSON string must escape: controls, '"' and '\\' */
static const unsigned char json_esc[256] = {
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
};

void sbuf_put_json_string(struct sbuf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
	char u[6] = { '\\', 'u', '0', '0', 0, 0 };

	sbuf_putc(b, '"');
	while (p < end) {
		/* most text needs no escape: copy it in runs */
		for (run = p; p < end && !json_esc[*p]; p++)
			;
		sbuf_putn(b, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		switch (*p) {
		case '"': sbuf_putn(b, "\\\"", 2); break;
		case '\\': sbuf_putn(b, "\\\\", 2); break;
		case '\b': sbuf_putn(b, "\\b", 2); break;
		case '\f': sbuf_putn(b, "\\f", 2); break;
		case '\n': sbuf_putn(b, "\\n", 2); break;
		case '\r': sbuf_putn(b, "\\r", 2); break;
		case '\t': sbuf_putn(b, "\\t", 2); break;
		default:
			u[4] = hex[*p >> 4];
			u[5] = hex[*p & 15];
			sbuf_putn(b, u, 6);
		}
		p++;
	}
	sbuf_putc(b, '"');
}

int sbuf_flush(struct sbuf *b, FILE *f, size_t min)
{
	if (b->oom)
		return -1;
	if (b->len && b->len >= min) {
		if (fwrite(b->p, 1, b->len, f) != b->len) {
			b->len = 0;
			return -1;
		}
		b->len = 0;
	}
	return ferror(f) ? -1 : 0;
}

void sbuf_free(struct sbuf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}
