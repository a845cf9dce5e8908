/*
 * extcmd.h - Nagios/Icinga 2 external commands: `[ts] VERB;arg;...` lines
 * as the command FIFO and Livestatus COMMAND take them.
 *
 * Writer: builds one command with every field made safe for the core it
 * goes to (FACTS.md §6): a command is always exactly one line. Reader: the
 * inverse split, used by tests, the dry-run checker and the fuzz target.
 */
#ifndef SITEDUMP_EXTCMD_H
#define SITEDUMP_EXTCMD_H
#include <stddef.h>
#include "snapshot.h"

enum sd_core { CORE_NAGIOS = 0, CORE_ICINGA2 = 1 };

/* NULL if name can address an object through a command, else why not
 * (';' splits fields, CR/LF/other control characters end or break the line). */
const char *extcmd_name_problem(const char *name);

/* The text a core will store for an author / comment we send (what
 * reconciliation compares against). Returns malloc'd, NULL on OOM.
 * is_downtime: Nagios cuts downtime comments at ';' (strtok), so ';' is
 * replaced there. */
char *extcmd_clean_author(enum sd_core core, const char *author);
char *extcmd_clean_comment(enum sd_core core, const char *comment, int is_downtime);

/* The output field of PROCESS_*_CHECK_RESULT for `core`: plugin output,
 * perf data and long output joined the way the core splits them back.
 * Icinga 2 host results cannot carry long output (no unescaping there):
 * it is left out and *altered set. '|' in output text becomes U+00A6.
 * Returns malloc'd, NULL on OOM. */
char *extcmd_encode_output(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered);

/* A growing command line. */
struct extcmd {
	char *buf;
	size_t len, cap;
	int oom;
};
void extcmd_reset(struct extcmd *c);
void extcmd_free(struct extcmd *c);

/*
 * Builders: each resets c and writes "[ts] VERB;..." (no newline). Names
 * must have passed extcmd_name_problem; free text is cleaned here. svc NULL
 * means the host variant. Return 0, -1 on OOM.
 */
int extcmd_result(struct extcmd *c, long long ts, const char *host, const char *svc, int rc,
		  const char *encoded_output);
int extcmd_ack(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
	       int sticky, const char *author, const char *comment);
int extcmd_remove_ack(struct extcmd *c, long long ts, const char *host, const char *svc);
int extcmd_downtime(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		    long long start, long long end, int fixed, long long duration,
		    const char *author, const char *comment);
int extcmd_del_downtime(struct extcmd *c, long long ts, int is_service, long long id);
int extcmd_comment(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		   int persistent, const char *author, const char *comment);
int extcmd_del_comment(struct extcmd *c, long long ts, int is_service, long long id);

/* Reader: split "[ts] VERB;a;b;..." in place (line is modified). fields[0]
 * is the verb. Returns the field count, or -1 (err set) if the line is not
 * a well-formed command. The last field keeps any further ';' when
 * max_fields is reached (as Icinga 2 does). */
int extcmd_parse(char *line, long long *ts, char **fields, int max_fields, sd_error *err);
#endif
