/*
 * writer.c - what the config writers share: the header comment naming
 * site, time and source. A comment line must not end in a backslash
 * (Nagios would join the next line) or hold control characters.
 */
#include <time.h>
#include "writer.h"

static void put_comment_text(FILE *f, const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)(s ? s : ""); *p; p++)
		putc(*p < 0x20 || *p == 0x7f || (*p == '\\' && !p[1]) ? '?' : *p, f);
}

void writer_put_header(FILE *f, const char *title, const struct sd_meta *meta)
{
	char when[32] = "?";
	struct tm tm;

	if (meta && gmtime_r(&meta->created, &tm))
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(f, "# %s written by sitedump: shadow objects of site '", title);
	put_comment_text(f, meta ? meta->site : "");
	if (meta && !meta->created)     /* siteload: stable text, rewritten only on change */
		fputs("'\n# from ", f);
	else
		fprintf(f, "'\n# as of %s from ", when);
	put_comment_text(f, meta ? meta->source : "");
	fputs(".\n\n", f);
}

int writer_end(FILE *f, sd_error *err)
{
	if (fflush(f) != 0 || ferror(f))
		return sd_fail(err, "write error");
	return 0;
}
