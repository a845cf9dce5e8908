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
#include "bundle.h"

static struct ms_pubkey pk, pk_other;
static struct ms_seckey *sk, *sk_other;

static unsigned char *make(enum bundle_compress c, const struct ms_seckey *key, const char *site,
			   unsigned long long seq, size_t *len)
{
	sd_error err = { "" };
	struct bundle_writer *b = bundle_open(NULL, &err);
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
	assert_int_equal(bundle_close(b, out, &info, c, key, &err), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(every_flip_and_cut),
	};
	sd_error err;

	sk = ms_keygen(&pk, &err);
	sk_other = ms_keygen(&pk_other, &err);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
