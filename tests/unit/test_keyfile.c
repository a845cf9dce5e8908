/* test_keyfile.c - key files (src/bundle/keyfile.c): a public key is never
 * read through a link, a file too big for a key is refused whole, every
 * error is one line naming the file, and a key of the wrong kind (public
 * for secret, encryption for signing, and the reverse) is named as such. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "bundle/keyfile.h"
#include "bundle/seal.h"

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

static void slurp(const char *name, char *buf, size_t cap, size_t *len)
{
	FILE *f = fopen(path_of(name), "r");

	assert_non_null(f);
	*len = fread(buf, 1, cap - 1, f);
	buf[*len] = '\0';
	fclose(f);
}

/* the four key files of a site and a central, as the tools' keygen writes them */
static void write_pairs(void)
{
	struct ms_pubkey pk;
	struct ms_seckey *sk;
	sd_error err = { "" };
	char msg[512], *t;

	assert_non_null(sk = ms_keygen(&pk, &err));
	assert_non_null(t = ms_seckey_format(sk));
	spew("r1.key", t, strlen(t));
	ms_secret_text_free(t);
	ms_seckey_free(sk);
	assert_non_null(t = ms_pubkey_format(&pk));
	spew("r1.pub", t, strlen(t));
	spew("lone.pub", t, strlen(t));      /* no lone.key next to it */
	free(t);
	assert_int_equal(seal_keygen(path_of("central"), 0, msg, sizeof(msg), &err), 0);
}

static void says(int rc, const sd_error *err, const char *a, const char *b)
{
	assert_int_not_equal(rc, 0);
	assert_null(strchr(err->msg, '\n'));
	if (!strstr(err->msg, a) || (b && !strstr(err->msg, b)))
		fail_msg("'%s' does not say '%s' and '%s'", err->msg, a, b ? b : "");
}

static void kinds(void **state)
{
	static const struct {
		const char *name;
		enum key_kind kind;
	} files[] = {
		{ "r1.key", KEY_SIGN_SEC }, { "r1.pub", KEY_SIGN_PUB },
		{ "central.key", KEY_SEAL_SEC }, { "central.pub", KEY_SEAL_PUB },
	};
	char buf[KEYFILE_MAX + 1];
	size_t len, i;

	(void)state;
	write_pairs();
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		slurp(files[i].name, buf, sizeof(buf), &len);
		assert_int_equal(keyfile_kind(buf, len), files[i].kind);
	}
	assert_int_equal(keyfile_kind("untrusted comment: x\nnot base64!\n", 33), KEY_UNKNOWN);
	assert_int_equal(keyfile_kind("", 0), KEY_UNKNOWN);
}

/* each option given each wrong key says what the file is and what it wants */
static void wrong_kind(void **state)
{
	char buf[KEYFILE_MAX + 1], want[600];
	struct ms_pubkey pk;
	struct ms_seckey *sk;
	struct seal_pub sp;
	struct seal_sec *ss;
	sd_error err = { "" };
	size_t len;

	(void)state;
	/* -k given the public key: named, and the secret key next to it pointed at */
	slurp("r1.pub", buf, sizeof(buf), &len);
	assert_null(sk = keyfile_sec_parse(path_of("r1.pub"), buf, len, &err));
	snprintf(want, sizeof(want), "-k wants the signing secret key (%s)", path_of("r1.key"));
	says(-1, &err, "this is a signing public key", want);
	/* without the pair's other half nothing is pointed at */
	slurp("lone.pub", buf, sizeof(buf), &len);
	assert_null(sk = keyfile_sec_parse(path_of("lone.pub"), buf, len, &err));
	says(-1, &err, "this is a signing public key", "(sitedump keygen writes it)");
	/* -k given the central's encryption key */
	slurp("central.key", buf, sizeof(buf), &len);
	assert_null(sk = keyfile_sec_parse(path_of("central.key"), buf, len, &err));
	says(-1, &err, "this is an encryption secret key; -k wants the signing secret key", NULL);
	/* -p given the secret key, or the central's encryption public key */
	says(keyfile_pub_load(path_of("r1.key"), &pk, &err), &err, "this is a signing secret key", path_of("r1.pub"));
	assert_non_null(strstr(err.msg, "-p"));
	says(keyfile_pub_load(path_of("central.pub"), &pk, &err), &err,
	     "central.pub: this is an encryption public key", "wants the signing public key");
	/* --decrypt-key given the public half, or the site's signing key */
	assert_null(ss = seal_sec_load(path_of("central.pub"), &err));
	snprintf(want, sizeof(want), "--decrypt-key wants the encryption secret key (%s)", path_of("central.key"));
	says(-1, &err, "this is an encryption public key", want);
	assert_null(ss = seal_sec_load(path_of("r1.key"), &err));
	says(-1, &err, "this is a signing secret key; --decrypt-key", "siteload keygen");
	/* --encrypt-to given the secret half, or a signing public key */
	snprintf(want, sizeof(want), "--encrypt-to wants the encryption public key (%s)", path_of("central.pub"));
	says(seal_pub_load(path_of("central.key"), &sp, &err), &err, "this is an encryption secret key", want);
	says(seal_pub_load(path_of("r1.pub"), &sp, &err), &err, "this is a signing public key; --encrypt-to", NULL);
	/* the right kinds still load */
	slurp("r1.key", buf, sizeof(buf), &len);
	assert_non_null(sk = keyfile_sec_parse(path_of("r1.key"), buf, len, &err));
	ms_seckey_free(sk);
	assert_int_equal(keyfile_pub_load(path_of("r1.pub"), &pk, &err), 0);
	assert_int_equal(seal_pub_load(path_of("central.pub"), &sp, &err), 0);
	assert_non_null(ss = seal_sec_load(path_of("central.key"), &err));
	seal_sec_free(ss);
}

/* a new public key, formatted as keygen writes it; its key number in keynum */
static void new_pub(char *text, size_t cap, unsigned char keynum[MS_KEYNUMBYTES])
{
	struct ms_pubkey pk;
	struct ms_seckey *sk;
	sd_error err = { "" };
	char *t;

	assert_non_null(sk = ms_keygen(&pk, &err));
	assert_non_null(t = ms_pubkey_format(&pk));
	snprintf(text, cap, "%s", t);
	memcpy(keynum, pk.keynum, MS_KEYNUMBYTES);
	free(t);
	ms_seckey_free(sk);
}

/* SITE.pub during a key rotation: the old key and the new one appended */
static void several_pubs(void **state)
{
	struct ms_pubkey pks[KEYFILE_MAX_PUBS];
	unsigned char k1[MS_KEYNUMBYTES], k2[MS_KEYNUMBYTES];
	char a[256], b[256], text[KEYFILE_MAX + 1];
	sd_error err = { "" };
	size_t n;

	(void)state;
	new_pub(a, sizeof(a), k1);
	new_pub(b, sizeof(b), k2);
	/* one key: as before */
	spew("one.pub", a, strlen(a));
	assert_int_equal(keyfile_pubs_load(path_of("one.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(pks[0].keynum, k1, MS_KEYNUMBYTES);
	/* `cat new.pub >> SITE.pub`: both, in order */
	snprintf(text, sizeof(text), "%s%s", a, b);
	spew("two.pub", text, strlen(text));
	assert_int_equal(keyfile_pubs_load(path_of("two.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(pks[0].keynum, k1, MS_KEYNUMBYTES);
	assert_memory_equal(pks[1].keynum, k2, MS_KEYNUMBYTES);
	/* bare key lines, a blank line, CRLF (an editor on another system) */
	snprintf(text, sizeof(text), "%.*s\r\n\n%s", (int)strcspn(strchr(a, '\n') + 1, "\n"), strchr(a, '\n') + 1,
		 strchr(b, '\n') + 1);
	spew("bare.pub", text, strlen(text));
	assert_int_equal(keyfile_pubs_load(path_of("bare.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_memory_equal(pks[1].keynum, k2, MS_KEYNUMBYTES);
	/* a damaged second key: the whole file refused, the line named */
	snprintf(text, sizeof(text), "%suntrusted comment: x\nnot base64!\n", a);
	spew("dmg.pub", text, strlen(text));
	says(keyfile_pubs_load(path_of("dmg.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), &err, "dmg.pub: line 4", "public key");
	/* more keys than the caller takes; none at all */
	snprintf(text, sizeof(text), "%s%s%s", a, b, a);
	spew("three.pub", text, strlen(text));
	says(keyfile_pubs_load(path_of("three.pub"), pks, 2, &n, &err), &err, "over 2 keys", NULL);
	spew("none.pub", "untrusted comment: nothing\n\n", 28);
	says(keyfile_pubs_load(path_of("none.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), &err, "no public key", NULL);
	/* never through a link */
	assert_int_equal(symlink(path_of("two.pub"), path_of("twolink.pub")), 0);
	assert_int_equal(keyfile_pubs_load(path_of("twolink.pub"), pks, KEYFILE_MAX_PUBS, &n, &err), -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(pub_keys),
		cmocka_unit_test(follow),
		cmocka_unit_test(kinds),
		cmocka_unit_test(wrong_kind),
		cmocka_unit_test(several_pubs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
