/* test_seen.c - the set of records already met (src/seen.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "base/seen.h"

/* every record new once, then met; growth keeps what was added; the empty
 * record and records that differ only after a NUL are told apart */
static void add_and_meet(void **state)
{
	struct seen *s = seen_new();
	char k[32];
	int i;

	(void)state;
	assert_non_null(s);
	for (i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "H host%d", i);
		assert_int_equal(seen_add(s, k, strlen(k)), 1);
	}
	for (i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "H host%d", i);
		assert_int_equal(seen_add(s, k, strlen(k)), 0);
	}
	assert_int_equal(seen_add(s, "", 0), 1);
	assert_int_equal(seen_add(s, "", 0), 0);
	assert_int_equal(seen_add(s, "S h\0a", 5), 1);
	assert_int_equal(seen_add(s, "S h\0b", 5), 1);
	assert_int_equal(seen_add(s, "S h\0a", 5), 0);
	seen_free(s);
	seen_free(NULL);
}

/* two sets have different keys, so each stands alone */
static void sets_alone(void **state)
{
	struct seen *a = seen_new(), *b = seen_new();

	(void)state;
	assert_int_equal(seen_add(a, "x", 1), 1);
	assert_int_equal(seen_add(b, "x", 1), 1);
	assert_int_equal(seen_add(a, "x", 1), 0);
	seen_free(a);
	seen_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(add_and_meet),
		cmocka_unit_test(sets_alone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
