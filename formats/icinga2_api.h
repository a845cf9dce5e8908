/*
 * icinga2_api.h - the JSON of Icinga 2's REST API actions: request bodies
 * (writer) and the results of an action's reply (reader).
 *
 * Writer: each ia_* returns the body as a malloc'd NUL-terminated string,
 * or NULL with err. Object names must be UTF-8 (another spelling would name
 * another object: refused); free text (output, perf data, author, comment)
 * that is not UTF-8 has its bad bytes replaced by U+FFFD.
 *
 * Reader: an action's reply is {"results": [{"code": 200.0, "status":
 * "...", "name": "..."}, ...]}; an error reply {"error": 404, "status":
 * "No objects found."}. Fed in pieces (ia_reader_feed has api_feed_fn's
 * shape), so a reply need not be held.
 */
#ifndef SITEDUMP_FORMATS_ICINGA2_API_H
#define SITEDUMP_FORMATS_ICINGA2_API_H

#include <stddef.h>
#include "base/error.h"

#define IA_PATH_PROCESS_CHECK_RESULT    "/v1/actions/process-check-result"
#define IA_PATH_ACKNOWLEDGE_PROBLEM     "/v1/actions/acknowledge-problem"
#define IA_PATH_REMOVE_ACKNOWLEDGEMENT  "/v1/actions/remove-acknowledgement"
#define IA_PATH_ADD_COMMENT             "/v1/actions/add-comment"
#define IA_PATH_REMOVE_COMMENT          "/v1/actions/remove-comment"
#define IA_PATH_SCHEDULE_DOWNTIME       "/v1/actions/schedule-downtime"
#define IA_PATH_REMOVE_DOWNTIME         "/v1/actions/remove-downtime"

/*
 * What an action applies to, one of:
 * - host (service NULL): {"type": "Host", "host": H};
 * - host and service: {"type": "Service", "service": "H!S"};
 * - filter: {"type": filter_type, "filter": F} (F is Icinga DSL: the
 *   caller's own text, never built from site data; names go above);
 * - name (remove-comment, remove-downtime only): {"comment"/"downtime": N}.
 */
struct ia_target {
	const char *host, *service;
	const char *filter, *filter_type;       /* filter_type "Host" or "Service" */
	const char *name;
};

struct ia_check_result {
	int exit_status;                        /* 0..3 (a host: 0 up, 1 down) */
	const char *output;                     /* first line, \n, long output */
	const char *const *perf;                /* performance_data items; may be NULL */
	size_t n_perf;
	double start, end;                      /* execution_start/_end; 0: left out */
	const char *check_source;               /* NULL: left out */
};

struct ia_ack {
	const char *author, *comment;
	long long expiry;                       /* 0: none */
	int sticky, notify, persistent;
};

struct ia_comment {
	const char *author, *comment;
};

struct ia_downtime {
	const char *author, *comment;
	long long start, end, duration;         /* duration: flexible ones only */
	int fixed;
	const char *trigger_name;               /* NULL: none */
};

char *ia_process_check_result(const struct ia_target *t, const struct ia_check_result *cr, sd_error *err);
char *ia_acknowledge_problem(const struct ia_target *t, const struct ia_ack *a, sd_error *err);
char *ia_remove_acknowledgement(const struct ia_target *t, sd_error *err);
char *ia_add_comment(const struct ia_target *t, const struct ia_comment *c, sd_error *err);
char *ia_remove_comment(const struct ia_target *t, sd_error *err);
char *ia_schedule_downtime(const struct ia_target *t, const struct ia_downtime *d, sd_error *err);
char *ia_remove_downtime(const struct ia_target *t, sd_error *err);

/* One result; strings valid during the callback only, NUL-terminated
 * (a NUL inside ends them early), NULL when the reply had none. */
struct ia_result {
	int code;                               /* HTTP-style: 200 ok, else failed */
	const char *status;
	const char *name;                       /* what was made (comment, downtime) */
};
typedef int (*ia_result_fn)(void *ctx, const struct ia_result *r, sd_error *err);

struct ia_reader;
struct ia_reader *ia_reader_new(ia_result_fn cb, void *ctx);
/* 0, or -1 with err (not the shape above, or cb returned -1). r: the reader. */
int ia_reader_feed(void *r, const char *buf, size_t n, sd_error *err);
/* End of the reply: the number of results, or -1 with err (also for an
 * error reply: "CODE: STATUS", and for a reply with neither). */
long ia_reader_finish(struct ia_reader *r, sd_error *err);
void ia_reader_free(struct ia_reader *r);

/* All at once: new, feed, finish, free. */
long ia_read_results(const char *buf, size_t n, ia_result_fn cb, void *ctx, sd_error *err);

#endif
