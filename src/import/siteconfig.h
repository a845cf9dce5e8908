/*
 * siteconfig.h - a config bundle into the central: which hosts the site
 * owns, and the site's config file for the central core.
 *
 * Why apart: this is where a remote site's text becomes the central's
 * config, so every rule that keeps one site from harming the central or
 * another site is here, in one place: a site owns only hosts that are
 * neither the central's own nor another site's, defines only groups of
 * its own (prefix + SITE + ":" + name), names nothing a core would
 * misread, and cannot close a cycle of parents. The file is then put in
 * place through a checked candidate (candidate.h).
 */
#ifndef SITEDUMP_IMPORT_SITECONFIG_H
#define SITEDUMP_IMPORT_SITECONFIG_H
#include "bundle/bundle.h"
#include "import/runctx.h"

/* The link host siteload defines per site (LINK_PREFIX + SITE), whose
 * service the state part sets at every import; no site may own such a name. */
#define LINK_PREFIX "sitedump-"
#define LINK_SERVICE "sitedump link"

/* The config.json of site's bundle r: the ownership (SITE.hosts; with
 * --dry-run kept in c) and, with --config-dir, the site's file and the
 * shared templates (*changed set if either changed or would). 0 imported,
 * 1 the site's config refused by the core's check (err), -1 failed (err). */
int siteconfig_import(struct runctx *c, struct bundle_reader *r, const char *site, int *changed, sd_error *err);
#endif
