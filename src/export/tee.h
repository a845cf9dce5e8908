/*
 * tee.h - one source pass into several sinks (the members of a bundle),
 * counting what went through for the manifest.
 */
#ifndef SITEDUMP_TEE_H
#define SITEDUMP_TEE_H

#include "model/snapshot.h"

#define TEE_MAX 8

struct tee_counts {
	long long hosts, services, comments, downtimes;
};

/* outs are borrowed; names label skip reports ("nagios.cfg: ..."). */
struct sd_sink *tee_new(struct sd_sink *const *outs, const char *const *names, int n);
const struct tee_counts *tee_counts(const struct sd_sink *tee);
void tee_free(struct sd_sink *tee);

#endif
