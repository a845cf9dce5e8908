/* test_child.c - running a shell command (src/base/child.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "base/child.h"
#include "base/deadline.h"

static struct child_result run(const char *cmd, const struct child_opts *o, sd_error *err)
{
	struct child_result r;

	assert_int_equal(child_run(cmd, o, &r, err), 0);
	return r;
}

/* exit status and signal come back apart, each with its message */
static void exits_and_signals(void **state)
{
	struct child_opts o = { .own_group = 1, .timeout_ms = 10000 };
	struct child_result r;
	sd_error err;

	(void)state;
	r = run("exit 0", &o, &err);
	assert_int_equal(r.end, CHILD_EXITED);
	assert_int_equal(r.code, 0);
	r = run("exit 3", &o, &err);
	assert_int_equal(r.end, CHILD_EXITED);
	assert_int_equal(r.code, 3);
	assert_string_equal(err.msg, "exited with status 3: exit 3");
	r = run("no-such-command-here 2>/dev/null", &o, &err);
	assert_int_equal(r.code, 127);
	r = run("kill -TERM $$", &o, &err);
	assert_int_equal(r.end, CHILD_SIGNALED);
	assert_int_equal(r.code, SIGTERM);
	o.timeout_ms = 0;       /* no limit: a plain wait */
	r = run("exit 5", &o, &err);
	assert_int_equal(r.code, 5);
}

static int alive(int pid)
{
	char path[64], st = 'X';
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!(f = fopen(path, "r")))
		return 0;
	if (fscanf(f, "%*d (%*[^)]) %c", &st) != 1)
		st = 'X';
	fclose(f);
	return st != 'Z' && st != 'X';
}

/* the timeout stops the whole group, a grandchild too: the run ends at the
 * timeout, not when the last sleep would, and the pipe then closes */
static void timeout_kills_group(void **state)
{
	char buf[64];
	struct child_opts o = { .own_group = 1, .timeout_ms = 300, .buf = buf, .cap = sizeof(buf) };
	struct child_result r;
	sd_error err;
	long long t0 = sd_clock_ms();

	(void)state;
	r = run("sleep 100 & echo $! >&2; sleep 100", &o, &err);
	assert_int_equal(r.end, CHILD_TIMED_OUT);
	assert_true(sd_clock_ms() - t0 < 5000);
	assert_non_null(strstr(err.msg, "timed out"));
	/* the grandchild is dead: gone, or a zombie until init reaps it */
	usleep(100000);
	assert_false(alive(atoi(buf)));
	/* SIGTERM first; a command that ignores it gets SIGKILL after the grace */
	o.grace_ms = 200;
	t0 = sd_clock_ms();
	r = run("trap '' TERM; sleep 100", &o, &err);
	assert_int_equal(r.end, CHILD_TIMED_OUT);
	assert_true(sd_clock_ms() - t0 < 5000);
}

static void count(void *ctx, const char *p, size_t n)
{
	(void)p;
	*(size_t *)ctx += n;
}

/* stdout and stderr both captured; the buffer keeps its first cap-1 bytes
 * and says how many there were; out sees every byte */
static void capture_limits(void **state)
{
	char buf[8];
	size_t seen = 0;
	struct child_opts o = { .own_group = 1, .timeout_ms = 10000, .buf = buf, .cap = sizeof(buf),
				.out = count, .ctx = &seen };
	struct child_result r;
	sd_error err;

	(void)state;
	r = run("printf ab; printf cd >&2", &o, &err);
	assert_string_equal(buf, "abcd");
	assert_int_equal(r.len, 4);
	r = run("head -c 100000 /dev/zero | tr '\\0' x; echo tail >&2", &o, &err);
	assert_int_equal(r.end, CHILD_EXITED);
	assert_string_equal(buf, "xxxxxxx");
	assert_int_equal(r.len, 7);
	assert_int_equal(r.total, 100005);
	assert_int_equal(seen, 4 + 100005);
	o.cap = 0;
	r = run("echo hi", &o, &err);
	assert_int_equal(r.len, 0);
	assert_int_equal(r.total, 3);
}

/* stdin: /dev/null, or a given fd */
static void stdin_given(void **state)
{
	char buf[32];
	struct child_opts o = { .in = CHILD_STDIN_NULL, .timeout_ms = 10000, .buf = buf, .cap = sizeof(buf) };
	FILE *f = tmpfile();
	sd_error err;

	(void)state;
	run("wc -c", &o, &err);
	assert_int_equal(atoi(buf), 0);
	fputs("hello\n", f);
	fflush(f);
	rewind(f);
	o.in = fileno(f);
	run("cat", &o, &err);
	assert_string_equal(buf, "hello\n");
	fclose(f);
}

/* a command that closes its output but runs on is still bounded by the timeout */
static void closes_output_runs_on(void **state)
{
	char buf[32];
	struct child_opts o = { .own_group = 1, .timeout_ms = 300, .buf = buf, .cap = sizeof(buf) };
	struct child_result r;
	sd_error err;

	(void)state;
	r = run("echo bye; exec >/dev/null 2>&1; sleep 100", &o, &err);
	assert_int_equal(r.end, CHILD_TIMED_OUT);
	assert_string_equal(buf, "bye\n");
	/* and one whose shell ends while a background job keeps the pipe:
	 * the run lasts until that closes it */
	o.timeout_ms = 10000;
	r = run("(sleep 0.3; echo late) & echo early", &o, &err);
	assert_int_equal(r.end, CHILD_EXITED);
	assert_string_equal(buf, "early\nlate\n");
}

static void deadline(void **state)
{
	struct sd_deadline d;

	(void)state;
	sd_deadline_start(&d, 50);
	assert_false(sd_deadline_over(&d));
	assert_true(sd_deadline_left(&d) <= 50);
	usleep(80000);
	assert_true(sd_deadline_over(&d));
	assert_int_equal(sd_deadline_left(&d), 0);
	assert_true(sd_deadline_elapsed(&d) >= 80);
	sd_deadline_start(&d, -1);
	assert_false(sd_deadline_over(&d));
	assert_int_equal(sd_deadline_left(&d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(exits_and_signals),
		cmocka_unit_test(timeout_kills_group),
		cmocka_unit_test(capture_limits),
		cmocka_unit_test(stdin_given),
		cmocka_unit_test(closes_output_runs_on),
		cmocka_unit_test(deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
