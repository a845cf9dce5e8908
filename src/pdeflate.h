/*
 * pdeflate.h - one raw deflate stream made on two threads (as pigz does).
 *
 * Why: deflating a 50k-service bundle (25 MB of JSON) took 200 ms of the
 * bundle's time, all of it after the last Livestatus byte had arrived.
 * The input is cut into 1 MiB blocks; each is deflated on its own, primed
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

/* Gets the compressed bytes in order, always on the caller's thread. */
typedef void (*pd_emit)(void *ctx, const void *buf, size_t len);

struct pdeflate;

struct pdeflate *pd_new(int level, pd_emit emit, void *ctx, sd_error *err);
int pd_write(struct pdeflate *p, const void *buf, size_t len, sd_error *err);
/* End the stream; *crc and *isize are the CRC-32 and length (mod 2^32
 * for gzip's ISIZE) of all input. */
int pd_finish(struct pdeflate *p, unsigned long *crc, unsigned long long *isize, sd_error *err);
void pd_free(struct pdeflate *p);

#endif
