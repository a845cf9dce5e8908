/*
 * lscmdfloor - the import benchmark's floors (scripts/bench-import): the bare
 * delivery of what siteload sends, with nothing read from the central and
 * nothing reconciled. Plain C, no project code.
 *
 *   lscmdfloor ls SOCKET CMDFILE
 *       every line of CMDFILE as `COMMAND <line>\nResponseHeader: fixed16\n\n`
 *       over one connection, pipelined in windows of 64 as siteload does
 *       (src/livestatus/livestatus.c ls_command_send/flush): write the window, then read
 *       its 64 replies (16-byte header, body drained). Exit 1 when a reply
 *       is not 200 (counted on stderr).
 *   lscmdfloor mk SOCKET CMDFILE
 *       the mk-livestatus dialect (naemon-livestatus, Checkmk): every line as a
 *       bare `COMMAND <line>\n\n` (these servers answer a command with nothing,
 *       or a `400: why` line), in windows of 64, each window ended by ONE
 *       `GET status` barrier (fixed16) whose answer comes after whatever the
 *       window's commands caused: the least a client can do and still know
 *       the core processed them (siteload sends the same; it asks the central
 *       more only when a window got a 400). The lines are sent as they are (the
 *       bench writes them with siteload's escaping). Exit 1 when a `400:`
 *       line came (counted on stderr).
 *   lscmdfloor spool DIR RECORDS [FIFO CMDFILE]
 *       RECORDS (checkresult records, each ending with an empty line) into one
 *       file DIR/cXXXXXX under a file header, then its .ok marker (no fsync,
 *       no temp name: a floor). When CMDFILE has lines, wait as siteload does
 *       until the core has deleted the file (polled every 0.1 s), then write
 *       every line of CMDFILE to the command FIFO, one write each.
 *   lscmdfloor reload PID ls:SOCKET|status:STATUSFILE HOST
 *       SIGHUP to PID, then every 0.25 s (as siteload) until the core knows
 *       HOST: a Livestatus `GET hosts` for it, or `host_name=HOST` in a
 *       status.dat written after the signal.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define WINDOW 64
#define SUFFIX "\nResponseHeader: fixed16\n\n"
#define BARRIER "GET status\nColumns: livestatus_version\nKeepAlive: on\nResponseHeader: fixed16\n\n"

static void die(const char *what)
{
	fprintf(stderr, "lscmdfloor: %s: %s\n", what, strerror(errno));
	exit(2);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t cap = 0, n = 0, r;

	if (!f)
		return NULL;
	do {
		if (cap - n < 65536) {
			cap = cap ? cap * 2 : 1 << 20;
			if (!(buf = realloc(buf, cap + 1)))
				die("malloc");
		}
		r = fread(buf + n, 1, cap - n, f);
		n += r;
	} while (r);
	fclose(f);
	buf[n] = 0;
	*len = n;
	return buf;
}

static void write_all(int fd, const char *p, size_t n, const char *what)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die(what);
		p += w;
		n -= (size_t)w;
	}
}

static int read_exact(int fd, char *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

static int ls_connect(const char *spec)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (!strncmp(spec, "unix:", 5))
		spec += 5;
	if (strlen(spec) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, spec);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* done: say so and wait for the core to close (a core whose reply write
 * meets a closed socket logs an error) */
static void finish(int fd)
{
	char junk[4096];

	shutdown(fd, SHUT_WR);
	while (read(fd, junk, sizeof(junk)) > 0)
		;
	close(fd);
}

/* read the window's replies; returns how many were not 200 */
static int read_replies(int fd, int n)
{
	char hdr[17], junk[4096];
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		unsigned long len;
		if (read_exact(fd, hdr, 16) < 0) {
			fprintf(stderr, "lscmdfloor: no reply to a command\n");
			exit(2);
		}
		hdr[16] = 0;
		len = strtoul(hdr + 3, NULL, 10);
		if (strncmp(hdr, "200", 3)) {
			if (bad < 5)
				fprintf(stderr, "lscmdfloor: reply %.3s\n", hdr);
			bad++;
		}
		while (len) {
			size_t k = len < sizeof(junk) ? len : sizeof(junk);
			if (read_exact(fd, junk, k) < 0)
				exit(2);
			len -= k;
		}
	}
	return bad;
}

/* one reply line (without '\n') into line; -1 at EOF */
static int read_line(int fd, char *line, size_t cap)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t r = read(fd, &ch, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (ch == '\n')
			break;
		if (n + 1 < cap)
			line[n++] = ch;
	}
	line[n] = 0;
	return (int)n;
}

/* the window's `400:` lines, then the barrier's fixed16 answer; returns
 * how many 400 lines came. Byte-wise reads: a window has one answer of a
 * few dozen bytes, so this costs nothing beside the core's work. */
static int read_barrier(int fd)
{
	char line[4096], junk[4096];
	int bad = 0, n;
	unsigned long len;

	while ((n = read_line(fd, line, sizeof(line))) != 15 || line[3] != ' ') {
		if (n < 0) {
			fprintf(stderr, "lscmdfloor: no answer to the barrier\n");
			exit(2);
		}
		if (bad++ < 5)
			fprintf(stderr, "lscmdfloor: %s\n", line);
	}
	if (strncmp(line, "200", 3)) {
		fprintf(stderr, "lscmdfloor: barrier answered %.3s\n", line);
		exit(2);
	}
	len = strtoul(line + 3, NULL, 10);
	while (len) {
		size_t k = len < sizeof(junk) ? len : sizeof(junk);
		if (read_exact(fd, junk, k) < 0)
			exit(2);
		len -= k;
	}
	return bad;
}

static int mode_mk(const char *spec, const char *cmdfile)
{
	size_t len, cap = 1 << 16, blen = 0;
	char *cmds = slurp(cmdfile, &len), *line, *next, *buf = malloc(cap);
	int fd, n = 0, bad = 0;
	long total = 0;

	if (!cmds)
		die(cmdfile);
	if ((fd = ls_connect(spec)) < 0)
		die(spec);
	for (line = cmds; line < cmds + len; line = next) {
		size_t l, need;
		char *nl = memchr(line, '\n', (size_t)(cmds + len - line));
		next = nl ? nl + 1 : cmds + len;
		l = (size_t)((nl ? nl : cmds + len) - line);
		if (!l)
			continue;
		need = l + 10 + sizeof(BARRIER);
		if (blen + need > cap) {
			while (blen + need > cap)
				cap *= 2;
			if (!(buf = realloc(buf, cap)))
				die("malloc");
		}
		memcpy(buf + blen, "COMMAND ", 8);
		memcpy(buf + blen + 8, line, l);
		memcpy(buf + blen + 8 + l, "\n\n", 2);
		blen += 8 + l + 2;
		total++;
		if (++n == WINDOW || next == cmds + len) {
			memcpy(buf + blen, BARRIER, sizeof(BARRIER) - 1);
			write_all(fd, buf, blen + sizeof(BARRIER) - 1, spec);
			bad += read_barrier(fd);
			blen = 0;
			n = 0;
		}
	}
	if (n) {
		memcpy(buf + blen, BARRIER, sizeof(BARRIER) - 1);
		write_all(fd, buf, blen + sizeof(BARRIER) - 1, spec);
		bad += read_barrier(fd);
	}
	finish(fd);
	if (bad)
		fprintf(stderr, "lscmdfloor: %d of %ld commands refused\n", bad, total);
	return bad ? 1 : 0;
}

static int mode_ls(const char *spec, const char *cmdfile)
{
	size_t len, cap = 1 << 16, blen = 0;
	char *cmds = slurp(cmdfile, &len), *line, *next, *buf = malloc(cap);
	int fd, n = 0, bad = 0;
	long total = 0;

	if (!cmds)
		die(cmdfile);
	if ((fd = ls_connect(spec)) < 0)
		die(spec);
	for (line = cmds; line < cmds + len; line = next) {
		size_t l, need;
		char *nl = memchr(line, '\n', (size_t)(cmds + len - line));
		next = nl ? nl + 1 : cmds + len;
		l = (size_t)((nl ? nl : cmds + len) - line);
		if (!l)
			continue;
		need = l + 8 + sizeof(SUFFIX);
		if (blen + need > cap) {
			while (blen + need > cap)
				cap *= 2;
			if (!(buf = realloc(buf, cap)))
				die("malloc");
		}
		memcpy(buf + blen, "COMMAND ", 8);
		memcpy(buf + blen + 8, line, l);
		memcpy(buf + blen + 8 + l, SUFFIX, sizeof(SUFFIX) - 1);
		blen += 8 + l + sizeof(SUFFIX) - 1;
		total++;
		if (++n == WINDOW) {
			write_all(fd, buf, blen, spec);
			bad += read_replies(fd, n);
			blen = 0;
			n = 0;
		}
	}
	if (n) {
		write_all(fd, buf, blen, spec);
		bad += read_replies(fd, n);
	}
	finish(fd);
	if (bad)
		fprintf(stderr, "lscmdfloor: %d of %ld commands refused\n", bad, total);
	return bad ? 1 : 0;
}

static void fifo_lines(const char *fifo, const char *cmdfile)
{
	size_t len;
	char *cmds = slurp(cmdfile, &len), *line, *next;
	int fd;

	if (!cmds)
		die(cmdfile);
	if (!len)
		return;
	if ((fd = open(fifo, O_WRONLY | O_CLOEXEC)) < 0)
		die(fifo);
	for (line = cmds; line < cmds + len; line = next) {
		char *nl = memchr(line, '\n', (size_t)(cmds + len - line));
		next = nl ? nl + 1 : cmds + len;
		if (nl && nl > line)
			write_all(fd, line, (size_t)(next - line), fifo);
	}
	close(fd);
	free(cmds);
}

static int mode_spool(const char *dir, const char *records, const char *fifo, const char *cmdfile)
{
	size_t len;
	char *rec = slurp(records, &len), path[4096], ok[4100], hdr[96];
	int fd, hl;

	if (!rec)
		die(records);
	snprintf(path, sizeof(path), "%s/cXXXXXX", dir);
	if ((fd = mkstemp(path)) < 0)
		die(path);
	fchmod(fd, 0644);
	hl = snprintf(hdr, sizeof(hdr), "### Nagios Check Result File ###\nfile_time=%lld\n\n", (long long)time(NULL));
	write_all(fd, hdr, (size_t)hl, path);
	write_all(fd, rec, len, path);
	close(fd);
	snprintf(ok, sizeof(ok), "%s.ok", path);
	if ((fd = open(ok, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0)
		die(ok);
	close(fd);
	/* as siteload: the wait only when commands must follow the results */
	if (fifo && cmdfile) {
		struct stat st;
		if (stat(cmdfile, &st) < 0)
			die(cmdfile);
		if (st.st_size) {
			while (access(path, F_OK) == 0)
				usleep(100000);
			fifo_lines(fifo, cmdfile);
		}
	}
	return 0;
}

static int ls_has_host(const char *spec, const char *host)
{
	char req[1024], hdr[17];
	int fd = ls_connect(spec), n;
	unsigned long len;

	if (fd < 0)
		return 0;       /* the core is restarting */
	n = snprintf(req, sizeof(req), "GET hosts\nColumns: name\nFilter: name = %s%s", host, SUFFIX);
	if (write(fd, req, (size_t)n) != n || read_exact(fd, hdr, 16) < 0) {
		close(fd);
		return 0;
	}
	hdr[16] = 0;
	len = strtoul(hdr + 3, NULL, 10);
	finish(fd);     /* the body too */
	return !strncmp(hdr, "200", 3) && len > 1;
}

static int status_has_host(const char *path, const char *host, time_t since)
{
	struct stat st;
	size_t len;
	char *buf, want[1024];
	int found;

	if (stat(path, &st) < 0 || st.st_mtime < since)
		return 0;
	if (!(buf = slurp(path, &len)))
		return 0;
	snprintf(want, sizeof(want), "\thost_name=%s\n", host);
	found = strstr(buf, want) != NULL;
	free(buf);
	return found;
}

static int mode_reload(pid_t pid, const char *where, const char *host)
{
	time_t since = time(NULL);

	if (kill(pid, SIGHUP) < 0)
		die("kill");
	for (;;) {
		if (!strncmp(where, "ls:", 3) ? ls_has_host(where + 3, host)
		    : status_has_host(where + 7, host, since))
			return 0;
		usleep(250000);
	}
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (argc == 4 && !strcmp(argv[1], "ls"))
		return mode_ls(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "mk"))
		return mode_mk(argv[2], argv[3]);
	if ((argc == 4 || argc == 6) && !strcmp(argv[1], "spool"))
		return mode_spool(argv[2], argv[3], argc == 6 ? argv[4] : NULL, argc == 6 ? argv[5] : NULL);
	if (argc == 5 && !strcmp(argv[1], "reload") &&
	    (!strncmp(argv[3], "ls:", 3) || !strncmp(argv[3], "status:", 7)))
		return mode_reload((pid_t)atoi(argv[2]), argv[3], argv[4]);
	fprintf(stderr, "usage: lscmdfloor ls SOCKET CMDFILE\n"
			"       lscmdfloor mk SOCKET CMDFILE\n"
			"       lscmdfloor spool DIR RECORDS [FIFO CMDFILE]\n"
			"       lscmdfloor reload PID ls:SOCKET|status:STATUSFILE HOST\n");
	return 2;
}
