/* Unit tests: the mk-livestatus command dialect (src/livestatus/livestatus.c)
 * against a small fake naemon-livestatus on a unix socket, which answers a
 * refused COMMAND with a `400:` line that does not name the object (as
 * Naemon's) and answers GET hosts/services from the Filter lines: one
 * barrier per window, not per command; refusals paired with the commands
 * whose object the central lacks, in order; a refusal that no missing
 * object explains named for the window's range; a one-command window
 * named directly; no query when nothing was refused. */
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>
#include "livestatus/livestatus.h"

/* ---- the fake server: objects named "gone*" do not exist; a command
 * whose text has "refuse-me" is refused for another reason ---- */
struct fake {
	char path[108];
	int lfd;
	pthread_t th;
	int barriers, queries, commands, refusals;
	pthread_mutex_t mu;
};

static void out(int fd, const char *s)
{
	size_t n = strlen(s);
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

static void answer(int fd, const char *body)
{
	char hdr[32];

	snprintf(hdr, sizeof(hdr), "200 %11zu\n", strlen(body));
	out(fd, hdr);
	out(fd, body);
}

/* the JSON rows of a GET hosts/services from its Filter lines */
static void get_objects(struct fake *f, int fd, char *req)
{
	char body[8192] = "[", *l, *save = NULL, *host = NULL;
	int svc = !strncmp(req, "GET services", 12), first = 1;

	pthread_mutex_lock(&f->mu);
	f->queries++;
	pthread_mutex_unlock(&f->mu);
	for (l = strtok_r(req, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
		const char *name = NULL;
		if (!strncmp(l, "Filter: name = ", 15))
			name = l + 15;
		else if (!strncmp(l, "Filter: host_name = ", 20))
			host = l + 20;
		else if (!strncmp(l, "Filter: description = ", 22))
			name = l + 22;
		if (!name || !strncmp(name, "gone", 4) || (svc && !strncmp(host, "gone", 4)))
			continue;
		snprintf(body + strlen(body), sizeof(body) - strlen(body), "%s[\"%s\"%s%s%s]", first ? "" : ",",
			 svc ? host : name, svc ? ",\"" : "", svc ? name : "", svc ? "\"" : "");
		first = 0;
	}
	strcat(body, "]\n");
	answer(fd, body);
}

static void command(struct fake *f, int fd, const char *req)
{
	char line[256];
	const char *semi = strchr(req, ';');
	int refuse = strstr(req, "refuse-me") != NULL;

	/* an object argument named gone*: host, or the service's host or description */
	for (; semi && !refuse; semi = strchr(semi + 1, ';'))
		if (!strncmp(semi + 1, "gone", 4) && !strstr(req, "DEL_"))
			refuse = 1;
	pthread_mutex_lock(&f->mu);
	f->commands++;
	if (refuse)
		snprintf(line, sizeof(line), "400: Failed validation (refusal %d)\n", ++f->refusals);
	pthread_mutex_unlock(&f->mu);
	if (refuse)
		out(fd, line);
}

static void *serve(void *arg)
{
	struct fake *f = ((void **)arg)[0];
	int fd = (int)(intptr_t)((void **)arg)[1];
	char *buf = malloc(1 << 20), *end;
	size_t len = 0;
	ssize_t n;

	free(arg);
	while ((n = read(fd, buf + len, (1 << 20) - 1 - len)) > 0) {
		len += (size_t)n;
		buf[len] = 0;
		while ((end = strstr(buf, "\n\n"))) {
			*end = 0;
			if (!strncmp(buf, "COMMAND ", 8))
				command(f, fd, buf);
			else if (!strncmp(buf, "GET status", 10)) {
				pthread_mutex_lock(&f->mu);
				f->barriers++;
				pthread_mutex_unlock(&f->mu);
				answer(fd, "[[\"1.5.1.source-naemon\"]]\n");
			} else
				get_objects(f, fd, buf);
			len -= (size_t)(end + 2 - buf);
			memmove(buf, end + 2, len + 1);
		}
	}
	free(buf);
	close(fd);
	return NULL;
}

static void *acceptor(void *arg)
{
	struct fake *f = arg;
	int fd;

	while ((fd = accept(f->lfd, NULL, NULL)) >= 0) {
		void **a = malloc(2 * sizeof(void *));
		pthread_t t;
		a[0] = f;
		a[1] = (void *)(intptr_t)fd;
		pthread_create(&t, NULL, serve, a);
		pthread_detach(t);
	}
	return NULL;
}

static struct fake *fake_start(void)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct sockaddr_un sun = { .sun_family = AF_UNIX };

	snprintf(f->path, sizeof(f->path), "/tmp/test_ls_command.%d.%p", (int)getpid(), (void *)f);
	strcpy(sun.sun_path, f->path);
	unlink(f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	assert_int_equal(listen(f->lfd, 16), 0);
	pthread_mutex_init(&f->mu, NULL);
	pthread_create(&f->th, NULL, acceptor, f);
	return f;
}

static void fake_stop(struct fake *f)
{
	shutdown(f->lfd, SHUT_RDWR);
	close(f->lfd);
	pthread_join(f->th, NULL);
	unlink(f->path);
	free(f);
}

/* ---- the client side ---- */
struct reports {
	char what[16][512], why[16][256];
	int n;
};

static void report(void *ctx, const char *what, const char *why)
{
	struct reports *r = ctx;

	if (r->n < 16) {
		snprintf(r->what[r->n], sizeof(r->what[0]), "%s", what);
		snprintf(r->why[r->n], sizeof(r->why[0]), "%s", why);
	}
	r->n++;
}

/* send lines (then flush); returns the refusals the client counted */
static int run(struct fake *f, const char **lines, int n, struct reports *r)
{
	sd_error err = { 0 };
	struct ls_cmd *c = ls_command_open(f->path, LS_DIALECT_NAEMON, 5000, &err);
	int i, k, refused = 0;

	assert_non_null(c);
	for (i = 0; i < n; i++) {
		k = ls_command_send(c, lines[i], report, r, &err);
		assert_true(k >= 0);
		refused += k;
	}
	k = ls_command_flush(c, report, r, &err);
	assert_true(k >= 0);
	ls_command_close(c);
	return refused + k;
}

static void one_barrier_per_window(void **state)
{
	struct fake *f = fake_start();
	struct reports r = { 0 };
	const char *lines[130];
	int i;

	(void)state;
	for (i = 0; i < 130; i++)
		lines[i] = "[1700000000] PROCESS_SERVICE_CHECK_RESULT;web01;http;0;OK";
	assert_int_equal(run(f, lines, 130, &r), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(f->commands, 130);
	assert_int_equal(f->barriers, 3);       /* 64 + 64 + 2 */
	assert_int_equal(f->queries, 0);        /* nothing refused: nothing asked */
	fake_stop(f);
}

static void two_missing_named_in_order(void **state)
{
	struct fake *f = fake_start();
	struct reports r = { 0 };
	const char *lines[] = {
		"[1700000000] PROCESS_SERVICE_CHECK_RESULT;web01;http;0;OK",
		"[1700000000] PROCESS_SERVICE_CHECK_RESULT;db01;gone-backup;2;CRITICAL",
		"[1700000000] ACKNOWLEDGE_HOST_PROBLEM;web01;0;0;0;alice;ack",
		"[1700000000] ADD_HOST_COMMENT;gone-host;1;bob;text",
		"[1700000000] DEL_SVC_DOWNTIME;17",
		"[1700000000] PROCESS_HOST_CHECK_RESULT;db01;0;OK",
	};

	(void)state;
	assert_int_equal(run(f, lines, 6, &r), 2);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.what[0], lines[1]);
	assert_string_equal(r.why[0], "400: Failed validation (refusal 1)");
	assert_string_equal(r.what[1], lines[3]);
	assert_string_equal(r.why[1], "400: Failed validation (refusal 2)");
	assert_int_equal(f->barriers, 1);
	assert_int_equal(f->queries, 2);        /* one for the hosts, one for the services */
	fake_stop(f);
}

static void other_refusal_named_for_the_range(void **state)
{
	struct fake *f = fake_start();
	struct reports r = { 0 };
	const char *lines[] = {
		"[1700000000] PROCESS_HOST_CHECK_RESULT;web01;0;OK",
		"[1700000000] ADD_SVC_COMMENT;web01;http;1;alice;refuse-me",
		"[1700000000] PROCESS_SERVICE_CHECK_RESULT;db01;mysql;0;OK",
	};

	(void)state;
	assert_int_equal(run(f, lines, 3, &r), 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.what[0], "one of 3 commands, for host 'web01' to service 'db01;mysql'");
	assert_string_equal(r.why[0], "400: Failed validation (refusal 1)");
	fake_stop(f);
}

static void single_command_named(void **state)
{
	struct fake *f = fake_start();
	struct reports r = { 0 };
	const char *lines[] = { "[1700000000] ADD_SVC_COMMENT;web01;http;1;alice;refuse-me" };

	(void)state;
	assert_int_equal(run(f, lines, 1, &r), 1);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.what[0], lines[0]);
	assert_int_equal(f->queries, 0);
	fake_stop(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(one_barrier_per_window),
		cmocka_unit_test(two_missing_named_in_order),
		cmocka_unit_test(other_refusal_named_for_the_range),
		cmocka_unit_test(single_command_named),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
