/* libFuzzer target: the strict MIME reader siteload takes mail apart with
 * (headers, unfolding, parameters, boundaries, base64), and the bundle
 * file names the queue and the spool parse. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "transports/mail.h"
#include "bundle/bundle_name.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct mail_bundle b;
	struct bundle_name qn;
	sd_error err;
	char name[300];

	if (!init++ && sodium_init() < 0)
		abort();
	if (mail_extract((const char *)data, size, &b, &err) == 0) {
		/* what the reader hands on is never empty */
		if (!b.data || !b.len)
			abort();
		mail_bundle_free(&b);
	} else if (b.data || !err.msg[0]) {
		abort();
	}
	if (size < sizeof(name)) {
		memcpy(name, data, size);
		name[size] = '\0';
		if (bundle_name_parse(name, &qn) == 0) {
			struct bundle_name back;
			char again[BUNDLE_NAME_MAX];

			/* what parses formats and parses back to the same parts
			 * (not the same text: leading zeros of SEQ are taken) */
			if (bundle_name_format(again, sizeof(again), qn.site, qn.seq, qn.kind, qn.ext) < 0 ||
			    bundle_name_parse(again, &back) < 0 || strcmp(back.site, qn.site) || back.seq != qn.seq ||
			    back.kind != qn.kind || back.ext != qn.ext)
				abort();
		}
	}
	return 0;
}
