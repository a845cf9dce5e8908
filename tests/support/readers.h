/*
 * readers.h - the inverse of two wire formats the tools only write: the
 * check result spool and external commands. Only the unit tests and fuzz
 * targets read them (to check what was written the way Nagios reads it),
 * so they live here and are linked into those, not into the tools.
 */
#ifndef SITEDUMP_TESTS_READERS_H
#define SITEDUMP_TESTS_READERS_H
#include <stdio.h>
#include "base/error.h"

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

/* Reader: split "[ts] VERB;a;b;..." in place (line is modified). fields[0]
 * is the verb. Returns the field count, or -1 (err set) if the line is not
 * a well-formed command. The last field keeps any further ';' when
 * max_fields is reached (as Icinga 2 does). */
int extcmd_parse(char *line, long long *ts, char **fields, int max_fields, sd_error *err);
#endif
