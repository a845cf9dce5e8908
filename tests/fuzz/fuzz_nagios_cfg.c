/* fuzz_nagios_cfg - the core's main config (formats/nagios_cfg.c): any bytes
 * give the paths or one refusal of one line naming the file, never a
 * crash; every path taken is non-empty, without control characters, and
 * absolute when the file's name is. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "formats/nagios_cfg.h"

static void check_path(const char *p)
{
	size_t i;

	if (!p)
		return;
	if (!*p || *p != '/' || strlen(p) >= PATH_MAX)
		abort();
	for (i = 0; p[i]; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nagios_cfg c;
	sd_error err = { "" };
	size_t i;

	if (nagios_cfg_parse((const char *)data, size, "/etc/fuzz/nagios.cfg", &c, &err) == 0) {
		check_path(c.command_file);
		check_path(c.check_result_path);
		check_path(c.status_file);
		check_path(c.object_cache_file);
		if (!c.cfg_dirs || c.cfg_dirs[c.n_cfg_dirs])
			abort();
		for (i = 0; i < c.n_cfg_dirs; i++)
			check_path(c.cfg_dirs[i]);
		nagios_cfg_free(&c);
	} else if (strncmp(err.msg, "/etc/fuzz/nagios.cfg:", 21) || strchr(err.msg, '\n')) {
		if (strcmp(err.msg, "out of memory"))
			abort();
	}
	return 0;
}
