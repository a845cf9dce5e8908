/*
 * rowpipe.c - see rowpipe.h. Batches of rows, copied into per-batch
 * chunks of memory that are kept and reused, go to the worker through a
 * queue under one mutex; three batches let the parser fill one while the
 * worker runs another and a third waits. A side is woken only when it
 * sleeps.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "rowpipe.h"

/* Big batches: every hand-over can cost a futex wake-up, and an
 * inter-processor wake-up in a VM is tens of microseconds (perf showed
 * 11% in futex wakes with 256-row batches). */
#define NBATCH 3
#define BATCH_ROWS 2048
/* ... or fewer when the rows are big: memory stays at about three times
 * this however wide a row is (2048 rows of a --all export were 5 MB). */
#define BATCH_BYTES (512 * 1024)
/* The first rows of a reply go straight to the callback: a thread, its
 * batches' fresh memory (page faults) and the copies cost more than they
 * save on a reply of a few thousand rows (measured at 5k services). */
#define DIRECT_ROWS 8192
#define CHUNK_SIZE (128 * 1024)

struct chunk {
	struct chunk *next;
	size_t used, cap;
	char data[];            /* 8-aligned: the header is three words */
};

struct batch {
	struct chunk *head, *cur;
	struct ls_row rows[BATCH_ROWS];
	size_t n;
	size_t bytes;            /* copied into the chunks */
	int queued;             /* with the worker (waiting or running) */
};

struct rowpipe {
	ls_row_cb cb;
	void *ctx;
	struct batch b[NBATCH];
	int fill;               /* the batch the parser fills, -1 after a failure */
	unsigned long rows;     /* put so far */
	int no_thread;          /* starting one failed: all rows direct */
	int seen_failed;        /* the parser's copy of `failed` */
	int started;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int queue[NBATCH];      /* batches for the worker, oldest first */
	int qhead, qlen;
	int done;               /* no more batches will come */
	int worker_waits;       /* the worker sleeps on cv */
	int parser_waits;       /* the parser sleeps on cv */
	int failed;             /* a callback failed; err says why */
	sd_error err;
};

static void *balloc(struct batch *b, size_t n)
{
	struct chunk *c = b->cur, *nc;
	size_t at;

	n = (n + 7) & ~(size_t)7;
	b->bytes += n;
	if (c && c->cap - c->used >= n) {
		at = c->used;
		c->used += n;
		return c->data + at;
	}
	if (c && c->next && c->next->cap >= n) {        /* a kept chunk */
		nc = c->next;
	} else {
		size_t cap = n > CHUNK_SIZE ? n : CHUNK_SIZE;
		if (!(nc = malloc(sizeof(*nc) + cap)))
			return NULL;
		nc->cap = cap;
		if (c) {
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = b->head;
			b->head = nc;
		}
	}
	nc->used = n;
	b->cur = nc;
	return nc->data;
}

static void batch_reset(struct batch *b)
{
	b->n = 0;
	b->bytes = 0;
	b->cur = b->head;
	if (b->head)
		b->head->used = 0;
}

static int copy_values(struct batch *b, struct ls_value *dst, const struct ls_value *src, size_t n)
{
	size_t i;

	memcpy(dst, src, n * sizeof(*src));
	for (i = 0; i < n; i++) {
		if (src[i].type == LS_STR) {
			if (!(dst[i].str = balloc(b, src[i].len + 1)))
				return -1;
			memcpy(dst[i].str, src[i].str, src[i].len + 1);
		} else if (src[i].type == LS_LIST) {
			dst[i].items = NULL;
			dst[i].cap = src[i].n;
			if (src[i].n && (!(dst[i].items = balloc(b, src[i].n * sizeof(*src))) ||
					 copy_values(b, dst[i].items, src[i].items, src[i].n) < 0))
				return -1;
		}
	}
	return 0;
}

/* Callbacks for one batch's rows; the first failure stops them. */
static void run_batch(struct rowpipe *p, struct batch *b, int *failed, sd_error *err)
{
	size_t i;

	for (i = 0; i < b->n && !*failed; i++)
		if (p->cb(p->ctx, &b->rows[i], err) < 0)
			*failed = 1;
}

static void *worker(void *arg)
{
	struct rowpipe *p = arg;
	sd_error err = { "" };
	int failed = 0, idx;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->qlen && !p->done) {
			p->worker_waits = 1;
			pthread_cond_wait(&p->cv, &p->mu);
			p->worker_waits = 0;
		}
		if (!p->qlen)
			break;
		idx = p->queue[p->qhead];
		pthread_mutex_unlock(&p->mu);
		run_batch(p, &p->b[idx], &failed, &err);
		pthread_mutex_lock(&p->mu);
		p->qhead = (p->qhead + 1) % NBATCH;
		p->qlen--;
		p->b[idx].queued = 0;
		if (failed && !p->failed) {
			p->failed = 1;
			p->err = err;
		}
		if (p->parser_waits)
			pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

struct rowpipe *rowpipe_new(ls_row_cb cb, void *ctx)
{
	struct rowpipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->cb = cb;
	p->ctx = ctx;
	return p;
}

static int start_worker(struct rowpipe *p)
{
	if (pthread_mutex_init(&p->mu, NULL) != 0)
		return -1;
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	if (pthread_create(&p->th, NULL, worker, p) != 0) {
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
		return -1;
	}
	p->started = 1;
	return 0;
}

/* Hand the full batch to the worker; picks the next batch to fill. */
static void submit(struct rowpipe *p)
{
	struct batch *b = &p->b[p->fill];
	int i;

	pthread_mutex_lock(&p->mu);
	b->queued = 1;
	p->queue[(p->qhead + p->qlen) % NBATCH] = p->fill;
	p->qlen++;
	if (p->worker_waits)
		pthread_cond_broadcast(&p->cv);
	p->fill = -1;
	while (p->fill < 0 && !p->failed) {
		for (i = 0; i < NBATCH; i++)
			if (!p->b[i].queued) {
				p->fill = i;
				break;
			}
		if (p->fill < 0) {
			p->parser_waits = 1;
			pthread_cond_wait(&p->cv, &p->mu);
			p->parser_waits = 0;
		}
	}
	p->seen_failed = p->failed;
	pthread_mutex_unlock(&p->mu);
	if (p->fill >= 0)
		batch_reset(&p->b[p->fill]);
}

int rowpipe_put(void *pipe, const struct ls_row *row, sd_error *err)
{
	struct rowpipe *p = pipe;
	struct batch *b;
	struct ls_value *cols = NULL;

	if (!p->started) {
		if (p->failed) {
			*err = p->err;
			return -1;
		}
		if (p->no_thread || p->rows++ < DIRECT_ROWS || start_worker(p) < 0) {
			if (!p->no_thread && p->rows > DIRECT_ROWS)
				p->no_thread = 1;
			if (p->cb(p->ctx, row, &p->err) < 0) {
				p->failed = 1;
				*err = p->err;
				return -1;
			}
			return 0;
		}
	}
	if (p->seen_failed || p->fill < 0) {
		pthread_mutex_lock(&p->mu);
		*err = p->err;
		pthread_mutex_unlock(&p->mu);
		return -1;
	}
	b = &p->b[p->fill];
	if (row->n && (!(cols = balloc(b, row->n * sizeof(*cols))) ||
		       copy_values(b, cols, row->cols, row->n) < 0))
		return sd_fail(err, "out of memory");
	b->rows[b->n].cols = cols;
	b->rows[b->n].n = row->n;
	if (++b->n == BATCH_ROWS || b->bytes >= BATCH_BYTES)
		submit(p);
	return 0;
}

int rowpipe_finish(struct rowpipe *p, sd_error *err)
{
	struct chunk *c, *next;
	int i, rc;

	if (!p)
		return 0;
	if (p->started && p->fill >= 0 && p->b[p->fill].n && !p->seen_failed)
		submit(p);
	if (p->started) {
		pthread_mutex_lock(&p->mu);
		p->done = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
		pthread_cond_destroy(&p->cv);
		pthread_mutex_destroy(&p->mu);
	}
	rc = p->failed ? -1 : 0;
	if (p->failed)
		*err = p->err;
	for (i = 0; i < NBATCH; i++)
		for (c = p->b[i].head; c; c = next) {
			next = c->next;
			free(c);
		}
	free(p);
	return rc;
}
