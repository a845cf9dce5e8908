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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "import.h"
#include "apply.h"
#include "central.h"
#include "icinga2_dsl.h"
#include "livestatus.h"
#include "minisign.h"
#include "nagios_objects.h"
#include "output.h"
#include "reconcile.h"
#include "seal.h"
#include "seqstate.h"
#include "snapshot_json.h"
#include "writer.h"

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
	char *p, buf[1024];
	ssize_t n;
	int fd;

	if (c->o->only_site && strcmp(site, c->o->only_site))
		return sd_fail(err, "bundle of site '%s' refused: this key may only load site '%s'", site, c->o->only_site);
	if (!(p = spath(c->o->trust_dir, site, ".pub")))
		return sd_fail(err, "out of memory");
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		sd_fail(err, "no trusted key for site '%s' (%s: %s)", site, p, strerror(errno));
		free(p);
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || ms_pubkey_parse(buf, (size_t)n, pk, err) < 0) {
		if (n < 0)
			sd_fail(err, "%s: %s", p, strerror(errno));
		free(p);
		return -1;
	}
	free(p);
	return 0;
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
	struct timespec t0, t;
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
	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* written a whole second after the send: the core had that second to
	 * process the commands (it reads its FIFO continuously) */
	while (stat(c->o->status_file, &st) == 0 && st.st_mtime <= sent + 1) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > c->o->reload_wait_ms)
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
	if (o->livestatus)
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
	return o->livestatus || o->status_file;
}

/* ---- config ---- */

struct cfg {
	struct ctx *c;
	const char *site;
	struct lines prev, others_names, accepted;
	struct lines others_groups, groups;     /* "H name" / "S name" */
	struct sd_sink *writer;
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

/* pass 1: which hosts this site may own */
static int cfg_host(void *vctx, const struct sd_object *so, sd_error *err)
{
	struct cfg *g = vctx;
	char *cn, why[512], what[600];
	const char *p = NULL;

	if (so->type != SD_HOST)
		return 0;
	if (!(cn = cat2(g->c->o->prefix, so->host_name)))
		return sd_fail(err, "out of memory");
	snprintf(what, sizeof(what), "site %s: host '%s'", g->site, cn);
	if ((p = extcmd_name_problem(cn)))
		;
	else if (g->fmt == CORE_NAGIOS && (p = nagios_name_problem(cn, why, sizeof(why))))
		;
	else if (g->fmt == CORE_ICINGA2 && (p = icinga2_name_problem(cn)))
		;
	else if (!strncmp(cn, LINK_PREFIX, strlen(LINK_PREFIX)))
		p = "names starting with '" LINK_PREFIX "' are reserved for siteload's link hosts";
	else if (lines_has(&g->others_names, cn))
		p = "owned by another site";
	else if (g->c->central && central_has_host(g->c->central, cn) && !lines_has(&g->prev, cn))
		p = "a host of the central's own (not created by siteload for this site)";
	if (p) {
		g->refused++;
		report(g->c, what, p);
	} else if (lines_add(&g->accepted, cn) < 0) {
		free(cn);
		return sd_fail(err, "out of memory");
	}
	free(cn);
	return 0;
}

/* Groups: both cores refuse a second definition, and sites share group
 * names ("linux"): the first site to bring a group defines it, the others
 * only reference it. */
static char *group_key(struct cfg *g, const struct sd_group *gr)
{
	size_t n = strlen(g->c->o->prefix) + strlen(gr->name) + 3;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%c %s%s", gr->type == SD_HOST ? 'H' : 'S', g->c->o->prefix, gr->name);
	return k;
}

static int cfg_group(void *vctx, const struct sd_group *gr, sd_error *err)
{
	struct cfg *g = vctx;
	char *k = group_key(g, gr);

	if (!k)
		return sd_fail(err, "out of memory");
	if (!lines_has(&g->others_groups, k) && lines_add(&g->groups, k) < 0) {
		free(k);
		return sd_fail(err, "out of memory");
	}
	free(k);
	return 0;
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

static int f_group(void *vctx, const struct sd_group *gr, sd_error *err)
{
	struct cfg *g = vctx;
	char *k = group_key(g, gr);
	int mine = k && lines_has(&g->groups, k);

	free(k);
	if (!mine)
		return 0;
	return g->writer->group ? g->writer->group(g->writer->ctx, gr, err) : 0;
}

static int f_object(void *vctx, const struct sd_object *so, sd_error *err)
{
	struct cfg *g = vctx;
	struct sd_object o = *so;
	char **keep = NULL;
	size_t i, n = 0;
	int rc;

	free(g->name);
	if (!(g->name = cat2(g->c->o->prefix, so->host_name)))
		return sd_fail(err, "out of memory");
	if (!lines_has(&g->accepted, g->name))
		return 0;
	if (so->type == SD_SERVICE) {
		const char *why = extcmd_name_problem(so->description);
		if (why) {
			/* it could never receive a result: refused like such a host */
			char what[700];
			snprintf(what, sizeof(what), "site %s: service '%s;%s'", g->site, g->name, so->description);
			g->refused++;
			report(g->c, what, why);
			return 0;
		}
	}
	if (so->type == SD_HOST && so->parents.n) {
		/* a parent the site does not own cannot be referenced */
		if (!(keep = calloc(so->parents.n, sizeof(char *))))
			return sd_fail(err, "out of memory");
		for (i = 0; i < so->parents.n; i++) {
			char *pn = cat2(g->c->o->prefix, so->parents.v[i]);
			if (pn && lines_has(&g->accepted, pn))
				keep[n++] = so->parents.v[i];
			free(pn);
		}
		o.parents.v = keep;
		o.parents.n = n;
	}
	rc = g->writer->object ? g->writer->object(g->writer->ctx, &o, err) : 0;
	free(keep);
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
	w = fmt == CORE_NAGIOS ? nagios_objects_writer_new(f, &wo) : icinga2_writer_new(f, &wo);
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
	if (fmt == CORE_NAGIOS)
		nagios_objects_writer_free(w);
	else
		icinga2_writer_free(w);
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

static int run_reload(struct ctx *c, sd_error *err)
{
	pid_t pid;
	int st;

	if (!c->o->reload_command)
		return 0;
	info(c, "running reload command: %s", c->o->reload_command);
	if ((pid = fork()) < 0)
		return sd_fail(err, "fork: %s", strerror(errno));
	if (pid == 0) {
		execl("/bin/sh", "sh", "-c", c->o->reload_command, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return sd_fail(err, "waitpid: %s", strerror(errno));
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		return sd_fail(err, "reload command failed with exit code %d: %s", WEXITSTATUS(st), c->o->reload_command);
	return sd_fail(err, "reload command killed by signal %d: %s", WTERMSIG(st), c->o->reload_command);
}

static int import_config(struct ctx *c, struct input *in, int *changed, sd_error *err)
{
	const struct import_opts *o = c->o;
	const char *site = in->info->site;
	struct cfg g;
	struct sd_sink s;
	struct writer_opts wo = { 0 };
	const char *argv[10];
	char *hostsp = NULL, *buf = NULL, *tbuf = NULL, *path = NULL;
	size_t len = 0, tlen = 0;
	FILE *f = NULL;
	int fd = bundle_reader_fd(in->r, "config.json"), rc = -1;
	const char *ext = o->config_format == CORE_NAGIOS ? ".cfg" : ".conf";

	memset(&g, 0, sizeof(g));
	g.c = c;
	g.site = site;
	g.fmt = o->config_format;
	if (fd < 0)
		return sd_fail(err, "bundle has no config.json");
	if (have_central(o) && read_central(c, err) < 0)
		return -1;
	if (!(hostsp = spath(o->state_dir, site, ".hosts")) || lines_read(hostsp, &g.prev, err) < 0 ||
	    others_read(c, site, ".hosts", &g.others_names, err) < 0 ||
	    others_read(c, site, ".groups", &g.others_groups, err) < 0)
		goto out;
	memset(&s, 0, sizeof(s));
	s.ctx = &g;
	s.object = cfg_host;
	s.group = cfg_group;
	if (snapshot_json_read_fd(fd, "config.json", &s, err) < 0)
		goto out;
	lines_sort(&g.accepted);
	lines_sort(&g.groups);
	if (o->config_dir) {
		if (stale_argv(o, g.fmt, 0, argv, err) < 0)
			goto out;
		if (!(f = open_memstream(&buf, &len))) {
			sd_fail(err, "out of memory");
			goto out;
		}
		wo.prefix = o->prefix;
		wo.stale_argv = argv;
		wo.stale_after = o->stale_after;
		wo.site = site;
		if (!(g.writer = g.fmt == CORE_NAGIOS ? nagios_objects_writer_new(f, &wo) : icinga2_writer_new(f, &wo))) {
			sd_fail(err, "out of memory");
			goto out;
		}
		g.writer->skipped = NULL;
		g.writer->warned = f_skipped;
		g.writer->report_ctx = &g;
		memset(&s, 0, sizeof(s));
		s.ctx = &g;
		s.begin = f_begin;
		s.group = f_group;
		s.object = f_object;
		s.end = f_end;
		s.skipped = f_skipped;
		s.report_ctx = &g;
		if (lseek(fd, 0, SEEK_SET) < 0 || snapshot_json_read_fd(fd, "config.json", &s, err) < 0)
			goto out;
		put_link_objects(f, g.fmt, site);
		if (fclose(f)) {
			f = NULL;
			sd_fail(err, "out of memory");
			goto out;
		}
		f = NULL;
		if (templates_text(o, &tbuf, &tlen, err) < 0)
			goto out;
		if (!(path = malloc(strlen(o->config_dir) + strlen(site) + 32))) {
			sd_fail(err, "out of memory");
			goto out;
		}
		if (o->dry_run) {
			sprintf(path, "%s/sitedump-%s%s", o->config_dir, site, ext);
			*changed = !same_content(path, buf, len);
			fprintf(o->dry_run, "# %s %s (%zu bytes)\n", *changed ? "would write" : "unchanged:", path, len);
			sprintf(path, "%s/sitedump-templates%s", o->config_dir, ext);
			if (!same_content(path, tbuf, tlen)) {
				*changed = 1;
				fprintf(o->dry_run, "# would write %s (%zu bytes)\n", path, tlen);
			}
		} else {
			sprintf(path, "%s/sitedump-templates%s", o->config_dir, ext);
			if (write_if_changed(path, tbuf, tlen, changed, err) < 0)
				goto out;
			sprintf(path, "%s/sitedump-%s%s", o->config_dir, site, ext);
			if (write_if_changed(path, buf, len, changed, err) < 0)
				goto out;
		}
	}
	if (o->dry_run) {
		lines_free(&c->dry_owned);
		c->dry_owned = g.accepted;
		memset(&g.accepted, 0, sizeof(g.accepted));
		snprintf(c->dry_site, sizeof(c->dry_site), "%s", site);
	} else {
		char *gp = spath(o->state_dir, site, ".groups");
		int bad = !gp || lines_write(gp, &g.groups, err) < 0;
		free(gp);
		if (bad || lines_write(hostsp, &g.accepted, err) < 0)
			goto out;
	}
	info(c, "site %s: config: %zu hosts owned, %lld refused%s", site,
	     o->dry_run ? c->dry_owned.n : g.accepted.n, g.refused,
	     !o->config_dir ? " (no --config-dir: ownership only)"
	     : *changed ? (o->dry_run ? ", config file would be written" : ", config file written") : ", config unchanged");
	rc = 0;
out:
	if (f)
		fclose(f);
	if (g.writer) {
		if (g.fmt == CORE_NAGIOS)
			nagios_objects_writer_free(g.writer);
		else
			icinga2_writer_free(g.writer);
	}
	free(buf);
	free(tbuf);
	free(path);
	free(hostsp);
	free(g.name);
	lines_free(&g.prev);
	lines_free(&g.others_names);
	lines_free(&g.others_groups);
	lines_free(&g.groups);
	lines_free(&g.accepted);
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

/* After a reload: wait until a new core answers and knows the site's
 * hosts. Returns 1 if the core never restarted (a config error, most
 * likely: the old core runs on and the reload is owed). */
static int wait_loaded(struct ctx *c, const char *site, const char *gen0, sd_error *err)
{
	struct lines owned;
	char *p = spath(c->o->state_dir, site, ".hosts"), gen[64];
	struct timespec t0, t;
	size_t i, missing;
	int restarted = !*gen0, rc = 0;

	if (!p || lines_read(p, &owned, err) < 0) {
		free(p);
		return p ? -1 : sd_fail(err, "out of memory");
	}
	free(p);
	clock_gettime(CLOCK_MONOTONIC, &t0);
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
		clock_gettime(CLOCK_MONOTONIC, &t);
		if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > c->o->reload_wait_ms) {
			central_free(c->central);
			c->central = NULL;
			rc = !restarted;
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
	return o->checkresults || o->command_file || o->livestatus || o->dry_run;
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

int import_run(const struct import_opts *o, char *const *paths, int n, sd_error *err)
{
	struct ctx c = { 0 };
	struct input *in = NULL;
	struct seal_sec *dk = NULL;
	char *lockp = NULL;
	int lockfd = -1, i, j, rc = 2, changed = 0;
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
		if (imported_read(o->state_dir, bi->site, &im, &e) < 0) {
			report(&c, what, e.msg);
			set_outcome(&in[i], IMPORT_FAILED, e.msg);
			goto next;
		}
		if (bi->sequence <= im.seq) {
			snprintf(e.msg, sizeof(e.msg), "refused: not newer than the last imported sequence %llu", im.seq);
			report(&c, what, e.msg);
			set_outcome(&in[i], IMPORT_OLD, e.msg);
			goto next;
		}
		if (o->max_age > 0 && c.now - bi->created > o->max_age) {
			snprintf(e.msg, sizeof(e.msg), "refused: made %llds ago, older than --max-age %lld",
				 c.now - bi->created, o->max_age);
			report(&c, what, e.msg);
			set_outcome(&in[i], IMPORT_REJECTED, e.msg);
			goto next;
		}
		if (bi->created > c.now + 300) {
			report(&c, what, "refused: made in the future (clock skew over 5 minutes?)");
			set_outcome(&in[i], IMPORT_REJECTED, "refused: made in the future (clock skew over 5 minutes?)");
			goto next;
		}
		want_config = strcmp(bi->kind, "state") != 0;
		want_state = strcmp(bi->kind, "config") != 0 && !in[i].superseded;
		if (in[i].superseded && strcmp(bi->kind, "config")) {
			note(&c, what, "state superseded by a newer bundle of the site in this run: skipped");
			if (!want_config)
				set_outcome(&in[i], IMPORT_SKIPPED, "state superseded by a newer bundle of the site");
		}
		changed = 0;
		if (want_config) {
			char *pending = spath(o->state_dir, bi->site, ".reload-pending");
			if (import_config(&c, &in[i], &changed, &e) < 0) {
				report(&c, what, e.msg);
				c.status = 2;
				free(pending);
				set_outcome(&in[i], IMPORT_FAILED, e.msg);
				goto next;
			}
			/* a reload that failed last time is owed even if the files did not change */
			if (pending && !o->dry_run && access(pending, F_OK) == 0)
				changed = 1;
			if (changed && !o->dry_run) {
				char gen0[64] = "";
				int wl = 0;
				central_free(c.central);
				c.central = NULL;
				if (pending)
					file_write(pending, "", 0, &e);
				if (have_central(o) && o->reload_command)
					core_generation(&c, gen0);
				if (run_reload(&c, &e) < 0) {
					report(&c, what, e.msg);
					free(pending);
					set_outcome(&in[i], IMPORT_FAILED, e.msg);
					goto next;
				}
				if (have_central(o) && (want_state || has_sink(o) || *gen0) &&
				    (wl = wait_loaded(&c, bi->site, o->reload_command ? gen0 : "", &e)) < 0) {
					report(&c, what, e.msg);
					free(pending);
					set_outcome(&in[i], IMPORT_FAILED, e.msg);
					goto next;
				}
				if (wl == 1) {
					/* the reload is owed: the pending mark stays for the next run */
					snprintf(e.msg, sizeof(e.msg), "the core did not restart within %d s of the reload "
						 "command (a config error? see the core's log); the state goes to the running core",
						 o->reload_wait_ms / 1000);
					report(&c, what, e.msg);
				} else if (pending) {
					unlink(pending);
				}
			}
			free(pending);
		}
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
			/* a config-only bundle still tells the link service it arrived */
			struct apply_opts ao = { 0 };
			struct applier *a;
			ao.core = o->core;
			ao.checkresults = o->checkresults;
			ao.command_file = o->command_file;
			ao.livestatus = o->livestatus;
			ao.timeout_ms = o->timeout_ms;
			ao.reap_wait_ms = o->reap_wait_ms;
			ao.report = applier_report;
			ao.report_ctx = &c;
			ao.first_send = sent_mark_cb;
			if (!have_central(o) || read_central(&c, &e) < 0 || !(a = apply_open(&ao, &e))) {
				if (have_central(o))
					note(&c, what, e.msg);
			} else {
				if (send_link(&c, a, bi, NULL, 0, &e) < 0 || apply_finish(a, &e) < 0)
					note(&c, what, e.msg);
				apply_free(a);
			}
			central_free(c.central);
			c.central = NULL;
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
