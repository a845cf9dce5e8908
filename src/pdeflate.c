/*
 * pdeflate.c - see pdeflate.h. The caller fills a slot with a block of
 * input; full slots are deflated by two worker threads (started when the
 * first block is full, so small streams never start one) and emitted by
 * the caller in block order. Three slots of 1 MiB in and out keep the
 * memory at ~2 MiB whatever the stream length (a bundle has up to three
 * of these at once, one per member being written).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pdeflate.h"

#define BLOCK PD_BLOCK
#define DICT 32768u
#define NSLOT 3
#define NWORKER 2

enum slot_state { S_FREE, S_QUEUED, S_WORKING, S_DONE };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	unsigned char dict[DICT];
	size_t dict_len;
	uLong crc;
	int last;
	int finish;             /* last and final: Z_FINISH */
	int failed;
	enum slot_state state;
	unsigned long seq;
};

struct pdeflate {
	int level;
	pd_emit emit;
	void *ctx;
	struct slot s[NSLOT];
	size_t out_cap;
	int fill;                       /* the slot the caller fills */
	unsigned long next_seq;         /* given to the next full block */
	unsigned long emit_seq;         /* the next block to emit */
	unsigned char tail[DICT];       /* the input's last 32 KiB so far */
	size_t tail_len;
	uLong crc;
	unsigned long long isize;
	z_stream z;                     /* for blocks deflated by the caller */
	int nthreads;
	pthread_t th[NWORKER];
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int stop;
	int failed;
};

static int slot_alloc(struct pdeflate *p, struct slot *s)
{
	if (!s->in && !(s->in = malloc(BLOCK)))
		return -1;
	if (!s->out && !(s->out = malloc(p->out_cap)))
		return -1;
	return 0;
}

/* One block into s->out: its own deflate stream with the previous 32 KiB
 * as dictionary, ended by a sync flush, or by the final block if last. */
static int deflate_block(z_stream *z, struct slot *s, size_t out_cap)
{
	int rc;

	if (deflateReset(z) != Z_OK || (s->dict_len && deflateSetDictionary(z, s->dict, (uInt)s->dict_len) != Z_OK))
		return -1;
	z->next_in = s->in;
	z->avail_in = (uInt)s->in_len;
	z->next_out = s->out;
	z->avail_out = (uInt)out_cap;
	rc = deflate(z, s->finish ? Z_FINISH : Z_SYNC_FLUSH);
	if (s->finish ? rc != Z_STREAM_END : rc != Z_OK || z->avail_in || !z->avail_out)
		return -1;
	s->out_len = out_cap - z->avail_out;
	s->crc = crc32(0, s->in, (uInt)s->in_len);
	return 0;
}

static void *worker(void *arg)
{
	struct pdeflate *p = arg;
	z_stream z = { 0 };
	int ok = deflateInit2(&z, p->level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK;
	struct slot *s;
	int i;

	pthread_mutex_lock(&p->mu);
	while (!p->stop) {
		for (s = NULL, i = 0; i < NSLOT; i++)   /* the oldest queued block */
			if (p->s[i].state == S_QUEUED && (!s || p->s[i].seq < s->seq))
				s = &p->s[i];
		if (!s) {
			pthread_cond_wait(&p->cv, &p->mu);
			continue;
		}
		s->state = S_WORKING;
		pthread_mutex_unlock(&p->mu);
		s->failed = !ok || deflate_block(&z, s, p->out_cap) < 0;
		pthread_mutex_lock(&p->mu);
		s->state = S_DONE;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	if (ok)
		deflateEnd(&z);
	return NULL;
}

struct pdeflate *pd_new(int level, pd_emit emit, void *ctx, sd_error *err)
{
	struct pdeflate *p = calloc(1, sizeof(*p));

	if (!p) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	p->level = level;
	p->emit = emit;
	p->ctx = ctx;
	p->crc = crc32(0, NULL, 0);
	if (deflateInit2(&p->z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(p);
		sd_fail(err, "zlib: deflateInit failed");
		return NULL;
	}
	/* a sync flush adds at most an empty stored block to the bound */
	p->out_cap = deflateBound(&p->z, BLOCK) + 64;
	if (slot_alloc(p, &p->s[0]) < 0) {
		pd_free(p);
		sd_fail(err, "out of memory");
		return NULL;
	}
	return p;
}

static void start_threads(struct pdeflate *p)
{
	int i;

	for (i = 1; i < NSLOT; i++)
		if (slot_alloc(p, &p->s[i]) < 0)
			return;         /* no memory for more slots: stay single */
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return;
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		return;
	}
	for (i = 0; i < NWORKER; i++)       /* th[0..nthreads-1] are the running ones */
		if (pthread_create(&p->th[p->nthreads], NULL, worker, p) == 0)
			p->nthreads++;
	if (!p->nthreads) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
	}
}

/* Emit the done blocks that are next in order; called with the lock held
 * when there are threads (it drops it around the callback). */
static void emit_ready(struct pdeflate *p)
{
	struct slot *s;
	int i, found;

	do {
		found = 0;
		for (i = 0; i < NSLOT; i++) {
			s = &p->s[i];
			if (s->state != S_DONE || s->seq != p->emit_seq)
				continue;
			found = 1;
			if (s->failed)
				p->failed = 1;
			if (p->nthreads)
				pthread_mutex_unlock(&p->mu);
			if (!p->failed) {
				p->emit(p->ctx, s->out, s->out_len);
				p->crc = crc32_combine(p->crc, s->crc, (z_off_t)s->in_len);
			}
			if (p->nthreads)
				pthread_mutex_lock(&p->mu);
			s->state = S_FREE;
			p->emit_seq++;
		}
	} while (found);
}

/* The filled slot becomes a block; picks the next slot to fill. */
static void dispatch(struct pdeflate *p, int last, int final)
{
	struct slot *s = &p->s[p->fill];
	int i;

	memcpy(s->dict, p->tail, p->tail_len);
	s->dict_len = p->tail_len;
	if (s->in_len >= DICT) {
		memcpy(p->tail, s->in + s->in_len - DICT, DICT);
		p->tail_len = DICT;
	} else if (s->in_len) {         /* only the last block can be short */
		size_t keep = p->tail_len + s->in_len > DICT ? DICT - s->in_len : p->tail_len;
		memmove(p->tail, p->tail + p->tail_len - keep, keep);
		memcpy(p->tail + keep, s->in, s->in_len);
		p->tail_len = keep + s->in_len;
	}
	s->last = last;
	s->finish = last && final;
	s->seq = p->next_seq++;
	if (!p->nthreads && !last && !p->failed)
		start_threads(p);
	if (!p->nthreads) {             /* deflate it here */
		s->failed = deflate_block(&p->z, s, p->out_cap) < 0;
		s->state = S_DONE;
		emit_ready(p);
		s->in_len = 0;
		return;
	}
	pthread_mutex_lock(&p->mu);
	s->state = S_QUEUED;
	pthread_cond_broadcast(&p->cv);
	for (;;) {
		emit_ready(p);
		if (last) {             /* wait for every block to be out */
			if (p->emit_seq == p->next_seq)
				break;
		} else {                /* wait for a slot to fill next */
			for (i = 0; i < NSLOT && p->s[i].state != S_FREE; i++)
				;
			if (i < NSLOT) {
				p->fill = i;
				p->s[i].in_len = 0;
				break;
			}
		}
		pthread_cond_wait(&p->cv, &p->mu);
	}
	pthread_mutex_unlock(&p->mu);
}

int pd_write(struct pdeflate *p, const void *buf, size_t len, sd_error *err)
{
	const unsigned char *b = buf;

	p->isize += len;
	while (len && !p->failed) {
		struct slot *s = &p->s[p->fill];
		size_t n = BLOCK - s->in_len < len ? BLOCK - s->in_len : len;

		memcpy(s->in + s->in_len, b, n);
		s->in_len += n;
		b += n;
		len -= n;
		if (s->in_len == BLOCK)
			dispatch(p, 0, 0);
	}
	return p->failed ? sd_fail(err, "zlib: deflate failed") : 0;
}

int pd_finish(struct pdeflate *p, int final, unsigned long *crc, unsigned long long *isize, sd_error *err)
{
	if (!p->failed)
		dispatch(p, 1, final);
	if (p->failed)
		return sd_fail(err, "zlib: deflate failed");
	*crc = p->crc;
	*isize = p->isize;
	return 0;
}

void pd_free(struct pdeflate *p)
{
	int i;

	if (!p)
		return;
	if (p->nthreads) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		for (i = 0; i < p->nthreads; i++)
			pthread_join(p->th[i], NULL);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
	}
	deflateEnd(&p->z);
	for (i = 0; i < NSLOT; i++) {
		free(p->s[i].in);
		free(p->s[i].out);
	}
	free(p);
}
