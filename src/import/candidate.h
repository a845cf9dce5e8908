/*
 * candidate.h - a site's config file for the central core, put in place
 * only if the core accepts it.
 *
 * Why apart: this is the part of the config import that can break the
 * central core for every site. The new text is written as a candidate
 * beside the file the core loads; it replaces that file only when it
 * differs, and with --check-command only if the core's own check accepts
 * it (else the previous file goes back). A run that dies in between
 * leaves the previous file aside, and the next run puts it back first.
 */
#ifndef SITEDUMP_IMPORT_CANDIDATE_H
#define SITEDUMP_IMPORT_CANDIDATE_H
#include <stdio.h>
#include "import/runctx.h"

/*
 * The file the core loads, the candidate written beside it and the
 * previous file kept aside while the check runs. Neither of the hidden
 * names ends in .cfg or .conf, so neither core loads them from a config
 * dir. An empty file aside means "there was no previous file".
 */
struct candidate {
	char *path, *tmp, *aside;
	FILE *f;                /* the candidate, to be written (--dry-run: a temp file) */
};

/* Every candidate left unchecked by a run that died, back to its previous
 * file (under the state dir's lock, before any check or reload). */
int candidate_restore_all(const struct import_opts *o, sd_error *err);
/* The candidate for site's file in --config-dir, open for writing. */
int candidate_open(const struct import_opts *o, const char *site, struct candidate *sf, sd_error *err);
/* 1 if the file the core loads holds exactly what was written to sf->f */
int candidate_same(const struct candidate *sf);
/* The candidate made the site's file: 0 done, 1 refused by the core's
 * check (err says why; the previous file is back), -1 failed (err). */
int candidate_install(struct runctx *c, struct candidate *sf, sd_error *err);
/* closes and removes what is left of the candidate; NULL ok */
void candidate_free(struct candidate *sf);
#endif
