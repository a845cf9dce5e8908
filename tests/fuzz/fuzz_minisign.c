/* libFuzzer target: minisign public key, secret key and signature readers. */
#include <stddef.h>
#include <stdint.h>
#include "formats/minisign.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ms_pubkey pk = { { 0xc9, 0xdb, 0x52, 0x46, 0x9f, 0xe6, 0xb8, 0xf3 }, { 0 } };
	struct ms_pubkey out;
	sd_error err;
	char tc[256];

	ms_pubkey_parse((const char *)data, size, &out, &err);
	ms_seckey_free(ms_seckey_parse((const char *)data, size, &err));
	ms_verify(&pk, "hello\n", 6, (const char *)data, size, tc, sizeof(tc), &err);
	return 0;
}
