/*
 * sitestate.h - siteload's per-site files in the state dir.
 *
 * Why one module: every decision of a run rests on these few small
 * files, and each must be read the same way everywhere (a missing file is
 * an empty one) and replaced whole (temp + rename: a crash leaves the old
 * file or the new, never half of one):
 *   SITE.imported  sequence, created, imported at (the order and the stale check)
 *   SITE.hosts     the central host names the site owns
 *   SITE.ledger    downtimes/comments siteload created: the only ones it may delete
 *   SITE.error     the last failed import's time and reason, until one succeeds
 * The sets are sorted string sets (struct lines), one entry a line.
 */
#ifndef SITEDUMP_IMPORT_SITESTATE_H
#define SITEDUMP_IMPORT_SITESTATE_H
#include <stddef.h>
#include <sys/types.h>
#include "base/error.h"

/* A set of strings: sorted and unique after lines_sort or lines_read. */
struct lines {
	char **v;
	size_t n;
};

void lines_free(struct lines *l);
/* 0, or -1 on out of memory; lines_sort before lines_has/lines_find */
int lines_add(struct lines *l, const char *s);
void lines_sort(struct lines *l);
int lines_has(const struct lines *l, const char *s);
long lines_find(const struct lines *l, const char *s);         /* index, or -1 */
/* one entry a line; a missing file is the empty set */
int lines_read(const char *path, struct lines *l, sd_error *err);
int lines_write(const char *path, const struct lines *l, sd_error *err);

/* "DIR/SITEEXT", malloc'd (NULL: out of memory) */
char *sitestate_path(const char *dir, const char *site, const char *ext);
/* The whole of a file, atomically; mode 0: the umask's (siteload sets
 * 077), else that mode (what the core must read: 0644). */
int sitestate_write(const char *path, const char *text, size_t len, mode_t mode, sd_error *err);
/* 1 if the file at path holds exactly text */
int sitestate_same(const char *path, const char *text, size_t len);

/* SITE.imported: all 0 when the site never had a bundle imported */
struct imported {
	unsigned long long seq;
	long long created, at;
	char keyid[17];         /* of the key that verified it ("" not recorded: before key ids were) */
};

int sitestate_imported_read(const char *dir, const char *site, struct imported *im, sd_error *err);
int sitestate_imported_write(const char *dir, const char *site, const struct imported *im, sd_error *err);

/* SITE.error: "EPOCH REASON", one line (REASON's control characters made
 * spaces), written whole; clear removes it (gone already is fine). */
int sitestate_error_write(const char *dir, const char *site, long long at, const char *reason, sd_error *err);
int sitestate_error_clear(const char *dir, const char *site, sd_error *err);

/* The union of the SITEEXT sets of every site but site (other sites' hosts). */
int sitestate_others_read(const char *dir, const char *site, const char *ext, struct lines *out, sd_error *err);
#endif
