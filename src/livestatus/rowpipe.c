/*
 * rowpipe.c - see rowpipe.h.
 *
 * Why: Icinga 2 builds its whole Livestatus reply before it sends a byte,
 * so all of sitedump's work on a 50k-service reply comes after the
 * server's own time, and it ran on one core while the other idled:
 * parsing (yajl and the reader's callbacks) and then, per row, building
 * the record and writing it (text or JSON, hashing, feeding deflate).
 * With the pipe the reader parses on the calling thread and the rest runs
 * on a second one; the two halves cost about the same (perf). The cut is
 * at the row, not at the record, because a row is cheap to copy: every
 * string's length is known, and the record building goes to the other
 * side too.
 *
 * A row is encoded into a batch (see struct rhdr) and decoded on the
 * other side into an array of values whose strings point into the batch.
 * Batches go round a ring; the parser waits only when all of them are
 * queued.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "livestatus/rowpipe.h"

#define BATCH (128u << 10)
#define NBATCH 4
/* Rows are handed on in the caller's thread until this many bytes went
 * through: a small site's export is over before a second thread pays off
 * (at 5k services a thread made the part after the reply 3 ms slower:
 * waking it costs more than the rows it would take). */
#define PIPE_AFTER (2u << 20)
#define ALIGN(n) (((n) + 7) & ~(size_t)7)

/* A row in a batch: this header, then its values, each a tag byte and
 * what the tag needs (a double; u32 length, bytes and a NUL; u32 count and
 * that many values). 9 bytes for a number where a struct ls_value is 56:
 * copying rows as arrays of those moved five times the reply's bytes
 * through the batches and left the second thread no gain. */
struct rhdr {
	const struct rowpipe_target *t;
	uint32_t size;          /* the whole row, this header included */
	uint32_t n;             /* columns */
	uint32_t nvalues;       /* values at every depth: the decoder's array */
};
#define HDR ALIGN(sizeof(struct rhdr))

enum { T_NULL, T_FALSE, T_TRUE, T_NUM, T_STR, T_LIST };

struct batch {
	char *p;
	size_t len, cap;
};

struct rowpipe {
	struct batch b[NBATCH];
	unsigned long put;      /* batches handed over; b[put % NBATCH] is being filled */
	unsigned long got;      /* batches through */
	int ending;             /* no more batches */
	int stop;               /* give up */
	int failed;             /* a callback failed; err says why */
	int done;               /* the thread is through */
	int running;            /* ... and not yet joined */
	int started;            /* rows go through the thread (or -1: it could not start) */
	size_t inline_bytes;    /* rows handed on directly so far */
	sd_error err;
	pthread_t th;
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

/* ---- the pipe's thread: offsets back to pointers, rows to callbacks --- */

/* Decodes n values at *p into v, nested lists into the slots after *next. */
static const char *decode(const char *p, struct ls_value *v, size_t n, struct ls_value *all, size_t *next)
{
	size_t i;
	uint32_t len;

	for (i = 0; i < n; i++) {
		v[i].str = NULL;
		v[i].items = NULL;
		v[i].n = v[i].cap = 0;
		switch (*p++) {
		case T_NULL: v[i].type = LS_NULL; break;
		case T_FALSE: case T_TRUE:
			v[i].type = LS_BOOL;
			v[i].b = p[-1] == T_TRUE;
			v[i].num = v[i].b;
			break;
		case T_NUM:
			v[i].type = LS_NUM;
			memcpy(&v[i].num, p, sizeof(double));
			p += sizeof(double);
			break;
		case T_STR:
			v[i].type = LS_STR;
			memcpy(&len, p, sizeof(len));
			v[i].str = (char *)p + sizeof(len);
			v[i].len = len;
			p += sizeof(len) + len + 1;
			break;
		default:
			v[i].type = LS_LIST;
			memcpy(&len, p, sizeof(len));
			p += sizeof(len);
			v[i].items = all + *next;
			v[i].n = v[i].cap = len;
			*next += len;
			p = decode(p, v[i].items, len, all, next);
			break;
		}
	}
	return p;
}

static int replay(const struct batch *b, struct ls_value **vals, size_t *cap, sd_error *err)
{
	size_t at = 0, next;

	while (at < b->len) {
		const struct rhdr *h = (const struct rhdr *)(const void *)(b->p + at);
		struct ls_row row;

		if (h->nvalues > *cap) {
			struct ls_value *nv = realloc(*vals, h->nvalues * sizeof(**vals));
			if (!nv)
				return sd_fail(err, "out of memory");
			*vals = nv;
			*cap = h->nvalues;
		}
		next = h->n;
		decode(b->p + at + HDR, *vals, h->n, *vals, &next);
		row.cols = *vals;
		row.n = h->n;
		if (h->t->cb(h->t->ctx, &row, err) < 0)
			return -1;
		at += h->size;
	}
	return 0;
}

static void *run(void *arg)
{
	struct rowpipe *p = arg;
	sd_error err = { "" };
	struct ls_value *vals = NULL;   /* the row being handed on, reused */
	size_t cap = 0;
	int rc;

	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->got == p->put && !p->ending && !p->stop)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stop || p->got == p->put)        /* stopped, or ending with all through */
			break;
		pthread_mutex_unlock(&p->mu);
		rc = replay(&p->b[p->got % NBATCH], &vals, &cap, &err);
		pthread_mutex_lock(&p->mu);
		if (rc < 0) {
			p->err = err;
			__atomic_store_n(&p->failed, 1, __ATOMIC_RELEASE);
			break;
		}
		p->got++;
		pthread_cond_broadcast(&p->cv);
	}
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	free(vals);
	return NULL;
}

/* ---- the parsing thread: rows copied into batches -------------------- */

static int failed(struct rowpipe *p, sd_error *err)
{
	if (!__atomic_load_n(&p->failed, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&p->mu);
	*err = p->err;
	pthread_mutex_unlock(&p->mu);
	return 1;
}

/* Bytes the encoding of n values takes; *count gets their number at every depth. */
static size_t measure(const struct ls_value *v, size_t n, size_t *count)
{
	size_t size = n, i;         /* the tags */

	*count += n;
	for (i = 0; i < n; i++) {
		if (v[i].type == LS_NUM)
			size += sizeof(double);
		else if (v[i].type == LS_STR)
			size += sizeof(uint32_t) + v[i].len + 1;
		else if (v[i].type == LS_LIST)
			size += sizeof(uint32_t) + measure(v[i].items, v[i].n, count);
	}
	return size;
}

static char *encode(char *p, const struct ls_value *v, size_t n)
{
	size_t i;
	uint32_t len;

	for (i = 0; i < n; i++) {
		switch (v[i].type) {
		case LS_NULL: *p++ = T_NULL; break;
		case LS_BOOL: *p++ = v[i].b ? T_TRUE : T_FALSE; break;
		case LS_NUM:
			*p++ = T_NUM;
			memcpy(p, &v[i].num, sizeof(double));
			p += sizeof(double);
			break;
		case LS_STR:
			*p++ = T_STR;
			len = (uint32_t)v[i].len;       /* rows are at most 64 MiB (livestatus_json.h) */
			memcpy(p, &len, sizeof(len));
			memcpy(p + sizeof(len), v[i].str, v[i].len + 1);
			p += sizeof(len) + v[i].len + 1;
			break;
		default:
			*p++ = T_LIST;
			len = (uint32_t)v[i].n;
			memcpy(p, &len, sizeof(len));
			p = encode(p + sizeof(len), v[i].items, v[i].n);
			break;
		}
	}
	return p;
}

/* Room for `size` bytes in the batch being filled; hands a full batch
 * over first, waiting for a free one. */
static struct batch *reserve(struct rowpipe *p, size_t size, sd_error *err)
{
	struct batch *b = &p->b[p->put % NBATCH];

	if (b->len && b->len + size > b->cap) {
		pthread_mutex_lock(&p->mu);
		p->put++;
		pthread_cond_broadcast(&p->cv);
		while (p->put - p->got >= NBATCH && !p->failed)
			pthread_cond_wait(&p->cv, &p->mu);
		pthread_mutex_unlock(&p->mu);
		if (failed(p, err))
			return NULL;
		b = &p->b[p->put % NBATCH];
		b->len = 0;
	}
	if (size > b->cap) {            /* only on an empty batch: nothing in it moves */
		size_t cap = size > BATCH ? size : BATCH;
		char *np = realloc(b->p, cap);
		if (!np) {
			sd_fail(err, "out of memory");
			return NULL;
		}
		b->p = np;
		b->cap = cap;
	}
	return b;
}

int rowpipe_push(void *ctx, const struct ls_row *row, sd_error *err)
{
	const struct rowpipe_target *t = ctx;
	struct rowpipe *p = t->pipe;
	struct batch *b;
	size_t count = 0, size;

	if (p->started <= 0) {
		size = measure(row->cols, row->n, &count);
		/* a reply announced as large starts the thread at its first
		 * row: its first 2 MiB were otherwise built and written on the
		 * reading thread, one after the other (20% of 50k services) */
		if (p->started < 0 || (row->reply_bytes < PIPE_AFTER && p->inline_bytes + size < PIPE_AFTER)) {
			p->inline_bytes += size;
			return t->cb(t->ctx, row, err);
		}
		if (pthread_create(&p->th, NULL, run, p) != 0) {
			p->started = -1;
			return t->cb(t->ctx, row, err);
		}
		p->started = p->running = 1;
		count = 0;
	}
	if (failed(p, err))
		return -1;
	size = ALIGN(HDR + measure(row->cols, row->n, &count));
	if (size > UINT32_MAX || count > UINT32_MAX)
		return sd_fail(err, "reply row too large");
	if (!(b = reserve(p, size, err)))
		return -1;
	*(struct rhdr *)(void *)(b->p + b->len) = (struct rhdr){ t, (uint32_t)size, (uint32_t)row->n, (uint32_t)count };
	encode(b->p + b->len + HDR, row->cols, row->n);
	b->len += size;
	return 0;
}

struct rowpipe *rowpipe_new(void)
{
	struct rowpipe *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	if (pthread_mutex_init(&p->mu, NULL) != 0) {
		free(p);
		return NULL;
	}
	if (pthread_cond_init(&p->cv, NULL) != 0) {
		pthread_mutex_destroy(&p->mu);
		free(p);
		return NULL;
	}
	return p;
}

int rowpipe_finish(struct rowpipe *p, sd_error *err)
{
	if (!p->running)
		return 0;               /* every row went through directly */
	pthread_mutex_lock(&p->mu);
	if (p->b[p->put % NBATCH].len && !p->failed)
		p->put++;               /* the last batch, however full */
	p->ending = 1;
	pthread_cond_broadcast(&p->cv);
	while (!p->done)
		pthread_cond_wait(&p->cv, &p->mu);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->th, NULL);
	p->running = 0;
	if (p->failed) {
		*err = p->err;
		return -1;
	}
	return 0;
}

void rowpipe_free(struct rowpipe *p)
{
	int i;

	if (!p)
		return;
	if (p->running) {
		pthread_mutex_lock(&p->mu);
		p->stop = 1;
		pthread_cond_broadcast(&p->cv);
		pthread_mutex_unlock(&p->mu);
		pthread_join(p->th, NULL);
	}
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	for (i = 0; i < NBATCH; i++)
		free(p->b[i].p);
	free(p);
}
