/*
 * extcmd.h - Nagios/Icinga 2 external commands: `[ts] VERB;arg;...` lines
 * as the command FIFO and Livestatus COMMAND take them.
 *
 * Writer: builds one command with every field made safe for the core it
 * goes to (docs/core-behaviour.md §6): a command is always exactly one
 * line. The
 * inverse split (extcmd_parse), which only tests need, is in tests/support.
 */
#ifndef SITEDUMP_EXTCMD_H
#define SITEDUMP_EXTCMD_H
#include <stddef.h>
#include "model/core.h"
#include "model/snapshot.h"

/*
 * Limits: the most siteload sends to a core (a remote is untrusted even
 * with a valid key). Why each number, and what was measured: extcmd.c.
 * Lengths are bytes; text is cut at a UTF-8 character boundary.
 */
#define EXTCMD_NAME_MAX         255     /* host name (with prefix), service description */
#define EXTCMD_AUTHOR_MAX       255
#define EXTCMD_COMMENT_MAX      2048    /* comments, ack and downtime comments */
#define EXTCMD_OUTPUT_MAX       8192    /* plugin output (the first line) */
#define EXTCMD_PERF_MAX         65535
#define EXTCMD_LONG_OUTPUT_MAX  65535
#define EXTCMD_ITEMS_MAX        100     /* comments, and downtimes, per object */
#define EXTCMD_TIME_MIN         946684800LL     /* 2000-01-01T00:00:00Z */
#define EXTCMD_TIME_MAX         2147483647LL    /* 2038-01-19T03:14:07Z */

/* The length of s cut to at most max bytes, at a UTF-8 character
 * boundary; *cut (may be NULL) set to 1 if that is shorter than s, else 0.
 * Reads at most max + 1 bytes of s: a 64 MiB text costs no more than a
 * short one. */
size_t extcmd_cut_len(const char *s, size_t max, int *cut);

/* NULL if name can address an object through a command, else why not
 * (';' splits fields, CR/LF/other control characters end or break the
 * line, longer than EXTCMD_NAME_MAX). */
const char *extcmd_name_problem(const char *name);

/* The text a core will store for an author / comment we send (what
 * reconciliation compares against): cut to EXTCMD_AUTHOR_MAX /
 * EXTCMD_COMMENT_MAX (*cut set, may be NULL), control characters as
 * spaces, a comment's trailing spaces dropped (both cores strip them).
 * Returns malloc'd, NULL on OOM. is_downtime: Nagios cuts downtime
 * comments at ';' (strtok), so ';' is replaced there. Applying either to
 * its own result gives the same text. */
char *extcmd_clean_author(enum sd_core core, const char *author, int *cut);
char *extcmd_clean_comment(enum sd_core core, const char *comment, int is_downtime, int *cut);

/* The output field of PROCESS_*_CHECK_RESULT for `core`: plugin output,
 * perf data and long output joined the way the core splits them back.
 * Icinga 2 host results cannot carry long output (no unescaping there):
 * it is left out and *altered set. '|' in output text becomes U+00A6.
 * Each part is first cut to its limit (EXTCMD_OUTPUT_MAX, EXTCMD_PERF_MAX,
 * EXTCMD_LONG_OUTPUT_MAX). Returns malloc'd, NULL on OOM. */
char *extcmd_encode_output(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered);
/* The same, and *cut (may be NULL) gets an EXTCMD_CUT_* bit per part cut. */
#define EXTCMD_CUT_OUTPUT       1
#define EXTCMD_CUT_PERF         2
#define EXTCMD_CUT_LONG         4
char *extcmd_encode_result(enum sd_core core, int is_host, const char *plugin_output,
			   const char *perf_data, const char *long_output, int *altered, unsigned *cut);
/* The same for a channel whose core undoes the escapes `text` says
 * (model/core.h): TEXT_LINES keeps backslashes and writes a literal
 * backslash-n as "\ n"; TEXT_FLAT also leaves the long output out. */
char *extcmd_encode_result_text(enum core_text text, int is_host, const char *plugin_output,
				const char *perf_data, const char *long_output, int *altered, unsigned *cut);

/* A downtime's times as both cores store them, in place: end and start
 * at most EXTCMD_TIME_MAX (Icinga 2's Livestatus shows a later end as
 * -2147483648), start at least EXTCMD_TIME_MIN, duration within
 * 0..EXTCMD_TIME_MAX. Returns an EXTCMD_CLAMP_* bit per value changed.
 * The caller still refuses start >= end. */
#define EXTCMD_CLAMP_START      1
#define EXTCMD_CLAMP_END        2
#define EXTCMD_CLAMP_DURATION   4
unsigned extcmd_clamp_downtime(long long *start, long long *end, long long *duration);

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
 * must have passed extcmd_name_problem; free text is cleaned (and cut)
 * here, and downtime times above EXTCMD_TIME_MAX are lowered to it. svc
 * NULL means the host variant. Return 0, -1 on OOM.
 */
int extcmd_result(struct extcmd *c, long long ts, const char *host, const char *svc, int rc,
		  const char *encoded_output);
int extcmd_ack(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
	       int sticky, int persistent, const char *author, const char *comment);
int extcmd_remove_ack(struct extcmd *c, long long ts, const char *host, const char *svc);
int extcmd_downtime(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		    long long start, long long end, int fixed, long long duration,
		    const char *author, const char *comment);
int extcmd_del_downtime(struct extcmd *c, long long ts, int is_service, long long id);
int extcmd_comment(struct extcmd *c, enum sd_core core, long long ts, const char *host, const char *svc,
		   int persistent, const char *author, const char *comment);
int extcmd_del_comment(struct extcmd *c, long long ts, int is_service, long long id);

#endif
