/*
 * snapshot_json.h - the snapshot as one JSON document (docs/snapshot-schema.md).
 */
#ifndef SITEDUMP_SNAPSHOT_JSON_H
#define SITEDUMP_SNAPSHOT_JSON_H

#include "model/writer.h"

/* Writes the parts in opts->parts. Returns NULL on out of memory. */
struct sd_sink *snapshot_json_writer_new(FILE *out, const struct writer_opts *opts);
void snapshot_json_writer_free(struct sd_sink *s);


/*
 * Reader: a snapshot document in, records out to sink (begin, groups,
 * objects, comments, downtimes in document order, end). Streaming: feed
 * chunks as they come. Any error (syntax, wrong type, out-of-range value,
 * unknown version, a sink's -1) leaves one line in err naming `name` and the
 * byte offset; a sink's rc 1 (skipped) is reported through sink->skipped.
 * err must outlive the reader.
 */
struct snapshot_json_reader;
struct snapshot_json_reader *snapshot_json_reader_new(const struct sd_sink *sink, const char *name, sd_error *err);
int snapshot_json_reader_feed(struct snapshot_json_reader *r, const void *buf, size_t len);
/* End of input; returns the number of records or -1. Calls sink->end. */
long snapshot_json_reader_finish(struct snapshot_json_reader *r);
void snapshot_json_reader_free(struct snapshot_json_reader *r);     /* NULL ok */
/* The whole of fd, read to its end. Returns records or -1. */
long snapshot_json_read_fd(int fd, const char *name, const struct sd_sink *sink, sd_error *err);
#endif
