/*
 * sitestatus.c - `siteload status` (sitestatus.h).
 *
 * Why from the files alone: an admin (or the core, as a check) asks while imports run, as a
 * user that may not take the import lock; every file read here is written whole by a rename
 * (import.c), so reading without the lock sees the old or the new one, never half. What a run
 * records is all there is to show: SITE.imported (sequence, made, imported at), SITE.hosts
 * (owned hosts), SITE.ledger (downtimes and comments siteload made), SITE.error when an
 * import recorded one ("EPOCH MESSAGE"), and the keys in the trust dir (two during a key
 * rotation: which one verified the last bundle, kept in SITE.imported, tells when the old one
 * may go). A site is stale when its last import is older than --stale-after, the threshold
 * the core's own stale check uses, so `siteload status` and the generated freshness checks
 * agree.
 * The subcommand's option parsing is here too, so that siteload.c only dispatches to it; it
 * writes to the streams main gives it and never exits.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yajl/yajl_gen.h>
#include "import/sitestatus.h"
#include "import/sitestate.h"
#include "bundle/keyfile.h"
#include "bundle/seqstate.h"
#include "formats/minisign.h"

static const char *const state_exts[] = { ".imported", ".hosts", ".ledger", ".error" };

/* The site name of file `name` ending in ext, into site[65]; 0 if it is none. */
static int site_of(const char *name, const char *ext, char site[65])
{
	size_t n = strlen(name), e = strlen(ext);

	if (n <= e || n - e > 64 || strcmp(name + n - e, ext))
		return 0;
	memcpy(site, name, n - e);
	site[n - e] = '\0';
	return seq_site_ok(site);
}

static int add_site(struct site_status **v, size_t *n, size_t *cap, const char *site)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*v)[i].site, site))
			return 0;
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct site_status *nv = realloc(*v, nc * sizeof(*nv));
		if (!nv)
			return -1;
		*v = nv;
		*cap = nc;
	}
	memset(&(*v)[*n], 0, sizeof(**v));
	snprintf((*v)[(*n)++].site, sizeof((*v)->site), "%s", site);
	return 0;
}

/* Every site named by a file in dir with one of exts; a missing dir names none. */
static int list_dir(const char *dir, const char *const *exts, size_t nexts, struct site_status **v,
		    size_t *n, size_t *cap, sd_error *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char site[65];
	size_t k;

	if (!d && errno == ENOENT)
		return 0;
	if (!d)
		return sd_fail(err, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)))
		for (k = 0; k < nexts; k++)
			if (site_of(de->d_name, exts[k], site) && add_site(v, n, cap, site) < 0) {
				closedir(d);
				return sd_fail(err, "out of memory");
			}
	closedir(d);
	return 0;
}

static FILE *open_site_file(const char *dir, const char *site, const char *ext)
{
	char p[4096];

	snprintf(p, sizeof(p), "%s/%s%s", dir, site, ext);
	return fopen(p, "re");
}

/* Entries of the set DIR/SITE.EXT (sitestate.c reads it as the import does): 0 when it is
 * missing, -1 when it cannot be read. */
static long count_set(const char *dir, const char *site, const char *ext)
{
	struct lines l = { 0 };
	char *p = sitestate_path(dir, site, ext);
	sd_error e;
	long n;

	n = p && lines_read(p, &l, &e) == 0 ? (long)l.n : -1;
	lines_free(&l);
	free(p);
	return n;
}

static void read_site(struct site_status *s, const char *state_dir, const char *trust_dir, long long now,
		      int stale_after)
{
	FILE *f;
	char p[4096];
	struct ms_pubkey pks[KEYFILE_MAX_PUBS];
	sd_error e = { "" };
	struct imported im;
	size_t i;

	if (sitestate_imported_read(state_dir, s->site, &im, &e) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", e.msg);
	} else if (im.seq) {
		s->imported = 1;
		s->seq = im.seq;
		s->created = im.created;
		s->at = im.at;
		snprintf(s->verified_by, sizeof(s->verified_by), "%s", im.keyid);
	}
	s->hosts = count_set(state_dir, s->site, ".hosts");
	s->ledger = count_set(state_dir, s->site, ".ledger");
	if (!s->error[0] && (f = open_site_file(state_dir, s->site, ".error"))) {
		if (fscanf(f, "%lld ", &s->error_at) != 1 || !fgets(s->error, sizeof(s->error), f))
			snprintf(s->error, sizeof(s->error), "%s.error: damaged (want: EPOCH MESSAGE)", s->site);
		s->error[strcspn(s->error, "\r\n")] = '\0';
		fclose(f);
	}
	if (trust_dir) {
		snprintf(p, sizeof(p), "%s/%s.pub", trust_dir, s->site);
		if (keyfile_pubs_load(p, pks, KEYFILE_MAX_PUBS, &s->nkeys, &e) == 0) {
			for (i = 0; i < s->nkeys; i++)
				ms_keyid_hex(pks[i].keynum, s->keyids[i]);
			snprintf(s->keyid, sizeof(s->keyid), "%s", s->keyids[0]);
		} else {
			s->nkeys = 0;
			snprintf(s->key_error, sizeof(s->key_error), "%s", e.msg);
		}
	}
	s->stale = !s->imported || now - s->at > stale_after;
}

static int by_site(const void *a, const void *b)
{
	return strcmp(((const struct site_status *)a)->site, ((const struct site_status *)b)->site);
}

int sitestatus_collect(const char *state_dir, const char *trust_dir, long long now, int stale_after,
		       struct site_status **out, size_t *n, sd_error *err)
{
	static const char *const pub[] = { ".pub" };
	struct site_status *v = NULL;
	size_t cap = 0, i;

	*n = 0;
	if (list_dir(state_dir, state_exts, sizeof(state_exts) / sizeof(*state_exts), &v, n, &cap, err) < 0 ||
	    (trust_dir && list_dir(trust_dir, pub, 1, &v, n, &cap, err) < 0)) {
		free(v);
		return -1;
	}
	for (i = 0; i < *n; i++)
		read_site(&v[i], state_dir, trust_dir, now, stale_after);
	if (*n)
		qsort(v, *n, sizeof(*v), by_site);
	*out = v;
	return 0;
}

/* "2026-12-07 20:00:01 (3m 5s ago)" */
static const char *when(long long t, long long now, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;
	long long d = now - t;
	size_t k;

	k = strftime(buf, len, "%Y-%m-%d %H:%M:%S", localtime_r(&tt, &tm));
	if (d < 0)
		snprintf(buf + k, len - k, " (%llds in the future)", -d);
	else if (d < 60)
		snprintf(buf + k, len - k, " (%llds ago)", d);
	else if (d < 3600)
		snprintf(buf + k, len - k, " (%lldm %llds ago)", d / 60, d % 60);
	else if (d < 86400)
		snprintf(buf + k, len - k, " (%lldh %lldm ago)", d / 3600, d % 3600 / 60);
	else
		snprintf(buf + k, len - k, " (%lldd %lldh ago)", d / 86400, d % 86400 / 3600);
	return buf;
}

static void count_text(FILE *f, const char *label, long v)
{
	if (v < 0)
		fprintf(f, "  %-12s unreadable\n", label);
	else
		fprintf(f, "  %-12s %ld\n", label, v);
}

/* "trusted key  ID", or during a rotation "trusted keys ID1, ID2" */
static void keys_text(FILE *f, const struct site_status *s)
{
	size_t k;

	fprintf(f, "  %-12s ", s->nkeys > 1 ? "trusted keys" : "trusted key");
	for (k = 0; k < s->nkeys; k++)
		fprintf(f, "%s%s", k ? ", " : "", s->keyids[k]);
	fputc('\n', f);
}

static int trusted(const struct site_status *s, const char *id)
{
	size_t k;

	for (k = 0; k < s->nkeys; k++)
		if (!strcmp(s->keyids[k], id))
			return 1;
	return 0;
}

void sitestatus_write_text(FILE *f, const struct site_status *s, size_t n, long long now, int stale_after)
{
	size_t i, stale = 0;
	char b[96];

	for (i = 0; i < n; i++)
		stale += s[i].stale ? 1 : 0;
	fprintf(f, "%zu site%s, %zu stale (no import for over %ds)\n", n, n == 1 ? "" : "s", stale, stale_after);
	for (i = 0; i < n; i++) {
		fprintf(f, "\nsite %s: %s\n", s[i].site, s[i].stale ? (s[i].imported ? "STALE" : "STALE (never imported)") : "ok");
		if (s[i].imported) {
			fprintf(f, "  %-12s %llu\n", "sequence", s[i].seq);
			fprintf(f, "  %-12s %s\n", "made", when(s[i].created, now, b, sizeof(b)));
			fprintf(f, "  %-12s %s\n", "imported", when(s[i].at, now, b, sizeof(b)));
		}
		count_text(f, "hosts owned", s[i].hosts);
		count_text(f, "ledger", s[i].ledger);
		if (s[i].nkeys)
			keys_text(f, &s[i]);
		else if (s[i].key_error[0])
			fprintf(f, "  %-12s none: %s\n", "trusted key", s[i].key_error);
		if (s[i].verified_by[0])
			fprintf(f, "  %-12s %s%s\n", "verified by", s[i].verified_by,
				!trusted(&s[i], s[i].verified_by) && (s[i].nkeys || s[i].key_error[0]) ?
				" (no longer trusted)" : "");
		if (s[i].error[0] && s[i].error_at)
			fprintf(f, "  %-12s %s: %s\n", "last error", when(s[i].error_at, now, b, sizeof(b)), s[i].error);
		else if (s[i].error[0])
			fprintf(f, "  %-12s %s\n", "last error", s[i].error);
	}
}

static void gstr(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void gkv_str(yajl_gen g, const char *k, const char *v)
{
	gstr(g, k);
	if (v && *v)
		gstr(g, v);
	else
		yajl_gen_null(g);
}

static void gkv_int(yajl_gen g, const char *k, long long v, int present)
{
	gstr(g, k);
	if (present)
		yajl_gen_integer(g, v);
	else
		yajl_gen_null(g);
}

static void site_json(yajl_gen g, const struct site_status *s, long long now)
{
	char seq[32];
	size_t k;

	yajl_gen_map_open(g);
	gkv_str(g, "site", s->site);
	gstr(g, "stale");
	yajl_gen_bool(g, s->stale);
	/* a sequence is epoch milliseconds: over 2^53, as a number it would lose digits in JS */
	snprintf(seq, sizeof(seq), "%llu", s->seq);
	gkv_str(g, "sequence", s->imported ? seq : NULL);
	gkv_int(g, "created", s->created, s->imported);
	gkv_int(g, "imported_at", s->at, s->imported);
	gkv_int(g, "age", now - s->created, s->imported);
	gkv_int(g, "since_import", now - s->at, s->imported);
	gkv_int(g, "hosts", s->hosts, s->hosts >= 0);
	gkv_int(g, "ledger", s->ledger, s->ledger >= 0);
	gkv_str(g, "key_id", s->keyid);
	gstr(g, "key_ids");
	yajl_gen_array_open(g);
	for (k = 0; k < s->nkeys; k++)
		gstr(g, s->keyids[k]);
	yajl_gen_array_close(g);
	gkv_str(g, "verified_by", s->verified_by);
	gkv_str(g, "key_error", s->key_error);
	gkv_str(g, "last_error", s->error);
	gkv_int(g, "last_error_at", s->error_at, s->error_at != 0);
	yajl_gen_map_close(g);
}

int sitestatus_write_json(FILE *f, const struct site_status *s, size_t n, long long now, int stale_after)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len, i;
	int rc = -1;

	if (!g)
		return -1;
	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	gkv_int(g, "now", now, 1);
	gkv_int(g, "stale_after", stale_after, 1);
	gstr(g, "sites");
	yajl_gen_array_open(g);
	for (i = 0; i < n; i++)
		site_json(g, &s[i], now);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	if (yajl_gen_get_buf(g, &buf, &len) == yajl_gen_status_ok && fwrite(buf, 1, len, f) == len)
		rc = 0;
	yajl_gen_free(g);
	return rc;
}

static const char status_usage[] =
	"usage: siteload status [--json] [--state-dir DIR] [--trust DIR] [--stale-after SECONDS]\n"
	"  every site of the state dir (and of the trust dir): last sequence, when it was made and\n"
	"  imported, owned hosts, ledger, trusted key ids and the one that verified the last bundle,\n"
	"  last error.\n"
	"  Exit: 0 every site fresh, 2 a site stale (no import for over --stale-after, default 1800),\n"
	"  3 usage or I/O trouble.\n";

int sitestatus_cmd(int argc, char **argv, FILE *out, FILE *errs)
{
	static const struct option opts[] = {
		{ "json", no_argument, 0, 'j' }, { "state-dir", required_argument, 0, 'd' },
		{ "trust", required_argument, 0, 't' }, { "stale-after", required_argument, 0, 's' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *state_dir = seq_default_dir(), *trust = NULL;
	struct site_status *v = NULL;
	int c, json = 0, stale_after = SITESTATUS_STALE_AFTER, rc;
	long long now = sd_now();
	sd_error err = { "" };
	size_t n, i;
	char *end;
	long sa;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'd': state_dir = optarg; break;
		case 't': trust = optarg; break;
		case 's':
			errno = 0;
			sa = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || sa < 1 || sa > 31536000) {
				fprintf(errs, "siteload status: --stale-after %s: want seconds, 1 to 31536000\n", optarg);
				return 3;
			}
			stale_after = (int)sa;
			break;
		case 'h': fputs(status_usage, out); return 0;
		case ':':
			fprintf(errs, "siteload status: %s wants an argument\n%s", argv[optind - 1], status_usage);
			return 3;
		default:
			fprintf(errs, "siteload status: unknown option %s\n%s", argv[optind - 1], status_usage);
			return 3;
		}
	}
	if (optind < argc) {
		fprintf(errs, "siteload status: unexpected argument '%s'\n%s", argv[optind], status_usage);
		return 3;
	}
	if (sitestatus_collect(state_dir, trust, now, stale_after, &v, &n, &err) < 0) {
		fprintf(errs, "siteload status: %s\n", err.msg);
		return 3;
	}
	if (json)
		rc = sitestatus_write_json(out, v, n, now, stale_after);
	else
		sitestatus_write_text(out, v, n, now, stale_after), rc = 0;
	if (rc < 0 || fflush(out) == EOF) {
		fprintf(errs, "siteload status: writing the output: %s\n", strerror(errno));
		free(v);
		return 3;
	}
	for (i = 0, rc = 0; i < n; i++)
		if (v[i].stale)
			rc = 2;
	free(v);
	return rc;
}
