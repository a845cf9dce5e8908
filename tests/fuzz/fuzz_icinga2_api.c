/* libFuzzer target: Icinga 2 API action reply reader, fed in two chunks; the results'
 * strings are read in full (ASan sees any overrun). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "formats/icinga2_api.h"

static int on_result(void *ctx, const struct ia_result *r, sd_error *err)
{
	size_t *sum = ctx;

	*sum += (size_t)r->code + (r->status ? strlen(r->status) : 0) + (r->name ? strlen(r->name) : 0);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0, half = size / 2;
	struct ia_reader *r = ia_reader_new(on_result, &sum);
	sd_error err = { "" };

	if (!r)
		return 0;
	if (ia_reader_feed(r, (const char *)data, half, &err) == 0 &&
	    ia_reader_feed(r, (const char *)data + half, size - half, &err) == 0)
		ia_reader_finish(r, &err);
	ia_reader_free(r);
	return 0;
}
