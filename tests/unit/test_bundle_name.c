/* test_bundle_name.c - the bundle file name codec (src/bundle/bundle_name.c):
 * what the spool and the queue take, hostile names, and format/parse
 * agreeing. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "bundle/bundle_name.h"

static void parses(const char *name, const char *site, unsigned long long seq, const char *kind, const char *ext)
{
	struct bundle_name bn;

	if (bundle_name_parse(name, &bn) < 0)
		fail_msg("refused: %s", name);
	assert_string_equal(bn.site, site);
	assert_true(bn.seq == seq);
	assert_string_equal(bn.kind, kind);
	assert_string_equal(bn.ext, ext);
}

static void refused(const char *name)
{
	struct bundle_name bn;

	if (bundle_name_parse(name, &bn) == 0)
		fail_msg("taken: '%s'", name);
}

static void good_names(void **state)
{
	(void)state;
	parses("alpha-1795000000123-state.tar.gz", "alpha", 1795000000123ULL, "state", "tar.gz");
	parses("my-site-2-17-config.tar.zst", "my-site-2", 17, "config", "tar.zst");
	parses("s.x-1-both.tar", "s.x", 1, "both", "tar");
	parses("a-18446744073709551615-state.tar", "a", 18446744073709551615ULL, "state", "tar");
	/* both old parsers took leading zeros; sitedump never writes them */
	parses("a-007-state.tar", "a", 7, "state", "tar");
	parses("A_b.c-1-state.tar.gz", "A_b.c", 1, "state", "tar.gz");
	/* a site of 64 characters, the most seq_site_ok takes */
	parses("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1-state.tar",
	       "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1, "state", "tar");
	/* a site ending in '-' or made of digits and dashes: KIND and SEQ come from the right */
	parses("a--1-state.tar", "a-", 1, "state", "tar");
	parses("1-2-3-state.tar", "1-2", 3, "state", "tar");
}

static void hostile_names(void **state)
{
	static const char *const bad[] = {
		"", ".", "..", ".tar", ".tar.gz", "state.tar.gz", "1-state.tar.gz", "-1-state.tar.gz",
		/* temp and hidden names: out_open's .NAME.XXXXXX and dot files */
		".alpha-1-state.tar.gz", ".alpha-1-state.tar.gz.Ab12Cd", "alpha-1-state.tar.gz.tmp",
		/* extensions */
		"alpha-1-state.tar.bz2", "alpha-1-state.tgz", "alpha-1-state.TAR", "alpha-1-state.tar.",
		"alpha-1-state.tar.gz.tar.gz.", "alpha-1-state", "alpha-1-state.", "alpha-1-statetar",
		"alpha-1-state.zst", "alpha-1-state.gz",
		/* kinds */
		"alpha-1-other.tar.gz", "alpha-1-State.tar", "alpha-1-states.tar", "alpha-1-stat.tar",
		"alpha-1-.tar", "alpha-1-state-.tar", "alpha-1-config.tar.tar",
		/* sequences: none, zero, signs, spaces, hex, over 20 digits, overflow */
		"alpha--state.tar.gz", "alpha-0-state.tar", "alpha-00-state.tar", "alpha-+1-state.tar",
		"alpha- 1-state.tar", "alpha-1 -state.tar", "alpha-0x1-state.tar",
		"alpha-1a-state.tar", "alpha-1.5-state.tar", "alpha-99999999999999999999999-state.tar.gz",
		"alpha-18446744073709551616-state.tar", "alpha-000000000000000000001-state.tar",
		"alpha1-state.tar",
		/* sites: outside [A-Za-z0-9._-], leading dot, over 64 */
		"../x-1-state.tar", "a/b-1-state.tar", "/etc-1-state.tar", "a b-1-state.tar",
		"a\n-1-state.tar", "a\t-1-state.tar", "a\\b-1-state.tar", "a;b-1-state.tar", "a$b-1-state.tar",
		"\xc3\xa4-1-state.tar", "a\xff-1-state.tar", "..-1-state.tar", ".a-1-state.tar",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa-1-state.tar",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		refused(bad[i]);
}

/* a name far longer than any buffer: refused, nothing overrun (ASan) */
static void long_names(void **state)
{
	char name[5000];

	(void)state;
	memset(name, 'a', sizeof(name));
	memcpy(name + sizeof(name) - 20, "-1-state.tar.gz", 16);
	refused(name);
	memset(name, '1', sizeof(name));
	name[0] = 'a';
	name[1] = '-';
	memcpy(name + sizeof(name) - 14, "-state.tar.gz", 14);
	refused(name);
}

static void format_names(void **state)
{
	char buf[BUNDLE_NAME_MAX], small[16];
	struct bundle_name bn;

	(void)state;
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "my-site", 1795000000123ULL, "both", "tar.zst"), 0);
	assert_string_equal(buf, "my-site-1795000000123-both.tar.zst");
	assert_int_equal(bundle_name_parse(buf, &bn), 0);
	assert_string_equal(bn.site, "my-site");
	assert_int_equal(bundle_name_format(buf, sizeof(buf),
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 18446744073709551615ULL, "config",
		"tar.zst"), 0);
	assert_int_equal(bundle_name_parse(buf, &bn), 0);
	/* what the parser refuses is never written */
	assert_int_equal(bundle_name_format(buf, sizeof(buf), ".hidden", 1, "state", "tar"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "a/b", 1, "state", "tar"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "", 1, "state", "tar"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "a", 0, "state", "tar"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "a", 1, "other", "tar"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "a", 1, "state", "tar.bz2"), -1);
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "a", 1, "state", ".tar"), -1);
	/* too short a buffer: -1, never a cut name */
	assert_int_equal(bundle_name_format(small, sizeof(small), "alpha", 17950000, "state", "tar"), -1);
	assert_string_equal(bundle_name_ext(BUNDLE_GZIP, 0), "tar.gz");
	assert_string_equal(bundle_name_ext(BUNDLE_ZSTD, 0), "tar.zst");
	assert_string_equal(bundle_name_ext(BUNDLE_NONE, 0), "tar");
	assert_string_equal(bundle_name_ext(BUNDLE_GZIP, 1), "tar.gz.sealed");
	assert_string_equal(bundle_name_ext(BUNDLE_ZSTD, 1), "tar.zst.sealed");
	assert_string_equal(bundle_name_ext(BUNDLE_NONE, 1), "tar.sealed");
	/* an encrypted bundle's name: formatted and parsed back */
	assert_int_equal(bundle_name_format(buf, sizeof(buf), "r1", 42, "state", "tar.gz.sealed"), 0);
	assert_string_equal(buf, "r1-42-state.tar.gz.sealed");
	assert_int_equal(bundle_name_parse(buf, &bn), 0);
	assert_string_equal(bn.ext, "tar.gz.sealed");
	assert_int_equal(bn.seq, 42);
	assert_int_equal(bundle_name_parse("r1-42-state.sealed", &bn), -1);
	assert_int_equal(bundle_name_parse("r1-42-state.tar.gz.sealed.tmp", &bn), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(good_names),
		cmocka_unit_test(hostile_names),
		cmocka_unit_test(long_names),
		cmocka_unit_test(format_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
