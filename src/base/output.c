/*
 * output.c - atomic output files: temp name in the same directory, fsync,
 * rename. A cron job killed mid-run, a full disk or a source error must
 * never leave a half file where a reader (or Nagios) picks it up.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "base/output.h"

/* stdio picks st_blksize (4 KiB) for files and pipes: a 16 MiB export
 * was 4,500 write calls (strace -c); 64 KiB makes it 280. */
#define OUT_BUFSIZE 65536

/* glibc ignores the size unless it is given the buffer; stdout's lives
 * as long as the process, a file's until out_commit/out_abort. */
static void big_buffer(FILE *f, char *buf)
{
	if (buf)
		setvbuf(f, buf, _IOFBF, OUT_BUFSIZE);
	__fsetlocking(f, FSETLOCKING_BYCALLER);    /* one thread: skip stdio locks */
}

struct out_file {
	FILE *f;
	char *buf;              /* f's buffer (not for stdout) */
	char *path;
	char *tmp;
	int in_place;           /* not a regular file: no temp, no rename */
};

/* The umask, read without setting it: umask(2) only reads by setting,
 * and for that moment a file another thread creates (sitedump's sequence
 * and libarchive threads run beside the export) would get mode 0666.
 * /proc/self/status has it since Linux 4.7; before that, the old way. */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	unsigned int um;
	mode_t m;

	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &um) == 1) {
				fclose(f);
				return (mode_t)(um & 0777);
			}
		fclose(f);
	}
	m = umask(0);
	umask(m);
	return m;
}

struct out_file *out_open(const char *path, sd_error *err)
{
	struct out_file *of = calloc(1, sizeof(*of));
	char *dup = NULL, *dup2 = NULL, *base;
	struct stat st;
	mode_t um;
	int fd;

	if (!of) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	if (!path || !strcmp(path, "-")) {
		static char stdout_buf[OUT_BUFSIZE];
		static int stdout_set;

		of->f = stdout;
		big_buffer(stdout, stdout_set++ ? NULL : stdout_buf);
		return of;
	}
	/* a device, FIFO or socket (/dev/null, /dev/stdout, a pipe to a
	 * receiver) is written in place: renaming over it would replace it */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISDIR(st.st_mode)) {
			sd_fail(err, "%s: is a directory", path);
			free(of);
			return NULL;
		}
		if (!(of->f = fopen(path, "w"))) {
			sd_fail(err, "%s: %s", path, strerror(errno));
			free(of);
			return NULL;
		}
		of->in_place = 1;
		big_buffer(of->f, of->buf = malloc(OUT_BUFSIZE));
		return of;
	}
	of->path = strdup(path);
	dup = strdup(path);
	dup2 = strdup(path);
	if (!of->path || !dup || !dup2)
		goto oom;
	/* dirname/basename may modify their argument or return static storage */
	base = basename(dup);
	if (asprintf(&of->tmp, "%s/.%s.XXXXXX", dirname(dup2), base) < 0) {
		of->tmp = NULL;
		goto oom;
	}
	if ((fd = mkstemp(of->tmp)) < 0) {
		sd_fail(err, "%s: cannot create temp file: %s", path, strerror(errno));
		free(of->tmp);
		of->tmp = NULL;
		goto fail;
	}
	um = current_umask();
	fchmod(fd, 0666 & ~um);
	if (!(of->f = fdopen(fd, "w"))) {
		sd_fail(err, "%s: %s", path, strerror(errno));
		close(fd);
		goto fail;
	}
	big_buffer(of->f, of->buf = malloc(OUT_BUFSIZE));
	free(dup);
	free(dup2);
	return of;
oom:
	sd_fail(err, "out of memory");
fail:
	free(dup);
	free(dup2);
	out_abort(of);
	return NULL;
}

FILE *out_stream(struct out_file *of)
{
	return of->f;
}

int out_commit(struct out_file *of, sd_error *err)
{
	int rc = 0;

	if (of->f == stdout) {
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = sd_fail(err, "stdout: write error: %s", strerror(errno));
		free(of);
		return rc;
	}
	if (of->in_place) {
		if (fflush(of->f) != 0 || ferror(of->f))
			rc = sd_fail(err, "write error: %s", strerror(errno));
		if (fclose(of->f) != 0 && rc == 0)
			rc = sd_fail(err, "write error: %s", strerror(errno));
		free(of->buf);
		free(of);
		return rc;
	}
	if (fflush(of->f) != 0 || ferror(of->f) || fsync(fileno(of->f)) != 0) {
		sd_fail(err, "%s: write error: %s", of->path, strerror(errno));
		out_abort(of);
		return -1;
	}
	if (fclose(of->f) != 0) {
		of->f = NULL;
		sd_fail(err, "%s: write error: %s", of->path, strerror(errno));
		out_abort(of);
		return -1;
	}
	of->f = NULL;
	if (rename(of->tmp, of->path) != 0) {
		sd_fail(err, "%s: rename: %s", of->path, strerror(errno));
		out_abort(of);
		return -1;
	}
	free(of->tmp);
	of->tmp = NULL;
	out_abort(of);
	return 0;
}

void out_abort(struct out_file *of)
{
	if (!of)
		return;
	if (of->f && of->f != stdout)
		fclose(of->f);
	free(of->buf);
	if (of->tmp)
		unlink(of->tmp);
	free(of->tmp);
	free(of->path);
	free(of);
}

int out_write_new(const char *path, const char *text, unsigned mode, int force, sd_error *err)
{
	size_t len = strlen(text);
	int fd;

	if (force && unlink(path) < 0 && errno != ENOENT)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		return sd_fail(err, "%s: %s%s", path, strerror(errno),
			       errno == EEXIST ? " (use -f to overwrite)" : "");
	/* fchmod: the umask must not widen or narrow a key file's mode */
	if (fchmod(fd, (mode_t)mode) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0) {
		sd_fail(err, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return -1;
	}
	return close(fd) == 0 ? 0 : sd_fail(err, "%s: %s", path, strerror(errno));
}

int out_anon_file(const char *dir, sd_error *err)
{
	char *tmpl;
	int fd;

	if (!dir && !(dir = getenv("TMPDIR")))
		dir = "/tmp";
	if ((fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)) >= 0)
		return fd;
	/* filesystems without O_TMPFILE: create and unlink at once */
	if (asprintf(&tmpl, "%s/.sitedump.XXXXXX", dir) < 0)
		return sd_fail(err, "out of memory");
	fd = mkostemp(tmpl, O_CLOEXEC);
	if (fd >= 0)
		unlink(tmpl);
	else
		sd_fail(err, "%s: cannot create a temp file: %s", dir, strerror(errno));
	free(tmpl);
	return fd;
}

int out_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

ssize_t out_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, p + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}
