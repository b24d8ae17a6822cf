// SPDX-License-Identifier: Apache-2.0

/* impstats counters: see stats.h. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <syslog.h>

#include "rsyslog_abi.h"
#include "omsplunkgo_plugin.h"
#include "shim.h"
#include "stats.h"

/* impstats names, in enum omsg_counter order. */
static const char *const counter_names[] = {
	[OMSG_CTR_SUBMITTED] = "submitted",
	[OMSG_CTR_DELIVERED] = "delivered",
	[OMSG_CTR_REJECTED] = "rejected",
	[OMSG_CTR_TRUNCATED] = "truncated",
	[OMSG_CTR_FIELDS_INVALID] = "fields.invalid",
	[OMSG_CTR_REQUESTS] = "requests",
	[OMSG_CTR_REQUESTS_RETRIED] = "requests.retried",
	[OMSG_CTR_HTTP_2XX] = "http.2xx",
	[OMSG_CTR_HTTP_4XX] = "http.4xx",
	[OMSG_CTR_HTTP_5XX] = "http.5xx",
	[OMSG_CTR_HTTP_OTHER] = "http.other",
	[OMSG_CTR_HTTP_NORESPONSE] = "http.noresponse",
	[OMSG_CTR_BYTES_SENT] = "bytes.sent",
	[OMSG_CTR_SPOOLED] = "spooled",
	[OMSG_CTR_REPLAYED] = "replayed",
	[OMSG_CTR_ACK_TIMEOUTS] = "ack.timeouts",
	[OMSG_CTR_RAW_LINEBREAKS] = "raw.linebreaks",
	[OMSG_CTR_ACK_CHANNEL_MOVES] = "ack.channel.moves",
	[OMSG_CTR_WINDOW_NOFILE] = "window.nofile",
	[OMSG_CTR_PANICS] = "panics",
	[OMSG_CTR_ACK_EXPIRED] = "ack.expired",
	[OMSG_CTR_PROXY_ERRORS] = "proxy.errors",
	[OMSG_CTR_TIME_REPLACED] = "time.replaced",
	[OMSG_CTR_ROUTE_FALLBACK] = "route.fallback",
	[OMSG_CTR_INDEX_ONREFUSED] = "index.onrefused",
	[OMSG_CTR_INFLIGHT] = "inflight",
	[OMSG_CTR_INFLIGHT_LIMIT] = "inflight.limit",
	[OMSG_CTR_WINDOW_EVENTS] = "window.events",
	[OMSG_CTR_WINDOW_BYTES] = "window.bytes",
	[OMSG_CTR_ACK_PENDING] = "ack.pending",
};
_Static_assert(sizeof(counter_names) / sizeof(counter_names[0]) == OMSG_NUM_COUNTERS, "a counter has no name");

/* impstats names of each endpoint's counters, in enum omsg_ep_counter order. */
static const char *const ep_counter_names[] = {
	[OMSG_EPC_REQUESTS] = "requests",
	[OMSG_EPC_HTTP_2XX] = "http.2xx",
	[OMSG_EPC_HTTP_4XX] = "http.4xx",
	[OMSG_EPC_HTTP_5XX] = "http.5xx",
	[OMSG_EPC_HTTP_OTHER] = "http.other",
	[OMSG_EPC_HTTP_NORESPONSE] = "http.noresponse",
	[OMSG_EPC_PROXY_ERRORS] = "proxy.errors",
	[OMSG_EPC_STANDING] = "standing",
	[OMSG_EPC_INFLIGHT_LIMIT] = "inflight.limit",
	[OMSG_EPC_INFLIGHT] = "inflight",
	[OMSG_EPC_LAST_HEC_CODE] = "last.hec.code",
	[OMSG_EPC_RTT_MS] = "rtt.ms",
};
_Static_assert(sizeof(ep_counter_names) / sizeof(ep_counter_names[0]) == OMSG_NUM_EP_COUNTERS,
	       "an endpoint counter has no name");

static obj_if_t obj;
static statsobj_if_t statsobj;
static statsobj_add_counter_fn add_counter; /* NULL: counters are off */

void stats_init(omsg_host_query_t hostQuery)
{
	static const int known[] = { 13, 14, 16 };
	rsRetVal (*getObjInterface)(obj_if_t *) = NULL;

	if (hostQuery == NULL || hostQuery((uchar *)"objGetObjInterface", (omsg_entry_point_t *)&getObjInterface) != RS_RET_OK ||
	    getObjInterface == NULL) {
		LogMsg(0, NO_ERRCODE, LOG_WARNING,
		       "omsplunkgo: rsyslog offers no object interface; impstats counters are off");
		return;
	}
	obj.ifVersion = objCURR_IF_VERSION;
	if (getObjInterface(&obj) != RS_RET_OK || obj.UseObj == NULL) {
		LogMsg(0, NO_ERRCODE, LOG_WARNING,
		       "omsplunkgo: rsyslog's object interface is not version %d; impstats counters are off",
		       objCURR_IF_VERSION);
		return;
	}
	/* rsyslog fills the table only for the exact version it implements,
	 * and refuses others without side effects: try each known one. */
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		statsobj.ifVersion = known[i];
		statsobj.ifIsLoaded = 0;
		if (obj.UseObj(__FILE__, (uchar *)"statsobj", CORE_COMPONENT, (interface_t *)&statsobj) == RS_RET_OK) {
			add_counter = (statsobj_add_counter_fn)statsobj.later[stats_addcounter_slot(known[i])];
			if (add_counter != NULL && statsobj.Construct != NULL && statsobj.ConstructFinalize != NULL &&
			    statsobj.SetName != NULL && statsobj.SetOrigin != NULL && statsobj.Destruct != NULL)
				return;
			add_counter = NULL;
			break;
		}
	}
	LogMsg(0, NO_ERRCODE, LOG_WARNING,
	       "omsplunkgo: this rsyslog's statistics interface is a version this module does not know "
	       "(it knows 13, 14 and 16: rsyslog 8.2102-8.2608); impstats counters are off, shipping is not affected");
}

/* stats_object registers n counters of names (the first gauge at index
 * gauges: not reset by impstats' resetCounters) on ctrs, as name. */
static statsobj_t *stats_object(const char *name, intctr_t *ctrs, const char *const *names, int n, int gauges)
{
	statsobj_t *o = NULL;
	if (add_counter == NULL)
		return NULL;
	if (statsobj.Construct(&o) != RS_RET_OK)
		goto fail;
	if (statsobj.SetName(o, (uchar *)name) != RS_RET_OK ||
	    statsobj.SetOrigin(o, (uchar *)"omsplunkgo") != RS_RET_OK)
		goto fail;
	for (int i = 0; i < n; i++)
		if (add_counter(o, (const uchar *)names[i], ctrType_IntCtr,
				i >= gauges ? CTR_FLAG_NONE : CTR_FLAG_RESETTABLE, &ctrs[i]) != RS_RET_OK)
			goto fail;
	if (statsobj.ConstructFinalize(o) != RS_RET_OK)
		goto fail;
	return o;
fail:
	LogMsg(0, NO_ERRCODE, LOG_WARNING, "omsplunkgo: could not register impstats counters %s", name);
	if (o != NULL)
		statsobj.Destruct(&o);
	return NULL;
}

statsobj_t *stats_new(const char *name, intctr_t *ctrs)
{
	return stats_object(name, ctrs, counter_names, OMSG_NUM_COUNTERS, OMSG_CTR_INFLIGHT);
}

void stats_new_endpoints(struct instanceData *pData, const char *name)
{
	const char *servers = NULL;
	for (int i = 0; i < pData->nopts; i++)
		if (!strcmp(pData->names[i], "server"))
			servers = pData->values[i];
	for (int i = 0; servers != NULL && i < pData->nservers; i++) {
		size_t len = strcspn(servers, ",");
		char *full = malloc(strlen(name) + 1 + len + 1);
		if (full == NULL)
			return;
		sprintf(full, "%s/%.*s", name, (int)len, servers);
		pData->epstats[i] = stats_object(full, pData->counters + OMSG_NUM_COUNTERS + (size_t)i * OMSG_NUM_EP_COUNTERS,
						 ep_counter_names, OMSG_NUM_EP_COUNTERS, OMSG_EPC_STANDING);
		free(full);
		servers += len + (servers[len] == ',');
	}
}

void stats_free(statsobj_t *o)
{
	if (o != NULL)
		statsobj.Destruct(&o);
}
