/*
 * checkresult.h - Nagios check result spool text (check_result_path).
 */
#ifndef SITEDUMP_CHECKRESULT_H
#define SITEDUMP_CHECKRESULT_H

#include "writer.h"

/* State part only. Never-checked objects are left out (they would turn
 * pending objects DOWN/UNKNOWN on the central, livedump's bug). */
struct sd_sink *checkresult_writer_new(FILE *out, const struct writer_opts *opts);
void checkresult_writer_free(struct sd_sink *s);

/* Nagios 4 output encoding: plugin output, perf data and long output as the
 * one `output=` value Nagios splits back into the three. Returns a malloc'd
 * string, NULL on out of memory. *altered is set when a '|' had to be
 * replaced (Nagios has no escape for it outside perf data). */
char *checkresult_encode_output(const char *plugin_output, const char *perf_data,
				const char *long_output, int *altered);

#endif
