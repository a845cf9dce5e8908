/*
 * core.h - the monitoring cores siteload can feed. Its own header, below
 * the formats: the importer's modules name a core without including a
 * wire format (extcmd.h) to get the enum.
 */
#ifndef SITEDUMP_CORE_H
#define SITEDUMP_CORE_H

enum sd_core { CORE_NAGIOS = 0, CORE_ICINGA2 = 1 };

#endif
