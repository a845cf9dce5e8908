/* libFuzzer target: the whole bundle reader (gzip/zstd/tar layers,
 * manifest, signature), with and without a trusted key. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "bundle/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ms_pubkey pk;     /* a key that signs nothing: signature paths still run */
	static const struct bundle_limits lim = { 16, 1 << 20, 4 << 20 };
	struct bundle_reader *r;
	sd_error err;
	int fd = memfd_create("bundle", 0), vf, pass;

	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	for (pass = 0; pass < 2; pass++) {
		lseek(fd, 0, SEEK_SET);
		r = bundle_read(fd, pass ? &pk : NULL, &lim, "/tmp", &vf, &err);
		bundle_reader_free(r);
	}
	close(fd);
	return 0;
}
