/*
 * mail.h - bundles by e-mail (docs/transport-mail.md): the MIME message
 * sitedump sends, the small strict reader siteload takes it apart with,
 * and siteload's two mail inputs, one message on stdin (a .forward or
 * aliases pipe, procmail) and a Maildir.
 *
 * The reader accepts what sitedump writes after an MTA relayed it (more
 * headers, folded lines, CRLF or LF line ends, an mbox "From " line) and
 * refuses everything else with a one-line reason: a bundle is only ever
 * taken from exactly one base64 application/octet-stream part of a
 * multipart/mixed message.
 */
#ifndef SITEDUMP_MAIL_H
#define SITEDUMP_MAIL_H

#include <stddef.h>
#include <stdio.h>
#include "model/snapshot.h"
#include "transports/handoff.h"


/* A message larger than this is refused unread (MTAs cap mail at 10-50 MB). */
#define MAIL_MAX_MESSAGE (64L << 20)
/* Messages per import_run call in a Maildir: each bundle holds open files
 * until the run ends, so a backlog is taken in slices, oldest first. */
#define MAIL_MAILDIR_BATCH 64

struct mail_meta {
	const char *from;               /* NULL: no From: header, the MTA writes one */
	const char *to;
	const char *site, *kind;        /* kind: state, config, both */
	unsigned long long sequence;
	const char *filename;           /* the attachment's name, SITE-SEQ-KIND.ext */
	long long date;                 /* seconds since the epoch, for Date: */
};

/* 1 if addr may go into To:/From: as it is: one line of printable ASCII
 * (no header injection), 1..900 characters. */
int mail_addr_ok(const char *addr);

/* Write the message to out: headers, a short text part, the bundle read
 * from bundle_fd (from its current offset to its end) as base64. LF line
 * ends (sendmail's convention). Needs sodium_init. 0 or -1. */
int mail_write(FILE *out, const struct mail_meta *m, int bundle_fd, sd_error *err);

struct mail_bundle {
	unsigned char *data;
	size_t len;
	char filename[256];     /* as the message names it when that is [A-Za-z0-9._-]+, else "" */
};

/* The one bundle attachment of the message msg[0..len). 0, or -1 with err
 * saying why the message is refused (the message is bad, never I/O). */
int mail_extract(const char *msg, size_t len, struct mail_bundle *b, sd_error *err);
/* Frees what mail_extract put in b (not b itself); NULL ok. */
void mail_bundle_free(struct mail_bundle *b);

/*
 * siteload --mail PATH ("-": stdin): import the bundle of one message with
 * o->run. A refused message is reported through o->report. Returns what
 * o->run returns (0 applied, 1 refused, 2 could not be done now or the
 * run failed: err set when nothing was reported).
 */
int mail_import_message(const struct handoff *o, const char *path, sd_error *err);

/*
 * siteload --maildir DIR: every message in DIR/new/ and every one in
 * DIR/cur/ without the S (seen) flag. Applied (or superseded in the same
 * run): moved to cur/ with the S flag. Refused (bad message, signature,
 * trust, old sequence): moved into the Maildir++ folder DIR/.rejected/cur/
 * with an "X-Sitedump-Rejected: REASON" header on top. Failed (could be
 * retried): left where it is. With o->dry_run nothing is moved. Locks DIR
 * (flock) against a second run. Returns 0, 1 something refused, 2
 * something failed or the run failed (err set when not reported).
 */
int mail_import_maildir(const struct handoff *o, const char *dir, sd_error *err);

#endif
