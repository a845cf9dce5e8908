/*
 * siteload - verify and inspect sitedump bundles (import: to come).
 *
 * Only this file prints and exits. Exit codes: 0 valid; 1 verification
 * failed (the bundle is bad: signature, hash, size, member set, format);
 * 2 usage error or I/O trouble (missing file, unreadable key).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include <yajl/yajl_gen.h>
#include "bundle.h"
#include "minisign.h"
#include "seal.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: siteload verify -p SITE.pub [--decrypt-key CENTRAL.key] [LIMITS] BUNDLE|-\n"
		"       siteload inspect [-p SITE.pub] [--decrypt-key CENTRAL.key] [--json] [LIMITS] BUNDLE|-\n"
		"       siteload keygen -o NAME [-f]    (encryption key pair for --encrypt-to)\n"
		"LIMITS: --max-members N --max-member-size BYTES --max-total-size BYTES\n"
		"See siteload(1).\n");
}

static int load_pub(const char *path, struct ms_pubkey *pk)
{
	char buf[1024];
	sd_error err;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "siteload: %s: %s\n", path, strerror(errno));
		return -1;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0 || ms_pubkey_parse(buf, (size_t)n, pk, &err) < 0) {
		fprintf(stderr, "siteload: %s: %s\n", path, n < 0 ? strerror(errno) : err.msg);
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
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || (!inspect && !pub) || (json && !inspect)) {
		usage(stderr);
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
		plain = seal_open(fd, dk, NULL, &vf, &err);
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
				return fprintf(stderr, "usage: siteload keygen -o NAME [-f]\n"), 2;
		}
		if (!name || optind < argc - 1)
			return fprintf(stderr, "usage: siteload keygen -o NAME [-f]\n"), 2;
		if (seal_keygen(name, force, msg, sizeof(msg), &err) < 0) {
			fprintf(stderr, "siteload: keygen: %s\n", err.msg);
			return 2;
		}
		printf("siteload: %s\nremote sites encrypt with: sitedump -k SITE.key --encrypt-to %s.pub ...\n"
		       "here: siteload verify -p SITE.pub --decrypt-key %s.key BUNDLE\n", msg, name, name);
		return 0;
	}
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
	fprintf(stderr, "siteload: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
