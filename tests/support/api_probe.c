/*
 * api_probe - drives src/icinga2api (and formats/icinga2_api) for the TAP
 * tests: one request per run, what came back on stdout, the client's error
 * line on stderr.
 *
 *   api_probe [-u URL]... [-U USER -P PASSFILE] [-c CERT -k KEY] -C CA [-t MS] CMD ARGS
 *     get PATH                     GET (no body)
 *     req METHOD PATH BODY         any request with a JSON body ("" for none)
 *     stream METHOD PATH BODY      streamed: prints the body and how many chunks
 *     pcr HOST SERVICE|- EXIT START END SOURCE OUTPUT [PERF...]
 *                                  process-check-result; prints each result
 *     bench N HOST SERVICE         N process-check-results in a row; prints the rate
 *
 * stdout: "status N", the body or results, last "url BASE" (the URL that
 * answered). Exit 0: 2xx (and every result 200); 1: another status or a
 * failed result; 2: no status (-1); 64: usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sodium.h>
#include "formats/icinga2_api.h"
#include "icinga2api/api.h"

#define MAX_URLS 8

static int usage(void)
{
	fprintf(stderr, "usage: api_probe [-u URL]... [-U USER -P PASSFILE] [-c CERT -k KEY] -C CA [-t MS] "
		"get|req|stream|pcr|bench ARGS\n");
	return 64;
}

static int read_password(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "r");

	if (!f || !fgets(buf, (int)size, f)) {
		perror(path);
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	buf[strcspn(buf, "\r\n")] = '\0';
	return 0;
}

static int print_result(void *ctx, const struct ia_result *r, sd_error *err)
{
	int *failed = ctx;

	printf("result %d %s%s%s\n", r->code, r->status ? r->status : "", r->name ? " name=" : "",
	       r->name ? r->name : "");
	if (r->code != 200)
		*failed = 1;
	return 0;
}

struct chunks {
	long n;
	size_t bytes;
};

static int print_chunk(void *ctx, const char *buf, size_t n, sd_error *err)
{
	struct chunks *c = ctx;

	c->n++;
	c->bytes += n;
	return fwrite(buf, 1, n, stdout) == n ? 0 : sd_fail(err, "stdout: write failed");
}

/* one process-check-result; 0 ok, 1 refused, 2 failed */
static int pcr(struct api *h, const struct ia_target *t, const struct ia_check_result *cr, int quiet,
	       sd_error *err)
{
	struct api_reply rep;
	char *body = ia_process_check_result(t, cr, err);
	long st;
	int failed = 0;

	if (!body)
		return 2;
	st = api_request(h, "POST", IA_PATH_PROCESS_CHECK_RESULT, body, &rep, err);
	free(body);
	if (!quiet && st >= 0)
		printf("status %ld\n", st);
	/* the results of a refused action are read too; its error stays the client's */
	if (st >= 0 && ia_read_results(rep.body, rep.len, quiet ? NULL : print_result, &failed,
				       st < 300 ? err : &(sd_error){ "" }) < 0)
		failed = 1;
	api_reply_free(&rep);
	if (st < 0)
		return 2;
	return st >= 300 || failed;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run(struct api *h, int argc, char **argv, sd_error *err)
{
	const char *cmd = argv[0];
	struct api_reply rep;
	long st;

	if (!strcmp(cmd, "get") && argc == 2) {
		st = api_request(h, "GET", argv[1], NULL, &rep, err);
	} else if (!strcmp(cmd, "req") && argc == 4) {
		st = api_request(h, argv[1], argv[2], *argv[3] ? argv[3] : NULL, &rep, err);
	} else if (!strcmp(cmd, "stream") && argc == 4) {
		struct chunks c = { 0, 0 };

		st = api_stream(h, argv[1], argv[2], *argv[3] ? argv[3] : NULL, print_chunk, &c, err);
		printf("\nstatus %ld chunks %ld bytes %zu\n", st, c.n, c.bytes);
		return st < 0 ? 2 : st >= 300;
	} else if (!strcmp(cmd, "pcr") && argc >= 8) {
		struct ia_target t = { .host = argv[1], .service = strcmp(argv[2], "-") ? argv[2] : NULL };
		struct ia_check_result cr = {
			.exit_status = atoi(argv[3]), .start = atof(argv[4]), .end = atof(argv[5]),
			.check_source = *argv[6] ? argv[6] : NULL, .output = argv[7],
			.perf = (const char *const *)argv + 8, .n_perf = (size_t)argc - 8,
		};
		return pcr(h, &t, &cr, 0, err);
	} else if (!strcmp(cmd, "bench") && argc == 4) {
		struct ia_target t = { .host = argv[2], .service = strcmp(argv[3], "-") ? argv[3] : NULL };
		long i, n = atol(argv[1]);
		double t0 = now(), dt;

		for (i = 0; i < n; i++) {
			char out[64];
			struct ia_check_result cr = { .exit_status = (int)(i % 2), .output = out };
			int rc;

			snprintf(out, sizeof(out), "bench %ld", i);
			if ((rc = pcr(h, &t, &cr, 1, err)))
				return rc;
		}
		dt = now() - t0;
		printf("bench %ld requests in %.3f s: %.0f/s\n", n, dt, n / dt);
		return 0;
	} else {
		return usage();
	}
	if (st >= 0)
		printf("status %ld\n%s\n", st, rep.body);
	api_reply_free(&rep);
	return st < 0 ? 2 : st >= 300;
}

int main(int argc, char **argv)
{
	const char *urls[MAX_URLS];
	struct api_opts o = { .urls = urls };
	char password[256];
	sd_error err = { "" };
	struct api *h;
	int c, rc;

	while ((c = getopt(argc, argv, "+u:U:P:c:k:C:t:")) != -1) {
		switch (c) {
		case 'u':
			if (o.n_urls == MAX_URLS)
				return usage();
			urls[o.n_urls++] = optarg;
			break;
		case 'U': o.user = optarg; break;
		case 'P':
			if (read_password(optarg, password, sizeof(password)) < 0)
				return 2;
			o.password = password;
			break;
		case 'c': o.cert_file = optarg; break;
		case 'k': o.key_file = optarg; break;
		case 'C': o.ca_file = optarg; break;
		case 't': o.timeout_ms = atol(optarg); break;
		default: return usage();
		}
	}
	if (optind >= argc)
		return usage();
	h = api_open(&o, &err);
	sodium_memzero(password, sizeof(password));
	if (!h) {
		fprintf(stderr, "api_probe: %s\n", err.msg);
		return 2;
	}
	rc = run(h, argc - optind, argv + optind, &err);
	if (rc && rc != 64)
		fprintf(stderr, "api_probe: %s\n", err.msg[0] ? err.msg : "a result failed");
	printf("url %s\n", api_url(h));
	api_close(h);
	return rc;
}
