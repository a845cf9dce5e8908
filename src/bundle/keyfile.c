/*
 * keyfile.c - key files (keyfile.h).
 *
 * Why one reader: siteload's -p, the importer's trust directory and the
 * encryption keys each read key files their own way, and only the trust
 * directory refused symbolic links. A link planted where a .pub is looked
 * for would choose whose bundles are trusted, so no public key is read
 * through one; a key file is small, so one that is not is refused whole
 * rather than its start taken.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "bundle/keyfile.h"

static int open_key(const char *path, int nofollow, sd_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0));

	if (fd < 0 && nofollow && errno == ELOOP)
		return sd_fail(err, "%s: a symbolic link (key files are not read through links)", path);
	if (fd < 0)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	return fd;
}

int keyfile_read(const char *path, int nofollow, char *buf, size_t cap, size_t *len, sd_error *err)
{
	ssize_t n = 0;
	int fd, rc = 0;

	if ((fd = open_key(path, nofollow, err)) < 0)
		return -1;
	for (*len = 0; *len < cap; *len += (size_t)n) {
		if ((n = read(fd, buf + *len, cap - *len)) < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			break;
	}
	if (n < 0)
		rc = sd_fail(err, "%s: %s", path, strerror(errno));
	else if (*len >= cap)
		rc = sd_fail(err, "%s: over %zu bytes: not a key file", path, cap - 1);
	close(fd);
	buf[*len < cap ? *len : cap - 1] = '\0';
	return rc < 0 ? -2 : 0;
}

int keyfile_pub_load(const char *path, struct ms_pubkey *pk, sd_error *err)
{
	char buf[KEYFILE_MAX + 1], msg[SD_ERRLEN];
	size_t len;
	int rc;

	if ((rc = keyfile_read(path, 1, buf, sizeof(buf), &len, err)) < 0)
		return rc;
	if (ms_pubkey_parse(buf, len, pk, err) < 0) {
		snprintf(msg, sizeof(msg), "%s", err->msg);
		sd_fail(err, "%s: %s", path, msg);
		return -2;
	}
	return 0;
}
