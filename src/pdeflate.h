/*
 * pdeflate.h - one raw deflate stream made on two threads (as pigz does).
 *
 * Why: deflating a 50k-service bundle (25 MB of JSON) took 200 ms of the
 * bundle's time, all of it after the last Livestatus byte had arrived.
 * The input is cut into PD_BLOCK blocks; each is deflated on its own, primed
 * with the 32 KiB before it as dictionary, and ended with a sync flush
 * (an empty stored block, so the next block starts on a byte boundary);
 * the last block ends the stream. Concatenated in order they are one
 * ordinary deflate stream, a few hundred bytes longer than zlib's serial
 * output. The bytes do not depend on the threads: with no thread (or a
 * stream under one block) the same blocks are deflated in the caller.
 */
#ifndef SITEDUMP_PDEFLATE_H
#define SITEDUMP_PDEFLATE_H

#include <stddef.h>
#include "snapshot.h"

#define PD_BLOCK (256u << 10)

/* Gets the compressed bytes in order, always on the caller's thread. */
typedef void (*pd_emit)(void *ctx, const void *buf, size_t len);

struct pdeflate;

struct pdeflate *pd_new(int level, pd_emit emit, void *ctx, sd_error *err);
int pd_write(struct pdeflate *p, const void *buf, size_t len, sd_error *err);
/* End the input; *crc and *isize are the CRC-32 and length (mod 2^32 for
 * gzip's ISIZE) of all of it. With final, the last block ends the deflate
 * stream; without, it ends with a sync flush on a byte boundary, so more
 * deflate data (another pdeflate's) can follow it in the same stream (a
 * bundle member deflated while it was written, spliced into the tar). */
int pd_finish(struct pdeflate *p, int final, unsigned long *crc, unsigned long long *isize, sd_error *err);
void pd_free(struct pdeflate *p);

#endif
