/*
 * import.c - siteload's import run.
 *
 * Order of a run, and why:
 * 1. every bundle read and verified against its site's trusted key before
 *    anything is taken from it; then sorted by site and sequence;
 * 2. one lock over the state dir, taken only now (a slow sender must not
 *    hold up other imports): two runs (cron, ssh, spool) never apply the
 *    same bundle twice or interleave their commands;
 * 3. per bundle: sequence newer than the last imported, not too old, then
 *    config (ownership decided here: a site owns the hosts of its own
 *    config, never another site's or the central's own), then state;
 * 4. the sequence is recorded only after the bundle was applied: a crash
 *    in between repeats the import, and reconciliation makes a repeat
 *    harmless (it sends only what the central still lacks).
 * Per-site files in the state dir: SITE.imported (sequence, created,
 * imported at), SITE.hosts (owned central host names), SITE.ledger
 * (downtimes/comments siteload created: the only ones it may delete).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <search.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "import/import.h"
#include "import/apply.h"
#include "import/central.h"
#include "formats/extcmd.h"
#include "formats/icinga2_dsl.h"
#include "livestatus/livestatus.h"
#include "formats/minisign.h"
#include "formats/nagios_objects.h"
#include "base/child.h"
#include "base/deadline.h"
#include "base/output.h"
#include "base/seen.h"
#include "import/reconcile.h"
#include "bundle/keyfile.h"
#include "bundle/seal.h"
#include "bundle/seqstate.h"
#include "formats/snapshot_json.h"
#include "formats/writers.h"
#include "model/writer.h"

#define LINK_PREFIX "sitedump-"
#define LINK_SERVICE "sitedump link"

struct lines {
	char **v;
	size_t n;
};

static void lines_free(struct lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

static int strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int lines_has(const struct lines *l, const char *s)
{
	return l->n && bsearch(&s, l->v, l->n, sizeof(char *), strp_cmp);
}

static int lines_add(struct lines *l, const char *s)
{
	if ((l->n & (l->n - 1)) == 0) {         /* at 0, 1, 2, 4, ...: double */
		char **v = realloc(l->v, (l->n ? 2 * l->n : 1) * sizeof(*v));
		if (!v)
			return -1;
		l->v = v;
	}
	if (!(l->v[l->n] = strdup(s)))
		return -1;
	l->n++;
	return 0;
}

static void lines_sort(struct lines *l)
{
	size_t i, j = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof(char *), strp_cmp);
	for (i = 0; i < l->n; i++) {    /* unique */
		if (j && !strcmp(l->v[j - 1], l->v[i]))
			free(l->v[i]);
		else
			l->v[j++] = l->v[i];
	}
	l->n = j;
}

static char *spath(const char *dir, const char *site, const char *ext)
{
	size_t n = strlen(dir) + strlen(site) + strlen(ext) + 3;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s/%s%s", dir, site, ext);
	return p;
}

/* Missing file: empty set. */
static int lines_read(const char *path, struct lines *l, sd_error *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	memset(l, 0, sizeof(*l));
	if (!f)
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", path, strerror(errno));
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = 0;
		if (n && lines_add(l, line) < 0) {
			fclose(f);
			free(line);
			return sd_fail(err, "out of memory");
		}
	}
	free(line);
	if (ferror(f)) {
		fclose(f);
		return sd_fail(err, "%s: read error", path);
	}
	fclose(f);
	lines_sort(l);
	return 0;
}

/* State files are 0600 (siteload's main sets umask 077); what the core
 * must read (its config) is given 0644 explicitly. */
static int file_write_mode(const char *path, const char *text, size_t len, mode_t mode, sd_error *err)
{
	struct out_file *of = out_open(path, err);

	if (!of)
		return -1;
	if (mode && fchmod(fileno(out_stream(of)), mode) < 0) {
		out_abort(of);
		return sd_fail(err, "%s: %s", path, strerror(errno));
	}
	if (len && fwrite(text, 1, len, out_stream(of)) != len) {
		out_abort(of);
		return sd_fail(err, "%s: write error", path);
	}
	return out_commit(of, err);
}

static int file_write(const char *path, const char *text, size_t len, sd_error *err)
{
	return file_write_mode(path, text, len, 0, err);
}

static int lines_write(const char *path, const struct lines *l, sd_error *err)
{
	char *buf = NULL;
	size_t len = 0, i;
	FILE *m = open_memstream(&buf, &len);
	int rc;

	if (!m)
		return sd_fail(err, "out of memory");
	for (i = 0; i < l->n; i++)
		fprintf(m, "%s\n", l->v[i]);
	fclose(m);
	rc = buf ? file_write(path, buf, len, err) : sd_fail(err, "out of memory");
	free(buf);
	return rc;
}

/* Same content already there? */
static int same_content(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "re");
	char buf[65536];
	size_t off = 0, n;
	int same = 1;

	if (!f)
		return 0;
	while (same && (n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (off + n > len || memcmp(buf, text + off, n))
			same = 0;
		off += n;
	}
	fclose(f);
	return same && off == len;
}

struct imported {
	unsigned long long seq;
	long long created, at;
};

static int imported_read(const char *dir, const char *site, struct imported *im, sd_error *err)
{
	char *p = spath(dir, site, ".imported");
	FILE *f;
	int rc = 0;

	memset(im, 0, sizeof(*im));
	if (!p)
		return sd_fail(err, "out of memory");
	if ((f = fopen(p, "re"))) {
		if (fscanf(f, "%llu %lld %lld", &im->seq, &im->created, &im->at) != 3)
			rc = sd_fail(err, "%s: damaged (want: SEQUENCE CREATED IMPORTED_AT)", p);
		fclose(f);
	} else if (errno != ENOENT) {
		rc = sd_fail(err, "%s: %s", p, strerror(errno));
	}
	free(p);
	return rc;
}

static int imported_write(const char *dir, const char *site, const struct imported *im, sd_error *err)
{
	char *p = spath(dir, site, ".imported"), buf[128];
	int rc;

	if (!p)
		return sd_fail(err, "out of memory");
	snprintf(buf, sizeof(buf), "%llu %lld %lld\n", im->seq, im->created, im->at);
	/* readable by the core, which runs `siteload stale` as its own user */
	rc = file_write_mode(p, buf, strlen(buf), 0644, err);
	free(p);
	return rc;
}

int import_stale_message(const char *state_dir, const char *site, int link, char *buf, size_t len)
{
	struct imported im;
	sd_error err;
	char when[32] = "never", made[32] = "?";
	struct tm tm;
	time_t t;

	if (!seq_site_ok(site)) {
		snprintf(buf, len, "UNKNOWN - sitedump: bad site name");
		return 3;
	}
	if (imported_read(state_dir, site, &im, &err) < 0) {
		snprintf(buf, len, "UNKNOWN - sitedump: %s", err.msg);
		return 3;
	}
	if (im.seq) {
		t = (time_t)im.at;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		t = (time_t)im.created;
		strftime(made, sizeof(made), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
	}
	if (link) {
		snprintf(buf, len, "CRITICAL - sitedump: no bundle from site %s imported since %s (last: sequence %llu, made %s)",
			 site, when, im.seq, made);
		return 2;
	}
	/* starts with CENTRAL_STALE_PREFIX: reconciliation recognises it */
	snprintf(buf, len, "%s data: no result from site %s since its last bundle was imported at %s (made %s)",
		 CENTRAL_STALE_PREFIX, site, when, made);
	return 3;
}

/* ---- the run ---- */

struct input {
	const char *path;
	struct bundle_reader *r;
	const struct bundle_info *info;
	int superseded;
	enum import_outcome outcome;
	char reason[SD_ERRLEN];
};

static void set_outcome(struct input *in, enum import_outcome oc, const char *reason)
{
	in->outcome = oc;
	snprintf(in->reason, sizeof(in->reason), "%s", reason ? reason : "");
}

struct ctx {
	const struct import_opts *o;
	int status;
	long long now;
	struct central *central;        /* read lazily, dropped after changes */
	/* --dry-run writes no state: the hosts a config part would give the
	 * site are kept here for the state part of the same run */
	char dry_site[256];
	struct lines dry_owned;
};

static void report(struct ctx *c, const char *what, const char *why)
{
	if (c->status < 1)
		c->status = 1;
	if (c->o->report)
		c->o->report(c->o->ctx, what, why);
}

static void note(struct ctx *c, const char *what, const char *why)
{
	/* reported without failing the run (skipped objects are expected) */
	if (c->o->report)
		c->o->report(c->o->ctx, what, why);
}

static void info(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void info(struct ctx *c, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!c->o->info)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	c->o->info(c->o->ctx, buf);
}

static int keyfor(void *vctx, const char *site, struct ms_pubkey *pk, sd_error *err)
{
	struct ctx *c = vctx;
	char *p, msg[SD_ERRLEN];
	int rc;

	if (c->o->only_site && strcmp(site, c->o->only_site))
		return sd_fail(err, "bundle of site '%s' refused: this key may only load site '%s'", site, c->o->only_site);
	if (!(p = spath(c->o->trust_dir, site, ".pub")))
		return sd_fail(err, "out of memory");
	rc = keyfile_pub_load(p, pk, err);
	free(p);
	if (rc == -1) {         /* not there (or a link): the site is not trusted */
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sd_fail(err, "no trusted key for site '%s' (%s)", site, msg);
	}
	return rc < 0 ? -1 : 0;
}

/*
 * status.dat lags the core by up to status_update_interval: read right
 * after siteload sent commands, it would not show them yet, and a second
 * run would send them again (duplicate downtimes and comments). So the
 * time of the last send is kept, and status.dat is read only once it was
 * written after that (bounded by --reload-wait).
 */
#define SENT_FILE ".central-sent"

static void sent_mark(struct ctx *c)
{
	char *p = spath(c->o->state_dir, SENT_FILE, "");
	char buf[32];
	sd_error e;

	if (!p || !c->o->status_file || c->o->dry_run) {
		free(p);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld\n", sd_now());
	file_write(p, buf, strlen(buf), &e);
	free(p);
}

static void sent_mark_cb(void *ctx)
{
	sent_mark(ctx);
}

static void statusdat_wait(struct ctx *c)
{
	char *p = spath(c->o->state_dir, SENT_FILE, "");
	long long sent = 0;
	struct sd_deadline dl;
	struct stat st;
	FILE *f;

	if (!p)
		return;
	if ((f = fopen(p, "re"))) {
		if (fscanf(f, "%lld", &sent) != 1)
			sent = 0;
		fclose(f);
	}
	free(p);
	if (!sent)
		return;
	sd_deadline_start(&dl, c->o->reload_wait_ms);
	/* written a whole second after the send: the core had that second to
	 * process the commands (it reads its FIFO continuously) */
	while (stat(c->o->status_file, &st) == 0 && st.st_mtime <= sent + 1) {
		if (sd_deadline_over(&dl))
			break;
		usleep(200000);
	}
}

static int read_central(struct ctx *c, sd_error *err)
{
	const struct import_opts *o = c->o;

	if (c->central)
		return 0;
	if (o->status_file)
		statusdat_wait(c);
	if (o->api)
		c->central = central_read_api(o->api, err);
	else if (o->livestatus)
		c->central = central_read_livestatus(o->livestatus, o->timeout_ms, err);
	else if (o->status_file)
		c->central = central_read_statusdat(o->status_file, o->objects_cache, o->report, o->ctx, err);
	else
		c->central = central_new();
	if (!c->central) {
		char msg[SD_ERRLEN];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sd_fail(err, "reading the central's state: %s", msg);
	}
	return 0;
}

static int have_central(const struct import_opts *o)
{
	return o->livestatus || o->status_file || o->api;
}

/* ---- config ---- */

/*
 * A site's config is read twice from its config.json, never held whole:
 * pass 1 decides what the site may have (its hosts, the groups it defines,
 * a cycle-free set of parent edges), pass 2 streams the writer's output to
 * a candidate file. Groups are the site's own: the writer names them
 * prefix + SITE + ":" + name, and a host or service is put only in groups
 * its own site defines. Shared names would let one site put its hosts into
 * the central's groups (or another site's), and a reference to a group the
 * central lacks keeps Icinga 2 from starting at all.
 */
enum { GROUP_DEFINED, GROUP_WRITTEN, GROUP_REFUSED };

struct cfg {
	struct ctx *c;
	const char *site;
	struct lines prev, others_names, accepted;
	struct lines groups;            /* "H name" / "S name": defined by the site (sorted) */
	unsigned char *gstate;          /* GROUP_* per entry of groups, in pass 2 */
	struct lines edges;             /* pass 1: "child\nparent", central names */
	struct lines cut;               /* edges dropped: they closed a cycle of parents */
	char *group_prefix;
	struct sd_sink *writer;
	struct seen *written;           /* pass 2: hosts and services written */
	enum sd_core fmt;
	char *name;
	long long refused;
};

static char *cat2(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s", a, b);
	return p;
}

static char *cat3(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *p = malloc(n);

	if (p)
		snprintf(p, n, "%s%s%s", a, b, c);
	return p;
}

/* index of s in the sorted l, or -1 */
static long lines_find(const struct lines *l, const char *s)
{
	char **hit = l->n ? bsearch(&s, l->v, l->n, sizeof(char *), strp_cmp) : NULL;

	return hit ? (long)(hit - l->v) : -1;
}

/* A name as it may appear in a one-line report: control characters as '?'. */
static const char *shown(const char *s, char *buf, size_t len)
{
	size_t i;

	snprintf(buf, len, "%s", s);
	for (i = 0; buf[i]; i++)
		if ((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f)
			buf[i] = '?';
	return buf;
}

static const char *host_problem(struct cfg *g, const char *cn, char *why, size_t len)
{
	const char *p;

	if ((p = extcmd_name_problem(cn)))
		return p;
	if (g->fmt == CORE_NAGIOS && (p = nagios_name_problem(cn, why, len)))
		return p;
	if (g->fmt == CORE_ICINGA2 && (p = icinga2_shadow_name_problem(cn)))
		return p;
	if (!strncmp(cn, LINK_PREFIX, strlen(LINK_PREFIX)))
		return "names starting with '" LINK_PREFIX "' are reserved for siteload's link hosts";
	if (!strncmp(cn, "livedump-", 9))
		return "names starting with 'livedump-' are reserved for the shadow objects' templates "
		       "(in Icinga 2 a host and a host template share one namespace)";
	if (cn[0] == '-')
		return "a name starting with '-' would be read as an option where a command passes it";
	if (lines_has(&g->others_names, cn))
		return "owned by another site";
	if (g->c->central && central_has_host(g->c->central, cn) && !lines_has(&g->prev, cn))
		return "a host of the central's own (not created by siteload for this site)";
	return NULL;
}

/* pass 1: which hosts this site may own, and their parent edges */
static int cfg_host(void *vctx, const struct sd_object *so, sd_error *err)
{
	struct cfg *g = vctx;
	char *cn, why[512], what[600];
	const char *p;
	size_t i;

	if (so->type != SD_HOST)
		return 0;
	if (!(cn = cat2(g->c->o->prefix, so->host_name)))
		return sd_fail(err, "out of memory");
	if ((p = host_problem(g, cn, why, sizeof(why)))) {
		snprintf(what, sizeof(what), "site %s: host '%s'", g->site, cn);
		g->refused++;
		report(g->c, what, p);
		free(cn);
		return 0;
	}
	if (lines_add(&g->accepted, cn) < 0)
		goto oom;
	for (i = 0; i < so->parents.n; i++) {
		/* '\n' cannot be in an accepted name (extcmd_name_problem) */
		char *e = cat3(cn, "\n", g->c->o->prefix);
		char *e2 = e ? cat2(e, so->parents.v[i]) : NULL;
		free(e);
		if (!e2 || lines_add(&g->edges, e2) < 0) {
			free(e2);
			goto oom;
		}
		free(e2);
	}
	free(cn);
	return 0;
oom:
	free(cn);
	return sd_fail(err, "out of memory");
}

/* pass 1: the groups the site defines; written (or refused) in pass 2 */
static int cfg_group(void *vctx, const struct sd_group *gr, sd_error *err)
{
	struct cfg *g = vctx;
	char *k = cat3(gr->type == SD_HOST ? "H " : "S ", gr->name ? gr->name : "", "");

	if (!k || lines_add(&g->groups, k) < 0) {
		free(k);
		return sd_fail(err, "out of memory");
	}
	free(k);
	return 0;
}

/* The parent graph of the accepted hosts as arrays: the targets of node u
 * are to[off[u]] .. to[off[u + 1] - 1]. Edges to hosts the site does not
 * own are left out here (f_object drops them). */
struct graph {
	size_t n, *off, *to;
};

static int graph_build(struct cfg *g, struct graph *gr)
{
	size_t i, ne = 0, *from = NULL, *fill = NULL;
	int rc = -1;

	gr->n = g->accepted.n;
	gr->off = calloc(gr->n + 1, sizeof(size_t));
	gr->to = malloc((g->edges.n ? g->edges.n : 1) * sizeof(size_t));
	from = malloc((g->edges.n ? g->edges.n : 1) * sizeof(size_t));
	fill = malloc((gr->n + 1) * sizeof(size_t));
	if (!gr->off || !gr->to || !from || !fill)
		goto out;
	for (i = 0; i < g->edges.n; i++) {
		char *nl = strchr(g->edges.v[i], '\n');
		long u, v;
		*nl = 0;
		u = lines_find(&g->accepted, g->edges.v[i]);
		v = lines_find(&g->accepted, nl + 1);
		*nl = '\n';
		if (u < 0 || v < 0)
			continue;
		from[ne] = (size_t)u;
		gr->to[ne++] = (size_t)v;
		gr->off[u + 1]++;
	}
	for (i = 0; i < gr->n; i++)
		gr->off[i + 1] += gr->off[i];
	memcpy(fill, gr->off, (gr->n + 1) * sizeof(size_t));
	{
		/* counting sort of the edges by their child */
		size_t *to = malloc((ne ? ne : 1) * sizeof(size_t));
		if (!to)
			goto out;
		for (i = 0; i < ne; i++)
			to[fill[from[i]]++] = gr->to[i];
		free(gr->to);
		gr->to = to;
	}
	rc = 0;
out:
	free(from);
	free(fill);
	return rc;
}

static int cut_edge(struct cfg *g, size_t u, size_t v)
{
	char *e = cat3(g->accepted.v[u], "\n", g->accepted.v[v]);
	int rc = e ? lines_add(&g->cut, e) : -1;

	free(e);
	return rc;
}

/*
 * A cycle of parents (a host its own parent included) fails `nagios4 -v`
 * ("circular parent/child path") and a plain HUP reload makes Nagios exit.
 * A depth-first search drops every edge that goes back to a host still on
 * the search path: exactly the edges that close a cycle, and what is left
 * has none. Iterative, with an explicit stack: a chain of 200,000 hosts
 * would overflow the C stack with recursion.
 */
static int parents_cut_cycles(struct cfg *g, sd_error *err)
{
	struct graph gr = { 0 };
	size_t *stack = NULL, *pos = NULL, sp, root;
	unsigned char *color = NULL;    /* 0 not seen, 1 on the path, 2 done */
	int rc = -1;

	lines_sort(&g->edges);
	if (graph_build(g, &gr) < 0 || !(stack = malloc((gr.n + 1) * sizeof(size_t))) ||
	    !(pos = malloc((gr.n + 1) * sizeof(size_t))) || !(color = calloc(gr.n + 1, 1)))
		goto out;
	for (root = 0; root < gr.n; root++) {
		if (color[root])
			continue;
		sp = 0;
		stack[sp++] = root;
		color[root] = 1;
		pos[root] = gr.off[root];
		while (sp) {
			size_t u = stack[sp - 1], v;
			if (pos[u] == gr.off[u + 1]) {
				color[u] = 2;
				sp--;
				continue;
			}
			v = gr.to[pos[u]++];
			if (color[v] == 1) {
				if (cut_edge(g, u, v) < 0)
					goto out;
			} else if (!color[v]) {
				color[v] = 1;
				pos[v] = gr.off[v];
				stack[sp++] = v;
			}
		}
	}
	lines_sort(&g->cut);
	rc = 0;
out:
	lines_free(&g->edges);
	free(gr.off);
	free(gr.to);
	free(stack);
	free(pos);
	free(color);
	return rc < 0 ? sd_fail(err, "out of memory") : 0;
}

/* pass 2: the writer, fed only what the site owns */
static int f_begin(void *vctx, const struct sd_meta *m, sd_error *err)
{
	struct cfg *g = vctx;
	struct sd_meta mm = *m;

	mm.created = 0;         /* stable text: rewritten only on change */
	mm.site = g->site;
	mm.source = "a sitedump bundle, by siteload";
	return g->writer->begin ? g->writer->begin(g->writer->ctx, &mm, err) : 0;
}

/* Each group once (a second definition is fatal to both cores); one the
 * writer cannot write is refused here, and no object refers to it. */
static int f_group(void *vctx, const struct sd_group *gr, sd_error *err)
{
	struct cfg *g = vctx;
	char *k = cat3(gr->type == SD_HOST ? "H " : "S ", gr->name ? gr->name : "", "");
	char what[700], name[300];
	long i;
	int rc;

	if (!k)
		return sd_fail(err, "out of memory");
	i = lines_find(&g->groups, k);
	free(k);
	if (i < 0 || g->gstate[i] != GROUP_DEFINED)
		return 0;
	rc = g->writer->group ? g->writer->group(g->writer->ctx, gr, err) : 0;
	if (rc < 0)
		return -1;
	g->gstate[i] = rc ? GROUP_REFUSED : GROUP_WRITTEN;
	if (rc) {
		snprintf(what, sizeof(what), "site %s: %s '%s'", g->site, gr->type == SD_HOST ? "hostgroup" : "servicegroup",
			 shown(gr->name ? gr->name : "", name, sizeof(name)));
		report(g->c, what, err->msg);
	}
	return 0;
}

/* Appends "'name'" to a one-line list in buf (cut short when full). */
static void list_add(char *buf, size_t len, const char *name)
{
	size_t n = strlen(buf);
	char sh[200];

	if (n + 8 < len)
		snprintf(buf + n, len - n, "%s'%s'", n ? ", " : "", shown(name, sh, sizeof(sh)));
}

/* The groups of an object the site itself defined and we wrote; *keep is
 * allocated (NULL when there are none). One warning for what is dropped. */
static int filter_groups(struct cfg *g, const struct sd_object *so, char ***keep, size_t *n)
{
	char dropped[400] = "", what[700];
	size_t i;

	*n = 0;
	if (!so->groups.n)
		return 0;
	if (!(*keep = calloc(so->groups.n, sizeof(char *))))
		return -1;
	for (i = 0; i < so->groups.n; i++) {
		char *k = cat2(so->type == SD_HOST ? "H " : "S ", so->groups.v[i]);
		long j;
		if (!k)
			return -1;
		j = lines_find(&g->groups, k);
		free(k);
		if (j >= 0 && g->gstate[j] == GROUP_WRITTEN)
			(*keep)[(*n)++] = so->groups.v[i];
		else
			list_add(dropped, sizeof(dropped), so->groups.v[i]);
	}
	if (*dropped) {
		char lb[600];
		snprintf(what, sizeof(what), "site %s: %s", g->site, sd_object_label(so, lb, sizeof(lb)));
		snprintf(lb, sizeof(lb), "left out of %s %s: the site's config does not define %s (or it was refused)",
			 so->type == SD_HOST ? "hostgroups" : "servicegroups", dropped,
			 strchr(dropped, ',') ? "them" : "it");
		note(g->c, what, lb);
	}
	return 0;
}

/* The parents a host keeps: hosts of its own site, minus the edges that
 * closed a cycle (one warning naming those). */
static int filter_parents(struct cfg *g, const struct sd_object *so, char ***keep, size_t *n)
{
	char dropped[400] = "", what[700];
	size_t i;

	*n = 0;
	if (!so->parents.n)
		return 0;
	if (!(*keep = calloc(so->parents.n, sizeof(char *))))
		return -1;
	for (i = 0; i < so->parents.n; i++) {
		char *pn = cat2(g->c->o->prefix, so->parents.v[i]), *e;
		int own, cyc;
		if (!pn || !(e = cat3(g->name, "\n", pn))) {
			free(pn);
			return -1;
		}
		own = lines_has(&g->accepted, pn);
		cyc = own && lines_has(&g->cut, e);
		free(pn);
		free(e);
		if (own && !cyc)
			(*keep)[(*n)++] = so->parents.v[i];
		else if (cyc)
			list_add(dropped, sizeof(dropped), so->parents.v[i]);
	}
	if (*dropped) {
		char why[600];
		snprintf(what, sizeof(what), "site %s: host '%s'", g->site, g->name);
		snprintf(why, sizeof(why), "parent %s left out: it would close a cycle of parents", dropped);
		note(g->c, what, why);
	}
	return 0;
}

/* 1 if this host or service was written already (reported): a remote that
 * lists one twice would make both cores refuse the whole file. -1 on out
 * of memory. */
static int repeated(struct cfg *g, const struct sd_object *so)
{
	const char *svc = so->type == SD_SERVICE ? so->description : "";
	size_t hl = strlen(g->name), sl = strlen(svc);
	char *k = malloc(hl + sl + 3), what[700];
	int r;

	if (!k)
		return -1;
	k[0] = so->type == SD_SERVICE ? 'S' : 'H';
	memcpy(k + 1, g->name, hl + 1);
	memcpy(k + hl + 2, svc, sl);
	r = seen_add(g->written, k, hl + sl + 2);
	free(k);
	if (r)
		return r < 0 ? -1 : 0;
	if (so->type == SD_SERVICE)
		snprintf(what, sizeof(what), "site %s: service '%s;%s'", g->site, g->name, svc);
	else
		snprintf(what, sizeof(what), "site %s: host '%s'", g->site, g->name);
	note(g->c, what, "listed again in the site's config: only the first is written");
	return 1;
}

static int f_object(void *vctx, const struct sd_object *so, sd_error *err)
{
	struct cfg *g = vctx;
	struct sd_object o = *so;
	char **parents = NULL, **groups = NULL;
	int rc;

	free(g->name);
	if (!(g->name = cat2(g->c->o->prefix, so->host_name)))
		return sd_fail(err, "out of memory");
	if (!lines_has(&g->accepted, g->name))
		return 0;
	if (so->type == SD_SERVICE) {
		const char *why = extcmd_name_problem(so->description);
		if (!why && so->description[0] == '-')
			why = "a name starting with '-' would be read as an option where a command passes it";
		if (why) {
			/* it could never receive a result: refused like such a host */
			char what[700];
			snprintf(what, sizeof(what), "site %s: service '%s;%s'", g->site, g->name, so->description);
			g->refused++;
			report(g->c, what, why);
			return 0;
		}
	}
	if ((rc = repeated(g, so)))
		return rc < 0 ? sd_fail(err, "out of memory") : 0;
	if ((so->type == SD_HOST && filter_parents(g, so, &parents, &o.parents.n) < 0) ||
	    filter_groups(g, so, &groups, &o.groups.n) < 0) {
		free(parents);
		free(groups);
		return sd_fail(err, "out of memory");
	}
	if (so->type == SD_HOST)
		o.parents.v = parents;
	o.groups.v = groups;
	rc = g->writer->object ? g->writer->object(g->writer->ctx, &o, err) : 0;
	free(parents);
	free(groups);
	return rc;
}

static int f_end(void *vctx, sd_error *err)
{
	struct cfg *g = vctx;

	return g->writer->end ? g->writer->end(g->writer->ctx, err) : 0;
}

static void f_skipped(void *vctx, const char *what, const char *why)
{
	struct cfg *g = vctx;
	char w[700];

	snprintf(w, sizeof(w), "site %s: %s", g->site, what);
	note(g->c, w, why);
}
static void put_link_objects(FILE *f, enum sd_core fmt, const char *site)
{
	if (fmt == CORE_NAGIOS) {
		fprintf(f, "define host {\n    use                     sitedump-link-host\n"
			"    host_name               " LINK_PREFIX "%s\n"
			"    alias                   sitedump link to site %s\n"
			"    _SITEDUMP_SITE          %s\n}\n\n"
			"define service {\n    use                     sitedump-link-service\n"
			"    host_name               " LINK_PREFIX "%s\n"
			"    service_description     " LINK_SERVICE "\n}\n\n", site, site, site, site);
	} else {
		fprintf(f, "object Host \"" LINK_PREFIX "%s\" {\n  import \"sitedump-link-host\"\n"
			"  display_name = \"sitedump link to site %s\"\n  vars.sitedump_site = \"%s\"\n}\n\n"
			"object Service \"" LINK_SERVICE "\" {\n  import \"sitedump-link-service\"\n"
			"  host_name = \"" LINK_PREFIX "%s\"\n}\n\n", site, site, site, site);
	}
}

/* The stale check's command line; paths must be plain (they go into a
 * Nagios command line and an Icinga 2 array unquoted by us). */
static int stale_argv(const struct import_opts *o, enum sd_core fmt, int link, const char **argv, sd_error *err)
{
	const char *paths[2] = { o->self, o->state_dir };
	int i = 0, k;
	size_t j;

	for (k = 0; k < 2; k++) {
		if (paths[k][0] != '/')
			return sd_fail(err, "%s: the stale check needs an absolute path", paths[k]);
		for (j = 0; paths[k][j]; j++) {
			char ch = paths[k][j];
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
			      strchr("/._-+", ch)))
				return sd_fail(err, "%s: path not usable in the core's stale-check command line "
					       "(use letters, digits and / . _ - +)", paths[k]);
		}
	}
	argv[i++] = o->self;
	argv[i++] = "stale";
	argv[i++] = "--state-dir";
	argv[i++] = o->state_dir;
	argv[i++] = "--site";
	argv[i++] = fmt == CORE_NAGIOS ? "$_HOSTSITEDUMP_SITE$" : "$host.vars.sitedump_site$";
	if (link)
		argv[i++] = "--link";
	argv[i] = NULL;
	return 0;
}

static int templates_text(const struct import_opts *o, char **buf, size_t *len, sd_error *err)
{
	const char *argv[10], *largv[10];
	struct writer_opts wo = { 0 };
	struct sd_meta m = { 0 };
	struct sd_sink *w;
	enum sd_core fmt = o->config_format;
	FILE *f;
	const char *const *a;

	if (stale_argv(o, fmt, 0, argv, err) < 0 || stale_argv(o, fmt, 1, largv, err) < 0)
		return -1;
	if (!(f = open_memstream(buf, len)))
		return sd_fail(err, "out of memory");
	wo.templates = 1;
	wo.prefix = "";
	wo.stale_argv = argv;
	wo.stale_after = o->stale_after;
	m.site = "(all)";
	m.source = "siteload: shared templates";
	w = writers_new(writer_format_of_core(fmt), f, &wo);
	if (!w) {
		fclose(f);
		return sd_fail(err, "out of memory");
	}
	w->begin(w->ctx, &m, err);
	if (fmt == CORE_NAGIOS) {
		fprintf(f, "define command {\n    command_name            sitedump-link-stale\n    command_line           ");
		for (a = largv; *a; a++)
			fprintf(f, " %s", *a);
		fprintf(f, "\n}\n\n"
			"define host {\n    name                    sitedump-link-host\n    use                     livedump-host\n"
			"    register                0\n    check_freshness         0\n}\n\n"
			"define service {\n    name                    sitedump-link-service\n    use                     livedump-service\n"
			"    register                0\n    check_command           sitedump-link-stale\n}\n\n");
	} else {
		fputs("object CheckCommand \"sitedump-link-stale\" {\n  execute = PluginCheck\n  command = [", f);
		for (a = largv; *a; a++) {
			fputs(a == largv ? " " : ", ", f);
			icinga2_put_string(f, *a);
		}
		fputs(" ]\n}\n\n"
		      "template Host \"sitedump-link-host\" {\n  import \"livedump-host\"\n  enable_active_checks = false\n}\n\n"
		      "template Service \"sitedump-link-service\" {\n  import \"livedump-service\"\n"
		      "  check_command = \"sitedump-link-stale\"\n}\n\n", f);
	}
	writers_free(writer_format_of_core(fmt), w);
	if (fclose(f) || !*buf)
		return sd_fail(err, "out of memory");
	return 0;
}

static int write_if_changed(const char *path, const char *text, size_t len, int *changed, sd_error *err)
{
	if (same_content(path, text, len))
		return 0;
	*changed = 1;
	return file_write_mode(path, text, len, 0644, err);
}

/* other sites' hosts, from their SITE.hosts files */
static int others_read(struct ctx *c, const char *site, const char *ext, struct lines *out, sd_error *err)
{
	size_t el = strlen(ext);
	DIR *d = opendir(c->o->state_dir);
	struct dirent *e;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!d)
		return sd_fail(err, "%s: %s", c->o->state_dir, strerror(errno));
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct lines one;
		char *p;
		if (l < el + 1 || strcmp(e->d_name + l - el, ext) || e->d_name[0] == '.')
			continue;
		if (l - el == strlen(site) && !strncmp(e->d_name, site, l - el))
			continue;
		if (!(p = spath(c->o->state_dir, e->d_name, ""))) {
			closedir(d);
			return sd_fail(err, "out of memory");
		}
		if (lines_read(p, &one, err) < 0) {
			free(p);
			closedir(d);
			return -1;
		}
		free(p);
		for (i = 0; i < one.n; i++)
			if (lines_add(out, one.v[i]) < 0) {
				lines_free(&one);
				closedir(d);
				return sd_fail(err, "out of memory");
			}
		lines_free(&one);
	}
	closedir(d);
	lines_sort(out);
	return 0;
}

/* generous: a reload returns once the core was told (systemctl), but an
 * init script may wait for the core to stop and start; only a hung one,
 * holding the state dir's lock, is stopped (SIGTERM, SIGKILL 5 s later) */
#define RELOAD_TIMEOUT_MS (600 * 1000)

/* stdin, stdout and stderr stay siteload's: a reload's output is the
 * admin's to see (and sudo's prompt on a terminal still works) */
static int run_reload(struct ctx *c, sd_error *err)
{
	struct child_opts o = { .own_group = !child_have_tty(), .timeout_ms = RELOAD_TIMEOUT_MS, .grace_ms = 5000 };
	const char *cmd = c->o->reload_command;
	struct child_result r;
	sd_error e;

	if (!cmd)
		return 0;
	info(c, "running reload command: %s", cmd);
	if (child_run(cmd, &o, &r, &e) < 0)
		return sd_fail(err, "reload command: %s", e.msg);
	if (r.end == CHILD_TIMED_OUT)
		return sd_fail(err, "reload command timed out after %d s (killed): %s", RELOAD_TIMEOUT_MS / 1000, cmd);
	if (r.end == CHILD_SIGNALED)
		return sd_fail(err, "reload command killed by signal %d: %s", r.code, cmd);
	if (r.code)
		return sd_fail(err, "reload command failed with exit code %d: %s", r.code, cmd);
	return 0;
}

/* ---- the site's config file: a candidate, compared, checked ---- */

/* generous: Icinga 2 takes ~6 s to load 50,000 services, and a check of a
 * large central on a busy machine takes several times that */
#define CHECK_TIMEOUT_MS (600 * 1000)

/*
 * The file the core loads, the candidate written beside it and the
 * previous file kept aside while the check runs. Neither of the hidden
 * names ends in .cfg or .conf, so neither core loads them from a config
 * dir. An empty file aside means "there was no previous file".
 */
struct sitefile {
	char *path, *tmp, *aside;
	FILE *f;
};

static void sitefile_free(struct sitefile *sf)
{
	if (sf->f)
		fclose(sf->f);
	if (sf->tmp)
		unlink(sf->tmp);
	free(sf->path);
	free(sf->tmp);
	free(sf->aside);
	memset(sf, 0, sizeof(*sf));
}

/* Make the file aside the active one again at path (the candidate goes). */
static int file_restore(const char *aside, const char *path, sd_error *err)
{
	struct stat st;

	if (lstat(aside, &st) < 0)
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", aside, strerror(errno));
	if (st.st_size == 0) {
		if (unlink(path) < 0 && errno != ENOENT)
			return sd_fail(err, "%s: %s", path, strerror(errno));
		unlink(aside);
		return 0;
	}
	if (rename(aside, path) < 0)
		return sd_fail(err, "%s: putting the previous config back: %s", path, strerror(errno));
	return 0;
}

static int aside_restore(const struct sitefile *sf, sd_error *err)
{
	return file_restore(sf->aside, sf->path, err);
}

/*
 * Every candidate a run that died left unchecked in place, back to its
 * previous file, before anything else is checked or reloaded: the check of
 * any site validates the whole config dir, so one such candidate would
 * refuse every other site, and a reload would load it. Under the lock.
 */
static int asides_restore_all(const struct import_opts *o, sd_error *err)
{
	const char *ext = o->config_format == CORE_NAGIOS ? ".cfg.prev" : ".conf.prev";
	size_t el = strlen(ext);
	DIR *d;
	struct dirent *e;
	int rc = 0;

	if (!o->config_dir || o->dry_run)
		return 0;
	if (!(d = opendir(o->config_dir)))
		return errno == ENOENT ? 0 : sd_fail(err, "%s: %s", o->config_dir, strerror(errno));
	while (rc == 0 && (e = readdir(d))) {
		size_t l = strlen(e->d_name);
		char *aside = NULL, *path = NULL;

		if (strncmp(e->d_name, ".sitedump-", 10) || l <= 10 + el || strcmp(e->d_name + l - el, ext))
			continue;
		if (asprintf(&aside, "%s/%s", o->config_dir, e->d_name) < 0 ||
		    asprintf(&path, "%s/%.*s", o->config_dir, (int)(l - 1 - 5), e->d_name + 1) < 0)
			rc = sd_fail(err, "out of memory");
		else
			rc = file_restore(aside, path, err);
		free(aside);
		free(path);
	}
	closedir(d);
	return rc;
}

static int sitefile_open(const struct import_opts *o, const char *site, struct sitefile *sf, sd_error *err)
{
	const char *ext = o->config_format == CORE_NAGIOS ? ".cfg" : ".conf";
	int fd;

	memset(sf, 0, sizeof(*sf));
	if (asprintf(&sf->path, "%s/sitedump-%s%s", o->config_dir, site, ext) < 0 ||
	    asprintf(&sf->aside, "%s/.sitedump-%s%s.prev", o->config_dir, site, ext) < 0) {
		sf->path = sf->aside = NULL;
		return sd_fail(err, "out of memory");
	}
	if (o->dry_run) {
		if (!(sf->f = tmpfile()))
			return sd_fail(err, "temp file: %s", strerror(errno));
		return 0;
	}
	/* left by a run that died while its candidate was being checked:
	 * that candidate was never found good */
	if (aside_restore(sf, err) < 0)
		return -1;
	if (asprintf(&sf->tmp, "%s/.sitedump-%s%s.XXXXXX", o->config_dir, site, ext) < 0) {
		sf->tmp = NULL;
		return sd_fail(err, "out of memory");
	}
	/* mkostemp opens with O_EXCL; the core, maybe another user, reads it */
	if ((fd = mkostemp(sf->tmp, O_CLOEXEC)) < 0) {
		sd_fail(err, "%s: %s", sf->tmp, strerror(errno));
		free(sf->tmp);
		sf->tmp = NULL;
		return -1;
	}
	if (fchmod(fd, 0644) < 0 || !(sf->f = fdopen(fd, "w+"))) {
		sd_fail(err, "%s: %s", sf->tmp, strerror(errno));
		close(fd);
		return -1;
	}
	return 0;
}

/* Does the file at path hold exactly what f holds? Both streamed. */
static int stream_same(FILE *f, const char *path)
{
	enum { CHUNK = 65536 };
	FILE *p = fopen(path, "re");
	char *a = malloc(2 * CHUNK), *b;
	size_t na, nb;
	int same = 1;

	if (!p || !a) {
		if (p)
			fclose(p);
		free(a);
		return 0;       /* out of memory: "changed" is the safe answer */
	}
	b = a + CHUNK;
	rewind(f);
	do {
		na = fread(a, 1, CHUNK, f);
		nb = fread(b, 1, CHUNK, p);
		if (na != nb || memcmp(a, b, na))
			same = 0;
	} while (same && na);
	if (ferror(f) || ferror(p))
		same = 0;
	fclose(p);
	free(a);
	return same;
}

static void dir_sync(const char *path)
{
	char *d = strdup(path), *sl = d ? strrchr(d, '/') : NULL;
	int fd;

	if (sl) {
		*sl = 0;
		if ((fd = open(*d ? d : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	free(d);
}

/* What a check command said: the lines that name the core's error. */
struct checkout {
	char line[512], error[512], critical[512], last[512];
	size_t len;
};

static void checkout_line(struct checkout *co)
{
	char *s = co->line, *e = s + co->len, *crit;

	*e = 0;
	co->len = 0;
	while (e > s && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t'))
		*--e = 0;
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s)
		return;
	for (e = s; *e; e++)
		if ((unsigned char)*e < 0x20 || *e == 0x7f)
			*e = ' ';
	if (!*co->error && !strncmp(s, "Error:", 6))                /* Nagios */
		snprintf(co->error, sizeof(co->error), "%s", s);
	if (!*co->critical && (crit = strstr(s, "critical/config:")))   /* Icinga 2 */
		snprintf(co->critical, sizeof(co->critical), "%s", crit);
	snprintf(co->last, sizeof(co->last), "%s", s);
}

static void checkout_feed(struct checkout *co, const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n')
			checkout_line(co);
		else if (co->len < sizeof(co->line) - 1)
			co->line[co->len++] = buf[i];   /* a longer line is cut: one line of a report */
	}
}

static void checkout_cb(void *ctx, const char *buf, size_t n)
{
	checkout_feed(ctx, buf, n);
}

/*
 * Run --check-command (sh -c, stdin /dev/null, output captured, killed
 * with its process group at the timeout). 0 the core accepts its config;
 * 1 it refuses it (why: the core's own first error line); -1 the check
 * could not be run to its end (err).
 */
static int run_check(struct ctx *c, char *why, size_t len, sd_error *err)
{
	struct checkout co = { .len = 0 };
	struct child_opts o = { .in = CHILD_STDIN_NULL, .own_group = 1, .timeout_ms = CHECK_TIMEOUT_MS,
				.out = checkout_cb, .ctx = &co };
	const char *cmd = c->o->check_command;
	struct child_result r;
	sd_error e;

	info(c, "running check command: %s", cmd);
	if (child_run(cmd, &o, &r, &e) < 0)
		return sd_fail(err, "check command: %s", e.msg);
	if (co.len)
		checkout_line(&co);
	if (r.end == CHILD_TIMED_OUT)
		return sd_fail(err, "check command timed out after %d s (killed): %s", CHECK_TIMEOUT_MS / 1000, cmd);
	if (r.end == CHILD_SIGNALED)
		return sd_fail(err, "check command killed by signal %d: %s", r.code, cmd);
	if (r.code == 0)
		return 0;
	if (r.code == 126 || r.code == 127)
		return sd_fail(err, "check command could not be run (exit %d%s%s): %s", r.code,
			       *co.last ? ": " : "", co.last, cmd);
	snprintf(why, len, "exit %d: %s", r.code,
		 *co.error ? co.error : *co.critical ? co.critical : *co.last ? co.last : "(no output)");
	return 1;
}

/*
 * Make the candidate the site's config file. With --check-command: the
 * previous file is kept aside, the candidate put in place and the check
 * run; if the core refuses, the previous file goes back (1, err says
 * why). The core is not reloaded in between: it only sees the candidate
 * if someone reloads it during the check. -1: an I/O error, or the check
 * could not be run (the previous file is back then too).
 */
static int candidate_install(struct ctx *c, struct sitefile *sf, sd_error *err)
{
	char why[600];
	int fd, r;

	if (fflush(sf->f) || ferror(sf->f) || fsync(fileno(sf->f)) < 0)
		return sd_fail(err, "%s: write error: %s", sf->tmp, strerror(errno));
	fclose(sf->f);
	sf->f = NULL;
	if (c->o->check_command) {
		if (link(sf->path, sf->aside) < 0) {
			if (errno != ENOENT)
				return sd_fail(err, "%s: %s", sf->aside, strerror(errno));
			/* no previous file: an empty one aside says so */
			if ((fd = open(sf->aside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
				return sd_fail(err, "%s: %s", sf->aside, strerror(errno));
			close(fd);
		}
	}
	if (rename(sf->tmp, sf->path) < 0) {
		sd_fail(err, "%s: rename: %s", sf->path, strerror(errno));
		if (c->o->check_command)
			unlink(sf->aside);
		return -1;
	}
	free(sf->tmp);
	sf->tmp = NULL;
	dir_sync(sf->path);
	if (!c->o->check_command)
		return 0;
	if ((r = run_check(c, why, sizeof(why), err)) == 0) {
		unlink(sf->aside);
		return 0;
	}
	if (r > 0)
		sd_fail(err, "refused by the core's config check (previous config kept, core not reloaded): %s", why);
	{
		sd_error e2;
		if (aside_restore(sf, &e2) < 0) {
			char msg[SD_ERRLEN];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			return sd_fail(err, "%s; and %s", msg, e2.msg);
		}
	}
	dir_sync(sf->path);
	return r;
}

static void cfg_free(struct cfg *g)
{
	writers_free(writer_format_of_core(g->fmt), g->writer);
	free(g->name);
	free(g->gstate);
	seen_free(g->written);
	free(g->group_prefix);
	lines_free(&g->prev);
	lines_free(&g->others_names);
	lines_free(&g->accepted);
	lines_free(&g->groups);
	lines_free(&g->edges);
	lines_free(&g->cut);
}

/* Pass 1 and what it needs: the central, the site's and others' hosts. */
static int cfg_collect(struct cfg *g, int fd, sd_error *err)
{
	const struct import_opts *o = g->c->o;
	struct sd_sink s = { 0 };
	char *hostsp;
	int rc;

	if (have_central(o) && read_central(g->c, err) < 0)
		return -1;
	if (!(hostsp = spath(o->state_dir, g->site, ".hosts")))
		return sd_fail(err, "out of memory");
	rc = lines_read(hostsp, &g->prev, err);
	free(hostsp);
	if (rc < 0 || others_read(g->c, g->site, ".hosts", &g->others_names, err) < 0)
		return -1;
	s.ctx = g;
	s.object = cfg_host;
	s.group = cfg_group;
	if (snapshot_json_read_fd(fd, "config.json", &s, err) < 0)
		return -1;
	lines_sort(&g->accepted);
	lines_sort(&g->groups);
	if (!(g->gstate = calloc(g->groups.n + 1, 1)))
		return sd_fail(err, "out of memory");
	return parents_cut_cycles(g, err);
}

/* Pass 2: the site's objects and its link host into f. */
static int cfg_write(struct cfg *g, int fd, FILE *f, sd_error *err)
{
	const struct import_opts *o = g->c->o;
	struct writer_opts wo = { 0 };
	struct sd_sink s = { 0 };
	const char *argv[10];

	if (stale_argv(o, g->fmt, 0, argv, err) < 0)
		return -1;
	if (!(g->group_prefix = cat3(o->prefix, g->site, ":")))
		return sd_fail(err, "out of memory");
	wo.prefix = o->prefix;
	wo.stale_argv = argv;
	wo.stale_after = o->stale_after;
	wo.site = g->site;
	wo.group_prefix = g->group_prefix;
	wo.notify_contacts = o->notify_contacts;
	wo.notify_contact_groups = o->notify_contact_groups;
	if (!(g->writer = writers_new(writer_format_of_core(g->fmt), f, &wo)) ||
	    !(g->written = seen_new()))
		return sd_fail(err, "out of memory");
	g->writer->skipped = NULL;
	g->writer->warned = f_skipped;
	g->writer->report_ctx = g;
	s.ctx = g;
	s.begin = f_begin;
	s.group = f_group;
	s.object = f_object;
	s.end = f_end;
	s.skipped = f_skipped;
	s.report_ctx = g;
	if (lseek(fd, 0, SEEK_SET) < 0 || snapshot_json_read_fd(fd, "config.json", &s, err) < 0)
		return -1;
	put_link_objects(f, g->fmt, g->site);
	if (fflush(f) || ferror(f))
		return sd_fail(err, "writing the site's config: %s", strerror(errno));
	return 0;
}

/* The shared templates: small, siteload's own text. */
static int templates_update(struct ctx *c, int *changed, sd_error *err)
{
	const struct import_opts *o = c->o;
	char *tbuf = NULL, *path = NULL;
	size_t tlen = 0;
	int rc = -1;

	if (templates_text(o, &tbuf, &tlen, err) < 0)
		goto out;
	if (asprintf(&path, "%s/sitedump-templates%s", o->config_dir,
		     o->config_format == CORE_NAGIOS ? ".cfg" : ".conf") < 0) {
		path = NULL;
		sd_fail(err, "out of memory");
		goto out;
	}
	if (!o->dry_run) {
		rc = write_if_changed(path, tbuf, tlen, changed, err);
		goto out;
	}
	if (!same_content(path, tbuf, tlen)) {
		*changed = 1;
		fprintf(o->dry_run, "# would write %s (%zu bytes)\n", path, tlen);
	}
	rc = 0;
out:
	free(tbuf);
	free(path);
	return rc;
}

/* The config files of one site: 0 (written or unchanged), 1 refused by
 * the check (err), -1 failed. Memory stays flat in the number of
 * services: the text is streamed to the candidate and compared from there. */
static int cfg_files(struct cfg *g, int fd, int *changed, sd_error *err)
{
	const struct import_opts *o = g->c->o;
	struct sitefile sf;
	int rc = -1;

	if (templates_update(g->c, changed, err) < 0)
		return -1;
	if (sitefile_open(o, g->site, &sf, err) < 0 || cfg_write(g, fd, sf.f, err) < 0)
		goto out;
	if (stream_same(sf.f, sf.path)) {
		if (o->dry_run)
			fprintf(o->dry_run, "# unchanged: %s (%lld bytes)\n", sf.path, (long long)ftello(sf.f));
		rc = 0;
		goto out;
	}
	*changed = 1;
	if (o->dry_run) {
		fseeko(sf.f, 0, SEEK_END);
		fprintf(o->dry_run, "# would write %s (%lld bytes)\n", sf.path, (long long)ftello(sf.f));
		rc = 0;
		goto out;
	}
	rc = candidate_install(g->c, &sf, err);
out:
	sitefile_free(&sf);
	return rc;
}

/* Which hosts the site owns now (the state part acts on these only). */
static int ownership_write(struct cfg *g, sd_error *err)
{
	struct ctx *c = g->c;
	char *p;
	int rc;

	if (c->o->dry_run) {
		lines_free(&c->dry_owned);
		c->dry_owned = g->accepted;
		memset(&g->accepted, 0, sizeof(g->accepted));
		snprintf(c->dry_site, sizeof(c->dry_site), "%s", g->site);
		return 0;
	}
	if (!(p = spath(c->o->state_dir, g->site, ".hosts")))
		return sd_fail(err, "out of memory");
	rc = lines_write(p, &g->accepted, err);
	free(p);
	/* SITE.groups: group names shared between sites, from before groups
	 * were site-scoped; nothing reads it any more */
	if (rc == 0 && (p = spath(c->o->state_dir, g->site, ".groups"))) {
		unlink(p);
		free(p);
	}
	return rc;
}

/* 0 imported, 1 the site's config refused by the core's check (err), -1 failed. */
static int import_config(struct ctx *c, struct input *in, int *changed, sd_error *err)
{
	const struct import_opts *o = c->o;
	struct cfg g = { 0 };
	int fd = bundle_reader_fd(in->r, "config.json"), rc = -1;
	size_t owned;

	g.c = c;
	g.site = in->info->site;
	g.fmt = o->config_format;
	if (fd < 0)
		return sd_fail(err, "bundle has no config.json");
	if (cfg_collect(&g, fd, err) < 0)
		goto out;
	/* refused: the site's ownership stays as it was */
	if (o->config_dir && (rc = cfg_files(&g, fd, changed, err)) != 0)
		goto out;
	rc = -1;
	owned = g.accepted.n;
	if (ownership_write(&g, err) < 0)
		goto out;
	info(c, "site %s: config: %zu hosts owned, %lld refused%s", g.site, owned, g.refused,
	     !o->config_dir ? " (no --config-dir: ownership only)"
	     : *changed ? (o->dry_run ? ", config file would be written" : ", config file written") : ", config unchanged");
	rc = 0;
out:
	cfg_free(&g);
	return rc;
}

/*
 * Which incarnation of the core is answering: Livestatus's program_start,
 * or, for a Nagios read through status.dat, the time objects.cache was
 * written (Nagios rewrites it at every (re)start). A reload is over only
 * when this changed: before that the old process may still answer, and
 * what is sent to it is lost when it exits. "" if unknown.
 */
static int gen_row(void *ctx, const struct ls_row *row, sd_error *err)
{
	char *buf = ctx;

	(void)err;
	if (row->n >= 2)        /* program_start has whole seconds: the pid tells a quick reload apart */
		snprintf(buf, 64, "%lld:%lld", ls_int(&row->cols[0]), ls_int(&row->cols[1]));
	else if (row->n)
		snprintf(buf, 64, "%lld", ls_int(&row->cols[0]));
	return 0;
}

static void core_generation(struct ctx *c, char buf[64])
{
	struct stat st;
	sd_error e;

	buf[0] = 0;
	if (c->o->livestatus) {
		if (ls_query(c->o->livestatus, "GET status\nColumns: program_start nagios_pid", c->o->timeout_ms,
			     gen_row, buf, &e) < 0 &&
		    ls_query(c->o->livestatus, "GET status\nColumns: program_start", c->o->timeout_ms, gen_row, buf, &e) < 0)
			buf[0] = 0;
	} else if (c->o->objects_cache && stat(c->o->objects_cache, &st) == 0) {
		snprintf(buf, 64, "%lld.%09ld", (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
	}
}

/*
 * After the wait for a reload: is the core down? A Nagios sent a HUP with
 * a config it cannot load exits. Livestatus not answering says so; for
 * status.dat, the core rewrites it every status_update_interval (10 s by
 * default), so a file not written during a wait longer than that says so.
 */
static int core_down(struct ctx *c, time_t since, long long waited_ms, char *why, size_t len)
{
	struct stat st;
	char gen[64];

	if (c->o->livestatus) {
		core_generation(c, gen);
		if (*gen)
			return 0;
		snprintf(why, len, "no answer on --livestatus %s", c->o->livestatus);
		return 1;
	}
	if (!c->o->status_file || waited_ms < 12000)
		return 0;
	if (stat(c->o->status_file, &st) == 0 && st.st_mtime >= since)
		return 0;
	snprintf(why, len, "%s not written for %lld s", c->o->status_file, waited_ms / 1000);
	return 1;
}

/* After a reload: wait until a new core answers and knows the site's
 * hosts. Returns 1 if the core never restarted (a config error, most
 * likely: the old core runs on and the reload is owed), 2 if it is down
 * (err says so). */
static int wait_loaded(struct ctx *c, const char *site, const char *gen0, sd_error *err)
{
	struct lines owned;
	char *p = spath(c->o->state_dir, site, ".hosts"), gen[64];
	struct sd_deadline dl;
	size_t i, missing;
	int restarted = !*gen0, rc = 0;
	time_t since;
	char why[600];

	if (!p || lines_read(p, &owned, err) < 0) {
		free(p);
		return p ? -1 : sd_fail(err, "out of memory");
	}
	free(p);
	sd_deadline_start(&dl, c->o->reload_wait_ms);
	since = time(NULL);
	for (;;) {
		central_free(c->central);
		c->central = NULL;
		if (!restarted) {
			core_generation(c, gen);
			restarted = *gen && strcmp(gen, gen0);
		}
		if (restarted && read_central(c, err) == 0) {
			for (i = 0, missing = 0; i < owned.n; i++)
				missing += !central_has_host(c->central, owned.v[i]);
			if (!missing)
				break;
		}
		if (sd_deadline_over(&dl)) {
			central_free(c->central);
			c->central = NULL;
			rc = !restarted;
			if (core_down(c, since, sd_deadline_elapsed(&dl), why, sizeof(why))) {
				rc = 2;
				sd_fail(err, "the core is down after the reload command (%s): see its log; the reload "
					"is retried at the next import%s", why,
					c->o->check_command ? "" : " (--check-command validates a site's config first)");
			}
			break;  /* go on: unknown objects are reported one by one */
		}
		usleep(250000);
	}
	lines_free(&owned);
	return rc;
}

/* ---- state ---- */

static void applier_report(void *vctx, const char *line, const char *why)
{
	struct ctx *c = vctx;
	char what[300];

	snprintf(what, sizeof(what), "command %.200s%s", line, strlen(line) > 200 ? "..." : "");
	report(c, what, why);
}

static void rec_report(void *vctx, const char *what, const char *why)
{
	note(vctx, what, why);
}

static int send_link(struct ctx *c, struct applier *a, const struct bundle_info *bi,
		     const struct reconcile_stats *st, int problems, sd_error *err)
{
	char host[300], out[1024], *enc;
	int altered, state = problems ? 1 : 0;
	long long age = c->now - bi->created;

	snprintf(host, sizeof(host), LINK_PREFIX "%s", bi->site);
	if (!c->central || !central_find(c->central, host, LINK_SERVICE)) {
		if (c->o->config_dir)
			note(c, host, "the link service is not (yet) known to the central core: not updated");
		return 0;
	}
	snprintf(out, sizeof(out),
		 "%s - sitedump: bundle %llu (%s) of site %s, made %llds ago: %lld hosts, %lld services, "
		 "applied %lld results, %lld/%lld acks set/removed, %lld/%lld downtimes added/deleted, "
		 "%lld/%lld comments added/deleted, skipped %lld not owned, %lld unknown, %lld refused"
		 "|age=%llds sequence=%llu hosts=%lld services=%lld results=%lld skipped=%lld",
		 state ? "WARNING" : "OK", bi->sequence, bi->kind, bi->site, age,
		 st ? st->hosts : bi->hosts, st ? st->services : bi->services,
		 st ? st->results : 0, st ? st->acks_set : 0, st ? st->acks_removed : 0,
		 st ? st->downtimes_added : 0, st ? st->downtimes_deleted : 0,
		 st ? st->comments_added : 0, st ? st->comments_deleted : 0,
		 st ? st->not_owned : 0, st ? st->unknown : 0, st ? st->refused : 0,
		 age, bi->sequence, st ? st->hosts : bi->hosts, st ? st->services : bi->services,
		 st ? st->results : 0, st ? st->not_owned + st->unknown + st->refused : 0);
	if (!(enc = extcmd_encode_output(c->o->core, 0, out, "", "", &altered)))
		return sd_fail(err, "out of memory");
	/* perf data is inside `out` after '|': split it back for the encoder */
	{
		char *bar = strchr(out, '|');
		free(enc);
		*bar = 0;
		if (!(enc = extcmd_encode_output(c->o->core, 0, out, bar + 1, "", &altered)))
			return sd_fail(err, "out of memory");
	}
	if (apply_result(a, host, LINK_SERVICE, state, c->now, 0, 0, enc, err) < 0) {
		free(enc);
		return -1;
	}
	free(enc);
	return 0;
}

static int has_sink(const struct import_opts *o)
{
	return o->checkresults || o->command_file || o->livestatus || o->api || o->dry_run;
}

static int import_state(struct ctx *c, struct input *in, sd_error *err)
{
	const struct import_opts *o = c->o;
	const char *site = in->info->site;
	struct apply_opts ao = { 0 };
	struct reconcile_opts ro = { 0 };
	struct reconcile_out rout = { 0 };
	struct lines owned = { 0 }, ledger = { 0 };
	struct applier *a = NULL;
	char *hostsp = NULL, *ledgerp = NULL;
	int fd, rc = -1;

	if ((fd = bundle_reader_fd(in->r, "state.json")) < 0)
		return sd_fail(err, "bundle has no state.json");
	if (read_central(c, err) < 0)
		return -1;
	if (!(hostsp = spath(o->state_dir, site, ".hosts")) || !(ledgerp = spath(o->state_dir, site, ".ledger"))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	if (lines_read(hostsp, &owned, err) < 0 || lines_read(ledgerp, &ledger, err) < 0)
		goto out;
	if (o->dry_run && !strcmp(c->dry_site, site)) {
		size_t i;
		lines_free(&owned);
		for (i = 0; i < c->dry_owned.n; i++)
			if (lines_add(&owned, c->dry_owned.v[i]) < 0) {
				sd_fail(err, "out of memory");
				goto out;
			}
	}
	if (!owned.n)
		report(c, site, "owns no hosts yet: import a config bundle of this site first (sitedump -C)");
	ao.core = o->core;
	ao.checkresults = o->checkresults;
	ao.command_file = o->command_file;
	ao.livestatus = o->livestatus;
	ao.api = o->api;
	ao.reload_wait_ms = o->reload_wait_ms;
	ao.check_source = site;
	ao.dry_run = o->dry_run;
	ao.timeout_ms = o->timeout_ms;
	ao.reap_wait_ms = o->reap_wait_ms;
	ao.report = applier_report;
	ao.report_ctx = c;
	ao.first_send = sent_mark_cb;
	if (!(a = apply_open(&ao, err)))
		goto out;
	ro.core = o->core;
	ro.site = site;
	ro.prefix = o->prefix;
	ro.now = c->now;
	ro.owned = owned.v;
	ro.nowned = owned.n;
	ro.ledger = ledger.v;
	ro.nledger = ledger.n;
	ro.report = rec_report;
	ro.report_ctx = c;
	if (reconcile_run(fd, c->central, &ro, a, &rout, err) < 0)
		goto out;
	/* the ledger before the commands: a crash leaves a superset (safe) */
	if (!o->dry_run) {
		struct lines nl = { rout.ledger, rout.nledger };
		if (lines_write(ledgerp, &nl, err) < 0)
			goto out;
	}
	if (send_link(c, a, in->info, &rout.st, rout.st.refused > 0, err) < 0)
		goto out;
	if (apply_finish(a, err) < 0)
		goto out;
	{
		const struct apply_stats *as = apply_get_stats(a);
		info(c, "site %s: sequence %llu: %lld hosts, %lld services: %lld results for %lld objects, "
		     "acks %lld set %lld removed, downtimes %lld added %lld deleted, comments %lld added %lld deleted; "
		     "%lld not owned, %lld unknown, %lld refused; sent %lld commands, %lld checkresult files%s",
		     site, in->info->sequence, rout.st.hosts, rout.st.services, rout.st.results, rout.st.objects_updated,
		     rout.st.acks_set, rout.st.acks_removed, rout.st.downtimes_added, rout.st.downtimes_deleted,
		     rout.st.comments_added, rout.st.comments_deleted, rout.st.not_owned, rout.st.unknown,
		     rout.st.refused, as->commands, as->files, o->dry_run ? " (dry run)" : "");
		if ((as->refused || rout.st.not_owned || rout.st.refused) && c->status < 1)
			c->status = 1;      /* refused, not merely unknown to the central */
	}
	rc = 0;
out:
	/* what we sent changed the central: read it again next time */
	central_free(c->central);
	c->central = NULL;
	apply_free(a);
	reconcile_out_free(&rout);
	lines_free(&owned);
	lines_free(&ledger);
	free(hostsp);
	free(ledgerp);
	return rc;
}

static int input_cmp(const void *x, const void *y)
{
	const struct input *a = x, *b = y;
	int r;

	if (!a->r || !b->r)
		return !a->r - !b->r;
	if ((r = strcmp(a->info->site, b->info->site)))
		return r;
	return a->info->sequence < b->info->sequence ? -1 : a->info->sequence > b->info->sequence;
}

static int open_input(struct ctx *c, struct input *in, struct seal_sec *dk, sd_error *err)
{
	struct stat st;
	int fd, vf = 0;

	if (!strcmp(in->path, "-"))
		fd = 0;
	else if ((fd = open(in->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) < 0)
		return sd_fail(err, "%s", strerror(errno));
	/* a FIFO put where a bundle was expected (a spool, a mailbox) would
	 * block the run: named paths must be files, or an inherited /dev/fd */
	if (fd && (fstat(fd, &st) < 0 || (!S_ISREG(st.st_mode) && strncmp(in->path, "/dev/fd/", 8) &&
					  strncmp(in->path, "/proc/self/fd/", 14)))) {
		close(fd);
		return sd_fail(err, "not a regular file");
	}
	if (fd)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	if (dk) {
		int plain = seal_open_max(fd, dk, NULL, c->o->lim.max_total_size, &vf, err);
		if (fd)
			close(fd);
		if (plain < 0)
			return vf ? 1 : -1;
		fd = plain;
	}
	in->r = bundle_read_trusted(fd, keyfor, c, &c->o->lim, NULL, &vf, err);
	if (fd)
		close(fd);
	if (!in->r)
		return vf ? 1 : -1;
	in->info = bundle_reader_info(in->r);
	return 0;
}

/* A bundle that refused or failed: reported, and its outcome set. -1. */
static int step_failed(struct ctx *c, struct input *in, const char *what, enum import_outcome oc, int status,
		       const char *msg)
{
	report(c, what, msg);
	if (status && c->status < status)
		c->status = status;
	set_outcome(in, oc, msg);
	return -1;
}

/* The reload after a config change, and the wait for the core to load it.
 * The pending mark stays while the reload is owed. 0 go on, -1 stop. */
static int reload_step(struct ctx *c, struct input *in, int want_state, const char *what, const char *pending)
{
	const struct import_opts *o = c->o;
	char gen0[64] = "";
	sd_error e;
	int wl = 0;

	central_free(c->central);
	c->central = NULL;
	if (pending)
		file_write(pending, "", 0, &e);
	if (have_central(o) && o->reload_command)
		core_generation(c, gen0);
	if (run_reload(c, &e) < 0)
		return step_failed(c, in, what, IMPORT_FAILED, 0, e.msg);
	if (have_central(o) && (want_state || has_sink(o) || *gen0) &&
	    (wl = wait_loaded(c, in->info->site, o->reload_command ? gen0 : "", &e)) < 0)
		return step_failed(c, in, what, IMPORT_FAILED, 0, e.msg);
	if (wl == 2)    /* down: nothing to send the state to */
		return step_failed(c, in, what, IMPORT_FAILED, 2, e.msg);
	if (wl == 1) {
		snprintf(e.msg, sizeof(e.msg), "the core did not restart within %d s of the reload "
			 "command (a config error? see the core's log); the state goes to the running core",
			 o->reload_wait_ms / 1000);
		report(c, what, e.msg);
	} else if (pending) {
		unlink(pending);
	}
	return 0;
}

/* The config part of a bundle, and the reload it calls for. 0 go on
 * (to the state part), -1 stop (reported, outcome set). */
static int config_step(struct ctx *c, struct input *in, int want_state, const char *what)
{
	const struct import_opts *o = c->o;
	char *pending = spath(o->state_dir, in->info->site, ".reload-pending");
	int changed = 0, r, rc = 0;
	sd_error e;

	if ((r = import_config(c, in, &changed, &e)) != 0) {
		/* refused by the core's check: this bundle only; the previous
		 * config is active and nothing is owed */
		free(pending);
		return step_failed(c, in, what, r < 0 ? IMPORT_FAILED : IMPORT_REJECTED, r < 0 ? 2 : 0, e.msg);
	}
	/* a reload that failed last time is owed even if the files did not change */
	if (pending && !o->dry_run && access(pending, F_OK) == 0)
		changed = 1;
	if (changed && !o->dry_run)
		rc = reload_step(c, in, want_state, what, pending);
	free(pending);
	return rc;
}

/* A config-only bundle still tells the link service it arrived. */
static void link_only(struct ctx *c, const struct bundle_info *bi, const char *what)
{
	const struct import_opts *o = c->o;
	struct apply_opts ao = { 0 };
	struct applier *a;
	sd_error e;

	ao.core = o->core;
	ao.checkresults = o->checkresults;
	ao.command_file = o->command_file;
	ao.livestatus = o->livestatus;
	ao.api = o->api;
	ao.reload_wait_ms = o->reload_wait_ms;
	ao.check_source = bi->site;
	ao.timeout_ms = o->timeout_ms;
	ao.reap_wait_ms = o->reap_wait_ms;
	ao.report = applier_report;
	ao.report_ctx = c;
	ao.first_send = sent_mark_cb;
	if (!have_central(o) || read_central(c, &e) < 0 || !(a = apply_open(&ao, &e))) {
		if (have_central(o))
			note(c, what, e.msg);
	} else {
		if (send_link(c, a, bi, NULL, 0, &e) < 0 || apply_finish(a, &e) < 0)
			note(c, what, e.msg);
		apply_free(a);
	}
	central_free(c->central);
	c->central = NULL;
}

/* May this bundle be imported: newer than the site's last, not too old,
 * not from the future? 0 yes (im: the site's record), -1 no (reported). */
static int admit(struct ctx *c, struct input *in, const char *what, struct imported *im)
{
	const struct bundle_info *bi = in->info;
	sd_error e;

	/* sitedump-templates.cfg is the shared file every site's objects use */
	if (!strcmp(bi->site, "templates"))
		return step_failed(c, in, what, IMPORT_REJECTED, 0,
				   "refused: the site name 'templates' is reserved (siteload's shared "
				   "sitedump-templates file)");
	if (imported_read(c->o->state_dir, bi->site, im, &e) < 0)
		return step_failed(c, in, what, IMPORT_FAILED, 0, e.msg);
	if (bi->sequence <= im->seq) {
		snprintf(e.msg, sizeof(e.msg), "refused: not newer than the last imported sequence %llu", im->seq);
		return step_failed(c, in, what, IMPORT_OLD, 0, e.msg);
	}
	if (c->o->max_age > 0 && c->now - bi->created > c->o->max_age) {
		snprintf(e.msg, sizeof(e.msg), "refused: made %llds ago, older than --max-age %lld",
			 c->now - bi->created, c->o->max_age);
		return step_failed(c, in, what, IMPORT_REJECTED, 0, e.msg);
	}
	if (bi->created > c->now + 300)
		return step_failed(c, in, what, IMPORT_REJECTED, 0,
				   "refused: made in the future (clock skew over 5 minutes?)");
	return 0;
}

int import_run(const struct import_opts *o, char *const *paths, int n, sd_error *err)
{
	struct ctx c = { 0 };
	struct input *in = NULL;
	struct seal_sec *dk = NULL;
	char *lockp = NULL;
	int lockfd = -1, i, j, rc = 2;
	sd_error e;

	c.o = o;
	c.now = sd_now();
	/* 0711: the core's stale check may pass through to SITE.imported */
	if (mkdir(o->state_dir, 0711) < 0 && errno != EEXIST) {
		sd_fail(err, "%s: %s", o->state_dir, strerror(errno));
		return 2;
	}
	if (o->decrypt_key && !(dk = seal_sec_load(o->decrypt_key, err)))
		goto out;
	if (!(in = calloc((size_t)n, sizeof(*in)))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		int r;
		in[i].path = paths[i];
		if ((r = open_input(&c, &in[i], dk, &e))) {
			report(&c, paths[i], e.msg);
			if (r < 0)
				c.status = 2;
			set_outcome(&in[i], r < 0 ? IMPORT_FAILED : IMPORT_REJECTED, e.msg);
		}
	}
	/* the lock only now: a slow sender (a trickling ssh client) must not
	 * hold up every other import while its bundle is still being read */
	if (!(lockp = spath(o->state_dir, ".siteload", ".lock")) ||
	    (lockfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 || flock(lockfd, LOCK_EX) < 0) {
		sd_fail(err, "%s: %s", lockp ? lockp : o->state_dir, lockp ? strerror(errno) : "out of memory");
		goto out;
	}
	if (asides_restore_all(o, err) < 0)
		goto out;
	qsort(in, (size_t)n, sizeof(*in), input_cmp);
	/* a state bundle superseded by a newer one of the same site in this run */
	for (i = 0; i < n; i++)
		for (j = i + 1; in[i].r && j < n && in[j].r && !strcmp(in[i].info->site, in[j].info->site); j++)
			if (strcmp(in[j].info->kind, "config") && in[j].info->sequence > in[i].info->sequence)
				in[i].superseded = 1;
	for (i = 0; i < n; i++) {
		const struct bundle_info *bi = in[i].info;
		struct imported im;
		char what[600];
		int want_state, want_config;

		if (!in[i].r)
			continue;       /* outcome set when it was read */
		set_outcome(&in[i], IMPORT_APPLIED, "");
		snprintf(what, sizeof(what), "%s: site %s sequence %llu", in[i].path, bi->site, bi->sequence);
		if (admit(&c, &in[i], what, &im) < 0)
			goto next;
		want_config = strcmp(bi->kind, "state") != 0;
		want_state = strcmp(bi->kind, "config") != 0 && !in[i].superseded;
		if (in[i].superseded && strcmp(bi->kind, "config")) {
			note(&c, what, "state superseded by a newer bundle of the site in this run: skipped");
			if (!want_config)
				set_outcome(&in[i], IMPORT_SKIPPED, "state superseded by a newer bundle of the site");
		}
		if (want_config && config_step(&c, &in[i], want_state, what) < 0)
			goto next;
		if (want_state && has_sink(o)) {
			if (import_state(&c, &in[i], &e) < 0) {
				report(&c, what, e.msg);
				c.status = 2;
				set_outcome(&in[i], IMPORT_FAILED, e.msg);
				goto next;
			}
		} else if (want_state) {
			report(&c, what, "state not applied: no --checkresults, --command-file, --livestatus or --dry-run");
			set_outcome(&in[i], IMPORT_FAILED, "state not applied: no sink");
			goto next;
		} else if (has_sink(o) && !o->dry_run && !strcmp(bi->kind, "config")) {
			link_only(&c, bi, what);
		}
		if (!o->dry_run) {
			im.seq = bi->sequence;
			im.created = bi->created;
			im.at = c.now;
			if (imported_write(o->state_dir, bi->site, &im, &e) < 0) {
				report(&c, what, e.msg);
				c.status = 2;
				set_outcome(&in[i], IMPORT_FAILED, e.msg);
			}
		}
next:
		;
	}
	if (o->outcome)
		for (i = 0; i < n; i++)
			o->outcome(o->ctx, in[i].path, in[i].outcome, in[i].reason);
	rc = c.status;
out:
	if (in)
		for (i = 0; i < n; i++)
			bundle_reader_free(in[i].r);
	free(in);
	seal_sec_free(dk);
	central_free(c.central);
	lines_free(&c.dry_owned);
	if (lockfd >= 0)
		close(lockfd);
	free(lockp);
	return rc;
}
