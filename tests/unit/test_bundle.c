/* Unit tests: bundle writer/reader; every byte flip and truncation rejected. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include <zlib.h>
#include "bundle/bundle.h"
#include "bundle/pdeflate.h"

static struct ms_pubkey pk, pk_other;
static struct ms_seckey *sk, *sk_other;

static unsigned char *make(enum bundle_compress c, const struct ms_seckey *key, const char *site,
			   unsigned long long seq, size_t *len)
{
	sd_error err = { "" };
	struct bundle_writer *b = bundle_open(NULL, c, &err);
	struct bundle_info info = { .sequence = seq, .created = 1795000000 };
	char *buf = NULL;
	FILE *out = open_memstream(&buf, len), *m;

	assert_non_null(b);
	snprintf(info.site, sizeof(info.site), "%s", site);
	strcpy(info.kind, "state");
	strcpy(info.generator, "sitedump test");
	m = bundle_member(b, "state.json", &err);
	assert_non_null(m);
	fputs("{\"format\":\"sitedump-snapshot\",\"hosts\":[{\"name\":\"h1\"}]}\n", m);
	m = bundle_member(b, "config.cfg", &err);
	assert_non_null(m);
	fputs("define host {\n    host_name h1\n}\n", m);
	assert_null(bundle_member(b, "../evil", &err));
	bundle_count(b, 1, 0, 0, 0);
	assert_int_equal(bundle_close(b, out, &info, key, &err), 0);
	bundle_free(b);
	fclose(out);
	return (unsigned char *)buf;
}

/* 0 accepted, 1 rejected as bad (verify_failed), 2 rejected otherwise */
static int check(const unsigned char *buf, size_t len, const struct ms_pubkey *key, sd_error *err)
{
	char path[] = "/tmp/sdbundleXXXXXX";
	int fd = mkstemp(path), vf = 0;
	struct bundle_reader *r;

	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	lseek(fd, 0, SEEK_SET);
	r = bundle_read(fd, key, NULL, NULL, &vf, err);
	close(fd);
	if (r) {
		bundle_reader_free(r);
		return 0;
	}
	return vf ? 1 : 2;
}

static void round_trip(void **state)
{
	enum bundle_compress c;
	sd_error err = { "" };

	for (c = BUNDLE_GZIP; c <= BUNDLE_NONE; c++) {
		size_t len;
		unsigned char *buf = make(c, sk, "r1", 7, &len);
		if (check(buf, len, &pk, &err) != 0)
			fail_msg("compress %d (%zu bytes): %s", c, len, err.msg);
		assert_int_equal(check(buf, len, NULL, &err), 0);      /* inspect */
		assert_int_equal(check(buf, len, &pk_other, &err), 1);
		assert_non_null(strstr(err.msg, "trusted key"));
		free(buf);
	}
}

static void every_flip_and_cut(void **state)
{
	enum bundle_compress c;
	sd_error err;
	size_t i, len, accepted;

	for (c = BUNDLE_GZIP; c <= BUNDLE_NONE; c++) {
		unsigned char *buf = make(c, sk, "r1", 7, &len);
		accepted = 0;
		for (i = 0; i < len; i++) {
			buf[i] ^= 0x01;
			if (check(buf, len, &pk, &err) == 0) {
				accepted++;
				fprintf(stderr, "compress %d: flip at %zu of %zu accepted\n", c, i, len);
			}
			buf[i] ^= 0x01;
		}
		for (i = 0; i < len; i += (len / 97) + 1)
			if (check(buf, i, &pk, &err) == 0) {
				accepted++;
				fprintf(stderr, "compress %d: cut at %zu of %zu accepted\n", c, i, len);
			}
		free(buf);
		assert_int_equal(accepted, 0);
	}
}

/* Members of several deflate blocks (gzip: deflated on threads while
 * written, spliced into the tar stream), an empty one between them: the
 * reader gets every byte back, for every compression, and `gzip -t` and
 * `tar -tz` (the stock tools) take the gzip bundle. */
static void large_members(void **state)
{
	static const size_t sizes[] = { 3u << 20 | 12345, 0, (1u << 20) + 1 };
	static const char *const names[] = { "state.json", "empty.txt", "config.json" };
	enum bundle_compress c;
	size_t i, k;

	(void)state;
	for (c = BUNDLE_GZIP; c <= BUNDLE_NONE; c++) {
		sd_error err = { "" };
		struct bundle_writer *b = bundle_open(NULL, c, &err);
		struct bundle_info info = { .sequence = 9, .created = 1795000000 };
		char path[] = "/tmp/sdbundleXXXXXX", cmd[200];
		int fd = mkstemp(path), vf = 0;
		FILE *out = fdopen(fd, "w+");
		struct bundle_reader *r;
		unsigned x = 777;

		assert_non_null(b);
		assert_non_null(out);
		snprintf(info.site, sizeof(info.site), "big");
		strcpy(info.kind, "state");
		strcpy(info.generator, "sitedump test");
		for (k = 0; k < 3; k++) {
			FILE *m = bundle_member(b, names[k], &err);
			assert_non_null(m);
			for (i = 0; i < sizes[k]; i++) {
				x = x * 1103515245 + 12345;
				fputc(i % 50 < 30 ? "[\"host\",\"svc\",0,1,\"OK - fine\"],"[i % 30] : 'a' + (int)((x >> 16) % 26) + (int)k, m);
			}
		}
		bundle_count(b, 1, 2, 0, 0);
		assert_int_equal(bundle_close(b, out, &info, sk, &err), 0);
		bundle_free(b);
		assert_int_equal(fflush(out), 0);
		if (c == BUNDLE_GZIP) {
			snprintf(cmd, sizeof(cmd), "gzip -t < %s && tar -tzf %s > /dev/null", path, path);
			assert_int_equal(system(cmd), 0);
		}
		lseek(fd, 0, SEEK_SET);
		r = bundle_read(fd, &pk, NULL, NULL, &vf, &err);
		if (!r)
			fail_msg("compress %d: %s", c, err.msg);
		for (x = 777, k = 0; k < 3; k++) {
			int mfd = bundle_reader_fd(r, names[k]);
			FILE *m;
			assert_true(mfd >= 0);
			m = fdopen(dup(mfd), "r");
			assert_non_null(m);
			for (i = 0; i < sizes[k]; i++) {
				int want;
				x = x * 1103515245 + 12345;
				want = i % 50 < 30 ? "[\"host\",\"svc\",0,1,\"OK - fine\"],"[i % 30] : 'a' + (int)((x >> 16) % 26) + (int)k;
				if (fgetc(m) != want)
					fail_msg("compress %d: %s differs at %zu", c, names[k], i);
			}
			assert_int_equal(fgetc(m), EOF);
			fclose(m);
		}
		bundle_reader_free(r);
		fclose(out);
		unlink(path);
	}
}

/* The tar inside a gzip bundle: every member inflated (the first one's
 * header is the 90-byte container). */
static unsigned char *gunzip_all(const unsigned char *buf, size_t len, size_t *tlen)
{
	size_t cap = 1 << 20;
	unsigned char *t = malloc(cap);
	z_stream z = { 0 };

	assert_non_null(t);
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = (unsigned char *)buf;
	z.avail_in = (uInt)len;
	*tlen = 0;
	while (z.avail_in) {
		z.next_out = t + *tlen;
		z.avail_out = (uInt)(cap - *tlen);
		assert_int_equal(inflate(&z, Z_NO_FLUSH), Z_STREAM_END);
		*tlen = cap - z.avail_out;
		assert_int_equal(inflateReset(&z), Z_OK);
	}
	inflateEnd(&z);
	return t;
}

/* gzip bundles of sitedump before pdeflate's members kept the whole tar in
 * the one member whose header holds the outer signature; the reader
 * still takes that layout, signed the same way. */
static void single_member_layout(void **state)
{
	static const unsigned char head[16] = { 0x1f, 0x8b, 8, 4, 0, 0, 0, 0, 0, 3, 78, 0, 'S', 'D', 0x4a, 0 };
	unsigned char hash[crypto_generichash_BYTES_MAX], *v1, *tar;
	crypto_generichash_state hs;
	size_t len, tlen, n;
	unsigned char *buf = make(BUNDLE_GZIP, sk, "r1", 7, &len);
	unsigned long crc;
	z_stream z = { 0 };
	sd_error err = { "" };
	int i;

	(void)state;
	/* a new bundle: the container member is empty, the data follows in
	 * members with pdeflate's header */
	assert_memory_equal(buf + 90, "\3\0\0\0\0\0\0\0\0\0", 10);
	assert_memory_equal(buf + 100, PD_HEADER, PD_HEADER_LEN);
	tar = gunzip_all(buf, len, &tlen);
	v1 = malloc(100 + tlen * 2 + 100);
	assert_non_null(v1);
	memcpy(v1, head, 16);
	memcpy(v1 + 16, "v1", 2);
	assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY), Z_OK);
	z.next_in = tar;
	z.avail_in = (uInt)tlen;
	z.next_out = v1 + 90;
	z.avail_out = (uInt)(tlen * 2 + 100);
	assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
	n = 90 + z.total_out;
	deflateEnd(&z);
	crc = crc32(0, tar, (uInt)tlen);
	for (i = 0; i < 4; i++) {
		v1[n + i] = (unsigned char)(crc >> (8 * i));
		v1[n + 4 + i] = (unsigned char)(tlen >> (8 * i));
	}
	n += 8;
	crypto_generichash_init(&hs, NULL, 0, sizeof(hash));
	crypto_generichash_update(&hs, (const unsigned char *)"sitedump-outer-v1", 17);
	crypto_generichash_update(&hs, v1 + 90, n - 90);
	crypto_generichash_final(&hs, hash, sizeof(hash));
	ms_sign_raw(sk, hash, sizeof(hash), v1 + 26, v1 + 18);
	if (check(v1, n, &pk, &err) != 0)
		fail_msg("single-member layout: %s", err.msg);
	/* and its signature is what makes it valid */
	v1[n - 9] ^= 1;
	assert_int_equal(check(v1, n, &pk, &err), 1);
	free(v1);
	free(tar);
	free(buf);
}

/* After the last member: another member, even an empty one with the right
 * header, or any other byte, is refused. */
static void nothing_appended(void **state)
{
	static const unsigned char empty_member[20] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0 };
	static const unsigned char other_header[20] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff, 3, 0 };
	size_t len;
	unsigned char *buf = make(BUNDLE_GZIP, sk, "r1", 7, &len), *more = malloc(len + 20);
	sd_error err = { "" };

	(void)state;
	assert_non_null(more);
	memcpy(more, buf, len);
	memcpy(more + len, empty_member, 20);
	assert_int_equal(check(more, len + 20, &pk, &err), 1);
	assert_non_null(strstr(err.msg, "outer signature"));
	memcpy(more + len, other_header, 20);
	assert_int_equal(check(more, len + 20, &pk, &err), 1);
	if (!strstr(err.msg, "gzip member header is not the one sitedump writes"))
		fail_msg("%s", err.msg);
	more[len] = 0;
	assert_int_equal(check(more, len + 1, &pk, &err), 1);
	free(more);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(large_members),
		cmocka_unit_test(every_flip_and_cut),
		cmocka_unit_test(single_member_layout),
		cmocka_unit_test(nothing_appended),
	};
	sd_error err;

	sk = ms_keygen(&pk, &err);
	sk_other = ms_keygen(&pk_other, &err);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
