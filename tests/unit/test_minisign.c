/* Unit tests: minisign key and signature formats (round trip, hostile input). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "formats/minisign.h"

/* Made by Debian's minisign 0.11: `minisign -G -W`, `echo hello > f`,
 * `minisign -S -s t.key -m f -t "site:x seq:1"`. */
static const char *mpub = "untrusted comment: minisign public key F3B8E69F4652DBC9\n"
	"RWTJ21JGn+a483cABuH3R2nUXFx600NdOo61nokNEx/ZziCpqIuF2tlB\n";
static const char *msig = "untrusted comment: signature from minisign secret key\n"
	"RUTJ21JGn+a488QsJyrW42Wur09ulL+xw7NOGoNl7lmaK4XIzBwGbo/QNbSABPfJ8yvZpBr+jvMU0+XrpvKf1vK05alHdq9JSAY=\n"
	"trusted comment: site:x seq:1\n"
	"CRXuXAnocFQF+UgxC+WK2zuV5TFtJnX4dMoCcvr+HqqxZw4FX80FbTwz7Pw7jNFA3xKA/zYkgaKV1p5sbI8LCA==\n";

static void verifies_real_minisign(void **state)
{
	struct ms_pubkey pk;
	sd_error err = { "" };
	char tc[256];
	char id[17];

	assert_int_equal(ms_pubkey_parse(mpub, strlen(mpub), &pk, &err), 0);
	ms_keyid_hex(pk.keynum, id);
	assert_string_equal(id, "F3B8E69F4652DBC9");
	assert_int_equal(ms_verify(&pk, "hello\n", 6, msig, strlen(msig), tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, "site:x seq:1");
	assert_int_equal(ms_verify(&pk, "hellO\n", 6, msig, strlen(msig), tc, sizeof(tc), &err), -1);
	assert_non_null(strstr(err.msg, "verification failed"));
}

static void round_trip(void **state)
{
	struct ms_pubkey pk, pk2, pk3;
	sd_error err = { "" };
	struct ms_seckey *sk = ms_keygen(&pk, &err), *sk2;
	char *pub, *sec, *sig, tc[256];

	assert_non_null(sk);
	pub = ms_pubkey_format(&pk);
	sec = ms_seckey_format(sk);
	assert_int_equal(ms_pubkey_parse(pub, strlen(pub), &pk2, &err), 0);
	assert_memory_equal(&pk, &pk2, sizeof(pk));
	sk2 = ms_seckey_parse(sec, strlen(sec), &err);
	assert_non_null(sk2);
	ms_seckey_public(sk2, &pk3);
	assert_memory_equal(&pk, &pk3, sizeof(pk));
	sig = ms_sign(sk2, "manifest", 8, "site:a seq:3", &err);
	assert_non_null(sig);
	assert_int_equal(ms_verify(&pk, "manifest", 8, sig, strlen(sig), tc, sizeof(tc), &err), 0);
	assert_string_equal(tc, "site:a seq:3");
	assert_null(ms_sign(sk2, "m", 1, "two\nlines", &err));
	free(pub);
	free(sig);
	ms_secret_text_free(sec);
	ms_seckey_free(sk);
	ms_seckey_free(sk2);
	ms_seckey_free(NULL);
}

static void tampered_trusted_comment(void **state)
{
	struct ms_pubkey pk;
	sd_error err = { "" };
	char tc[256], *bad = strdup(msig), *p = strstr(bad, "seq:1");

	p[4] = '2';
	ms_pubkey_parse(mpub, strlen(mpub), &pk, &err);
	assert_int_equal(ms_verify(&pk, "hello\n", 6, bad, strlen(bad), tc, sizeof(tc), &err), -1);
	assert_non_null(strstr(err.msg, "trusted comment signature"));
	free(bad);
}

static void hostile(void **state)
{
	static const char *const bad_sigs[] = {
		"", "untrusted comment: x\n", "untrusted comment: x\n!!!!\n",
		"untrusted comment: x\nRUTJ21JGn+a488QsJyrW42Wur09ulL+xw7NOGoNl7lmaK4XIzBwGbo/QNbSABPfJ8yvZpBr+jvMU0+XrpvKf1vK05alHdq9JSAY=\n",
		"untrusted comment: x\nRUTJ21JGn+a488QsJyrW42Wur09ulL+xw7NOGoNl7lmaK4XIzBwGbo/QNbSABPfJ8yvZpBr+jvMU0+XrpvKf1vK05alHdq9JSAY=\nnot trusted\nAAAA\n",
		"garbage\n\n\n\n",
	};
	static const char *const bad_keys[] = { "", "\n", "untrusted comment: x\n", "untrusted comment: x\nAAAA\n",
						"untrusted comment: x\nRWTJ21JGn+a483cABuH3R2nUXFx600NdOo61nokNEx/ZziCpqIuF2tl\n" };
	struct ms_pubkey pk;
	sd_error err = { "" };
	char tc[256];
	size_t i;

	ms_pubkey_parse(mpub, strlen(mpub), &pk, &err);
	for (i = 0; i < sizeof(bad_sigs) / sizeof(bad_sigs[0]); i++) {
		err.msg[0] = '\0';
		assert_int_equal(ms_verify(&pk, "hello\n", 6, bad_sigs[i], strlen(bad_sigs[i]), tc, sizeof(tc), &err), -1);
		assert_true(err.msg[0] != '\0');
	}
	for (i = 0; i < sizeof(bad_keys) / sizeof(bad_keys[0]); i++)
		assert_int_equal(ms_pubkey_parse(bad_keys[i], strlen(bad_keys[i]), &pk, &err), -1);
	/* every truncation of a valid signature is rejected */
	for (i = 0; i < strlen(msig) - 1; i++)
		assert_int_equal(ms_verify(&pk, "hello\n", 6, msig, i, tc, sizeof(tc), &err), -1);
	assert_null(ms_seckey_parse("untrusted comment: x\nAAAA\n", 26, &err));
}

static void encrypted_key_refused(void **state)
{
	/* an encrypted minisign key: kdf "Sc" */
	const char *k = "untrusted comment: minisign encrypted secret key\n"
		"RWRTY0IyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAydtSRp/muPP+CFnA6Nu03X+vyREv4T/3gfNh7mmGuqWVRJxSzqpoencABuH3R2nUXFx600NdOo61nokNEx/ZziCpqIuF2tlBAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
	sd_error err = { "" };

	assert_null(ms_seckey_parse(k, strlen(k), &err));
	assert_non_null(strstr(err.msg, "encrypted"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(verifies_real_minisign),
		cmocka_unit_test(round_trip),
		cmocka_unit_test(tampered_trusted_comment),
		cmocka_unit_test(hostile),
		cmocka_unit_test(encrypted_key_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
