/*
 * sitedump - export a monitoring site's configuration and full state.
 *
 * Only this file prints and exits. Exit codes: 0 everything written;
 * 1 written, but some objects were skipped (each reported on stderr);
 * 2 usage error or bad input (socket, server error, malformed reply or
 * status.dat, key, state dir): nothing is written, no output file is left;
 * 3 the bundle was made but not delivered (--send-command, --mail-to, or
 * the queue's transport failed): with --queue it stays queued.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "bundle/bundle.h"
#include "bundle/bundle_name.h"
#include "bundle/keyfile.h"
#include "livestatus/livestatus.h"
#include "transports/mail.h"
#include "formats/minisign.h"
#include "base/output.h"
#include "transports/queue.h"
#include "bundle/seal.h"
#include "bundle/seqstate.h"
#include "formats/snapshot_json.h"
#include "livestatus/source_livestatus.h"
#include "icinga2api/source_api.h"
#include "formats/statusdat.h"
#include "model/core.h"
#include "base/optfile.h"
#include "formats/writers.h"
#include "export/tee.h"

struct opts {
	struct ls_source_opts lo;
	/* -s https://...: Icinga 2's REST API (several URLs, comma-separated: an HA zone) */
	struct api_source_opts ao;
	int api;
	const char *api_user, *api_passfile, *api_cert, *api_key, *api_ca;
	char *api_urlbuf;
	const char *api_urls[16];
	struct writer_opts wo;
	const char *outpath, *status_file, *objects_cache, *site, *key, *state_dir, *encrypt_to;
	const char *snapshot;           /* --snapshot FILE: a snapshot JSON document as the source */
	enum writer_format fmt;
	int fmt_given;                  /* --format: else checkresult, or nagios with -C */
	enum bundle_compress compress;
	int config, all, mark;
	char source[4200];
	/* delivery (docs/transport-mail.md, docs/transport-queue.md) */
	struct queue_transport tr;
	int has_tr;                     /* a transport: --send-command, --mail-to, -o DIR/ with --queue */
	const char *queue_dir;
	int queue_max;
	/* as given: the checks need to know what was on the command line,
	 * opts_check_delivery and opts_fill_defaults turn them into tr and lo */
	char *hh, *sh, *oh;             /* -H, -S, -O: header lines, malloc'd */
	const char *mail_to, *mail_from, *sendmail, *send_cmd;
	int queue_max_given;            /* -1: no --queue-max */
	int send_timeout_set;
};

static int skipped_count;
/* What goes to stderr besides errors: -q nothing, by default warnings,
 * -v also what was sent or written (a cron job mails every line). */
static int verbosity;

static void report_skip(void *ctx, const char *what, const char *why)
{
	skipped_count++;
	if (verbosity >= 0)
		fprintf(stderr, "sitedump: skipped %s: %s\n", what, why);
}

static void report_warn(void *ctx, const char *what, const char *why)
{
	if (verbosity >= 0)
		fprintf(stderr, "sitedump: warning: %s: %s\n", what, why);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sitedump [-C [-T] [-G]] [-M] [-s SOCKET] [-H HDR]... [-S HDR]... [-O HDR]...\n"
		"                [-p PREFIX] [-i MINUTES] [--format checkresult|json|json-columns|json-blocks|nagios|icinga2]\n"
		"                [--all]\n"
		"                [--status-file PATH --objects-cache PATH | --snapshot FILE] [-o FILE] [--timeout SECONDS]\n"
		"                [--site NAME]\n"
		"       sitedump [-C|--all] -k KEY [-o FILE|DIR/|-] [--compress gzip|zstd|none]\n"
		"                [--state-dir DIR] [--site NAME] [--encrypt-to CENTRAL.pub] [source options]\n"
		"                [--send-command CMD | --mail-to ADDR [--mail-from ADDR] [--sendmail CMD]]\n"
		"                [--queue DIR [--queue-max N]] [--send-timeout SECONDS]\n"
		"                (with --queue, -o DIR/ is a transport too)\n"
		"       sitedump keygen -o NAME [-f]\n"
		"  -s SOCKET   unix:PATH, tcp:HOST:PORT or PATH (default $OMD_ROOT/tmp/run/live)\n"
		"  -s https://HOST:5665[,https://...]  Icinga 2's REST API, with --api-ca FILE and\n"
		"              --api-user NAME --api-password-file FILE or --api-cert FILE [--api-key FILE]\n"
		"  -C          configuration instead of state; -T adds the templates; -G contact groups\n"
		"  -M          mark mode: first line says \"status\" or \"config SITE\"\n"
		"  -H/-S/-O    Livestatus header for host+service / service / host queries\n"
		"  -p PREFIX   prefix host names; -i MINUTES check_interval in the templates\n"
		"  -o FILE     write atomically to FILE (default stdout)\n"
		"  -k KEY      write a signed bundle with this secret key\n"
		"  --send-command CMD  run CMD (/bin/sh -c) with the bundle on stdin, e.g. 'ssh central siteload -'\n"
		"  --mail-to ADDR      mail the bundle as an attachment through sendmail\n"
		"  --queue DIR         queue the bundle in DIR, then send the queue oldest first\n"
		"See sitedump(1).\n");
}

/* Append one header line to *acc; a header must be one line. */
static int add_header(char **acc, const char *h)
{
	size_t old = *acc ? strlen(*acc) : 0, len = strlen(h);
	char *n;

	while (len && h[len - 1] == '\n')
		len--;
	if (!len || memchr(h, '\n', len) || memchr(h, '\r', len) || !memchr(h, ':', len))
		return -1;
	if (!(n = realloc(*acc, old + len + 2)))
		return -1;
	memcpy(n + old, h, len);
	n[old + len] = '\n';
	n[old + len + 1] = '\0';
	*acc = n;
	return 0;
}

static int parse_num(const char *s, int min, int max, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

/* ---- keygen ------------------------------------------------------------ */

#define USAGE_KEYGEN "usage: sitedump keygen -o NAME [-f]   (a signing key pair: NAME.key, NAME.pub)\n"

static int keygen_main(int argc, char **argv)
{
	const char *name = NULL;
	char *keypath = NULL, *pubpath = NULL, *sec = NULL, *pub = NULL, id[17];
	struct ms_pubkey pk;
	struct ms_seckey *sk = NULL;
	sd_error err = { "" };
	int c, force = 0, rc = 2;

	for (c = 1; c < argc; c++)
		if (!strcmp(argv[c], "-h") || !strcmp(argv[c], "--help"))
			return fputs(USAGE_KEYGEN, stdout), 0;
	optind = 1;
	while ((c = getopt(argc, argv, "o:f")) != -1) {
		if (c == 'o')
			name = optarg;
		else if (c == 'f')
			force = 1;
		else
			return fputs(USAGE_KEYGEN, stderr), 2;
	}
	if (!name || optind < argc)
		return fprintf(stderr, "sitedump: keygen: %s\n" USAGE_KEYGEN, !name ? "-o NAME missing" : "unexpected argument"), 2;
	if (asprintf(&keypath, "%s.key", name) < 0 || asprintf(&pubpath, "%s.pub", name) < 0)
		return fprintf(stderr, "sitedump: out of memory\n"), 2;
	if (!force && (!access(keypath, F_OK) || !access(pubpath, F_OK))) {
		fprintf(stderr, "sitedump: keygen: %s or %s exists; use -f to overwrite\n", keypath, pubpath);
		goto out;
	}
	if (!(sk = ms_keygen(&pk, &err)) || !(sec = ms_seckey_format(sk)) || !(pub = ms_pubkey_format(&pk))) {
		fprintf(stderr, "sitedump: keygen: %s\n", err.msg[0] ? err.msg : "out of memory");
		goto out;
	}
	if (out_write_new(keypath, sec, 0600, force, &err) < 0 || out_write_new(pubpath, pub, 0644, force, &err) < 0) {
		fprintf(stderr, "sitedump: keygen: %s\n", err.msg);
		goto out;
	}
	ms_keyid_hex(pk.keynum, id);
	printf("sitedump: wrote %s (secret, keep it on this site) and %s (copy it to the central site)\n"
	       "key id %s\n"
	       "check a bundle:          siteload verify -p %s BUNDLE\n"
	       "or, after tar -xzf:      minisign -V -p %s -m manifest.json\n",
	       keypath, pubpath, id, pubpath, pubpath);
	rc = 0;
out:
	if (sec)
		ms_secret_text_free(sec);
	ms_seckey_free(sk);
	free(pub);
	free(keypath);
	free(pubpath);
	return rc;
}

/* ---- export ------------------------------------------------------------ */

/* begin, one source pass, end. */
/* --snapshot: the document's own begin/end are ours (run_source's), and a
 * part the document does not hold cannot be exported from it */
struct snap_pass {
	struct sd_sink sink;
	const struct sd_sink *to;
	unsigned want;
};

static int sp_begin(void *ctx, const struct sd_meta *m, sd_error *err)
{
	struct snap_pass *p = ctx;
	unsigned want = p->want == SD_PART_RESULT ? SD_PART_STATE : p->want;

	if ((m->parts & want) != want)
		return sd_fail(err, "the snapshot has no %s part", (want & ~m->parts) & SD_PART_CONFIG ? "config" : "state");
	return 0;
}
static int sp_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct snap_pass *p = ctx;
	return sd_emit_group(p->to, g, err);
}
static int sp_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct snap_pass *p = ctx;
	return sd_emit_object(p->to, o, err);
}
static int sp_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct snap_pass *p = ctx;
	return sd_emit_downtime(p->to, d, err);
}
static int sp_comment(void *ctx, const struct sd_comment *c, sd_error *err)
{
	struct snap_pass *p = ctx;
	return sd_emit_comment(p->to, c, err);
}

static int read_snapshot(const char *path, unsigned parts, const struct sd_sink *to, sd_error *err)
{
	struct snap_pass p = { { 0 }, to, parts };
	int fd = strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : 0;
	long rc;

	if (fd < 0)
		return sd_fail(err, "%s: %s", path, strerror(errno));
	p.sink.ctx = &p;
	p.sink.begin = sp_begin;
	p.sink.group = sp_group;
	p.sink.object = sp_object;
	p.sink.downtime = sp_downtime;
	p.sink.comment = sp_comment;
	rc = snapshot_json_read_fd(fd, path, &p.sink, err);
	if (fd)
		close(fd);
	return rc < 0 ? -1 : 0;
}

/* The site's core as it says itself, for a bundle or a JSON snapshot
 * (the central's siteload and an admin reading it see what it came
 * from): Livestatus GET status, status.dat's version. Not asked when it
 * cannot be (a snapshot source), nor for the plain formats, which do not
 * carry it. A core that does not answer this leaves it out. */
static void core_of_site(struct opts *o, struct sd_meta *m)
{
	static char pv[128];
	struct ls_server sv;
	sd_error e;
	int known;
	FILE *f;

	if (!o->key && o->fmt != WRITER_JSON)
		return;
	if (o->api) {
		m->core = "icinga2";
		return;
	}
	if (o->status_file && (f = fopen(o->status_file, "r"))) {
		if (statusdat_version(f, o->status_file, pv, sizeof(pv), &e) == 0)
			m->core = core_profile_detect(pv, "", &known)->name, m->core_version = pv;
		fclose(f);
	} else if (!o->snapshot && !o->status_file && ls_server_info(o->lo.spec, o->lo.timeout_ms, &sv, &e) == 0) {
		snprintf(pv, sizeof(pv), "%s", sv.program_version);
		m->core = core_profile_detect(sv.program_version, sv.livestatus_version, &known)->name;
		m->core_version = pv;
	}
}

static int run_source(struct opts *o, unsigned parts, struct sd_sink *sink, sd_error *err)
{
	struct sd_meta meta = { .site = o->site, .source = o->source, .created = o->wo.now, .parts = parts };
	int rc;

	core_of_site(o, &meta);

	o->lo.parts = parts;
	rc = sink->begin ? sink->begin(sink->ctx, &meta, err) : 0;
	if (rc == 0)
		rc = o->snapshot ? read_snapshot(o->snapshot, parts, sink, err)
		   : o->status_file ? statusdat_read(o->status_file, o->objects_cache,
						     parts == SD_PART_RESULT ? SD_PART_STATE : parts, sink, err)
				    : o->api ? (o->ao.parts = parts, source_api_run(&o->ao, sink, err))
				    : source_livestatus_run(&o->lo, sink, err);
	if (rc == 0 && sink->end)
		rc = sink->end(sink->ctx, err);
	return rc;
}

/* A writer reporting what it skipped or altered on stderr. */
static struct sd_sink *new_writer(enum writer_format f, FILE *out, const struct writer_opts *wo)
{
	struct sd_sink *s = writers_new(f, out, wo);

	if (s) {
		s->skipped = report_skip;
		s->warned = report_warn;
	}
	return s;
}

static int run_plain(struct opts *o)
{
	struct out_file *of;
	struct sd_sink *sink;
	sd_error err = { "" };
	int rc;

	if (!(of = out_open(o->outpath, &err))) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		return 2;
	}
	if (!(sink = new_writer(o->fmt, out_stream(of), &o->wo))) {
		fprintf(stderr, "sitedump: out of memory\n");
		out_abort(of);
		return 2;
	}
	if (o->mark)
		fprintf(out_stream(of), o->config ? "config %s\n" : "status\n", o->site);
	rc = run_source(o, o->wo.parts, sink, &err);
	if (rc == 0)
		rc = out_commit(of, &err);
	else
		out_abort(of);
	writers_free(o->fmt, sink);
	if (rc < 0) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		return 2;
	}
	return skipped_count ? 1 : 0;
}

static struct ms_seckey *load_key(const char *path, sd_error *err)
{
	char *buf;
	struct ms_seckey *sk;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		sd_fail(err, "key %s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		st.st_mode = 0;
	if (!(buf = sodium_malloc(4096))) {
		close(fd);
		sd_fail(err, "out of memory");
		return NULL;
	}
	n = read(fd, buf, 4095);
	close(fd);
	if (n < 0) {
		sodium_free(buf);
		sd_fail(err, "key %s: %s", path, strerror(errno));
		return NULL;
	}
	sk = keyfile_sec_parse(path, buf, (size_t)n, err);
	sodium_free(buf);       /* wipes */
	/* as ssh does for private keys: say so when others can read it (once it is one) */
	if (sk && (st.st_mode & 077))
		fprintf(stderr, "sitedump: warning: secret key %s is accessible by others (mode %04o); chmod 600 it\n",
			path, (unsigned)(st.st_mode & 07777));
	if (!sk) {
		char msg[SD_ERRLEN];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		sd_fail(err, "key %s: %s", path, msg);
	}
	return sk;
}

/* The archive onto out; with `to`, signed, then encrypted: the sealed
 * stream wraps the whole signed bundle. */
static int write_bundle(FILE *out, struct bundle_writer *bw, const struct bundle_info *info,
			const struct ms_seckey *sk, const struct seal_pub *to, sd_error *err)
{
	FILE *sealed;

	if (!to)
		return bundle_close(bw, out, info, sk, err);
	if (!(sealed = seal_writer(out, to, err)))
		return -1;
	if (bundle_close(bw, sealed, info, sk, err) < 0) {
		fclose(sealed);
		return -1;
	}
	if (fclose(sealed) != 0 || ferror(out))
		return sd_fail(err, "writing the encrypted bundle: %s", strerror(errno));
	return 0;
}

/* ctx: an int set when a bundle was refused */
static void queue_refused(void *ctx, const char *name, const char *why)
{
	*(int *)ctx = 1;
	fprintf(stderr, "sitedump: %s set aside in %s/: %s\n", name, QUEUE_REFUSED_DIR, why);
}

static void queue_dropped(void *ctx, const char *name, const char *why)
{
	if (verbosity < 0)
		return;
	if (name)
		fprintf(stderr, "sitedump: queue: dropped %s: %s\n", name, why);
	else
		fprintf(stderr, "sitedump: queue: warning: %s\n", why);
}

static void bundle_sent(void *ctx, const char *name, const char *how)
{
	if (verbosity > 0)
		fprintf(stderr, "sitedump: sent %s (%s)\n", name, how);
}

/* Deliver bundle `name`: from fd (no queue), or the whole queue. 0 or 3
 * (not delivered; said why in one line). */
static int deliver(const struct opts *o, int fd, const char *name)
{
	char how[600];
	sd_error err = { "" };
	struct queue *q;
	int left = 0, refused = 0;

	queue_describe(&o->tr, how, sizeof(how));
	if (!o->queue_dir) {
		if (queue_send(&o->tr, fd, name, &err) != 0) {
			fprintf(stderr, "sitedump: %s not delivered: %s\n", name, err.msg);
			return 3;
		}
		bundle_sent(NULL, name, how);
		return 0;
	}
	/* a run still sending (a slow link) holds the queue: ours stays queued for it or the next run */
	if (!(q = queue_open(o->queue_dir, 60000, &err))) {
		fprintf(stderr, "sitedump: %s stays queued: %s\n", name, err.msg);
		return 3;
	}
	if (queue_prune(q, o->queue_max, queue_dropped, NULL, &err) < 0) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		queue_close(q);
		return 3;
	}
	if (queue_flush(q, &o->tr, bundle_sent, queue_refused, &refused, NULL, &left, &err) < 0) {
		fprintf(stderr, "sitedump: %s; %d bundle%s stay%s queued in %s\n", err.msg, left, left == 1 ? "" : "s",
			left == 1 ? "s" : "", o->queue_dir);
		queue_close(q);
		return 3;
	}
	queue_close(q);
	return refused ? 3 : 0;
}

/*
 * The bundle's sequence number is reserved on a thread of its own while
 * the export runs: its lock and fsyncs (1-10 ms) no longer follow the
 * last Livestatus byte, and numbers follow the order in which runs
 * started, which is the order of their data (a run that started later
 * but finished first no longer makes an earlier one's newer data look
 * older). A run that fails after this leaves a gap, as a crash does.
 */
struct seq_job {
	const char *dir, *site;
	unsigned long long seq;
	sd_error err;
	int rc;
};

static void *seq_reserve(void *arg)
{
	struct seq_job *j = arg;

	j->rc = seq_next(j->dir, j->site, &j->seq, &j->err);
	return NULL;
}

/*
 * One source pass for `parts` through a tee into this part's members,
 * adding what it counted to *total: the counts come from the state pass
 * when there is one, as that is the only pass that sees comments and
 * downtimes.
 */
static int bundle_pass(struct opts *o, struct bundle_writer *bw, unsigned parts, const struct writer_opts *wo,
		       struct tee_counts *total, sd_error *err)
{
	struct sd_sink *w[3] = { 0 }, *tee = NULL;
	const char *names[3];
	enum writer_format fmts[3];
	int n = 0, i, rc = -1;
	FILE *f;

	if (parts == SD_PART_STATE) {
		names[n] = "state.json";
		fmts[n++] = WRITER_JSON;
	} else {
		names[n] = "config.json";
		fmts[n++] = WRITER_JSON;
		names[n] = "nagios.cfg";
		fmts[n++] = WRITER_NAGIOS;
		names[n] = "icinga2.conf";
		fmts[n++] = WRITER_ICINGA2;
	}
	for (i = 0; i < n; i++) {
		if (!(f = bundle_member(bw, names[i], err)) || !(w[i] = new_writer(fmts[i], f, wo))) {
			if (!err->msg[0])
				sd_fail(err, "out of memory");
			goto out;
		}
	}
	if (!(tee = tee_new(w, names, n))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	tee->skipped = report_skip;
	tee->warned = report_warn;      /* the source's own: status.dat times clamped */
	if (run_source(o, parts, tee, err) < 0)
		goto out;
	if (parts == SD_PART_STATE || !total->hosts) {
		const struct tee_counts *c = tee_counts(tee);
		total->hosts = c->hosts;
		total->services = c->services;
		if (parts == SD_PART_STATE) {
			total->comments = c->comments;
			total->downtimes = c->downtimes;
		}
	}
	rc = 0;
out:
	if (tee)
		tee_free(tee);
	for (i = 0; i < n; i++)
		if (w[i])
			writers_free(fmts[i], w[i]);
	return rc;
}

/* The members: a state pass, a config pass, or both (--all), each part's
 * writers with the options the bundle fixes for it. */
static int bundle_members(struct opts *o, struct bundle_writer *bw, sd_error *err)
{
	struct writer_opts state_wo = o->wo, config_wo = o->wo;
	struct tee_counts total = { 0 };

	state_wo.parts = SD_PART_STATE;
	state_wo.templates = 0;
	state_wo.json_blocks = config_wo.json_blocks = 1;       /* see snapshot_json.c */
	config_wo.parts = SD_PART_CONFIG;
	config_wo.templates = 0;        /* siteload writes the shared templates once */
	if ((!o->config || o->all) && bundle_pass(o, bw, SD_PART_STATE, &state_wo, &total, err) < 0)
		return -1;
	if ((o->config || o->all) && bundle_pass(o, bw, SD_PART_CONFIG, &config_wo, &total, err) < 0)
		return -1;
	bundle_count(bw, total.hosts, total.services, total.comments, total.downtimes);
	return 0;
}

/* Where the bundle goes under its own name: into the queue, or into the
 * directory -o names. NULL in *outpath: -o's file, stdout or a transport. */
static int bundle_outpath(const struct opts *o, const char *name, char **outpath, sd_error *err)
{
	struct stat st;

	*outpath = NULL;
	if (o->queue_dir) {
		if (queue_create(o->queue_dir, err) < 0)
			return -1;
		if (asprintf(outpath, "%s/%s", o->queue_dir, name) < 0) {
			*outpath = NULL;
			return sd_fail(err, "out of memory");
		}
	} else if (o->outpath && *o->outpath && strcmp(o->outpath, "-") &&
	    ((stat(o->outpath, &st) == 0 && S_ISDIR(st.st_mode)) || o->outpath[strlen(o->outpath) - 1] == '/')) {
		size_t dl = strlen(o->outpath);
		while (dl > 1 && o->outpath[dl - 1] == '/')
			dl--;
		if (asprintf(outpath, "%.*s/%s", (int)dl, o->outpath, name) < 0) {
			*outpath = NULL;
			return sd_fail(err, "out of memory");
		}
	}
	return 0;
}

/* Straight to a transport (no queue): an unlinked file, so nothing of the
 * bundle stays behind; its descriptor in *sendfd for the sending. */
static int bundle_write_anon(struct bundle_writer *bw, const struct bundle_info *info, const struct ms_seckey *sk,
			     const struct seal_pub *to, int *sendfd, sd_error *err)
{
	FILE *f;
	int d, rc;

	if ((*sendfd = out_anon_file(NULL, err)) < 0)
		return -1;
	if ((d = dup(*sendfd)) < 0 || !(f = fdopen(d, "w"))) {
		sd_fail(err, "temp file: %s", strerror(errno));
		if (d >= 0)
			close(d);
		return -1;
	}
	rc = write_bundle(f, bw, info, sk, to, err);
	if (fclose(f) != 0 && rc == 0)
		rc = sd_fail(err, "temp file: write error: %s", strerror(errno));
	return rc;
}

/* To a file, atomically: -o's, the one in -o DIR/ or in the queue, or stdout. */
static int bundle_write_file(const struct opts *o, const char *outpath, struct bundle_writer *bw,
			     const struct bundle_info *info, const struct ms_seckey *sk, const struct seal_pub *to,
			     sd_error *err)
{
	struct out_file *of;
	int rc;

	if (!(of = out_open(outpath ? outpath : o->outpath, err)))
		return -1;
	if (write_bundle(out_stream(of), bw, info, sk, to, err) < 0) {
		out_abort(of);
		return -1;
	}
	rc = out_commit(of, err);
	if (rc == 0 && outpath && !o->queue_dir && verbosity > 0)
		fprintf(stderr, "sitedump: wrote %s\n", outpath);
	return rc;
}

static void bundle_info_fill(struct bundle_info *info, const struct opts *o, unsigned long long seq, const char *kind)
{
	info->sequence = seq;
	snprintf(info->site, sizeof(info->site), "%s", o->site);
	snprintf(info->kind, sizeof(info->kind), "%s", kind);
	snprintf(info->generator, sizeof(info->generator), "sitedump %s", SITEDUMP_VERSION);
	info->created = (long long)o->wo.now;
}

/*
 * A signed bundle: one member per view of the data, written from one source
 * pass per part through a tee; the sequence number is reserved durably
 * before the bundle is released under its final name.
 */
static int run_bundle(struct opts *o)
{
	struct bundle_writer *bw = NULL;
	struct ms_seckey *sk = NULL;
	struct bundle_info info = { 0 };
	char *outpath = NULL, name[BUNDLE_NAME_MAX];
	const char *kind = o->all ? "both" : o->config ? "config" : "state";
	sd_error err = { "" };
	int rc = -1, sendfd = -1, undelivered = 0;
	struct seal_pub to;
	const struct seal_pub *top = o->encrypt_to ? &to : NULL;
	struct seq_job sj = { .dir = o->state_dir, .site = o->site };
	pthread_t seq_th;
	int seq_running = 0;

	if (!seq_site_ok(o->site)) {
		fprintf(stderr, "sitedump: site name '%s': use --site with letters, digits, '.', '_', '-'\n", o->site);
		return 2;
	}
	if (!(sk = load_key(o->key, &err)))
		goto out;
	/* before bundle_open: its thread loads libarchive, and a thread
	 * created while dlopen holds the loader's TLS lock waits for it */
	if (!(seq_running = pthread_create(&seq_th, NULL, seq_reserve, &sj) == 0))
		seq_reserve(&sj);
	if (!(bw = bundle_open(NULL, o->compress, &err)))
		goto out;
	if (o->encrypt_to && seal_pub_load(o->encrypt_to, &to, &err) < 0)
		goto out;
	if (bundle_members(o, bw, &err) < 0)
		goto out;
	/* the number is on disk before the bundle can be seen */
	if (seq_running) {
		pthread_join(seq_th, NULL);
		seq_running = 0;
	}
	if (sj.rc < 0) {
		err = sj.err;
		goto out;
	}
	bundle_info_fill(&info, o, sj.seq, kind);
	/* the site was checked above and seq_next never gives 0: cannot fail */
	if (bundle_name_format(name, sizeof(name), o->site, info.sequence, kind, bundle_name_ext(o->compress, o->encrypt_to != NULL)) < 0) {
		sd_fail(&err, "bundle name: bad site, sequence or kind");
		goto out;
	}
	if (bundle_outpath(o, name, &outpath, &err) < 0)
		goto out;
	if (o->has_tr && !o->queue_dir)
		rc = bundle_write_anon(bw, &info, sk, top, &sendfd, &err);
	else
		rc = bundle_write_file(o, outpath, bw, &info, sk, top, &err);
	if (rc == 0 && o->has_tr)
		undelivered = deliver(o, sendfd, name);
out:
	if (seq_running)
		pthread_join(seq_th, NULL);
	bundle_free(bw);
	ms_seckey_free(sk);
	free(outpath);
	if (sendfd >= 0)
		close(sendfd);
	if (rc < 0) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		return 2;
	}
	return undelivered ? undelivered : skipped_count ? 1 : 0;
}

/* ---- options ----------------------------------------------------------- */

enum { O_FORMAT = 256, O_ALL, O_STATUS, O_OBJECTS, O_TIMEOUT, O_SITE, O_COMPRESS, O_STATEDIR, O_ENCRYPT, O_SNAPSHOT,
       O_MAILTO, O_MAILFROM, O_SENDMAIL, O_SENDCMD, O_QUEUE, O_QUEUEMAX, O_SENDTIMEOUT,
       O_API_USER, O_API_PASSFILE, O_API_CERT, O_API_KEY, O_API_CA };

static const struct option longopts[] = {
	{ "socket", required_argument, 0, 's' },
	{ "config", no_argument, 0, 'C' },
	{ "dump-templates", no_argument, 0, 'T' },
	{ "include-groups", no_argument, 0, 'G' },
	{ "mark-mode", no_argument, 0, 'M' },
	{ "prefix", required_argument, 0, 'p' },
	{ "interval", required_argument, 0, 'i' },
	{ "host-header", required_argument, 0, 'H' },
	{ "service-header", required_argument, 0, 'S' },
	{ "host-only-header", required_argument, 0, 'O' },
	{ "output", required_argument, 0, 'o' },
	{ "key", required_argument, 0, 'k' },
	{ "format", required_argument, 0, O_FORMAT },
	{ "all", no_argument, 0, O_ALL },
	{ "status-file", required_argument, 0, O_STATUS },
	{ "snapshot", required_argument, 0, O_SNAPSHOT },
	{ "objects-cache", required_argument, 0, O_OBJECTS },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "site", required_argument, 0, O_SITE },
	{ "compress", required_argument, 0, O_COMPRESS },
	{ "state-dir", required_argument, 0, O_STATEDIR },
	{ "encrypt-to", required_argument, 0, O_ENCRYPT },
	{ "mail-to", required_argument, 0, O_MAILTO },
	{ "mail-from", required_argument, 0, O_MAILFROM },
	{ "sendmail", required_argument, 0, O_SENDMAIL },
	{ "send-command", required_argument, 0, O_SENDCMD },
	{ "queue", required_argument, 0, O_QUEUE },
	{ "queue-max", required_argument, 0, O_QUEUEMAX },
	{ "send-timeout", required_argument, 0, O_SENDTIMEOUT },
	{ "api-user", required_argument, 0, O_API_USER },
	{ "api-password-file", required_argument, 0, O_API_PASSFILE },
	{ "api-cert", required_argument, 0, O_API_CERT },
	{ "api-key", required_argument, 0, O_API_KEY },
	{ "api-ca", required_argument, 0, O_API_CA },
	{ "help", no_argument, 0, 'h' },
	{ "version", no_argument, 0, 'V' },
	{ "verbose", no_argument, 0, 'v' },
	{ "quiet", no_argument, 0, 'q' },
	{ 0, 0, 0, 0 },
};

/* One option into o. -1: go on; else the exit code, its message printed. */
static int opts_take(struct opts *o, int c, const char *arg)
{
	int secs;

	switch (c) {
	case 's': o->lo.spec = arg; break;
	case 'C': o->config = 1; break;
	case 'T': o->wo.templates = 1; break;
	case 'G': o->wo.contact_groups = 1; break;
	case 'M': o->mark = 1; break;
	case 'p': o->wo.prefix = arg; break;
	case 'i':
		if (parse_num(arg, 1, 1000000, &o->wo.check_interval) < 0)
			return fprintf(stderr, "sitedump: -i: not a positive number of minutes: %s\n", arg), 2;
		break;
	case 'H': case 'S': case 'O':
		if (add_header(c == 'H' ? &o->hh : c == 'S' ? &o->sh : &o->oh, arg) < 0)
			return fprintf(stderr, "sitedump: -%c: a header is one line 'Name: value': %s\n", c, arg), 2;
		break;
	case 'o':
		if (!*arg)
			return fprintf(stderr, "sitedump: -o: empty file name\n"), 2;
		o->outpath = arg;
		break;
	case 'k': o->key = arg; break;
	case 'v': verbosity = 1; break;
	case 'q': verbosity = -1; break;
	case O_FORMAT:
		if (!strcmp(arg, "checkresult")) o->fmt = WRITER_CHECKRESULT;
		else if (!strcmp(arg, "json")) o->fmt = WRITER_JSON;
		else if (!strcmp(arg, "json-columns")) o->fmt = WRITER_JSON, o->wo.json_columns = 1;
		else if (!strcmp(arg, "json-blocks")) o->fmt = WRITER_JSON, o->wo.json_blocks = 1;
		else if (!strcmp(arg, "nagios")) o->fmt = WRITER_NAGIOS;
		else if (!strcmp(arg, "icinga2")) o->fmt = WRITER_ICINGA2;
		else
			return fprintf(stderr, "sitedump: --format: unknown format '%s'\n", arg), 2;
		o->fmt_given = 1;
		break;
	case O_ALL: o->all = 1; break;
	case O_STATUS: o->status_file = arg; break;
	case O_SNAPSHOT: o->snapshot = arg; break;
	case O_OBJECTS: o->objects_cache = arg; break;
	case O_TIMEOUT:
		if (parse_num(arg, 1, 86400, &secs) < 0)
			return fprintf(stderr, "sitedump: --timeout: not a number of seconds: %s\n", arg), 2;
		o->lo.timeout_ms = secs * 1000;
		break;
	case O_SITE: o->site = arg; break;
	case O_COMPRESS:
		if (!strcmp(arg, "gzip")) o->compress = BUNDLE_GZIP;
		else if (!strcmp(arg, "zstd")) o->compress = BUNDLE_ZSTD;
		else if (!strcmp(arg, "none")) o->compress = BUNDLE_NONE;
		else
			return fprintf(stderr, "sitedump: --compress: gzip, zstd or none, not '%s'\n", arg), 2;
		break;
	case O_STATEDIR: o->state_dir = arg; break;
	case O_ENCRYPT: o->encrypt_to = arg; break;
	case O_MAILTO: o->mail_to = arg; break;
	case O_MAILFROM: o->mail_from = arg; break;
	case O_SENDMAIL: o->sendmail = arg; break;
	case O_SENDCMD: o->send_cmd = arg; break;
	case O_QUEUE:
		if (!*arg)
			return fprintf(stderr, "sitedump: --queue: empty directory name\n"), 2;
		o->queue_dir = arg;
		break;
	case O_QUEUEMAX:
		if (parse_num(arg, 1, 1000000, &o->queue_max_given) < 0)
			return fprintf(stderr, "sitedump: --queue-max: want a number of bundles (1 or more): %s\n", arg), 2;
		break;
	case O_SENDTIMEOUT:
		if (parse_num(arg, 0, 86400, &o->tr.timeout_s) < 0)
			return fprintf(stderr, "sitedump: --send-timeout: want seconds (0: no limit): %s\n", arg), 2;
		o->send_timeout_set = 1;
		break;
	case O_API_USER: o->api_user = arg; break;
	case O_API_PASSFILE: o->api_passfile = arg; break;
	case O_API_CERT: o->api_cert = arg; break;
	case O_API_KEY: o->api_key = arg; break;
	case O_API_CA: o->api_ca = arg; break;
	case 'h': usage(stdout); return 0;
	case 'V': printf("sitedump %s\n", SITEDUMP_VERSION); return 0;
	default: usage(stderr); return 2;
	}
	return -1;
}

#define SITEDUMP_CONF "/etc/sitedump/sitedump.conf"

/* The options of --config-file FILE (--config is -C, as in livedump), or
 * of SITEDUMP_CONF when it exists, put in
 * front of the command line's (base/optfile.h): *argv becomes the merged
 * one (*fargv, freed by the caller). -1: go on, else the exit code. */
static int opts_file(int *argc, char ***argv, char ***fargv)
{
	const char *path;
	sd_error e = { "" };
	int n;

	if (optfile_pick("config-file", argc, *argv, SITEDUMP_CONF, &path, &e) < 0 ||
	    (path && optfile_merge(path, "sitedump", longopts, *argc, *argv, &n, fargv, &e) < 0)) {
		fprintf(stderr, "sitedump: %s\n", e.msg);
		return 2;
	}
	if (path) {
		*argc = n;
		*argv = *fargv;
	}
	return -1;
}

/* The command line into o, each option checked on its own; -1: go on,
 * else the exit code. */
static int opts_parse(struct opts *o, int argc, char **argv)
{
	int c, rc;

	while ((c = getopt_long(argc, argv, "s:CTGMp:i:H:S:O:o:k:hVvq", longopts, NULL)) != -1)
		if ((rc = opts_take(o, c, optarg)) >= 0)
			return rc;
	if (optind < argc) {
		fprintf(stderr, "sitedump: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	return -1;
}

/* The options of a bundle and its delivery, and the one transport they
 * make; 0 or 2. */
static int opts_check_delivery(struct opts *o)
{
	struct stat qst, ost;
	int outdir;

	if (o->encrypt_to && !o->key)
		return fprintf(stderr, "sitedump: --encrypt-to needs a bundle (-k KEY)\n"), 2;
	if (o->key && (o->fmt_given || o->mark || o->wo.templates))
		return fprintf(stderr, "sitedump: -k writes a bundle: --format, -M and -T do not apply\n"), 2;
	if (o->key && *o->wo.prefix)
		return fprintf(stderr, "sitedump: -p with a bundle: the names on the central are the central's choice "
			       "(siteload --prefix)\n"), 2;
	/* delivery: one transport; --queue puts the bundle in front of it */
	if ((o->mail_to || o->mail_from || o->sendmail || o->send_cmd || o->queue_dir || o->queue_max_given >= 0) && !o->key)
		return fprintf(stderr, "sitedump: --send-command, --mail-to and --queue deliver bundles: give -k KEY\n"), 2;
	if (o->mail_to && o->send_cmd)
		return fprintf(stderr, "sitedump: give one transport: --mail-to or --send-command\n"), 2;
	if ((o->mail_from || o->sendmail) && !o->mail_to)
		return fprintf(stderr, "sitedump: --mail-from and --sendmail go with --mail-to\n"), 2;
	if ((o->mail_to && !mail_addr_ok(o->mail_to)) || (o->mail_from && !mail_addr_ok(o->mail_from)))
		return fprintf(stderr, "sitedump: --mail-to/--mail-from: an address is one line of printable ASCII\n"), 2;
	if ((o->send_cmd && !*o->send_cmd) || (o->sendmail && !*o->sendmail))
		return fprintf(stderr, "sitedump: --send-command/--sendmail: empty command\n"), 2;
	if (o->queue_max_given >= 0 && !o->queue_dir)
		return fprintf(stderr, "sitedump: --queue-max goes with --queue\n"), 2;
	if ((o->mail_to || o->send_cmd) && o->outpath)
		return fprintf(stderr, "sitedump: -o and --mail-to/--send-command: give one transport\n"), 2;
	outdir = o->outpath && strcmp(o->outpath, "-") &&
		 (o->outpath[strlen(o->outpath) - 1] == '/' || (stat(o->outpath, &qst) == 0 && S_ISDIR(qst.st_mode)));
	if (o->queue_dir && !o->mail_to && !o->send_cmd && !outdir)
		return fprintf(stderr, "sitedump: --queue needs a transport: --send-command CMD, --mail-to ADDR or -o DIR/\n"), 2;
	if (o->queue_dir && outdir && stat(o->outpath, &qst) == 0 && stat(o->queue_dir, &ost) == 0 &&
	    qst.st_dev == ost.st_dev && qst.st_ino == ost.st_ino)
		return fprintf(stderr, "sitedump: --queue and -o DIR/ must be different directories\n"), 2;
	o->queue_max = o->queue_max_given >= 0 ? o->queue_max_given : QUEUE_MAX_DEFAULT;
	if (o->send_timeout_set && !o->send_cmd && !o->mail_to)
		return fprintf(stderr, "sitedump: --send-timeout is for --send-command and --mail-to\n"), 2;
	if (!o->send_timeout_set)
		o->tr.timeout_s = QUEUE_SEND_TIMEOUT_DEFAULT;
	if (o->send_cmd) {
		o->tr.via = QUEUE_VIA_COMMAND;
		o->tr.command = o->send_cmd;
	} else if (o->mail_to) {
		o->tr.via = QUEUE_VIA_MAIL;
		o->tr.mail_to = o->mail_to;
		o->tr.mail_from = o->mail_from;
		o->tr.sendmail = o->sendmail;
	} else if (o->queue_dir) {
		o->tr.via = QUEUE_VIA_DIR;
		o->tr.dir = o->outpath;
	}
	o->has_tr = o->send_cmd || o->mail_to || o->queue_dir;
	if (o->key && !o->has_tr && (!o->outpath || !strcmp(o->outpath, "-")) && isatty(STDOUT_FILENO))
		return fprintf(stderr, "sitedump: a bundle is binary: not written to a terminal "
			       "(-o FILE, a pipe, or a transport)\n"), 2;
	return 0;
}

/* The format, what it implies for -C, and the parts asked of the source; 0 or 2. */
static int opts_check_format(struct opts *o)
{
	if (!o->fmt_given)
		o->fmt = o->config ? WRITER_NAGIOS : WRITER_CHECKRESULT;
	if (o->fmt == WRITER_NAGIOS || o->fmt == WRITER_ICINGA2)
		o->config = 1;
	if (!o->key && o->fmt == WRITER_CHECKRESULT && o->config)
		return fprintf(stderr, "sitedump: checkresult output carries state; drop -C or choose another --format\n"), 2;
	if (o->all && !o->key && o->fmt != WRITER_JSON)
		return fprintf(stderr, "sitedump: --all is for --format json and bundles (-k)\n"), 2;
	o->wo.parts = o->all ? SD_PART_STATE | SD_PART_CONFIG : o->config ? SD_PART_CONFIG : SD_PART_STATE;
	if (!o->key && o->fmt == WRITER_CHECKRESULT)
		o->wo.parts = SD_PART_RESULT;    /* ask the core only for what the text carries */
	return 0;
}

/* -s https://...[,https://...] and the --api-* options; 0 or 2. */
static int opts_select_api(struct opts *o)
{
	char *tok, *save = NULL;

	o->api = o->lo.spec && !strncmp(o->lo.spec, "https://", 8);
	if (!o->api) {
		if (o->api_user || o->api_passfile || o->api_cert || o->api_key || o->api_ca)
			return fprintf(stderr, "sitedump: --api-* options go with -s https://HOST:PORT\n"), 2;
		return 0;
	}
	if (o->hh || o->sh || o->oh)
		return fprintf(stderr, "sitedump: -H/-S/-O are Livestatus headers: not for the REST API\n"), 2;
	if (!o->api_ca)
		return fprintf(stderr, "sitedump: -s https://...: give --api-ca FILE (the server is always verified)\n"), 2;
	if (!!o->api_user != !!o->api_passfile || (!o->api_user && !o->api_cert))
		return fprintf(stderr, "sitedump: -s https://...: give --api-user NAME with --api-password-file FILE, "
				       "or --api-cert FILE\n"), 2;
	if (!(o->api_urlbuf = strdup(o->lo.spec)))
		return fprintf(stderr, "sitedump: out of memory\n"), 2;
	for (tok = strtok_r(o->api_urlbuf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (o->ao.n_urls == sizeof(o->api_urls) / sizeof(o->api_urls[0]))
			return fprintf(stderr, "sitedump: -s: at most 16 URLs\n"), 2;
		o->api_urls[o->ao.n_urls++] = tok;
	}
	o->ao = (struct api_source_opts){ .urls = o->api_urls, .n_urls = o->ao.n_urls, .user = o->api_user,
					  .password_file = o->api_passfile, .cert_file = o->api_cert,
					  .key_file = o->api_key, .ca_file = o->api_ca };
	return 0;
}

/* One source: --snapshot, --status-file, the REST API or Livestatus (the
 * default socket when none is given); 0 or 2. */
static int opts_select_source(struct opts *o)
{
	int ls_opts = o->hh || o->sh || o->oh || o->lo.spec;

	if (!!o->status_file != !!o->objects_cache)
		return fprintf(stderr, "sitedump: --status-file and --objects-cache go together\n"), 2;
	if (o->snapshot && (o->status_file || ls_opts))
		return fprintf(stderr, "sitedump: --snapshot is a source of its own: no -s/-H/-S/-O/--status-file with it\n"), 2;
	if (o->snapshot && !strcmp(o->snapshot, "-") && o->all && o->key)
		return fprintf(stderr, "sitedump: --all reads the snapshot twice: give a file, not -\n"), 2;
	if (o->status_file && o->all && !o->key)
		return fprintf(stderr, "sitedump: --all --format json needs Livestatus; export state and config separately\n"), 2;
	if (o->status_file && ls_opts)
		return fprintf(stderr, "sitedump: -s/-H/-S/-O are for Livestatus, not --status-file\n"), 2;
	if (opts_select_api(o))
		return 2;
	if (!o->snapshot && !o->status_file && !o->lo.spec && !(o->lo.spec = ls_default_spec())) {
		fprintf(stderr, "sitedump: no Livestatus socket: give -s SOCKET (or set OMD_ROOT), "
				"or --status-file and --objects-cache\n");
		return 2;
	}
	return 0;
}

/* What the options left open: site, state dir, headers, the time and the
 * source's name stamped on the output. */
static void opts_fill_defaults(struct opts *o)
{
	static char hostname[256] = "localhost";

	if (!o->site && !(o->site = getenv("OMD_SITE"))) {
		gethostname(hostname, sizeof(hostname) - 1);
		o->site = hostname;
	}
	if (!o->state_dir)
		o->state_dir = seq_default_dir();
	o->lo.host_headers = o->hh ? o->hh : "";
	o->lo.service_headers = o->sh ? o->sh : "";
	o->lo.host_only_headers = o->oh ? o->oh : "";
	o->wo.now = (time_t)sd_now();
	if (o->snapshot)
		snprintf(o->source, sizeof(o->source), "snapshot:%s", o->snapshot);
	else if (o->status_file)
		snprintf(o->source, sizeof(o->source), "statusdat:%s", o->status_file);
	else if (o->api)
		snprintf(o->source, sizeof(o->source), "icinga2-api:%s", o->lo.spec);
	else
		snprintf(o->source, sizeof(o->source), "livestatus:%s", o->lo.spec);
	o->ao.timeout_ms = o->lo.timeout_ms;
}

/* ---- main -------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static struct opts o = { .lo = { .timeout_ms = 30000 }, .wo = { .prefix = "" }, .queue_max_given = -1 };
	char **fargv = NULL;
	int rc;

	/* libsodium only for keys and bundles: its start-up costs a plain
	 * export a few milliseconds, a third of its whole budget at 5k services */
	if (argc > 1 && !strcmp(argv[1], "keygen")) {
		if (sodium_init() < 0) {
			fprintf(stderr, "sitedump: libsodium failed to initialise\n");
			return 2;
		}
		return keygen_main(argc - 1, argv + 1);
	}
	if ((rc = opts_file(&argc, &argv, &fargv)) >= 0 || (rc = opts_parse(&o, argc, argv)) >= 0 ||
	    (rc = opts_check_delivery(&o)) || (rc = opts_check_format(&o)) || (rc = opts_select_source(&o)))
		goto out;
	opts_fill_defaults(&o);
	if (o.key && sodium_init() < 0) {
		fprintf(stderr, "sitedump: libsodium failed to initialise\n");
		rc = 2;
		goto out;
	}
	rc = o.key ? run_bundle(&o) : run_plain(&o);
out:
	free(o.hh);
	free(o.sh);
	free(o.oh);
	free(o.api_urlbuf);
	if (fargv)
		optfile_free(argc, fargv);
	return rc;
}
