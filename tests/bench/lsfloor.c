/*
 * lsfloor - the benchmark's raw query floor: send exactly the Livestatus
 * requests sitedump would send (taken from the same code) and discard the
 * replies unparsed. sitedump's time over this is its own cost.
 * usage: lsfloor SOCKET result|state|config|all (result: the checkresult text's queries)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "livestatus/livestatus.h"
#include "livestatus/source_livestatus.h"

static long long total;

static int send_discard(void *ctx, const char *request)
{
	const struct ls_source_opts *o = ctx;
	static char buf[1 << 16];
	char *req;
	ssize_t n;
	sd_error err;
	int len, fd = ls_connect(o->spec, o->timeout_ms, &err);

	if (fd < 0) {
		fprintf(stderr, "lsfloor: %s\n", err.msg);
		return -1;
	}
	/* as ls_query: the request's own trailing newline gives way to the suffix */
	len = (int)strlen(request);
	if (len && request[len - 1] == '\n')
		len--;
	if (asprintf(&req, "%.*s%s", len, request, LS_REQUEST_SUFFIX) < 0)
		return -1;
	if (write(fd, req, strlen(req)) < 0)
		perror("write");
	free(req);
	shutdown(fd, SHUT_WR);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			total += n;
			continue;
		}
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			poll(&p, 1, -1);
			continue;
		}
		break;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	struct ls_source_opts o = { .timeout_ms = 60000, .host_headers = "", .host_only_headers = "",
				    .service_headers = "" };
	sd_error err;

	if (argc != 3) {
		fprintf(stderr, "usage: lsfloor SOCKET result|state|config|all\n");
		return 2;
	}
	o.spec = argv[1];
	o.parts = !strcmp(argv[2], "result") ? SD_PART_RESULT :
		  !strcmp(argv[2], "config") ? SD_PART_CONFIG :
		  !strcmp(argv[2], "all") ? SD_PART_STATE | SD_PART_CONFIG : SD_PART_STATE;
	if (source_livestatus_requests(&o, send_discard, &o, &err) < 0)
		return 1;
	return 0;
}
