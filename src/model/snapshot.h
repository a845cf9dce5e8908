/*
 * snapshot.h - the state model every source produces and every writer consumes.
 *
 * Why records and callbacks instead of an in-memory site: a site has 50,000+
 * services and memory must not grow with that number. A source (Livestatus,
 * status.dat) builds one record at a time and hands it to a sink; the record
 * and every string in it belong to the source and are valid only during the
 * call. A sink that needs something later copies it.
 *
 * Order: sources emit groups first, then hosts, then services, then comments
 * and downtimes (comments/downtimes may come in either order).
 *
 * Strings are never NULL except sd_object.description for hosts and
 * service_description for host downtimes/comments. Text fields hold the real
 * text: long_plugin_output has real newlines (sources undo the cores'
 * backslash-n escaping).
 */
#ifndef SITEDUMP_SNAPSHOT_H
#define SITEDUMP_SNAPSHOT_H

#include <stddef.h>
#include <time.h>
#include "base/error.h"

/* Which parts of an object a source filled in and a writer should write. */
enum sd_part {
	SD_PART_STATE = 1,
	SD_PART_CONFIG = 2,
	/* Only what a check result needs (state, output, times): the subset of
	 * SD_PART_STATE the checkresult text uses; no comments or downtimes. */
	SD_PART_RESULT = 4,
	/* What siteload's model of the central needs (central.c): states,
	 * attempts, last check, acks, the output's first words, comments and
	 * downtimes; not long output or perf data, which were most of the
	 * bytes of a 50k-service central read at every import. */
	SD_PART_CENTRAL = 8,
};

struct sd_strlist {
	char **v;
	size_t n;
};

struct sd_var {
	char *name;  /* custom variable name without the leading '_', as Livestatus */
	char *value;
};

enum sd_objtype { SD_HOST = 0, SD_SERVICE = 1 };

struct sd_object {
	enum sd_objtype type;
	char *host_name;
	char *description;          /* services only, NULL for hosts */

	/* state (SD_PART_STATE) */
	int state;                  /* host 0 UP 1 DOWN 2 UNREACH; service 0..3 */
	int state_type;             /* 0 SOFT, 1 HARD */
	int current_attempt;
	int max_check_attempts;     /* also config */
	int has_been_checked;       /* 0: never checked: no result to send */
	char *plugin_output;
	char *long_plugin_output;   /* real newlines */
	char *perf_data;
	double last_check;          /* epoch; 0 = never (Icinga's -1 normalised) */
	long long last_state_change;
	int last_hard_state;
	int is_flapping;
	double latency;             /* null (never checked) normalised to 0 */
	double execution_time;
	int check_type;             /* 0 active, 1 passive */
	int acknowledged;
	int acknowledgement_type;   /* 0 none, 1 normal, 2 sticky */

	/* config (SD_PART_CONFIG) */
	char *alias;                /* hosts */
	char *address;              /* hosts */
	struct sd_strlist parents;  /* hosts */
	struct sd_strlist groups;
	struct sd_strlist contacts;
	struct sd_strlist contact_groups;
	char *check_command;
	double check_interval;      /* minutes (interval_length units) */
	double retry_interval;
	char *notes;
	char *notes_url;
	char *action_url;
	char *icon_image;
	struct sd_var *vars;
	size_t nvars;
};

struct sd_downtime {
	long long id;
	char *host_name;
	char *service_description;  /* NULL for host downtimes */
	long long start_time;
	long long end_time;
	int fixed;
	long long duration;
	long long triggered_by;     /* 0 = none */
	char *author;
	char *comment;
	long long entry_time;
};

struct sd_comment {
	long long id;
	char *host_name;
	char *service_description;  /* NULL for host comments */
	int entry_type;             /* 1 user, 2 downtime, 3 flapping, 4 ack */
	char *author;
	char *comment;
	int persistent;
	long long entry_time;
};

/* Host and service groups referenced by the config (config part only). */
struct sd_group {
	enum sd_objtype type;       /* SD_HOST: hostgroup, SD_SERVICE: servicegroup */
	char *name;
	char *alias;
};

struct sd_meta {
	const char *site;
	const char *source;         /* "livestatus:unix:/path", "statusdat:/path" */
	time_t created;
	unsigned parts;             /* enum sd_part bits */
	/* the site's core as it says itself ("naemon", "1.5.2"); NULL: not asked */
	const char *core, *core_version;
};

/*
 * A sink. Every callback may be NULL (record ignored). Return 0 to go on,
 * -1 for a fatal error (err set, the run stops), or 1 for "this record was
 * skipped" (err says why; the caller reports it and goes on).
 */
struct sd_sink {
	void *ctx;
	int (*begin)(void *ctx, const struct sd_meta *meta, sd_error *err);
	int (*group)(void *ctx, const struct sd_group *g, sd_error *err);
	int (*object)(void *ctx, const struct sd_object *o, sd_error *err);
	int (*downtime)(void *ctx, const struct sd_downtime *d, sd_error *err);
	int (*comment)(void *ctx, const struct sd_comment *c, sd_error *err);
	int (*end)(void *ctx, sd_error *err);
	/* Called by the source for every record the sink skipped (rc 1). */
	void (*skipped)(void *report_ctx, const char *what, const char *why);
	/* Called by a sink that wrote a record but had to alter it. */
	void (*warned)(void *report_ctx, const char *what, const char *why);
	void *report_ctx;
};

/* Helpers for sources: dispatch with skip reporting. Return 0 or -1. */
int sd_emit_object(const struct sd_sink *s, const struct sd_object *o, sd_error *err);
int sd_emit_group(const struct sd_sink *s, const struct sd_group *g, sd_error *err);
int sd_emit_downtime(const struct sd_sink *s, const struct sd_downtime *d, sd_error *err);
int sd_emit_comment(const struct sd_sink *s, const struct sd_comment *c, sd_error *err);

/* "host 'h'" / "service 'h;s'" for messages; writes into buf. */
const char *sd_object_label(const struct sd_object *o, char *buf, size_t len);

/* Reset an object to the neutral values a source starts from (all strings ""). */
void sd_object_clear(struct sd_object *o);

#endif
