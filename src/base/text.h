/*
 * text.h - small text checks shared by the writers.
 */
#ifndef SITEDUMP_TEXT_H
#define SITEDUMP_TEXT_H

#include <stddef.h>

/* 1 if s[0..len) is valid UTF-8 (no overlongs, no surrogates). */
int text_utf8_valid(const char *s, size_t len);
/* Copy of s with every invalid UTF-8 sequence replaced by U+FFFD; malloc'd. */
char *text_utf8_repair(const char *s, size_t len, size_t *outlen);
/* 1 if s contains a byte < 0x20 or 0x7f other than those in `allowed`. */
int text_has_ctl(const char *s, const char *allowed);
/* Shortest "%.Ng" that reads back as the same double. */
void text_fmt_double(char *buf, size_t len, double d);

#endif
