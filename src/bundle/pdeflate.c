/*
 * pdeflate.c - see pdeflate.h. The caller fills a slot with a block of
 * input; full slots are deflated by two worker threads (started when the
 * first block is full, so small inputs never start one) and emitted by
 * the caller in block order. Three slots of 256 KiB in and out keep the
 * memory flat whatever the input's length (a bundle has up to four of
 * these at once: one per member being written, one for the tar).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <libdeflate.h>
#include "bundle/pdeflate.h"

#define BLOCK PD_BLOCK
#define NSLOT 3
#define NWORKER 2

enum slot_state { S_FREE, S_QUEUED, S_WORKING, S_DONE };

struct slot {
	unsigned char *in, *out;
	size_t in_len, out_len;
	int failed;
	enum slot_state state;
	unsigned long seq;
};

struct pdeflate {
	int level;
	pd_emit emit;
	pd_input input;
	void *ctx;
	struct slot s[NSLOT];
	size_t out_cap;
	int fill;                       /* the slot the caller fills */
	unsigned long next_seq;         /* given to the next full block */
	unsigned long emit_seq;         /* the next block to emit */
	unsigned long input_seq;        /* the next block for the input hook */
	struct libdeflate_compressor *c;        /* for blocks deflated by the caller */
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

static void put_le32(unsigned char *b, unsigned long v)
{
	int i;

	for (i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* One block into s->out as a whole gzip member. */
static int deflate_block(struct libdeflate_compressor *c, struct slot *s, size_t out_cap)
{
	size_t n;

	memcpy(s->out, PD_HEADER, PD_HEADER_LEN);
	n = libdeflate_deflate_compress(c, s->in, s->in_len, s->out + PD_HEADER_LEN, out_cap - PD_HEADER_LEN - 8);
	if (!n)
		return -1;
	put_le32(s->out + PD_HEADER_LEN + n, (unsigned long)libdeflate_crc32(0, s->in, s->in_len));
	put_le32(s->out + PD_HEADER_LEN + n + 4, (unsigned long)s->in_len);
	s->out_len = PD_HEADER_LEN + n + 8;
	return 0;
}

static void *worker(void *arg)
{
	struct pdeflate *p = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(p->level);
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
		if (p->input) {         /* in order: wait for the block before */
			while (p->input_seq != s->seq && !p->stop)
				pthread_cond_wait(&p->cv, &p->mu);
			if (p->stop)
				break;
			pthread_mutex_unlock(&p->mu);
			p->input(p->ctx, s->in, s->in_len);
			pthread_mutex_lock(&p->mu);
			p->input_seq++;
			pthread_cond_broadcast(&p->cv);
		}
		pthread_mutex_unlock(&p->mu);
		s->failed = !c || deflate_block(c, s, p->out_cap) < 0;
		pthread_mutex_lock(&p->mu);
		s->state = S_DONE;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	libdeflate_free_compressor(c);
	return NULL;
}

struct pdeflate *pd_new(int level, pd_emit emit, pd_input input, void *ctx, sd_error *err)
{
	struct pdeflate *p = calloc(1, sizeof(*p));

	if (!p) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	p->level = level;
	p->emit = emit;
	p->input = input;
	p->ctx = ctx;
	if (!(p->c = libdeflate_alloc_compressor(level))) {
		free(p);
		sd_fail(err, "libdeflate: cannot create a compressor (level %d)", level);
		return NULL;
	}
	p->out_cap = PD_HEADER_LEN + libdeflate_deflate_compress_bound(p->c, BLOCK) + 8;
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
			if (!p->failed)
				p->emit(p->ctx, s->out, s->out_len);
			if (p->nthreads)
				pthread_mutex_lock(&p->mu);
			s->state = S_FREE;
			p->emit_seq++;
		}
	} while (found);
}

/* The filled slot, if it holds any input, becomes a block; with flush,
 * waits until every block is out. Picks the next slot to fill. */
static void dispatch(struct pdeflate *p, int flush)
{
	struct slot *s = &p->s[p->fill];
	int i;

	if (s->in_len) {
		s->seq = p->next_seq++;
		if (!p->nthreads && !flush && !p->failed)
			start_threads(p);
		if (!p->nthreads) {     /* deflate it here */
			if (p->input)
				p->input(p->ctx, s->in, s->in_len);
			p->input_seq++;
			s->failed = deflate_block(p->c, s, p->out_cap) < 0;
			s->state = S_DONE;
			emit_ready(p);
			s->in_len = 0;
			return;
		}
	} else if (!p->nthreads) {
		return;
	}
	pthread_mutex_lock(&p->mu);
	if (s->in_len) {
		s->state = S_QUEUED;
		pthread_cond_broadcast(&p->cv);
	}
	for (;;) {
		emit_ready(p);
		if (!flush || p->emit_seq == p->next_seq) {
			/* a slot to fill next */
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

	while (len && !p->failed) {
		struct slot *s = &p->s[p->fill];
		size_t n = BLOCK - s->in_len < len ? BLOCK - s->in_len : len;

		memcpy(s->in + s->in_len, b, n);
		s->in_len += n;
		b += n;
		len -= n;
		if (s->in_len == BLOCK)
			dispatch(p, 0);
	}
	return p->failed ? sd_fail(err, "libdeflate: deflate failed") : 0;
}

int pd_flush(struct pdeflate *p, sd_error *err)
{
	if (!p->failed)
		dispatch(p, 1);
	return p->failed ? sd_fail(err, "libdeflate: deflate failed") : 0;
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
	libdeflate_free_compressor(p->c);
	for (i = 0; i < NSLOT; i++) {
		free(p->s[i].in);
		free(p->s[i].out);
	}
	free(p);
}
