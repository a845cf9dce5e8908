/*
 * text.c - UTF-8 validation and number formatting.
 *
 * Written by hand: the only Debian libraries with a UTF-8 repair function
 * (glib, ICU) are far heavier than these 60 lines, and JSON must never carry
 * invalid UTF-8 (status.dat sources can hold raw bytes,
 * docs/core-behaviour.md §8).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/text.h"

/* Length of the valid sequence at s, or 0 if invalid. */
static size_t seq_len(const unsigned char *s, size_t left)
{
	unsigned c = s[0];
	size_t n, i;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	if (left < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

int text_utf8_valid(const char *s, size_t len)
{
	size_t i = 0, n;
	uint64_t w;

	while (i < len) {
		/* ASCII, the common case, eight bytes at a time */
		if (len - i >= 8) {
			memcpy(&w, s + i, 8);
			if (!(w & 0x8080808080808080ull)) {
				i += 8;
				continue;
			}
		}
		if (!((unsigned char)s[i] & 0x80)) {
			i++;
			continue;
		}
		if (!(n = seq_len((const unsigned char *)s + i, len - i)))
			return 0;
		i += n;
	}
	return 1;
}

char *text_utf8_repair(const char *s, size_t len, size_t *outlen)
{
	char *out = malloc(len * 3 + 1), *o = out;
	size_t i = 0, n;

	if (!out)
		return NULL;
	while (i < len) {
		n = seq_len((const unsigned char *)s + i, len - i);
		if (n) {
			memcpy(o, s + i, n);
			o += n;
			i += n;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = '\0';
	*outlen = (size_t)(o - out);
	return out;
}

int text_has_ctl(const char *s, const char *allowed)
{
	for (; *s; s++)
		if (((unsigned char)*s < 0x20 || *s == 0x7f) && !strchr(allowed, *s))
			return 1;
	return 0;
}

void text_fmt_double(char *buf, size_t len, double d)
{
	int prec;

	/* most values are whole seconds or counts: no need for %g and strtod */
	if (d == (double)(long long)d && d > -1e15 && d < 1e15) {
		snprintf(buf, len, "%lld", (long long)d);
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			return;
	}
}
