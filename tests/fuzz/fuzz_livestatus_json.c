/* libFuzzer target: Livestatus JSON reply reader, fed in two chunks. */
#include <stddef.h>
#include <stdint.h>
#include "formats/livestatus_json.h"

static int on_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	size_t i;

	for (i = 0; i < row->n; i++)
		(void)ls_num(&row->cols[i]), (void)ls_str(&row->cols[i]);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lsjson_reader *r = lsjson_reader_new(on_row, NULL);
	sd_error err = { "" };
	size_t half = size / 2;

	if (!r)
		return 0;
	if (lsjson_reader_feed(r, data, half, &err) == 0 &&
	    lsjson_reader_feed(r, data + half, size - half, &err) == 0)
		lsjson_reader_finish(r, &err);
	lsjson_reader_free(r);
	return 0;
}
