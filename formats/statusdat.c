/*
 * statusdat.c - status.dat + objects.cache reader (Nagios 4, Icinga 2 StatusDataWriter).
 *
 * Why it works this way:
 * - Memory must not follow the site size, so one block is held at a time, in
 *   per-key buffers reused from block to block. The one thing that grows is
 *   group membership: Nagios' objects.cache lists members only in the
 *   `define hostgroup/servicegroup` blocks, which come before all hosts and
 *   services, so maps host -> hostgroups and (host, service) -> servicegroups
 *   are kept to fill sd_object.groups. Icinga writes each object's groups
 *   inline (host_groups/service_groups) and its group blocks last; no map then.
 * - The snapshot order (groups, hosts, services, comments, downtimes) is not
 *   the files' order in Icinga (objects interleaved with their comments and
 *   downtimes, groups after objects), so the same open streams are read in
 *   several passes instead of buffering. That is consistent because both cores
 *   replace the files by rename: the inode opened first never changes.
 * - The files hold what remote sites sent (siteload's central): custom
 *   variable names Nagios takes ("_A-B=0;x"), any time_t it was sent (8e15).
 *   So the reader refuses a record, never the file: a block it cannot use
 *   (a bad value or line, a NUL byte, cut by the end of the file) is skipped
 *   and reported through sink->skipped, a time out of range is clamped and
 *   reported through sink->warned. One site's odd object must not stop the
 *   reading of every other one. Only what is not such a file at all (no
 *   block before other text, no info/programstatus block first) is an error.
 * - A check pass over both files precedes any emission, so an error comes
 *   before any record, and the reports too (the later passes are quiet).
 *   siteload's model of its central can drop what it got on an error, and a
 *   second pass over a large status.dat doubles the read: for it the check
 *   pass emits, while the file is in the snapshot order (statusdat_read_state_once).
 *   A file cut exactly between two blocks parses cleanly; hence the
 *   cross-checks, still errors: equal host/service counts in both files,
 *   downtimes in effect covering every scheduled_downtime_depth, a downtime
 *   for each Nagios downtime comment, and a definition for every group an
 *   Icinga object names. Skipped blocks still count, so only a cut or a
 *   mismatched pair trips them, which no content a site sends can make.
 * - Icinga's writer imitates Nagios loosely: raw newlines in free text, a
 *   TAB-separated check_period line in status blocks, float times, only LF
 *   escaped in long output and custom variables. Those are accepted only
 *   once the file is known to be Icinga's (icinga_pid, or the header line).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include "formats/statusdat.h"

/* ---------------------------------------------------------------- lines */

struct rd {
	FILE *f;
	const char *name;
	off_t start;
	char *line;
	size_t cap;
	size_t len;
	long lineno;
	int nul;                /* the line holds a NUL byte (never written by a core) */
	int report;             /* this pass uses the file: its faults are reported */
};

static int rd_rewind(struct rd *r, sd_error *err)
{
	if (fseeko(r->f, r->start, SEEK_SET) != 0)
		return sd_fail(err, "%s: cannot read it again from the start: %s", r->name, strerror(errno));
	clearerr(r->f);
	r->lineno = 0;
	return 0;
}

/* 1: a line (without its LF) in r->line, 0: end of file, -1: error. */
static int rd_next(struct rd *r, sd_error *err)
{
	ssize_t n;

	errno = 0;
	n = getline(&r->line, &r->cap, r->f);
	if (n < 0) {
		if (ferror(r->f) || errno == ENOMEM || errno == EOVERFLOW)
			return sd_fail(err, "%s:%ld: read error: %s", r->name, r->lineno + 1,
				       strerror(errno ? errno : EIO));
		return 0;
	}
	r->lineno++;
	if (n > 0 && r->line[n - 1] == '\n')
		r->line[--n] = '\0';
	r->nul = memchr(r->line, '\0', (size_t)n) != NULL;
	r->len = (size_t)n;
	return 1;
}

/* A value for messages: quoted, printable, short, on one line. */
static const char *quote(const char *s, char *buf, size_t n)
{
	size_t i = 0, max = n - 6;

	buf[i++] = '\'';
	for (; *s && i < max; s++)
		buf[i++] = (unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f ? '?' : *s;
	if (*s) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i++] = '\'';
	buf[i] = '\0';
	return buf;
}

/* --------------------------------------------------------------- values */

struct val {
	char *s;
	size_t len, cap;
	long line;
	int set;
};

/* Set (append = 0) or extend with LF + text (append = 1). */
static int val_put(struct val *v, const char *s, size_t n, int append)
{
	size_t need = (append ? v->len + 1 : 0) + n + 1, nc;
	char *p;

	if (need > v->cap) {
		for (nc = v->cap ? v->cap : 64; nc < need; nc *= 2)
			;
		if (!(p = realloc(v->s, nc)))
			return -1;
		v->s = p;
		v->cap = nc;
	}
	if (append)
		v->s[v->len++] = '\n';
	else
		v->len = 0;
	memcpy(v->s + v->len, s, n);
	v->len += n;
	v->s[v->len] = '\0';
	return 0;
}

struct ptrvec {
	char **v;
	size_t n, cap;
};

static int pv_push(struct ptrvec *p, char *s)
{
	char **nv;
	size_t nc;

	if (p->n == p->cap) {
		nc = p->cap ? p->cap * 2 : 8;
		if (!(nv = realloc(p->v, nc * sizeof(*nv))))
			return -1;
		p->v = nv;
		p->cap = nc;
	}
	p->v[p->n++] = s;
	return 0;
}

/* Split a comma list in place; empty items are dropped. */
static int split_list(char *s, struct ptrvec *p)
{
	char *c;

	p->n = 0;
	for (;;) {
		c = strchr(s, ',');
		if (c)
			*c = '\0';
		if (*s && pv_push(p, s) < 0)
			return -1;
		if (!c)
			return 0;
		s = c + 1;
	}
}

/* ------------------------------------------------ group name/member maps */

struct hent {
	char *key;
	size_t klen;
	int defined;            /* group tables: a define block was seen */
	long line;              /* group tables: first reference */
	size_t *idx;            /* member tables: group indexes */
	size_t n, cap;
};

struct htab {
	size_t *slot;           /* entry index + 1, 0 = empty */
	size_t nslot;
	struct hent *e;
	size_t n, cap;
};

static size_t hash(const char *k, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ (unsigned char)*k++) * 1099511628211ULL;
	return (size_t)h;
}

static int ht_grow(struct htab *t)
{
	size_t ns = t->nslot ? t->nslot * 2 : 64, i, j;
	size_t *s = calloc(ns, sizeof(*s));

	if (!s)
		return -1;
	for (i = 0; i < t->n; i++) {
		for (j = hash(t->e[i].key, t->e[i].klen) & (ns - 1); s[j]; j = (j + 1) & (ns - 1))
			;
		s[j] = i + 1;
	}
	free(t->slot);
	t->slot = s;
	t->nslot = ns;
	return 0;
}

/* Index of key, or -1 if absent (add = 0), or -2 on out of memory. */
static long ht_get(struct htab *t, const char *k, size_t klen, int add)
{
	size_t j;
	struct hent *e;

	if (t->nslot) {
		for (j = hash(k, klen) & (t->nslot - 1); t->slot[j]; j = (j + 1) & (t->nslot - 1)) {
			e = &t->e[t->slot[j] - 1];
			if (e->klen == klen && !memcmp(e->key, k, klen))
				return (long)(t->slot[j] - 1);
		}
	}
	if (!add)
		return -1;
	if ((t->n + 1) * 2 > t->nslot && ht_grow(t) < 0)
		return -2;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct hent *ne = realloc(t->e, nc * sizeof(*ne));

		if (!ne)
			return -2;
		t->e = ne;
		t->cap = nc;
	}
	e = &t->e[t->n];
	memset(e, 0, sizeof(*e));
	if (!(e->key = malloc(klen + 1)))
		return -2;
	memcpy(e->key, k, klen);
	e->key[klen] = '\0';
	e->klen = klen;
	for (j = hash(k, klen) & (t->nslot - 1); t->slot[j]; j = (j + 1) & (t->nslot - 1))
		;
	t->slot[j] = ++t->n;
	return (long)(t->n - 1);
}

static int hent_add(struct hent *e, size_t gi)
{
	size_t i, *ni, nc;

	for (i = 0; i < e->n; i++)
		if (e->idx[i] == gi)
			return 0;
	if (e->n == e->cap) {
		nc = e->cap ? e->cap * 2 : 4;
		if (!(ni = realloc(e->idx, nc * sizeof(*ni))))
			return -1;
		e->idx = ni;
		e->cap = nc;
	}
	e->idx[e->n++] = gi;
	return 0;
}

static void ht_free(struct htab *t)
{
	size_t i;

	for (i = 0; i < t->n; i++) {
		free(t->e[i].key);
		free(t->e[i].idx);
	}
	free(t->e);
	free(t->slot);
	memset(t, 0, sizeof(*t));
}

/* ---------------------------------------------------------------- keys */

enum {
	S_HOST_NAME, S_SERVICE_DESCRIPTION, S_CURRENT_STATE, S_STATE_TYPE, S_CURRENT_ATTEMPT,
	S_MAX_ATTEMPTS, S_HAS_BEEN_CHECKED, S_PLUGIN_OUTPUT, S_LONG_PLUGIN_OUTPUT,
	S_PERFORMANCE_DATA, S_LAST_CHECK, S_LAST_STATE_CHANGE, S_LAST_HARD_STATE, S_IS_FLAPPING,
	S_CHECK_LATENCY, S_CHECK_EXECUTION_TIME, S_CHECK_TYPE, S_ACKED, S_ACK_TYPE,
	S_DOWNTIME_DEPTH, S_ACTIVE_CHECKS, S_COMMENT_ID, S_ENTRY_TYPE, S_AUTHOR, S_COMMENT_DATA,
	S_PERSISTENT, S_ENTRY_TIME, S_DOWNTIME_ID, S_START_TIME, S_END_TIME, S_FIXED, S_DURATION,
	S_TRIGGERED_BY, S_COMMENT, S_IS_IN_EFFECT, S_LAST_TIME_OK, S_LAST_TIME_WARN,
	S_LAST_TIME_CRITICAL, S_LAST_TIME_UNKNOWN, S_NKEYS
};

static const char *const skeys[S_NKEYS] = {
	"host_name", "service_description", "current_state", "state_type", "current_attempt",
	"max_attempts", "has_been_checked", "plugin_output", "long_plugin_output",
	"performance_data", "last_check", "last_state_change", "last_hard_state", "is_flapping",
	"check_latency", "check_execution_time", "check_type", "problem_has_been_acknowledged",
	"acknowledgement_type", "scheduled_downtime_depth", "active_checks_enabled", "comment_id",
	"entry_type", "author", "comment_data", "persistent", "entry_time", "downtime_id",
	"start_time", "end_time", "fixed", "duration", "triggered_by", "comment", "is_in_effect",
	"last_time_ok", "last_time_warn", "last_time_critical", "last_time_unknown",
};

enum {
	O_HOST_NAME, O_SERVICE_DESCRIPTION, O_ALIAS, O_ADDRESS, O_PARENTS, O_CONTACTS,
	O_CONTACT_GROUPS, O_CHECK_COMMAND, O_MAX_CHECK_ATTEMPTS, O_CHECK_INTERVAL,
	O_RETRY_INTERVAL, O_NOTES, O_NOTES_URL, O_ACTION_URL, O_ICON_IMAGE, O_HOST_GROUPS,
	O_SERVICE_GROUPS, O_HOSTGROUP_NAME, O_SERVICEGROUP_NAME, O_MEMBERS, O_NKEYS
};

static const char *const okeys[O_NKEYS] = {
	"host_name", "service_description", "alias", "address", "parents", "contacts",
	"contact_groups", "check_command", "max_check_attempts", "check_interval",
	"retry_interval", "notes", "notes_url", "action_url", "icon_image", "host_groups",
	"service_groups", "hostgroup_name", "servicegroup_name", "members",
};

/* The keys by hash: looked up for every line of both files (a 50k-service
 * status.dat has 3 million), most of them keys the reader does not use. */
static int keys_init(struct htab *t, const char *const *keys, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (ht_get(t, keys[i], strlen(keys[i]), 1) != i)
			return -1;
	return 0;
}

static int key_index(struct htab *t, const char *k, size_t klen)
{
	return (int)ht_get(t, k, klen, 0);
}

/* Block kinds of both files, and the emit mask bit of each. */
enum kind {
	K_NONE, K_OTHER, K_INFO, K_PROGRAM, K_HOST, K_SERVICE, K_HOSTCOMMENT, K_SERVICECOMMENT,
	K_HOSTDOWNTIME, K_SERVICEDOWNTIME, K_HOSTGROUP, K_SERVICEGROUP, K_NKINDS
};

#define EM_HOST     1u
#define EM_SERVICE  2u
#define EM_COMMENT  4u
#define EM_DOWNTIME 8u
#define EM_GROUP    16u

static const unsigned kind_em[K_NKINDS] = {
	[K_HOST] = EM_HOST, [K_SERVICE] = EM_SERVICE,
	[K_HOSTCOMMENT] = EM_COMMENT, [K_SERVICECOMMENT] = EM_COMMENT,
	[K_HOSTDOWNTIME] = EM_DOWNTIME, [K_SERVICEDOWNTIME] = EM_DOWNTIME,
	[K_HOSTGROUP] = EM_GROUP, [K_SERVICEGROUP] = EM_GROUP,
};

/* Position in the snapshot order, to see whether a file already has it. */
static const int kind_rank[K_NKINDS] = {
	[K_HOSTGROUP] = 1, [K_SERVICEGROUP] = 1, [K_HOST] = 2, [K_SERVICE] = 3,
	[K_HOSTCOMMENT] = 4, [K_SERVICECOMMENT] = 4, [K_HOSTDOWNTIME] = 5, [K_SERVICEDOWNTIME] = 5,
};

/* ---------------------------------------------------------------- state */

struct var {
	struct val name, value;
};

struct pass {
	long long n[K_NKINDS];  /* blocks of each kind */
	int unordered;          /* a block came before one it must follow */
	int rank;
};

struct ctx {
	const struct sd_sink *sink;
	sd_error *err;
	int icinga_st;          /* status.dat is Icinga 2's StatusDataWriter's */
	int naemon_st;          /* Naemon's (its info block's version is 1.x) */
	int st_records;         /* this pass has seen a record block */
	int icinga_ob;          /* objects.cache is */
	int checking;           /* in the check pass: validate, count, no emission */
	unsigned once_emit;     /* statusdat_read_state_once: kinds the check pass emits */
	long long once_emitted; /* records it emitted */
	struct rd st, ob;
	struct val sv[S_NKEYS];
	struct val ov[O_NKEYS];
	struct var *vars;
	size_t nvars, capvars;
	struct sd_var *svars;
	size_t capsvars;
	struct ptrvec parents, contacts, contact_groups, groups;
	struct val key;         /* scratch for member map keys */
	long long depth_sum, in_effect, dt_comments;
	struct htab gnames[2];  /* [SD_HOST] hostgroups, [SD_SERVICE] servicegroups */
	struct htab members[2]; /* host -> hostgroups, host\0service -> servicegroups */
	struct htab skeys, okeys; /* key -> S_* and O_* index */
	int bad;                /* the current block has a bad line (c->err says which) */
	int skip;               /* the conversion failed on the record, not on the run */
	long nwarn, hidden;     /* warnings sent, and those over WARN_MAX */
};

/* A warning per fault, up to this many per read: a damaged file must not
 * bury the caller's log. The rest are counted and summed up once. */
#define WARN_MAX 100

/*
 * Times are clamped to [0, TIME_MAX], not refused: the cores store any
 * time_t they are sent (Nagios took a downtime ending at 8e15), and one
 * object's odd time must not cost the others. 1e15 is what the snapshot
 * carries as an exact integer; Icinga's -1 ("never") becomes 0 unreported.
 */
#define TIME_MAX 1e15

static int oom(struct ctx *c)
{
	return sd_fail(c->err, "out of memory");
}

static int fail_at(struct ctx *c, struct rd *r, long line, const char *what, const char *s)
{
	char q[80];

	if (s)
		return sd_fail(c->err, "%s:%ld: %s %s", r->name, line, what, quote(s, q, sizeof(q)));
	return sd_fail(c->err, "%s:%ld: %s", r->name, line, what);
}

/* A fault of the record being converted: it is skipped, the read goes on. */
static int rec_fail(struct ctx *c, struct rd *r, long line, const char *what, const char *s)
{
	c->skip = 1;
	return fail_at(c, r, line, what, s);
}

/* A bad line in a block: the first one is kept to say why the block is skipped. */
static void bad_line(struct ctx *c, struct rd *r, const char *what, const char *s)
{
	if (c->bad)
		return;
	fail_at(c, r, r->lineno, what, s);
	c->bad = 1;
}

/* Warnings are sent from the checking pass only: later passes read the same
 * blocks again. skip: through sink->skipped (a record was left out), else
 * sink->warned (a record or line was altered or ignored). */
static void warn(struct ctx *c, struct rd *r, int skip, const char *what, const char *why)
{
	void (*cb)(void *, const char *, const char *) = skip ? c->sink->skipped : c->sink->warned;

	if (!c->checking || (r && !r->report))
		return;
	if (c->nwarn >= WARN_MAX) {
		c->hidden++;
		return;
	}
	c->nwarn++;
	if (cb)
		cb(c->sink->report_ctx, what, why);
}

static void warn_hidden(struct ctx *c)
{
	char why[80];

	if (!c->hidden || !c->sink->warned)
		return;
	snprintf(why, sizeof(why), "%ld more faults not reported one by one", c->hidden);
	c->sink->warned(c->sink->report_ctx, "status.dat reader", why);
	c->hidden = 0;
}

/* "file:line: type block (name)", the name when the block has one. */
static const char *block_label(struct ctx *c, struct rd *r, const char *type, long start, char *buf, size_t n)
{
	struct val *h = r == &c->st ? &c->sv[S_HOST_NAME] : &c->ov[O_HOST_NAME];
	struct val *d = r == &c->st ? &c->sv[S_SERVICE_DESCRIPTION] : &c->ov[O_SERVICE_DESCRIPTION];
	char name[160], q[80];

	if (!h->set) {
		snprintf(buf, n, "%s:%ld: %s block", r->name, start, type);
		return buf;
	}
	snprintf(name, sizeof(name), "%s%s%s", h->s, d->set ? ";" : "", d->set ? d->s : "");
	snprintf(buf, n, "%s:%ld: %s block of %s", r->name, start, type, quote(name, q, sizeof(q)));
	return buf;
}

/* The end of a block whose conversion returned rc: a record fault skips it. */
static int block_end(struct ctx *c, struct rd *r, const char *type, long start, int rc)
{
	char what[300];

	if (rc == 0 && !c->bad)
		return 0;
	if (rc < 0 && !c->bad && !c->skip)
		return -1;      /* out of memory, or the sink's own error */
	warn(c, r, 1, block_label(c, r, type, start, what, sizeof(what)), c->err->msg);
	c->bad = c->skip = 0;
	c->err->msg[0] = '\0';
	return 0;
}

/* "word {" -> word (in buf), or NULL. Both files; prefix is "" or "define ". */
static const char *block_header(const char *l, const char *prefix, char *buf, size_t n)
{
	size_t plen = strlen(prefix), i = 0;

	if (strncmp(l, prefix, plen))
		return NULL;
	l += plen;
	while (isalnum((unsigned char)*l) || *l == '_') {
		if (i + 1 >= n)
			return NULL;
		buf[i++] = *l++;
	}
	buf[i] = '\0';
	if (!i)
		return NULL;
	while (*l == ' ' || *l == '\t')
		l++;
	if (*l++ != '{')
		return NULL;
	while (*l == ' ' || *l == '\t')
		l++;
	return *l ? NULL : buf;
}

/* ------------------------------------------------------------- numbers */

static int parse_ll(const char *s, long long *out)
{
	const char *p = s;
	char *end;
	long long v;

	if (*p == '-' || *p == '+')
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_dbl(const char *s, double *out)
{
	const char *p;
	char *end;
	double v;

	if (!*s)
		return -1;
	for (p = s; *p; p++)
		if (!isdigit((unsigned char)*p) && !strchr(".eE+-", *p))
			return -1;
	errno = 0;
	v = strtod(s, &end);
	if (*end || end == s || !isfinite(v) || (errno == ERANGE && (v > 1 || v < -1)))
		return -1;
	*out = v;
	return 0;
}

enum need { OPT = 0, REQ = 1 };

struct block {
	struct ctx *c;
	struct rd *r;
	struct val *v;
	const char *const *keys;
	const char *type;       /* block type for messages */
	long start;
};

/* 0: set, 1: absent (optional), -1: error (absent and required). */
static int present(struct block *b, int k, enum need need)
{
	char what[160];

	if (b->v[k].set)
		return 0;
	if (!need)
		return 1;
	snprintf(what, sizeof(what), "%s block without %s", b->type, b->keys[k]);
	return rec_fail(b->c, b->r, b->start, what, NULL);
}

static int bad_value(struct block *b, int k, const char *why)
{
	char what[160];

	snprintf(what, sizeof(what), "%s %s:", b->keys[k], why);
	return rec_fail(b->c, b->r, b->v[k].line, what, b->v[k].s);
}

static int get_ll(struct block *b, int k, enum need need, long long min, long long max, long long *out)
{
	long long v;
	int rc = present(b, k, need);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (parse_ll(b->v[k].s, &v) < 0)
		return bad_value(b, k, "is not an integer");
	if (v < min || v > max)
		return bad_value(b, k, "is out of range");
	*out = v;
	return 0;
}

static int get_int(struct block *b, int k, enum need need, int min, int max, int *out)
{
	long long v = *out;

	if (get_ll(b, k, need, min, max, &v) < 0)
		return -1;
	*out = (int)v;
	return 0;
}

static int get_dbl(struct block *b, int k, enum need need, double *out)
{
	int rc = present(b, k, need);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (parse_dbl(b->v[k].s, out) < 0)
		return bad_value(b, k, "is not a number");
	return 0;
}

/*
 * Epoch seconds (and durations): integers from Nagios, often floats from
 * Icinga. Nagios prints time_t with %lu, so a negative time it was sent
 * (start -5) is written as 18446744073709551611: with `wrapped`, read back
 * as the core meant it (durations and ids are unsigned there: not so).
 * More than 64 bits, or an overflowing float: +-HUGE_VAL.
 */
static int parse_time(const char *s, int wrapped, double *out)
{
	unsigned long long u;
	char *end;
	double v;

	if (isdigit((unsigned char)*s) && !s[strspn(s, "0123456789")]) {
		errno = 0;
		u = strtoull(s, &end, 10);
		if (errno)
			*out = HUGE_VAL;
		else
			*out = wrapped && u > LLONG_MAX ? -(double)(ULLONG_MAX - u) - 1 : (double)u;
		return 0;
	}
	if (!*s || s[strspn(s, "0123456789.eE+-")])
		return -1;
	v = strtod(s, &end);
	if (*end || end == s || isnan(v))
		return -1;
	*out = v;
	return 0;
}

/* A time (time_t) or a duration (unsigned), clamped to [0, TIME_MAX] with a warning. */
static int get_num(struct block *b, int k, enum need need, int is_time, double *out)
{
	char what[300], why[200], q[80];
	double d;
	int rc = present(b, k, need);

	if (rc)
		return rc < 0 ? -1 : 0;
	if (parse_time(b->v[k].s, is_time, &d) < 0)
		return bad_value(b, k, "is not a time");
	if (d < -1 || d > TIME_MAX) {
		snprintf(why, sizeof(why), "%s:%ld: %s %s is out of range: read as %.0f", b->r->name, b->v[k].line,
			 b->keys[k], quote(b->v[k].s, q, sizeof(q)), d < 0 ? 0 : TIME_MAX);
		warn(b->c, b->r, 0, block_label(b->c, b->r, b->type, b->start, what, sizeof(what)), why);
	}
	*out = d < 0 ? 0 : d > TIME_MAX ? TIME_MAX : d;
	return 0;
}

static int get_time(struct block *b, int k, enum need need, double *out)
{
	return get_num(b, k, need, 1, out);
}

static int get_num_ll(struct block *b, int k, enum need need, int is_time, long long *out)
{
	double d = (double)*out;

	if (get_num(b, k, need, is_time, &d) < 0)
		return -1;
	*out = (long long)d;
	return 0;
}

static int get_time_ll(struct block *b, int k, enum need need, long long *out)
{
	return get_num_ll(b, k, need, 1, out);
}

static int get_str(struct block *b, int k, enum need need, char **out)
{
	int rc = present(b, k, need);

	if (rc)
		return rc < 0 ? -1 : 0;
	*out = b->v[k].s;
	return 0;
}

static int get_name(struct block *b, int k, char **out)
{
	if (get_str(b, k, REQ, out) < 0)
		return -1;
	if (!**out)
		return bad_value(b, k, "is empty");
	return 0;
}

/* Nagios escapes '\' and LF in long output; Icinga only LF (backslashes stay). */
static void unescape(char *s, int icinga)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '\\' && s[1] == 'n') {
			*w++ = '\n';
			s++;
		} else if (*s == '\\' && s[1] == '\\' && !icinga) {
			*w++ = '\\';
			s++;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

/* ---------------------------------------------------------- status.dat */

static enum kind status_kind(const char *t)
{
	static const struct { const char *n; enum kind k; } m[] = {
		{ "hoststatus", K_HOST }, { "servicestatus", K_SERVICE },
		{ "hostcomment", K_HOSTCOMMENT }, { "servicecomment", K_SERVICECOMMENT },
		{ "hostdowntime", K_HOSTDOWNTIME }, { "servicedowntime", K_SERVICEDOWNTIME },
		{ "programstatus", K_PROGRAM }, { "info", K_INFO },
	};
	size_t i;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(m[i].n, t))
			return m[i].k;
	return K_OTHER;         /* contactstatus, anything new: ignored */
}

static int st_object(struct block *b, enum sd_objtype t, struct sd_object *o, int *depth)
{
	struct val *v = b->v;
	int active = 1;
	double own = 0;

	sd_object_clear(o);
	o->type = t;
	if (get_name(b, S_HOST_NAME, &o->host_name) < 0)
		return -1;
	if (t == SD_SERVICE && get_name(b, S_SERVICE_DESCRIPTION, &o->description) < 0)
		return -1;
	if (get_int(b, S_CURRENT_STATE, REQ, 0, t == SD_HOST ? 2 : 3, &o->state) < 0 ||
	    get_int(b, S_STATE_TYPE, REQ, 0, 1, &o->state_type) < 0 ||
	    get_int(b, S_CURRENT_ATTEMPT, REQ, 0, INT_MAX, &o->current_attempt) < 0 ||
	    get_int(b, S_MAX_ATTEMPTS, REQ, 0, INT_MAX, &o->max_check_attempts) < 0 ||
	    get_int(b, S_HAS_BEEN_CHECKED, REQ, 0, 1, &o->has_been_checked) < 0 ||
	    get_str(b, S_PLUGIN_OUTPUT, OPT, &o->plugin_output) < 0 ||
	    get_str(b, S_LONG_PLUGIN_OUTPUT, OPT, &o->long_plugin_output) < 0 ||
	    get_str(b, S_PERFORMANCE_DATA, OPT, &o->perf_data) < 0 ||
	    get_time(b, S_LAST_CHECK, REQ, &o->last_check) < 0 ||
	    get_time_ll(b, S_LAST_STATE_CHANGE, REQ, &o->last_state_change) < 0 ||
	    get_int(b, S_LAST_HARD_STATE, OPT, 0, 3, &o->last_hard_state) < 0 ||
	    get_int(b, S_IS_FLAPPING, OPT, 0, 1, &o->is_flapping) < 0 ||
	    get_dbl(b, S_CHECK_LATENCY, OPT, &o->latency) < 0 ||
	    get_dbl(b, S_CHECK_EXECUTION_TIME, OPT, &o->execution_time) < 0 ||
	    get_int(b, S_ACTIVE_CHECKS, OPT, 0, 1, &active) < 0 ||
	    get_int(b, S_CHECK_TYPE, OPT, 0, 1, &o->check_type) < 0 ||
	    get_int(b, S_ACKED, OPT, 0, 1, &o->acknowledged) < 0 ||
	    get_int(b, S_ACK_TYPE, OPT, 0, 2, &o->acknowledgement_type) < 0 ||
	    get_int(b, S_DOWNTIME_DEPTH, OPT, 0, INT_MAX, depth) < 0)
		return -1;
	if (v[S_LONG_PLUGIN_OUTPUT].set)
		unescape(o->long_plugin_output, b->c->icinga_st || b->c->naemon_st);
	if (b->c->icinga_st && t == SD_SERVICE && o->has_been_checked) {
		/* Icinga writes the host's last_check here; last_time_<state> is the service's */
		if (get_time(b, S_LAST_TIME_OK + o->state, OPT, &own) < 0)
			return -1;
		if (own > 0)
			o->last_check = own;
	}
	/* never checked means no last check (snapshot schema: 0), whatever the
	 * file says: Icinga writes the host's last_check into such services */
	if (o->last_check < 0 || !o->has_been_checked)
		o->last_check = 0;
	if (!v[S_CHECK_TYPE].set)       /* Icinga omits it; its Livestatus derives it so */
		o->check_type = active ? 0 : 1;
	if (!o->acknowledged)           /* Nagios keeps the type after a removal */
		o->acknowledgement_type = 0;
	return 0;
}

static int st_comment(struct block *b, enum sd_objtype t, struct sd_comment *m)
{
	memset(m, 0, sizeof(*m));
	if (get_name(b, S_HOST_NAME, &m->host_name) < 0 ||
	    (t == SD_SERVICE && get_name(b, S_SERVICE_DESCRIPTION, &m->service_description) < 0) ||
	    get_ll(b, S_COMMENT_ID, REQ, 0, LLONG_MAX, &m->id) < 0 ||
	    get_int(b, S_ENTRY_TYPE, REQ, 1, 4, &m->entry_type) < 0 ||
	    get_str(b, S_AUTHOR, REQ, &m->author) < 0 ||
	    get_str(b, S_COMMENT_DATA, REQ, &m->comment) < 0 ||
	    get_int(b, S_PERSISTENT, OPT, 0, 1, &m->persistent) < 0 ||
	    get_time_ll(b, S_ENTRY_TIME, REQ, &m->entry_time) < 0)
		return -1;
	return 0;
}

static int st_downtime(struct block *b, enum sd_objtype t, struct sd_downtime *d, int *in_effect)
{
	memset(d, 0, sizeof(*d));
	if (get_name(b, S_HOST_NAME, &d->host_name) < 0 ||
	    (t == SD_SERVICE && get_name(b, S_SERVICE_DESCRIPTION, &d->service_description) < 0) ||
	    get_ll(b, S_DOWNTIME_ID, REQ, 0, LLONG_MAX, &d->id) < 0 ||
	    get_time_ll(b, S_START_TIME, REQ, &d->start_time) < 0 ||
	    get_time_ll(b, S_END_TIME, REQ, &d->end_time) < 0 ||
	    get_int(b, S_FIXED, REQ, 0, 1, &d->fixed) < 0 ||
	    get_num_ll(b, S_DURATION, REQ, 0, &d->duration) < 0 ||
	    get_num_ll(b, S_TRIGGERED_BY, OPT, 0, &d->triggered_by) < 0 ||
	    get_str(b, S_AUTHOR, REQ, &d->author) < 0 ||
	    get_str(b, S_COMMENT, REQ, &d->comment) < 0 ||
	    get_time_ll(b, S_ENTRY_TIME, REQ, &d->entry_time) < 0 ||
	    get_int(b, S_IS_IN_EFFECT, OPT, 0, 1, in_effect) < 0)
		return -1;
	return 0;
}

/*
 * Whether an Icinga comment/downtime block has this key. Any other
 * "<TAB>word=" line there is a line of the free text before it.
 */
static int icinga_key(enum kind k, const char *key)
{
	static const char *const cm[] = {
		"service_description", "host_name", "comment_id", "entry_time", "entry_type",
		"persistent", "author", "comment_data", "expires", "expire_time", NULL,
	};
	static const char *const dt[] = {
		"service_description", "host_name", "downtime_id", "entry_time", "start_time",
		"end_time", "triggered_by", "fixed", "duration", "is_in_effect", "author", "comment",
		"trigger_time", NULL,
	};
	const char *const *p;

	if (k == K_HOSTCOMMENT || k == K_SERVICECOMMENT)
		p = cm;
	else if (k == K_HOSTDOWNTIME || k == K_SERVICEDOWNTIME)
		p = dt;
	else
		return 1;
	for (; *p; p++)
		if (!strcmp(*p, key))
			return 1;
	return 0;
}

/*
 * A closed status block: convert it (check pass, or its kind is emitted).
 * With c->bad (a bad line) a record is not converted: -1 and block_end()
 * reports it skipped.
 */
static int st_block(struct ctx *c, enum kind k, const char *type, long start, unsigned emit)
{
	struct block b = { c, &c->st, c->sv, skeys, type, start };
	enum sd_objtype t = (k == K_HOST || k == K_HOSTCOMMENT || k == K_HOSTDOWNTIME) ? SD_HOST : SD_SERVICE;
	int depth = 0, in_effect = 0;
	long long ll;
	struct sd_object o;
	struct sd_comment m;
	struct sd_downtime d;

	switch (k) {
	case K_HOST:
	case K_SERVICE:
		if (c->bad || st_object(&b, t, &o, &depth) < 0)
			return -1;
		c->depth_sum += c->checking ? depth : 0;
		return emit & kind_em[k] ? sd_emit_object(c->sink, &o, c->err) : 0;
	case K_HOSTCOMMENT:
	case K_SERVICECOMMENT:
		if (c->bad || st_comment(&b, t, &m) < 0)
			return -1;
		c->dt_comments += c->checking && m.entry_type == 2;
		return emit & EM_COMMENT ? sd_emit_comment(c->sink, &m, c->err) : 0;
	case K_HOSTDOWNTIME:
	case K_SERVICEDOWNTIME:
		/* counted even for a skipped downtime: the depth cross-check is
		 * there to find a cut file, not to refuse one odd downtime */
		if (c->checking && c->sv[S_IS_IN_EFFECT].set && !parse_ll(c->sv[S_IS_IN_EFFECT].s, &ll) && ll == 1)
			c->in_effect++;
		if (c->bad || st_downtime(&b, t, &d, &in_effect) < 0)
			return -1;
		return emit & EM_DOWNTIME ? sd_emit_downtime(c->sink, &d, c->err) : 0;
	default:
		return 0;
	}
}

/* A "key=value" line of a status block (key and value split in the line). */
static int st_key(struct ctx *c, struct rd *r, enum kind k, const char *key, const char *value,
		  int store, struct val **last)
{
	int i;

	*last = NULL;
	/* Naemon (1.x) escapes only LF in long output, as Icinga does */
	if (k == K_INFO && !strcmp(key, "version") && value[0] == '1' && value[1] == '.')
		c->naemon_st = 1;
	if (k == K_PROGRAM && !strcmp(key, "icinga_pid")) {
		/* Whether continuation lines are Icinga's is learnt here, in the
		 * checking pass, and kept for the emitting passes: a line before
		 * this block would read differently there. Both cores write
		 * programstatus before any record; a file that does not is
		 * refused (found by fuzz_statusdat: the emitting pass failed
		 * after records had gone to the sink). */
		if (!c->icinga_st && c->st_records)
			return fail_at(c, r, r->lineno, "Icinga's programstatus block after the first record", NULL);
		c->icinga_st = 1;
	}
	if (!store || (i = key_index(&c->skeys, key, (size_t)(value - 1 - key))) < 0)
		return 0;
	if (c->sv[i].set) {
		bad_line(c, r, "duplicate key", key);
		return 0;
	}
	*last = &c->sv[i];
	if (val_put(*last, value, r->len - (size_t)(value - r->line), 0) < 0)
		return oom(c);
	(*last)->set = 1;
	(*last)->line = r->lineno;
	return 0;
}

/* The block being read, in either file. */
struct cur {
	enum kind k;            /* K_NONE: between blocks */
	char type[40];
	long start;
	struct val *last;       /* the value a continuation line extends (Icinga) */
	int cont;               /* a continuation line may follow (Icinga) */
	int store;              /* the block is converted in this pass */
	int stray;              /* in a run of lines outside any block */
};

/*
 * A line outside any block. 1: it opens a block (type in b->type), 0: a
 * blank line, a comment or a stray line (reported once per run of them),
 * -1: anything but a comment before the first block: not such a file at
 * all (binary garbage, another file), which is an error, not a warning.
 */
static int outside(struct ctx *c, struct rd *r, struct cur *b, long nblocks, const char *prefix,
		   const char *not_this)
{
	const char *l = r->line;
	char what[200], why[200], q[80];

	if (!r->nul && (!*l || *l == '#'))
		return 0;
	if (!r->nul && block_header(l, prefix, b->type, sizeof(b->type))) {
		b->stray = 0;
		return 1;
	}
	if (!nblocks)
		return fail_at(c, r, r->lineno, not_this, r->nul ? "(a NUL byte)" : l);
	if (!b->stray) {
		snprintf(what, sizeof(what), "%s:%ld", r->name, r->lineno);
		snprintf(why, sizeof(why), "a line outside any block, ignored up to the next block: %s",
			 r->nul ? "(a NUL byte)" : quote(l, q, sizeof(q)));
		warn(c, r, 0, what, why);
	}
	b->stray = 1;
	return 0;
}

/* A block start: count it and decide whether it is converted in this pass. */
static void begin_block(struct cur *b, enum kind k, struct pass *p, long line, int store)
{
	b->k = k;
	b->start = line;
	b->last = NULL;
	b->cont = 0;
	b->store = store;
	p->n[k]++;
	if (kind_rank[k]) {
		if (kind_rank[k] < p->rank)
			p->unordered = 1;
		else
			p->rank = kind_rank[k];
	}
}

static void st_begin(struct ctx *c, struct cur *b, struct pass *p, int convert, unsigned emit)
{
	enum kind k = status_kind(b->type);
	int i;

	c->st_records |= k == K_HOST || k == K_SERVICE || k == K_HOSTCOMMENT || k == K_SERVICECOMMENT ||
			  k == K_HOSTDOWNTIME || k == K_SERVICEDOWNTIME;
	begin_block(b, k, p, c->st.lineno, convert && (c->checking || (emit & kind_em[k])));
	/* one pass only while the file is in the snapshot order, and never
	 * for Icinga's (known from programstatus, before any record) */
	if (p->unordered || c->icinga_st)
		c->once_emit = 0;
	c->once_emitted += (c->once_emit & kind_em[k]) != 0;
	if (b->store)
		for (i = 0; i < S_NKEYS; i++)
			c->sv[i].set = 0;
	c->bad = c->skip = 0;
}

static int st_end(struct ctx *c, struct cur *b, unsigned emit)
{
	int rc = 0;

	if (b->store)
		rc = block_end(c, &c->st, b->type, b->start,
			       st_block(c, b->k, b->type, b->start, c->checking ? c->once_emit : emit));
	b->k = K_NONE;
	c->bad = 0;
	return rc;
}

/* A line inside a status block other than its end. A line it cannot read
 * marks the block bad; -1 only for the run's own errors. */
static int st_line(struct ctx *c, struct rd *r, struct cur *b)
{
	char *l = r->line, *key = l + 1, *e;

	if (r->nul) {
		b->last = NULL;
		bad_line(c, r, "NUL byte in line", NULL);
		return 0;
	}
	if (l[0] == '\t') {
		for (e = key; isalnum((unsigned char)*e) || *e == '_'; e++)
			;
		if (e > key && *e == '=') {
			*e = '\0';
			if (!c->icinga_st || !b->cont || icinga_key(b->k, key)) {
				b->cont = 1;
				return st_key(c, r, b->k, key, e + 1, b->store, &b->last);
			}
			*e = '=';       /* Icinga: a line of free text that looks like a key */
		} else if (c->icinga_st && e > key && *e == '\t') {
			b->last = NULL; /* Icinga writes "\tcheck_period\t<name>" here */
			b->cont = 1;
			return 0;
		} else if ((!c->icinga_st || !b->cont) && (e = strchr(key, '=')) && e > key) {
			/* a key of any other spelling, not one the reader uses:
			 * Nagios writes custom variables so ("\t_A-B=0;x") */
			b->last = NULL;
			b->cont = 1;
			return 0;
		}
	}
	if (c->icinga_st && b->cont) {
		/* Icinga writes free text (comments, names) with raw newlines */
		if (b->last && val_put(b->last, l, r->len, 1) < 0)
			return oom(c);
		return 0;
	}
	b->last = NULL;
	bad_line(c, r, "expected '<TAB>key=value' or '<TAB>}', got", l);
	return 0;
}

/* The block was not closed: at the end of the file, or (Nagios) at the next block start. */
static void unclosed(struct ctx *c, struct rd *r, struct cur *b, int at_eof)
{
	char what[160];

	snprintf(what, sizeof(what), at_eof ? "end of file inside the '%s' block (truncated?)"
					    : "the '%s' block is not closed before this block start", b->type);
	if (!b->store)
		return;
	c->bad = 0;     /* the cut explains a bad last line: it is the reason given */
	bad_line(c, r, what, NULL);
}

/*
 * One pass over status.dat. emit = 0 with c->checking: check every line,
 * convert every record if `convert` (state part) or only count (config
 * part). Otherwise convert and emit the kinds in `emit`, skip the rest.
 * A block it cannot use is skipped (reported in the checking pass).
 */
static int status_pass(struct ctx *c, unsigned emit, int convert, struct pass *p)
{
	struct rd *r = &c->st;
	struct cur b = { .k = K_NONE };
	long nblocks = 0;
	char next[40];
	int rc;

	memset(p, 0, sizeof(*p));
	c->st_records = 0;
	r->report = convert;
	if (rd_rewind(r, c->err) < 0)
		return -1;
	while ((rc = rd_next(r, c->err)) > 0) {
		/* Nagios never starts a block inside one: the one before was cut.
		 * (Not before the first record, where Icinga is not known yet in
		 * the checking pass: every pass must see the same blocks.) */
		if (b.k != K_NONE && c->st_records && !c->icinga_st && !r->nul &&
		    block_header(r->line, "", next, sizeof(next))) {
			unclosed(c, r, &b, 0);
			if (st_end(c, &b, emit) < 0)
				return -1;
		}
		if (b.k == K_NONE) {
			rc = outside(c, r, &b, nblocks, "", "not a status.dat file: expected a block start ('type {'), got");
			if (rc < 0)
				return -1;
			if (rc == 0)
				continue;
			if (!nblocks++ && strcmp(b.type, "info") && strcmp(b.type, "programstatus"))
				return fail_at(c, r, r->lineno, "not a status.dat file: the first block is not info or "
					       "programstatus but", b.type);
			st_begin(c, &b, p, convert, emit);
			continue;
		}
		if (!r->nul && r->line[0] == '\t' && r->line[1] == '}' && !r->line[2]) {
			if (st_end(c, &b, emit) < 0)
				return -1;
			continue;
		}
		if ((c->checking || b.store) && st_line(c, r, &b) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (b.k != K_NONE) {
		unclosed(c, r, &b, 1);
		if (st_end(c, &b, emit) < 0)
			return -1;
	}
	if (!nblocks)
		return sd_fail(c->err, "%s: no info or programstatus block: not a status.dat file", r->name);
	return 0;
}

/* ------------------------------------------------------- objects.cache */

static enum kind objects_kind(const char *t)
{
	if (!strcmp(t, "host"))
		return K_HOST;
	if (!strcmp(t, "service"))
		return K_SERVICE;
	if (!strcmp(t, "hostgroup"))
		return K_HOSTGROUP;
	if (!strcmp(t, "servicegroup"))
		return K_SERVICEGROUP;
	return K_OTHER;         /* command, contact, timeperiod, ...: ignored */
}

static int var_new(struct ctx *c, const char *name, size_t nlen, const char *value, size_t vlen)
{
	struct var *nv;
	size_t nc;

	if (c->nvars == c->capvars) {
		nc = c->capvars ? c->capvars * 2 : 8;
		if (!(nv = realloc(c->vars, nc * sizeof(*nv))))
			return -1;
		memset(nv + c->capvars, 0, (nc - c->capvars) * sizeof(*nv));
		c->vars = nv;
		c->capvars = nc;
	}
	if (val_put(&c->vars[c->nvars].name, name, nlen, 0) < 0 ||
	    val_put(&c->vars[c->nvars].value, value, vlen, 0) < 0)
		return -1;
	c->nvars++;
	return 0;
}

/* Group names an Icinga object lists inline must be defined (checked at the end). */
static int note_refs(struct ctx *c, enum sd_objtype t, struct ptrvec *names, long line)
{
	size_t i;
	long gi;

	for (i = 0; i < names->n; i++) {
		if ((gi = ht_get(&c->gnames[t], names->v[i], strlen(names->v[i]), 1)) < 0)
			return oom(c);
		if (!c->gnames[t].e[gi].line)
			c->gnames[t].e[gi].line = line;
	}
	return 0;
}

static int ob_groups(struct block *b, enum sd_objtype t, struct sd_object *o)
{
	struct ctx *c = b->c;
	int k = t == SD_HOST ? O_HOST_GROUPS : O_SERVICE_GROUPS;
	struct htab *mt = &c->members[t];
	struct hent *e;
	size_t klen, i;
	long mi;

	if (b->v[k].set) {              /* Icinga: inline */
		if (split_list(b->v[k].s, &c->groups) < 0)
			return oom(c);
		if (c->checking && note_refs(c, t, &c->groups, b->v[k].line) < 0)
			return -1;
	} else if (!c->checking && mt->n) {     /* Nagios: from the group blocks */
		if (t == SD_HOST) {
			mi = ht_get(mt, o->host_name, strlen(o->host_name), 0);
		} else {
			klen = strlen(o->host_name);
			if (val_put(&c->key, o->host_name, klen, 0) < 0 ||
			    val_put(&c->key, o->description, strlen(o->description), 1) < 0)
				return oom(c);
			c->key.s[klen] = '\0';
			mi = ht_get(mt, c->key.s, c->key.len, 0);
		}
		c->groups.n = 0;
		if (mi >= 0) {
			e = &mt->e[mi];
			for (i = 0; i < e->n; i++)
				if (pv_push(&c->groups, c->gnames[t].e[e->idx[i]].key) < 0)
					return oom(c);
		}
	} else {
		c->groups.n = 0;
	}
	o->groups.v = c->groups.v;
	o->groups.n = c->groups.n;
	return 0;
}

static int ob_list(struct block *b, int k, struct ptrvec *pv, struct sd_strlist *out)
{
	pv->n = 0;
	if (b->v[k].set && split_list(b->v[k].s, pv) < 0)
		return oom(b->c);
	out->v = pv->v;
	out->n = pv->n;
	return 0;
}

/* A custom variable named twice keeps its first value: a snapshot's
 * variables are a map, and a reader may refuse a repeated key. */
static int var_seen(struct block *b, size_t i)
{
	char what[300], why[300], q[80];
	size_t j;

	for (j = 0; j < i; j++)
		if (!strcmp(b->c->vars[j].name.s, b->c->vars[i].name.s))
			break;
	if (j == i)
		return 0;
	snprintf(why, sizeof(why), "custom variable %s is defined twice: the second value is ignored",
		 quote(b->c->vars[i].name.s, q, sizeof(q)));
	warn(b->c, b->r, 0, block_label(b->c, b->r, b->type, b->start, what, sizeof(what)), why);
	return 1;
}

static int ob_object(struct block *b, enum sd_objtype t, struct sd_object *o)
{
	struct ctx *c = b->c;
	size_t i, n = 0;
	struct sd_var *nv;

	sd_object_clear(o);
	o->type = t;
	if (get_name(b, O_HOST_NAME, &o->host_name) < 0 ||
	    (t == SD_SERVICE && get_name(b, O_SERVICE_DESCRIPTION, &o->description) < 0) ||
	    get_str(b, O_CHECK_COMMAND, OPT, &o->check_command) < 0 ||
	    get_int(b, O_MAX_CHECK_ATTEMPTS, OPT, 0, INT_MAX, &o->max_check_attempts) < 0 ||
	    get_dbl(b, O_CHECK_INTERVAL, OPT, &o->check_interval) < 0 ||
	    get_dbl(b, O_RETRY_INTERVAL, OPT, &o->retry_interval) < 0 ||
	    get_str(b, O_NOTES, OPT, &o->notes) < 0 ||
	    get_str(b, O_NOTES_URL, OPT, &o->notes_url) < 0 ||
	    get_str(b, O_ACTION_URL, OPT, &o->action_url) < 0 ||
	    get_str(b, O_ICON_IMAGE, OPT, &o->icon_image) < 0 ||
	    ob_list(b, O_CONTACTS, &c->contacts, &o->contacts) < 0 ||
	    ob_list(b, O_CONTACT_GROUPS, &c->contact_groups, &o->contact_groups) < 0)
		return -1;
	if (t == SD_HOST &&
	    (get_str(b, O_ALIAS, OPT, &o->alias) < 0 ||
	     get_str(b, O_ADDRESS, OPT, &o->address) < 0 ||
	     ob_list(b, O_PARENTS, &c->parents, &o->parents) < 0))
		return -1;
	if (ob_groups(b, t, o) < 0)
		return -1;
	if (c->nvars > c->capsvars) {
		if (!(nv = realloc(c->svars, c->nvars * sizeof(*nv))))
			return oom(c);
		c->svars = nv;
		c->capsvars = c->nvars;
	}
	for (i = 0; i < c->nvars; i++) {
		if (var_seen(b, i))
			continue;
		if (c->icinga_ob) {
			/* the writer's own marker for JSON-encoded values */
			if (!strcmp(c->vars[i].name.s, "is_json") && !strcmp(c->vars[i].value.s, "1"))
				continue;
			unescape(c->vars[i].value.s, 1);
		}
		c->svars[n].name = c->vars[i].name.s;
		c->svars[n++].value = c->vars[i].value.s;
	}
	o->vars = n ? c->svars : NULL;
	o->nvars = n;
	return 0;
}

/* Nagios: remember which groups list each host / (host, service). */
static int ob_members(struct block *b, enum sd_objtype t, const char *name)
{
	struct ctx *c = b->c;
	long gi, mi;
	size_t i, hl;

	if ((gi = ht_get(&c->gnames[t], name, strlen(name), 1)) < 0)
		return oom(c);
	c->gnames[t].e[gi].defined = 1;
	if (c->icinga_ob || !b->v[O_MEMBERS].set)
		return 0;               /* Icinga objects carry their groups inline */
	if (split_list(b->v[O_MEMBERS].s, &c->groups) < 0)
		return oom(c);
	for (i = 0; i < c->groups.n; i += t == SD_HOST ? 1 : 2) {
		if (t == SD_HOST) {
			mi = ht_get(&c->members[t], c->groups.v[i], strlen(c->groups.v[i]), 1);
		} else {
			if (i + 1 >= c->groups.n) {
				char what[300], why[300];

				snprintf(why, sizeof(why), "%s:%ld: servicegroup members: %zu names, not host,service "
					 "pairs: the last one is ignored", b->r->name, b->v[O_MEMBERS].line, c->groups.n);
				warn(c, b->r, 0, block_label(c, b->r, b->type, b->start, what, sizeof(what)), why);
				break;
			}
			hl = strlen(c->groups.v[i]);
			if (val_put(&c->key, c->groups.v[i], hl, 0) < 0 ||
			    val_put(&c->key, c->groups.v[i + 1], strlen(c->groups.v[i + 1]), 1) < 0)
				return oom(c);
			c->key.s[hl] = '\0';
			mi = ht_get(&c->members[t], c->key.s, c->key.len, 1);
		}
		if (mi < 0 || hent_add(&c->members[t].e[mi], (size_t)gi) < 0)
			return oom(c);
	}
	return 0;
}

static int ob_block(struct ctx *c, enum kind k, const char *type, long start, unsigned emit)
{
	struct block b = { c, &c->ob, c->ov, okeys, type, start };
	enum sd_objtype t = (k == K_HOST || k == K_HOSTGROUP) ? SD_HOST : SD_SERVICE;
	struct sd_object o;
	struct sd_group g;

	switch (k) {
	case K_HOST:
	case K_SERVICE:
		if (c->bad || ob_object(&b, t, &o) < 0)
			return -1;
		return emit & kind_em[k] ? sd_emit_object(c->sink, &o, c->err) : 0;
	case K_HOSTGROUP:
	case K_SERVICEGROUP:
		g.type = t;
		g.alias = "";
		if (c->bad || get_name(&b, t == SD_HOST ? O_HOSTGROUP_NAME : O_SERVICEGROUP_NAME, &g.name) < 0 ||
		    get_str(&b, O_ALIAS, OPT, &g.alias) < 0)
			return -1;
		if (c->checking)
			return ob_members(&b, t, g.name);
		return emit & EM_GROUP ? sd_emit_group(c->sink, &g, c->err) : 0;
	default:
		return 0;
	}
}

static void ob_begin(struct ctx *c, struct cur *b, struct pass *p, int convert, unsigned emit)
{
	enum kind k = objects_kind(b->type);
	int i;

	begin_block(b, k, p, c->ob.lineno, convert && (c->checking || (emit & kind_em[k])));
	if (b->store) {
		for (i = 0; i < O_NKEYS; i++)
			c->ov[i].set = 0;
		c->nvars = 0;
	}
	c->bad = c->skip = 0;
}

static int ob_end(struct ctx *c, struct cur *b, unsigned emit)
{
	int rc = 0;

	if (b->store)
		rc = block_end(c, &c->ob, b->type, b->start,
			       ob_block(c, b->k, b->type, b->start, c->checking ? 0 : emit));
	b->k = K_NONE;
	c->bad = 0;
	return rc;
}

/* A line inside an objects.cache block other than its end; see st_line. */
static int ob_line(struct ctx *c, struct rd *r, struct cur *b)
{
	char *l = r->line, *key, *e;
	size_t klen;
	int i;

	if (!r->nul && !*l)
		return 0;       /* Icinga: blank line before "\t}" of commands */
	if (!r->nul && l[0] == '\t' && l[1] && l[1] != '\t') {
		key = l + 1;
		e = strchr(key, '\t');
		klen = e ? (size_t)(e - key) : strlen(key);
		e = e ? e + 1 : key + klen;
		key[klen] = '\0';
		b->last = NULL;
		b->cont = 1;
		if (!b->store || (b->k != K_HOST && b->k != K_SERVICE && b->k != K_HOSTGROUP && b->k != K_SERVICEGROUP))
			return 0;
		if (key[0] == '_' && key[1] && (b->k == K_HOST || b->k == K_SERVICE)) {
			/* any name Nagios took ("_A-B", "_ÄÖ"): the writers repair or refuse */
			if (var_new(c, key + 1, klen - 1, e, r->len - (size_t)(e - l)) < 0)
				return oom(c);
			b->last = &c->vars[c->nvars - 1].value;
		} else if ((i = key_index(&c->okeys, key, klen)) >= 0) {
			if (c->ov[i].set) {
				bad_line(c, r, "duplicate key", key);
				return 0;
			}
			if (val_put(&c->ov[i], e, r->len - (size_t)(e - l), 0) < 0)
				return oom(c);
			c->ov[i].set = 1;
			c->ov[i].line = r->lineno;
			b->last = &c->ov[i];
		}
		return 0;
	}
	if (c->icinga_ob && b->cont && !r->nul) {
		/* Icinga writes names and notes with raw newlines */
		if (b->last && val_put(b->last, l, r->len, 1) < 0)
			return oom(c);
		return 0;
	}
	b->last = NULL;
	if (r->nul)
		bad_line(c, r, "NUL byte in line", NULL);
	else
		bad_line(c, r, "expected '<TAB>key<TAB>value' or '<TAB>}', got", l);
	return 0;
}

/* One pass over objects.cache; see status_pass. */
static int objects_pass(struct ctx *c, unsigned emit, int convert, struct pass *p)
{
	struct rd *r = &c->ob;
	struct cur b = { .k = K_NONE };
	long nblocks = 0;
	char next[40];
	int rc;

	memset(p, 0, sizeof(*p));
	r->report = convert;
	if (rd_rewind(r, c->err) < 0)
		return -1;
	while ((rc = rd_next(r, c->err)) > 0) {
		if (r->lineno == 1 && (c->icinga_st || !strcmp(r->line, "# Icinga objects cache file")))
			c->icinga_ob = 1;
		if (b.k != K_NONE && !c->icinga_ob && !r->nul && block_header(r->line, "define ", next, sizeof(next))) {
			unclosed(c, r, &b, 0);
			if (ob_end(c, &b, emit) < 0)
				return -1;
		}
		if (b.k == K_NONE) {
			rc = outside(c, r, &b, nblocks, "define ",
				     "not an objects.cache file: expected a block start ('define type {'), got");
			if (rc < 0)
				return -1;
			if (rc == 1) {
				nblocks++;
				ob_begin(c, &b, p, convert, emit);
			}
			continue;
		}
		if (!r->nul && (!strcmp(r->line, "\t}") || !strcmp(r->line, "}"))) {     /* Icinga: "}" after servicegroups */
			if (ob_end(c, &b, emit) < 0)
				return -1;
			continue;
		}
		if ((c->checking || b.store) && ob_line(c, r, &b) < 0)
			return -1;
	}
	if (rc < 0)
		return -1;
	if (b.k != K_NONE) {
		unclosed(c, r, &b, 1);
		if (ob_end(c, &b, emit) < 0)
			return -1;
	}
	return 0;
}

/* -------------------------------------------------------------- driver */

static int cross_check(struct ctx *c, const struct pass *s, const struct pass *o)
{
	static const struct { enum kind k; const char *what; } m[] = {
		{ K_HOST, "hosts" }, { K_SERVICE, "services" },
	};
	size_t i;

	for (i = 0; i < 2; i++)
		if (s->n[m[i].k] != o->n[m[i].k])
			return sd_fail(c->err, "%s:%ld: %s has %lld %s but %s has %lld (truncated or out of sync)",
				       c->st.name, c->st.lineno, c->st.name, s->n[m[i].k], m[i].what,
				       c->ob.name, o->n[m[i].k]);
	return 0;
}

static int same_blocks(struct ctx *c, struct rd *r, const struct pass *ref, const struct pass *now)
{
	if (memcmp(ref->n, now->n, sizeof(ref->n)))
		return sd_fail(c->err, "%s:%ld: the file changed while it was read (rewritten in place?)",
			       r->name, r->lineno);
	return 0;
}

/*
 * once: statusdat_read_state_once, records emitted by the check pass while
 * the file is in order (a Nagios or Naemon status.dat always is). 1 when
 * some were and then the order broke.
 */
static int run_state(struct ctx *c, int once)
{
	static const unsigned split[] = { EM_HOST, EM_SERVICE, EM_COMMENT, EM_DOWNTIME };
	static const unsigned all[] = { EM_HOST | EM_SERVICE | EM_COMMENT | EM_DOWNTIME };
	struct pass ref, ob, now;
	const unsigned *passes;
	size_t n, i;

	c->checking = 1;
	c->once_emit = once ? EM_HOST | EM_SERVICE | EM_COMMENT | EM_DOWNTIME : 0;
	if (status_pass(c, 0, 1, &ref) < 0 || objects_pass(c, 0, 0, &ob) < 0 || cross_check(c, &ref, &ob) < 0)
		return -1;
	warn_hidden(c);
	if (c->depth_sum > c->in_effect)
		return sd_fail(c->err, "%s:%ld: scheduled_downtime_depth adds up to %lld but only %lld "
			       "downtimes are in effect (truncated or out of sync)",
			       c->st.name, c->st.lineno, c->depth_sum, c->in_effect);
	if (c->dt_comments > ref.n[K_HOSTDOWNTIME] + ref.n[K_SERVICEDOWNTIME])
		return sd_fail(c->err, "%s:%ld: %lld downtime comments but only %lld downtimes "
			       "(truncated or out of sync)", c->st.name, c->st.lineno, c->dt_comments,
			       ref.n[K_HOSTDOWNTIME] + ref.n[K_SERVICEDOWNTIME]);
	c->checking = 0;
	if (c->once_emit)
		return 0;       /* every record went out in the check pass, in order */
	if (c->once_emitted)
		return 1;
	passes = ref.unordered ? split : all;
	n = ref.unordered ? 4 : 1;
	for (i = 0; i < n; i++)
		if (status_pass(c, passes[i], 1, &now) < 0 || same_blocks(c, &c->st, &ref, &now) < 0)
			return -1;
	return 0;
}

static int run_config(struct ctx *c)
{
	static const unsigned split[] = { EM_GROUP, EM_HOST, EM_SERVICE };
	static const unsigned all[] = { EM_GROUP | EM_HOST | EM_SERVICE };
	struct pass st, ref, now;
	const unsigned *passes;
	size_t n, i;
	char q[80];
	int t;

	c->checking = 1;
	if (c->st.f && status_pass(c, 0, 0, &st) < 0)
		return -1;
	if (objects_pass(c, 0, 1, &ref) < 0 || (c->st.f && cross_check(c, &st, &ref) < 0))
		return -1;
	for (t = SD_HOST; t <= SD_SERVICE; t++)
		for (i = 0; i < c->gnames[t].n; i++)
			if (!c->gnames[t].e[i].defined)
				return sd_fail(c->err, "%s:%ld: %s %s is named here but never defined "
					       "(truncated or out of sync)", c->ob.name, c->gnames[t].e[i].line,
					       t == SD_HOST ? "hostgroup" : "servicegroup",
					       quote(c->gnames[t].e[i].key, q, sizeof(q)));
	warn_hidden(c);
	c->checking = 0;
	passes = ref.unordered ? split : all;
	n = ref.unordered ? 3 : 1;
	for (i = 0; i < n; i++)
		if (objects_pass(c, passes[i], 1, &now) < 0 || same_blocks(c, &c->ob, &ref, &now) < 0)
			return -1;
	return 0;
}

static void ctx_free(struct ctx *c)
{
	size_t i;

	free(c->st.line);
	free(c->ob.line);
	for (i = 0; i < S_NKEYS; i++)
		free(c->sv[i].s);
	for (i = 0; i < O_NKEYS; i++)
		free(c->ov[i].s);
	for (i = 0; i < c->capvars; i++) {
		free(c->vars[i].name.s);
		free(c->vars[i].value.s);
	}
	free(c->vars);
	free(c->svars);
	free(c->parents.v);
	free(c->contacts.v);
	free(c->contact_groups.v);
	free(c->groups.v);
	free(c->key.s);
	for (i = 0; i < 2; i++) {
		ht_free(&c->gnames[i]);
		ht_free(&c->members[i]);
	}
	ht_free(&c->skeys);
	ht_free(&c->okeys);
}

static int rd_init(struct rd *r, FILE *f, const char *name, sd_error *err)
{
	r->f = f;
	r->name = name;
	if (f && (r->start = ftello(f)) < 0)
		return sd_fail(err, "%s: cannot be read from a pipe (not seekable): %s", name, strerror(errno));
	return 0;
}

/* The readers' one set-up around run_state (once: the single-pass mode) or
 * run_config; status may be NULL only for the config part. */
static int read_files(FILE *status, const char *status_name, FILE *objects, const char *objects_name,
		      unsigned parts, int once, const struct sd_sink *sink, sd_error *err)
{
	struct ctx c;
	int rc;

	memset(&c, 0, sizeof(c));
	c.sink = sink;
	c.err = err;
	if (!objects || (!status && parts == SD_PART_STATE))
		return sd_fail(err, "status.dat reader: %s is needed", objects ? "status.dat" : "objects.cache");
	if (rd_init(&c.st, status, status_name ? status_name : "status.dat", err) < 0 ||
	    rd_init(&c.ob, objects, objects_name ? objects_name : "objects.cache", err) < 0)
		return -1;
	if (keys_init(&c.skeys, skeys, S_NKEYS) < 0 || keys_init(&c.okeys, okeys, O_NKEYS) < 0)
		rc = oom(&c);
	else
		rc = parts == SD_PART_STATE ? run_state(&c, once) : run_config(&c);
	ctx_free(&c);
	return rc;
}

int statusdat_read_fp(FILE *status, const char *status_name, FILE *objects, const char *objects_name,
		      unsigned parts, const struct sd_sink *sink, sd_error *err)
{
	if (parts != SD_PART_STATE && parts != SD_PART_CONFIG)
		return sd_fail(err, "status.dat reader: parts must be the state or the config part, one at a time");
	return read_files(status, status_name, objects, objects_name, parts, 0, sink, err);
}

int statusdat_read_state_once(FILE *status, const char *status_name, FILE *objects, const char *objects_name,
			      const struct sd_sink *sink, sd_error *err)
{
	return read_files(status, status_name, objects, objects_name, SD_PART_STATE, 1, sink, err);
}

int statusdat_read(const char *status_path, const char *objects_path, unsigned parts,
		   const struct sd_sink *sink, sd_error *err)
{
	FILE *st = NULL, *ob = NULL;
	int rc;

	if (!objects_path || (!status_path && parts == SD_PART_STATE))
		return sd_fail(err, "status.dat reader: both --status-file and --objects-cache are needed");
	/* open both first, read only these: the cores may rename new files over them meanwhile */
	if (status_path && !(st = fopen(status_path, "re")))
		return sd_fail(err, "%s: %s", status_path, strerror(errno));
	if (!(ob = fopen(objects_path, "re"))) {
		rc = sd_fail(err, "%s: %s", objects_path, strerror(errno));
		if (st)
			fclose(st);
		return rc;
	}
	rc = statusdat_read_fp(st, status_path, ob, objects_path, parts, sink, err);
	if (st)
		fclose(st);
	fclose(ob);
	return rc;
}

int statusdat_version(FILE *f, const char *name, char *out, size_t len, sd_error *err)
{
	char line[512];
	int n, in_info = 0;

	if (!name)
		name = "status.dat";
	for (n = 0; n < 64 && fgets(line, sizeof(line), f); n++) {
		char *p = line + strspn(line, " \t"), *q;
		if (!in_info) {
			in_info = !strncmp(p, "info", 4) && p[4 + strspn(p + 4, " \t")] == '{';
			continue;
		}
		if (*p == '}')
			break;
		if (strncmp(p, "version=", 8))
			continue;
		p += 8;
		p[strcspn(p, "\r\n")] = 0;
		for (q = p; *q; q++)
			if ((unsigned char)*q < 0x20)
				*q = ' ';
		snprintf(out, len, "%s", p);
		return 0;
	}
	return sd_fail(err, "%s: no version in an info block at its head", name);
}
