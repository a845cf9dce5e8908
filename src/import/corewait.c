/*
 * corewait.c - reading the central when it is current, the reload, and
 * the wait for the reloaded core (corewait.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "import/corewait.h"
#include "import/sitestate.h"
#include "base/child.h"
#include "base/deadline.h"
#include "livestatus/livestatus.h"
#include "icinga2api/api.h"

int corewait_have_central(const struct import_opts *o)
{
	return o->livestatus || o->status_file || o->api;
}

/* the central core's name, in a wait's notice */
static const char *core_name(const struct import_opts *o)
{
	return (o->profile ? o->profile : core_profile(o->core))->name;
}

/*
 * status.dat lags the core by up to status_update_interval: read right
 * after siteload sent commands, it would not show them yet, and a second
 * run would send them again (duplicate downtimes and comments). So the
 * time of the last send is kept, and status.dat is read only once it was
 * written after that (bounded by --reload-wait).
 */
#define SENT_FILE ".central-sent"

void corewait_sent(void *ctx)
{
	struct runctx *c = ctx;
	char *p = sitestate_path(c->o->state_dir, SENT_FILE, "");
	char buf[32];
	sd_error e;

	if (!p || !c->o->status_file || c->o->dry_run) {
		free(p);
		return;
	}
	snprintf(buf, sizeof(buf), "%lld\n", sd_now());
	sitestate_write(p, buf, strlen(buf), 0, &e);
	free(p);
}

static void statusdat_wait(struct runctx *c)
{
	char *p = sitestate_path(c->o->state_dir, SENT_FILE, "");
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
		sd_deadline_notice(&dl, &c->o->waiter, "%s to rewrite %s after the commands sent",
				   core_name(c->o), c->o->status_file);
		if (sd_deadline_over(&dl))
			break;
		usleep(200000);
	}
}

/* Whether the site's model lacks one of the hosts it owns (their config
 * was not written by siteload, or before the mark existed): then the
 * mark cannot be trusted to find them. */
static int owned_missing(struct runctx *c, const char *site, sd_error *err)
{
	struct lines owned = { 0 };
	char *p = sitestate_path(c->o->state_dir, site, ".hosts");
	size_t i;
	int missing = 0;

	if (!p)
		return sd_fail(err, "out of memory");
	if (lines_read(p, &owned, err) < 0) {
		free(p);
		return -1;
	}
	free(p);
	for (i = 0; i < owned.n && !missing; i++)
		missing = !central_has_host(c->central, owned.v[i]);
	for (i = 0; i < c->dry_owned.n && !missing && !strcmp(c->dry_site, site); i++)
		missing = !central_has_host(c->central, c->dry_owned.v[i]);
	lines_free(&owned);
	return missing;
}

static struct central *read_central(struct runctx *c, const char *site, sd_error *err)
{
	const struct import_opts *o = c->o;

	if (o->api)
		return central_read_api(o->api, site, err);
	if (o->livestatus)
		return central_read_livestatus(o->livestatus, o->timeout_ms, site, o->core, err);
	if (o->status_file)
		return central_read_statusdat(o->status_file, o->objects_cache, o->report, o->ctx, err);
	return central_new();
}

void corewait_changed(struct runctx *c, const char *site)
{
	if (c->central && !*c->central_site && c->o->status_file && site && lines_add(&c->changed_sites, site) == 0) {
		lines_sort(&c->changed_sites);
		return;
	}
	central_free(c->central);
	c->central = NULL;
}

int corewait_central(struct runctx *c, const char *site, sd_error *err)
{
	const struct import_opts *o = c->o;
	int k;

	if (c->central && (!*c->central_site || (site && !strcmp(c->central_site, site))) &&
	    !(site ? lines_has(&c->changed_sites, site) : c->changed_sites.n > 0))
		return 0;
	lines_free(&c->changed_sites);
	central_free(c->central);
	c->central = NULL;
	if (o->status_file)
		statusdat_wait(c);
	if ((!o->livestatus && !o->api) || (site && strlen(site) >= sizeof(c->central_site)))
		site = NULL;
	if ((c->central = read_central(c, site, err)) && site && (k = owned_missing(c, site, err)) != 0) {
		central_free(c->central);
		c->central = k < 0 ? NULL : read_central(c, site = NULL, err);
	}
	snprintf(c->central_site, sizeof(c->central_site), "%s", site ? site : "");
	if (!c->central) {
		char msg[SD_ERRLEN];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		return sd_fail(err, "reading the central's state: %s", msg);
	}
	return 0;
}

/* generous: a reload returns once the core was told (systemctl), but an
 * init script may wait for the core to stop and start; only a hung one,
 * holding the state dir's lock, is stopped (SIGTERM, SIGKILL 5 s later) */
#define RELOAD_TIMEOUT_MS (600 * 1000)

/* stdin, stdout and stderr stay siteload's: a reload's output is the
 * admin's to see (and sudo's prompt on a terminal still works) */
int corewait_reload(struct runctx *c, sd_error *err)
{
	struct child_opts o = { .own_group = !child_have_tty(), .timeout_ms = RELOAD_TIMEOUT_MS, .grace_ms = 5000,
				.waiter = &c->o->waiter, .what = "the reload command" };
	const char *cmd = c->o->reload_command;
	struct child_result r;
	sd_error e;

	if (!cmd)
		return 0;
	runctx_info(c, "running reload command: %s", cmd);
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

/* The API's IcingaApplication status: "program_start:pid". */
static void api_generation(const struct api_opts *o, char buf[64])
{
	struct api_reply rep = { 0 };
	struct api *h;
	const char *ps, *pid;
	sd_error e;

	buf[0] = 0;
	if (!(h = api_open(o, &e)))
		return;
	if (api_request(h, "GET", "/v1/status/IcingaApplication", NULL, &rep, &e) == 200 &&
	    (ps = strstr(rep.body, "\"program_start\":")) && (pid = strstr(rep.body, "\"pid\":")))
		snprintf(buf, 64, "%.6f:%lld", strtod(ps + 16, NULL), (long long)strtod(pid + 6, NULL));
	api_reply_free(&rep);
	api_close(h);
}

void corewait_generation(struct runctx *c, char buf[64])
{
	struct stat st;
	sd_error e;

	buf[0] = 0;
	if (c->o->api) {
		api_generation(c->o->api, buf);
	} else if (c->o->livestatus) {
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
static int core_down(struct runctx *c, time_t since, long long waited_ms, char *why, size_t len)
{
	struct stat st;
	char gen[64];

	if (c->o->livestatus || c->o->api) {
		corewait_generation(c, gen);
		if (*gen)
			return 0;
		snprintf(why, len, "no answer on --%s %s", c->o->api ? "icinga2-api" : "livestatus",
			 c->o->api ? c->o->api->urls[0] : c->o->livestatus);
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
int corewait_loaded(struct runctx *c, const char *site, const char *gen0, sd_error *err)
{
	struct lines owned;
	char *p = sitestate_path(c->o->state_dir, site, ".hosts"), gen[64];
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
			corewait_generation(c, gen);
			restarted = *gen && strcmp(gen, gen0);
		}
		if (restarted && corewait_central(c, site, err) == 0) {
			for (i = 0, missing = 0; i < owned.n; i++)
				missing += !central_has_host(c->central, owned.v[i]);
			if (!missing)
				break;
		}
		if (restarted)
			sd_deadline_notice(&dl, &c->o->waiter, "the reloaded %s to know site %s's %zu hosts",
					   core_name(c->o), site, owned.n);
		else
			sd_deadline_notice(&dl, &c->o->waiter, "%s to restart after the reload", core_name(c->o));
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
