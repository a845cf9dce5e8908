/*
 * nagios_objects.h - config part as Nagios 4 object definitions (livedump -C / -T).
 */
#ifndef SITEDUMP_NAGIOS_OBJECTS_H
#define SITEDUMP_NAGIOS_OBJECTS_H

#include "model/writer.h"

/*
 * Config part only: groups, hosts and services as shadow objects that use
 * the templates livedump-host / livedump-service (written by begin, with
 * command check-livedump and timeperiods 0x0 and livedump-24x7, when
 * o->templates is set). o->prefix goes on host and group names. Records
 * whose names Nagios cannot carry are skipped (rc 1, reason in err); list
 * entries it cannot carry are left out and free text it cannot carry is
 * repaired, both reported through sink->warned.
 *
 * Shadow mode (o->site set, siteload): values that can reach a macro are
 * mapped to a safe form or left out (one sink->warned per record), the
 * remote's variables become _SITEDUMP_REMOTE_<NAME>, the central's
 * o->notify_contacts / o->notify_contact_groups replace the remote's
 * contacts, groups are named o->group_prefix + name (see nagios_objects.c).
 */
struct sd_sink *nagios_objects_writer_new(FILE *out, const struct writer_opts *o);
void nagios_objects_writer_free(struct sd_sink *s);   /* NULL ok; never closes out */

/* Why `s` cannot be a Nagios object name (text in buf), or NULL if it can. */
const char *nagios_name_problem(const char *s, char *buf, size_t len);

#endif
