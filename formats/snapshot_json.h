/*
 * snapshot_json.h - the snapshot as one JSON document (docs/snapshot-schema.md).
 */
#ifndef SITEDUMP_SNAPSHOT_JSON_H
#define SITEDUMP_SNAPSHOT_JSON_H

#include "writer.h"

/* Writes the parts in opts->parts. Returns NULL on out of memory. */
struct sd_sink *snapshot_json_writer_new(FILE *out, const struct writer_opts *opts);
void snapshot_json_writer_free(struct sd_sink *s);

#endif
