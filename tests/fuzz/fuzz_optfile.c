/* fuzz_optfile - options from an INI file (src/base/optfile.c): any bytes
 * give options or one refusal, never a crash; every option made starts
 * with "--" and names a known option. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "base/optfile.h"

static const struct option opts[] = {
	{ "trust", required_argument, 0, 1 },
	{ "livestatus", required_argument, 0, 2 },
	{ "dry-run", no_argument, 0, 3 },
	{ 0, 0, 0, 0 },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[] = { "siteload", "b", NULL }, **nv;
	sd_error err = { "" };
	FILE *f;
	int n, i;

	if (!size || !(f = fmemopen((void *)data, size, "r")))
		return 0;
	if (optfile_merge_fp(f, "fuzz.conf", "siteload", opts, 2, argv, &n, &nv, &err) == 0) {
		if (strcmp(nv[0], "siteload") || strcmp(nv[n - 1], "b") || nv[n])
			abort();
		for (i = 1; i < n - 1; i++)
			if (strncmp(nv[i], "--trust=", 8) && strncmp(nv[i], "--livestatus=", 13) && strcmp(nv[i], "--dry-run"))
				abort();
		optfile_free(n, nv);
	} else if (!*err.msg || strchr(err.msg, '\n')) {
		abort();
	}
	fclose(f);
	return 0;
}
