/*
 * nagios_objects.h - config part as Nagios 4 object definitions (livedump -C / -T).
 */
#ifndef SITEDUMP_NAGIOS_OBJECTS_H
#define SITEDUMP_NAGIOS_OBJECTS_H

#include "writer.h"

/*
 * Config part only: groups, hosts and services as shadow objects that use
 * the templates livedump-host / livedump-service (written by begin, with
 * command check-livedump and timeperiods 0x0 and livedump-24x7, when
 * o->templates is set). o->prefix goes on host and group names. Records
 * whose names Nagios cannot carry are skipped (rc 1, reason in err); list
 * entries it cannot carry are left out and free text it cannot carry is
 * repaired, both reported through sink->warned.
 */
struct sd_sink *nagios_objects_writer_new(FILE *out, const struct writer_opts *o);
void nagios_objects_writer_free(struct sd_sink *s);   /* NULL ok; never closes out */

/* Why `s` cannot be a Nagios object name (text in buf), or NULL if it can. */
const char *nagios_name_problem(const char *s, char *buf, size_t len);

#endif
