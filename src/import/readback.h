/*
 * readback.h - after a site's state was sent, read the central back and
 * check that it took everything.
 */
#ifndef SITEDUMP_READBACK_H
#define SITEDUMP_READBACK_H
#include "import/reconcile.h"
#include "import/runctx.h"

/* Whether this run's central can be read back (Livestatus). */
int readback_possible(const struct import_opts *o);
/* Re-read the central (c->central is replaced) until a new run of the
 * same state (fd, ro: with the ledger the sending run returned) would
 * send nothing, for at most --reap-wait. Returns 0 when it would not,
 * the number of results and commands still wanted (each object or
 * command reported once) when the time is up, -1 (err set) when the
 * central cannot be read. */
long long readback_run(struct runctx *c, int fd, const struct reconcile_opts *ro, sd_error *err);
#endif
