/*
 * optfile.h - a tool's options from an INI file (/etc/sitedump/siteload.conf,
 * sitedump.conf): one place for what the ssh forced command, the cron jobs,
 * the systemd units and the mail path would otherwise each repeat.
 */
#ifndef SITEDUMP_OPTFILE_H
#define SITEDUMP_OPTFILE_H
#include <getopt.h>
#include <stdio.h>
#include "base/error.h"

/*
 * A new argv: argv[0], then each "key = value" of the file's keys before
 * any section and in [section] as --key=value (a flag: yes/true/on/1 as
 * --key, no/false/off/0 left out), then argv[1..]: on the command line a
 * later option wins, so what is given there overrides the file. Keys are
 * longopts' names (not help or version). *nargv (and its strings) is
 * malloc'd: optfile_free. -1 with err ("FILE:LINE: ...") on a file that
 * cannot be read, a line inih cannot parse, an unknown key, or a flag
 * with a value that is no yes or no.
 */
int optfile_merge(const char *path, const char *section, const struct option *longopts,
		  int argc, char **argv, int *nargc, char ***nargv, sd_error *err);
/* The same from an open stream (path only names it in messages). */
int optfile_merge_fp(FILE *f, const char *path, const char *section, const struct option *longopts,
		     int argc, char **argv, int *nargc, char ***nargv, sd_error *err);
void optfile_free(int nargc, char **nargv);    /* NULL ok */

/*
 * The file to read: --OPT FILE or --OPT=FILE in argv (opt without the
 * dashes; taken out of argv: argc and argv are updated in place), else
 * dflt if it exists, else NULL. -1 with err when the option has no value.
 */
int optfile_pick(const char *opt, int *argc, char **argv, const char *dflt, const char **path, sd_error *err);
#endif
