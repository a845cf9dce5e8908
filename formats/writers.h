/*
 * writers.h - a writer chosen by its format: the one place that maps a
 * format to its `*_writer_new` and `*_writer_free` (sitedump's --format and
 * bundle members, siteload's central config).
 */
#ifndef SITEDUMP_WRITERS_H
#define SITEDUMP_WRITERS_H

#include <stdio.h>
#include "model/core.h"
#include "model/writer.h"

enum writer_format { WRITER_CHECKRESULT, WRITER_JSON, WRITER_NAGIOS, WRITER_ICINGA2 };

/* The config writer of a core: Nagios's object files or Icinga 2's DSL. */
enum writer_format writer_format_of_core(enum sd_core core);

/* A heap sink writing format f to out (which stays the caller's); NULL:
 * out of memory. Free it with writers_free and the same f. */
struct sd_sink *writers_new(enum writer_format f, FILE *out, const struct writer_opts *wo);
void writers_free(enum writer_format f, struct sd_sink *s);     /* NULL ok */

#endif
