/*
 * statusdat.h - read a site from a Nagios 4 status.dat + objects.cache pair
 * (or Icinga 2's StatusDataWriter variant of both), for sites without Livestatus.
 */
#ifndef SITEDUMP_STATUSDAT_H
#define SITEDUMP_STATUSDAT_H

#include <stdio.h>
#include "model/snapshot.h"

/*
 * Reads and emits records to `sink` in this order: (config part) groups,
 * then hosts, services; (state part) hosts, services, comments, downtimes.
 * `parts` is SD_PART_STATE or SD_PART_CONFIG, not both (the caller runs two
 * passes). begin/end of the sink are the caller's.
 *
 * Both files are checked completely before the first record is emitted.
 * A block it cannot use (a bad value or line, cut by the end of the file)
 * is skipped: reported through sink->skipped(report_ctx, what, why), `what`
 * naming the file, the block's line, type and object, `why` the line and
 * the fault. Times out of [0, 1e15] are clamped and reported through
 * sink->warned, as are ignored stray lines between blocks. All reports come
 * before the first record, one line each, at most 100 and a sum.
 *
 * On a file that is not one at all, or a truncated or mismatched pair
 * (the cross-checks), nothing is emitted and -1 is returned with err set to
 * one line naming the file, the line and the fault. A sink's own -1 is
 * passed through with its err. Never prints, never exits.
 *
 * status_path may be NULL for SD_PART_CONFIG: the host/service count
 * cross-check against status.dat is then skipped.
 */
int statusdat_read(const char *status_path, const char *objects_path, unsigned parts,
		   const struct sd_sink *sink, sd_error *err);

/*
 * The same on already-open streams (fmemopen in tests and the fuzz target).
 * The streams must be seekable: they are read several times from their
 * current position. The names are used in messages (NULL: "status.dat",
 * "objects.cache"). The streams are left open.
 */
int statusdat_read_fp(FILE *status, const char *status_name, FILE *objects, const char *objects_name,
		      unsigned parts, const struct sd_sink *sink, sd_error *err);

/*
 * The state part in one pass over status.dat, for a sink that can throw
 * away what it was given (siteload's model of its central): the records
 * are emitted while the files are checked, so on -1 the sink may have had
 * some. The records, their order and the reports are statusdat_read_fp's
 * otherwise (a sink's own skips come among the reader's reports). 1: the file's blocks are out of the snapshot order (not a
 * Nagios or Naemon file) after records went out: discard them and read
 * the same streams again from their start with statusdat_read_fp; every
 * report was made already. (Icinga's file, known before any record, is
 * read as statusdat_read_fp reads it: 0.)
 */
int statusdat_read_state_once(FILE *status, const char *status_name, FILE *objects, const char *objects_name,
			      const struct sd_sink *sink, sd_error *err);

/*
 * The core's version from the `info` block at the head of a status.dat
 * (Nagios "4.4.6", Naemon "1.5.2", Icinga 2 "r2.13.6-1"): copied to out
 * (printable, cut to len). Reads at most the first 64 lines. 0, or -1
 * with err set when there is no info block with a version there.
 */
int statusdat_version(FILE *status, const char *status_name, char *out, size_t len, sd_error *err);

#endif
