/*
 * icinga2_dsl.h - config part as Icinga 2 DSL objects (--format icinga2).
 */
#ifndef SITEDUMP_ICINGA2_DSL_H
#define SITEDUMP_ICINGA2_DSL_H

#include "model/writer.h"

/*
 * Config part only: HostGroup/ServiceGroup/Host/Service objects importing
 * the templates "livedump-host" / "livedump-service" (written by begin, with
 * CheckCommand "check-livedump", when o->templates is set). o->prefix goes on
 * host and group names. Records whose names Icinga 2 cannot carry are
 * skipped (rc 1, reason in err). Strings are escaped losslessly; only a
 * vars value with an odd number of '$' is altered ("$$"), reported through
 * sink->warned like dropped group references.
 *
 * Shadow mode (o->site set, siteload): values that can reach a macro are
 * mapped to a safe form or left out (one sink->warned per record), no
 * `address` (vars.sitedump_address), the remote's variables in
 * vars.sitedump_remote, the central's o->notify_contacts /
 * o->notify_contact_groups instead of the remote's contacts, groups
 * named o->group_prefix + name (see icinga2_dsl.c).
 */
struct sd_sink *icinga2_writer_new(FILE *out, const struct writer_opts *o);
void icinga2_writer_free(struct sd_sink *s);   /* NULL ok; never closes out */

/* Why `s` cannot be an Icinga 2 object name, or NULL if it can. Static text. */
const char *icinga2_name_problem(const char *s);

/* The same for siteload's shadow objects (writer_opts.site set): also
 * refuses $ ` " ' and a final backslash, which macros would carry into the
 * central's commands. NULL or the reason (static text). */
const char *icinga2_shadow_name_problem(const char *s);

/* Write s as an Icinga 2 DSL string literal (with the quotes). */
void icinga2_put_string(FILE *f, const char *s);

#endif
