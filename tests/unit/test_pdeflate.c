/* Unit tests: pdeflate (gzip members made in blocks on two threads): every
 * member has the fixed header, is one PD_BLOCK of input (the last one
 * shorter) and checks out against its CRC-32 and ISIZE; the members
 * inflate to the input at every block boundary; no input, no member; the
 * bytes do not depend on how the input was cut into writes; and output
 * flushed, written on and flushed again is the members of both parts (how
 * a bundle splices its members into the tar's); the input hook sees every
 * byte once, in order, one call at a time, all of it by each pd_flush,
 * and on the workers when there are some. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>
#include "bundle/pdeflate.h"

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

/* Write in[0..n) in writes of step bytes, then flush. */
static void deflate_part(struct pdeflate *p, const unsigned char *in, size_t n, size_t step)
{
	sd_error err = { "" };
	size_t at;

	for (at = 0; at < n; at += step)
		assert_int_equal(pd_write(p, in + at, n - at < step ? n - at : step, &err), 0);
	assert_int_equal(pd_flush(p, &err), 0);
}

static void deflate_all(const unsigned char *in, size_t n, size_t step, struct out *o)
{
	sd_error err = { "" };
	struct pdeflate *p = pd_new(6, collect, NULL, o, &err);

	assert_non_null(p);
	deflate_part(p, in, n, step);
	pd_free(p);
}

static unsigned long le32(const unsigned char *b)
{
	return (unsigned long)b[0] | (unsigned long)b[1] << 8 | (unsigned long)b[2] << 16 | (unsigned long)b[3] << 24;
}

/* o is whole gzip members of exactly in[0..n) in blocks cut at each of
 * cuts[] (the ends of flushed parts) and every PD_BLOCK in between. */
static void members_of(const struct out *o, const unsigned char *in, size_t n, const size_t *cuts, size_t ncuts)
{
	unsigned char *back = malloc(PD_BLOCK + 1);
	size_t pos = 0, at = 0, part = 0, want;

	assert_non_null(back);
	while (pos < o->len) {
		z_stream z = { 0 };
		size_t part_end;

		while (part < ncuts && cuts[part] == at)
			part++;
		part_end = part < ncuts ? cuts[part] : n;
		want = part_end - at < PD_BLOCK ? part_end - at : PD_BLOCK;
		assert_true(want > 0);                  /* no empty member */
		assert_true(o->len - pos > PD_HEADER_LEN + 8);
		assert_memory_equal(o->p + pos, PD_HEADER, PD_HEADER_LEN);
		pos += PD_HEADER_LEN;
		assert_int_equal(inflateInit2(&z, -15), Z_OK);
		z.next_in = o->p + pos;
		z.avail_in = (uInt)(o->len - pos);
		z.next_out = back;
		z.avail_out = PD_BLOCK + 1;
		assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		assert_int_equal(z.total_out, want);
		assert_memory_equal(back, in + at, want);
		pos += z.total_in;
		inflateEnd(&z);
		assert_true(o->len - pos >= 8);
		assert_int_equal(le32(o->p + pos), crc32(crc32(0, NULL, 0), in + at, (uInt)want));
		assert_int_equal(le32(o->p + pos + 4), want);
		pos += 8;
		at += want;
	}
	assert_int_equal(pos, o->len);
	assert_int_equal(at, n);
	free(back);
}

static void round_trip(void **state)
{
	size_t sizes[] = { 0, 1, 1000, MIB - 1, MIB, MIB + 1, 2 * MIB, 5 * MIB + 12345 };
	size_t k;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t n = sizes[k];
		unsigned char *in = make_input(n);
		struct out o = { 0 }, o2 = { 0 };

		deflate_all(in, n, 65536, &o);
		if (!n)
			assert_int_equal(o.len, 0);
		members_of(&o, in, n, NULL, 0);
		/* other write sizes, same bytes */
		deflate_all(in, n, 777, &o2);
		assert_int_equal(o2.len, o.len);
		assert_memory_equal(o2.p, o.p, o.len);
		/* and the same as gzip reads them: one stream of all */
		if (n) {
			unsigned char *back = malloc(n);
			z_stream z = { 0 };
			size_t got = 0;

			assert_non_null(back);
			assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
			z.next_in = o.p;
			z.avail_in = (uInt)o.len;
			while (z.avail_in) {
				z.next_out = back + got;
				z.avail_out = (uInt)(n - got);
				assert_int_equal(inflate(&z, Z_NO_FLUSH), Z_STREAM_END);
				got = z.total_out;
				assert_int_equal(inflateReset(&z), Z_OK);
				z.total_out = got;
			}
			assert_int_equal(got, n);
			assert_memory_equal(back, in, n);
			inflateEnd(&z);
			free(back);
		}
		free(o.p);
		free(o2.p);
		free(in);
	}
}

/* Parts written and flushed one after another into the same pdeflate:
 * the members of each part, none crossing a flush. */
static void flush_between(void **state)
{
	size_t sizes[][3] = { { 0, 0, 0 }, { 512, 0, 1024 }, { 1000, MIB + 7, 512 },
			      { 3 * MIB, 2 * MIB + 1, 0 }, { 1, 1, 1 } };
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t total = sizes[k][0] + sizes[k][1] + sizes[k][2], at = 0, cuts[3];
		unsigned char *in = make_input(total);
		struct out o = { 0 };
		sd_error err = { "" };
		struct pdeflate *p = pd_new(6, collect, NULL, &o, &err);

		assert_non_null(p);
		for (i = 0; i < 3; i++) {
			deflate_part(p, in + at, sizes[k][i], 4096);
			at += sizes[k][i];
			cuts[i] = at;
		}
		pd_free(p);
		members_of(&o, in, total, cuts, 3);
		free(o.p);
		free(in);
	}
}

struct seen {
	struct out o;
	int inside, overlapped;
	int off_caller;         /* calls not on the caller's thread */
	pthread_t caller;
};

static void hook(void *ctx, const void *buf, size_t len)
{
	struct seen *s = ctx;
	volatile unsigned spin;

	if (__atomic_add_fetch(&s->inside, 1, __ATOMIC_SEQ_CST) > 1)
		s->overlapped = 1;
	for (spin = 0; spin < 300000; spin++)    /* widen the window for a second caller */
		;
	collect(&s->o, buf, len);
	if (!pthread_equal(pthread_self(), s->caller))
		s->off_caller++;
	__atomic_sub_fetch(&s->inside, 1, __ATOMIC_SEQ_CST);
}

static void ignore(void *ctx, const void *buf, size_t len)
{
	(void)ctx, (void)buf, (void)len;
}

static void input_hook(void **state)
{
	size_t sizes[][3] = { { 0, 0, 0 }, { 1, 0, MIB - 1 }, { MIB, MIB + 1, 7 },
			      { 5 * MIB + 3, 1, 3 * MIB } };
	size_t k, i;

	(void)state;
	for (k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t total = sizes[k][0] + sizes[k][1] + sizes[k][2], at = 0;
		unsigned char *in = make_input(total);
		struct seen s = { .caller = pthread_self() };
		sd_error err = { "" };
		struct pdeflate *p = pd_new(6, ignore, hook, &s, &err);

		assert_non_null(p);
		for (i = 0; i < 3; i++) {
			deflate_part(p, in + at, sizes[k][i], 3000);
			at += sizes[k][i];
			assert_int_equal(s.o.len, at);          /* all of it by pd_flush */
			assert_true(at == 0 || memcmp(s.o.p, in, at) == 0);
		}
		pd_free(p);
		assert_false(s.overlapped);
		if (total > 4 * MIB)
			assert_true(s.off_caller > 0);
		free(s.o.p);
		free(in);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(flush_between),
		cmocka_unit_test(input_hook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
