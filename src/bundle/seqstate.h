/*
 * seqstate.h - per-site bundle sequence numbers, kept durably.
 */
#ifndef SITEDUMP_SEQSTATE_H
#define SITEDUMP_SEQSTATE_H

#include "model/snapshot.h"

/* Default state directory: $OMD_ROOT/var/sitedump, else /var/lib/sitedump.
 * Static buffer. */
const char *seq_default_dir(void);

/*
 * Reserve the next sequence number for site: under a lock, read the last,
 * take max(last + 1, now in epoch milliseconds), and write it durably (temp file, fsync, rename,
 * fsync of the directory) before returning. A crash after this only leaves
 * a gap; a number is never handed out twice. 0 or -1.
 */
int seq_next(const char *dir, const char *site, unsigned long long *seq, sd_error *err);

/* 1 if site is a safe site name: [A-Za-z0-9._-], 1..64 chars, no leading dot. */
int seq_site_ok(const char *site);

#endif
