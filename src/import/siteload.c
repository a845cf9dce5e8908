/*
 * siteload - import, verify and inspect sitedump bundles.
 *
 * Only this file prints and exits. Exit codes: 0 valid / applied; 1 a
 * bundle was refused or failed verification, or something in it was
 * refused (each reported on one line); 2 usage error or I/O trouble
 * (missing file, unreadable key, central core unreachable). --mail exits
 * 75 (EX_TEMPFAIL) instead of 2, so the MTA keeps the message and retries.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <yajl/yajl_gen.h>
#include "bundle/bundle.h"
#include "import/import.h"
#include "icinga2api/api.h"
#include "import/sitestatus.h"
#include "bundle/seqstate.h"
#include "formats/minisign.h"
#include "formats/icinga2_dsl.h"
#include "formats/nagios_cfg.h"
#include "formats/nagios_objects.h"
#include "formats/statusdat.h"
#include "livestatus/livestatus.h"
#include "bundle/keyfile.h"
#include "bundle/seal.h"
#include "base/optfile.h"
#include "transports/mail.h"
#include "transports/spool.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siteload [import] --trust DIR [--state-dir DIR] [SINKS] [OPTIONS] BUNDLE...|-\n"
		"       siteload [import] --spool DIR --trust DIR [...]   (the bundles in DIR, filed by outcome)\n"
		"       siteload [import] --mail -|FILE | --maildir DIR --trust DIR [...]   (bundles by e-mail)\n"
		"SINKS: --checkresults DIR  --command-file FIFO  --livestatus SPEC  --dry-run\n"
		"       --nagios-cfg FILE   (the paths not given, from the core's nagios.cfg / naemon.cfg)\n"
		"       --icinga2-api URL[,URL...] --api-ca FILE (--api-user NAME --api-password-file FILE |\n"
		"                                  --api-cert FILE --api-key FILE)\n"
		"CONFIG: --config-dir DIR --reload-command CMD --check-command CMD\n"
		"        --contacts LIST --contact-groups LIST   (the central's own, notified for the sites)\n"
		"       siteload stale --site SITE [--state-dir DIR] [--link]   (the central's stale check)\n"
		"       siteload status [--json] [--state-dir DIR] [--trust DIR] [--stale-after SECONDS]\n"
		"       siteload verify -p SITE.pub [--decrypt-key CENTRAL.key] [LIMITS] BUNDLE|-\n"
		"       siteload inspect [-p SITE.pub] [--decrypt-key CENTRAL.key] [--json] [LIMITS] BUNDLE|-\n"
		"       siteload keygen -o NAME [-f]    (encryption key pair for --encrypt-to)\n"
		"LIMITS: --max-members N --max-member-size BYTES --max-total-size BYTES\n"
		"See siteload(1).\n");
}

/* One subcommand's usage (--help, or a usage error there). */
#define USAGE_VERIFY "usage: siteload verify -p SITE.pub [--decrypt-key CENTRAL.key] [LIMITS] BUNDLE|-\n" \
	"LIMITS: --max-members N --max-member-size BYTES --max-total-size BYTES\n"
#define USAGE_INSPECT "usage: siteload inspect [-p SITE.pub] [--decrypt-key CENTRAL.key] [--json] [LIMITS] BUNDLE|-\n" \
	"LIMITS: --max-members N --max-member-size BYTES --max-total-size BYTES\n"
#define USAGE_KEYGEN "usage: siteload keygen -o NAME [-f]   (encryption key pair for sitedump --encrypt-to)\n"
#define USAGE_STALE "usage: siteload stale --site SITE [--state-dir DIR] [--link]   (the central's stale check)\n"

static int wants_help(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			return 1;
	return 0;
}

static int load_pub(const char *path, struct ms_pubkey *pk)
{
	sd_error err = { "" };

	if (keyfile_pub_load(path, pk, &err) < 0) {
		fprintf(stderr, "siteload: %s\n", err.msg);
		return -1;
	}
	return 0;
}

static int parse_size(const char *s, long long *out)
{
	char *end;
	long long v;
	int shift = 0;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -1;
	if (*end == 'K' || *end == 'k')
		shift = 10, end++;
	else if (*end == 'M')
		shift = 20, end++;
	else if (*end == 'G')
		shift = 30, end++;
	if (*end || v > (LLONG_MAX >> shift))
		return -1;
	v <<= shift;
	*out = v;
	return 0;
}

static void print_text(const char *name, const struct bundle_info *i, const char *const *members)
{
	char when[64];
	time_t t = (time_t)i->created;
	struct tm tm;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
	printf("bundle:    %s\nsite:      %s\nsequence:  %llu\ncreated:   %s (%lld)\nkind:      %s\n"
	       "generator: %s\ncounts:    %lld hosts, %lld services, %lld comments, %lld downtimes\n"
	       "signature: %s%s\nmembers:  ",
	       name, i->site, i->sequence, when, i->created, i->kind, i->generator,
	       i->hosts, i->services, i->comments, i->downtimes,
	       i->signature_checked ? "valid, key " : "not checked (no -p)", i->signature_checked ? i->keyid : "");
	for (; *members; members++)
		printf(" %s", *members);
	printf("\n");
}

static void gen_print(void *ctx, const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

static void gs(yajl_gen g, const char *k, const char *v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void gi(yajl_gen g, const char *k, long long v)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
	yajl_gen_integer(g, v);
}

static void print_json(const char *name, const struct bundle_info *i, const char *const *members)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_print_callback, gen_print, NULL);
	yajl_gen_map_open(g);
	gs(g, "bundle", name);
	gi(g, "version", i->version);
	gs(g, "site", i->site);
	gi(g, "sequence", (long long)i->sequence);
	gi(g, "created", i->created);
	gs(g, "kind", i->kind);
	gs(g, "generator", i->generator);
	gi(g, "hosts", i->hosts);
	gi(g, "services", i->services);
	gi(g, "comments", i->comments);
	gi(g, "downtimes", i->downtimes);
	yajl_gen_string(g, (const unsigned char *)"signature_checked", 17);
	yajl_gen_bool(g, i->signature_checked);
	if (i->signature_checked)
		gs(g, "key_id", i->keyid);
	yajl_gen_string(g, (const unsigned char *)"members", 7);
	yajl_gen_array_open(g);
	for (; *members; members++)
		yajl_gen_string(g, (const unsigned char *)*members, strlen(*members));
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_free(g);
	printf("\n");
}

static int check_main(int argc, char **argv, int inspect)
{
	enum { O_JSON = 256, O_MAXM, O_MAXS, O_MAXT, O_DECRYPT };
	static const struct option longopts[] = {
		{ "pubkey", required_argument, 0, 'p' },
		{ "json", no_argument, 0, O_JSON },
		{ "max-members", required_argument, 0, O_MAXM },
		{ "max-member-size", required_argument, 0, O_MAXS },
		{ "max-total-size", required_argument, 0, O_MAXT },
		{ "decrypt-key", required_argument, 0, O_DECRYPT },
		{ 0, 0, 0, 0 },
	};
	struct bundle_limits lim = bundle_default_limits;
	struct ms_pubkey pk;
	struct bundle_reader *r;
	const char *pub = NULL, *path, *decrypt = NULL;
	struct seal_sec *dk = NULL;
	int c, json = 0, fd, vf;
	sd_error err = { "" };

	if (wants_help(argc, argv))
		return fputs(inspect ? USAGE_INSPECT : USAGE_VERIFY, stdout), 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "p:", longopts, NULL)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case O_JSON: json = 1; break;
		case O_DECRYPT: decrypt = optarg; break;
		case O_MAXM: case O_MAXS: case O_MAXT: {
			long long v;
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "siteload: bad limit '%s'\n", optarg);
				return 2;
			}
			if (c == O_MAXM) lim.max_members = v;
			else if (c == O_MAXS) lim.max_member_size = v;
			else lim.max_total_size = v;
			break;
		}
		default: fputs(inspect ? USAGE_INSPECT : USAGE_VERIFY, stderr); return 2;
		}
	}
	if (optind != argc - 1 || (!inspect && !pub) || (json && !inspect)) {
		fprintf(stderr, "siteload: %s: %s\n%s", inspect ? "inspect" : "verify",
			optind >= argc ? "no bundle given (a file, or - for stdin)" : optind < argc - 1 ? "one bundle only"
			: !pub && !inspect ? "-p SITE.pub missing (the sending site's public key)" : "--json is inspect's",
			inspect ? USAGE_INSPECT : USAGE_VERIFY);
		return 2;
	}
	path = argv[optind];
	if (pub && load_pub(pub, &pk) < 0)
		return 2;
	if (!strcmp(path, "-")) {
		fd = 0;
	} else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		fprintf(stderr, "siteload: %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (decrypt) {
		int plain;
		if (!(dk = seal_sec_load(decrypt, &err))) {
			fprintf(stderr, "siteload: %s\n", err.msg);
			if (fd)
				close(fd);
			return 2;
		}
		plain = seal_open_max(fd, dk, NULL, lim.max_total_size, &vf, &err);
		seal_sec_free(dk);
		if (fd)
			close(fd);
		if (plain < 0) {
			fprintf(stderr, "siteload: %s: %s\n", path, err.msg);
			return vf ? 1 : 2;
		}
		fd = plain;
	}
	r = bundle_read(fd, pub ? &pk : NULL, &lim, NULL, &vf, &err);
	if (fd)
		close(fd);
	if (!r) {
		fprintf(stderr, "siteload: %s: %s\n", path, err.msg);
		return vf ? 1 : 2;
	}
	if (json)
		print_json(path, bundle_reader_info(r), bundle_reader_members(r));
	else if (inspect)
		print_text(path, bundle_reader_info(r), bundle_reader_members(r));
	else {
		const struct bundle_info *i = bundle_reader_info(r);
		printf("%s: OK: site %s, sequence %llu, kind %s, %lld hosts, %lld services, key %s\n",
		       path, i->site, i->sequence, i->kind, i->hosts, i->services, i->keyid);
	}
	bundle_reader_free(r);
	return 0;
}

static void imp_report(void *ctx, const char *what, const char *why)
{
	fprintf(stderr, "siteload: %s: %s\n", what, why);
}

static void imp_info(void *ctx, const char *line)
{
	if (!*(int *)ctx)
		fprintf(stderr, "siteload: %s\n", line);
}

/* A wait for the core over a second: one line, set only on a terminal
 * (an admin watching; under cron it would be mail) and without -q. */
static void imp_waiting(void *ctx, const char *what, long long limit_ms)
{
	(void)ctx;
	if (limit_ms >= 0)
		fprintf(stderr, "siteload: waiting for %s (up to %lld s)\n", what, (limit_ms + 999) / 1000);
	else
		fprintf(stderr, "siteload: waiting for %s\n", what);
}

static int seconds_arg(const char *s, const char *opt, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v < 0) {
		fprintf(stderr, "siteload: %s: want a number of seconds, got '%s'\n", opt, s);
		return -1;
	}
	*out = v;
	return 0;
}

/*
 * --contacts / --contact-groups: the central's own names, comma-separated,
 * written into the site's config as they are: each must be a name the
 * config format can carry. "" means none (*list becomes NULL).
 */
static int names_arg(const char *opt, enum sd_core fmt, const char **list)
{
	const char *s = *list, *end, *p;
	char name[512], why[512];
	size_t n;

	if (!s)
		return 0;
	if (!*s) {
		*list = NULL;
		return 0;
	}
	for (;; s = end + 1) {
		end = strchr(s, ',');
		n = end ? (size_t)(end - s) : strlen(s);
		if (n >= sizeof(name)) {
			fprintf(stderr, "siteload: %s: a name of %zu bytes is too long\n", opt, n);
			return -1;
		}
		memcpy(name, s, n);
		name[n] = 0;
		p = fmt == CORE_NAGIOS ? nagios_name_problem(name, why, sizeof(why)) : icinga2_shadow_name_problem(name);
		if (p) {
			for (n = 0; name[n]; n++)       /* the message stays one line */
				if ((unsigned char)name[n] < 0x20 || name[n] == 0x7f)
					name[n] = '?';
			fprintf(stderr, "siteload: %s: '%s' cannot be %s name: %s\n", opt, name,
				fmt == CORE_NAGIOS ? "a Nagios" : "an Icinga 2", p);
			return -1;
		}
		if (!end)
			return 0;
	}
}

/* The spool and mail transports hand their bundles here: import_run
 * with the transport's report, info and outcome in place of ours. */
static int handoff_import(const struct handoff *h, char *const *paths, int n, sd_error *err)
{
	struct import_opts io = *(const struct import_opts *)h->run_ctx;

	io.report = h->report;
	io.info = h->info;
	io.outcome = h->outcome;
	io.ctx = h->ctx;
	return import_run(&io, paths, n, err);
}

/*
 * siteload [import]: import_main parses the options (import_parse_opts),
 * checks them together (import_check_sources, import_pick_cores,
 * import_check_sinks), prepares the state directory (import_prepare) and
 * runs the import from where the bundles come (import_dispatch). Usage
 * errors exit 2 before anything is created or read.
 */
enum { O_TRUST = 256, O_STATEDIR, O_MAXAGE, O_PREFIX, O_CORE, O_CONFDIR, O_CONFFMT, O_RELOAD,
       O_CHECKRESULTS, O_CMDFILE, O_LIVESTATUS, O_STATUS, O_OBJECTS, O_DRY, O_TIMEOUT,
       O_RELOADWAIT, O_REAPWAIT, O_STALE, O_SITE, O_DECRYPT, O_MAXM, O_MAXS, O_MAXT, O_QUIET,
       O_SPOOL };
enum { O_MAIL = 512, O_MAILDIR };     /* docs/transport-mail.md */
enum { O_CONTACTS = 768, O_CONTACTGROUPS, O_CHECKCMD };
enum { O_API = 1024, O_APIUSER, O_APIPASS, O_APICERT, O_APIKEY, O_APICA };   /* Icinga 2's REST API */
enum { O_NAGIOSCFG = 1280 };

/* the first 25 in the order of the O_ values from 256: the seconds
 * options' message names its option as import_longopts[c - 256] */
static const struct option import_longopts[] = {
	{ "trust", required_argument, 0, O_TRUST },
	{ "state-dir", required_argument, 0, O_STATEDIR },
	{ "max-age", required_argument, 0, O_MAXAGE },
	{ "prefix", required_argument, 0, O_PREFIX },
	{ "core", required_argument, 0, O_CORE },
	{ "config-dir", required_argument, 0, O_CONFDIR },
	{ "config-format", required_argument, 0, O_CONFFMT },
	{ "reload-command", required_argument, 0, O_RELOAD },
	{ "checkresults", required_argument, 0, O_CHECKRESULTS },
	{ "command-file", required_argument, 0, O_CMDFILE },
	{ "livestatus", required_argument, 0, O_LIVESTATUS },
	{ "status-file", required_argument, 0, O_STATUS },
	{ "objects-cache", required_argument, 0, O_OBJECTS },
	{ "dry-run", no_argument, 0, O_DRY },
	{ "timeout", required_argument, 0, O_TIMEOUT },
	{ "reload-wait", required_argument, 0, O_RELOADWAIT },
	{ "reap-wait", required_argument, 0, O_REAPWAIT },
	{ "stale-after", required_argument, 0, O_STALE },
	{ "site", required_argument, 0, O_SITE },
	{ "decrypt-key", required_argument, 0, O_DECRYPT },
	{ "max-members", required_argument, 0, O_MAXM },
	{ "max-member-size", required_argument, 0, O_MAXS },
	{ "max-total-size", required_argument, 0, O_MAXT },
	{ "quiet", no_argument, 0, O_QUIET },
	{ "mail", required_argument, 0, O_MAIL },
	{ "maildir", required_argument, 0, O_MAILDIR },
	{ "spool", required_argument, 0, O_SPOOL },
	{ "contacts", required_argument, 0, O_CONTACTS },
	{ "contact-groups", required_argument, 0, O_CONTACTGROUPS },
	{ "check-command", required_argument, 0, O_CHECKCMD },
	{ "icinga2-api", required_argument, 0, O_API },
	{ "api-user", required_argument, 0, O_APIUSER },
	{ "api-password-file", required_argument, 0, O_APIPASS },
	{ "api-cert", required_argument, 0, O_APICERT },
	{ "api-key", required_argument, 0, O_APIKEY },
	{ "api-ca", required_argument, 0, O_APICA },
	{ "nagios-cfg", required_argument, 0, O_NAGIOSCFG },
	{ 0, 0, 0, 0 },
};

/* what the options say that is not struct import_opts yet: names
 * resolved by the checks, and where the bundles come from */
struct import_cli {
	const char *core, *fmt;
	const char *spool, *mail, *maildir;
	int quiet;              /* imp_info's ctx: it must live through the run */
	/* --icinga2-api and its credentials (import_check_api) */
	const char *api_urls, *api_passfile;
	struct api_opts api;
	char *url_buf;
	const char *url_v[16];
	char password[1024];
	/* the defaults of options not given: --nagios-cfg's paths, or under
	 * OMD_ROOT the site's own (import_core_defaults); each path check
	 * names where a default came from (label) */
	const char *nagios_cfg, *omd_root;
	struct nagios_cfg ncfg;
	int nagios_family;      /* the central is of the Nagios family (a nagios.cfg, an OMD site) */
	char live[PATH_MAX + 8], confdir[PATH_MAX], omd_spool[PATH_MAX];
	char lbl_cmd[PATH_MAX + 64], lbl_cr[PATH_MAX + 64], lbl_status[PATH_MAX + 64],
	     lbl_objects[PATH_MAX + 64], lbl_confdir[PATH_MAX + 64], lbl_live[64];
};

/* one value of --timeout, --reload-wait, --reap-wait or --stale-after */
static int import_seconds_opt(int c, const char *arg, struct import_opts *o)
{
	long long v;

	if (seconds_arg(arg, "value", &v) < 0 || v < 1 || v > 86400 * 365) {
		fprintf(stderr, "siteload: --%s: want 1 or more seconds\n", import_longopts[c - 256].name);
		return -1;
	}
	if (c == O_TIMEOUT) o->timeout_ms = (int)(v * 1000 > 2000000000 ? 2000000000 : v * 1000);
	else if (c == O_RELOADWAIT) o->reload_wait_ms = (int)(v * 1000 > 2000000000 ? 2000000000 : v * 1000);
	else if (c == O_REAPWAIT) o->reap_wait_ms = (int)(v * 1000 > 2000000000 ? 2000000000 : v * 1000);
	else o->stale_after = (int)v;
	return 0;
}

/* the defaults, then each option as it comes: only a value's own form is
 * checked here (a number, a limit); how the options go together is
 * import_check_*'s. 0, or 2 after the message. */
static int import_parse_opts(int argc, char **argv, struct import_opts *o, struct import_cli *cli)
{
	long long v;
	int c;

	o->state_dir = seq_default_dir();
	o->prefix = "";
	o->max_age = 86400;
	o->timeout_ms = 30000;
	o->reload_wait_ms = 60000;
	o->reap_wait_ms = 60000;
	o->stale_after = 1800;
	o->lim = bundle_default_limits;
	optind = 1;
	while ((c = getopt_long(argc, argv, "q", import_longopts, NULL)) != -1) {
		switch (c) {
		case O_TRUST: o->trust_dir = optarg; break;
		case O_STATEDIR: o->state_dir = optarg; break;
		case O_MAXAGE: if (seconds_arg(optarg, "--max-age", &o->max_age) < 0) return 2; break;
		case O_PREFIX: o->prefix = optarg; break;
		case O_CORE: cli->core = optarg; break;
		case O_CONFDIR: o->config_dir = optarg; break;
		case O_CONFFMT: cli->fmt = optarg; break;
		case O_RELOAD: o->reload_command = optarg; break;
		case O_CHECKRESULTS: o->checkresults = optarg; break;
		case O_CMDFILE: o->command_file = optarg; break;
		case O_LIVESTATUS: o->livestatus = optarg; break;
		case O_STATUS: o->status_file = optarg; break;
		case O_OBJECTS: o->objects_cache = optarg; break;
		case O_DRY: o->dry_run = stdout; break;
		case O_SITE: o->only_site = optarg; break;
		case O_DECRYPT: o->decrypt_key = optarg; break;
		case O_TIMEOUT: case O_RELOADWAIT: case O_REAPWAIT: case O_STALE:
			if (import_seconds_opt(c, optarg, o) < 0)
				return 2;
			break;
		case O_MAXM: case O_MAXS: case O_MAXT:
			if (parse_size(optarg, &v) < 0) {
				fprintf(stderr, "siteload: bad limit '%s'\n", optarg);
				return 2;
			}
			if (c == O_MAXM) o->lim.max_members = v;
			else if (c == O_MAXS) o->lim.max_member_size = v;
			else o->lim.max_total_size = v;
			break;
		case 'q': case O_QUIET: cli->quiet = 1; break;
		case O_MAIL: cli->mail = optarg; break;
		case O_MAILDIR: cli->maildir = optarg; break;
		case O_SPOOL: cli->spool = optarg; break;
		case O_CONTACTS: o->notify_contacts = optarg; break;
		case O_CONTACTGROUPS: o->notify_contact_groups = optarg; break;
		case O_CHECKCMD: o->check_command = optarg; break;
		case O_API: cli->api_urls = optarg; break;
		case O_APIUSER: cli->api.user = optarg; break;
		case O_APIPASS: cli->api_passfile = optarg; break;
		case O_APICERT: cli->api.cert_file = optarg; break;
		case O_APIKEY: cli->api.key_file = optarg; break;
		case O_APICA: cli->api.ca_file = optarg; break;
		case O_NAGIOSCFG: cli->nagios_cfg = optarg; break;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}

/* the trust directory, and exactly one place the bundles come from:
 * paths (or -), --spool, --mail or --maildir */
static int import_check_sources(int argc, const struct import_opts *o, const struct import_cli *cli)
{
	if (!o->trust_dir) {
		fprintf(stderr, "siteload: --trust DIR is required (one SITE.pub per site)\n");
		return 2;
	}
	if (cli->spool && optind < argc) {
		fprintf(stderr, "siteload: --spool DIR imports the bundles in DIR: give no bundle besides\n");
		return 2;
	}
	if ((cli->mail || cli->maildir) && (optind < argc || cli->spool || (cli->mail && cli->maildir))) {
		fprintf(stderr, "siteload: --mail and --maildir take the bundles from mail: give one of them, "
			"no --spool and no bundle besides\n");
		return 2;
	}
	if (!cli->spool && !cli->mail && !cli->maildir && optind >= argc) {
		fprintf(stderr, "siteload: no bundle given (a file, or - for stdin)\n");
		return 2;
	}
	return 0;
}

/* The password file's first line (without its line end) in cli->password.
 * 0, or -1 after the message. */
static int api_read_password(struct import_cli *cli)
{
	FILE *f = fopen(cli->api_passfile, "re");
	size_t n;

	if (!f) {
		fprintf(stderr, "siteload: --api-password-file %s: %s\n", cli->api_passfile, strerror(errno));
		return -1;
	}
	n = fread(cli->password, 1, sizeof(cli->password) - 1, f);
	if (ferror(f) || (n == sizeof(cli->password) - 1 && !memchr(cli->password, '\n', n))) {
		fprintf(stderr, "siteload: --api-password-file %s: %s\n", cli->api_passfile,
			ferror(f) ? "read error" : "longer than one line of 1000 bytes");
		fclose(f);
		return -1;
	}
	fclose(f);
	cli->password[n] = 0;
	cli->password[strcspn(cli->password, "\r\n")] = 0;
	if (!cli->password[0]) {
		fprintf(stderr, "siteload: --api-password-file %s: empty\n", cli->api_passfile);
		return -1;
	}
	cli->api.password = cli->password;
	return 0;
}

/* --icinga2-api URL[,URL...] and its credentials: the CA always, a user
 * with a password file or a client certificate; it is the channel and the
 * central's reader (no other sink besides) and means --core icinga2 */
static int import_check_api(struct import_opts *o, struct import_cli *cli)
{
	char *p, *save = NULL;

	if (!cli->api_urls) {
		if (cli->api.user || cli->api_passfile || cli->api.cert_file || cli->api.key_file || cli->api.ca_file) {
			fprintf(stderr, "siteload: --api-* options go with --icinga2-api URL\n");
			return 2;
		}
		return 0;
	}
	if (o->livestatus || o->command_file || o->checkresults || o->status_file) {
		fprintf(stderr, "siteload: --icinga2-api reads the central and takes everything: "
			"give no --livestatus, --command-file, --checkresults or --status-file besides\n");
		return 2;
	}
	if (cli->core && strcmp(cli->core, "icinga2")) {
		fprintf(stderr, "siteload: --icinga2-api is Icinga 2's: --core %s does not go with it\n", cli->core);
		return 2;
	}
	cli->core = "icinga2";
	if (!cli->api.ca_file) {
		fprintf(stderr, "siteload: --icinga2-api needs --api-ca FILE (the CA of the API's certificate; "
			"verification cannot be turned off)\n");
		return 2;
	}
	if (!cli->api_passfile && !cli->api.cert_file) {
		fprintf(stderr, "siteload: --icinga2-api needs --api-user NAME --api-password-file FILE, "
			"or --api-cert FILE --api-key FILE\n");
		return 2;
	}
	if (!!cli->api_passfile != !!cli->api.user || (cli->api.key_file && !cli->api.cert_file)) {
		fprintf(stderr, "siteload: --api-user goes with --api-password-file, --api-key with --api-cert\n");
		return 2;
	}
	if (cli->api_passfile && api_read_password(cli) < 0)
		return 2;
	if (!(cli->url_buf = strdup(cli->api_urls)))
		return fprintf(stderr, "siteload: out of memory\n"), 2;
	for (p = strtok_r(cli->url_buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (cli->api.n_urls == sizeof(cli->url_v) / sizeof(cli->url_v[0]) || strncmp(p, "https://", 8)) {
			fprintf(stderr, "siteload: --icinga2-api: want at most 16 https:// URLs, got '%s'\n", p);
			return 2;
		}
		cli->url_v[cli->api.n_urls++] = p;
	}
	if (!cli->api.n_urls) {
		fprintf(stderr, "siteload: --icinga2-api: no URL\n");
		return 2;
	}
	cli->api.urls = cli->url_v;
	cli->api.timeout_ms = o->timeout_ms;
	o->api = &cli->api;
	return 0;
}

/* What the central core says it is: Livestatus `GET status`, or the
 * version at the head of its status.dat. 0, or -1 (reported) when the
 * core cannot be asked: the run could not go on anyway. */
static int detect_core(const struct import_opts *o, char *pv, size_t pvlen, char *lv, size_t lvlen)
{
	sd_error e = { 0 };
	FILE *f;

	*pv = *lv = 0;
	if (o->livestatus) {
		struct ls_server sv;
		if (ls_server_info(o->livestatus, o->timeout_ms, &sv, &e) < 0)
			goto fail;
		snprintf(pv, pvlen, "%s", sv.program_version);
		snprintf(lv, lvlen, "%s", sv.livestatus_version);
	} else if (o->status_file) {
		if (!(f = fopen(o->status_file, "r"))) {
			sd_fail(&e, "%s: %s", o->status_file, strerror(errno));
			goto fail;
		}
		if (statusdat_version(f, o->status_file, pv, pvlen, &e) < 0) {
			fclose(f);
			goto fail;
		}
		fclose(f);
	}
	return 0;
fail:
	fprintf(stderr, "siteload: cannot tell the central core (give --core %s): %s\n", CORE_NAMES, e.msg);
	return -1;
}

/* --core; without it a provisional profile from the channel (the one
 * before detection existed: Icinga 2 with --livestatus, else Nagios 4) so
 * the option checks can run before the core is asked (import_detect) */
static int pick_core(struct import_opts *o, const struct import_cli *cli)
{
	if (cli->core) {
		if (!(o->profile = core_profile_named(cli->core))) {
			fprintf(stderr, "siteload: --core: want %s, got '%s'\n", CORE_NAMES, cli->core);
			return 2;
		}
	} else {
		o->profile = core_profile(o->livestatus && !cli->nagios_family ? CORE_ICINGA2 : CORE_NAGIOS);
	}
	o->core = o->profile->core;
	return 0;
}

/* --core and --config-format (by default the core's) */
static int import_pick_cores(struct import_opts *o, const struct import_cli *cli)
{
	int rc = pick_core(o, cli);

	if (rc)
		return rc;
	if (!cli->fmt)
		o->config_format = o->core;
	else if (!strcmp(cli->fmt, "nagios"))
		o->config_format = CORE_NAGIOS;
	else if (!strcmp(cli->fmt, "icinga2"))
		o->config_format = CORE_ICINGA2;
	else {
		fprintf(stderr, "siteload: --config-format: want nagios or icinga2, got '%s'\n", cli->fmt);
		return 2;
	}
	return 0;
}

/* the config's names and commands, and the channels to the central:
 * which go together and which exclude each other */
static int import_check_sinks(struct import_opts *o)
{
	if (names_arg("--contacts", o->config_format, &o->notify_contacts) < 0 ||
	    names_arg("--contact-groups", o->config_format, &o->notify_contact_groups) < 0)
		return 2;
	if (o->check_command && !*o->check_command) {
		fprintf(stderr, "siteload: --check-command: empty command\n");
		return 2;
	}
	if (!!o->status_file != !!o->objects_cache) {
		fprintf(stderr, "siteload: --status-file and --objects-cache go together\n");
		return 2;
	}
	if (o->checkresults && o->core != CORE_NAGIOS) {
		fprintf(stderr, "siteload: --checkresults is Nagios's spool (Icinga 2's reader keeps one result per file): "
			"use --livestatus or --command-file with --core icinga2\n");
		return 2;
	}
	if (o->checkresults && !o->command_file && !o->livestatus) {
		fprintf(stderr, "siteload: --checkresults carries check results only: give --command-file too "
			"(acknowledgements, downtimes, comments)\n");
		return 2;
	}
	if ((o->checkresults || o->command_file) && !o->livestatus && !o->status_file && !o->dry_run) {
		fprintf(stderr, "siteload: to send only the difference siteload reads the central first: "
			"give --livestatus or --status-file/--objects-cache\n");
		return 2;
	}
	if (o->livestatus && o->status_file) {
		fprintf(stderr, "siteload: --livestatus and --status-file both read the central: give one\n");
		return 2;
	}
	if (!seq_site_ok(o->only_site ? o->only_site : "x")) {
		fprintf(stderr, "siteload: --site: bad site name\n");
		return 2;
	}
	return 0;
}

/* One path an option names: what it must be (S_IFDIR, S_IFIFO, S_IFREG)
 * and whether siteload writes there. 0, or -1 after the message. */
static int path_is(const char *opt, const char *path, mode_t type, int writable)
{
	struct stat st;
	const char *want = type == S_IFDIR ? "a directory" : type == S_IFIFO ? "a FIFO (the core's command pipe)" : "a file";

	if (stat(path, &st) < 0) {
		fprintf(stderr, "siteload: %s %s: %s%s\n", opt, path, strerror(errno),
			type == S_IFIFO && errno == ENOENT ? " (the core makes it when it runs with check_external_commands)" : "");
		return -1;
	}
	if ((st.st_mode & S_IFMT) != type) {
		fprintf(stderr, "siteload: %s %s: not %s\n", opt, path, want);
		return -1;
	}
	if (access(path, writable ? W_OK : R_OK) < 0) {
		fprintf(stderr, "siteload: %s %s: not %s by this user: %s\n", opt, path,
			writable ? "writable" : "readable", strerror(errno));
		return -1;
	}
	return 0;
}

/* the first of dirs with a subdirectory sitedump/ (siteload's own config
 * directory, made by the admin), into buf; 0 when none has one */
static int sitedump_subdir(char *const *dirs, size_t n, char *buf, size_t len)
{
	struct stat st;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(buf, len, "%s/sitedump", dirs[i]) >= len)
			continue;
		if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
			return 1;
	}
	return 0;
}

/*
 * --nagios-cfg FILE: the core's main config gives what was not given.
 * command_file only without --livestatus (the socket answers each
 * command, the FIFO does not); status_file and object_cache_file only
 * when nothing else reads the central; the config directory is the
 * sitedump/ subdirectory of the first cfg_dir that has one (Debian's
 * first cfg_dir is the plugins' /etc/nagios-plugins/config).
 */
static int nagios_cfg_defaults(struct import_opts *o, struct import_cli *cli)
{
	struct nagios_cfg *c = &cli->ncfg;
	const char *f = cli->nagios_cfg;
	sd_error e = { "" };

	if (cli->api_urls || (cli->core && !strcmp(cli->core, "icinga2"))) {
		fprintf(stderr, "siteload: --nagios-cfg is the main config of a Nagios or Naemon central: "
			"not with --icinga2-api or --core icinga2\n");
		return 2;
	}
	if (nagios_cfg_load(f, c, &e) < 0) {
		fprintf(stderr, "siteload: --nagios-cfg: %s\n", e.msg);
		return 2;
	}
	cli->nagios_family = 1;
	if (!o->command_file && !o->livestatus && c->command_file) {
		o->command_file = c->command_file;
		snprintf(cli->lbl_cmd, sizeof(cli->lbl_cmd), "command_file of %s:", f);
	}
	if (!o->checkresults && c->check_result_path) {
		o->checkresults = c->check_result_path;
		snprintf(cli->lbl_cr, sizeof(cli->lbl_cr), "check_result_path of %s:", f);
	}
	if (!o->livestatus && !o->status_file && !o->objects_cache && c->status_file && c->object_cache_file) {
		o->status_file = c->status_file;
		o->objects_cache = c->object_cache_file;
		snprintf(cli->lbl_status, sizeof(cli->lbl_status), "status_file of %s:", f);
		snprintf(cli->lbl_objects, sizeof(cli->lbl_objects), "object_cache_file of %s:", f);
	}
	if (!o->config_dir && sitedump_subdir(c->cfg_dirs, c->n_cfg_dirs, cli->confdir, sizeof(cli->confdir))) {
		o->config_dir = cli->confdir;
		snprintf(cli->lbl_confdir, sizeof(cli->lbl_confdir), "cfg_dir of %s, sitedump/:", f);
	}
	return 0;
}

/*
 * Under OMD_ROOT (an OMD or Checkmk site, run as the site user): the
 * site's Livestatus socket reads the central and takes the commands,
 * unless something else was given to read it; the config directory is
 * etc/nagios/conf.d/sitedump or, with OMD's Naemon core, etc/naemon/
 * conf.d/sitedump, whichever the admin made. The check result spool
 * comes after the core is known (omd_spool_default). The state directory
 * is seq_default_dir()'s. No command pipe: the socket answers.
 */
static int omd_defaults(struct import_opts *o, struct import_cli *cli)
{
	char *dirs[2];
	char etc[PATH_MAX], etc_naemon[PATH_MAX];

	if (!cli->omd_root || cli->omd_root[0] != '/')
		return 0;
	cli->nagios_family = 1;
	if (!o->livestatus && !o->status_file && !o->command_file && !cli->api_urls) {
		snprintf(cli->live, sizeof(cli->live), "unix:%s/tmp/run/live", cli->omd_root);
		o->livestatus = cli->live;
		snprintf(cli->lbl_live, sizeof(cli->lbl_live), "--livestatus (OMD_ROOT's)");
	}
	snprintf(etc, sizeof(etc), "%s/etc/nagios/conf.d", cli->omd_root);
	snprintf(etc_naemon, sizeof(etc_naemon), "%s/etc/naemon/conf.d", cli->omd_root);
	dirs[0] = etc;
	dirs[1] = etc_naemon;
	if (!o->config_dir && sitedump_subdir(dirs, 2, cli->confdir, sizeof(cli->confdir))) {
		o->config_dir = cli->confdir;
		snprintf(cli->lbl_confdir, sizeof(cli->lbl_confdir), "--config-dir (OMD_ROOT's)");
	}
	return 0;
}

/* Options not given: from --nagios-cfg, else from OMD_ROOT; what is
 * given (command line, then config file) always wins. 0, or 2. */
static int import_core_defaults(struct import_opts *o, struct import_cli *cli)
{
	strcpy(cli->lbl_cmd, "--command-file");
	strcpy(cli->lbl_cr, "--checkresults");
	strcpy(cli->lbl_status, "--status-file");
	strcpy(cli->lbl_objects, "--objects-cache");
	strcpy(cli->lbl_confdir, "--config-dir");
	strcpy(cli->lbl_live, "--livestatus");
	cli->omd_root = getenv("OMD_ROOT");
	if (cli->nagios_cfg)
		return nagios_cfg_defaults(o, cli);
	return omd_defaults(o, cli);
}

/* Under OMD_ROOT with a Nagios or Naemon core (detected): its check
 * result spool tmp/nagios/checkresults (tmp/naemon/checkresults for
 * OMD's Naemon) carries results with their execution time, when it is
 * there and no channel was chosen. 0, or 2. */
static int omd_spool_default(struct import_opts *o, struct import_cli *cli)
{
	struct stat st;

	if (!cli->omd_root || cli->omd_root[0] != '/' || cli->nagios_cfg || o->checkresults || o->command_file ||
	    o->livestatus != cli->live || o->core != CORE_NAGIOS)
		return 0;
	snprintf(cli->omd_spool, sizeof(cli->omd_spool), "%s/tmp/%s/checkresults", cli->omd_root,
		 strcmp(o->profile->name, "naemon") ? "nagios" : "naemon");
	if (stat(cli->omd_spool, &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	o->checkresults = cli->omd_spool;
	snprintf(cli->lbl_cr, sizeof(cli->lbl_cr), "--checkresults (OMD_ROOT's)");
	if (!o->dry_run && path_is(cli->lbl_cr, o->checkresults, S_IFDIR, 1) < 0)
		return 2;
	return 0;
}

/* What the options name, checked before any bundle is read or anything
 * written: a misconfigured central is a usage error (exit 2, the bundle
 * stays with the sender for the next try), never a refused bundle. */
static int import_check_paths(const struct import_opts *o, const struct import_cli *cli)
{
	sd_error e = { 0 };

	if (!o->dry_run && !o->checkresults && !o->command_file && !o->livestatus && !o->api && !o->config_dir) {
		fprintf(stderr, "siteload: no way to the central core: give --nagios-cfg, --livestatus, --icinga2-api, --command-file "
			"(with --checkresults) or --config-dir (or --dry-run)\n");
		return 2;
	}
	if (o->livestatus && ls_spec_check(o->livestatus, &e) < 0) {
		fprintf(stderr, "siteload: %s: %s\n", cli->lbl_live, e.msg);
		return 2;
	}
	if ((o->status_file && (path_is(cli->lbl_status, o->status_file, S_IFREG, 0) < 0 ||
				path_is(cli->lbl_objects, o->objects_cache, S_IFREG, 0) < 0)) ||
	    (o->config_dir && path_is(cli->lbl_confdir, o->config_dir, S_IFDIR, !o->dry_run) < 0))
		return 2;
	if (o->dry_run)
		return 0;
	if ((o->checkresults && path_is(cli->lbl_cr, o->checkresults, S_IFDIR, 1) < 0) ||
	    (o->command_file && path_is(cli->lbl_cmd, o->command_file, S_IFIFO, 1) < 0))
		return 2;
	return 0;
}

/* The first things done rather than checked: our own path (o->self, in
 * self[PATH_MAX]) and the state directory, made if need be and made
 * absolute (*abs_state, the caller frees it). 0, or 2 after the message. */
static int import_prepare(struct import_opts *o, char *self, char **abs_state)
{
	ssize_t n;

	if ((n = readlink("/proc/self/exe", self, PATH_MAX - 1)) < 0) {
		fprintf(stderr, "siteload: /proc/self/exe: %s\n", strerror(errno));
		return 2;
	}
	self[n] = 0;
	/* the stale check in the templates names the installed siteload when
	 * there is one: a run of another build (a test tree, a newer one not
	 * yet installed) must not rewrite the file and reload the core */
	if (access(SITEDUMP_BINDIR "/siteload", X_OK) == 0)
		snprintf(self, PATH_MAX, "%s", SITEDUMP_BINDIR "/siteload");
	o->self = self;
	if (mkdir(o->state_dir, 0711) == 0)
		chmod(o->state_dir, 0711);       /* not narrowed by the caller's umask: the core's stale check reads it */
	else if (errno != EEXIST) {
		fprintf(stderr, "siteload: %s: %s\n", o->state_dir, strerror(errno));
		return 2;
	}
	if (!(*abs_state = realpath(o->state_dir, NULL))) {
		fprintf(stderr, "siteload: %s: %s\n", o->state_dir, strerror(errno));
		return 2;
	}
	o->state_dir = *abs_state;
	return 0;
}

/* the import itself, from mail, the spool or the paths left in argv;
 * its exit code */
static int import_dispatch(int argc, char **argv, struct import_opts *o, struct import_cli *cli)
{
	struct handoff h;
	sd_error err = { "" };
	int rc;

	o->report = imp_report;
	o->info = imp_info;
	o->ctx = &cli->quiet;
	if (!cli->quiet && isatty(STDERR_FILENO))
		o->waiter = (struct sd_waiter){ imp_waiting, NULL };
	/* what siteload writes is its own (0600) unless a file says otherwise:
	 * the core's config and check results get their modes explicitly */
	umask(077);
	h = (struct handoff){ handoff_import, o, o->dry_run != NULL, o->report, o->info, o->outcome, o->ctx };
	if (cli->mail || cli->maildir)    /* transports/mail.c */
		rc = cli->maildir ? mail_import_maildir(&h, cli->maildir, &err) : mail_import_message(&h, cli->mail, &err);
	else if (cli->spool)      /* files each bundle by its outcome (transports/spool.c) */
		rc = spool_import(cli->spool, &h, NULL, &err);
	else
		rc = import_run(o, argv + optind, argc - optind, &err);
	if (rc == 2 && err.msg[0])
		fprintf(stderr, "siteload: %s\n", err.msg);
	/* an MTA keeps a message whose pipe command exits 75 (EX_TEMPFAIL) and tries again later */
	if (cli->mail && rc == 2)
		rc = 75;
	return rc;
}

/* Without --core: the core the central says it is (Nagios 4 when there is
 * no way to ask, as in a --dry-run without a central); the option checks
 * again if that changes the family. */
static int import_detect(struct import_opts *o, const struct import_cli *cli)
{
	char pv[128], lv[128];
	enum sd_core before = o->core;
	int known;

	if (cli->core || (!o->livestatus && !o->status_file))
		return 0;
	if (detect_core(o, pv, sizeof(pv), lv, sizeof(lv)) < 0)
		return 2;
	o->profile = core_profile_detect(pv, lv, &known);
	if (!known)
		fprintf(stderr, "siteload: the central core says it is '%s'%s%s%s: not a core siteload knows, "
			"treated as Nagios 4 (--core to choose)\n", pv, *lv ? " (Livestatus '" : "", lv, *lv ? "')" : "");
	o->core = o->profile->core;
	if (o->core == before)
		return 0;
	if (!cli->fmt)
		o->config_format = o->core;
	return import_check_sinks(o);
}

/* The import with its argv: the checks in their order, then the run. */
static int import_main_argv(int argc, char **argv, struct import_opts *o, struct import_cli *cli, char *self,
			    char **abs_state)
{
	int rc;

	if ((rc = import_parse_opts(argc, argv, o, cli)))
		return rc;
	/* a core config that cannot be read now: the MTA keeps the message */
	if ((rc = import_core_defaults(o, cli)))
		return rc == 2 && cli->mail ? 75 : rc;
	if ((rc = import_check_sources(argc, o, cli)) ||
	    (rc = import_check_api(o, cli)) ||
	    (rc = import_pick_cores(o, cli)) ||
	    (rc = import_check_sinks(o)))
		return rc;
	if ((rc = import_check_paths(o, cli)) ||
	    (rc = import_detect(o, cli)) ||
	    (rc = omd_spool_default(o, cli)) ||
	    (rc = import_prepare(o, self, abs_state)))
		/* through an MTA (--mail): a central that cannot be used now keeps
		 * the message queued (75, EX_TEMPFAIL) rather than bounced */
		return rc == 2 && cli->mail ? 75 : rc;
	return import_dispatch(argc, argv, o, cli);
}

#define SITELOAD_CONF "/etc/sitedump/siteload.conf"

/* argv with the options of --config FILE, or of SITELOAD_CONF when it
 * exists, in front (base/optfile.h); *nargv NULL: none. 0 or 2. */
static int import_optfile(int *argc, char **argv, int *nargc, char ***nargv)
{
	const char *path;
	sd_error e = { "" };

	*nargv = NULL;
	if (optfile_pick("config", argc, argv, SITELOAD_CONF, &path, &e) < 0 ||
	    (path && optfile_merge(path, "siteload", import_longopts, *argc, argv, nargc, nargv, &e) < 0)) {
		fprintf(stderr, "siteload: %s\n", e.msg);
		return 2;
	}
	return 0;
}

static int import_main(int argc, char **argv)
{
	struct import_opts o = { 0 };
	struct import_cli cli = { 0 };
	char self[PATH_MAX], *abs_state = NULL, **fargv = NULL;
	int rc, fargc = 0;

	if ((rc = import_optfile(&argc, argv, &fargc, &fargv)))
		return rc;
	if (fargv) {
		rc = import_main_argv(fargc, fargv, &o, &cli, self, &abs_state);
		optfile_free(fargc, fargv);
	} else {
		rc = import_main_argv(argc, argv, &o, &cli, self, &abs_state);
	}
	free(abs_state);
	free(cli.url_buf);
	nagios_cfg_free(&cli.ncfg);
	explicit_bzero(cli.password, sizeof(cli.password));
	return rc;
}


static int stale_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state-dir", required_argument, 0, 'd' },
		{ "site", required_argument, 0, 's' },
		{ "link", no_argument, 0, 'l' },
		{ 0, 0, 0, 0 },
	};
	const char *dir = seq_default_dir(), *site = NULL;
	char buf[1024];
	int c, link = 0, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == 'd') dir = optarg;
		else if (c == 's') site = optarg;
		else if (c == 'l') link = 1;
		else {
			printf("UNKNOWN - usage: siteload stale --site SITE [--state-dir DIR] [--link]\n");
			return 3;
		}
	}
	if (!site) {
		printf("UNKNOWN - usage: siteload stale --site SITE [--state-dir DIR] [--link]\n");
		return 3;
	}
	rc = import_stale_message(dir, site, link, buf, sizeof(buf));
	printf("%s\n", buf);
	return rc;
}

/* A first argument that reads as a command word but is none: not an
 * option, not "-", no such file (a bundle may be called anything). */
static int unknown_command(const char *a)
{
	struct stat st;
	size_t i;

	if (!*a || stat(a, &st) == 0)
		return 0;
	for (i = 0; a[i]; i++)
		if (a[i] < 'a' || a[i] > 'z')
			return 0;
	return 1;
}

int main(int argc, char **argv)
{
	if (sodium_init() < 0) {
		fprintf(stderr, "siteload: libsodium failed to initialise\n");
		return 2;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "keygen") && wants_help(argc - 1, argv + 1))
		return fputs(USAGE_KEYGEN, stdout), 0;
	if (!strcmp(argv[1], "stale") && wants_help(argc - 1, argv + 1))
		return fputs(USAGE_STALE, stdout), 0;
	if (!strcmp(argv[1], "keygen")) {
		const char *name = NULL;
		char msg[1024];
		sd_error err = { "" };
		int c, force = 0;

		optind = 1;
		while ((c = getopt(argc - 1, argv + 1, "o:f")) != -1) {
			if (c == 'o')
				name = optarg;
			else if (c == 'f')
				force = 1;
			else
				return fputs(USAGE_KEYGEN, stderr), 2;
		}
		if (!name || optind < argc - 1)
			return fprintf(stderr, "siteload: keygen: %s\n" USAGE_KEYGEN,
				       !name ? "-o NAME missing" : "unexpected argument"), 2;
		if (seal_keygen(name, force, msg, sizeof(msg), &err) < 0) {
			fprintf(stderr, "siteload: keygen: %s\n", err.msg);
			return 2;
		}
		printf("siteload: %s\nremote sites encrypt with: sitedump -k SITE.key --encrypt-to %s.pub ...\n"
		       "here: siteload verify -p SITE.pub --decrypt-key %s.key BUNDLE\n", msg, name, name);
		return 0;
	}
	if (!strcmp(argv[1], "import"))
		return import_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "stale"))
		return stale_main(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return sitestatus_cmd(argc - 1, argv + 1, stdout, stderr);
	if (!strcmp(argv[1], "verify"))
		return check_main(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "inspect"))
		return check_main(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("siteload %s\n", SITEDUMP_VERSION);
		return 0;
	}
	if (unknown_command(argv[1])) {
		fprintf(stderr, "siteload: unknown command '%s' (import, verify, inspect, keygen, stale, status; or a bundle file)\n",
			argv[1]);
		return 2;
	}
	/* no command word: an import (sitedump ... | ssh central siteload -) */
	return import_main(argc, argv);
}
