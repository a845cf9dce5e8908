/*
 * core.c - each core's profile (core.h); the numbers are what the tests
 * against the real cores show (docs/core-behaviour.md §3-§5).
 */
#include <stddef.h>
#include "model/core.h"

static const struct core_profile profiles[] = {
	{ .core = CORE_NAGIOS, .name = "nagios", .host_results_hard = 1, .services_of_failed_host_hard = 1,
	  .state_change_at_hardening = 1, .pending_is_problem = 0, .drops_older_results = 0,
	  .host_state_max = 3, .flexible_needs_duration = 1 },
	{ .core = CORE_ICINGA2, .name = "icinga2", .host_results_hard = 0, .services_of_failed_host_hard = 0,
	  .state_change_at_hardening = 0, .pending_is_problem = 1, .drops_older_results = 1,
	  .host_state_max = 1, .flexible_needs_duration = 0 },
};

const struct core_profile *core_profile(enum sd_core core)
{
	size_t i;

	for (i = 0; i < sizeof(profiles) / sizeof(*profiles); i++)
		if (profiles[i].core == core)
			return &profiles[i];
	return &profiles[0];
}
