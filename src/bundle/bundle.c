/*
 * bundle.c - write and read sitedump bundles with libarchive.
 *
 * Why this shape: the manifest (sizes and BLAKE2b hashes of every member)
 * and its minisign signature are the first two tar members, so a reader
 * verifies the signature before it reads a single byte of data, and then
 * checks each member's hash while it streams it to disk. A member must be
 * spooled to a temp file before it goes into the tar (tar headers carry
 * the size), which keeps memory flat whatever the site size; the hash is
 * computed on the way to the temp file through an fopencookie stream.
 *
 * gzip bundles spool a member already deflated (pdeflate, on two threads
 * while the source is still being read: gzip members), and splice those
 * members into the bundle's where libarchive writes the member's bytes:
 * the member is added with its size but no data, libarchive fills its
 * place with zeros, and tar_write puts the deflated member there instead
 * (zs_splice). Deflating after the source was done took 0.12 s of CPU at
 * 50k services, all after the last Livestatus byte, and the 10 MB spool
 * was written and read again; the spool is now the 0.6 MB of deflate.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdio_ext.h>
#include <sys/stat.h>
#include <unistd.h>
#include <archive.h>
#include <archive_entry.h>
#include <sodium.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>
#include "bundle/bundle.h"
#include "base/output.h"
#include "bundle/pdeflate.h"

#define JSON_DEFLATE_LEVEL 1

static int is_json(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcmp(name + n - 5, ".json");
}
#include "bundle/zstream.h"

/*
 * libarchive is loaded with dlopen when a bundle is written or read, not
 * at start-up: it pulls in libxml2, ICU and libstdc++, whose loading and
 * relocation cost every plain export ~3.5 ms (perf stat of `sitedump -s
 * /nonexistent`: 4.7 ms, 1.2 ms without it), a third of the 15% budget of
 * a 5k-service export. Static linking does not help: libarchive.a's
 * format table references every writer, xar's needs libxml2. Every call
 * below goes through the table `la` (the #defines after la_load).
 */
#ifndef LIBARCHIVE_SONAME
#define LIBARCHIVE_SONAME "libarchive.so.13"
#endif

#define LA_FUNCS(X) \
	X(archive_entry_filetype) \
	X(archive_entry_free) \
	X(archive_entry_hardlink) \
	X(archive_entry_mtime) \
	X(archive_entry_new) \
	X(archive_entry_pathname) \
	X(archive_entry_set_filetype) \
	X(archive_entry_set_mtime) \
	X(archive_entry_set_pathname) \
	X(archive_entry_set_perm) \
	X(archive_entry_set_size) \
	X(archive_entry_size) \
	X(archive_entry_symlink) \
	X(archive_error_string) \
	X(archive_filter_bytes) \
	X(archive_read_data) \
	X(archive_read_free) \
	X(archive_read_new) \
	X(archive_read_next_header) \
	X(archive_read_support_filter_none) \
	X(archive_read_support_format_tar) \
	X(archive_set_error) \
	X(archive_write_close) \
	X(archive_write_data) \
	X(archive_write_free) \
	X(archive_write_header) \
	X(archive_write_new) \
	X(archive_write_set_bytes_in_last_block) \
	X(archive_write_set_format_pax_restricted) \
	X(archive_write_open2) \
	X(archive_read_open2)

static struct {
#define LA_PTR(f) __typeof__(&f) p_##f;
	LA_FUNCS(LA_PTR)
#undef LA_PTR
} la;

static pthread_once_t la_once = PTHREAD_ONCE_INIT;
static sd_error la_err;
static int la_failed;

static void la_load_once(void)
{
	void *h, *sym;

	if (!(h = dlopen(LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL))) {
		la_failed = sd_fail(&la_err, "bundle: cannot load libarchive: %s", dlerror());
		return;
	}
#define LA_SYM(f)                                                                                         \
	if (!(sym = dlsym(h, #f))) {                                                                      \
		dlclose(h);                                                                               \
		la_failed = sd_fail(&la_err, "bundle: libarchive (%s) has no %s", LIBARCHIVE_SONAME, #f); \
		return;                                                                                   \
	}                                                                                                 \
	memcpy(&la.p_##f, &sym, sizeof(sym));
	LA_FUNCS(LA_SYM)
#undef LA_SYM
}

static int la_load(sd_error *err)
{
	pthread_once(&la_once, la_load_once);
	if (la_failed) {
		*err = la_err;
		return -1;
	}
	return 0;
}

/* A writer needs libarchive only when it closes: loading it (~3.5 ms)
 * overlaps the export instead of coming before the first query. */
static void *la_loader(void *arg)
{
	(void)arg;
	pthread_once(&la_once, la_load_once);
	return NULL;
}

#define archive_entry_filetype (*la.p_archive_entry_filetype)
#define archive_entry_free (*la.p_archive_entry_free)
#define archive_entry_hardlink (*la.p_archive_entry_hardlink)
#define archive_entry_mtime (*la.p_archive_entry_mtime)
#define archive_entry_new (*la.p_archive_entry_new)
#define archive_entry_pathname (*la.p_archive_entry_pathname)
#define archive_entry_set_filetype (*la.p_archive_entry_set_filetype)
#define archive_entry_set_mtime (*la.p_archive_entry_set_mtime)
#define archive_entry_set_pathname (*la.p_archive_entry_set_pathname)
#define archive_entry_set_perm (*la.p_archive_entry_set_perm)
#define archive_entry_set_size (*la.p_archive_entry_set_size)
#define archive_entry_size (*la.p_archive_entry_size)
#define archive_entry_symlink (*la.p_archive_entry_symlink)
#define archive_error_string (*la.p_archive_error_string)
#define archive_filter_bytes (*la.p_archive_filter_bytes)
#define archive_read_data (*la.p_archive_read_data)
#define archive_read_free (*la.p_archive_read_free)
#define archive_read_new (*la.p_archive_read_new)
#define archive_read_next_header (*la.p_archive_read_next_header)
#define archive_read_support_filter_none (*la.p_archive_read_support_filter_none)
#define archive_read_support_format_tar (*la.p_archive_read_support_format_tar)
#define archive_set_error (*la.p_archive_set_error)
#define archive_write_close (*la.p_archive_write_close)
#define archive_write_data (*la.p_archive_write_data)
#define archive_write_free (*la.p_archive_write_free)
#define archive_write_header (*la.p_archive_write_header)
#define archive_write_new (*la.p_archive_write_new)
#define archive_write_set_bytes_in_last_block (*la.p_archive_write_set_bytes_in_last_block)
#define archive_write_set_format_pax_restricted (*la.p_archive_write_set_format_pax_restricted)
#define archive_write_open2 (*la.p_archive_write_open2)
#define archive_read_open2 (*la.p_archive_read_open2)

#define MAX_MEMBERS 16
#define HASH_BYTES 32
#define MANIFEST_MAX (1 << 20)
#define SIGNATURE_MAX (16 << 10)

const struct bundle_limits bundle_default_limits = {
	.max_members = MAX_MEMBERS,
	.max_member_size = 4LL << 30,
	.max_total_size = 8LL << 30,
};

struct member {
	char name[64];
	int fd;                 /* unlinked spool file */
	FILE *f;
	crypto_generichash_state hs;
	unsigned char hash[HASH_BYTES];
	long long size;
	struct pdeflate *pd;    /* gzip: the spool holds the member as gzip members */
	long long zlen;         /* ... this many bytes */
	int werr;               /* errno of a failed spool write, 0 */
};

struct bundle_writer {
	enum bundle_compress c;
	pthread_t loader;
	int loading;            /* loader runs: join before libarchive is used */
	char *tmpdir;           /* where spool files live, unlinked; NULL: $TMPDIR */
	struct member m[MAX_MEMBERS];
	int n;
	long long hosts, services, comments, downtimes;
};

static int name_ok(const char *name)
{
	size_t i, len = strlen(name);

	if (!len || len > 64 || name[0] == '.')
		return 0;
	for (i = 0; i < len; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", name[i]))
			return 0;
	return 1;
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	sodium_bin2hex(out, 2 * n + 1, b, n);
}

/* ---- writer ---------------------------------------------------------- */

/* pdeflate's output of a gzip member, on the writing thread */
static void member_emit(void *ctx, const void *buf, size_t len)
{
	struct member *m = ctx;

	if (!m->werr && out_write_all(m->fd, buf, len) < 0)
		m->werr = errno ? errno : EIO;
	m->zlen += (long long)len;
}

/* pdeflate's input, in order (on a deflate thread when it has them) */
static void member_hash(void *ctx, const void *buf, size_t len)
{
	struct member *m = ctx;

	crypto_generichash_update(&m->hs, buf, len);
}

static ssize_t member_write(void *cookie, const char *buf, size_t len)
{
	struct member *m = cookie;
	sd_error err;

	if (m->pd) {            /* pdeflate hashes it (member_hash) */
		if (pd_write(m->pd, buf, len, &err) < 0 || m->werr) {
			errno = m->werr ? m->werr : ENOMEM;
			return -1;
		}
	} else if (out_write_all(m->fd, buf, len) < 0) {
		return -1;
	} else {
		member_hash(m, buf, len);
	}
	m->size += (long long)len;
	return (ssize_t)len;
}

static int member_close(void *cookie)
{
	struct member *m = cookie;
	sd_error err;
	int rc = 0;

	if (m->pd) {            /* every byte through member_hash first */
		if (pd_flush(m->pd, &err) < 0 || m->werr) {
			errno = m->werr ? m->werr : ENOMEM;
			rc = -1;
		}
		pd_free(m->pd);
		m->pd = NULL;
	}
	crypto_generichash_final(&m->hs, m->hash, HASH_BYTES);
	if (close(m->fd) != 0)
		rc = -1;
	return rc;
}

struct bundle_writer *bundle_open(const char *tmpdir, enum bundle_compress c, sd_error *err)
{
	struct bundle_writer *b;

	if (sodium_init() < 0) {
		sd_fail(err, "libsodium failed to initialise");
		return NULL;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	if (tmpdir && !(b->tmpdir = strdup(tmpdir))) {
		free(b);
		sd_fail(err, "out of memory");
		return NULL;
	}
	b->c = c;
	b->loading = pthread_create(&b->loader, NULL, la_loader, NULL) == 0;
	return b;
}

FILE *bundle_member(struct bundle_writer *b, const char *name, sd_error *err)
{
	static const cookie_io_functions_t io = { .write = member_write, .close = member_close };
	struct member *m;
	int i;

	if (!name_ok(name) || !strcmp(name, BUNDLE_MANIFEST) || !strcmp(name, BUNDLE_SIGNATURE)) {
		sd_fail(err, "bundle: bad member name '%s'", name);
		return NULL;
	}
	for (i = 0; i < b->n; i++)
		if (!strcmp(b->m[i].name, name)) {
			sd_fail(err, "bundle: member '%s' twice", name);
			return NULL;
		}
	if (b->n == MAX_MEMBERS) {
		sd_fail(err, "bundle: too many members");
		return NULL;
	}
	m = &b->m[b->n];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	/* unlinked: a killed run leaves no copy of the site's data behind */
	if ((m->fd = out_anon_file(b->tmpdir, err)) < 0)
		return NULL;
	crypto_generichash_init(&m->hs, NULL, 0, HASH_BYTES);
	/* level 1 for the JSON members, column blocks (snapshot_json.c), over
	 * which libdeflate's fastest level is as small as level 6 over rows;
	 * the config texts (nagios.cfg, icinga2.conf) are not, and keep 6 */
	if (b->c == BUNDLE_GZIP && !(m->pd = pd_new(is_json(name) ? JSON_DEFLATE_LEVEL : 6, member_emit, member_hash, m, err))) {
		close(m->fd);
		return NULL;
	}
	if (!(m->f = fopencookie(m, "w", io))) {
		pd_free(m->pd);
		m->pd = NULL;
		close(m->fd);
		sd_fail(err, "out of memory");
		return NULL;
	}
	__fsetlocking(m->f, FSETLOCKING_BYCALLER);
	b->n++;
	return m->f;
}

void bundle_count(struct bundle_writer *b, long long hosts, long long services,
		  long long comments, long long downtimes)
{
	b->hosts = hosts;
	b->services = services;
	b->comments = comments;
	b->downtimes = downtimes;
}

static void gen_print(void *ctx, const char *s, size_t len)
{
	fwrite(s, 1, len, ctx);
}

static void gstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static char *manifest_text(const struct bundle_writer *b, const struct bundle_info *info, size_t *len)
{
	char *buf = NULL, h[2 * HASH_BYTES + 1];
	FILE *f = open_memstream(&buf, len);
	yajl_gen g;
	int i;

	if (!f)
		return NULL;
	if (!(g = yajl_gen_alloc(NULL))) {
		fclose(f);
		free(buf);
		return NULL;
	}
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_print_callback, gen_print, f);
	yajl_gen_map_open(g);
	gstr(g, "format"); gstr(g, "sitedump-bundle");
	gstr(g, "version"); yajl_gen_integer(g, BUNDLE_FORMAT_VERSION);
	gstr(g, "site"); gstr(g, info->site);
	gstr(g, "sequence"); yajl_gen_integer(g, (long long)info->sequence);
	gstr(g, "created"); yajl_gen_integer(g, info->created);
	gstr(g, "kind"); gstr(g, info->kind);
	gstr(g, "compression"); gstr(g, info->compression);
	gstr(g, "generator"); gstr(g, info->generator);
	gstr(g, "counts");
	yajl_gen_map_open(g);
	gstr(g, "hosts"); yajl_gen_integer(g, b->hosts);
	gstr(g, "services"); yajl_gen_integer(g, b->services);
	gstr(g, "comments"); yajl_gen_integer(g, b->comments);
	gstr(g, "downtimes"); yajl_gen_integer(g, b->downtimes);
	yajl_gen_map_close(g);
	gstr(g, "members");
	yajl_gen_array_open(g);
	for (i = 0; i < b->n; i++) {
		yajl_gen_map_open(g);
		gstr(g, "name"); gstr(g, b->m[i].name);
		gstr(g, "size"); yajl_gen_integer(g, b->m[i].size);
		hex(b->m[i].hash, HASH_BYTES, h);
		gstr(g, "blake2b"); gstr(g, h);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_free(g);
	if (fclose(f) != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

struct wctx {
	struct zs_writer *zw;
	sd_error *err;
	/* gzip: where in the tar each member's bytes go (see the top) */
	struct splice {
		long long start, len;
		const struct member *m;
	} sp[MAX_MEMBERS];
	int nsp, cur;           /* cur: the splice not yet passed */
	long long pos;          /* tar bytes seen so far */
};

static int all_zero(const unsigned char *p, size_t n)
{
	return !n || (!p[0] && !memcmp(p, p + 1, n - 1));
}

static la_ssize_t tar_write(struct archive *a, void *ctx, const void *buf, size_t len)
{
	struct wctx *w = ctx;
	const unsigned char *p = buf;
	size_t left = len, n;

	while (left) {
		const struct splice *s = w->cur < w->nsp ? &w->sp[w->cur] : NULL;

		if (!s || w->pos < s->start) {
			n = s && (unsigned long long)(s->start - w->pos) < left ? (size_t)(s->start - w->pos) : left;
			if (zs_write(w->zw, p, n, w->err) < 0)
				goto fail;
		} else {
			/* a member's place: libarchive's zero fill, which must be
			 * exactly that, stands for the member's deflated spool */
			if (w->pos == s->start &&
			    zs_splice(w->zw, s->m->fd, s->m->zlen, w->err) < 0)
				goto fail;
			n = (unsigned long long)(s->start + s->len - w->pos) < left ? (size_t)(s->start + s->len - w->pos)
										       : left;
			if (!all_zero(p, n)) {
				sd_fail(w->err, "bundle: internal: tar data where member %s goes", s->m->name);
				goto fail;
			}
			if (w->pos + (long long)n == s->start + s->len)
				w->cur++;
		}
		p += n;
		left -= n;
		w->pos += (long long)n;
	}
	return (la_ssize_t)len;
fail:
	archive_set_error(a, EIO, "%s", w->err->msg);
	return -1;
}

struct rctx {
	struct zs_reader *zr;
	int corrupt;
	sd_error err;
};

static la_ssize_t tar_read(struct archive *a, void *ctx, const void **buf)
{
	struct rctx *r = ctx;
	ssize_t n = zs_read(r->zr, buf, &r->corrupt, &r->err);

	if (n < 0) {
		archive_set_error(a, EIO, "%s", r->err.msg);
		return -1;
	}
	return n;
}

static void trusted_comment(const struct bundle_info *i, char *out, size_t len)
{
	snprintf(out, len, "sitedump-bundle site:%s seq:%llu kind:%s created:%lld compression:%s",
		 i->site, i->sequence, i->kind, i->created, i->compression);
}

/* A member from data, from fd, or (fd < 0, no data) left for a splice. */
static int add_entry(struct archive *a, const char *name, long long size, time_t mtime,
		     const void *data, int fd, sd_error *err)
{
	struct archive_entry *e = archive_entry_new();
	char buf[65536];
	ssize_t n;
	long long left = size;

	archive_entry_set_pathname(e, name);
	archive_entry_set_size(e, size);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_mtime(e, mtime, 0);
	if (archive_write_header(a, e) != ARCHIVE_OK) {
		archive_entry_free(e);
		return sd_fail(err, "bundle: %s", archive_error_string(a));
	}
	archive_entry_free(e);
	if (data) {
		if (archive_write_data(a, data, (size_t)size) != size)
			return sd_fail(err, "bundle: %s", archive_error_string(a));
		return 0;
	}
	if (fd < 0)
		return 0;
	if (lseek(fd, 0, SEEK_SET) < 0)
		return sd_fail(err, "bundle: %s", strerror(errno));
	while (left > 0) {
		n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return sd_fail(err, "bundle: temp file shrank");
		if (archive_write_data(a, buf, (size_t)n) != n)
			return sd_fail(err, "bundle: %s", archive_error_string(a));
		left -= n;
	}
	return 0;
}

int bundle_close(struct bundle_writer *b, FILE *out, const struct bundle_info *info,
		 const struct ms_seckey *sk, sd_error *err)
{
	enum bundle_compress c = b->c;
	struct bundle_info inf = *info;
	char tc[600], *manifest = NULL, *sig = NULL;
	size_t mlen = 0;
	struct archive *a = NULL;
	struct zs_writer *zw = NULL;
	struct wctx wctx;
	int i, rc = -1;

	err->msg[0] = '\0';
	if (b->loading) {
		pthread_join(b->loader, NULL);
		b->loading = 0;
	}
	if (la_load(err) < 0)
		return -1;
	for (i = 0; i < b->n; i++) {
		int fd = dup(b->m[i].fd);       /* keep an fd to copy from */
		int bad_io = fd < 0 || fflush(b->m[i].f) != 0;
		/* fclose always: it closes the cookie's fd, so m->fd becomes the dup */
		if (fclose(b->m[i].f) != 0)
			bad_io = 1;
		b->m[i].f = NULL;
		b->m[i].fd = fd;
		if (bad_io)
			return sd_fail(err, "bundle: writing member %s: %s", b->m[i].name, strerror(errno));
	}
	memset(&wctx, 0, sizeof(wctx));
	snprintf(inf.compression, sizeof(inf.compression), "%s",
		 c == BUNDLE_GZIP ? "gzip" : c == BUNDLE_ZSTD ? "zstd" : "none");
	info = &inf;
	if (!(manifest = manifest_text(b, info, &mlen))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	trusted_comment(info, tc, sizeof(tc));
	if (!(sig = ms_sign(sk, manifest, mlen, tc, err)))
		goto out;
	a = archive_write_new();
	if (!a || archive_write_set_format_pax_restricted(a) != ARCHIVE_OK) {
		sd_fail(err, "bundle: libarchive: cannot write tar");
		goto out;
	}
	/* libarchive writes plain tar; zstream compresses (see zstream.h) */
	if (!(zw = zs_writer_new(out, c == BUNDLE_GZIP ? ZS_GZIP : c == BUNDLE_ZSTD ? ZS_ZSTD : ZS_NONE, sk,
				 b->tmpdir, err)))
		goto out;
	wctx.zw = zw;
	wctx.err = err;
	archive_write_set_bytes_in_last_block(a, 1);
	if (archive_write_open2(a, &wctx, NULL, tar_write, NULL, NULL) != ARCHIVE_OK) {
		sd_fail(err, "bundle: %s", archive_error_string(a));
		goto out;
	}
	if (add_entry(a, BUNDLE_MANIFEST, (long long)mlen, info->created, manifest, -1, err) < 0 ||
	    add_entry(a, BUNDLE_SIGNATURE, (long long)strlen(sig), info->created, sig, -1, err) < 0)
		goto out;
	for (i = 0; i < b->n; i++) {
		int splice = c == BUNDLE_GZIP && b->m[i].size > 0;

		if (add_entry(a, b->m[i].name, b->m[i].size, info->created, NULL, splice ? -1 : b->m[i].fd, err) < 0)
			goto out;
		if (splice)     /* its bytes start right after the header libarchive has taken */
			wctx.sp[wctx.nsp++] = (struct splice){ archive_filter_bytes(a, -1), b->m[i].size, &b->m[i] };
	}
	if (archive_write_close(a) != ARCHIVE_OK) {
		if (!err->msg[0])
			sd_fail(err, "bundle: %s", archive_error_string(a));
		goto out;
	}
	if (wctx.cur != wctx.nsp) {
		sd_fail(err, "bundle: internal: member %s not in the tar", wctx.sp[wctx.cur].m->name);
		goto out;
	}
	if (zs_writer_finish(zw, err) < 0)
		goto out;
	rc = 0;
out:
	if (a)
		archive_write_free(a);
	zs_writer_free(zw);
	free(manifest);
	free(sig);
	return rc;
}

void bundle_free(struct bundle_writer *b)
{
	int i;

	if (!b)
		return;
	if (b->loading)
		pthread_join(b->loader, NULL);
	for (i = 0; i < b->n; i++) {
		if (b->m[i].f)
			fclose(b->m[i].f);      /* also ends its pdeflate */
		else if (b->m[i].fd >= 0)
			close(b->m[i].fd);
	}
	free(b->tmpdir);
	free(b);
}

/* ---- reader ---------------------------------------------------------- */

struct expect {
	char name[64];
	long long size;
	unsigned char hash[HASH_BYTES];
	int seen;
	int fd;                 /* unpacked into an unlinked file; -1 before */
};

struct bundle_reader {
	const char *tmpdir;
	struct bundle_info info;
	struct expect m[MAX_MEMBERS];
	int n;
	const char *names[MAX_MEMBERS + 1];
};

static int bad(int *vf, sd_error *err, const char *fmt, const char *a)
{
	*vf = 1;
	return sd_fail(err, fmt, a);
}

/* Read the whole current entry into memory (small members only). */
static char *read_small(struct archive *a, struct archive_entry *e, size_t max, size_t *len,
			int *vf, sd_error *err)
{
	la_int64_t size = archive_entry_size(e);
	char *buf;
	la_ssize_t n;
	size_t got = 0;

	if (archive_entry_filetype(e) != AE_IFREG || size < 0 || (size_t)size > max) {
		bad(vf, err, "bundle: %s is not a regular file of acceptable size", archive_entry_pathname(e));
		return NULL;
	}
	if (!(buf = malloc((size_t)size + 1))) {
		sd_fail(err, "out of memory");
		return NULL;
	}
	while ((n = archive_read_data(a, buf + got, (size_t)size - got + 1)) > 0) {
		got += (size_t)n;
		if (got > (size_t)size)
			break;
	}
	if (n < 0 || got != (size_t)size) {
		bad(vf, err, "bundle: %s: truncated or corrupt", archive_entry_pathname(e));
		free(buf);
		return NULL;
	}
	buf[got] = '\0';
	*len = got;
	return buf;
}

static const char *tstr(yajl_val root, const char *key)
{
	const char *path[] = { key, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_string);

	return v ? YAJL_GET_STRING(v) : NULL;
}

static int tint(yajl_val root, const char *k1, const char *k2, long long *out)
{
	const char *path[] = { k1, k2, NULL };
	yajl_val v = yajl_tree_get(root, path, yajl_t_number);

	if (!v || !YAJL_IS_INTEGER(v))
		return -1;
	*out = YAJL_GET_INTEGER(v);
	return 0;
}

/* yajl's tree parser and free recurse: refuse deep nesting before parsing */
static int depth_ok(const char *t)
{
	int depth = 0, in_str = 0;

	for (; *t; t++) {
		if (in_str) {
			if (*t == '\\' && t[1])
				t++;
			else if (*t == '"')
				in_str = 0;
		} else if (*t == '"') {
			in_str = 1;
		} else if (*t == '[' || *t == '{') {
			if (++depth > 8)
				return 0;
		} else if (*t == ']' || *t == '}') {
			depth--;
		}
	}
	return 1;
}

static int parse_manifest(struct bundle_reader *r, const char *text, int *vf, sd_error *err)
{
	char ebuf[256];
	yajl_val root = NULL, members;
	const char *s, *mpath[] = { "members", NULL };
	long long v;
	size_t i;
	int rc = -1;

	if (!depth_ok(text))
		return bad(vf, err, "bundle: manifest nested too deeply%s", "");
	if (!(root = yajl_tree_parse(text, ebuf, sizeof(ebuf))))
		return bad(vf, err, "bundle: manifest is not valid JSON%s", "");
	if (!(s = tstr(root, "format")) || strcmp(s, "sitedump-bundle")) {
		bad(vf, err, "bundle: manifest: not a sitedump bundle%s", "");
		goto out;
	}
	if (tint(root, "version", NULL, &v) < 0 || v != BUNDLE_FORMAT_VERSION) {
		bad(vf, err, "bundle: manifest: unsupported format version%s", "");
		goto out;
	}
	r->info.version = (int)v;
	if (!(s = tstr(root, "site")) || !name_ok(s) || strlen(s) > 64) {
		bad(vf, err, "bundle: manifest: bad site%s", "");
		goto out;
	}
	strcpy(r->info.site, s);
	if (!(s = tstr(root, "kind")) || (strcmp(s, "state") && strcmp(s, "config") && strcmp(s, "both"))) {
		bad(vf, err, "bundle: manifest: bad kind%s", "");
		goto out;
	}
	strcpy(r->info.kind, s);
	if (!(s = tstr(root, "compression")) || (strcmp(s, "gzip") && strcmp(s, "zstd") && strcmp(s, "none"))) {
		bad(vf, err, "bundle: manifest: bad compression%s", "");
		goto out;
	}
	strcpy(r->info.compression, s);
	if (!(s = tstr(root, "generator")) || strlen(s) >= sizeof(r->info.generator)) {
		bad(vf, err, "bundle: manifest: bad generator%s", "");
		goto out;
	}
	strcpy(r->info.generator, s);
	if (tint(root, "sequence", NULL, &v) < 0 || v < 1 ||
	    tint(root, "created", NULL, &r->info.created) < 0 ||
	    tint(root, "counts", "hosts", &r->info.hosts) < 0 ||
	    tint(root, "counts", "services", &r->info.services) < 0 ||
	    tint(root, "counts", "comments", &r->info.comments) < 0 ||
	    tint(root, "counts", "downtimes", &r->info.downtimes) < 0) {
		bad(vf, err, "bundle: manifest: missing or bad sequence, created or counts%s", "");
		goto out;
	}
	r->info.sequence = (unsigned long long)v;
	members = yajl_tree_get(root, mpath, yajl_t_array);
	if (!members || !YAJL_GET_ARRAY(members)->len || YAJL_GET_ARRAY(members)->len > MAX_MEMBERS) {
		bad(vf, err, "bundle: manifest: bad member list%s", "");
		goto out;
	}
	for (i = 0; i < YAJL_GET_ARRAY(members)->len; i++) {
		yajl_val m = YAJL_GET_ARRAY(members)->values[i];
		const char *name = tstr(m, "name"), *h = tstr(m, "blake2b");
		struct expect *x = &r->m[r->n];
		size_t hl;
		int j;

		if (!name || !name_ok(name) || !strcmp(name, BUNDLE_MANIFEST) || !strcmp(name, BUNDLE_SIGNATURE) ||
		    tint(m, "size", NULL, &x->size) < 0 || x->size < 0 || !h ||
		    sodium_hex2bin(x->hash, HASH_BYTES, h, strlen(h), NULL, &hl, NULL) != 0 || hl != HASH_BYTES) {
			bad(vf, err, "bundle: manifest: bad member entry%s", "");
			goto out;
		}
		for (j = 0; j < r->n; j++)
			if (!strcmp(r->m[j].name, name)) {
				bad(vf, err, "bundle: manifest: member %s listed twice", name);
				goto out;
			}
		strcpy(x->name, name);
		x->fd = -1;
		r->names[r->n] = x->name;
		r->n++;
	}
	rc = 0;
out:
	yajl_tree_free(root);
	return rc;
}

/* libarchive failed: if our stream layer said why, that is the reason;
 * else libarchive's own message. */
static void bad_archive(const struct rctx *rc, struct archive *a, int *vf, sd_error *err, const char *what)
{
	*vf = 1;
	if (rc->err.msg[0])
		sd_fail(err, "%s", rc->err.msg);
	else
		sd_fail(err, "bundle: %s: %s", what, archive_error_string(a));
}

/* trusted comment must say what the manifest says */
static int check_trusted(const struct bundle_reader *r, const char *tc, int *vf, sd_error *err)
{
	char want[600];

	trusted_comment(&r->info, want, sizeof(want));
	if (strcmp(tc, want))
		return bad(vf, err, "bundle: trusted comment does not match the manifest: %s", tc);
	return 0;
}

static int extract(struct bundle_reader *r, struct archive *a, const struct rctx *rc, struct expect *x,
		   const struct bundle_limits *lim, long long *total, int *vf, sd_error *err)
{
	crypto_generichash_state hs;
	unsigned char h[HASH_BYTES];
	char buf[65536];
	long long got = 0;
	la_ssize_t n;
	int fd;

	if ((fd = out_anon_file(r->tmpdir, err)) < 0)
		return -1;
	crypto_generichash_init(&hs, NULL, 0, HASH_BYTES);
	while ((n = archive_read_data(a, buf, sizeof(buf))) > 0) {
		got += n;
		*total += n;
		/* stop early: more than declared, or over the caps (decompression bomb) */
		if (got > x->size || got > lim->max_member_size || *total > lim->max_total_size) {
			close(fd);
			return bad(vf, err, "bundle: %s is larger than its manifest entry or the size limit", x->name);
		}
		crypto_generichash_update(&hs, (unsigned char *)buf, (size_t)n);
		if (write(fd, buf, (size_t)n) != n) {
			close(fd);
			return sd_fail(err, "temp file for %s: %s", x->name, strerror(errno));
		}
	}
	x->fd = fd;
	if (n < 0 && rc->err.msg[0])    /* the compressed stream's own reason */
		return bad(vf, err, "%s", rc->err.msg);
	if (n < 0)
		return bad(vf, err, "bundle: %s: truncated or corrupt archive", x->name);
	crypto_generichash_final(&hs, h, HASH_BYTES);
	if (got != x->size)
		return bad(vf, err, "bundle: %s: size differs from the manifest", x->name);
	if (sodium_memcmp(h, x->hash, HASH_BYTES))
		return bad(vf, err, "bundle: %s: hash differs from the manifest", x->name);
	x->seen = 1;
	return 0;
}

/* The site named in the (not yet verified) trusted comment, to pick the
 * key that must then verify it: "trusted comment: sitedump-bundle site:S ..." */
static int sig_site(const char *sig, size_t slen, char *site, size_t sitelen)
{
	const char *p = sig, *end = sig + slen, *q;
	int line = 0;
	size_t n;

	while (p < end && line < 2) {
		if (!(q = memchr(p, '\n', (size_t)(end - p))))
			return -1;
		p = q + 1;
		line++;
	}
	if ((size_t)(end - p) < 40 || memcmp(p, "trusted comment: sitedump-bundle site:", 38))
		return -1;
	p += 38;
	for (n = 0; p + n < end && p[n] != ' ' && p[n] != '\n'; n++) {
		char ch = p[n];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '.' || ch == '_' || ch == '-'))
			return -1;
	}
	if (!n || n >= sitelen || p[0] == '.')
		return -1;
	memcpy(site, p, n);
	site[n] = 0;
	return 0;
}

static struct bundle_reader *read_impl(int fd, const struct ms_pubkey *pk, bundle_key_fn keyfor, void *keyctx,
				       const struct bundle_limits *lim, const char *tmpdir,
				       int *verify_failed, sd_error *err);

struct bundle_reader *bundle_read(int fd, const struct ms_pubkey *pk, const struct bundle_limits *lim,
				  const char *tmpdir, int *verify_failed, sd_error *err)
{
	return read_impl(fd, pk, NULL, NULL, lim, tmpdir, verify_failed, err);
}

struct bundle_reader *bundle_read_trusted(int fd, bundle_key_fn keyfor, void *keyctx,
					  const struct bundle_limits *lim, const char *tmpdir,
					  int *verify_failed, sd_error *err)
{
	return read_impl(fd, NULL, keyfor, keyctx, lim, tmpdir, verify_failed, err);
}

/*
 * Reading a bundle. The order of the steps is the security of it: the
 * manifest and its signature are taken as raw bytes (read_head), the
 * signature is verified over those bytes before the manifest is parsed
 * (read_verify), the container is held to the signed manifest
 * (read_check_frame), and only then is any member unpacked
 * (read_members) and the rest of the stream checked (read_tail). Each
 * step fails with *verify_failed set where the bundle is at fault.
 */

/* the first two members, as raw bytes, and their tar times */
struct rhead {
	char *manifest, *sig;
	size_t mlen, slen;
	time_t mtime0, mtime1;
};

/* 1: the manifest, 2: its signature; read before anything else, parsed
 * not at all here: only the signature's fixed form is checked */
static int read_head(struct archive *a, const struct rctx *rc, struct rhead *h, int *vf, sd_error *err)
{
	struct archive_entry *e;
	size_t k, nl = 0;

	if (archive_read_next_header(a, &e) != ARCHIVE_OK) {
		bad_archive(rc, a, vf, err, "not a bundle");
		return -1;
	}
	if (strcmp(archive_entry_pathname(e), BUNDLE_MANIFEST))
		return bad(vf, err, "bundle: first member is not " BUNDLE_MANIFEST "%s", "");
	h->mtime0 = archive_entry_mtime(e);
	if (!(h->manifest = read_small(a, e, MANIFEST_MAX, &h->mlen, vf, err)))
		return -1;
	if (archive_read_next_header(a, &e) != ARCHIVE_OK || strcmp(archive_entry_pathname(e), BUNDLE_SIGNATURE))
		return bad(vf, err, "bundle: second member is not " BUNDLE_SIGNATURE "%s", "");
	h->mtime1 = archive_entry_mtime(e);
	if (!(h->sig = read_small(a, e, SIGNATURE_MAX, &h->slen, vf, err)))
		return -1;
	/* minisign leaves the first line unsigned; ours is fixed, so nothing
	 * in an uncompressed bundle can change unnoticed */
	if (h->slen < strlen(MS_SIG_UNTRUSTED) || memcmp(h->sig, MS_SIG_UNTRUSTED, strlen(MS_SIG_UNTRUSTED)))
		return bad(vf, err, "bundle: %s does not start with sitedump's line", BUNDLE_SIGNATURE);
	/* exactly the four LF-terminated lines ms_sign writes: nothing after,
	 * no CR (the minisign reader would skip either without a word) */
	for (k = 0; k < h->slen; k++)
		nl += h->sig[k] == '\n';
	if (nl != 4 || h->sig[h->slen - 1] != '\n' || memchr(h->sig, '\r', h->slen))
		return bad(vf, err, "bundle: %s is not in the form sitedump writes", BUNDLE_SIGNATURE);
	return 0;
}

/* bundle_read_trusted: the key of the site the (not yet verified)
 * signature names; read_verify then holds the bundle to it */
static int read_pick_key(const struct rhead *h, bundle_key_fn keyfor, void *keyctx, struct ms_pubkey *pk,
			 int *vf, sd_error *err)
{
	char site[256], line[128];
	unsigned char bin[2 + MS_KEYNUMBYTES + 64];
	const char *p, *nl;

	if (sig_site(h->sig, h->slen, site, sizeof(site)) < 0)
		return bad(vf, err, "bundle: %s names no valid site", BUNDLE_SIGNATURE);
	/* the signature line ("ED" keynum sig) names the key that made it
	 * (read_head checked there are four lines) */
	p = (const char *)memchr(h->sig, '\n', h->slen) + 1;
	nl = memchr(p, '\n', h->slen - (size_t)(p - h->sig));
	if ((size_t)(nl - p) >= sizeof(line))
		return bad(vf, err, "bundle: %s: malformed signature line", BUNDLE_SIGNATURE);
	memcpy(line, p, (size_t)(nl - p));
	line[nl - p] = '\0';
	if (ms_b64_decode(line, bin, sizeof(bin)) < 0)
		return bad(vf, err, "bundle: %s: malformed signature line", BUNDLE_SIGNATURE);
	if (keyfor(keyctx, site, bin + 2, pk, err) < 0) {
		*vf = 1;
		return -1;
	}
	return 0;
}

/* The signature over the raw bytes first: nothing unauthenticated is
 * parsed when a key is given. Then the manifest, and the trusted comment
 * against it. Without a key (inspect) the manifest is parsed unverified. */
static int read_verify(struct bundle_reader *r, const struct rhead *h, const struct ms_pubkey *pk,
		       int *vf, sd_error *err)
{
	char tc[MS_TRUSTED_MAX];

	if (pk && ms_verify(pk, h->manifest, h->mlen, h->sig, h->slen, tc, sizeof(tc), err) < 0) {
		char msg[SD_ERRLEN];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return bad(vf, err, "bundle: %s", msg);
	}
	if (parse_manifest(r, h->manifest, vf, err) < 0)
		return -1;
	if (pk) {
		if (check_trusted(r, tc, vf, err) < 0)
			return -1;
		r->info.signature_checked = 1;
		ms_keyid_hex(pk->keynum, r->info.keyid);
	}
	return 0;
}

/* the file must be what the signed manifest says: no stripped or
 * swapped compression (that would drop the outer signature), and the
 * first two members' times its creation time */
static int read_check_frame(const struct bundle_reader *r, const struct rctx *rc, const struct rhead *h,
			    int *vf, sd_error *err)
{
	enum zs_kind k = zs_reader_kind(rc->zr);
	const char *got = k == ZS_GZIP ? "gzip" : k == ZS_ZSTD ? "zstd" : "none";

	if (strcmp(got, r->info.compression)) {
		sd_fail(err, "bundle: the manifest says %s but the file is %s", r->info.compression, got);
		*vf = 1;
		return -1;
	}
	if (h->mtime0 != r->info.created || h->mtime1 != r->info.created)
		return bad(vf, err, "bundle: member times differ from the manifest's creation time%s", "");
	return 0;
}

/* One member's tar header against the manifest, before a byte of it is
 * unpacked; its entry in r->m on success. */
static struct expect *read_member_header(struct bundle_reader *r, struct archive_entry *e, int *vf, sd_error *err)
{
	const char *name = archive_entry_pathname(e);
	struct expect *x = NULL;
	int i;

	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) || archive_entry_symlink(e)) {
		bad(vf, err, "bundle: %s is not a regular file", name);
		return NULL;
	}
	if (!name_ok(name)) {   /* never print an attacker's bytes as they are */
		bad(vf, err, "bundle: a member has a bad name%s", "");
		return NULL;
	}
	for (i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, name))
			x = &r->m[i];
	if (!x) {
		bad(vf, err, "bundle: member %s is not in the manifest", name);
		return NULL;
	}
	if (x->seen || x->fd >= 0) {
		bad(vf, err, "bundle: member %s appears twice", name);
		return NULL;
	}
	if (archive_entry_mtime(e) != r->info.created) {
		bad(vf, err, "bundle: %s: time differs from the manifest's creation time", name);
		return NULL;
	}
	if (archive_entry_size(e) != x->size) {
		bad(vf, err, "bundle: %s: size differs from the manifest", name);
		return NULL;
	}
	return x;
}

/* the members after the signature, each checked and unpacked in turn,
 * up to the tar's end; the member count is capped before the header is
 * looked at */
static int read_members(struct bundle_reader *r, struct archive *a, const struct rctx *rc,
			const struct bundle_limits *lim, int *vf, sd_error *err)
{
	struct archive_entry *e;
	struct expect *x;
	long long total = 0, entries = 2;
	int rc_;

	while ((rc_ = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (++entries > lim->max_members + 2)
			return bad(vf, err, "bundle: more members than the limit%s", "");
		if (!(x = read_member_header(r, e, vf, err)))
			return -1;
		if (extract(r, a, rc, x, lim, &total, vf, err) < 0)
			return -1;
	}
	if (rc_ != ARCHIVE_EOF) {
		bad_archive(rc, a, vf, err, "truncated or corrupt archive");
		return -1;
	}
	return 0;
}

/* after the tar: the stream's end, and every manifest entry seen */
static int read_tail(const struct bundle_reader *r, struct rctx *rc, const struct ms_pubkey *pk,
		     int *vf, sd_error *err)
{
	int i;

	/* what follows the tar's end marker must be zeros, then the stream's end */
	if (zs_reader_drain(rc->zr, pk, &rc->corrupt, &rc->err) < 0)
		return bad(vf, err, "%s", rc->err.msg);
	for (i = 0; i < r->n; i++)
		if (!r->m[i].seen)
			return bad(vf, err, "bundle: member %s is missing", r->m[i].name);
	return 0;
}

static struct bundle_reader *read_impl(int fd, const struct ms_pubkey *pk, bundle_key_fn keyfor, void *keyctx,
				       const struct bundle_limits *lim, const char *tmpdir,
				       int *verify_failed, sd_error *err)
{
	struct ms_pubkey lookedup;
	struct bundle_reader *r = NULL;
	struct archive *a = NULL;
	struct rhead h = { 0 };
	struct rctx rc_ = { 0 };

	*verify_failed = 0;
	if (!lim)
		lim = &bundle_default_limits;
	if (sodium_init() < 0) {
		sd_fail(err, "libsodium failed to initialise");
		return NULL;
	}
	if (la_load(err) < 0)
		return NULL;
	if (!(r = calloc(1, sizeof(*r))) || !(a = archive_read_new())) {
		sd_fail(err, "out of memory");
		goto fail;
	}
	r->tmpdir = tmpdir;
	/* decompression is zstream's (strict); libarchive only reads tar */
	if (!(rc_.zr = zs_reader_new(fd, err)))
		goto fail;
	archive_read_support_filter_none(a);
	archive_read_support_format_tar(a);
	if (archive_read_open2(a, &rc_, NULL, tar_read, NULL, NULL) != ARCHIVE_OK) {
		bad_archive(&rc_, a, verify_failed, err, "not a bundle");
		goto fail;
	}
	/* each step only once the one before it has passed: the order is what
	 * keeps unauthenticated bytes from being parsed (see above read_head) */
	if (read_head(a, &rc_, &h, verify_failed, err) < 0)
		goto fail;
	if (keyfor) {
		if (read_pick_key(&h, keyfor, keyctx, &lookedup, verify_failed, err) < 0)
			goto fail;
		pk = &lookedup;
	}
	if (read_verify(r, &h, pk, verify_failed, err) < 0 ||
	    read_check_frame(r, &rc_, &h, verify_failed, err) < 0 ||
	    read_members(r, a, &rc_, lim, verify_failed, err) < 0 ||
	    read_tail(r, &rc_, pk, verify_failed, err) < 0)
		goto fail;
	archive_read_free(a);
	zs_reader_free(rc_.zr);
	free(h.manifest);
	free(h.sig);
	r->names[r->n] = NULL;
	return r;
fail:
	if (a)
		archive_read_free(a);
	zs_reader_free(rc_.zr);
	free(h.manifest);
	free(h.sig);
	bundle_reader_free(r);
	return NULL;
}

const struct bundle_info *bundle_reader_info(const struct bundle_reader *r)
{
	return &r->info;
}

int bundle_reader_fd(const struct bundle_reader *r, const char *name)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (!strcmp(r->m[i].name, name) && r->m[i].fd >= 0) {
			lseek(r->m[i].fd, 0, SEEK_SET);
			return r->m[i].fd;
		}
	return -1;
}

const char *const *bundle_reader_members(const struct bundle_reader *r)
{
	return r->names;
}

void bundle_reader_free(struct bundle_reader *r)
{
	int i;

	if (!r)
		return;
	for (i = 0; i < r->n; i++)
		if (r->m[i].fd >= 0)
			close(r->m[i].fd);
	free(r);
}
