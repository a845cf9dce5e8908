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


/*
 * Reader: a check result spool file as Nagios 4 reads it (base/utils.c):
 * `key=value` lines, split at the first '='; a blank line ends a record;
 * '#' lines are comments; `file_time` before the first record. A record
 * needs host_name and output (Nagios skips it otherwise: so do we, with
 * the reason). output keeps Nagios's escapes (\n, \\): decode with
 * checkresult_decode_output. Strings are valid during the callback only.
 */
struct cr_record {
	const char *host_name;
	const char *service_description;        /* NULL: a host result */
	int check_type, return_code;
	double start_time, finish_time, latency;
	const char *output;
	long line;                              /* where the record starts */
};
/* cb returns 0 to go on, -1 to stop. Returns the record count, or -1 with
 * err naming the line (a line that is too long, NUL bytes, a sink stop).
 * skipped (may be NULL) gets records Nagios would ignore, with the reason. */
long checkresult_read(FILE *in, const char *name, long long *file_time,
		      int (*cb)(void *ctx, const struct cr_record *r, sd_error *err),
		      void (*skipped)(void *ctx, long line, const char *why), void *ctx, sd_error *err);
/* Nagios's split of an output= value: plugin output, perf data, long
 * output, unescaped (\n -> LF, \\ -> \). Each malloc'd; -1 on OOM. */
int checkresult_decode_output(const char *value, char **plugin_output, char **perf_data, char **long_output);
#endif
