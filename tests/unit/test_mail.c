/* Unit tests: the mail writer and strict reader (round trips, what relays
 * do to a message, hostile messages) and queue pruning. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <sodium.h>
#include "transports/mail.h"
#include "transports/queue.h"

static const struct mail_meta meta = {
	.from = "sitedump@remote.example.org", .to = "central@example.org", .site = "alpha", .kind = "state",
	.sequence = 1795000000123ULL, .filename = "alpha-1795000000123-state.tar.gz", .date = 1795000000,
};

static char *make_msg(const unsigned char *data, size_t n, size_t *len)
{
	sd_error err = { "" };
	char *buf = NULL;
	int fd = memfd_create("bundle", MFD_CLOEXEC);
	FILE *f = open_memstream(&buf, len);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, n), (ssize_t)n);
	lseek(fd, 0, SEEK_SET);
	if (mail_write(f, &meta, fd, &err) != 0)
		fail_msg("mail_write: %s", err.msg);
	fclose(f);
	close(fd);
	return buf;
}

/* The reader sees exactly len bytes (an exact-size copy: ASan sees over-reads). */
static int extract(const char *msg, size_t len, struct mail_bundle *b, sd_error *err)
{
	char *copy = malloc(len ? len : 1);
	int r;

	memcpy(copy, msg, len);
	r = mail_extract(copy, len, b, err);
	free(copy);
	return r;
}

static void expect_reject(const char *msg, size_t len, const char *why)
{
	struct mail_bundle b;
	sd_error err = { "" };

	if (extract(msg, len, &b, &err) == 0) {
		mail_bundle_free(&b);
		fail_msg("accepted a message that should fail with '%s'", why);
	}
	if (!strstr(err.msg, why))
		fail_msg("refused with '%s', expected '%s'", err.msg, why);
	assert_null(b.data);
}

static void expect_bundle(const char *msg, size_t len, const unsigned char *data, size_t n)
{
	struct mail_bundle b;
	sd_error err = { "" };

	if (extract(msg, len, &b, &err) != 0)
		fail_msg("refused: %s", err.msg);
	assert_int_equal(b.len, n);
	assert_memory_equal(b.data, data, n);
	assert_string_equal(b.filename, meta.filename);
	mail_bundle_free(&b);
}

/* s with the first `from` replaced by `to` (must occur). */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	if (!p)
		fail_msg("'%s' not in the message", from);
	assert_true(asprintf(&r, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from)) > 0);
	return r;
}

static char *boundary_of(const char *msg)
{
	const char *p = strstr(msg, "boundary=\"");
	const char *q = strchr(p + 10, '"');
	return strndup(p + 10, (size_t)(q - p - 10));
}

static void round_trip(void **state)
{
	static const size_t sizes[] = { 1, 2, 3, 56, 57, 58, 114, 1000, 57 * 64, 57 * 64 + 1, 300000 };
	size_t i, len;

	for (i = 0; i < sizeof(sizes) / sizeof(*sizes); i++) {
		unsigned char *data = malloc(sizes[i]);
		char *msg, *p;

		randombytes_buf(data, sizes[i]);
		msg = make_msg(data, sizes[i], &len);
		expect_bundle(msg, len, data, sizes[i]);
		assert_non_null(strstr(msg, "\nSubject: sitedump bundle: site alpha, state, sequence 1795000000123\n"));
		assert_non_null(strstr(msg, "Content-Disposition: attachment; filename=\"alpha-1795000000123-state.tar.gz\"\n"));
		assert_non_null(strstr(msg, "Content-Type: application/octet-stream; name=\"alpha-1795000000123-state.tar.gz\"\n"));
		assert_non_null(strstr(msg, "From: sitedump@remote.example.org\n"));
		/* base64 lines of 76 characters (the last may be shorter), every line short */
		for (p = strstr(strstr(msg, "application/octet-stream"), "\n\n") + 2; strncmp(p, "--=_", 4); p += 77)
			if (strcspn(p, "\n") != 76) {
				assert_true(strcspn(p, "\n") < 76);
				assert_int_equal(strncmp(strchr(p, '\n') + 1, "--=_", 4), 0);
				break;
			}
		for (p = msg; (p = strchr(p, '\n')) && p[1]; p++)
			assert_true(strcspn(p + 1, "\n") <= 100);
		free(msg);
		free(data);
	}
}

/* What MTAs and delivery agents do to a message on its way. */
static void relayed(void **state)
{
	unsigned char data[5000];
	size_t len, i, j;
	char *msg, *crlf, *more, *fold, *mbox;

	randombytes_buf(data, sizeof(data));
	msg = make_msg(data, sizeof(data), &len);
	/* CRLF line ends (SMTP, some Maildirs) */
	crlf = malloc(len * 2 + 1);
	for (i = j = 0; i < len; i++) {
		if (msg[i] == '\n')
			crlf[j++] = '\r';
		crlf[j++] = msg[i];
	}
	expect_bundle(crlf, j, data, sizeof(data));
	/* Received: headers, folded, and a Return-Path prepended; an mbox From_ line (pipes, procmail) */
	assert_true(asprintf(&more, "Return-Path: <root@remote>\nReceived: from remote (remote [10.0.0.1])\n"
			     "\tby central with esmtp (Exim 4.96)\n\t(envelope-from <root@remote>)\n\tid 1xUt\n%s", msg) > 0);
	expect_bundle(more, strlen(more), data, sizeof(data));
	assert_true(asprintf(&mbox, "From root@remote Sat Nov 21 22:14:49 2026\n%s", more) > 0);
	expect_bundle(mbox, strlen(mbox), data, sizeof(data));
	/* the Content-Type folded elsewhere and in other case, quoted parameters and trailing space */
	fold = subst(msg, "Content-Type: multipart/mixed;\n boundary=", "content-type: Multipart/Mixed\n\t;\n  BOUNDARY=");
	expect_bundle(fold, strlen(fold), data, sizeof(data));
	free(fold);
	fold = subst(msg, "Content-Transfer-Encoding: base64\n", "Content-Transfer-Encoding: BASE64 \n");
	expect_bundle(fold, strlen(fold), data, sizeof(data));
	free(fold);
	/* transport padding after a boundary line, no newline at the very end */
	{
		char *b = boundary_of(msg), *d1, *d2, *tail;
		assert_true(asprintf(&d1, "\n--%s\nContent-Type: application", b) > 0);
		assert_true(asprintf(&d2, "\n--%s \t\nContent-Type: application", b) > 0);
		tail = subst(msg, d1, d2);
		expect_bundle(tail, strlen(tail) - 1, data, sizeof(data));
		free(b);
		free(d1);
		free(d2);
		free(tail);
	}
	free(mbox);
	free(more);
	free(crlf);
	free(msg);
}

static void hostile(void **state)
{
	unsigned char data[3000];
	size_t len, i;
	char *msg, *m, *b, *big;

	randombytes_buf(data, sizeof(data));
	msg = make_msg(data, sizeof(data), &len);
	b = boundary_of(msg);

	expect_reject("", 0, "empty message");
	expect_reject("Subject: x\n\nhello\n", 18, "no Content-Type");
	expect_reject("Subject: x\nX-A: hello\n", 21, "no empty line");
	m = subst(msg, "multipart/mixed", "text/plain");
	expect_reject(m, strlen(m), "not a multipart/mixed");
	free(m);
	m = subst(msg, "multipart/mixed;\n boundary=", "multipart/mixed;\n foo=");
	expect_reject(m, strlen(m), "without a boundary");
	free(m);
	m = subst(msg, "boundary=\"", "boundary=\"<>");
	expect_reject(m, strlen(m), "bad boundary");
	free(m);
	m = subst(msg, "MIME-Version: 1.0\n", "Content-Type: text/plain\n");
	expect_reject(m, strlen(m), "two Content-Type headers");
	free(m);
	/* nested multipart */
	m = subst(msg, "Content-Type: text/plain; charset=us-ascii", "Content-Type: multipart/alternative; boundary=inner");
	expect_reject(m, strlen(m), "nested multipart");
	free(m);
	/* a forwarded message, an image */
	m = subst(msg, "Content-Type: text/plain; charset=us-ascii", "Content-Type: message/rfc822");
	expect_reject(m, strlen(m), "a part of type message/rfc822");
	free(m);
	/* two bundles */
	m = subst(msg, "Content-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n",
		  "Content-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n");
	expect_reject(m, strlen(m), "2 bundle attachments");
	free(m);
	/* no bundle: the attachment relabelled as text */
	m = subst(msg, "Content-Type: application/octet-stream", "Content-Type: text/plain");
	expect_reject(m, strlen(m), "no bundle attachment");
	free(m);
	m = subst(msg, "Content-Transfer-Encoding: base64", "Content-Transfer-Encoding: quoted-printable");
	expect_reject(m, strlen(m), "not base64");
	free(m);
	m = subst(msg, "Content-Transfer-Encoding: base64\n", "");
	expect_reject(m, strlen(m), "not base64");
	free(m);
	/* truncated anywhere: refused (only the final newline may go) */
	for (i = 0; i + 1 < len; i += (i < 1200 ? 1 : 37)) {
		struct mail_bundle bb;
		sd_error err;
		if (extract(msg, i, &bb, &err) == 0)
			fail_msg("a message cut at %zu of %zu bytes was accepted", i, len);
	}
	/* base64 garbage */
	{
		char *att = strstr(strstr(msg, "application/octet-stream"), "\n\n") + 2;
		size_t at;

		at = (size_t)(att - msg) + 10;
		m = strdup(msg);
		m[at] = '*';
		expect_reject(m, len, "outside the alphabet");
		m[at] = (char)0xc3;
		expect_reject(m, len, "outside the alphabet");
		m[at] = '=';
		expect_reject(m, len, "length or padding");
		m[at] = ' ';
		expect_reject(m, len, "outside the alphabet");
		memmove(m + at, m + at + 1, len - at - 1);     /* one character less */
		expect_reject(m, len - 1, "length or padding");
		free(m);
	}
	/* NUL bytes, control characters */
	m = strdup(msg);
	m[len / 2] = '\0';
	expect_reject(m, len, "NUL");
	free(m);
	m = subst(msg, "Subject: sitedump", "Subject: site\001dump");
	expect_reject(m, strlen(m), "control character");
	free(m);
	m = subst(msg, "Subject: sitedump", "Subject: site\rdump");
	expect_reject(m, strlen(m), "control character");
	free(m);
	/* huge headers: many lines, one long line, a long folded MIME header */
	big = malloc(400 << 10);
	for (i = 0; i < (400 << 10) - 200; i += 100) {
		memcpy(big + i, "X-Junk: ", 8);
		memset(big + i + 8, 'a', 91);
		big[i + 99] = '\n';
	}
	big[i] = '\0';
	assert_true(asprintf(&m, "%s%s", big, msg) > 0);
	expect_reject(m, strlen(m), "headers are larger than");
	free(m);
	memset(big, 'a', 2000);
	memcpy(big, "X-Long: ", 8);
	big[2000] = '\0';
	assert_true(asprintf(&m, "%s\n%s", big, msg) > 0);
	expect_reject(m, strlen(m), "longer than 998");
	free(m);
	{
		char *fold = malloc(3000), *p = fold;
		for (i = 0; i < 30; i++)
			p += sprintf(p, "\n x%02zu=\"%s\"", i, "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
		assert_true(asprintf(&m, "%.*s;%s%s", (int)(strstr(msg, "Content-Type: multipart/mixed;") - msg + 29), msg,
				     fold, strstr(msg, "Content-Type: multipart/mixed;") + 29) > 0);
		expect_reject(m, strlen(m), "MIME header is longer than");
		free(m);
		free(fold);
	}
	free(big);
	/* a continuation line first, a header without a colon */
	assert_true(asprintf(&m, " folded\n%s", msg) > 0);
	expect_reject(m, strlen(m), "continuation line");
	free(m);
	m = subst(msg, "MIME-Version: 1.0\n", "MIME-Version 1.0\n");
	expect_reject(m, strlen(m), "without a name and a colon");
	free(m);
	/* a content line that begins with the boundary */
	{
		char *d, *r;
		assert_true(asprintf(&d, "\n--%s\nContent-Type: text/plain", b) > 0);
		assert_true(asprintf(&r, "\n--%sX\n--%s\nContent-Type: text/plain", b, b) > 0);
		m = subst(msg, d, r);
		expect_reject(m, strlen(m), "begins with the boundary");
		free(m);
		free(d);
		free(r);
	}
	/* the boundary never appears; no closing line */
	m = subst(msg, "boundary=\"", "boundary=\"x");
	expect_reject(m, strlen(m), "never appears");
	free(m);
	{
		char *close;
		assert_true(asprintf(&close, "--%s--", b) > 0);
		m = subst(msg, close, "");
		expect_reject(m, strlen(m), "closing boundary line is missing");
		free(m);
		free(close);
	}
	/* too many parts */
	{
		char *parts = malloc(20 * 200), *p = parts, *d;
		for (i = 0; i < 20; i++)
			p += sprintf(p, "--%s\nContent-Type: text/plain\n\nhi\n", b);
		assert_true(asprintf(&d, "--%s\nContent-Type: text/plain", b) > 0);
		assert_true(asprintf(&m, "%.*s%s%s", (int)(strstr(msg, d) - msg), msg, parts, strstr(msg, d)) > 0);
		expect_reject(m, strlen(m), "more than 16 MIME parts");
		free(m);
		free(d);
		free(parts);
	}
	/* a part's headers without their empty line */
	{
		char *d, *r;
		assert_true(asprintf(&d, "--%s\nContent-Type: text/plain", b) > 0);
		assert_true(asprintf(&r, "--%s\nContent-Type: text/plain\n--%s\nContent-Type: text/plain", b, b) > 0);
		m = subst(msg, d, r);
		expect_reject(m, strlen(m), "without a name and a colon");
		free(m);
		free(d);
		free(r);
	}
	/* an unterminated quoted string, junk after a value */
	m = subst(msg, "filename=\"alpha-1795000000123-state.tar.gz\"", "filename=\"alpha\\\"");
	expect_reject(m, strlen(m), "unterminated quoted string");
	free(m);
	m = subst(msg, "multipart/mixed;", "multipart/mixed junk;");
	expect_reject(m, strlen(m), "junk after the value");
	free(m);
	free(b);
	free(msg);
}

static void addresses(void **state)
{
	struct mail_meta m = meta;
	sd_error err = { "" };
	char *buf = NULL;
	size_t len;
	FILE *f = open_memstream(&buf, &len);
	int fd = memfd_create("b", MFD_CLOEXEC);

	assert_true(mail_addr_ok("central@example.org"));
	assert_true(mail_addr_ok("Central Site <central@example.org>"));
	assert_false(mail_addr_ok(""));
	assert_false(mail_addr_ok(NULL));
	assert_false(mail_addr_ok("a@b\nBcc: victim@example.org"));
	assert_false(mail_addr_ok("a@b\r"));
	assert_false(mail_addr_ok("\xc3\xa4@b"));
	m.to = "a@b\nBcc: x@y";
	assert_int_equal(mail_write(f, &m, fd, &err), -1);
	assert_non_null(strstr(err.msg, "To:"));
	m = meta;
	m.from = "x\n";
	assert_int_equal(mail_write(f, &m, fd, &err), -1);
	fclose(f);
	free(buf);
	close(fd);
}

static char notes[4096];
static void note(void *ctx, const char *name, const char *why)
{
	size_t n = strlen(notes);
	snprintf(notes + n, sizeof(notes) - n, "%s: %s\n", name ? name : "-", why);
}

static char *listing(const char *dir)
{
	static char buf[4096];
	struct dirent **de;
	int n = scandir(dir, &de, NULL, alphasort), i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		if (de[i]->d_name[0] != '.') {
			strcat(buf, de[i]->d_name);
			strcat(buf, " ");
		}
		free(de[i]);
	}
	free(de);
	return buf;
}

static void prune(void **state)
{
	static const char *const files[] = {
		"a-1-config.tar.gz", "a-2-state.tar.gz", "a-3-state.tar.gz", "a-4-both.tar.gz",
		"a-5-state.tar.gz", "b-6-state.tar.gz", "b-7-state.tar.gz", "a-8-config.tar.gz",
		".a-9-state.tar.gz.XXXXXX", "notes.txt",
	};
	char dir[] = "/tmp/sdqueueXXXXXX", path[256];
	sd_error err = { "" };
	struct queue *q;
	size_t i;

	assert_non_null(mkdtemp(dir));
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		close(open(path, O_WRONLY | O_CREAT, 0600));
	}
	/* a writer's temp file two hours old goes, a fresh one stays */
	snprintf(path, sizeof(path), "%s/.a-10-state.tar.gz.AbC123", dir);
	close(open(path, O_WRONLY | O_CREAT, 0600));
	{
		struct timespec ts[2] = { { time(NULL) - 7200, 0 }, { time(NULL) - 7200, 0 } };
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
	assert_non_null(q = queue_open(dir, 0, &err));
	/* a second opener waits, then gives up */
	assert_null(queue_open(dir, 200, &err));
	assert_non_null(strstr(err.msg, "locked by another sitedump"));
	notes[0] = '\0';
	assert_int_equal(queue_prune(q, 100, note, NULL, &err), 0);
	assert_string_equal(listing(dir), "a-1-config.tar.gz a-4-both.tar.gz a-5-state.tar.gz a-8-config.tar.gz "
			    "b-7-state.tar.gz notes.txt ");
	snprintf(path, sizeof(path), "%s/.a-10-state.tar.gz.AbC123", dir);
	assert_int_equal(access(path, F_OK), -1);
	snprintf(path, sizeof(path), "%s/.a-9-state.tar.gz.XXXXXX", dir);
	assert_int_equal(access(path, F_OK), 0);
	assert_non_null(strstr(notes, "a-2-state.tar.gz: superseded by a-3-state.tar.gz\n"));
	assert_non_null(strstr(notes, "a-3-state.tar.gz: superseded by a-4-both.tar.gz\n"));
	assert_non_null(strstr(notes, "b-6-state.tar.gz: superseded by b-7-state.tar.gz\n"));
	/* over the bound: state first (oldest), then superseded configuration */
	notes[0] = '\0';
	assert_int_equal(queue_prune(q, 4, note, NULL, &err), 0);
	assert_string_equal(listing(dir), "a-1-config.tar.gz a-4-both.tar.gz a-8-config.tar.gz b-7-state.tar.gz notes.txt ");
	assert_int_equal(queue_prune(q, 2, note, NULL, &err), 0);
	/* a-1 is superseded by a-8 (config); a-4 (both) only once its state is newer somewhere: not */
	assert_string_equal(listing(dir), "a-4-both.tar.gz a-8-config.tar.gz notes.txt ");
	notes[0] = '\0';
	assert_int_equal(queue_prune(q, 1, note, NULL, &err), 0);
	assert_string_equal(listing(dir), "a-4-both.tar.gz a-8-config.tar.gz notes.txt ");
	assert_non_null(strstr(notes, "-: 2 bundles queued, over --queue-max 1"));
	queue_close(q);
	for (i = 0; i < sizeof(files) / sizeof(*files); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void flush(void **state)
{
	char dir[] = "/tmp/sdqueueXXXXXX", out[] = "/tmp/sdqoutXXXXXX", path[256], cmd[512];
	struct queue_transport t = { .via = QUEUE_VIA_COMMAND };
	sd_error err = { "" };
	struct queue *q;
	int sent, left, i;

	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	for (i = 1; i <= 3; i++) {
		snprintf(path, sizeof(path), "%s/a-%d-config.tar.gz", dir, i);
		{
			FILE *f = fopen(path, "w");
			fprintf(f, "bundle %d\n", i);
			fclose(f);
		}
	}
	/* the second one fails: the first is gone, the rest stays */
	snprintf(cmd, sizeof(cmd), "read l; [ \"$l\" = 'bundle 2' ] && exit 9; echo \"$l\" >> %s/got", out);
	t.command = cmd;
	assert_non_null(q = queue_open(dir, 0, &err));
	assert_int_equal(queue_flush(q, &t, NULL, NULL, NULL, &sent, &left, &err), -1);
	assert_int_equal(sent, 1);
	assert_int_equal(left, 2);
	assert_non_null(strstr(err.msg, "a-2-config.tar.gz not sent: --send-command"));
	assert_non_null(strstr(err.msg, "exited with status 9"));
	assert_string_equal(listing(dir), "a-2-config.tar.gz a-3-config.tar.gz ");
	/* a directory as the transport */
	t.via = QUEUE_VIA_DIR;
	t.dir = out;
	assert_int_equal(queue_flush(q, &t, NULL, NULL, NULL, &sent, &left, &err), 0);
	assert_int_equal(sent, 2);
	assert_int_equal(left, 0);
	assert_string_equal(listing(dir), "");
	assert_string_equal(listing(out), "a-2-config.tar.gz a-3-config.tar.gz got ");
	queue_close(q);
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, out);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(relayed),
		cmocka_unit_test(hostile),
		cmocka_unit_test(addresses),
		cmocka_unit_test(prune),
		cmocka_unit_test(flush),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
