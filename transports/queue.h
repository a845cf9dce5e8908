/*
 * queue.h - sending bundles (a command, mail, a directory) and sitedump's
 * store-and-forward queue (docs/transport-queue.md).
 *
 * The queue is a directory of bundles under their own names,
 * SITE-SEQ-KIND.EXT; sitedump writes each new bundle into it atomically,
 * then sends the queue oldest first, removing what was sent. Superseded
 * state bundles are dropped, configuration is kept, the count is bounded.
 */
#ifndef SITEDUMP_QUEUE_H
#define SITEDUMP_QUEUE_H

#include "model/snapshot.h"

#define QUEUE_SENDMAIL "/usr/sbin/sendmail -oi -t"
#define QUEUE_MAX_DEFAULT 100

enum queue_via { QUEUE_VIA_COMMAND, QUEUE_VIA_MAIL, QUEUE_VIA_DIR };

struct queue_transport {
	enum queue_via via;
	const char *command;            /* run by /bin/sh -c with the bundle on stdin */
	const char *dir;                /* copied in atomically under the bundle's name */
	const char *mail_to, *mail_from;        /* mail_from NULL: the MTA's choice */
	const char *sendmail;           /* NULL: QUEUE_SENDMAIL; reads the recipients from the headers */
	int timeout_s;                  /* a command or sendmail is stopped after this; 0: never */
};

#define QUEUE_SEND_TIMEOUT_DEFAULT 600
#define QUEUE_REFUSED 1                 /* queue_send: the receiver refused the bundle */
#define QUEUE_REFUSED_DIR "refused"

/* Send the bundle in fd (read from offset 0) named name: 0, or -1 with
 * err saying what failed (a command's exit status, a signal, the timeout).
 * QUEUE_REFUSED (err set too) when a command exited with status 1, which
 * is siteload's "refused" (verification, an old sequence, ...): sending the
 * same bundle again cannot help. sendmail's status 1 is just a failure. */
int queue_send(const struct queue_transport *t, int fd, const char *name, sd_error *err);

/* A one-line description of the transport for messages ("mail to ADDR"). */
void queue_describe(const struct queue_transport *t, char *buf, size_t len);

struct queue;

/* Create the queue directory if missing (mode 0700: bundles may be in clear). */
int queue_create(const char *dir, sd_error *err);
/* Open and lock (flock) the queue; waits up to wait_ms for another
 * sitedump that holds it. NULL with err. */
struct queue *queue_open(const char *dir, int wait_ms, sd_error *err);

/* Reports one dropped bundle: name, why. */
typedef void (*queue_note_fn)(void *ctx, const char *name, const char *why);

/*
 * Drop every state bundle for which a newer state or both bundle of the
 * same site is queued. Then, while more than max are queued, drop state
 * bundles oldest first, then configuration (config, both) whose every part
 * a newer bundle of the site carries, oldest first; the newest
 * configuration of a site is never dropped (note with name NULL says the
 * bound could not be kept). 0 or -1.
 */
int queue_prune(struct queue *q, int max, queue_note_fn note, void *ctx, sd_error *err);

/*
 * Send the queue oldest first (by sequence), each bundle removed once sent.
 * A refused bundle (QUEUE_REFUSED) is moved to DIR/refused/, reported to
 * refused_note with the reason, and the next one is sent. Stops at the
 * first other failure: -1, err names the bundle and the cause, the rest
 * stays. *sent and *left count bundles (either may be NULL; sent includes
 * the refused ones, which left the queue too).
 */
int queue_flush(struct queue *q, const struct queue_transport *t, queue_note_fn sent_note,
		queue_note_fn refused_note, void *ctx, int *sent, int *left, sd_error *err);

void queue_close(struct queue *q);      /* unlocks; NULL ok */

#endif
