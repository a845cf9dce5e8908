/*
 * source_livestatus.h - read a site's snapshot over Livestatus.
 */
#ifndef SITEDUMP_SOURCE_LIVESTATUS_H
#define SITEDUMP_SOURCE_LIVESTATUS_H

#include "model/snapshot.h"

struct ls_source_opts {
	const char *spec;               /* socket, see livestatus.h */
	int timeout_ms;
	const char *host_headers;       /* -H: hosts and services ("" or lines ending in \n) */
	const char *host_only_headers;  /* -O: hosts only */
	const char *service_headers;    /* -S: services only */
	const char *item_headers;       /* comments and downtimes only (NULL: none) */
	unsigned parts;                 /* enum sd_part */
};

/* Emits groups (config), hosts, services, then comments and downtimes
 * (state) to sink. begin/end are the caller's. Returns 0 or -1. */
int source_livestatus_run(const struct ls_source_opts *o, const struct sd_sink *sink, sd_error *err);

/* The same queries without running them: fn gets each request text in
 * order (for the benchmark's raw query floor). Returns 0 or -1. */
int source_livestatus_requests(const struct ls_source_opts *o,
			       int (*fn)(void *ctx, const char *request), void *ctx, sd_error *err);

#endif
