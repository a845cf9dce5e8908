/*
 * corewait.h - siteload and the central core's timing: reading it when
 * it is current, reloading it, and waiting for the new process.
 *
 * Why apart: the cores answer late. status.dat shows commands only after
 * its next write, a reload returns before the new process answers, and
 * until then the old one still does (what is sent to it is lost). Every
 * part of a run that reads the central or reloads it goes through here,
 * so none of them reads a picture older than its own last send.
 */
#ifndef SITEDUMP_IMPORT_COREWAIT_H
#define SITEDUMP_IMPORT_COREWAIT_H
#include "import/runctx.h"

/* 1 if the central can be read (--livestatus or --status-file) */
int corewait_have_central(const struct import_opts *o);
/* c->central, read if not yet (after status.dat caught up with our last
 * send; without either source: an empty central). site: only that site's
 * objects are needed (Livestatus reads only what carries its mark, and
 * the whole central when one of its owned hosts does not); NULL: all. */
int corewait_central(struct runctx *c, const char *site, sd_error *err);
/* site sent to the central: its objects in c->central are old now. A
 * model of one site's objects is dropped; the whole central read from
 * status.dat is kept for the other sites of the run (one parse per run,
 * not per site) and read again only for this one. */
void corewait_changed(struct runctx *c, const char *site);
/* the applier's first_send callback (ctx: the runctx): marks the time of
 * a send for corewait_central */
void corewait_sent(void *ctx);
/* --reload-command, if any: 0 it exited 0, else -1 (err) */
int corewait_reload(struct runctx *c, sd_error *err);
/* which process answers ("" unknown): compare before and after a reload */
void corewait_generation(struct runctx *c, char buf[64]);
/* After a reload: wait until a new core answers and knows the site's
 * hosts. 0 loaded, 1 the core never restarted (a config error, most
 * likely: the old core runs on and the reload is owed), 2 it is down
 * (err says so), -1 failed (err). */
int corewait_loaded(struct runctx *c, const char *site, const char *gen0, sd_error *err);
#endif
