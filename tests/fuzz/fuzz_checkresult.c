/*
 * libFuzzer target: the check result spool reader (checkresult_read) and
 * Nagios's output split (checkresult_decode_output). Every string of a
 * record is touched; every output is decoded; the decoded parts, encoded
 * again and decoded once more, must come back the same (the writer and
 * the reader agree), except where the encoder must alter ('|' in output).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "formats/checkresult.h"
#include "tests/support/readers.h"

static int cb(void *ctx, const struct cr_record *r, sd_error *err)
{
	char *po, *pd, *lo, *enc, *po2, *pd2, *lo2;
	int altered;

	(void)ctx;
	(void)err;
	if (!r->host_name || !r->output)
		abort();
	(void)strlen(r->host_name);
	if (r->service_description)
		(void)strlen(r->service_description);
	if (checkresult_decode_output(r->output, &po, &pd, &lo) < 0)
		return -1;
	enc = checkresult_encode_output(po, pd, lo, &altered);
	if (enc && !altered && !strchr(po, '\n') && !strchr(pd, '\n') &&
	    checkresult_decode_output(enc, &po2, &pd2, &lo2) == 0) {
		/* round trip: only when nothing needed altering and the parts
		 * are the canonical ones (no trailing space before '|') */
		size_t l = strlen(po);
		if (!(l && po[l - 1] == ' ') && strcmp(po, po2))
			__builtin_trap();
		free(po2);
		free(pd2);
		free(lo2);
	}
	free(enc);
	free(po);
	free(pd);
	free(lo);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	long long ft;
	sd_error err;

	if (!f)
		return 0;
	checkresult_read(f, "fuzz", &ft, cb, NULL, NULL, &err);
	fclose(f);
	return 0;
}
