/*
 * source_api.h - read an Icinga 2 site's snapshot through its REST API
 * (/v1/objects/...), for sites without Livestatus.
 *
 * The same records, in the same order and with the same values, as the
 * Livestatus source gives for the same Icinga 2 (snapshot.h); what the
 * API cannot give is in docs/fidelity.md ("sitedump from the REST API").
 */
#ifndef SITEDUMP_ICINGA2API_SOURCE_API_H
#define SITEDUMP_ICINGA2API_SOURCE_API_H

#include <stddef.h>
#include "model/snapshot.h"

struct api_source_opts {
	const char *const *urls;        /* https://HOST:PORT, tried in order (api.h) */
	size_t n_urls;
	const char *user;               /* ApiUser; NULL: client certificate only */
	const char *password_file;      /* its password: the file's first line */
	const char *cert_file, *key_file;
	const char *ca_file;            /* required */
	long timeout_ms;
	unsigned parts;                 /* enum sd_part */
};

/* Emits groups and parents (config), hosts, services, then comments and
 * downtimes (state) to sink. begin/end are the caller's. 0 or -1 (err:
 * one line naming the URL and the cause). */
int source_api_run(const struct api_source_opts *o, const struct sd_sink *sink, sd_error *err);

/*
 * The reader of object query replies, fed in pieces (api_feed_fn's shape),
 * one reply after another: begin, feed..., end. Between replies it keeps
 * what later ones need (host parents from the dependencies, downtime names
 * to legacy ids). Exposed for the unit test and the fuzz target.
 */
enum api_query {
	APIQ_HOSTGROUPS, APIQ_SERVICEGROUPS, APIQ_DEPENDENCIES, APIQ_HOSTS, APIQ_SERVICES,
	APIQ_COMMENTS, APIQ_DOWNTIME_IDS, APIQ_DOWNTIMES,
};

struct api_objreader;
struct api_objreader *api_objreader_new(unsigned parts, const struct sd_sink *sink);
/* The object type (e.g. "hosts") and request body ({"attrs":[...]}) of a
 * query; the body is malloc'd, NULL when out of memory. */
const char *api_query_type(enum api_query q);
char *api_query_body(enum api_query q, unsigned parts);
int api_objreader_begin(struct api_objreader *r, enum api_query q, sd_error *err);
int api_objreader_feed(void *r, const char *buf, size_t n, sd_error *err);
/* End of the reply: the number of results, or -1 with err. */
long api_objreader_end(struct api_objreader *r, sd_error *err);
void api_objreader_free(struct api_objreader *r);

#endif
