/*
 * output.h - an output file that appears whole or not at all.
 */
#ifndef SITEDUMP_OUTPUT_H
#define SITEDUMP_OUTPUT_H

#include <stdio.h>
#include <sys/types.h>
#include "base/error.h"

struct out_file;

/* path NULL or "-": stdout (commit just flushes). Otherwise a hidden temp
 * file beside path; nothing appears under path before out_commit. */
struct out_file *out_open(const char *path, sd_error *err);
FILE *out_stream(struct out_file *of);
/* flush, fsync, rename into place; frees of. Returns 0 or -1. */
int out_commit(struct out_file *of, sd_error *err);
/* drop the temp file; frees of; NULL ok. */
void out_abort(struct out_file *of);

/* A new small file (keys): created with O_EXCL|O_NOFOLLOW and `mode`,
 * fsynced; with force an existing one is removed first. 0 or -1. */
int out_write_new(const char *path, const char *text, unsigned mode, int force, sd_error *err);

/* An unlinked read-write file in dir (NULL: $TMPDIR or /tmp): nothing of
 * it stays on disk when the process dies, even by SIGKILL. fd or -1. */
int out_anon_file(const char *dir, sd_error *err);

/* write(2) all of buf, across EINTR and short writes. 0 or -1 (errno). */
int out_write_all(int fd, const void *buf, size_t len);
/* read(2) up to len bytes, short only at end of file. Count or -1. */
ssize_t out_read_full(int fd, void *buf, size_t len);

#endif
