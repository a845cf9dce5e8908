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
 * This file is that order and the state part; the rest is in its own
 * module: the per-site files in the state dir (sitestate.h), the config
 * part (siteconfig.h, candidate.h), the reload and the waits for the core
 * (corewait.h), what the parts of a run share (runctx.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "import/import.h"
#include "import/apply.h"
#include "import/candidate.h"
#include "import/central.h"
#include "import/corewait.h"
#include "import/readback.h"
#include "import/reconcile.h"
#include "import/runctx.h"
#include "import/siteconfig.h"
#include "import/sitestate.h"
#include "bundle/keyfile.h"
#include "bundle/seal.h"
#include "bundle/seqstate.h"
#include "formats/extcmd.h"

/* One path given to the run: its bundle once read and verified, and what
 * became of it (told to the caller at the end). */
struct input {
	const char *path;
	struct bundle_reader *r;
	const struct bundle_info *info;
	int superseded;
	char site[65];          /* a trusted site the bundle named, even if it failed to verify */
	enum import_outcome outcome;
	char reason[SD_ERRLEN];
};

static void set_outcome(struct input *in, enum import_outcome oc, const char *reason)
{
	in->outcome = oc;
	snprintf(in->reason, sizeof(in->reason), "%s", reason ? reason : "");
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
	if (sitestate_imported_read(state_dir, site, &im, &err) < 0) {
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

/* ---- state ---- */

static void applier_report(void *vctx, const char *line, const char *why)
{
	struct runctx *c = vctx;
	char what[300];

	snprintf(what, sizeof(what), "command %.200s%s", line, strlen(line) > 200 ? "..." : "");
	runctx_report(c, what, why);
}

static void rec_report(void *vctx, const char *what, const char *why)
{
	runctx_note(vctx, what, why);
}

static int send_link(struct runctx *c, struct applier *a, const struct bundle_info *bi,
		     const struct reconcile_stats *st, int problems, sd_error *err)
{
	char host[300], out[1024], *enc;
	int altered, state = problems ? 1 : 0;
	long long age = c->now - bi->created;

	snprintf(host, sizeof(host), LINK_PREFIX "%s", bi->site);
	if (!c->central || !central_find(c->central, host, LINK_SERVICE)) {
		if (c->o->config_dir)
			runctx_note(c, host, "the link service is not (yet) known to the central core: not updated");
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

/* The channel for a site's results and commands (apply.h). */
static struct applier *state_applier(struct runctx *c, const char *site, sd_error *err)
{
	const struct import_opts *o = c->o;
	struct apply_opts ao = { 0 };

	ao.core = o->core;
	ao.profile = o->profile;
	ao.checkresults = o->checkresults;
	ao.command_file = o->command_file;
	ao.livestatus = o->livestatus;
	ao.api = o->api;
	ao.reload_wait_ms = o->reload_wait_ms;
	ao.check_source = site;        /* the API's check_source */
	ao.dry_run = o->dry_run;
	ao.timeout_ms = o->timeout_ms;
	ao.reap_wait_ms = o->reap_wait_ms;
	ao.report = applier_report;
	ao.report_ctx = c;
	ao.first_send = corewait_sent;
	ao.waiter = o->waiter;
	return apply_open(&ao, err);
}

/* The hosts the site owns (with --dry-run: what this run's config part
 * would have given it) and its ledger. */
static int state_sets(struct runctx *c, const char *site, const char *hostsp, const char *ledgerp,
		      struct lines *owned, struct lines *ledger, sd_error *err)
{
	size_t i;

	if (lines_read(hostsp, owned, err) < 0 || lines_read(ledgerp, ledger, err) < 0)
		return -1;
	if (c->o->dry_run && !strcmp(c->dry_site, site)) {
		lines_free(owned);
		for (i = 0; i < c->dry_owned.n; i++)
			if (lines_add(owned, c->dry_owned.v[i]) < 0)
				return sd_fail(err, "out of memory");
	}
	return 0;
}

/* The line saying what the state part did; a refusal fails the run. */
static void state_summary(struct runctx *c, const struct input *in, const struct reconcile_stats *st,
			  const struct apply_stats *as)
{
	runctx_info(c, "site %s: sequence %llu: %lld hosts, %lld services: %lld results for %lld objects, "
		    "acks %lld set %lld removed, downtimes %lld added %lld deleted, comments %lld added %lld deleted; "
		    "%lld not owned, %lld unknown, %lld refused; sent %lld commands, %lld checkresult files%s",
		    in->info->site, in->info->sequence, st->hosts, st->services, st->results, st->objects_updated,
		    st->acks_set, st->acks_removed, st->downtimes_added, st->downtimes_deleted,
		    st->comments_added, st->comments_deleted, st->not_owned, st->unknown,
		    st->refused, as->commands, as->files, c->o->dry_run ? " (dry run)" : "");
	if ((as->refused || st->not_owned || st->refused) && c->status < 1)
		c->status = 1;      /* refused, not merely unknown to the central */
}

/* 0 when the central took everything, 1 when it refused or did not show
 * something (reported; the sequence is then not recorded, so the next run
 * sends it again), -1 when it cannot be read back. */
static int state_taken(struct runctx *c, const char *site, int fd, struct reconcile_opts *ro,
		       const struct reconcile_out *rout, const struct apply_stats *as, sd_error *err)
{
	long long left = 0;
	char why[200];

	if (readback_possible(c->o) && as->results + as->commands > as->refused) {
		ro->ledger = rout->ledger;
		ro->nledger = rout->nledger;
		if ((left = readback_run(c, fd, ro, err)) < 0)
			return -1;
	}
	if (!left && !as->refused)
		return 0;
	snprintf(why, sizeof(why), "the central core did not take %lld of the results and commands sent%s: "
		 "sequence not recorded, the next run sends them again", left + as->refused,
		 as->refused ? " (it refused some)" : "");
	runctx_report(c, site, why);
	return 1;
}

static int import_state(struct runctx *c, struct input *in, sd_error *err)
{
	const struct import_opts *o = c->o;
	const char *site = in->info->site;
	struct reconcile_opts ro = { 0 };
	struct reconcile_out rout = { 0 };
	struct lines owned = { 0 }, ledger = { 0 };
	struct applier *a = NULL;
	char *hostsp = NULL, *ledgerp = NULL;
	int fd, rc = -1;

	if ((fd = bundle_reader_fd(in->r, "state.json")) < 0)
		return sd_fail(err, "bundle has no state.json");
	if (corewait_central(c, site, err) < 0)
		return -1;
	if (!(hostsp = sitestate_path(o->state_dir, site, ".hosts")) ||
	    !(ledgerp = sitestate_path(o->state_dir, site, ".ledger"))) {
		sd_fail(err, "out of memory");
		goto out;
	}
	if (state_sets(c, site, hostsp, ledgerp, &owned, &ledger, err) < 0)
		goto out;
	if (!owned.n)
		runctx_report(c, site, "owns no hosts yet: import a config bundle of this site first (sitedump -C)");
	if (!(a = state_applier(c, site, err)))
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
	state_summary(c, in, &rout.st, apply_get_stats(a));
	rc = state_taken(c, site, fd, &ro, &rout, apply_get_stats(a), err);
out:
	/* what we sent changed the central: read it again for this site */
	corewait_changed(c, site);
	apply_free(a);
	reconcile_out_free(&rout);
	lines_free(&owned);
	lines_free(&ledger);
	free(hostsp);
	free(ledgerp);
	return rc;
}

/* ---- the run ---- */

/* What the trust callback reads for: the run, and the input being read. */
struct keyctx {
	struct runctx *c;
	struct input *in;
};

/* "A, B": the ids of pks */
static void keyids_text(const struct ms_pubkey *pks, size_t n, char *buf, size_t len)
{
	char id[17];
	size_t i, k = 0;

	buf[0] = '\0';
	for (i = 0; i < n && k < len; i++) {
		ms_keyid_hex(pks[i].keynum, id);
		k += (size_t)snprintf(buf + k, len - k, "%s%s", i ? ", " : "", id);
	}
}

/*
 * The trusted key of a bundle's site: the one of SITE.pub in --trust-dir
 * whose number the signature names. SITE.pub holds two keys during a key
 * rotation (README "Key rotation"): either verifies, and the sequence
 * stays the site's, so a bundle replayed from before the rotation is
 * still refused as old. Once the site has a key here its failures are
 * its own (in->site: SITE.error); a site without one is anyone's claim.
 */
static int keyfor(void *vctx, const char *site, const unsigned char keynum[MS_KEYNUMBYTES], struct ms_pubkey *pk,
		  sd_error *err)
{
	struct keyctx *k = vctx;
	const struct import_opts *o = k->c->o;
	struct ms_pubkey pks[KEYFILE_MAX_PUBS];
	char *p, msg[SD_ERRLEN], id[17], ids[KEYFILE_MAX_PUBS * 18];
	size_t n, i;
	int rc;

	if (o->only_site && strcmp(site, o->only_site))
		return sd_fail(err, "bundle of site '%s' refused: this key may only load site '%s'", site, o->only_site);
	if (!(p = sitestate_path(o->trust_dir, site, ".pub")))
		return sd_fail(err, "out of memory");
	rc = keyfile_pubs_load(p, pks, KEYFILE_MAX_PUBS, &n, err);
	free(p);
	if (rc == -1) {         /* not there (or a link): the site is not trusted */
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sd_fail(err, "no trusted key for site '%s' (%s)", site, msg);
	}
	if (rc < 0)
		return -1;
	if (seq_site_ok(site))
		snprintf(k->in->site, sizeof(k->in->site), "%s", site);
	for (i = 0; i < n; i++)
		if (!memcmp(pks[i].keynum, keynum, MS_KEYNUMBYTES)) {
			*pk = pks[i];
			return 0;
		}
	ms_keyid_hex(keynum, id);
	keyids_text(pks, n, ids, sizeof(ids));
	return sd_fail(err, "site %s: signature made by key %s, which is not trusted for the site (%s.pub: %s)",
		       site, id, site, ids);
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

static int open_input(struct runctx *c, struct input *in, struct seal_sec *dk, sd_error *err)
{
	struct keyctx kc = { c, in };
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
	in->r = bundle_read_trusted(fd, keyfor, &kc, &c->o->lim, NULL, &vf, err);
	if (fd)
		close(fd);
	if (!in->r)
		return vf ? 1 : -1;
	in->info = bundle_reader_info(in->r);
	return 0;
}

/* A bundle that refused or failed: reported, and its outcome set. -1. */
static int step_failed(struct runctx *c, struct input *in, const char *what, enum import_outcome oc, int status,
		       const char *msg)
{
	runctx_report(c, what, msg);
	if (status && c->status < status)
		c->status = status;
	set_outcome(in, oc, msg);
	return -1;
}

/* The reload after a config change, and the wait for the core to load it.
 * The pending mark stays while the reload is owed. 0 go on, -1 stop. */
static int reload_step(struct runctx *c, struct input *in, int want_state, const char *what, const char *pending)
{
	const struct import_opts *o = c->o;
	char gen0[64] = "";
	sd_error e;
	int wl = 0;

	central_free(c->central);
	c->central = NULL;
	if (pending)
		sitestate_write(pending, "", 0, 0, &e);
	if (corewait_have_central(o) && o->reload_command)
		corewait_generation(c, gen0);
	if (corewait_reload(c, &e) < 0)
		return step_failed(c, in, what, IMPORT_FAILED, 0, e.msg);
	if (corewait_have_central(o) && (want_state || has_sink(o) || *gen0) &&
	    (wl = corewait_loaded(c, in->info->site, o->reload_command ? gen0 : "", &e)) < 0)
		return step_failed(c, in, what, IMPORT_FAILED, 0, e.msg);
	if (wl == 2)    /* down: nothing to send the state to */
		return step_failed(c, in, what, IMPORT_FAILED, 2, e.msg);
	if (wl == 1) {
		snprintf(e.msg, sizeof(e.msg), "the core did not restart within %d s of the reload "
			 "command (a config error? see the core's log); the state goes to the running core",
			 o->reload_wait_ms / 1000);
		runctx_report(c, what, e.msg);
	} else if (pending) {
		unlink(pending);
	}
	return 0;
}

/* The config part of a bundle, and the reload it calls for. 0 go on
 * (to the state part), -1 stop (reported, outcome set). */
static int config_step(struct runctx *c, struct input *in, int want_state, const char *what)
{
	const struct import_opts *o = c->o;
	char *pending = sitestate_path(o->state_dir, in->info->site, ".reload-pending");
	int changed = 0, r, rc = 0;
	sd_error e;

	if ((r = siteconfig_import(c, in->r, in->info->site, &changed, &e)) != 0) {
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

/* A config-only bundle still tells the link service it arrived (called
 * only without --dry-run). */
static void link_only(struct runctx *c, const struct bundle_info *bi, const char *what)
{
	const struct import_opts *o = c->o;
	struct applier *a;
	sd_error e;

	if (!corewait_have_central(o) || corewait_central(c, bi->site, &e) < 0 || !(a = state_applier(c, bi->site, &e))) {
		if (corewait_have_central(o))
			runctx_note(c, what, e.msg);
	} else {
		if (send_link(c, a, bi, NULL, 0, &e) < 0 || apply_finish(a, &e) < 0)
			runctx_note(c, what, e.msg);
		apply_free(a);
	}
	corewait_changed(c, bi->site);
}

/* May this bundle be imported: newer than the site's last, not too old,
 * not from the future? 0 yes (im: the site's record), -1 no (reported). */
static int admit(struct runctx *c, struct input *in, const char *what, struct imported *im)
{
	const struct bundle_info *bi = in->info;
	sd_error e;

	/* sitedump-templates.cfg is the shared file every site's objects use */
	if (!strcmp(bi->site, "templates"))
		return step_failed(c, in, what, IMPORT_REJECTED, 0,
				   "refused: the site name 'templates' is reserved (siteload's shared "
				   "sitedump-templates file)");
	if (sitestate_imported_read(c->o->state_dir, bi->site, im, &e) < 0)
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

/* Every input read and verified (before the lock: see the top). */
static void inputs_open(struct runctx *c, struct input *in, char *const *paths, int n, struct seal_sec *dk)
{
	sd_error e;
	int i, r;

	for (i = 0; i < n; i++) {
		in[i].path = paths[i];
		if ((r = open_input(c, &in[i], dk, &e))) {
			runctx_report(c, paths[i], e.msg);
			if (r < 0)
				c->status = 2;
			set_outcome(&in[i], r < 0 ? IMPORT_FAILED : IMPORT_REJECTED, e.msg);
		}
	}
}

/* A state bundle superseded by a newer one of the same site in this run
 * (in: sorted by input_cmp). */
static void inputs_supersede(struct input *in, int n)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; in[i].r && j < n && in[j].r && !strcmp(in[i].info->site, in[j].info->site); j++)
			if (strcmp(in[j].info->kind, "config") && in[j].info->sequence > in[i].info->sequence)
				in[i].superseded = 1;
}

/* One bundle, read and verified: admitted, its config part, its state
 * part, then its sequence recorded. What fails is reported and sets the
 * bundle's outcome; the run goes on with the next one. */
static void bundle_import(struct runctx *c, struct input *in)
{
	const struct import_opts *o = c->o;
	const struct bundle_info *bi = in->info;
	struct imported im;
	char what[600];
	int want_state, want_config;
	sd_error e;

	set_outcome(in, IMPORT_APPLIED, "");
	snprintf(what, sizeof(what), "%s: site %s sequence %llu", in->path, bi->site, bi->sequence);
	if (admit(c, in, what, &im) < 0)
		return;
	want_config = strcmp(bi->kind, "state") != 0;
	want_state = strcmp(bi->kind, "config") != 0 && !in->superseded;
	if (in->superseded && strcmp(bi->kind, "config")) {
		runctx_note(c, what, "state superseded by a newer bundle of the site in this run: skipped");
		if (!want_config)
			set_outcome(in, IMPORT_SKIPPED, "state superseded by a newer bundle of the site");
	}
	if (want_config && config_step(c, in, want_state, what) < 0)
		return;
	if (want_state && has_sink(o)) {
		int k = import_state(c, in, &e);
		if (k < 0) {
			runctx_report(c, what, e.msg);
			c->status = 2;
			set_outcome(in, IMPORT_FAILED, e.msg);
			return;
		}
		if (k > 0) {
			if (c->status < 1)
				c->status = 1;
			set_outcome(in, IMPORT_FAILED, "the central core did not take everything");
			return;
		}
	} else if (want_state) {
		runctx_report(c, what, "state not applied: no --checkresults, --command-file, --livestatus or --dry-run");
		set_outcome(in, IMPORT_FAILED, "state not applied: no sink");
		return;
	} else if (has_sink(o) && !o->dry_run && !strcmp(bi->kind, "config")) {
		link_only(c, bi, what);
	}
	if (o->dry_run)
		return;
	im.seq = bi->sequence;
	im.created = bi->created;
	im.at = c->now;
	snprintf(im.keyid, sizeof(im.keyid), "%s", bi->keyid);
	if (sitestate_imported_write(o->state_dir, bi->site, &im, &e) < 0) {
		runctx_report(c, what, e.msg);
		c->status = 2;
		set_outcome(in, IMPORT_FAILED, e.msg);
	}
}

/*
 * SITE.error: written for each site a bundle of the run failed for, removed
 * for each site a bundle was applied for, in the run's order (bundles that
 * did not verify come last: they are the newer news), so it holds the last
 * failure since the last success. Only for sites with a trusted key (a
 * bundle naming another site is anyone's claim). Not in a dry run.
 */
static void inputs_record_errors(struct runctx *c, const struct input *in, int n)
{
	char reason[SD_ERRLEN + 64];
	const char *base;
	sd_error e;
	int i, rc;

	for (i = 0; i < n && !c->o->dry_run; i++) {
		if (!in[i].site[0] || in[i].outcome == IMPORT_SKIPPED)
			continue;
		if (in[i].outcome == IMPORT_APPLIED) {
			rc = sitestate_error_clear(c->o->state_dir, in[i].site, &e);
		} else {
			base = strrchr(in[i].path, '/') ? strrchr(in[i].path, '/') + 1 : in[i].path;
			if (in[i].r)
				snprintf(reason, sizeof(reason), "sequence %llu: %s", in[i].info->sequence, in[i].reason);
			else
				snprintf(reason, sizeof(reason), "%s: %s", strcmp(base, "-") ? base : "stdin", in[i].reason);
			rc = sitestate_error_write(c->o->state_dir, in[i].site, c->now, reason, &e);
		}
		if (rc < 0)
			runctx_note(c, in[i].site, e.msg);
	}
}

int import_run(const struct import_opts *o, char *const *paths, int n, sd_error *err)
{
	struct runctx c = { 0 };
	struct input *in = NULL;
	struct seal_sec *dk = NULL;
	char *lockp = NULL;
	int lockfd = -1, i, rc = 2;

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
	inputs_open(&c, in, paths, n, dk);
	/* the lock only now: a slow sender (a trickling ssh client) must not
	 * hold up every other import while its bundle is still being read */
	if (!(lockp = sitestate_path(o->state_dir, ".siteload", ".lock")) ||
	    (lockfd = open(lockp, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600)) < 0 || flock(lockfd, LOCK_EX) < 0) {
		sd_fail(err, "%s: %s", lockp ? lockp : o->state_dir, lockp ? strerror(errno) : "out of memory");
		goto out;
	}
	if (candidate_restore_all(o, err) < 0)
		goto out;
	qsort(in, (size_t)n, sizeof(*in), input_cmp);
	inputs_supersede(in, n);
	for (i = 0; i < n; i++)
		if (in[i].r)    /* else its outcome was set when it was read */
			bundle_import(&c, &in[i]);
	inputs_record_errors(&c, in, n);
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
	lines_free(&c.changed_sites);
	if (lockfd >= 0)
		close(lockfd);
	free(lockp);
	return rc;
}
