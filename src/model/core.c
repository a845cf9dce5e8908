/*
 * core.c - each core's profile (core.h); the numbers are what the tests
 * against the real cores show (docs/core-behaviour.md §3-§7).
 *
 * Naemon and Checkmk's Nagios core count as Nagios 4 does (both are
 * Nagios 4 inside); they differ in their Livestatus. How a core is told
 * from what it says of itself: Icinga 2's program_version is "r2.x";
 * naemon-livestatus's livestatus_version ends in "-naemon" and Naemon's
 * program_version is 1.x; Checkmk's Livestatus names a Checkmk version
 * ("2.2.0p1", "1.6.0") in livestatus_version while program_version is
 * the core's ("3.5.0", "4.4.6" for Nagios, "Check_MK ..." for its own).
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "model/core.h"

#define NAGIOS_PLAN .core = CORE_NAGIOS, .host_results_hard = 1, .services_of_failed_host_hard = 1, \
	.state_change_at_hardening = 1, .pending_is_problem = 0, .drops_older_results = 0, \
	.host_state_max = 3, .flexible_needs_duration = 1

static const struct core_profile profiles[] = {
	{ NAGIOS_PLAN, .name = "nagios", .title = "Nagios 4" },
	{ .core = CORE_ICINGA2, .name = "icinga2", .title = "Icinga 2", .host_results_hard = 0,
	  .services_of_failed_host_hard = 0, .state_change_at_hardening = 0, .pending_is_problem = 1,
	  .drops_older_results = 1, .host_state_max = 1, .flexible_needs_duration = 0,
	  .text_spool = TEXT_ICINGA2, .text_fifo = TEXT_ICINGA2, .text_livestatus = TEXT_ICINGA2 },
	/* Naemon's FIFO takes a result's text raw, its spool reader and
	 * naemon-livestatus undo \n only (tests/0026-naemon.t) */
	{ NAGIOS_PLAN, .name = "naemon", .title = "Naemon", .livestatus_mk = 1, .livestatus_unescapes = 1,
	  .text_spool = TEXT_LINES, .text_fifo = TEXT_FLAT, .text_livestatus = TEXT_LINES },
	{ NAGIOS_PLAN, .name = "checkmk", .title = "Checkmk (Nagios core)", .livestatus_mk = 1 },
};
#define NPROFILES (sizeof(profiles) / sizeof(*profiles))

const struct core_profile *core_profile(enum sd_core core)
{
	size_t i;

	for (i = 0; i < NPROFILES; i++)
		if (profiles[i].core == core)
			return &profiles[i];
	return &profiles[0];
}

const struct core_profile *core_profile_named(const char *name)
{
	size_t i;

	for (i = 0; i < NPROFILES; i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

const struct core_profile *core_profile_detect(const char *pv, const char *lv, int *known)
{
	*known = 1;
	if (pv[0] == 'r' && pv[1] == '2' && pv[2] == '.')
		return core_profile_named("icinga2");
	if (ends_with(lv, "-naemon") || (pv[0] == '1' && pv[1] == '.'))
		return core_profile_named("naemon");
	if (strstr(pv, "Check_MK") || strstr(pv, "Checkmk") || (*lv && strchr("12", lv[0]) && lv[1] == '.'))
		return core_profile_named("checkmk");
	if (pv[0] == '4' && pv[1] == '.')
		return core_profile_named("nagios");
	*known = 0;
	return &profiles[0];
}
