/*
 * writer.h - options shared by the writers in formats/ (livedump's CLI surface).
 *
 * Every writer is a sink (snapshot.h) that writes to a FILE the caller owns;
 * `*_writer_new` returns a heap sink, `*_writer_free` releases it (NULL ok)
 * and never closes the FILE. Writers never print and never exit.
 */
#ifndef SITEDUMP_WRITER_H
#define SITEDUMP_WRITER_H

#include <stdio.h>
#include <time.h>
#include "model/snapshot.h"

struct writer_opts {
	const char *prefix;     /* -p: prepended to every host name (and parents) */
	int templates;          /* -T: also write the shared templates */
	int contact_groups;     /* -G: write contact groups instead of contacts */
	int check_interval;     /* -i: check_interval in the templates, 0 = unset */
	unsigned parts;         /* enum sd_part: what to write (json) */
	time_t now;             /* file_time of checkresult output */
	int json_columns;       /* json: version 2 layout, records as arrays */
	int json_blocks;        /* json: version 3 layout, columns in blocks (bundles) */
	/* siteload's central config: when stale_argv is set, the templates run
	 * it as the check (argv, NULL-terminated, borrowed) after stale_after
	 * seconds without a result (Nagios freshness, Icinga 2 check_interval),
	 * and hosts carry the site in _SITEDUMP_SITE / vars.sitedump_site. */
	const char *const *stale_argv;
	int stale_after;
	const char *site;
	/* Shadow mode (site set, siteload only): the remote is untrusted
	 * (docs/security.md). Values that can reach a macro are mapped to a
	 * safe form or left out, the remote's contacts are not carried and
	 * its custom variables live in one namespace. group_prefix goes on
	 * group names (NULL: prefix); siteload makes groups site-scoped.
	 * notify_contacts / notify_contact_groups: the central's own names,
	 * comma-separated, from siteload's command line (NULL or "": none,
	 * and then notifications are off for the site's objects). */
	const char *group_prefix;
	const char *notify_contacts;
	const char *notify_contact_groups;
};

/* "# TITLE written by sitedump: shadow objects of site 'S'\n# as of T from SRC.\n\n" */
void writer_put_header(FILE *f, const char *title, const struct sd_meta *meta);

/* Flush and report a write error once, at the end of a writer. 0 or -1. */
int writer_end(FILE *f, sd_error *err);

/*
 * Shadow mode (writer.c): what both config writers do to a value of an
 * untrusted remote before it can reach a macro of the central.
 */
/* Shadow mode: what was changed in one record, collected for its one
 * warning. writer_notes_add adds why once (a repeat is dropped; cut with
 * "..." when full). */
struct writer_notes {
	char text[2048];
	size_t len;
};
void writer_notes_add(struct writer_notes *n, const char *why);
void writer_notes_clear(struct writer_notes *n);

/* Lengths of shadow-mode values: Icinga 2's config load time grows with
 * the square of a string's length (1 MiB: 0.8 s, 4 MiB: 11 s measured on
 * 2.13.6), and every reload of the central pays it again; 4 KiB is more
 * than any alias or note needs. At most WRITER_VARS_MAX custom variables
 * an object (as many as comments or downtimes, extcmd.h). */
#define WRITER_TEXT_MAX 4096
#define WRITER_VARS_MAX 100
enum { WRITER_MAPPED = 1, WRITER_CUT = 2 };
/* s itself, or a malloc'd copy in *copy (to free) in which every shell or
 * macro metacharacter ($ ` " ' \ ; | & < > ( )) is its fullwidth look-alike
 * (U+FF04 ...) and every control character a space, cut at WRITER_TEXT_MAX
 * bytes (at a UTF-8 character boundary); *changed gets the WRITER_* bits
 * of what was done. NULL: out of memory. */
const char *writer_shadow_text(const char *s, char **copy, unsigned *changed);
/* What the WRITER_* bits mean, for a warning. */
const char *writer_shadow_change(unsigned changed);
/* 1 if s is a host name ([A-Za-z0-9_.-], not starting with '-' or '.')
 * or an IPv4/IPv6 literal, else 0. */
int writer_shadow_address(const char *s);
/* A URL with scheme http: or https: or none, metacharacters, space and
 * control characters percent-encoded: s itself or a malloc'd copy in
 * *copy. NULL: left out, with the reason in *why (*why NULL: out of memory);
 * a URL longer than WRITER_TEXT_MAX is left out (a cut one would lead
 * elsewhere). */
const char *writer_shadow_url(const char *s, char **copy, const char **why);
/* Why name cannot be a custom variable name in shadow mode (NULL: it can):
 * [A-Za-z0-9_], 1..WRITER_VAR_MAX characters, which both cores and
 * siteload's status.dat and Livestatus readers carry unchanged. */
#define WRITER_VAR_MAX 64
const char *writer_shadow_var_problem(const char *name);

#endif
