/*
 * jscan.c - see jscan.h.
 *
 * Why by hand, not yajl: in a signed bundle export of a 50k-service site
 * the reading thread paces the whole run (it parses while the row thread
 * formats and two threads deflate, all on the site's cores), and yajl's
 * byte-at-a-time lexer took 0.042 s of its ~0.1 s (9.7 MB reply; doubling
 * that work slowed the run by 8% of the query floor in paired runs against
 * scripts/bench's 50k site). This
 * scanner reads the same language with yajl's callbacks and yajl's
 * choices where JSON leaves room - strings are decoded but not checked for
 * UTF-8 (text.c repairs that where output needs it), \u0000 gives a NUL,
 * \v and \f count as white space - and steps over the plain bytes of a
 * string eight at a time. tests/fuzz/fuzz_jscan.c runs it against yajl
 * on every input and requires the same verdict and the same events.
 * The one deliberate difference: a \u escape of a lone surrogate gives
 * U+FFFD (yajl emits "?" or CESU-8 bytes and, after a lone high
 * surrogate, drops the next byte).
 *
 * A token cut by the end of a piece is carried: a string's decoded bytes
 * in a buffer (bounded by max_token), a literal as the count of letters
 * matched, a number's text (at most NUM_MAX bytes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/jscan.h"

#define NUM_MAX 1024

enum want {
	W_VALUE,                /* a value (after ',', ':' or at the start) */
	W_FIRST,                /* a value or ']' (just after '[') */
	W_AFTER,                /* ',' or the container's end (after a value) */
	W_KEY,                  /* a key (after ',' in an object) */
	W_KEY_FIRST,            /* a key or '}' (just after '{') */
	W_COLON,
	W_END,                  /* the top value is complete: white space only */
};

enum tok { T_NONE, T_STR, T_KEY, T_NUM, T_LIT };

struct jscan {
	const struct jscan_callbacks *cb;
	void *ctx;
	size_t max_token;
	enum want want;
	int depth;
	unsigned char stack[JSCAN_MAX_DEPTH];   /* '[' or '{' */
	enum tok tok;           /* a token cut by the end of the last piece */
	char *buf;              /* its bytes so far (decoded, for strings) */
	size_t len, cap;
	int esc;                /* in a string: 1 after '\', 2-5 in \uXXXX */
	unsigned hex;           /* \u digits so far */
	unsigned hi;            /* a high surrogate waiting for its low half */
	const char *lit;        /* T_LIT: the literal and how much matched */
	size_t lit_len, lit_got;
	enum jscan_status status;
	unsigned long long off; /* bytes in the pieces before this one */
	unsigned long long tok_off;     /* where the string or number began */
	const unsigned char *piece;
	char msg[128];
};

/* bytes that end a string's plain run: '"', '\' and control characters */
#define X4 1, 1, 1, 1
static const unsigned char special[256] = {
	X4, X4, X4, X4, X4, X4, X4, X4,         /* 0x00-0x1f */
	['"'] = 1, ['\\'] = 1,
};
#undef X4

struct jscan *jscan_new(const struct jscan_callbacks *cb, void *ctx, size_t max_token)
{
	struct jscan *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->cb = cb;
	s->ctx = ctx;
	s->max_token = max_token;
	s->want = W_VALUE;
	return s;
}

void jscan_free(struct jscan *s)
{
	if (!s)
		return;
	free(s->buf);
	free(s);
}

const char *jscan_error(const struct jscan *s)
{
	return s->msg;
}

static unsigned long long off_of(const struct jscan *s, const unsigned char *at)
{
	return s->off + (unsigned long long)(at - s->piece);
}

static const unsigned char *fail_off(struct jscan *s, unsigned long long off, const char *what)
{
	s->status = JSCAN_ERROR;
	snprintf(s->msg, sizeof(s->msg), "%s at byte %llu", what, off);
	return NULL;
}

static const unsigned char *fail(struct jscan *s, const unsigned char *at, const char *what)
{
	return fail_off(s, off_of(s, at), what);
}

static const unsigned char *unexpected(struct jscan *s, const unsigned char *at)
{
	char what[48];

	if (s->want == W_END)
		return fail(s, at, "data after the end");
	if (*at > 0x20 && *at < 0x7f)
		snprintf(what, sizeof(what), "unexpected '%c'", *at);
	else
		snprintf(what, sizeof(what), "unexpected byte 0x%02x", *at);
	return fail(s, at, what);
}

static const unsigned char *stopped(struct jscan *s)
{
	s->status = JSCAN_STOPPED;
	return NULL;
}

/* -1: longer than max, -2: out of memory */
static int append(struct jscan *s, const void *p, size_t n, size_t max)
{
	if (!n)
		return 0;
	if (n > max - s->len)
		return -1;
	if (s->len + n > s->cap) {
		size_t cap = s->cap ? s->cap : 256;
		char *nb;
		while (cap < s->len + n)
			cap = cap > max / 2 ? max : cap * 2;
		if (!(nb = realloc(s->buf, cap)))
			return -2;
		s->buf = nb;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	return 0;
}

/* After a complete value: what comes next depends on the container. */
static void value_end(struct jscan *s)
{
	s->want = s->depth ? W_AFTER : W_END;
}

static int value_pos(const struct jscan *s)
{
	return s->want == W_VALUE || s->want == W_FIRST;
}

/* The first special byte at or after p (or end). Eight bytes at a time:
 * a word holds one iff one of the three "has a byte less than" tests
 * (Hacker's Delight 6-1) fires; those tests never miss and never fire
 * for a word without one, so the byte loop after a hit finds it. */
static const unsigned char *plain_run(const unsigned char *p, const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ULL, highs = ones << 7;

	while (end - p >= 8) {
		uint64_t v, q, b;
		memcpy(&v, p, 8);
		q = v ^ (ones * '"');
		b = v ^ (ones * '\\');
		if ((((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & highs)
			break;
		p += 8;
	}
	while (p < end && !special[*p])
		p++;
	return p;
}

static int put_utf8(struct jscan *s, unsigned cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return append(s, u, n, s->max_token);
}

/* A lone high surrogate becomes U+FFFD once something else follows it. */
static int flush_hi(struct jscan *s)
{
	if (!s->hi)
		return 0;
	s->hi = 0;
	return put_utf8(s, 0xfffd);
}

static int put_cp(struct jscan *s, unsigned cp)
{
	if (s->hi && cp >= 0xdc00 && cp <= 0xdfff) {
		cp = 0x10000 + ((s->hi - 0xd800) << 10) + (cp - 0xdc00);
		s->hi = 0;
		return put_utf8(s, cp);
	}
	if (flush_hi(s) < 0)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		s->hi = cp;
		return 0;
	}
	return put_utf8(s, cp >= 0xdc00 && cp <= 0xdfff ? 0xfffd : cp);
}

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The string ends at `next`, the byte after its closing quote. */
static const unsigned char *string_done(struct jscan *s, const unsigned char *next,
					const unsigned char *str, size_t len, int key)
{
	if (key) {
		if (s->cb->map_key && !s->cb->map_key(s->ctx, str, len))
			return stopped(s);
		s->want = W_COLON;
	} else {
		if (s->cb->string && !s->cb->string(s->ctx, str, len))
			return stopped(s);
		value_end(s);
	}
	return next;
}

/* A string's body from p (just after the opening quote, or where the last
 * piece ended). Returns the byte after the closing quote, end if the
 * piece ended inside the string, NULL on error or stop. */
static const unsigned char *string(struct jscan *s, const unsigned char *p, const unsigned char *end, int key)
{
	static const char simple[256] = {
		['"'] = '"', ['\\'] = '\\', ['/'] = '/', ['b'] = '\b',
		['f'] = '\f', ['n'] = '\n', ['r'] = '\r', ['t'] = '\t',
	};
	const unsigned char *q;
	int rc = 0;

	if (s->tok == T_NONE) {
		/* the usual case: no escape, all in this piece, nothing copied */
		q = plain_run(p, end);
		if (q < end && *q == '"' && (size_t)(q - p) <= s->max_token)
			return string_done(s, q + 1, p, (size_t)(q - p), key);
		s->tok = key ? T_KEY : T_STR;
		s->len = 0;
		s->esc = 0;
		s->hi = 0;
		if ((rc = append(s, p, (size_t)(q - p), s->max_token)) < 0)
			goto too_long;
		p = q;
	}
	while (p < end) {
		unsigned char c = *p;
		if (s->esc == 1) {
			if (c == 'u') {
				s->esc = 2;
				s->hex = 0;
			} else if (simple[c]) {
				if ((rc = flush_hi(s)) < 0 || (rc = append(s, &simple[c], 1, s->max_token)) < 0)
					goto too_long;
				s->esc = 0;
			} else {
				return fail(s, p, "invalid escape in a string");
			}
			p++;
		} else if (s->esc) {
			int h = hexval(c);
			if (h < 0)
				return fail(s, p, "invalid \\u escape in a string");
			s->hex = s->hex << 4 | (unsigned)h;
			if (++s->esc == 6) {
				s->esc = 0;
				if ((rc = put_cp(s, s->hex)) < 0)
					goto too_long;
			}
			p++;
		} else if (c == '"') {
			if ((rc = flush_hi(s)) < 0)
				goto too_long;
			s->tok = T_NONE;
			return string_done(s, p + 1, s->buf ? (unsigned char *)s->buf : p, s->len, key);
		} else if (c == '\\') {
			s->esc = 1;
			p++;
		} else if (c < 0x20) {
			return fail(s, p, "control character in a string");
		} else {
			q = plain_run(p, end);
			if ((rc = flush_hi(s)) < 0 || (rc = append(s, p, (size_t)(q - p), s->max_token)) < 0)
				goto too_long;
			p = q;
		}
	}
	return end;
too_long:
	/* where the string began: the same whatever the pieces */
	return rc == -1 ? fail_off(s, s->tok_off, "string too long") : fail(s, p, "out of memory");
}

/* RFC 8259 number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number_ok(const char *t, size_t n)
{
	size_t i = 0, d;

	if (i < n && t[i] == '-')
		i++;
	if (i < n && t[i] == '0')
		i++;
	else {
		for (d = i; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && t[i] == '.') {
		for (d = ++i; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	if (i < n && (t[i] == 'e' || t[i] == 'E')) {
		i++;
		if (i < n && (t[i] == '+' || t[i] == '-'))
			i++;
		for (d = i; i < n && t[i] >= '0' && t[i] <= '9'; i++)
			;
		if (i == d)
			return 0;
	}
	return i == n;
}

static const unsigned char *number_done(struct jscan *s, const unsigned char *at, const char *t, size_t n)
{
	if (!number_ok(t, n))
		return fail_off(s, s->tok_off, "invalid number");
	if (s->cb->number && !s->cb->number(s->ctx, t, n))
		return stopped(s);
	value_end(s);
	return at;
}

static int numchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* A number from p (its first byte, or where the last piece ended). */
static const unsigned char *number(struct jscan *s, const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p, *d;

	if (s->tok != T_NUM) {
		/* most are integers ended in this piece: one pass for them */
		if (*q == '-')
			q++;
		for (d = q; q < end && *q >= '0' && *q <= '9'; q++)
			;
		if (q < end && !numchar(*q) && q > d && (*d != '0' || q == d + 1) && q - p <= NUM_MAX) {
			if (s->cb->number && !s->cb->number(s->ctx, (const char *)p, (size_t)(q - p)))
				return stopped(s);
			value_end(s);
			return q;
		}
		q = p;
	}

	while (q < end && numchar(*q))
		q++;
	if (q == end || s->tok == T_NUM) {
		if (s->tok != T_NUM) {
			s->tok = T_NUM;
			s->len = 0;
		}
		int rc = append(s, p, (size_t)(q - p), NUM_MAX);
		if (rc < 0)
			return rc == -1 ? fail_off(s, s->tok_off, "number too long") : fail(s, q, "out of memory");
		if (q == end)
			return end;
		s->tok = T_NONE;
		return number_done(s, q, s->buf, s->len);
	}
	if (q - p > NUM_MAX)
		return fail_off(s, s->tok_off, "number too long");
	return number_done(s, q, (const char *)p, (size_t)(q - p));
}

/* true, false or null, from where the last piece ended. */
static const unsigned char *literal(struct jscan *s, const unsigned char *p, const unsigned char *end)
{
	int ok = 1;

	while (s->lit_got < s->lit_len && p < end) {
		if (*p != (unsigned char)s->lit[s->lit_got])
			return fail(s, p, "invalid literal");
		s->lit_got++;
		p++;
	}
	if (s->lit_got < s->lit_len) {
		s->tok = T_LIT;
		return end;
	}
	s->tok = T_NONE;
	if (s->lit[0] == 'n')
		ok = !s->cb->null || s->cb->null(s->ctx);
	else if (s->cb->boolean)
		ok = s->cb->boolean(s->ctx, s->lit[0] == 't');
	if (!ok)
		return stopped(s);
	value_end(s);
	return p;
}

static const unsigned char *open_container(struct jscan *s, const unsigned char *p)
{
	int ok;

	if (!value_pos(s))
		return unexpected(s, p);
	if (s->depth == JSCAN_MAX_DEPTH)
		return fail(s, p, "nesting too deep");
	s->stack[s->depth++] = *p;
	if (*p == '[') {
		ok = !s->cb->start_array || s->cb->start_array(s->ctx);
		s->want = W_FIRST;
	} else {
		ok = !s->cb->start_map || s->cb->start_map(s->ctx);
		s->want = W_KEY_FIRST;
	}
	return ok ? p + 1 : stopped(s);
}

static const unsigned char *close_container(struct jscan *s, const unsigned char *p)
{
	int ok;

	if (!s->depth || s->stack[s->depth - 1] != (*p == ']' ? '[' : '{') ||
	    !(s->want == W_AFTER || s->want == (*p == ']' ? W_FIRST : W_KEY_FIRST)))
		return unexpected(s, p);
	s->depth--;
	if (*p == ']')
		ok = !s->cb->end_array || s->cb->end_array(s->ctx);
	else
		ok = !s->cb->end_map || s->cb->end_map(s->ctx);
	if (!ok)
		return stopped(s);
	value_end(s);
	return p + 1;
}

enum jscan_status jscan_feed(struct jscan *s, const void *buf, size_t len)
{
	const unsigned char *p = buf, *end;

	if (s->status || !len)
		return s->status;
	end = p + len;
	s->piece = p;
	switch (s->tok) {                   /* a token the last piece cut */
	case T_STR:
	case T_KEY:
		p = string(s, p, end, s->tok == T_KEY);
		break;
	case T_NUM:
		p = number(s, p, end);
		break;
	case T_LIT:
		p = literal(s, p, end);
		break;
	case T_NONE:
		break;
	}
	while (p && p < end) {
		switch (*p) {
		case ' ': case '\t': case '\n': case '\r': case '\v': case '\f':
			p++;
			break;
		case '"':
			s->tok_off = off_of(s, p);
			if (s->want == W_KEY || s->want == W_KEY_FIRST)
				p = string(s, p + 1, end, 1);
			else if (value_pos(s))
				p = string(s, p + 1, end, 0);
			else
				p = unexpected(s, p);
			break;
		case '[': case '{':
			p = open_container(s, p);
			break;
		case ']': case '}':
			p = close_container(s, p);
			break;
		case ',':
			if (s->want != W_AFTER)
				p = unexpected(s, p);
			else {
				s->want = s->stack[s->depth - 1] == '[' ? W_VALUE : W_KEY;
				p++;
			}
			break;
		case ':':
			if (s->want != W_COLON)
				p = unexpected(s, p);
			else {
				s->want = W_VALUE;
				p++;
			}
			break;
		case '-': case '0': case '1': case '2': case '3': case '4':
		case '5': case '6': case '7': case '8': case '9':
			s->tok_off = off_of(s, p);
			p = value_pos(s) ? number(s, p, end) : unexpected(s, p);
			break;
		case 't': case 'f': case 'n':
			if (!value_pos(s)) {
				p = unexpected(s, p);
				break;
			}
			s->lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
			s->lit_len = strlen(s->lit);
			s->lit_got = 0;
			p = literal(s, p, end);
			break;
		default:
			p = unexpected(s, p);
			break;
		}
	}
	s->off += len;
	return s->status;
}

enum jscan_status jscan_finish(struct jscan *s)
{
	if (s->status)
		return s->status;
	s->piece = (const unsigned char *)"";
	if (s->tok == T_NUM) {              /* a number ends at the end of text */
		s->tok = T_NONE;
		if (!number_done(s, s->piece, s->buf, s->len))
			return s->status;
	}
	if (s->tok != T_NONE || s->want != W_END) {
		s->status = JSCAN_TRUNCATED;
		snprintf(s->msg, sizeof(s->msg), "the text ends inside a value at byte %llu", s->off);
	}
	return s->status;
}
