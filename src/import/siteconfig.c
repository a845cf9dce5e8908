/*
 * siteconfig.c - a config bundle into the central (siteconfig.h).
 *
 * A site's config is read twice from its config.json, never held whole:
 * pass 1 decides what the site may have (its hosts, the groups it defines,
 * a cycle-free set of parent edges), pass 2 streams the writer's output to
 * a candidate file. Groups are the site's own: the writer names them
 * prefix + SITE + ":" + name, and a host or service is put only in groups
 * its own site defines. Shared names would let one site put its hosts into
 * the central's groups (or another site's), and a reference to a group the
 * central lacks keeps Icinga 2 from starting at all.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "import/siteconfig.h"
#include "import/candidate.h"
#include "import/corewait.h"
#include "base/seen.h"
#include "formats/extcmd.h"
#include "formats/icinga2_dsl.h"
#include "formats/nagios_objects.h"
#include "formats/snapshot_json.h"
#include "formats/writers.h"
#include "model/writer.h"

enum { GROUP_DEFINED, GROUP_WRITTEN, GROUP_REFUSED };

struct cfg {
	struct runctx *c;
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
		runctx_report(g->c, what, p);
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
		runctx_report(g->c, what, err->msg);
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
		runctx_note(g->c, what, lb);
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
		runctx_note(g->c, what, why);
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
	runctx_note(g->c, what, "listed again in the site's config: only the first is written");
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
			runctx_report(g->c, what, why);
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
	runctx_note(g->c, w, why);
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
	if (sitestate_same(path, text, len))
		return 0;
	*changed = 1;
	return sitestate_write(path, text, len, 0644, err);
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

	/* the whole central: a host of its own or of another site is not to be taken */
	if (corewait_have_central(o) && corewait_central(g->c, NULL, err) < 0)
		return -1;
	if (!(hostsp = sitestate_path(o->state_dir, g->site, ".hosts")))
		return sd_fail(err, "out of memory");
	rc = lines_read(hostsp, &g->prev, err);
	free(hostsp);
	if (rc < 0 || sitestate_others_read(o->state_dir, g->site, ".hosts", &g->others_names, err) < 0)
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
static int templates_update(struct runctx *c, int *changed, sd_error *err)
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
	if (!sitestate_same(path, tbuf, tlen)) {
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
	struct candidate sf;
	int rc = -1;

	if (templates_update(g->c, changed, err) < 0)
		return -1;
	if (candidate_open(o, g->site, &sf, err) < 0 || cfg_write(g, fd, sf.f, err) < 0)
		goto out;
	if (candidate_same(&sf)) {
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
	candidate_free(&sf);
	return rc;
}

/* Which hosts the site owns now (the state part acts on these only). */
static int ownership_write(struct cfg *g, sd_error *err)
{
	struct runctx *c = g->c;
	char *p;
	int rc;

	if (c->o->dry_run) {
		lines_free(&c->dry_owned);
		c->dry_owned = g->accepted;
		memset(&g->accepted, 0, sizeof(g->accepted));
		snprintf(c->dry_site, sizeof(c->dry_site), "%s", g->site);
		return 0;
	}
	if (!(p = sitestate_path(c->o->state_dir, g->site, ".hosts")))
		return sd_fail(err, "out of memory");
	rc = lines_write(p, &g->accepted, err);
	free(p);
	/* SITE.groups: group names shared between sites, from before groups
	 * were site-scoped; nothing reads it any more */
	if (rc == 0 && (p = sitestate_path(c->o->state_dir, g->site, ".groups"))) {
		unlink(p);
		free(p);
	}
	return rc;
}

/* 0 imported, 1 the site's config refused by the core's check (err), -1 failed. */
int siteconfig_import(struct runctx *c, struct bundle_reader *r, const char *site, int *changed, sd_error *err)
{
	const struct import_opts *o = c->o;
	struct cfg g = { 0 };
	int fd = bundle_reader_fd(r, "config.json"), rc = -1;
	size_t owned;

	g.c = c;
	g.site = site;
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
	runctx_info(c, "site %s: config: %zu hosts owned, %lld refused%s", g.site, owned, g.refused,
		    !o->config_dir ? " (no --config-dir: ownership only)"
		    : *changed ? (o->dry_run ? ", config file would be written" : ", config file written") : ", config unchanged");
	rc = 0;
out:
	cfg_free(&g);
	return rc;
}
