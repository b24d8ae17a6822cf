// SPDX-License-Identifier: Apache-2.0

/* impstats counters of omsplunkgo actions: one rsyslog statistics object
 * per action, whose counters live in C memory that the Go side updates
 * atomically (their order is enum omsg_counter in omsplunkgo_plugin.h). */
#ifndef OMSPLUNKGO_STATS_H
#define OMSPLUNKGO_STATS_H

#include "rsyslog_abi.h"

/* Where AddCounter sits in statsobj_if_t.later[] for interface version
 * ifVersion, or -1 for a version this module does not know. later[]
 * starts after SetOrigin: SetReadNotifier, SetReportingNamespace,
 * SetStatsObjFlags, GetAllStatsLines; then version 14 added
 * GetAllCounters and version 16 EncodePrometheusMetricName. */
static inline int stats_addcounter_slot(int ifVersion)
{
	switch (ifVersion) {
	case 13:
		return 4;
	case 14:
		return 5;
	case 16:
		return 6;
	default:
		return -1;
	}
}

/* Binds rsyslog's statistics interface; called once from modInit. When
 * the running rsyslog's interface is one this module does not know, it
 * logs once why counters are off, and stats_new then returns NULL. */
void stats_init(omsg_host_query_t hostQuery);

/* Registers an object called name (origin "omsplunkgo") whose counters are
 * ctrs[0..OMSG_NUM_COUNTERS). NULL when counters are off or it failed
 * (logged); the action works the same without. */
statsobj_t *stats_new(const char *name, intctr_t *ctrs);
void stats_free(statsobj_t *obj);
/* stats_new_endpoints registers one object per server of the action,
 * "<name>/<server URL>", on its block of endpoint counters. */
struct instanceData;
void stats_new_endpoints(struct instanceData *pData, const char *name);

#endif
