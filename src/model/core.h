/*
 * core.h - the monitoring cores siteload can feed, and how each one
 * counts: its own header, below the formats, so the importer's modules
 * name a core without including a wire format (extcmd.h) to get the enum.
 *
 * Why a profile: no command sets a state type or an attempt, so siteload
 * reproduces them by replaying results, and how many and with which times
 * depends on how the core counts (docs/core-behaviour.md §3-§5). Each
 * core's answers are in one table (core.c); the replay planner
 * (src/import/reconcile.c) asks the profile, never the core's name.
 */
#ifndef SITEDUMP_CORE_H
#define SITEDUMP_CORE_H

enum sd_core { CORE_NAGIOS = 0, CORE_ICINGA2 = 1 };

/* How a core reads the text of a check result on one channel: which
 * escapes it undoes (formats/extcmd.c writes each). */
enum core_text {
	TEXT_NAGIOS,            /* \\ and \n undone (Nagios 4: FIFO, Livestatus, spool) */
	TEXT_ICINGA2,           /* \n undone in service results only (Icinga 2) */
	TEXT_LINES,             /* \n undone, a backslash kept (Naemon's spool; naemon-livestatus) */
	TEXT_FLAT,              /* nothing undone: no long output (Naemon's FIFO) */
};

struct core_profile {
	enum sd_core core;              /* the family: how its commands and config are written */
	const char *name;               /* --core NAME */
	const char *title;              /* in messages */
	/* Livestatus: bare COMMANDs and a status query as barrier (the
	 * mk-livestatus family: Naemon, Checkmk), not Icinga 2's fixed16 per
	 * command; and whether the server unescapes backslash-n and double
	 * backslashes in a command's text (naemon-livestatus) */
	int livestatus_mk, livestatus_unescapes;
	/* the result text per channel */
	enum core_text text_spool, text_fifo, text_livestatus;
	/* a passive host result is hard at once (Nagios:
	 * passive_host_checks_are_soft=0), and so is a service problem while
	 * its host is down */
	int host_results_hard, services_of_failed_host_hard;
	/* when a soft problem hardens, last_state_change becomes the time of
	 * the hardening result (Nagios), not of the first soft one */
	int state_change_at_hardening;
	/* a pending object counts as a soft problem at attempt 1, and a
	 * pending host (1) or service (3) sees no state change into that
	 * state: recover it first (Icinga 2) */
	int pending_is_problem;
	/* results older than the current one are dropped (Icinga 2), so
	 * replayed times start at the central's last check */
	int drops_older_results;
	/* the highest host result code sent: Icinga 2 takes 0 and 1 only;
	 * Nagios takes 0-3 and maps them itself */
	int host_state_max;
	/* a flexible downtime needs a duration > 0 (Nagios refuses it) */
	int flexible_needs_duration;
};

/* The profile of a family (never NULL: an unknown value gets Nagios's). */
const struct core_profile *core_profile(enum sd_core core);
/* By --core name (nagios, naemon, checkmk, icinga2); NULL if unknown. */
const struct core_profile *core_profile_named(const char *name);
/* From what the core says of itself (Livestatus `GET status`
 * program_version and livestatus_version, or status.dat's version; either
 * may be ""). *known is 0 when nothing matched: Nagios 4's profile then. */
const struct core_profile *core_profile_detect(const char *program_version, const char *livestatus_version,
					       int *known);
/* The names --core takes, for messages. */
#define CORE_NAMES "nagios, naemon, checkmk or icinga2"

#endif
