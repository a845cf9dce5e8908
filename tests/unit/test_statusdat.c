/*
 * Unit tests: status.dat + objects.cache reader.
 * Fixtures in tests/data/statusdat/ were written by real private instances
 * of nagios4 4.4.6 and icinga2 2.13.6 (see the README there).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "formats/statusdat.h"
#include "import/central.h"

#define DATA "tests/data/statusdat/"

/* ------------------------------------------------------------ helpers */

struct buf {
	char *s;
	size_t len;
};

static struct buf slurp(const char *path)
{
	struct buf b = { NULL, 0 };
	FILE *f = fopen(path, "r");
	long n;

	if (!f)
		fail_msg("cannot open %s (run the test from the repository root)", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b.s = malloc((size_t)n + 1);
	assert_non_null(b.s);
	assert_int_equal(fread(b.s, 1, (size_t)n, f), (size_t)n);
	b.s[n] = '\0';
	b.len = (size_t)n;
	fclose(f);
	return b;
}

/* A sink that renders every record as one line of text. */
struct coll {
	char **rec;
	size_t n, cap;
	char kinds[256];        /* G H S C D per record, in order */
	unsigned parts;
	int skip_every;         /* object(): return 1 for every n-th object */
	int fail_at;            /* object(): return -1 at the n-th object */
	int objects;
	int skipped;
	int warned;
	char log[16384];        /* "skip WHAT: WHY" / "warn WHAT: WHY" lines */
	size_t loglen;
};

static void add(struct coll *c, char kind, char *s)
{
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 32;
		c->rec = realloc(c->rec, c->cap * sizeof(*c->rec));
		assert_non_null(c->rec);
	}
	c->rec[c->n] = s;
	if (c->n < sizeof(c->kinds) - 1)
		c->kinds[c->n] = kind;
	c->n++;
}

static void coll_free(struct coll *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		free(c->rec[i]);
	free(c->rec);
	memset(c, 0, sizeof(*c));
}

static void list(FILE *f, const char *name, const struct sd_strlist *l)
{
	size_t i;

	fprintf(f, " %s=[", name);
	for (i = 0; i < l->n; i++)
		fprintf(f, "%s%s", i ? "," : "", l->v[i]);
	fputc(']', f);
}

static int on_group(void *ctx, const struct sd_group *g, sd_error *err)
{
	struct coll *c = ctx;
	char *s = NULL;

	assert_non_null(g->name);
	assert_non_null(g->alias);
	assert_int_not_equal(asprintf(&s, "G %s %s [%s]", g->type == SD_HOST ? "hostgroup" : "servicegroup",
				      g->name, g->alias), -1);
	add(c, 'G', s);
	return 0;
}

static int on_object(void *ctx, const struct sd_object *o, sd_error *err)
{
	struct coll *c = ctx;
	char *s = NULL;
	size_t len = 0, i;
	FILE *f;

	c->objects++;
	if (c->fail_at && c->objects == c->fail_at)
		return sd_fail(err, "sink refuses object %d", c->objects);
	if (c->skip_every && c->objects % c->skip_every == 0)
		return sd_fail(err, "sink skips object %d", c->objects), 1;
	/* snapshot.h: strings never NULL except description for hosts */
	assert_non_null(o->host_name);
	if (o->type == SD_HOST)
		assert_null(o->description);
	else
		assert_non_null(o->description);
	assert_non_null(o->plugin_output);
	assert_non_null(o->long_plugin_output);
	assert_non_null(o->perf_data);
	assert_non_null(o->alias);
	assert_non_null(o->address);
	assert_non_null(o->check_command);
	assert_non_null(o->notes);
	assert_non_null(o->notes_url);
	assert_non_null(o->action_url);
	assert_non_null(o->icon_image);
	f = open_memstream(&s, &len);
	assert_non_null(f);
	if (o->type == SD_HOST)
		fprintf(f, "H %s", o->host_name);
	else
		fprintf(f, "S %s;%s", o->host_name, o->description);
	if (c->parts == SD_PART_STATE) {
		fprintf(f, " st=%d/%d att=%d/%d chk=%d out=[%s] long=[%s] perf=[%s] lc=%.3f lsc=%lld lhs=%d"
			" flap=%d lat=%.3f exec=%.3f ct=%d ack=%d/%d",
			o->state, o->state_type, o->current_attempt, o->max_check_attempts,
			o->has_been_checked, o->plugin_output, o->long_plugin_output, o->perf_data,
			o->last_check, o->last_state_change, o->last_hard_state, o->is_flapping,
			o->latency, o->execution_time, o->check_type, o->acknowledged,
			o->acknowledgement_type);
	} else {
		if (o->type == SD_HOST) {
			fprintf(f, " alias=[%s] addr=[%s]", o->alias, o->address);
			list(f, "parents", &o->parents);
		}
		list(f, "groups", &o->groups);
		list(f, "contacts", &o->contacts);
		list(f, "cgroups", &o->contact_groups);
		fprintf(f, " cmd=[%s] max=%d ci=%g ri=%g notes=[%s] nurl=[%s] aurl=[%s] icon=[%s] vars=[",
			o->check_command, o->max_check_attempts, o->check_interval, o->retry_interval,
			o->notes, o->notes_url, o->action_url, o->icon_image);
		for (i = 0; i < o->nvars; i++)
			fprintf(f, "%s%s=%s", i ? "," : "", o->vars[i].name, o->vars[i].value);
		fputc(']', f);
	}
	fclose(f);
	add(c, o->type == SD_HOST ? 'H' : 'S', s);
	return 0;
}

static int on_comment(void *ctx, const struct sd_comment *m, sd_error *err)
{
	struct coll *c = ctx;
	char *s = NULL;

	assert_non_null(m->author);
	assert_non_null(m->comment);
	assert_int_not_equal(asprintf(&s, "C %lld %s%s%s type=%d [%s] [%s] pers=%d t=%lld", m->id, m->host_name,
				      m->service_description ? ";" : "",
				      m->service_description ? m->service_description : "", m->entry_type,
				      m->author, m->comment, m->persistent, m->entry_time), -1);
	add(c, 'C', s);
	return 0;
}

static int on_downtime(void *ctx, const struct sd_downtime *d, sd_error *err)
{
	struct coll *c = ctx;
	char *s = NULL;

	assert_non_null(d->author);
	assert_non_null(d->comment);
	assert_int_not_equal(asprintf(&s, "D %lld %s%s%s %lld-%lld fixed=%d dur=%lld trig=%lld [%s] [%s] t=%lld",
				      d->id, d->host_name, d->service_description ? ";" : "",
				      d->service_description ? d->service_description : "", d->start_time,
				      d->end_time, d->fixed, d->duration, d->triggered_by, d->author,
				      d->comment, d->entry_time), -1);
	add(c, 'D', s);
	return 0;
}

static void logline(struct coll *c, const char *kind, const char *what, const char *why)
{
	int n;

	assert_non_null(what);
	assert_non_null(why);
	assert_null(strchr(what, '\n'));      /* one line each */
	assert_null(strchr(why, '\n'));
	n = snprintf(c->log + c->loglen, sizeof(c->log) - c->loglen, "%s %s: %s\n", kind, what, why);
	if (n > 0)
		c->loglen += (size_t)n < sizeof(c->log) - c->loglen ? (size_t)n : sizeof(c->log) - c->loglen - 1;
}

static void on_skipped(void *ctx, const char *what, const char *why)
{
	((struct coll *)ctx)->skipped++;
	logline(ctx, "skip", what, why);
}

static void on_warned(void *ctx, const char *what, const char *why)
{
	((struct coll *)ctx)->warned++;
	logline(ctx, "warn", what, why);
}

static FILE *memfile(const char *s, size_t len)
{
	FILE *f = len ? fmemopen((void *)s, len, "r") : fopen("/dev/null", "r");

	assert_non_null(f);
	return f;
}

/*
 * statusdat_read_state_once on the same input as run(): the same records in
 * the same order, the same reports (the sink's own skips aside, which it
 * reports among the reader's) and the same error; on its 1, the records of a
 * second read of the same streams without reports.
 */
static void run_once(const char *st, size_t stlen, const char *ob, size_t oblen, const struct coll *ref,
		     int ref_rc, const sd_error *ref_err)
{
	struct coll c = { 0 };
	struct sd_sink sink = {
		.ctx = &c, .group = on_group, .object = on_object, .comment = on_comment,
		.downtime = on_downtime, .skipped = on_skipped, .warned = on_warned, .report_ctx = &c,
	};
	FILE *fs = memfile(st, stlen), *fo = memfile(ob, oblen);
	sd_error err = { { 0 } };
	size_t i;
	int rc;

	c.parts = SD_PART_STATE;
	c.skip_every = ref->skip_every;
	c.fail_at = ref->fail_at;
	rc = statusdat_read_state_once(fs, "status.dat", fo, "objects.cache", &sink, &err);
	if (!ref->skip_every)
		assert_string_equal(c.log, ref->log);
	if (rc == 1) {
		coll_free(&c);
		c.parts = SD_PART_STATE;
		c.skip_every = ref->skip_every;
		c.fail_at = ref->fail_at;
		sink.skipped = sink.warned = NULL;
		assert_int_equal(fseeko(fs, 0, SEEK_SET), 0);
		assert_int_equal(fseeko(fo, 0, SEEK_SET), 0);
		rc = statusdat_read_fp(fs, "status.dat", fo, "objects.cache", SD_PART_STATE, &sink, &err);
	}
	fclose(fs);
	fclose(fo);
	assert_int_equal(rc, ref_rc);
	if (rc < 0) {
		assert_string_equal(err.msg, ref_err->msg);
	} else {
		assert_int_equal(c.n, ref->n);
		for (i = 0; i < c.n; i++)
			assert_string_equal(c.rec[i], ref->rec[i]);
	}
	coll_free(&c);
}

static int run(const char *st, size_t stlen, const char *ob, size_t oblen, unsigned parts,
	       struct coll *c, sd_error *err)
{
	struct sd_sink sink = {
		.ctx = c, .group = on_group, .object = on_object, .comment = on_comment,
		.downtime = on_downtime, .skipped = on_skipped, .warned = on_warned, .report_ctx = c,
	};
	FILE *fs = st ? memfile(st, stlen) : NULL, *fo = memfile(ob, oblen);
	int rc;

	c->parts = parts;
	err->msg[0] = '\0';
	rc = statusdat_read_fp(fs, "status.dat", fo, "objects.cache", parts, &sink, err);
	if (fs)
		fclose(fs);
	fclose(fo);
	if (st && parts == SD_PART_STATE)
		run_once(st, stlen, ob, oblen, c, rc, err);
	if (rc < 0) {
		assert_true(err->msg[0] != '\0');
		assert_null(strchr(err->msg, '\n'));    /* one line */
	}
	if (getenv("SD_DUMP")) {
		size_t i;

		for (i = 0; i < c->n; i++)
			printf("%s\n", c->rec[i]);
		if (rc < 0)
			printf("ERR %s\n", err->msg);
		printf("%s", c->log);
	}
	return rc;
}

static int run_s(const char *st, const char *ob, unsigned parts, struct coll *c, sd_error *err)
{
	return run(st, st ? strlen(st) : 0, ob, strlen(ob), parts, c, err);
}

/* The record whose text starts with prefix (followed by a space). */
static const char *find(const struct coll *c, const char *prefix)
{
	size_t i, n = strlen(prefix);

	for (i = 0; i < c->n; i++)
		if (!strncmp(c->rec[i], prefix, n) && c->rec[i][n] == ' ')
			return c->rec[i];
	fail_msg("no record '%s'", prefix);
	return NULL;
}

struct fixture {
	struct buf st, ob;
};

static struct fixture load(const char *dir)
{
	struct fixture fx;
	char p[256];

	snprintf(p, sizeof(p), DATA "%s/status.dat", dir);
	fx.st = slurp(p);
	snprintf(p, sizeof(p), DATA "%s/objects.cache", dir);
	fx.ob = slurp(p);
	return fx;
}

static void unload(struct fixture *fx)
{
	free(fx->st.s);
	free(fx->ob.s);
}

/* ------------------------------------------------------- real: Nagios */

static void nagios_state(void **state)
{
	struct fixture fx = load("nagios4");
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "HHHHSSSSSSCCCCCCCDD");
	/* hard DOWN, normal ack, host long output with an escaped backslash */
	assert_string_equal(find(&c, "H db01"),
		"H db01 st=1/1 att=1/4 chk=1 out=[DOWN no route] long=[second line C:\\temp\nthird] "
		"perf=[pl=100%] lc=1795290755.000 lsc=1795290755 lhs=1 flap=0 lat=1.001 exec=0.000 ct=1 ack=1/1");
	/* never checked: Nagios shows state 0, has_been_checked 0 */
	assert_string_equal(find(&c, "H pending"),
		"H pending st=0/1 att=1/2 chk=0 out=[] long=[] perf=[] lc=0.000 lsc=0 lhs=0 flap=0 "
		"lat=0.000 exec=0.000 ct=0 ack=0/0");
	/* soft 2/4, sticky ack; `\\` -> `\`, `\n` -> LF, `C:\temp\new` stays intact */
	assert_string_equal(find(&c, "S web 01;disk /var"),
		"S web 01;disk /var st=2/0 att=2/4 chk=1 out=[DISK CRITICAL a=b free 1%] "
		"long=[long line 2 C:\\temp\\new dir\nline 3 = x] perf=[/var=99%;80;90 perf2=5s] "
		"lc=1795290755.000 lsc=1795290755 lhs=0 flap=0 lat=1.607 exec=0.000 ct=1 ack=1/2");
	/* REMOVE_SVC_ACKNOWLEDGEMENT left acknowledgement_type=2 in the file: reported as 0 */
	assert_string_equal(find(&c, "S gw;ping"),
		"S gw;ping st=3/0 att=1/4 chk=1 out=[UNKNOWN ping] long=[] perf=[] lc=1795290755.000 "
		"lsc=1795290755 lhs=0 flap=0 lat=2.214 exec=0.000 ct=1 ack=0/0");
	assert_string_equal(find(&c, "S pending;never"),
		"S pending;never st=0/1 att=1/4 chk=0 out=[] long=[] perf=[] lc=0.000 lsc=0 lhs=0 "
		"flap=0 lat=0.000 exec=0.000 ct=0 ack=0/0");
	assert_string_equal(find(&c, "C 1"),
		"C 1 web 01;disk /var type=4 [alice] [sticky ack; semi = eq] pers=1 t=1795290758");
	assert_string_equal(find(&c, "C 2"), "C 2 db01 type=4 [bob] [host ack normal] pers=0 t=1795290758");
	assert_string_equal(find(&c, "C 4"),
		"C 4 db01;mysql type=1 [carol] [user comment with | pipe and ; semi] pers=1 t=1795290755");
	assert_string_equal(find(&c, "D 1"),
		"D 1 db01;mysql 1795290695-1795294355 fixed=1 dur=3660 trig=0 [erin] [fixed svc downtime] t=1795290755");
	assert_string_equal(find(&c, "D 2"),
		"D 2 web 01 1795291355-1795297955 fixed=0 dur=1800 trig=0 [frank] [flex host downtime] t=1795290755");
	coll_free(&c);
	unload(&fx);
}

static void nagios_config(void **state)
{
	struct fixture fx = load("nagios4");
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_CONFIG, &c, &err), 0);
	assert_string_equal(c.kinds, "GGGGHHHHSSSSSS");
	assert_string_equal(c.rec[0], "G hostgroup linux [Linux Servers]");
	assert_string_equal(c.rec[3], "G servicegroup disks [Disk checks]");
	/* groups come from the members of the group blocks; `;` ended notes in the config */
	assert_string_equal(find(&c, "H web 01"),
		"H web 01 alias=[Web server one] addr=[192.0.2.10] parents=[gw] groups=[linux,web] "
		"contacts=[bob,alice] cgroups=[admins] cmd=[check_dummy!0] max=4 ci=2.5 ri=0.5 "
		"notes=[Front web] nurl=[https://wiki.example/web01] aurl=[https://grafana.example/d/web01?var=a=b] "
		"icon=[web.png] vars=[SITE=Berlin DC,OWNER=ops=team]");
	assert_string_equal(find(&c, "H db01"),
		"H db01 alias=[Database] addr=[192.0.2.20] parents=[web 01,gw] groups=[linux,web] "
		"contacts=[] cgroups=[admins] cmd=[check_dummy!0] max=4 ci=5 ri=1 notes=[] nurl=[] "
		"aurl=[] icon=[] vars=[]");
	assert_string_equal(find(&c, "H pending"),
		"H pending alias=[Never checked] addr=[192.0.2.30] parents=[] groups=[] contacts=[bob] "
		"cgroups=[] cmd=[check_dummy!0] max=2 ci=5 ri=1 notes=[] nurl=[] aurl=[] icon=[] vars=[]");
	/* (host, service) pairs of servicegroup members: same description on two hosts */
	assert_string_equal(find(&c, "S db01;disk /var"),
		"S db01;disk /var groups=[critical,disks] contacts=[] cgroups=[admins] cmd=[check_dummy!0] "
		"max=4 ci=5 ri=1 notes=[] nurl=[] aurl=[] icon=[] vars=[]");
	assert_string_equal(find(&c, "S web 01;disk /var"),
		"S web 01;disk /var groups=[disks] contacts=[] cgroups=[admins] cmd=[check_dummy!0] "
		"max=4 ci=5 ri=1 notes=[] nurl=[] aurl=[] icon=[] vars=[]");
	assert_string_equal(find(&c, "S web 01;http"),
		"S web 01;http groups=[critical] contacts=[alice] cgroups=[] cmd=[check_dummy!0!OK] "
		"max=4 ci=5 ri=1 notes=[HTTP front] nurl=[] aurl=[] icon=[] vars=[PORT=8080]");
	coll_free(&c);
	unload(&fx);
}

/* -------------------------------------------------------- real: Icinga */

static void icinga_state(void **state)
{
	struct fixture fx = load("icinga2");
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_STATE, &c, &err), 0);
	/* the file interleaves objects, comments and downtimes; the snapshot does not */
	assert_string_equal(c.kinds, "HHHHHSSSSSSCCCCCCDD");
	/* a raw newline in a host name (Icinga writes it as is) */
	assert_string_equal(find(&c, "H nl\nhost"),
		"H nl\nhost st=1/0 att=1/3 chk=0 out=[] long=[] perf=[] lc=0.000 lsc=0 lhs=1 flap=0 "
		"lat=0.000 exec=0.000 ct=1 ack=0/0");
	assert_string_equal(find(&c, "H db01"),
		"H db01 st=1/0 att=2/4 chk=1 out=[DOWN no route] long=[] perf=[] lc=1795290950.000 "
		"lsc=0 lhs=1 flap=0 lat=0.000 exec=0.000 ct=1 ack=1/1");
	/* never checked: no output/perf/latency keys, last_check=-1, state UNKNOWN */
	assert_string_equal(find(&c, "S pending;never"),
		"S pending;never st=3/0 att=1/3 chk=0 out=[] long=[] perf=[] lc=0.000 lsc=0 lhs=3 "
		"flap=0 lat=0.000 exec=0.000 ct=1 ack=0/0");
	/*
	 * Only `\n` is unescaped, as Icinga's own Livestatus does: its backslashes
	 * are not doubled, so the text `C:\\new` (sent as such: Icinga's command
	 * parser keeps `\\`) cannot be told from `C:\` + LF + `ew`.
	 */
	assert_string_equal(find(&c, "S web 01;disk /var"),
		"S web 01;disk /var st=2/1 att=1/3 chk=1 out=[DISK CRITICAL a=b; free 1%] "
		"long=[long line 2 C:\\\\temp\\\new dir\nline 3 = x; semi] perf=[/var=99%;80;90 perf2=5s] "
		"lc=1795290950.000 lsc=1795290950 lhs=2 flap=0 lat=0.000 exec=0.000 ct=1 ack=1/2");
	/* servicestatus' last_check is the host's; last_time_warn is the service's own */
	assert_string_equal(find(&c, "S web 01;http"),
		"S web 01;http st=1/0 att=1/3 chk=1 out=[HTTP WARN later] long=[] perf=[] "
		"lc=1795291443.000 lsc=1795291443 lhs=0 flap=0 lat=0.000 exec=0.000 ct=1 ack=0/0");
	/* the removed ack on gw;ping: Icinga resets the type itself */
	assert_string_equal(find(&c, "S gw;ping"),
		"S gw;ping st=3/0 att=2/3 chk=1 out=[UNKNOWN ping] long=[] perf=[] lc=1795290950.000 "
		"lsc=0 lhs=3 flap=0 lat=0.000 exec=0.000 ct=1 ack=0/0");
	/* a comment with raw newlines, a TAB line and a `}` line in its text; float times */
	assert_string_equal(find(&c, "C 1"),
		"C 1 gw type=1 [ml author] [first line\nsecond line\n\tthird=with tab\n}\nlast] pers=1 t=1795291476");
	assert_string_equal(find(&c, "C 6"),
		"C 6 db01;mysql type=1 [carol] [user comment with | pipe and ; semi] pers=1 t=1795290955");
	assert_string_equal(find(&c, "D 2"),
		"D 2 db01;mysql 1795290890-1795294550 fixed=1 dur=0 trig=0 [erin] [fixed svc downtime] t=1795290956");
	assert_string_equal(find(&c, "D 1"),
		"D 1 web 01 1795291550-1795298150 fixed=0 dur=1800 trig=0 [frank] [flex host downtime] t=1795290956");
	coll_free(&c);
	unload(&fx);
}

static void icinga_config(void **state)
{
	struct fixture fx = load("icinga2");
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_CONFIG, &c, &err), 0);
	/* groups are last in Icinga's file, first in the snapshot */
	assert_string_equal(c.kinds, "GGGGHHHHHSSSSSS");
	assert_string_equal(find(&c, "G hostgroup"), "G hostgroup linux [Linux Servers]");
	/* inline host_groups; `_is_json` dropped; JSON values kept as text */
	assert_string_equal(find(&c, "H web 01"),
		"H web 01 alias=[Web server one] addr=[192.0.2.10] parents=[] groups=[linux,web] "
		"contacts=[bob,alice] cgroups=[admins] cmd=[check_dummy!] max=4 ci=2.5 ri=0.5 "
		"notes=[Front web; rack 4] nurl=[https://wiki.example/web01] "
		"aurl=[https://grafana.example/d/web01?var=a=b] icon=[web.png] "
		"vars=[SITE=Berlin DC,list=[\"a\",\"b\"],owner=ops=team,parents=[\"gw\"]]");
	/* parents from a Dependency object */
	assert_string_equal(find(&c, "H db01"),
		"H db01 alias=[Database] addr=[192.0.2.20] parents=[gw] groups=[linux,web] contacts=[] "
		"cgroups=[] cmd=[check_dummy!] max=4 ci=5 ri=1 notes=[] nurl=[] aurl=[] icon=[] vars=[]");
	/* raw newlines in name, alias and notes; `\n` in a custom variable unescaped */
	assert_string_equal(find(&c, "H nl\nhost"),
		"H nl\nhost alias=[nl\nhost] addr=[] parents=[] groups=[] contacts=[] cgroups=[] "
		"cmd=[check_dummy!] max=3 ci=5 ri=1 notes=[n1\nn2] nurl=[] aurl=[] icon=[] vars=[x=v1\nv2]");
	assert_string_equal(find(&c, "S db01;disk /var"),
		"S db01;disk /var groups=[disks,critical] contacts=[] cgroups=[] cmd=[check_dummy!] "
		"max=3 ci=5 ri=1 notes=[] nurl=[] aurl=[] icon=[] vars=[]");
	assert_string_equal(find(&c, "S web 01;http"),
		"S web 01;http groups=[critical] contacts=[alice] cgroups=[] cmd=[check_dummy!] max=3 "
		"ci=5 ri=1 notes=[HTTP front] nurl=[] aurl=[] icon=[] vars=[PORT=8080]");
	coll_free(&c);
	unload(&fx);
}

/* --------------------------------------------------------- truncation */

static char *joined(const struct coll *c)
{
	char *s = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&s, &len);

	for (i = 0; i < c->n; i++)
		fprintf(f, "%s\n", c->rec[i]);
	fclose(f);
	return s;
}

/* Cut one file at every offset: the full result or an error with no records. */
static void cut_everywhere(const char *dir, int cut_status, unsigned parts)
{
	struct fixture fx = load(dir);
	struct coll c = { 0 };
	sd_error err;
	char *full, *got;
	size_t off, len = cut_status ? fx.st.len : fx.ob.len;
	int ok = 0, bad = 0, warned = 0, rc;

	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, parts, &c, &err), 0);
	full = joined(&c);
	coll_free(&c);
	for (off = 0; off < len; off++) {
		rc = run(fx.st.s, cut_status ? off : fx.st.len, fx.ob.s, cut_status ? fx.ob.len : off,
			 parts, &c, &err);
		if (rc == 0) {
			/* a cut inside a block: that block is skipped, and said so */
			got = joined(&c);
			if (strcmp(got, full) && !c.skipped && !c.warned)
				fail_msg("%s %s cut at %zu: partial result without an error or a warning", dir,
					 cut_status ? "status.dat" : "objects.cache", off);
			warned += c.skipped || c.warned;
			free(got);
			ok++;
		} else {
			assert_int_equal(rc, -1);
			if (c.n)
				fail_msg("%s cut at %zu: %zu records emitted before the error: %s",
					 dir, off, c.n, err.msg);
			bad++;
		}
		coll_free(&c);
	}
	if (getenv("SD_DUMP_CUTS"))
		printf("%s %s part %u: %d read (%d with a block skipped), %d errors\n", dir,
		       cut_status ? "status.dat" : "objects.cache", parts, ok, warned, bad);
	assert_true(ok > 0);            /* at least the cut of the final newline */
	assert_true(bad > 0);           /* cuts the cross-checks see */
	free(full);
	unload(&fx);
}

static void truncated_nagios(void **state)
{
	cut_everywhere("nagios4", 1, SD_PART_STATE);
	cut_everywhere("nagios4", 0, SD_PART_STATE);
	cut_everywhere("nagios4", 1, SD_PART_CONFIG);
	cut_everywhere("nagios4", 0, SD_PART_CONFIG);
}

static void truncated_icinga(void **state)
{
	cut_everywhere("icinga2", 1, SD_PART_STATE);
	cut_everywhere("icinga2", 0, SD_PART_STATE);
	cut_everywhere("icinga2", 1, SD_PART_CONFIG);
	cut_everywhere("icinga2", 0, SD_PART_CONFIG);
}

/* ------------------------------------------------------------ hostile */

/* A minimal Nagios pair: one host, one service, a comment, a downtime. */
#define ST_HEAD "# NAGIOS STATUS FILE\n\ninfo {\n\tcreated=1\n\tversion=4.4.6\n\t}\n\n" \
	"programstatus {\n\tnagios_pid=1\n\t}\n\n"
#define ST_HOST "hoststatus {\n\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=1\n" \
	"\tplugin_output=DOWN\n\tlong_plugin_output=a\\nb\n\tlast_check=100\n\tcurrent_attempt=1\n" \
	"\tmax_attempts=3\n\tstate_type=1\n\tlast_state_change=90\n\t}\n\n"
#define ST_SVC "servicestatus {\n\thost_name=h\n\tservice_description=s\n\thas_been_checked=1\n" \
	"\tcurrent_state=2\n\tcurrent_attempt=1\n\tmax_attempts=3\n\tstate_type=0\n" \
	"\tlast_state_change=90\n\tplugin_output=CRIT\n\tlast_check=100\n\t}\n\n"
#define ST_TAIL "hostcomment {\n\thost_name=h\n\tentry_type=1\n\tcomment_id=7\n\tpersistent=1\n" \
	"\tentry_time=50\n\tauthor=a\n\tcomment_data=c\n\t}\n\n"
#define ST_OK ST_HEAD ST_HOST ST_SVC ST_TAIL
#define OB_OK "# objects\n\ndefine hostgroup {\n\thostgroup_name\tg\n\tmembers\th\n\t}\n\n" \
	"define host {\n\thost_name\th\n\tmax_check_attempts\t3\n\t}\n\n" \
	"define service {\n\thost_name\th\n\tservice_description\ts\n\t}\n\n"

static void expect_error(const char *st, const char *ob, unsigned parts, const char *msg)
{
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run_s(st, ob, parts, &c, &err), -1);
	if (!strstr(err.msg, msg))
		fail_msg("error '%s' does not contain '%s'", err.msg, msg);
	assert_int_equal(c.n, 0);
	coll_free(&c);
}

static char *replace(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *r;

	assert_non_null(p);
	assert_int_not_equal(asprintf(&r, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from)), -1);
	return r;
}

static void minimal_ok(void **state)
{
	struct coll c = { 0 };
	sd_error err;

	assert_int_equal(run_s(ST_OK, OB_OK, SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "HSC");
	assert_string_equal(c.rec[0], "H h st=1/1 att=1/3 chk=1 out=[DOWN] long=[a\nb] perf=[] lc=100.000 "
			    "lsc=90 lhs=0 flap=0 lat=0.000 exec=0.000 ct=0 ack=0/0");
	coll_free(&c);
	assert_int_equal(run_s(ST_OK, OB_OK, SD_PART_CONFIG, &c, &err), 0);
	assert_string_equal(c.kinds, "GHS");
	coll_free(&c);
	/* config part without status.dat: no cross-check */
	assert_int_equal(run_s(NULL, OB_OK, SD_PART_CONFIG, &c, &err), 0);
	assert_string_equal(c.kinds, "GHS");
	coll_free(&c);
}

/* Read with rc 0: the records' kinds, and the report log contains `log` (NULL: no report). */
static void expect_read(const char *st, const char *ob, unsigned parts, const char *kinds, const char *log)
{
	struct coll c = { 0 };
	sd_error err;

	if (run_s(st, ob, parts, &c, &err) != 0)
		fail_msg("error: %s", err.msg);
	assert_string_equal(c.kinds, kinds);
	if (log && !strstr(c.log, log))
		fail_msg("report log '%s' does not contain '%s'", c.log, log);
	if (!log && c.loglen)
		fail_msg("unexpected reports: %s", c.log);
	coll_free(&c);
}

static void syntax_errors(void **state)
{
	char *s;

	/* a line it cannot read: that block is skipped, named by both lines */
	s = replace(ST_OK, "\tcurrent_state=1\n", "\tcurrent_state 1\n");
	expect_read(s, OB_OK, SD_PART_STATE, "SC", "skip status.dat:12: hoststatus block of 'h': "
		    "status.dat:15: expected '<TAB>key=value' or '<TAB>}', got '?current_state 1'\n");
	free(s);
	/* a lost block start: its lines are stray, and the count is one short */
	s = replace(ST_OK, "hoststatus {", "hoststatus");
	expect_error(s, OB_OK, SD_PART_STATE, "status.dat has 0 hosts but objects.cache has 1 (truncated or out of sync)");
	free(s);
	s = replace(ST_OK, "\n\nservicestatus", "\ngarbage\nmore garbage\n\nservicestatus");
	expect_read(s, OB_OK, SD_PART_STATE, "HSC",
		    "warn status.dat:24: a line outside any block, ignored up to the next block: 'garbage'\n");
	free(s);
	/* unclosed block at the end */
	expect_read(ST_HEAD ST_HOST ST_SVC "hostcomment {\n\thost_name=h\n", OB_OK, SD_PART_STATE, "HS",
		    "skip status.dat:38: hostcomment block of 'h': status.dat:39: end of file inside the "
		    "'hostcomment' block (truncated?)\n");
	/* a block opened inside another one: the first was cut */
	s = replace(ST_OK, "\t}\n\nservicestatus {\n", "servicestatus {\n");
	expect_read(s, OB_OK, SD_PART_STATE, "SC", "skip status.dat:12: hoststatus block of 'h': "
		    "status.dat:23: the 'hoststatus' block is not closed before this block start\n");
	free(s);
	/* objects.cache: a line without the leading TAB (Nagios) */
	s = replace(OB_OK, "\tmax_check_attempts\t3", "max_check_attempts\t3");
	expect_read(ST_OK, s, SD_PART_CONFIG, "GS", "skip objects.cache:8: host block of 'h': "
		    "objects.cache:10: expected '<TAB>key<TAB>value' or '<TAB>}', got 'max_check_attempts?3'\n");
	/* ... not used in the state part: not reported */
	expect_read(ST_OK, s, SD_PART_STATE, "HSC", NULL);
	free(s);
	s = replace(OB_OK, "define host {", "define host");
	expect_error(ST_OK, s, SD_PART_STATE, "status.dat has 1 hosts but objects.cache has 0");
	free(s);
	/* not such a file at all: an error, not a warning per line */
	expect_error("\x7f" "ELF\x02\x01\x01garbage\n" ST_OK, OB_OK, SD_PART_STATE,
		     "status.dat:1: not a status.dat file: expected a block start ('type {'), got '?ELF???garbage'");
	expect_error("", OB_OK, SD_PART_STATE, "status.dat: no info or programstatus block: not a status.dat file");
	expect_error(ST_HOST ST_HEAD, OB_OK, SD_PART_STATE,
		     "status.dat:1: not a status.dat file: the first block is not info or programstatus but 'hoststatus'");
	expect_error(ST_OK, "junk\n" OB_OK, SD_PART_CONFIG,
		     "objects.cache:1: not an objects.cache file: expected a block start ('define type {'), got 'junk'");
}

static void bad_values(void **state)
{
	static const struct { const char *from, *to, *kinds, *log; } t[] = {
		{ "current_state=1", "current_state=UP", "SC", "status.dat:15: current_state is not an integer: 'UP'" },
		{ "current_state=1", "current_state=", "SC", "current_state is not an integer: ''" },
		{ "current_state=1", "current_state=1x", "SC", "current_state is not an integer" },
		{ "current_state=1", "current_state=7", "SC", "current_state is out of range: '7'" },
		{ "current_attempt=1", "current_attempt=99999999999999999999", "SC", "current_attempt is not an integer" },
		{ "last_check=100", "last_check=nan", "SC", "last_check is not a time: 'nan'" },
		{ "entry_time=50", "entry_time= 50", "HS", "skip status.dat:38: hostcomment block of 'h': "
		  "status.dat:43: entry_time is not a time: ' 50'" },
		/* control characters in the value stay out of the one-line message */
		{ "current_state=1", "current_state=\r1\x1b", "SC", "current_state is not an integer: '?1?'" },
		{ "\thas_been_checked=1\n\tcurrent_state=1\n", "\thas_been_checked=1\n", "SC",
		  "skip status.dat:12: hoststatus block of 'h': status.dat:12: hoststatus block without current_state" },
		{ "\thost_name=h\n\thas_been_checked=1\n\tcurrent_state=1",
		  "\thost_name=\n\thas_been_checked=1\n\tcurrent_state=1", "SC", "status.dat:13: host_name is empty" },
		{ "state_type=0\n", "state_type=0\n\tcheck_latency=0,5\n", "HC",
		  "skip status.dat:25: servicestatus block of 'h;s': status.dat:33: check_latency is not a number: '0,5'" },
	};
	size_t i;
	char *s;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s = replace(ST_OK, t[i].from, t[i].to);
		expect_read(s, OB_OK, SD_PART_STATE, t[i].kinds, t[i].log);
		free(s);
	}
	/* a time out of range is clamped, not refused */
	s = replace(ST_OK, "last_check=100", "last_check=1e300");
	expect_read(s, OB_OK, SD_PART_STATE, "HSC", "warn status.dat:12: hoststatus block of 'h': "
		    "status.dat:18: last_check '1e300' is out of range: read as 1000000000000000\n");
	free(s);
	s = replace(OB_OK, "define host {", "define servicegroup {\n\tservicegroup_name\tsg\n\tmembers\th,s,h\n\t}\ndefine host {");
	expect_read(ST_OK, s, SD_PART_CONFIG, "GGHS", "warn objects.cache:8: servicegroup block: objects.cache:10: "
		    "servicegroup members: 3 names, not host,service pairs: the last one is ignored\n");
	free(s);
	/* config numbers are checked in the config part only */
	s = replace(OB_OK, "max_check_attempts\t3", "max_check_attempts\tthree");
	expect_read(ST_OK, s, SD_PART_CONFIG, "GS", "objects.cache:10: max_check_attempts is not an integer: 'three'");
	expect_read(ST_OK, s, SD_PART_STATE, "HSC", NULL);
	free(s);
}

static void duplicate_keys(void **state)
{
	char *s;

	s = replace(ST_OK, "\tcurrent_state=1\n", "\tcurrent_state=1\n\tcurrent_state=0\n");
	expect_read(s, OB_OK, SD_PART_STATE, "SC", "status.dat:16: duplicate key 'current_state'");
	free(s);
	/* keys the reader does not use may repeat (Icinga repeats last_time_up) */
	s = replace(ST_OK, "\tcurrent_state=1\n", "\tcurrent_state=1\n\tlast_time_up=1\n\tlast_time_up=1.000000\n");
	expect_read(s, OB_OK, SD_PART_STATE, "HSC", NULL);
	free(s);
	s = replace(OB_OK, "\thost_name\th\n\tmax", "\thost_name\th\n\thost_name\tx\n\tmax");
	expect_read(ST_OK, s, SD_PART_CONFIG, "GS", "objects.cache:10: duplicate key 'host_name'");
	free(s);
}

static void nul_and_huge_lines(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	size_t big = 4 << 20, n;
	char *st, *s;

	/* a NUL byte anywhere in a line: that block is skipped */
	st = strdup(ST_OK);
	n = strlen(st);
	st[strstr(st, "DOWN") - st + 2] = '\0';
	assert_int_equal(run(st, n, OB_OK, strlen(OB_OK), SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "SC");
	assert_string_equal(c.log, "skip status.dat:12: hoststatus block of 'h': status.dat:16: NUL byte in line\n");
	coll_free(&c);
	free(st);
	/* a 4 MiB plugin output: no line length limit */
	s = malloc(big + 15);
	memcpy(s, "plugin_output=", 14);
	memset(s + 14, 'x', big);
	s[big + 14] = '\0';
	st = replace(ST_OK, "plugin_output=DOWN", s);
	assert_int_equal(run_s(st, OB_OK, SD_PART_STATE, &c, &err), 0);
	assert_int_equal(strlen(c.rec[0]), big + strlen("H h st=1/1 att=1/3 chk=1 out=[] long=[a\nb] perf=[] lc=100.000 "
							"lsc=90 lhs=0 flap=0 lat=0.000 exec=0.000 ct=0 ack=0/0"));
	coll_free(&c);
	free(st);
	free(s);
}

/* Downtimes (of the host h) and comments a remote site can have Nagios write. */
#define ST_DT(id, start, end, dur) "hostdowntime {\n\thost_name=h\n\tdowntime_id=" id "\n\tcomment_id=0\n" \
	"\tentry_time=50\n\tstart_time=" start "\n\tend_time=" end "\n\ttriggered_by=0\n\tfixed=1\n" \
	"\tduration=" dur "\n\tis_in_effect=0\n\tauthor=att\n\tcomment=dt " id "\n\t}\n\n"
#define ST_CM(id, extra) "hostcomment {\n\thost_name=h\n\tentry_type=1\n\tcomment_id=" id "\n\tpersistent=1\n" \
	"\tentry_time=50\n\tauthor=a\n" extra "\tcomment_data=c" id "\n\t}\n\n"

/*
 * What the central's Nagios writes for what remote sites sent it, and
 * damage besides: every good record is read, each bad block is skipped
 * and named by its line, each clamped time reported.
 */
static void hostile_status(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	size_t big = 1 << 20, i;
	char *st, *mb, *host;
	FILE *f;

	mb = malloc(big + 1);
	assert_non_null(mb);
	memset(mb, 'v', big);
	mb[big] = '\0';
	st = NULL;
	f = open_memstream(&st, &i);
	fputs(ST_HEAD, f);
	/* custom variables as Nagios writes them: name=modified;value */
	host = replace(ST_HOST, "\t}\n", "\t_A-B=0;x\n\t_\xc3\x84\xc3\x96=1;y\n\t_DOT.X=0;a=b;c\\\\d\n\t_=0;\n"
		       "\t_R\rQ=0;\x01\n\t}\n");
	fputs(host, f);
	free(host);
	fputs(ST_SVC, f);
	fputs(ST_TAIL, f);
	fprintf(f, ST_CM("8", "\t_BIG=0;%s\n"), mb);                    /* a 1 MiB value */
	fputs(ST_CM("9", "\t%%%garbage\n\t=x\n"), f);                   /* garbage keys: skipped */
	fwrite(ST_CM("10", "\tauthor_2=\0nul\n"), 1, sizeof(ST_CM("10", "\tauthor_2=\0nul\n")) - 1, f);
	fputs("\t}\n}}}}\n\xff\xfe\n\r\n\n", f);                        /* odd lines between blocks */
	fputs(ST_DT("1", "100", "8000000000000000", "7999999999999900"), f);
	fputs(ST_DT("2", "100", "-5", "0"), f);
	fputs(ST_DT("3", "18446744073709551611", "200", "18446744073709551615"), f);
	fputs("servicecomment {\n\thost_name=h\n\tservice_descr", f);  /* truncated */
	fclose(f);
	assert_int_equal(run(st, i, OB_OK, strlen(OB_OK), SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "HSCCDDD");
	assert_string_equal(find(&c, "H h"), "H h st=1/1 att=1/3 chk=1 out=[DOWN] long=[a\nb] perf=[] lc=100.000 "
			    "lsc=90 lhs=0 flap=0 lat=0.000 exec=0.000 ct=0 ack=0/0");
	assert_int_equal(strlen(find(&c, "C 8")), strlen("C 8 h type=1 [a] [c8] pers=1 t=50"));
	/* clamped to [0, 1e15]; Nagios' %lu of -5 is -5 for a time, a duration is unsigned */
	assert_string_equal(find(&c, "D 1"), "D 1 h 100-1000000000000000 fixed=1 dur=1000000000000000 trig=0 "
			    "[att] [dt 1] t=50");
	assert_string_equal(find(&c, "D 2"), "D 2 h 100-0 fixed=1 dur=0 trig=0 [att] [dt 2] t=50");
	assert_string_equal(find(&c, "D 3"), "D 3 h 0-200 fixed=1 dur=1000000000000000 trig=0 [att] [dt 3] t=50");
	if (!strstr(c.log,
		    "skip status.dat:64: hostcomment block of 'h': status.dat:71: expected '<TAB>key=value' or "
		    "'<TAB>}', got '?%%%garbage'\n"
		    "skip status.dat:76: hostcomment block of 'h': status.dat:83: NUL byte in line\n"
		    "warn status.dat:87: a line outside any block, ignored up to the next block: '?}'\n"
		    "warn status.dat:92: hostdowntime block of 'h': status.dat:98: end_time '8000000000000000' is out "
		    "of range: read as 1000000000000000\n"
		    "warn status.dat:92: hostdowntime block of 'h': status.dat:101: duration '7999999999999900' is out "
		    "of range: read as 1000000000000000\n"
		    "warn status.dat:107: hostdowntime block of 'h': status.dat:113: end_time '-5' is out of range: "
		    "read as 0\n"
		    "warn status.dat:122: hostdowntime block of 'h': status.dat:127: start_time '18446744073709551611' "
		    "is out of range: read as 0\n"
		    "warn status.dat:122: hostdowntime block of 'h': status.dat:131: duration '18446744073709551615' "
		    "is out of range: read as 1000000000000000\n"
		    "skip status.dat:137: servicecomment block of 'h': status.dat:139: end of file inside the "
		    "'servicecomment' block (truncated?)\n"))
		fail_msg("report log:\n%s", c.log);
	assert_int_equal(c.skipped, 3);
	assert_int_equal(c.warned, 6);
	coll_free(&c);
	free(st);
	free(mb);
}

/* objects.cache: custom variables of any name and value Nagios writes back. */
static void hostile_objects(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	char *ob, *big;
	size_t n = 1 << 20;

	big = malloc(n + 1);
	assert_non_null(big);
	memset(big, 'n', n);
	big[n] = '\0';
	assert_int_not_equal(asprintf(&ob, "# objects\n\ndefine command {\n\tcommand_name\tx\n\t\x01odd\tline=\n\t}\n\n"
				      "define host {\n\thost_name\th\n\t_A-B\t0;x\n\t_\xc3\x84\xc3\x96\tv;al\\\\ue\n"
				      "\t_A-B\tsecond\n\tnotes\t%s\n\t_TAB\ta\tb\n\t}\n\n"
				      "define service {\n\thost_name\th\n\tservice_description\ts\n\x01\n\t}\n", big), -1);
	assert_int_equal(run_s(ST_OK, ob, SD_PART_CONFIG, &c, &err), 0);
	assert_string_equal(c.kinds, "H");
	assert_non_null(strstr(c.rec[0], " vars=[A-B=0;x,\xc3\x84\xc3\x96=v;al\\\\ue,TAB=a\tb]"));
	assert_int_equal(strlen(c.rec[0]), n + strlen("H h alias=[] addr=[] parents=[] groups=[] contacts=[] cgroups=[] "
						       "cmd=[] max=0 ci=0 ri=0 notes=[] nurl=[] aurl=[] icon=[] "
						       "vars=[A-B=0;x,\xc3\x84\xc3\x96=v;al\\\\ue,TAB=a\tb]"));
	assert_string_equal(c.log,
		"warn objects.cache:8: host block of 'h': custom variable 'A-B' is defined twice: the second value "
		"is ignored\n"
		"skip objects.cache:17: service block of 'h;s': objects.cache:20: expected '<TAB>key<TAB>value' or "
		"'<TAB>}', got '?'\n");
	coll_free(&c);
	/* the state part does not use it: no reports */
	assert_int_equal(run_s(ST_OK, ob, SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "HSC");
	assert_int_equal(c.loglen, 0);
	coll_free(&c);
	free(ob);
	free(big);
}

/* A file full of bad blocks: 100 reports, then one sum. */
static void report_cap(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	char *st = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&st, &len);
	int i;

	fputs(ST_OK, f);
	for (i = 0; i < 150; i++)
		fputs("hostcomment {\n\tbad line\n\t}\n", f);
	fclose(f);
	assert_int_equal(run(st, len, OB_OK, strlen(OB_OK), SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.kinds, "HSC");
	assert_int_equal(c.skipped, 100);
	assert_int_equal(c.warned, 1);
	assert_non_null(strstr(c.log, "warn status.dat reader: 50 more faults not reported one by one\n"));
	coll_free(&c);
	free(st);
}

static void write_tmp(char *path, const char *text)
{
	int fd = mkstemp(path);
	size_t n = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
}

static void central_log(void *ctx, const char *what, const char *why)
{
	logline(ctx, "report", what, why);
}

/* siteload's model of the central: read from what a hostile site left in
 * status.dat, reported through the callback, times at most CENTRAL_TIME_MAX. */
static void central_model(void **state)
{
	char st[] = "/tmp/test_statusdat_st_XXXXXX", ob[] = "/tmp/test_statusdat_ob_XXXXXX", *s;
	struct coll c = { 0 };
	struct central *m;
	sd_error err;

	s = replace(ST_OK ST_DT("1", "100", "8000000000000000", "7999999999999900") ST_CM("9", "\t%garbage\n"),
		    "\tcurrent_state=1\n", "\tcurrent_state=1\n\t_A-B=0;x\n");
	write_tmp(st, s);
	write_tmp(ob, OB_OK);
	m = central_read_statusdat(st, ob, central_log, &c, &err);
	if (!m)
		fail_msg("%s", err.msg);
	assert_non_null(central_find(m, "h", NULL));
	assert_non_null(central_find(m, "h", "s"));
	assert_int_equal(m->ndowntimes, 1);
	assert_int_equal(m->downtimes[0].start, 100);
	assert_int_equal(m->downtimes[0].end, CENTRAL_TIME_MAX);
	assert_int_equal(m->downtimes[0].duration, CENTRAL_TIME_MAX);
	assert_int_equal(m->ncomments, 1);       /* comment 7; 9 skipped */
	assert_non_null(strstr(c.log, ": end_time '8000000000000000' is out of range: read as 1000000000000000\n"));
	assert_non_null(strstr(c.log, "report "));
	assert_non_null(strstr(c.log, "hostcomment block of 'h': "));
	assert_non_null(strstr(c.log, ": expected '<TAB>key=value' or '<TAB>}', got '?%garbage'\n"));
	/* a comment after a downtime is out of the snapshot order: the model is
	 * read again, and the skip is still reported once */
	assert_null(strstr(strstr(c.log, "hostcomment block of 'h': ") + 1, "hostcomment block of 'h': "));
	central_free(m);
	/* NULL report: read the same, quietly */
	m = central_read_statusdat(st, ob, NULL, NULL, &err);
	assert_non_null(m);
	central_free(m);
	unlink(st);
	unlink(ob);
	free(s);
}

static void cross_checks(void **state)
{
	char *s;

	/* status.dat cut between two blocks: counts differ */
	expect_error(ST_HEAD ST_HOST, OB_OK, SD_PART_STATE,
		     "status.dat:24: status.dat has 0 services but objects.cache has 1 (truncated or out of sync)");
	expect_error(ST_OK, "define host {\n\thost_name\th\n\t}\n", SD_PART_STATE,
		     "status.dat has 1 services but objects.cache has 0");
	expect_error(ST_OK, "define service {\n\thost_name\th\n\tservice_description\ts\n\t}\n",
		     SD_PART_CONFIG, "status.dat has 1 hosts but objects.cache has 0");
	/* a downtime in effect must be in the file */
	s = replace(ST_OK, "\tlast_state_change=90\n\t}\n\nservicestatus",
		    "\tlast_state_change=90\n\tscheduled_downtime_depth=1\n\t}\n\nservicestatus");
	expect_error(s, OB_OK, SD_PART_STATE,
		     "scheduled_downtime_depth adds up to 1 but only 0 downtimes are in effect (truncated or out of sync)");
	free(s);
	/* Nagios' downtime comment without its downtime */
	s = replace(ST_OK, "entry_type=1", "entry_type=2");
	expect_error(s, OB_OK, SD_PART_STATE, "1 downtime comments but only 0 downtimes");
	free(s);
	/* Icinga: a group an object names must be defined */
	expect_error(NULL, "# Icinga objects cache file\n\ndefine host {\n\thost_name\th\n\thost_groups\tg1\n\t}\n",
		     SD_PART_CONFIG, "objects.cache:5: hostgroup 'g1' is named here but never defined");
}

static void icinga_quirks(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	char *s, *t;

	/* Nagios: a TAB-separated line or a raw continuation line is a bad line */
	s = replace(ST_OK, "\tcurrent_state=1\n", "\tcurrent_state=1\n\tcheck_period\t24x7\n");
	expect_read(s, OB_OK, SD_PART_STATE, "SC", "got '?check_period?24x7'");
	t = replace(s, "nagios_pid", "icinga_pid");
	assert_int_equal(run_s(t, OB_OK, SD_PART_STATE, &c, &err), 0);
	coll_free(&c);
	free(s);
	free(t);
	s = replace(ST_OK, "comment_data=c\n", "comment_data=c\nmore\n");
	expect_read(s, OB_OK, SD_PART_STATE, "HS", "status.dat:46: expected '<TAB>key=value'");
	t = replace(s, "nagios_pid", "icinga_pid");
	assert_int_equal(run_s(t, OB_OK, SD_PART_STATE, &c, &err), 0);
	assert_string_equal(c.rec[2], "C 7 h type=1 [a] [c\nmore] pers=1 t=50");
	coll_free(&c);
	free(t);
	free(s);
	/* Icinga's programstatus after the records (fuzz_statusdat): a line
	 * after entry_time is a key before Icinga is known and a continuation
	 * after; refused before any record, not half-way */
	s = replace(ST_OK, "programstatus {\n\tnagios_pid=1\n\t}\n\n", "");
	t = replace(s, "\tentry_time=50\n", "\tentry_time=50\n\tunknown_key=1\n");
	free(s);
	s = malloc(strlen(t) + 64);
	assert_non_null(s);
	sprintf(s, "%sprogramstatus {\n\ticinga_pid=1\n\t}\n\n", t);
	expect_error(s, OB_OK, SD_PART_STATE, "status.dat:46: Icinga's programstatus block after the first record");
	free(s);
	free(t);
	/* but a continuation cannot make a bad number good */
	s = replace(ST_OK, "current_state=1\n", "current_state=1\n0\n");
	t = replace(s, "nagios_pid", "icinga_pid");
	expect_read(t, OB_OK, SD_PART_STATE, "SC", "current_state is not an integer: '1?0'");
	free(t);
	free(s);
	/* Icinga escapes LF but not backslashes; Nagios both */
	s = replace(ST_OK, "long_plugin_output=a\\nb", "long_plugin_output=C:\\\\temp\\n\\x\\");
	assert_int_equal(run_s(s, OB_OK, SD_PART_STATE, &c, &err), 0);
	assert_non_null(strstr(c.rec[0], "long=[C:\\temp\n\\x\\]"));
	coll_free(&c);
	t = replace(s, "nagios_pid", "icinga_pid");
	assert_int_equal(run_s(t, OB_OK, SD_PART_STATE, &c, &err), 0);
	assert_non_null(strstr(c.rec[0], "long=[C:\\\\temp\n\\x\\]"));
	coll_free(&c);
	free(t);
	free(s);
}

/* 300 hosts, 900 services, groups with many members: the membership maps grow. */
static void many_objects(void **state)
{
	struct coll c = { 0 };
	sd_error err;
	char *st = NULL, *ob = NULL;
	size_t stl = 0, obl = 0;
	FILE *fs = open_memstream(&st, &stl), *fo = open_memstream(&ob, &obl);
	int h, v, i;

	fputs("programstatus {\n\tnagios_pid=1\n\t}\n", fs);
	fputs("define hostgroup {\n\thostgroup_name\teven\n\tmembers\t", fo);
	for (h = 0, i = 0; h < 300; h += 2)
		fprintf(fo, "%shost%03d", i++ ? "," : "", h);
	fputs("\n\t}\ndefine hostgroup {\n\thostgroup_name\tall\n\tmembers\t", fo);
	for (h = 0; h < 300; h++)
		fprintf(fo, "%shost%03d", h ? "," : "", h);
	fputs("\n\t}\ndefine servicegroup {\n\tservicegroup_name\tsvc1\n\tmembers\t", fo);
	for (h = 0; h < 300; h++)
		fprintf(fo, "%shost%03d,svc 1", h ? "," : "", h);
	fputs("\n\t}\n", fo);
	for (h = 0; h < 300; h++) {
		fprintf(fs, "hoststatus {\n\thost_name=host%03d\n\thas_been_checked=1\n\tcurrent_state=0\n"
			"\tstate_type=1\n\tcurrent_attempt=1\n\tmax_attempts=3\n\tlast_check=%d\n"
			"\tlast_state_change=0\n\t}\n", h, 1000 + h);
		fprintf(fo, "define host {\n\thost_name\thost%03d\n\t}\n", h);
	}
	for (h = 0; h < 300; h++)
		for (v = 0; v < 3; v++) {
			fprintf(fs, "servicestatus {\n\thost_name=host%03d\n\tservice_description=svc %d\n"
				"\thas_been_checked=1\n\tcurrent_state=%d\n\tstate_type=1\n\tcurrent_attempt=1\n"
				"\tmax_attempts=3\n\tlast_check=1\n\tlast_state_change=0\n\t}\n", h, v, v);
			fprintf(fo, "define service {\n\thost_name\thost%03d\n\tservice_description\tsvc %d\n\t}\n", h, v);
		}
	fclose(fs);
	fclose(fo);
	assert_int_equal(run(st, stl, ob, obl, SD_PART_STATE, &c, &err), 0);
	assert_int_equal(c.n, 1200);
	assert_string_equal(c.rec[299], "H host299 st=0/1 att=1/3 chk=1 out=[] long=[] perf=[] lc=1299.000 lsc=0 "
			    "lhs=0 flap=0 lat=0.000 exec=0.000 ct=0 ack=0/0");
	coll_free(&c);
	assert_int_equal(run(st, stl, ob, obl, SD_PART_CONFIG, &c, &err), 0);
	assert_int_equal(c.n, 1203);
	assert_non_null(strstr(find(&c, "H host298"), " groups=[even,all] "));
	assert_non_null(strstr(find(&c, "H host299"), " groups=[all] "));
	assert_non_null(strstr(find(&c, "S host123;svc 1"), " groups=[svc1] "));
	assert_non_null(strstr(find(&c, "S host123;svc 2"), " groups=[] "));
	coll_free(&c);
	free(st);
	free(ob);
}

static void sink_results(void **state)
{
	struct fixture fx = load("nagios4");
	struct coll c = { 0 };
	sd_error err;

	/* rc 1 = skipped: reported, and the run goes on */
	c.skip_every = 2;
	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_STATE, &c, &err), 0);
	assert_int_equal(c.skipped, 5);
	assert_string_equal(c.kinds, "HHSSSCCCCCCCDD");
	coll_free(&c);
	/* rc -1 stops the run with the sink's message */
	c.fail_at = 3;
	assert_int_equal(run(fx.st.s, fx.st.len, fx.ob.s, fx.ob.len, SD_PART_STATE, &c, &err), -1);
	assert_string_equal(err.msg, "sink refuses object 3");
	assert_int_equal(c.n, 2);
	coll_free(&c);
	unload(&fx);
}

static void api_errors(void **state)
{
	struct sd_sink sink = { 0 };
	sd_error err;
	int p[2];
	FILE *fs, *fo;

	assert_int_equal(statusdat_read(DATA "nagios4/status.dat", DATA "nagios4/objects.cache",
					SD_PART_STATE | SD_PART_CONFIG, &sink, &err), -1);
	assert_non_null(strstr(err.msg, "one at a time"));
	assert_int_equal(statusdat_read(DATA "nope/status.dat", DATA "nagios4/objects.cache",
					SD_PART_STATE, &sink, &err), -1);
	assert_string_equal(err.msg, DATA "nope/status.dat: No such file or directory");
	assert_int_equal(statusdat_read(NULL, DATA "nagios4/objects.cache", SD_PART_STATE, &sink, &err), -1);
	/* real files, NULL callbacks: records are dropped */
	assert_int_equal(statusdat_read(DATA "icinga2/status.dat", DATA "icinga2/objects.cache",
					SD_PART_STATE, &sink, &err), 0);
	assert_int_equal(statusdat_read(NULL, DATA "icinga2/objects.cache", SD_PART_CONFIG, &sink, &err), 0);
	/* a pipe cannot be read twice */
	assert_int_equal(pipe(p), 0);
	fs = fdopen(p[0], "r");
	fo = memfile(OB_OK, strlen(OB_OK));
	assert_int_equal(statusdat_read_fp(fs, "pipe", fo, NULL, SD_PART_STATE, &sink, &err), -1);
	assert_non_null(strstr(err.msg, "pipe: cannot be read from a pipe"));
	fclose(fs);
	fclose(fo);
	close(p[1]);
}

/* The streams are read from where they stand, and several times. */
static void stream_offset(void **state)
{
	struct coll c = { 0 };
	struct sd_sink sink = { .ctx = &c, .object = on_object, .comment = on_comment, .downtime = on_downtime };
	sd_error err;
	char *st;
	FILE *fs, *fo;

	assert_int_not_equal(asprintf(&st, "JUNK\n%s", ST_OK), -1);
	fs = memfile(st, strlen(st));
	fo = memfile(OB_OK, strlen(OB_OK));
	assert_int_equal(fseek(fs, 5, SEEK_SET), 0);
	c.parts = SD_PART_STATE;
	assert_int_equal(statusdat_read_fp(fs, NULL, fo, NULL, SD_PART_STATE, &sink, &err), 0);
	assert_string_equal(c.kinds, "HSC");
	coll_free(&c);
	fclose(fs);
	fclose(fo);
	free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(nagios_state),
		cmocka_unit_test(nagios_config),
		cmocka_unit_test(icinga_state),
		cmocka_unit_test(icinga_config),
		cmocka_unit_test(minimal_ok),
		cmocka_unit_test(syntax_errors),
		cmocka_unit_test(bad_values),
		cmocka_unit_test(duplicate_keys),
		cmocka_unit_test(nul_and_huge_lines),
		cmocka_unit_test(cross_checks),
		cmocka_unit_test(icinga_quirks),
		cmocka_unit_test(many_objects),
		cmocka_unit_test(sink_results),
		cmocka_unit_test(api_errors),
		cmocka_unit_test(stream_offset),
		cmocka_unit_test(truncated_nagios),
		cmocka_unit_test(truncated_icinga),
		cmocka_unit_test(hostile_status),
		cmocka_unit_test(hostile_objects),
		cmocka_unit_test(report_cap),
		cmocka_unit_test(central_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
