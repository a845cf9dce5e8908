/*
 * sitedump - export a monitoring site's configuration and full state.
 *
 * Only this file prints and exits. Exit codes: 0 everything written;
 * 1 written, but some objects were skipped (each reported on stderr);
 * 2 usage error or bad input (socket, server error, malformed reply or
 * status.dat): nothing is written, no output file is left behind.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "checkresult.h"
#include "icinga2_dsl.h"
#include "livestatus.h"
#include "nagios_objects.h"
#include "output.h"
#include "snapshot_json.h"
#include "source_livestatus.h"
#include "statusdat.h"

enum format { F_DEFAULT, F_CHECKRESULT, F_JSON, F_NAGIOS, F_ICINGA2 };

static int skipped_count;

static void report_skip(void *ctx, const char *what, const char *why)
{
	skipped_count++;
	fprintf(stderr, "sitedump: skipped %s: %s\n", what, why);
}

static void report_warn(void *ctx, const char *what, const char *why)
{
	fprintf(stderr, "sitedump: warning: %s: %s\n", what, why);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sitedump [-C [-T] [-G]] [-M] [-s SOCKET] [-H HDR]... [-S HDR]... [-O HDR]...\n"
		"                [-p PREFIX] [-i MINUTES] [--format checkresult|json|nagios|icinga2] [--all]\n"
		"                [--status-file PATH --objects-cache PATH] [-o FILE] [--timeout SECONDS]\n"
		"                [--site NAME]\n"
		"  -s SOCKET   unix:PATH, tcp:HOST:PORT or PATH (default $OMD_ROOT/tmp/run/live)\n"
		"  -C          configuration instead of state; -T adds the templates; -G contact groups\n"
		"  -M          mark mode: first line says \"status\" or \"config SITE\"\n"
		"  -H/-S/-O    Livestatus header for host+service / service / host queries\n"
		"  -p PREFIX   prefix host names; -i MINUTES check_interval in the templates\n"
		"  -o FILE     write atomically to FILE (default stdout)\n"
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

int main(int argc, char **argv)
{
	enum { O_FORMAT = 256, O_ALL, O_STATUS, O_OBJECTS, O_TIMEOUT, O_SITE };
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
		{ "format", required_argument, 0, O_FORMAT },
		{ "all", no_argument, 0, O_ALL },
		{ "status-file", required_argument, 0, O_STATUS },
		{ "objects-cache", required_argument, 0, O_OBJECTS },
		{ "timeout", required_argument, 0, O_TIMEOUT },
		{ "site", required_argument, 0, O_SITE },
		{ "help", no_argument, 0, 'h' },
		{ "version", no_argument, 0, 'V' },
		{ 0, 0, 0, 0 },
	};
	struct ls_source_opts lo = { .timeout_ms = 30000 };
	struct writer_opts wo = { .prefix = "" };
	char *hh = NULL, *sh = NULL, *oh = NULL, hostname[256] = "localhost", source[4200];
	const char *outpath = NULL, *status_file = NULL, *objects_cache = NULL, *site = NULL;
	enum format fmt = F_DEFAULT;
	int config = 0, all = 0, mark = 0, c, rc, secs;
	struct sd_sink *sink = NULL;
	struct out_file *of;
	struct sd_meta meta;
	sd_error err = { "" };

	while ((c = getopt_long(argc, argv, "s:CTGMp:i:H:S:O:o:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's': lo.spec = optarg; break;
		case 'C': config = 1; break;
		case 'T': wo.templates = 1; break;
		case 'G': wo.contact_groups = 1; break;
		case 'M': mark = 1; break;
		case 'p': wo.prefix = optarg; break;
		case 'i':
			if (parse_num(optarg, 1, 1000000, &wo.check_interval) < 0) {
				fprintf(stderr, "sitedump: -i: not a positive number of minutes: %s\n", optarg);
				return 2;
			}
			break;
		case 'H': case 'S': case 'O':
			if (add_header(c == 'H' ? &hh : c == 'S' ? &sh : &oh, optarg) < 0) {
				fprintf(stderr, "sitedump: -%c: a header is one line 'Name: value': %s\n", c, optarg);
				return 2;
			}
			break;
		case 'o': outpath = optarg; break;
		case O_FORMAT:
			if (!strcmp(optarg, "checkresult")) fmt = F_CHECKRESULT;
			else if (!strcmp(optarg, "json")) fmt = F_JSON;
			else if (!strcmp(optarg, "nagios")) fmt = F_NAGIOS;
			else if (!strcmp(optarg, "icinga2")) fmt = F_ICINGA2;
			else {
				fprintf(stderr, "sitedump: --format: unknown format '%s'\n", optarg);
				return 2;
			}
			break;
		case O_ALL: all = 1; break;
		case O_STATUS: status_file = optarg; break;
		case O_OBJECTS: objects_cache = optarg; break;
		case O_TIMEOUT:
			if (parse_num(optarg, 1, 86400, &secs) < 0) {
				fprintf(stderr, "sitedump: --timeout: not a number of seconds: %s\n", optarg);
				return 2;
			}
			lo.timeout_ms = secs * 1000;
			break;
		case O_SITE: site = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("sitedump %s\n", SITEDUMP_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "sitedump: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (fmt == F_DEFAULT)
		fmt = config ? F_NAGIOS : F_CHECKRESULT;
	if (fmt == F_NAGIOS || fmt == F_ICINGA2)
		config = 1;
	if (fmt == F_CHECKRESULT && config) {
		fprintf(stderr, "sitedump: checkresult output carries state; drop -C or choose another --format\n");
		return 2;
	}
	if (all && fmt != F_JSON) {
		fprintf(stderr, "sitedump: --all is for --format json\n");
		return 2;
	}
	wo.parts = all ? SD_PART_STATE | SD_PART_CONFIG : config ? SD_PART_CONFIG : SD_PART_STATE;
	if (!!status_file != !!objects_cache) {
		fprintf(stderr, "sitedump: --status-file and --objects-cache go together\n");
		return 2;
	}
	if (status_file && all) {
		fprintf(stderr, "sitedump: --all needs Livestatus; export state and config separately\n");
		return 2;
	}
	if (status_file && (hh || sh || oh || lo.spec)) {
		fprintf(stderr, "sitedump: -s/-H/-S/-O are for Livestatus, not --status-file\n");
		return 2;
	}
	if (!status_file && !lo.spec && !(lo.spec = ls_default_spec())) {
		fprintf(stderr, "sitedump: no Livestatus socket: give -s SOCKET (or set OMD_ROOT), "
				"or --status-file and --objects-cache\n");
		return 2;
	}
	if (!site && !(site = getenv("OMD_SITE"))) {
		gethostname(hostname, sizeof(hostname) - 1);
		site = hostname;
	}
	lo.host_headers = hh ? hh : "";
	lo.service_headers = sh ? sh : "";
	lo.host_only_headers = oh ? oh : "";
	lo.parts = wo.parts;
	wo.now = time(NULL);

	if (!(of = out_open(outpath, &err))) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		return 2;
	}
	switch (fmt) {
	case F_JSON: sink = snapshot_json_writer_new(out_stream(of), &wo); break;
	case F_NAGIOS: sink = nagios_objects_writer_new(out_stream(of), &wo); break;
	case F_ICINGA2: sink = icinga2_writer_new(out_stream(of), &wo); break;
	default: sink = checkresult_writer_new(out_stream(of), &wo); break;
	}
	if (!sink) {
		fprintf(stderr, "sitedump: out of memory\n");
		out_abort(of);
		return 2;
	}
	sink->skipped = report_skip;
	sink->warned = report_warn;

	if (status_file)
		snprintf(source, sizeof(source), "statusdat:%s", status_file);
	else
		snprintf(source, sizeof(source), "livestatus:%s", lo.spec);
	meta = (struct sd_meta){ .site = site, .source = source, .created = wo.now, .parts = wo.parts };
	if (mark)
		fprintf(out_stream(of), config ? "config %s\n" : "status\n", site);

	rc = sink->begin ? sink->begin(sink->ctx, &meta, &err) : 0;
	if (rc == 0) {
		if (status_file)
			rc = statusdat_read(status_file, objects_cache, wo.parts, sink, &err);
		else
			rc = source_livestatus_run(&lo, sink, &err);
	}
	if (rc == 0 && sink->end)
		rc = sink->end(sink->ctx, &err);
	if (rc == 0)
		rc = out_commit(of, &err);
	else
		out_abort(of);

	switch (fmt) {
	case F_JSON: snapshot_json_writer_free(sink); break;
	case F_NAGIOS: nagios_objects_writer_free(sink); break;
	case F_ICINGA2: icinga2_writer_free(sink); break;
	default: checkresult_writer_free(sink); break;
	}
	free(hh);
	free(sh);
	free(oh);
	if (rc < 0) {
		fprintf(stderr, "sitedump: %s\n", err.msg);
		return 2;
	}
	return skipped_count ? 1 : 0;
}
