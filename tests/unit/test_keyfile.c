/* test_keyfile.c - key files (src/bundle/keyfile.c): a public key is never
 * read through a link, a file too big for a key is refused whole, and
 * every error is one line naming the file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "bundle/keyfile.h"

static char dir[] = "/tmp/test_keyfile.XXXXXX";
static char pubtext[256];

static char *path_of(const char *name)
{
	static char p[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

static void spew(const char *name, const char *text, size_t len)
{
	FILE *f = fopen(path_of(name), "w");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	struct ms_pubkey pk;
	struct ms_seckey *sk;
	sd_error err = { "" };
	char *t;

	(void)state;
	if (!mkdtemp(dir) || !(sk = ms_keygen(&pk, &err)) || !(t = ms_pubkey_format(&pk)))
		return -1;
	snprintf(pubtext, sizeof(pubtext), "%s", t);
	free(t);
	ms_seckey_free(sk);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void expect(const char *name, int rc, const char *why)
{
	struct ms_pubkey pk;
	sd_error err = { "" };

	assert_int_equal(keyfile_pub_load(path_of(name), &pk, &err), rc);
	if (rc) {
		assert_non_null(strstr(err.msg, path_of(name)));
		assert_null(strchr(err.msg, '\n'));
		if (!strstr(err.msg, why))
			fail_msg("%s: '%s' does not say '%s'", name, err.msg, why);
	}
}

static void pub_keys(void **state)
{
	char big[KEYFILE_MAX + 1];

	(void)state;
	spew("good.pub", pubtext, strlen(pubtext));
	expect("good.pub", 0, NULL);
	assert_int_equal(symlink(path_of("good.pub"), path_of("link.pub")), 0);
	expect("link.pub", -1, "symbolic link");
	expect("missing.pub", -1, "No such file");
	spew("bad.pub", "untrusted comment: x\nnot base64!\n", 33);
	expect("bad.pub", -2, "public key");
	spew("empty.pub", "", 0);
	expect("empty.pub", -2, "public key");
	/* a valid key followed by enough bytes to pass the cap: refused, not its start taken */
	memset(big, '\n', sizeof(big));
	memcpy(big, pubtext, strlen(pubtext));
	spew("big.pub", big, sizeof(big));
	expect("big.pub", -2, "not a key file");
	/* exactly the cap: still a key */
	spew("cap.pub", big, KEYFILE_MAX);
	expect("cap.pub", 0, NULL);
}

/* nofollow 0 (secret keys): a link is read */
static void follow(void **state)
{
	char buf[KEYFILE_MAX + 1];
	sd_error err = { "" };
	size_t len;

	(void)state;
	spew("x.key", "abc", 3);
	assert_int_equal(symlink(path_of("x.key"), path_of("xl.key")), 0);
	assert_int_equal(keyfile_read(path_of("xl.key"), 0, buf, sizeof(buf), &len, &err), 0);
	assert_int_equal(len, 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(keyfile_read(path_of("xl.key"), 1, buf, sizeof(buf), &len, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pub_keys),
		cmocka_unit_test(follow),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
