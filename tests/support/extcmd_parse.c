/*
 * extcmd_parse.c - an external command line split back into its fields
 * (formats/extcmd.c builds them).
 */
#include <stdlib.h>
#include <string.h>
#include "tests/support/readers.h"

int extcmd_parse(char *line, long long *ts, char **fields, int max_fields, sd_error *err)
{
	char *p = line, *end;
	int n = 0;

	if (max_fields < 1)
		return sd_fail(err, "no room for fields");
	if (strpbrk(line, "\n\r"))
		return sd_fail(err, "line break inside a command");
	if (*p++ != '[')
		return sd_fail(err, "command does not start with '['");
	if (*p < '0' || *p > '9')
		return sd_fail(err, "bad timestamp");
	*ts = strtoll(p, &end, 10);
	if (*end != ']' || end[1] != ' ' || end - p > 18)
		return sd_fail(err, "bad timestamp");
	p = end + 2;
	if (!*p || *p == ';')
		return sd_fail(err, "missing command name");
	fields[n++] = p;
	while ((p = strchr(p, ';'))) {
		if (n == max_fields)
			break;
		*p++ = 0;
		fields[n++] = p;
	}
	return n;
}
