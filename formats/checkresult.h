/*
 * checkresult.h - Nagios check result spool text (check_result_path).
 */
#ifndef SITEDUMP_CHECKRESULT_H
#define SITEDUMP_CHECKRESULT_H

#include "model/writer.h"

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
/* The same for a reader that unescapes only \n (Naemon's checkresult
 * reader): backslashes go raw, a literal backslash-n as "\ n" (altered). */
char *checkresult_encode_output_as(const char *plugin_output, const char *perf_data,
				   const char *long_output, int raw_backslash, int *altered);

/* One record as the writer and siteload's spool both write it, up to and
 * including `output=`: the caller appends the encoded output (" " when it
 * is empty) and "\n\n". host_name is prefix + host; service_description
 * only with svc; start_time last_check, finish_time last_check plus
 * exec_time; latency and times clamped at 0; rc 0..9. */
struct sbuf;
void checkresult_put_head(struct sbuf *b, const char *prefix, const char *host, const char *svc,
			  double latency, double last_check, double exec_time, int rc);
/* The spool file's first lines, with its file_time. */
void checkresult_put_file_header(struct sbuf *b, long long file_time);

#endif
