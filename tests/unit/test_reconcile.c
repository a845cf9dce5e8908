/* Unit tests: result replay planning (reconcile_plan) against
 * docs/core-behaviour.md §1 (how the cores count results, and the replay).
 *
 * Two kinds of checks: a table of exact plans for the cases that section
 * spells out, and a model check: a small simulation of how each core counts
 * passive results (docs/core-behaviour.md §1) is run on the plan over a
 * grid of central and remote states; the central must end where the remote
 * is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <search.h>
#include <time.h>
#include <sodium.h>
#include "import/reconcile.h"
#include "formats/extcmd.h"
#include "formats/snapshot_json.h"
#include "tests/support/readers.h"

#define NOW 1795000000LL
#define T0  (NOW - 3000)        /* remote last_state_change */
#define LC  (NOW - 100)         /* remote last_check */
#define CLC (NOW - 2000)        /* central last_check */

static struct sd_object remote(int state, int type, int attempt, int max)
{
	struct sd_object o;

	sd_object_clear(&o);
	o.type = SD_SERVICE;
	o.host_name = "h";
	o.description = "s";
	o.has_been_checked = 1;
	o.state = state;
	o.state_type = type;
	o.current_attempt = attempt;
	o.max_check_attempts = max;
	o.last_check = (double)LC;
	o.last_state_change = T0;
	return o;
}

static struct central_obj central(int state, int type, int attempt, int max)
{
	struct central_obj c;

	memset(&c, 0, sizeof(c));
	c.host = "h";
	c.svc = "s";
	c.state = state;
	c.state_type = type;
	c.attempt = attempt;
	c.max_attempts = max;
	c.has_been_checked = 1;
	c.last_check = (double)CLC;
	return c;
}

/* "2@T0 2@LC" style, times relative to the macros (or absolute) */
static const char *fmt(const struct replay_step *s, int n)
{
	static char buf[4096];
	size_t off = 0;
	int i;

	buf[0] = 0;
	for (i = 0; i < n && off < sizeof(buf) - 64; i++) {
		long long t = s[i].ts;
		char tb[32];
		if (t == T0) snprintf(tb, sizeof(tb), "T0");
		else if (t == LC) snprintf(tb, sizeof(tb), "LC");
		else if (t == CLC) snprintf(tb, sizeof(tb), "CLC");
		else if (t == NOW) snprintf(tb, sizeof(tb), "NOW");
		else snprintf(tb, sizeof(tb), "NOW%+lld", t - NOW);
		off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%d@%s", i ? " " : "", s[i].state, tb);
	}
	return buf;
}

static const char *plan(enum sd_core core, int is_host, const struct sd_object *r,
			const struct central_obj *c, int hp)
{
	struct replay_step st[REPLAY_MAX];
	int n;

	memset(st, 0x55, sizeof(st));
	n = reconcile_plan(core, is_host, r, c, hp, NOW, st);
	assert_true(n >= 0 && n <= REPLAY_MAX);
	return fmt(st, n);
}

/* ---- the table ---- */

static void nagios_service(void **state)
{
	struct sd_object r;
	struct central_obj c;

	/* OK -> SOFT CRITICAL 3/4: three results, the first at the remote's
	 * last_state_change, the last at its last_check (docs/core-behaviour.md
	 * §1 "Replay", verified with k = 3) */
	c = central(0, 1, 1, 4);
	r = remote(2, 0, 3, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@LC 2@LC");

	/* OK -> HARD CRITICAL (max 4): max results, the hardening one at
	 * last_state_change (Nagios sets it then), then one at last_check */
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@T0 2@T0 2@T0 2@LC");

	/* soft attempt k with k >= max is hard too */
	r = remote(2, 0, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@T0 2@T0 2@T0 2@LC");

	/* SOFT 1/4 -> SOFT 1/4 needs one result only if the central was OK */
	r = remote(1, 0, 1, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "1@LC");

	/* the central's max_check_attempts counts, not the remote's */
	c = central(0, 1, 1, 2);
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@T0 2@LC");

	/* host problem: the service is hard at once */
	c = central(0, 1, 1, 4);
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 1), "2@T0 2@LC");
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 1), "2@T0 2@LC");

	/* recovery: one OK result */
	c = central(2, 1, 4, 4);
	r = remote(0, 1, 1, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "0@LC");

	/* central already hard in the same state: one result */
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@LC");
	/* hard in another problem state: stays hard, the change at T0 */
	c = central(1, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@LC");

	/* soft target below (or at) the central's soft attempt: OK first */
	c = central(2, 0, 3, 4);
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "0@T0 2@T0 2@LC");
	r = remote(2, 0, 3, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "0@T0 2@T0 2@LC 2@LC");
	/* soft target above it: the remaining attempts only */
	c = central(2, 0, 1, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@LC 2@LC");
	c = central(1, 0, 1, 4);        /* WARN 1 -> CRIT 3: the change at T0 */
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@LC");
	/* central soft 2, remote hard: the missing attempts */
	c = central(2, 0, 2, 4);
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@T0 2@LC");
	/* central hard, remote soft: OK first, then k */
	c = central(2, 1, 4, 4);
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "0@T0 2@T0 2@LC");

	/* no central object known: counted from OK */
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, NULL, 0), "2@T0 2@LC");
	/* never-checked central (Nagios: OK HARD 1) */
	c = central(0, 1, 1, 4);
	c.has_been_checked = 0;
	c.last_check = 0;
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@LC");
}

static void nagios_host(void **state)
{
	struct sd_object r = remote(1, 1, 1, 3);
	struct central_obj c = central(0, 1, 1, 3);

	r.type = SD_HOST;
	r.description = NULL;
	c.svc = NULL;
	/* passive host results are hard at once: the change at T0, last check at LC */
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "1@T0 1@LC");
	r.state_type = 0;               /* soft on the remote: still hard here */
	r.current_attempt = 2;
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "1@T0 1@LC");
	/* already DOWN: one result */
	c.state = 1;
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "1@LC");
	/* UNREACHABLE is a state of its own on Nagios (rc 2 stored as 2) */
	r.state = 2;
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "2@T0 2@LC");
	/* last_state_change == last_check: one result */
	r.last_state_change = LC;
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "2@LC");
	r.state = 0;
	assert_string_equal(plan(CORE_NAGIOS, 1, &r, &c, 0), "0@LC");
}

static void icinga_service(void **state)
{
	struct sd_object r;
	struct central_obj c;

	/* pending central (has_been_checked 0): OK prime first, then k */
	c = central(3, 0, 1, 4);
	c.has_been_checked = 0;
	c.last_check = 0;
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@T0 2@T0 2@LC");
	r = remote(2, 1, 1, 4);         /* Icinga shows hard as attempt 1 */
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@T0 2@T0 2@LC 2@LC 2@LC");
	r = remote(3, 0, 1, 4);         /* UNKNOWN 1: no state change without the prime */
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@T0 3@LC");
	r = remote(0, 1, 1, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@LC");
	/* no central object: as pending */
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, NULL, 0), "0@T0 2@T0 2@LC");

	/* OK -> HARD: max results; Icinga does not move last_state_change when
	 * it hardens, so only the first is at T0 */
	c = central(0, 1, 1, 4);
	r = remote(2, 1, 1, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@CLC 2@LC 2@LC 2@LC");
	/* ...and no result below the central's last_check: T0 < CLC is raised */
	c.last_check = (double)(T0 - 10);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@T0 2@LC 2@LC 2@LC");
	c.last_check = (double)(T0 - 10) + 0.25;        /* raised to the next second */
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@T0 2@LC 2@LC 2@LC");
	c.last_check = (double)T0 + 0.25;
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@NOW-2999 2@LC 2@LC 2@LC");

	/* a DOWN host does not harden Icinga services: host_problem ignored */
	c = central(0, 1, 1, 4);
	c.last_check = (double)(T0 - 10);
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 1), "2@T0 2@LC");

	/* already hard in the same state: one result; another state: T0 first */
	c = central(2, 1, 1, 4);
	r = remote(2, 1, 1, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@LC");
	c.state = 1;
	c.last_check = (double)(T0 - 10);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@T0 2@LC");

	/* soft target at or below the central's soft attempt: OK prime, then k,
	 * all at or after the central's last check */
	c = central(2, 0, 3, 4);
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@CLC 2@CLC 2@LC");
	/* soft 1 -> hard: the missing attempts */
	c = central(2, 0, 1, 4);
	r = remote(2, 1, 1, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "2@LC 2@LC 2@LC");
}

static void icinga_host(void **state)
{
	struct sd_object r = remote(2, 1, 1, 3);
	struct central_obj c = central(0, 1, 1, 3);

	r.type = SD_HOST;
	r.description = NULL;
	c.svc = NULL;
	c.last_check = (double)(T0 - 10);
	/* UNREACHABLE is sent as DOWN (1); hosts count attempts like services */
	assert_string_equal(plan(CORE_ICINGA2, 1, &r, &c, 0), "1@T0 1@LC 1@LC");
	r.state = 1;
	r.state_type = 0;
	r.current_attempt = 2;
	assert_string_equal(plan(CORE_ICINGA2, 1, &r, &c, 0), "1@T0 1@LC");
	/* already DOWN hard */
	c.state = 1;
	r.state = 2;
	r.state_type = 1;
	assert_string_equal(plan(CORE_ICINGA2, 1, &r, &c, 0), "1@LC");
	/* pending host (DOWN SOFT 1, not checked): OK prime */
	c.has_been_checked = 0;
	c.state_type = 0;
	c.last_check = 0;
	r.state = 1;
	r.state_type = 0;
	r.current_attempt = 1;
	assert_string_equal(plan(CORE_ICINGA2, 1, &r, &c, 0), "0@T0 1@LC");
}

static void nothing_to_send(void **state)
{
	struct sd_object r = remote(2, 0, 2, 4);
	struct central_obj c = central(0, 1, 1, 4);
	int core;

	for (core = 0; core < 2; core++) {
		/* never checked remote */
		r = remote(2, 0, 2, 4);
		r.has_been_checked = 0;
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
		assert_string_equal(plan(core, 1, &r, NULL, 0), "");
		r = remote(2, 0, 2, 4);
		r.last_check = 0;
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
		/* remote last_check not newer than the central's */
		c = central(0, 1, 1, 4);
		c.last_check = (double)LC;
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
		c.last_check = (double)LC + 0.9;
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
		c.last_check = (double)(LC + 500);
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
		r.last_check = (double)LC + 0.5;     /* same second as the central */
		c.last_check = (double)LC;
		assert_string_equal(plan(core, 0, &r, &c, 0), "");
	}
}

static void stale_central(void **state)
{
	struct sd_object r;
	struct central_obj c;

	/* the central shows our own stale-data result, newer than the remote's:
	 * results go anyway (Nagios applies them as they are), counted from the
	 * stale UNKNOWN as from any other state: hard UNKNOWN -> hard CRITICAL
	 * takes one result */
	c = central(3, 1, 4, 4);
	c.stale = 1;
	c.last_check = (double)(NOW - 50);
	r = remote(2, 1, 4, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "2@T0 2@LC");
	r = remote(0, 1, 1, 4);
	assert_string_equal(plan(CORE_NAGIOS, 0, &r, &c, 0), "0@LC");

	/* Icinga drops results older than its current one: all after its last
	 * check; the stale check ran at a fraction of the second Livestatus
	 * shows, so the first safe second is the next one */
	c.attempt = 1;
	r = remote(2, 0, 2, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@NOW-49 2@NOW-49 2@NOW-49");
	r = remote(0, 1, 1, 4);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@NOW-49");
	/* a remote result newer than the stale one keeps its own time */
	r = remote(2, 0, 2, 4);
	r.last_check = (double)(NOW - 10);
	assert_string_equal(plan(CORE_ICINGA2, 0, &r, &c, 0), "0@NOW-49 2@NOW-49 2@NOW-10");
}

static int max_ts(enum sd_core core, const struct sd_object *r, const struct central_obj *c, long long *first)
{
	struct replay_step st[REPLAY_MAX];
	int n = reconcile_plan(core, 0, r, c, 0, NOW, st), i;
	long long m = 0;

	for (i = 0; i < n; i++)
		if (st[i].ts > m)
			m = st[i].ts;
	*first = n ? st[0].ts : 0;
	return n ? (int)(m - NOW) : -1000000;
}

static void future_clamped(void **state)
{
	struct sd_object r;
	struct central_obj c = central(0, 1, 1, 4);
	int core;

	for (core = 0; core < 2; core++) {
		c.last_check = (double)(T0 - 10);
		r = remote(2, 0, 2, 4);
		r.last_check = (double)(NOW + 500);
		assert_string_equal(plan(core, 0, &r, &c, 0), "2@T0 2@NOW");
		r.last_state_change = NOW + 100;        /* after now: taken as now */
		assert_string_equal(plan(core, 0, &r, &c, 0), "2@NOW 2@NOW");
		/* a stale check that ran this second: Icinga's next safe second
		 * is one ahead, the only time allowed after now */
		c.stale = 1;
		c.state = 3;
		c.last_check = (double)NOW - 0.5;
		r.last_check = (double)LC;
		r.last_state_change = T0;
		if (core == CORE_NAGIOS)        /* hard UNKNOWN to soft: recover first */
			assert_string_equal(plan(core, 0, &r, &c, 0), "0@T0 2@T0 2@LC");
		else
			assert_string_equal(plan(core, 0, &r, &c, 0), "0@NOW+1 2@NOW+1 2@NOW+1");
		c.stale = 0;
		c.state = 0;
	}
}

/* A central whose last result lies in the future (clock skew, or a result
 * sent with a future time) is overridden by any new result in Icinga 2
 * (docs/core-behaviour.md §1, "Timestamps"), so ours need not and must not
 * be in the future (siteload never sends one, same section).
 * reconcile_plan's clamp lets Icinga's floor (ceil(central last_check) + 1
 * when stale) through unbounded, though its comment says "at most one
 * second ahead". */
static void icinga_future_central(void **state)
{
	struct sd_object r = remote(2, 0, 2, 4);
	struct central_obj c = central(3, 0, 1, 4);
	long long first;
	int ahead;

	c.stale = 1;
	c.last_check = (double)(NOW + 1000);
	ahead = max_ts(CORE_ICINGA2, &r, &c, &first);
	print_message("  central last check now+1000 (stale): latest step at now%+d\n", ahead);
	assert_true(ahead <= 1);
}

/* ---- the model ---- */

struct sim {
	int state, type, attempt, checked;
	long long lc, lsc;
};

/* Nagios 4.4.6 (docs/core-behaviour.md §1): results apply whatever their
 * time. */
static void nagios_apply(struct sim *o, int max, int is_host, int host_problem, int rc, long long ts)
{
	int changed = o->state != rc;

	o->lc = ts;
	o->checked = 1;
	if (changed)
		o->lsc = ts;
	if (rc == 0) {
		o->state = 0;
		o->type = 1;
		o->attempt = 1;
		return;
	}
	if (is_host) {                  /* passive_host_checks_are_soft=0 */
		o->state = rc;
		o->type = 1;
		o->attempt = 1;
		return;
	}
	if (host_problem) {             /* host not UP: hard at once */
		o->state = rc;
		o->type = 1;
		return;
	}
	if (o->state == 0) {
		o->attempt = 1;
		o->type = 0;
	} else if (o->type == 0) {
		o->attempt++;
	}
	o->state = rc;
	if (o->type == 0 && o->attempt >= max) {
		o->type = 1;
		o->lsc = ts;            /* hardening sets last_state_change */
	}
	if (o->type == 1)
		o->attempt = max;       /* capped at max, shown as max */
}

/* Icinga 2.13.6 (docs/core-behaviour.md §1, checkable-check.cpp). Returns 0
 * if dropped. */
static int icinga_apply(struct sim *o, int max, int rc, long long ts, long long now)
{
	int old = o->state;

	if (o->checked && ts < o->lc && o->lc <= now)
		return 0;               /* "in the past compared to ours" */
	o->lc = ts;
	o->checked = 1;
	if (rc != old)
		o->lsc = ts;
	o->state = rc;
	if (rc == 0) {
		o->type = 1;
		o->attempt = 1;
		return 1;
	}
	if (old == 0) {
		o->type = 0;
		o->attempt = 1;
	} else if (o->type == 0) {
		o->attempt++;
	}
	if (o->attempt >= max) {
		o->type = 1;
		o->attempt = 1;
	}
	return 1;
}

struct model_case {
	enum sd_core core;
	int is_host, host_problem;
	int cnull;
	struct central_obj c;
	struct sd_object r;
};

/* Runs the plan through the model; returns NULL if the central ends where
 * the remote is, else a description of the difference. */
static const char *model_check(const struct model_case *k, char *why, size_t len)
{
	struct replay_step st[REPLAY_MAX];
	const struct central_obj *c = k->cnull ? NULL : &k->c;
	const struct sd_object *r = &k->r;
	int m = c && c->max_attempts > 0 ? c->max_attempts : r->max_check_attempts;
	int n, i, s, want_type, want_attempt;
	long long prev = 0, want_lc;
	struct sim o;

	n = reconcile_plan(k->core, k->is_host, r, c, k->host_problem, NOW, st);
	if (c) {
		o.state = c->state;
		o.type = c->state_type;
		o.attempt = c->attempt;
		o.checked = c->has_been_checked;
		o.lc = (long long)c->last_check;
		if (c->last_check > (double)o.lc)
			o.lc++;         /* compare against the next whole second */
	} else {
		o.state = k->core == CORE_ICINGA2 ? (k->is_host ? 1 : 3) : 0;
		o.type = k->core == CORE_ICINGA2 ? 0 : 1;
		o.attempt = 1;
		o.checked = 0;
		o.lc = 0;
	}
	o.lsc = 0;
	for (i = 0; i < n; i++) {
		if (st[i].ts < prev) {
			snprintf(why, len, "step %d goes back in time", i);
			return why;
		}
		if (st[i].ts > NOW) {
			snprintf(why, len, "step %d in the future", i);
			return why;
		}
		if (k->core == CORE_ICINGA2 && k->is_host && st[i].state > 1) {
			snprintf(why, len, "Icinga host code %d", st[i].state);
			return why;
		}
		prev = st[i].ts;
		if (k->core == CORE_NAGIOS)
			nagios_apply(&o, m, k->is_host, k->host_problem, st[i].state, st[i].ts);
		else if (!icinga_apply(&o, m, st[i].state, st[i].ts, NOW)) {
			snprintf(why, len, "step %d dropped by Icinga (older than %lld)", i, o.lc);
			return why;
		}
	}
	if (!r->has_been_checked || n == 0)
		return NULL;            /* checked separately */
	s = r->state;
	if (k->core == CORE_ICINGA2 && k->is_host && s > 1)
		s = 1;
	if (s == 0) {
		want_type = -1;
		want_attempt = 1;
	} else if (k->core == CORE_NAGIOS && (k->is_host || k->host_problem)) {
		want_type = 1;
		want_attempt = -1;
	} else if (r->state_type == 1 || r->current_attempt >= m) {
		want_type = 1;
		want_attempt = k->core == CORE_NAGIOS ? m : 1;
	} else {
		want_type = 0;
		want_attempt = r->current_attempt;
	}
	want_lc = (long long)r->last_check < NOW ? (long long)r->last_check : NOW;
	if (k->core == CORE_ICINGA2 && c && c->last_check > 0 && want_lc < o.lc && o.lc <= NOW)
		want_lc = o.lc;
	if (o.state != s || (want_type >= 0 && o.type != want_type) ||
	    (want_attempt >= 0 && o.attempt != want_attempt) || o.lc < want_lc) {
		snprintf(why, len, "ends %d/%s/%d lc %+lld, want %d/%s/%d lc %+lld",
			 o.state, o.type ? "HARD" : "SOFT", o.attempt, o.lc - NOW,
			 s, want_type < 0 ? "any" : want_type ? "HARD" : "SOFT", want_attempt, want_lc - NOW);
		return why;
	}
	return NULL;
}

static void describe(const struct model_case *k, char *buf, size_t len)
{
	struct replay_step st[REPLAY_MAX];
	int n = reconcile_plan(k->core, k->is_host, &k->r, k->cnull ? NULL : &k->c, k->host_problem, NOW, st);

	snprintf(buf, len, "%s %s%s: central %s%d/%s/%d max %d checked %d stale %d lc %+lld; "
		 "remote %d/%s/%d max %d; plan [%s]",
		 k->core == CORE_NAGIOS ? "nagios" : "icinga2", k->is_host ? "host" : "service",
		 k->host_problem ? " (host problem)" : "", k->cnull ? "(none) " : "",
		 k->c.state, k->c.state_type ? "HARD" : "SOFT", k->c.attempt, k->c.max_attempts,
		 k->c.has_been_checked, k->c.stale, (long long)k->c.last_check - NOW,
		 k->r.state, k->r.state_type ? "HARD" : "SOFT", k->r.current_attempt, k->r.max_check_attempts,
		 fmt(st, n));
}

/* Every central state a passive object can be in, every remote target. */
static int run_grid(int stale_only, int nagios_stale)
{
	const int max = 4;
	int core, is_host, hp, ci, rs, rt, ra, fails = 0, cases = 0;

	for (core = 0; core < 2; core++)
	for (is_host = 0; is_host < 2; is_host++)
	for (hp = 0; hp < 2; hp++) {
		int nstates = is_host && core == CORE_ICINGA2 ? 2 : is_host ? 3 : 4;
		if (hp && (is_host || core == CORE_ICINGA2))
			continue;
		/* central: ci 0 none, 1 pending, 2.. checked states */
		for (ci = 0; ci < 2 + nstates * max; ci++) {
			int cs = 0, ct = 1, ca = 1, stale;
			if (ci >= 2) {
				int x = ci - 2;
				cs = x / max;
				ca = x % max + 1;       /* ca == max: hard */
				if (cs == 0 && ca > 1)
					continue;
				ct = cs == 0 || ca == max;
				if (ct && cs)
					ca = core == CORE_NAGIOS ? max : 1;
				if (is_host && core == CORE_NAGIOS && cs) {
					if (ca != max && ca != 1)
						continue;
					ct = 1;
					ca = 1;
				}
			}
			for (stale = 0; stale < 2; stale++) {
				if (stale != stale_only && stale_only >= 0)
					continue;
				if (stale && (ci < 2 || is_host))
					continue;
				if (stale && cs != 3 && !(core == CORE_ICINGA2 && is_host))
					continue;       /* the stale check returns UNKNOWN */
				if (stale && (core == CORE_NAGIOS) != nagios_stale)
					continue;
				for (rs = 0; rs < nstates + (is_host && core == CORE_ICINGA2); rs++)
				for (rt = 0; rt < 2; rt++)
				for (ra = 1; ra <= max; ra++) {
					struct model_case k;
					char why[256], desc[1024];
					int clc;
					if (rs == 0 && (rt == 0 || ra > 1))
						continue;
					if (rt == 1 && ra > 1 && core == CORE_ICINGA2)
						continue;
					if (rt == 0 && ra == max)
						continue;
					for (clc = 0; clc < 3; clc++) {
						if (!stale && clc == 2)
							continue;
						memset(&k, 0, sizeof(k));
						k.core = core;
						k.is_host = is_host;
						k.host_problem = hp;
						k.cnull = ci == 0;
						k.c = central(cs, ct, ca, max);
						if (is_host)
							k.c.svc = NULL;
						if (ci == 1) {
							k.c.has_been_checked = 0;
							k.c.last_check = 0;
							if (core == CORE_ICINGA2) {
								k.c.state = is_host ? 1 : 3;
								k.c.state_type = 0;
							}
						}
						k.c.stale = stale;
						/* central last check: before T0, between T0 and
						 * LC (fractional), after LC (stale only) */
						if (ci >= 2)
							k.c.last_check = clc == 0 ? (double)(T0 - 500)
								       : clc == 1 ? (double)(T0 + 700) + 0.5
								       : (double)(NOW - 20);
						k.r = remote(rs, rt, ra, max);
						if (is_host) {
							k.r.type = SD_HOST;
							k.r.description = NULL;
						}
						cases++;
						if (model_check(&k, why, sizeof(why))) {
							if (fails++ < 8) {
								describe(&k, desc, sizeof(desc));
								print_message("  %s\n    -> %s\n", desc, why);
							}
						}
					}
				}
			}
		}
	}
	print_message("  %d cases, %d where the central does not end at the remote's state\n", cases, fails);
	return fails;
}

static void model_grid(void **state)
{
	/* non-stale centrals, and Icinga 2 stale ones */
	assert_int_equal(run_grid(0, 0), 0);
	assert_int_equal(run_grid(1, 0), 0);
}

/* A Nagios central showing siteload's stale result is really in UNKNOWN
 * (SOFT or HARD: the stale check is an ordinary active check returning 3).
 * reconcile_plan treats it like a pending OK object (chk = 0, cur = 0, no
 * prime), so a soft remote problem is counted on top of the UNKNOWN. */
static void nagios_stale_soft(void **state)
{
	struct sd_object r = remote(2, 0, 2, 4);
	struct central_obj c = central(3, 1, 4, 4);
	struct model_case k;
	char why[256];

	c.stale = 1;
	c.last_check = (double)(NOW - 20);
	memset(&k, 0, sizeof(k));
	k.core = CORE_NAGIOS;
	k.c = c;
	k.r = r;
	/* HARD UNKNOWN + 2 CRIT -> HARD CRITICAL, not SOFT CRITICAL 2 */
	if (model_check(&k, why, sizeof(why)))
		print_message("  central stale HARD UNKNOWN, remote SOFT CRITICAL 2/4, plan [%s]: %s\n",
			      plan(CORE_NAGIOS, 0, &k.r, &k.c, 0), why);
	k.c.state_type = 0;
	k.c.attempt = 1;
	/* SOFT UNKNOWN 1 + 2 CRIT -> SOFT CRITICAL 3, not 2 */
	if (model_check(&k, why, sizeof(why)))
		print_message("  central stale SOFT UNKNOWN 1, remote SOFT CRITICAL 2/4, plan [%s]: %s\n",
			      plan(CORE_NAGIOS, 0, &k.r, &k.c, 0), why);
	assert_int_equal(run_grid(1, 1), 0);
}

static unsigned rnd_seed = 12345;

static int rnd(int k)
{
	rnd_seed = rnd_seed * 1103515245u + 12345u;
	return (int)((rnd_seed >> 8) % (unsigned)k);
}

/* Whatever the inputs: a bounded count, states the core takes, times
 * never decreasing and never after now. */
static void invariants_random(void **state)
{
	int i, j;

	for (i = 0; i < 20000; i++) {
		struct sd_object r;
		struct central_obj c;
		struct replay_step st[REPLAY_MAX];
		int core = rnd(2), is_host = rnd(2), n, rs = rnd(4), rt = rnd(2), ra = rnd(70) - 2, rm = rnd(70) - 2, use_c;
		long long prev = 0, limit;

		r = remote(rs, rt, ra, rm);
		r.has_been_checked = rnd(8) != 0;
		r.last_check = (double)(NOW - 5000 + rnd(10000));
		r.last_check += rnd(1000) / 1000.0;
		r.last_state_change = NOW - 8000 + rnd(16000);
		rs = rnd(4);
		rt = rnd(2);
		ra = rnd(70) - 2;
		rm = rnd(70) - 2;
		c = central(rs, rt, ra, rm);
		c.has_been_checked = rnd(4) != 0;
		c.stale = rnd(4) == 0;
		if (rnd(5)) {
			c.last_check = (double)(NOW - 5000 + rnd(10000));
			c.last_check += rnd(1000) / 1000.0;
		} else {
			c.last_check = 0;
		}
		if (rnd(3) == 0 && c.last_check > (double)NOW)
			c.last_check = (double)NOW - rnd(1000) / 1000.0;  /* this second */
		use_c = rnd(6) != 0;
		n = reconcile_plan(core, is_host, &r, use_c ? &c : NULL, rnd(2), NOW, st);
		assert_true(n >= 0 && n <= REPLAY_MAX);
		if (!r.has_been_checked)
			assert_int_equal(n, 0);
		/* never in the future; over a stale result in Icinga, at most the
		 * second after it (the stale check ran at a fraction of a second) */
		limit = NOW;
		if (use_c && c.stale && core == CORE_ICINGA2 && c.last_check > (double)(NOW - 1) &&
		    c.last_check <= (double)NOW)
			limit = NOW + 1;
		if (c.last_check > (double)NOW && use_c && c.stale && core == CORE_ICINGA2)
			continue;       /* icinga_future_central */
		for (j = 0; j < n; j++) {
			assert_true(st[j].ts >= prev);
			assert_true(st[j].ts <= limit);
			assert_true(st[j].state >= 0 && st[j].state <= 3);
			if (core == CORE_ICINGA2 && is_host)
				assert_true(st[j].state <= 1);
			prev = st[j].ts;
		}
	}
}

/* Icinga: no step below the central's last check, whatever the inputs */
static void icinga_never_below_central(void **state)
{
	int rs, rt, ra, cs, ct, ca, stale;

	for (rs = 0; rs < 4; rs++)
	for (rt = 0; rt < 2; rt++)
	for (ra = 1; ra <= 5; ra++)
	for (cs = 0; cs < 4; cs++)
	for (ct = 0; ct < 2; ct++)
	for (ca = 1; ca <= 4; ca++)
	for (stale = 0; stale < 2; stale++) {
		struct sd_object r = remote(rs, rt, ra, 4);
		struct central_obj c = central(cs, ct, ca, 4);
		struct replay_step st[REPLAY_MAX];
		int n, i;

		c.stale = stale;
		c.last_check = stale ? (double)(NOW - 10) + 0.5 : (double)(T0 + 100) + 0.5;
		n = reconcile_plan(CORE_ICINGA2, 0, &r, &c, 0, NOW, st);
		for (i = 0; i < n; i++)
			assert_true((double)st[i].ts >= c.last_check);
	}
}

/* ---- reconcile_run against limits (extcmd.h): a hostile remote ---- */

#define Y2300 10382734800LL     /* 2300-01-01 */
#define MiB (1024 * 1024)

struct bundle {                 /* the remote's state member */
	struct sd_object objs[4];
	size_t nobjs;
	struct sd_downtime dts[256];
	size_t ndts;
	struct sd_comment cms[256];
	size_t ncms;
};

/* The state.json member as sitedump writes it, in a temp file. */
static int write_state(const struct bundle *b)
{
	struct writer_opts wo = { .parts = SD_PART_STATE };
	struct sd_meta m = { .site = "r", .source = "test", .created = NOW, .parts = SD_PART_STATE };
	FILE *f = tmpfile();
	struct sd_sink *s;
	sd_error err = { "" };
	size_t i;

	assert_non_null(f);
	assert_non_null(s = snapshot_json_writer_new(f, &wo));
	assert_int_equal(s->begin(s->ctx, &m, &err), 0);
	for (i = 0; i < b->nobjs; i++)
		assert_int_equal(s->object(s->ctx, &b->objs[i], &err), 0);
	for (i = 0; i < b->ncms; i++)
		assert_int_equal(s->comment(s->ctx, &b->cms[i], &err), 0);
	for (i = 0; i < b->ndts; i++)
		assert_int_equal(s->downtime(s->ctx, &b->dts[i], &err), 0);
	assert_int_equal(s->end(s->ctx, &err), 0);
	snapshot_json_writer_free(s);
	assert_int_equal(fflush(f), 0);
	return dup(fileno(f));          /* the FILE's own fd goes with fclose */
}

static void bundle_service(struct bundle *b, const char *host, const char *svc)
{
	struct sd_object *o = &b->objs[b->nobjs++];

	sd_object_clear(o);
	o->type = SD_SERVICE;
	o->host_name = (char *)host;
	o->description = (char *)svc;
	o->has_been_checked = 0;        /* no results unless a test wants them */
}

static struct sd_downtime *bundle_downtime(struct bundle *b, long long start, long long end, const char *comment)
{
	struct sd_downtime *d = &b->dts[b->ndts];

	memset(d, 0, sizeof(*d));
	d->id = (long long)++b->ndts;
	d->host_name = "h";
	d->service_description = "s";
	d->start_time = start;
	d->end_time = end;
	d->fixed = 1;
	d->author = "alice";
	d->comment = (char *)comment;
	d->entry_time = NOW - 10;
	return d;
}

static struct sd_comment *bundle_comment(struct bundle *b, const char *author, const char *comment, long long t)
{
	struct sd_comment *c = &b->cms[b->ncms];

	memset(c, 0, sizeof(*c));
	c->id = (long long)++b->ncms;
	c->host_name = "h";
	c->service_description = "s";
	c->entry_type = 1;
	c->author = (char *)author;
	c->comment = (char *)comment;
	c->entry_time = t;
	return c;
}

static int cobj_cmp(const void *a, const void *b)      /* central.c's order */
{
	const struct central_obj *x = a, *y = b;
	int r = strcmp(x->host, y->host);

	if (r)
		return r;
	if (!x->svc || !y->svc)
		return !!x->svc - !!y->svc;
	return strcmp(x->svc, y->svc);
}

static struct central *central_with(const char *host, const char *svc)
{
	struct central *c = central_new();
	struct central_obj *o = calloc(1, sizeof(*o));

	assert_true(c && o);
	o->host = strdup(host);
	o->svc = svc ? strdup(svc) : NULL;
	o->state_type = 1;
	o->attempt = 1;
	o->max_attempts = 3;
	o->has_been_checked = 1;
	o->last_check = (double)(NOW - 5000);
	assert_non_null(tsearch(o, &c->root, cobj_cmp));
	c->nobjs++;
	return c;
}

static void central_item_add(struct central *c, int downtime, long long id, const char *svc, long long start,
			     long long end, long long duration, const char *author, const char *comment)
{
	struct central_item **v = downtime ? &c->downtimes : &c->comments;
	size_t *n = downtime ? &c->ndowntimes : &c->ncomments;
	struct central_item *it;

	assert_non_null(*v = realloc(*v, (*n + 1) * sizeof(**v)));
	it = &(*v)[(*n)++];
	memset(it, 0, sizeof(*it));
	it->id = id;
	it->host = strdup("h");
	it->svc = svc ? strdup(svc) : NULL;
	it->start = start;
	it->end = end;
	it->duration = duration;
	it->fixed = 1;
	it->entry_time = NOW;
	it->author = strdup(author);
	it->comment = strdup(comment);
}

struct runres {
	char *cmds;                     /* the dry run's output */
	size_t ncmds_len;
	char reports[8192];
	int nreports;
	double cpu;                     /* reconcile_run's CPU time */
	struct reconcile_out out;
};

static void collect(void *ctx, const char *what, const char *why)
{
	struct runres *rr = ctx;
	size_t l = strlen(rr->reports);

	rr->nreports++;
	snprintf(rr->reports + l, sizeof(rr->reports) - l, "%.200s: %.300s\n", what, why);
}

static double cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One import of the bundle into central c (dry run: the commands as text). */
static void run_once(enum sd_core core, const struct bundle *b, struct central *c, char **ledger, size_t nledger,
		     struct runres *rr)
{
	char *owned[] = { "h" };
	struct reconcile_opts ro = { 0 };
	struct apply_opts ao = { 0 };
	struct applier *a;
	sd_error err = { "" };
	FILE *f;
	int fd = write_state(b);

	memset(rr, 0, sizeof(*rr));
	assert_non_null(f = open_memstream(&rr->cmds, &rr->ncmds_len));
	ao.core = core;
	ao.dry_run = f;
	assert_non_null(a = apply_open(&ao, &err));
	ro.core = core;
	ro.site = "r";
	ro.prefix = "";
	ro.now = NOW;
	ro.owned = owned;
	ro.nowned = 1;
	ro.ledger = ledger;
	ro.nledger = nledger;
	ro.report = collect;
	ro.report_ctx = rr;
	rr->cpu = cpu_now();
	if (reconcile_run(fd, c, &ro, a, &rr->out, &err) < 0)
		fail_msg("reconcile_run: %s", err.msg);
	rr->cpu = cpu_now() - rr->cpu;
	assert_int_equal(apply_finish(a, &err), 0);
	apply_free(a);
	fclose(f);
	close(fd);
}

static void runres_free(struct runres *rr)
{
	free(rr->cmds);
	reconcile_out_free(&rr->out);
}

static int count(const char *hay, const char *needle)
{
	int n = 0;

	for (; (hay = strstr(hay, needle)); hay++)
		n++;
	return n;
}

/* The central takes the commands the way the cores do
 * (docs/core-behaviour.md §4, §5):
 * a downtime or comment per command, trailing spaces of the last field
 * stripped, and Icinga 2's Livestatus shows an end after 2^31-1 as
 * -2147483648. Deletions remove by id. */
static void central_take(enum sd_core core, struct central *c, const char *cmds, long long *next_id)
{
	char *copy = strdup(cmds), *line, *save = NULL, *f[12];
	long long ts;
	sd_error err;
	size_t i;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int n = extcmd_parse(line, &ts, f, 12, &err), svc;
		if (n < 1)
			continue;
		svc = !strncmp(f[0], "SCHEDULE_SVC", 12) || !strncmp(f[0], "ADD_SVC", 7);
		if (!strcmp(f[0], "SCHEDULE_SVC_DOWNTIME") || !strcmp(f[0], "SCHEDULE_HOST_DOWNTIME")) {
			char **t = f + 2 + svc;         /* start end fixed trigger duration author comment */
			long long end = atoll(t[1]);
			size_t l = strlen(t[6]);
			while (l && t[6][l - 1] == ' ')
				t[6][--l] = 0;
			if (core == CORE_ICINGA2 && end > 2147483647LL)
				end = -2147483648LL;
			central_item_add(c, 1, (*next_id)++, svc ? f[2] : NULL, atoll(t[0]), end, atoll(t[4]), t[5], t[6]);
		} else if (!strcmp(f[0], "ADD_SVC_COMMENT") || !strcmp(f[0], "ADD_HOST_COMMENT")) {
			char **t = f + 2 + svc;         /* persistent author comment */
			size_t l = strlen(t[2]);
			while (l && t[2][l - 1] == ' ')
				t[2][--l] = 0;
			central_item_add(c, 0, (*next_id)++, svc ? f[2] : NULL, 0, 0, 0, t[1], t[2]);
		} else if (!strncmp(f[0], "DEL_", 4)) {
			int dt = strstr(f[0], "DOWNTIME") != NULL;
			struct central_item *v = dt ? c->downtimes : c->comments;
			size_t *nv = dt ? &c->ndowntimes : &c->ncomments;
			for (i = 0; i < *nv; i++)
				if (v[i].id == atoll(f[1])) {
					free(v[i].host); free(v[i].svc); free(v[i].author); free(v[i].comment);
					v[i] = v[--*nv];
					break;
				}
		}
	}
	free(copy);
}

/* A downtime ending in 2300, imported five times: one downtime on the
 * central, the same end on every run, nothing sent after the first. */
static void downtime_2300_five_imports(void **state)
{
	int core;

	for (core = 0; core < 2; core++) {
		struct bundle b = { .nobjs = 0 };
		struct central *c = central_with("h", "s");
		char **ledger = NULL;
		size_t nledger = 0;
		long long id = 1;
		int i;

		bundle_service(&b, "h", "s");
		bundle_downtime(&b, NOW - 60, Y2300, "until 2300");
		for (i = 0; i < 5; i++) {
			struct runres rr;
			run_once(core, &b, c, ledger, nledger, &rr);
			assert_int_equal(count(rr.cmds, "SCHEDULE_SVC_DOWNTIME"), i == 0);
			if (i == 0)
				assert_non_null(strstr(rr.cmds, ";1794999940;2147483647;1;0;352483707;alice;until 2300"));
			assert_int_equal(count(rr.cmds, "DEL_"), 0);
			/* the clamp is reported every time: the central shows 2038 */
			assert_non_null(strstr(rr.reports, "downtime 1 on service 'h;s': end 10382734800 after 2038"));
			assert_int_equal(rr.out.st.cut, 1);
			central_take(core, c, rr.cmds, &id);
			{
				struct reconcile_out prev;
				memset(&prev, 0, sizeof(prev));
				prev.ledger = ledger;
				prev.nledger = nledger;
				reconcile_out_free(&prev);
			}
			ledger = rr.out.ledger;         /* the next run's ledger */
			nledger = rr.out.nledger;
			rr.out.ledger = NULL;
			rr.out.nledger = 0;
			runres_free(&rr);
			if (i < 4)
				continue;
			assert_int_equal(c->ndowntimes, 1);
			assert_true(c->downtimes[0].end == 2147483647LL);       /* both cores show it as sent */
		}
		{
			struct reconcile_out o;
			memset(&o, 0, sizeof(o));
			o.ledger = ledger;
			o.nledger = nledger;
			reconcile_out_free(&o);
		}
		central_free(c);
	}
}

/* The key reconcile.c's earlier versions put in the ledger for a fixed
 * downtime (BLAKE2b-128 of its parts, NUL-separated, then the numbers). */
static void legacy_key(char out[33], const char *svc, long long start, long long end, const char *author,
		       const char *comment)
{
	const char *p[5] = { "D", "h", svc, author, comment };
	long long nums[4] = { start, end, 1, 0 };
	crypto_generichash_state st;
	unsigned char h[16];
	char buf[32];
	int i;

	crypto_generichash_init(&st, NULL, 0, sizeof(h));
	for (i = 0; i < 5; i++)
		crypto_generichash_update(&st, (const unsigned char *)p[i], strlen(p[i]) + 1);
	for (i = 0; i < 4; i++) {
		int l = snprintf(buf, sizeof(buf), "%lld", nums[i]);
		crypto_generichash_update(&st, (const unsigned char *)buf, (size_t)l + 1);
	}
	crypto_generichash_final(&st, h, sizeof(h));
	sodium_bin2hex(out, 33, h, sizeof(h));
}

/* Earlier versions sent the 2300 end as it was: an Icinga 2 central shows
 * each copy with end -2147483648, and the ledger has the unclamped key.
 * Now: nothing is added, and the extra copies (ours, by the ledger) go. */
static void downtime_bogus_end_on_central(void **state)
{
	struct bundle b = { .nobjs = 0 };
	char key[33], *ledger[1] = { key };
	int with_ledger;

	bundle_service(&b, "h", "s");
	bundle_downtime(&b, NOW - 60, Y2300, "until 2300");
	legacy_key(key, "s", NOW - 60, Y2300, "alice", "until 2300");
	for (with_ledger = 0; with_ledger < 2; with_ledger++) {
		struct central *c = central_with("h", "s");
		struct runres rr;
		int i;

		for (i = 0; i < 5; i++)
			central_item_add(c, 1, 10 + i, "s", NOW - 60, -2147483648LL, 0, "alice", "until 2300");
		run_once(CORE_ICINGA2, &b, c, ledger, (size_t)with_ledger, &rr);
		assert_int_equal(count(rr.cmds, "SCHEDULE_"), 0);
		/* not ours without the ledger: the central's users' are never touched */
		assert_int_equal(count(rr.cmds, "DEL_SVC_DOWNTIME"), with_ledger ? 4 : 0);
		assert_int_equal(rr.out.nledger, (size_t)with_ledger);
		runres_free(&rr);
		central_free(c);
	}
}

/* Times at and over the limits (the reader takes 0..9e15). */
static void downtime_times(void **state)
{
	struct bundle b = { .nobjs = 0 };
	struct central *c = central_with("h", "s");
	struct runres rr;

	bundle_service(&b, "h", "s");
	bundle_downtime(&b, 0, NOW + 3600, "start 0");
	bundle_downtime(&b, NOW - 60, 2147483647LL, "end 2^31-1");
	bundle_downtime(&b, NOW - 60, 2147483648LL, "end 2^31");
	bundle_downtime(&b, NOW - 60, 8000000000000000LL, "end 8e15");
	bundle_downtime(&b, 2147483648LL, 8000000000000000LL, "start 2^31");
	bundle_downtime(&b, NOW - 60, NOW + 3600, "flexible 8e15")->fixed = 0;
	b.dts[b.ndts - 1].duration = 8000000000000000LL;
	run_once(CORE_NAGIOS, &b, c, NULL, 0, &rr);
	assert_non_null(strstr(rr.cmds, ";946684800;1795003600;1;0;848318800;alice;start 0\n"));
	assert_non_null(strstr(rr.cmds, ";1794999940;2147483647;1;0;352483707;alice;end 2^31-1\n"));
	assert_non_null(strstr(rr.cmds, ";1794999940;2147483647;1;0;352483707;alice;end 2^31\n"));
	assert_non_null(strstr(rr.cmds, ";1794999940;2147483647;1;0;352483707;alice;end 8e15\n"));
	assert_non_null(strstr(rr.cmds, ";1794999940;1795003600;0;0;2147483647;alice;flexible 8e15\n"));
	assert_null(strstr(rr.cmds, "start 2^31"));
	assert_int_equal(count(rr.cmds, "SCHEDULE_SVC_DOWNTIME"), 5);
	assert_non_null(strstr(rr.reports, "downtime 1 on service 'h;s': start 0 before 2000"));
	assert_null(strstr(rr.reports, "downtime 2 "));         /* 2^31-1 is within */
	assert_non_null(strstr(rr.reports, "downtime 5 on service 'h;s': starts after 2038"));
	assert_non_null(strstr(rr.reports, "downtime 6 on service 'h;s': duration 8000000000000000 over 68 years"));
	assert_int_equal(rr.out.st.refused, 1);
	assert_int_equal(rr.out.st.cut, 4);
	runres_free(&rr);
	central_free(c);
}

/* More comments than the per-object cap: the earliest 100 are sent (the
 * same ones every time), one report for the object, nothing the next time. */
static void comments_over_cap(void **state)
{
	static char texts[150][16];
	struct bundle b = { .nobjs = 0 };
	struct central *c = central_with("h", "s");
	struct runres rr;
	long long id = 1;
	int i;

	bundle_service(&b, "h", "s");
	for (i = 0; i < 150; i++) {
		snprintf(texts[i], sizeof(texts[i]), "note %03d", i);
		bundle_comment(&b, "bob", texts[i], NOW - 1000 + (i * 7) % 150);    /* not in time order */
	}
	for (i = 0; i < 101; i++)
		bundle_downtime(&b, NOW - 60 + i, NOW + 3600, "dt");
	run_once(CORE_ICINGA2, &b, c, NULL, 0, &rr);
	assert_int_equal(count(rr.cmds, "ADD_SVC_COMMENT"), EXTCMD_ITEMS_MAX);
	assert_int_equal(count(rr.cmds, "SCHEDULE_SVC_DOWNTIME"), EXTCMD_ITEMS_MAX);
	/* kept: the 100 earliest entry times */
	for (i = 0; i < 150; i++) {
		long long t = NOW - 1000 + (i * 7) % 150;
		assert_int_equal(strstr(rr.cmds, texts[i]) != NULL, t < NOW - 1000 + 100);
	}
	assert_null(strstr(rr.cmds, ";1795000040;"));   /* the latest downtime start */
	assert_non_null(strstr(rr.reports, "service 'h;s': 150 comments, over siteload's limit of 100 per object: "
			       "the 50 latest (by entry time) refused"));
	assert_non_null(strstr(rr.reports, "service 'h;s': 101 downtimes, over siteload's limit of 100 per object: "
			       "the 1 latest (by start) refused"));
	assert_int_equal(rr.nreports, 2);
	assert_int_equal(rr.out.st.refused, 51);
	central_take(CORE_ICINGA2, c, rr.cmds, &id);
	{
		struct runres rr2;
		run_once(CORE_ICINGA2, &b, c, rr.out.ledger, rr.out.nledger, &rr2);
		if (*rr2.cmds)
			print_message("%s%.2000s", rr2.reports, rr2.cmds);
		assert_string_equal(rr2.cmds, "");
		runres_free(&rr2);
	}
	runres_free(&rr);
	central_free(c);
}

static char *big_text(size_t n, const char *tail)
{
	char *s = malloc(n + 1);
	size_t i;

	assert_non_null(s);
	for (i = 0; i < n; i++)
		s[i] = "long comment "[i % 13];
	memcpy(s + n - strlen(tail), tail, strlen(tail));
	s[n] = 0;
	return s;
}

/* A 64 MiB comment, and 4 MiB texts everywhere else: cut, quickly, and
 * reported per object and item; the next run with the central's (cut)
 * copies sends nothing. */
static void big_texts(void **state)
{
	char *huge = big_text(64 * MiB, "END"), *big = big_text(4 * MiB, "END");
	char *utf8 = big_text(EXTCMD_COMMENT_MAX + 1, "");
	struct bundle b = { .nobjs = 0 };
	struct central *c = central_with("h", "s");
	struct sd_object *o;
	struct runres rr;
	long long id = 1;
	double t;
	char *line;

	/* a 2-byte character across the comment's cut */
	memcpy(utf8 + EXTCMD_COMMENT_MAX - 1, "\xc3\xa4", 2);
	bundle_service(&b, "h", "s");
	o = &b.objs[0];
	o->has_been_checked = 1;
	o->state = 2;
	o->state_type = 1;
	o->current_attempt = 3;
	o->max_check_attempts = 3;
	o->last_check = (double)(NOW - 100);
	o->last_state_change = NOW - 200;
	o->plugin_output = big;
	o->long_plugin_output = big;
	o->perf_data = big;
	o->acknowledged = 1;
	o->acknowledgement_type = 2;
	bundle_comment(&b, big, big, NOW - 50)->entry_type = 4;
	bundle_comment(&b, "bob", huge, NOW - 40);
	bundle_comment(&b, "carol", utf8, NOW - 30);
	bundle_downtime(&b, NOW - 60, NOW + 3600, big);
	run_once(CORE_ICINGA2, &b, c, NULL, 0, &rr);
	t = rr.cpu;
	print_message("  a 64 MiB comment; 4 MiB output, long output, perf data, ack author and comment, downtime "
		      "comment: reconcile_run %.3f s CPU (the state read twice)\n", t);
	assert_true(t < 3.0);   /* 0.6 s here; the bound allows a loaded machine or a sanitizer build */
	for (line = rr.cmds; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		size_t len = strcspn(line, "\n");
		/* a result: the three parts and their escapes; any other: two
		 * names, an author, a comment and numbers, under PIPE_BUF */
		assert_true(len < (strstr(line, "CHECK_RESULT") && strstr(line, "CHECK_RESULT") < line + len
				   ? 3 * (EXTCMD_OUTPUT_MAX + EXTCMD_PERF_MAX + EXTCMD_LONG_OUTPUT_MAX) + 100 : 4096));
	}
	assert_int_equal(count(rr.cmds, "ACKNOWLEDGE_SVC_PROBLEM"), 1);
	assert_int_equal(count(rr.cmds, "ADD_SVC_COMMENT"), 2);
	assert_int_equal(count(rr.cmds, "SCHEDULE_SVC_DOWNTIME"), 1);
	assert_null(strstr(rr.cmds, "END"));
	/* the 2-byte character is left out whole */
	assert_non_null(strstr(rr.cmds, ";carol;"));
	assert_int_equal(strlen(strstr(rr.cmds, ";carol;") + 7) - strlen(strchr(strstr(rr.cmds, ";carol;"), '\n')),
			 EXTCMD_COMMENT_MAX - 1);
	assert_non_null(strstr(rr.reports, "service 'h;s': plugin output, perf data, long output cut to siteload's limit"));
	assert_non_null(strstr(rr.reports, "ack on service 'h;s': author and comment cut"));
	assert_non_null(strstr(rr.reports, "comment 2 on service 'h;s': comment cut"));
	assert_non_null(strstr(rr.reports, "comment 3 on service 'h;s': comment cut"));
	assert_non_null(strstr(rr.reports, "downtime 1 on service 'h;s': comment cut"));
	assert_int_equal(rr.out.st.cut, 5);
	central_take(CORE_ICINGA2, c, rr.cmds, &id);
	{
		struct runres rr2;
		c->downtimes[0].end = NOW + 3600;
		run_once(CORE_ICINGA2, &b, c, rr.out.ledger, rr.out.nledger, &rr2);
		assert_int_equal(count(rr2.cmds, "SCHEDULE_"), 0);
		assert_int_equal(count(rr2.cmds, "_COMMENT"), 0);
		runres_free(&rr2);
	}
	runres_free(&rr);
	central_free(c);
	free(huge);
	free(big);
	free(utf8);
}

/* Names: 255 bytes are addressed, 256 refused with the reason. */
static void long_names(void **state)
{
	char h255[256], s256[257];
	struct bundle b = { .nobjs = 0 };
	struct central *c;
	struct runres rr;
	char *owned[1];

	memset(h255, 'h', 255);
	h255[255] = 0;
	memset(s256, 's', 256);
	s256[256] = 0;
	assert_null(extcmd_name_problem(h255));
	assert_non_null(strstr(extcmd_name_problem(s256), "255 bytes"));
	c = central_with("h", s256);
	bundle_service(&b, "h", s256);
	b.objs[0].has_been_checked = 1;
	b.objs[0].last_check = (double)(NOW - 100);
	bundle_downtime(&b, NOW - 60, NOW + 60, "x")->service_description = s256;
	run_once(CORE_NAGIOS, &b, c, NULL, 0, &rr);
	(void)owned;
	assert_string_equal(rr.cmds, "");
	assert_non_null(strstr(rr.reports, "longer than 255 bytes"));
	assert_int_equal(rr.out.st.refused, 1);
	runres_free(&rr);
	central_free(c);
}

/* A result from before 2000 is refused, not sent as the central's last check. */
static void ancient_result(void **state)
{
	struct bundle b = { .nobjs = 0 };
	struct central *c = central_with("h", "s");
	struct runres rr;

	c->nobjs = 1;
	((struct central_obj *)*(void **)c->root)->last_check = 0;
	bundle_service(&b, "h", "s");
	b.objs[0].has_been_checked = 1;
	b.objs[0].state = 2;
	b.objs[0].last_check = 1.0;
	run_once(CORE_NAGIOS, &b, c, NULL, 0, &rr);
	assert_string_equal(rr.cmds, "");
	assert_non_null(strstr(rr.reports, "service 'h;s': last check before 2000-01-01"));
	runres_free(&rr);
	central_free(c);
}

/* A last_state_change before 2000 (0, 1, ...) is not replayed as one:
 * every step is at the last check. */
static void ancient_state_change(void **state)
{
	int core, lsc;

	for (core = 0; core < 2; core++)
		for (lsc = 0; lsc < 3; lsc++) {
			struct sd_object r = remote(2, 1, 3, 3);
			struct central_obj c = central(0, 1, 1, 3);
			r.last_state_change = lsc == 2 ? EXTCMD_TIME_MIN - 1 : lsc;
			assert_string_equal(plan(core, 0, &r, &c, 0), "2@LC 2@LC 2@LC");
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nagios_service),
		cmocka_unit_test(nagios_host),
		cmocka_unit_test(icinga_service),
		cmocka_unit_test(icinga_host),
		cmocka_unit_test(nothing_to_send),
		cmocka_unit_test(stale_central),
		cmocka_unit_test(future_clamped),
		cmocka_unit_test(icinga_future_central),
		cmocka_unit_test(model_grid),
		cmocka_unit_test(nagios_stale_soft),
		cmocka_unit_test(invariants_random),
		cmocka_unit_test(icinga_never_below_central),
		cmocka_unit_test(downtime_2300_five_imports),
		cmocka_unit_test(downtime_bogus_end_on_central),
		cmocka_unit_test(downtime_times),
		cmocka_unit_test(comments_over_cap),
		cmocka_unit_test(big_texts),
		cmocka_unit_test(long_names),
		cmocka_unit_test(ancient_result),
		cmocka_unit_test(ancient_state_change),
	};
	if (getenv("TEST_FILTER"))      /* e.g. TEST_FILTER='big_*' */
		cmocka_set_test_filter(getenv("TEST_FILTER"));
	return cmocka_run_group_tests(tests, NULL, NULL);
}
