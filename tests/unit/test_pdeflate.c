/* Unit tests: pdeflate (one deflate stream made in blocks on two threads):
 * the stream inflates to the input at every block boundary, CRC-32 and
 * length are those of the input, and the bytes do not depend on how the
 * input was cut into writes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include "pdeflate.h"

#define MIB PD_BLOCK        /* the block size: the edges are what matter */

struct out {
	unsigned char *p;
	size_t len, cap;
};

static void collect(void *ctx, const void *buf, size_t len)
{
	struct out *o = ctx;

	if (o->len + len > o->cap) {
		o->cap = (o->len + len) * 2;
		o->p = realloc(o->p, o->cap);
		assert_non_null(o->p);
	}
	memcpy(o->p + o->len, buf, len);
	o->len += len;
}

/* JSON-like text with some noise: compressible, not trivially. */
static unsigned char *make_input(size_t n)
{
	unsigned char *b = malloc(n ? n : 1);
	size_t i;
	unsigned x = 12345;

	assert_non_null(b);
	for (i = 0; i < n; i++) {
		x = x * 1103515245 + 12345;
		b[i] = i % 64 < 40 ? (unsigned char)"{\"host_name\":\"bench-host-\",\"state\":0}"[i % 37]
				   : (unsigned char)('0' + (x >> 16) % 10);
	}
	return b;
}

static void deflate_part(const unsigned char *in, size_t n, size_t step, int final, struct out *o,
			 unsigned long *crc, unsigned long long *isize)
{
	sd_error err = { "" };
	struct pdeflate *p = pd_new(6, collect, o, &err);
	size_t at;

	assert_non_null(p);
	for (at = 0; at < n; at += step)
		assert_int_equal(pd_write(p, in + at, n - at < step ? n - at : step, &err), 0);
	assert_int_equal(pd_finish(p, final, crc, isize, &err), 0);
	pd_free(p);
}

static void deflate_all(const unsigned char *in, size_t n, size_t step, struct out *o,
			unsigned long *crc, unsigned long long *isize)
{
	deflate_part(in, n, step, 1, o, crc, isize);
}

/* o is one raw deflate stream of exactly in[0..n), nothing after it. */
static void inflates_to(const struct out *o, const unsigned char *in, size_t n)
{
	unsigned char *back = malloc(n + 1);
	z_stream z = { 0 };

	assert_non_null(back);
	assert_int_equal(inflateInit2(&z, -15), Z_OK);
	z.next_in = o->p;
	z.avail_in = (uInt)o->len;
	z.next_out = back;
	z.avail_out = (uInt)n + 1;
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, n);
	assert_int_equal(z.avail_in, 0);        /* one stream, nothing after it */
	assert_memory_equal(back, in, n);
	inflateEnd(&z);
	free(back);
}

static void round_trip(void **state)
{
	size_t sizes[] = { 0, 1, 1000, MIB - 1, MIB, MIB + 1, 2 * MIB, 5 * MIB + 12345 };
	size_t k;

	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned char *in = make_input(n);
		struct out o = { 0 }, o2 = { 0 };
		unsigned long crc, crc2;
		unsigned long long isize, isize2;

		deflate_all(in, n, 65536, &o, &crc, &isize);
		assert_int_equal(isize, n);
		assert_int_equal(crc, crc32(crc32(0, NULL, 0), in, (uInt)n));
		inflates_to(&o, in, n);
		/* other write sizes, same bytes */
		deflate_all(in, n, 777, &o2, &crc2, &isize2);
		assert_int_equal(o2.len, o.len);
		assert_memory_equal(o2.p, o.p, o.len);
		free(o.p);
		free(o2.p);
		free(in);
	}
}

/* Streams ended without final, then one with, concatenated: one deflate
 * stream of all the inputs, whose CRC is the combination of theirs (how a
 * bundle splices its members into the tar stream). */
static void splice(void **state)
{
	size_t sizes[][3] = { { 0, 0, 0 }, { 512, 0, 1024 }, { 1000, MIB + 7, 512 },
			      { 3 * MIB, 2 * MIB + 1, 0 }, { 1, 1, 1 } };
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t total = sizes[k][0] + sizes[k][1] + sizes[k][2], at = 0;
		unsigned char *in = make_input(total);
		struct out o = { 0 };
		unsigned long crc = crc32(0, NULL, 0), c;
		unsigned long long isize;

		for (i = 0; i < 3; i++) {
			deflate_part(in + at, sizes[k][i], 4096, i == 2, &o, &c, &isize);
			assert_int_equal(isize, sizes[k][i]);
			crc = crc32_combine(crc, c, (z_off_t)isize);
			at += sizes[k][i];
		}
		assert_int_equal(crc, crc32(crc32(0, NULL, 0), in, (uInt)total));
		inflates_to(&o, in, total);
		free(o.p);
		free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(splice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
