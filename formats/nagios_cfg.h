/*
 * nagios_cfg.h - the paths siteload needs from a core's own main config
 * (Nagios 4's nagios.cfg, Naemon's naemon.cfg): key=value lines.
 */
#ifndef SITEDUMP_NAGIOS_CFG_H
#define SITEDUMP_NAGIOS_CFG_H
#include <stddef.h>
#include <stdio.h>
#include "base/error.h"

struct nagios_cfg {
	/* the last of each key, as the core takes it; NULL when absent */
	char *command_file, *check_result_path, *status_file, *object_cache_file;
	char **cfg_dirs;        /* every cfg_dir in file order, NULL-terminated (never NULL after a read) */
	size_t n_cfg_dirs;
};

/*
 * Parse text (len bytes, NUL not required) as the core reads its main
 * config: blanks around keys and values stripped, '#' lines and blank
 * lines skipped, a line ending in a backslash continued on the next (the
 * core's multiline read), the first '=' divides. A relative path is taken
 * from the config file's directory (the part of name before its last '/',
 * or config_rel_path=), as Naemon and Nagios 4 do. Other keys are not
 * looked at (include_file and include_dir are not followed).
 *
 * -1 with err "NAME:LINE: ..." (one line) on a line that is no key=value,
 * a NUL byte, a value of one of the five keys that is empty, has a control
 * character or is longer than PATH_MAX. cfg is then empty (freed).
 */
int nagios_cfg_parse(const char *text, size_t len, const char *name, struct nagios_cfg *cfg, sd_error *err);

/* The same from a file (at most 16 MiB; err names path). */
int nagios_cfg_load(const char *path, struct nagios_cfg *cfg, sd_error *err);

/* Frees the strings; the struct itself is the caller's. NULL ok. */
void nagios_cfg_free(struct nagios_cfg *cfg);

#endif
