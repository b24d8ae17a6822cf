// SPDX-License-Identifier: Apache-2.0

/* The boundary between the C module rsyslog loads (cshim/) and the Go
 * library it loads after rsyslogd has forked (plugin/). This header is the
 * whole contract; both sides compile against it.
 *
 * Lifecycle, all calls from the shim:
 *   omsg_init          once, on rsyslog's main thread in activateCnf
 *   omsg_action_new    once per action(), right after omsg_init
 *   omsg_action_commit once per rsyslog batch, from any worker thread
 *   omsg_action_probe  from tryResume, any worker thread
 *   omsg_action_free   from freeInstance
 * Only plain C types cross: handles, pointers, lengths, status codes.
 */
#ifndef OMSPLUNKGO_PLUGIN_H
#define OMSPLUNKGO_PLUGIN_H

#include <stdint.h>

/* Bumped whenever a signature or struct below changes; omsg_init refuses a
 * host with another version, so a shim and a Go library from different
 * builds fail loudly instead of corrupting memory. */
#define OMSG_PLUGIN_ABI 10

/* One rendered template string. Same layout as rsyslog's actWrkrIParams_t
 * (runtime/rsyslog.h), so the shim hands rsyslog's array over unchanged;
 * cshim/abi-check/ asserts this against the real header. Not NUL-terminated
 * as far as Go is concerned: len is authoritative. */
typedef struct omsg_str {
	const unsigned char *ptr;
	uint32_t cap;
	uint32_t len;
} omsg_str_t;

/* Services the shim offers Go. rsyslog opens modules RTLD_LOCAL, so Go
 * cannot resolve the shim's or rsyslogd's symbols itself. */
typedef struct omsg_host {
	int abi; /* OMSG_PLUGIN_ABI */
	/* Log through rsyslog (severity: LOG_ERR, LOG_WARNING, LOG_INFO...). */
	void (*log)(int severity, const char *msg);
} omsg_host_t;

/* What a call came to; the shim maps these to rsyslog return codes. */
enum omsg_status {
	OMSG_OK = 0,       /* HEC accepted every event of the batch */
	OMSG_SUSPEND = 1,  /* keep the batch, retry later (RS_RET_SUSPENDED) */
	OMSG_ERROR = 3     /* bad handle or internal error */
};

/* Templates each message is rendered with. The first two are always
 * there; the metadata templates an action names (index.template ...)
 * follow, at the positions the shim passes as options "slot.index",
 * "slot.source", "slot.sourcetype", "slot.host", "slot.fields" (rsyslog
 * renders at most OMSG_MAX_TPLS templates per message). */
enum omsg_template {
	OMSG_TPL_META = 0,  /* "<unixtime>.<fraction> <hostname>" */
	OMSG_TPL_EVENT = 1, /* the event body */
	OMSG_NUM_FIXED_TPLS = 2,
	OMSG_MAX_TPLS = 5 /* rsyslog's CONF_OMOD_NUMSTRINGS_MAXSIZE */
};

/* The action's impstats counters, an array of OMSG_NUM_COUNTERS uint64_t
 * in C memory that rsyslog reads and Go adds to atomically. */
enum omsg_counter {
	OMSG_CTR_SUBMITTED = 0,       /* messages rsyslog committed to the action */
	OMSG_CTR_DELIVERED,           /* events HEC accepted */
	OMSG_CTR_REJECTED,            /* events set aside (errorfile) */
	OMSG_CTR_TRUNCATED,           /* events cut to event.maxbytes */
	OMSG_CTR_FIELDS_INVALID,      /* events sent without fields: the rendering was no flat JSON object */
	OMSG_CTR_REQUESTS,            /* HTTP requests carrying events, retries included */
	OMSG_CTR_REQUESTS_RETRIED,    /* requests sent again after a transient failure */
	OMSG_CTR_HTTP_2XX,            /* answers by HTTP status class */
	OMSG_CTR_HTTP_4XX,
	OMSG_CTR_HTTP_5XX,
	OMSG_CTR_HTTP_OTHER,          /* 1xx, 3xx */
	OMSG_CTR_HTTP_NORESPONSE,     /* no HTTP answer: refused, reset, timed out */
	OMSG_CTR_BYTES_SENT,          /* request body bytes posted (after gzip) */
	OMSG_CTR_SPOOLED,             /* events saved to spool.dir at a shutdown */
	OMSG_CTR_REPLAYED,            /* spooled events delivered after a start */
	OMSG_CTR_ACK_TIMEOUTS,        /* requests sent again for want of an ack */
	OMSG_CTR_RAW_LINEBREAKS,      /* raw endpoint: messages whose line breaks were escaped */
	OMSG_CTR_ACK_CHANNEL_MOVES,   /* channels a load balancer moved while acks were pending */
	OMSG_CTR_WINDOW_NOFILE,       /* events accepted while the window's files could not be written */
	OMSG_CTR_PANICS,              /* internal errors (Go panics) recovered */
	OMSG_CTR_ACK_EXPIRED,         /* requests sent again because HEC dropped their pending ackId */
	OMSG_CTR_PROXY_ERRORS,        /* requests that failed at the HTTP proxy: nothing reached HEC */
	OMSG_CTR_TIME_REPLACED,       /* events sent with the receive time: the reported one out of bounds */
	OMSG_CTR_ROUTE_FALLBACK,      /* events whose rendered index or sourcetype was not allowed */
	OMSG_CTR_INDEX_ONREFUSED,     /* events refused for their index, sent again to index.onrefused */
	/* Gauges from here on: values now, set by Go, never reset. */
	OMSG_CTR_INFLIGHT,            /* requests under way: posting, retrying */
	OMSG_CTR_INFLIGHT_LIMIT,      /* the endpoints' adaptive limits on requests in flight, summed */
	OMSG_CTR_WINDOW_EVENTS,       /* events in the window: accepted, not yet taken by HEC */
	OMSG_CTR_WINDOW_BYTES,        /* their bytes */
	OMSG_CTR_ACK_PENDING,         /* events awaiting their ack */
	OMSG_NUM_COUNTERS
};

/* Each endpoint's counters, one impstats object per action and server: the
 * counters an action hands to Go are OMSG_NUM_COUNTERS of the action's,
 * then one block of OMSG_NUM_EP_COUNTERS per server, in the order of the
 * server parameter. */
enum omsg_ep_counter {
	OMSG_EPC_REQUESTS = 0,        /* HTTP requests carrying events to it, retries included */
	OMSG_EPC_HTTP_2XX,            /* its answers by status class */
	OMSG_EPC_HTTP_4XX,
	OMSG_EPC_HTTP_5XX,
	OMSG_EPC_HTTP_OTHER,
	OMSG_EPC_HTTP_NORESPONSE,     /* no answer: refused, reset, timed out */
	OMSG_EPC_PROXY_ERRORS,        /* failed at the HTTP proxy on the way to it */
	/* Gauges from here on. */
	OMSG_EPC_STANDING,            /* 0 in standing, 1 set aside, 2 set aside and probed */
	OMSG_EPC_INFLIGHT_LIMIT,      /* its adaptive limit on requests in flight */
	OMSG_EPC_INFLIGHT,            /* its requests under way */
	OMSG_EPC_LAST_HEC_CODE,       /* the HEC code of its last answer that had one */
	OMSG_EPC_RTT_MS,              /* its smoothed answer time, ms */
	OMSG_NUM_EP_COUNTERS
};

/* Go's exports, resolved by name with dlsym. */
/* pprof: "host:port" to serve Go's profiling endpoints on, or NULL. */
typedef int (*omsg_init_fn)(const omsg_host_t *host, int gomaxprocs, int64_t gomemlimit, const char *pprof,
			    char *err, int errlen);
/* names/values: n option pairs, spelled as in the action() statement.
 * counters: OMSG_NUM_COUNTERS counters, 8-byte aligned, alive until
 * omsg_action_free returns. Returns a handle > 0, or 0 with a message in
 * err. */
typedef uint64_t (*omsg_action_new_fn)(const char *const *names, const char *const *values, int n,
				       uint64_t *counters, char *err, int errlen);
/* One per rsyslog worker instance of an action; 0 for a bad action. */
typedef uint64_t (*omsg_worker_new_fn)(uint64_t action);
typedef void (*omsg_worker_free_fn)(uint64_t worker);
/* params: nmsgs x ntpls strings, message i template j at
 * params[i*ntpls + j]; only read during the call. stopping points at a
 * flag of the calling thread that turns non-zero when rsyslog asks the
 * thread to stop (queue shutdown): Go then stops retrying, and saves what
 * HEC has not taken to spool.dir (OMSG_OK) or returns OMSG_SUSPEND. */
typedef int (*omsg_action_commit_fn)(uint64_t worker, const omsg_str_t *params, int nmsgs, int ntpls,
				     const volatile int *stopping);
typedef int (*omsg_action_probe_fn)(uint64_t action);
typedef void (*omsg_action_free_fn)(uint64_t action);
/* A new HEC token for the action (token.file read again on HUP): the next
 * request, retries of refused ones included, uses it. */
typedef void (*omsg_action_set_token_fn)(uint64_t action, const char *token);
/* rsyslog's HUP reached the action: files it writes (errorfile) are
 * reopened, so that they follow a log rotation. */
typedef void (*omsg_action_hup_fn)(uint64_t action);

#endif
