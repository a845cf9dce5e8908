/* test_sitestate.c - siteload's per-site files and string sets
 * (src/import/sitestate.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include "import/sitestate.h"

static char dir[64];

static int dir_make(void **state)
{
	(void)state;
	umask(077);
	snprintf(dir, sizeof(dir), "/tmp/test_sitestate.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int dir_remove(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *path_of(const char *name)
{
	char *p = sitestate_path(dir, name, "");

	assert_non_null(p);
	return p;
}

static void file_put(const char *name, const char *text)
{
	char *p = path_of(name);
	FILE *f = fopen(p, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	free(p);
}

static mode_t mode_of(const char *p)
{
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

/* sorted and unique after lines_sort; lookups only find what is there */
static void set_sort_find(void **state)
{
	struct lines l = { 0 };
	const char *in[] = { "b", "a", "c", "a", "b", "" };
	size_t i;

	(void)state;
	assert_int_equal(lines_find(&l, "a"), -1);
	assert_false(lines_has(&l, "a"));
	for (i = 0; i < sizeof(in) / sizeof(*in); i++)
		assert_int_equal(lines_add(&l, in[i]), 0);
	lines_sort(&l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0], "");
	assert_string_equal(l.v[1], "a");
	assert_string_equal(l.v[3], "c");
	assert_int_equal(lines_find(&l, "c"), 3);
	assert_int_equal(lines_find(&l, "d"), -1);
	assert_true(lines_has(&l, "b"));
	assert_false(lines_has(&l, "bb"));
	lines_free(&l);
	assert_int_equal(l.n, 0);
	lines_free(NULL);
}

/* a missing file is the empty set; a set written reads back the same
 * (one a line, empty lines dropped), and the file is replaced whole */
static void set_files(void **state)
{
	struct lines l = { 0 }, back;
	char *p = path_of("s.hosts"), buf[64];
	sd_error e;
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(lines_read(p, &back, &e), 0);
	assert_int_equal(back.n, 0);
	assert_int_equal(lines_add(&l, "h2"), 0);
	assert_int_equal(lines_add(&l, "h1"), 0);
	lines_sort(&l);
	assert_int_equal(lines_write(p, &l, &e), 0);
	f = fopen(p, "r");
	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	assert_string_equal(buf, "h1\nh2\n");
	assert_int_equal(mode_of(p), 0600);
	file_put("s.hosts", "z\n\nx\nx");
	assert_int_equal(lines_read(p, &back, &e), 0);
	assert_int_equal(back.n, 2);
	assert_string_equal(back.v[0], "x");
	assert_string_equal(back.v[1], "z");
	lines_free(&back);
	lines_free(&l);
	assert_int_equal(lines_write(p, &l, &e), 0);         /* empty set: empty file */
	assert_int_equal(lines_read(p, &back, &e), 0);
	assert_int_equal(back.n, 0);
	free(p);
}

/* the mode given, else the umask's; "same" only for exactly the text */
static void write_same(void **state)
{
	char *p = path_of("t.conf");
	sd_error e;

	(void)state;
	assert_false(sitestate_same(p, "", 0));
	assert_int_equal(sitestate_write(p, "abc", 3, 0644, &e), 0);
	assert_int_equal(mode_of(p), 0644);
	assert_true(sitestate_same(p, "abc", 3));
	assert_false(sitestate_same(p, "ab", 2));
	assert_false(sitestate_same(p, "abcd", 4));
	assert_false(sitestate_same(p, "abd", 3));
	assert_int_equal(sitestate_write(p, "", 0, 0, &e), 0);
	assert_int_equal(mode_of(p), 0600);
	assert_true(sitestate_same(p, "", 0));
	free(p);
}

/* SITE.imported: zero when missing, read back as written (readable by the
 * core), a damaged one refused with its path */
static void imported(void **state)
{
	struct imported im = { 7, 8, 9, "" }, back;
	char *p = path_of("s1.imported");
	sd_error e;

	(void)state;
	assert_int_equal(sitestate_imported_read(dir, "s1", &back, &e), 0);
	assert_true(back.seq == 0 && back.created == 0 && back.at == 0);
	assert_int_equal(sitestate_imported_write(dir, "s1", &im, &e), 0);
	assert_int_equal(mode_of(p), 0644);
	assert_int_equal(sitestate_imported_read(dir, "s1", &back, &e), 0);
	assert_true(back.seq == 7 && back.created == 8 && back.at == 9);
	assert_string_equal(back.keyid, "");
	/* the key that verified it, when there is one; a record written before
	 * key ids were (three fields) reads with none */
	snprintf(im.keyid, sizeof(im.keyid), "0123456789ABCDEF");
	assert_int_equal(sitestate_imported_write(dir, "s1", &im, &e), 0);
	assert_int_equal(sitestate_imported_read(dir, "s1", &back, &e), 0);
	assert_true(back.seq == 7 && back.at == 9);
	assert_string_equal(back.keyid, "0123456789ABCDEF");
	file_put("s1.imported", "7 8 9\n");
	assert_int_equal(sitestate_imported_read(dir, "s1", &back, &e), 0);
	assert_string_equal(back.keyid, "");
	file_put("s1.imported", "7 8\n");
	assert_int_equal(sitestate_imported_read(dir, "s1", &back, &e), -1);
	assert_non_null(strstr(e.msg, "damaged"));
	assert_non_null(strstr(e.msg, p));
	free(p);
}

/* SITE.error: "EPOCH REASON", one line whatever the reason holds, 0644;
 * cleared (and clearing what is gone is fine) */
static void error_file(void **state)
{
	char *p = path_of("s1.error"), buf[256];
	FILE *f;
	sd_error e;

	(void)state;
	assert_int_equal(sitestate_error_write(dir, "s1", 1700000000, "refused:\nnot\rnewer", &e), 0);
	assert_int_equal(mode_of(p), 0644);
	assert_non_null(f = fopen(p, "r"));
	assert_non_null(fgets(buf, sizeof(buf), f));
	assert_null(fgets(buf + strlen(buf), (int)(sizeof(buf) - strlen(buf)), f));
	fclose(f);
	assert_string_equal(buf, "1700000000 refused: not newer\n");
	assert_int_equal(sitestate_error_clear(dir, "s1", &e), 0);
	assert_int_equal(access(p, F_OK), -1);
	assert_int_equal(sitestate_error_clear(dir, "s1", &e), 0);
	free(p);
}

/* other sites' sets: every SITE.hosts but the site's own (and no hidden
 * file, no other extension), merged, sorted, unique */
static void others(void **state)
{
	struct lines l;
	sd_error e;

	(void)state;
	file_put("a.hosts", "a1\n");
	file_put("b.hosts", "b2\nshared\n");
	file_put("c.hosts", "shared\nc1\n");
	file_put("ab.hosts", "ab1\n");
	file_put(".x.hosts", "hidden\n");
	file_put("d.ledger", "ledger\n");
	assert_int_equal(sitestate_others_read(dir, "a", ".hosts", &l, &e), 0);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.v[0], "ab1");
	assert_string_equal(l.v[1], "b2");
	assert_string_equal(l.v[2], "c1");
	assert_string_equal(l.v[3], "shared");
	lines_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(set_sort_find),
		cmocka_unit_test_setup_teardown(set_files, dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(write_same, dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(imported, dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(others, dir_make, dir_remove),
		cmocka_unit_test_setup_teardown(error_file, dir_make, dir_remove),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
