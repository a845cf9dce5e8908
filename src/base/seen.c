/*
 * seen.c - see seen.h. Open addressing over 64-bit hashes; 0 marks a free
 * slot (a record hashing to 0 is stored as 1: one more chance collision).
 * glibc's hsearch is one global table and tsearch costs a node per record.
 */
#include <stdint.h>
#include <stdlib.h>
#include <sodium.h>
#include "base/seen.h"

struct seen {
	uint64_t *slot;
	size_t cap, n;                  /* cap: a power of two */
	unsigned char key[crypto_shorthash_KEYBYTES];
};

struct seen *seen_new(void)
{
	struct seen *s;

	if (sodium_init() < 0 || !(s = calloc(1, sizeof(*s))))
		return NULL;
	s->cap = 1024;
	if (!(s->slot = calloc(s->cap, sizeof(*s->slot)))) {
		free(s);
		return NULL;
	}
	randombytes_buf(s->key, sizeof(s->key));
	return s;
}

static int put(uint64_t *slot, size_t cap, uint64_t h)
{
	size_t i = (size_t)h & (cap - 1);

	while (slot[i]) {
		if (slot[i] == h)
			return 0;
		i = (i + 1) & (cap - 1);
	}
	slot[i] = h;
	return 1;
}

static int grow(struct seen *s)
{
	uint64_t *old = s->slot, *nw = calloc(2 * s->cap, sizeof(*nw));
	size_t i;

	if (!nw)
		return -1;
	for (i = 0; i < s->cap; i++)
		if (old[i])
			put(nw, 2 * s->cap, old[i]);
	s->slot = nw;
	s->cap *= 2;
	free(old);
	return 0;
}

int seen_add(struct seen *s, const void *p, size_t len)
{
	unsigned char out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;
	int r;

	crypto_shorthash(out, p, len, s->key);
	for (i = 0; i < sizeof(out); i++)
		h = h << 8 | out[i];
	if (!h)
		h = 1;
	if (2 * (s->n + 1) > s->cap && grow(s) < 0)
		return -1;
	if ((r = put(s->slot, s->cap, h)))
		s->n++;
	return r;
}

void seen_free(struct seen *s)
{
	if (s)
		free(s->slot);
	free(s);
}
