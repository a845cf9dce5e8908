/* libFuzzer target: the strict MIME reader siteload takes mail apart with
 * (headers, unfolding, parameters, boundaries, base64), and the bundle
 * file names the queue parses. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>
#include "transports/mail.h"
#include "transports/queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct mail_bundle b;
	struct queue_name qn;
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
		queue_name_parse(name, &qn);
	}
	return 0;
}
