// SPDX-License-Identifier: Apache-2.0

/* What the shim's files share. omsplunkgo.c holds the entry points rsyslog
 * calls, in lifecycle order; params.c checks an action's parameters and
 * keeps them as text until Go can take them; gohost.c loads the Go library
 * after the fork and hosts it (signals, stdio, logging). */
#ifndef OMSPLUNKGO_SHIM_H
#define OMSPLUNKGO_SHIM_H

#include <pthread.h>
#include <stdint.h>

#include "rsyslog_abi.h"
#include "omsplunkgo_plugin.h"
#include "options.h"
#include "stats.h"

#define MODULE_NAME "omsplunkgo"
#define GO_LIBRARY "libomsplunkgo.so"

/* Templates the module adds to rsyslog's config. A leading space keeps
 * users from redefining them. */
#define TPL_META " OMSPLUNKGO_Meta"
#define TPL_EVENT " OMSPLUNKGO_Event"
#define TPL_RAW " OMSPLUNKGO_Raw"
/* time.source="received", and the time guard (reported, then received). */
#define TPL_META_RCVD " OMSPLUNKGO_MetaReceived"
#define TPL_META_BOTH " OMSPLUNKGO_MetaBoth"
#define TPL_RAW_RCVD " OMSPLUNKGO_RawReceived"

typedef struct modConfData_s {
	rsconf_t *pConf;
	char *library;
	int gomaxprocs;
	long long gomemlimit;
	char *pprof; /* NULL: no profiling endpoint */
} modConfData_t;

/* One action(). Options are kept as text until Go exists to take them. */
typedef struct instanceData {
	const char *names[N_ACTPARAMS + 4]; /* + action.id, defaults of add_workdir_defaults */
	char *values[N_ACTPARAMS + 4];
	int nopts;
	char *tpls[OMSG_MAX_TPLS]; /* template name per slot */
	int ntpls;
	char *name; /* impstats object name */
	statsobj_t *stats;
	intctr_t *counters; /* OMSG_NUM_COUNTERS + nservers x OMSG_NUM_EP_COUNTERS, written by Go, read by impstats */
	int nservers;
	statsobj_t **epstats; /* one impstats object per server */
	uint64_t handle; /* 0 until activateCnf handed the action to Go */
	char *token_file; /* token.file, read again on HUP; NULL without */
	struct instanceData *next;
} instanceData;

typedef struct wrkrInstanceData {
	instanceData *pData;
	uint64_t worker; /* Go's per-worker state, made on first commit */
} wrkrInstanceData_t;

/* The config being loaded (between beginCnfLoad and endCnfLoad), or NULL. */
extern modConfData_t *loadModConf;

/* ---- params.c: an action's parameters ---------------------------------- */

/* The parameter block rsyslog reads an action's parameters with, and the
 * module's own; params_init fills them from options.h. */
extern struct cnfparamblk actpblk, modpblk;
void params_init(void);
/* take_param validates parameter i of actpblk, set to v, and stores it. */
int take_param(instanceData *pData, int i, struct svar *v);
/* check_action applies the rules between parameters. */
int check_action(instanceData *pData);
/* dump_for_check writes the action for `omsplunkgo check` (params.c). */
void dump_for_check(const instanceData *pData, const char *stats_name);
/* count_servers is the number of URLs the server parameter names. */
int count_servers(const instanceData *pData);
/* request_templates asks rsyslog to render each slot's template. */
int request_templates(instanceData *pData, omodStringRequest_t **ppOMSR);
/* stats_name names the action's impstats object. */
char *stats_name(instanceData *pData);
void add_opt(instanceData *pData, const char *name, char *value);
/* add_workdir_defaults puts spool.dir and errorfile under rsyslog's work
 * directory unless the action set them. */
void add_workdir_defaults(instanceData *p, const modConfData_t *mc);
void free_instance_data(instanceData *pData);
/* read_token_file returns the token in path (to free after zeroing), or
 * NULL with the reason logged. */
char *read_token_file(const char *path);

/* ---- pem.c ------------------------------------------------------------- */

/* check_pem reports, naming param, a tls.* file that is not PEM of the
 * kind it needs (certificates, or an unencrypted private key). */
int check_pem(const char *param, const char *path);
/* pem_base64 decodes base64 text (white space allowed) into a buffer to
 * free; NULL when it is not base64. */
unsigned char *pem_base64(const char *b64, size_t n, size_t *len);
/* pem_read reads a PEM file of at most 8 MiB (a longer one: *n is past
 * that) into a NUL-terminated buffer to free; NULL when it cannot. */
char *pem_read(const char *path, size_t *n);
/* pem_next finds the next block from *p on and moves *p past it: 1, 0
 * at the end, -1 with *problem on a broken block. */
struct pem_block {
	const char *label, *body; /* not NUL-terminated */
	size_t label_len, body_len;
};
int pem_next(const char **p, struct pem_block *b, const char **problem);

/* ---- keypair.c ---------------------------------------------------------- */

/* check_key_pair reports, with what to fix, a tls.key whose public key is
 * not the one in tls.cert (RSA and EC keys; others are left to Go). */
int check_key_pair(const char *cert_path, const char *key_path);

/* ---- gohost.c: the Go library ------------------------------------------ */

/* The Go library, loaded once per process: Go cannot be unloaded. */
struct go_library {
	int loaded;
	omsg_action_new_fn action_new;
	omsg_action_commit_fn commit;
	omsg_action_probe_fn probe;
	omsg_action_free_fn action_free;
	omsg_worker_new_fn worker_new;
	omsg_worker_free_fn worker_free;
	omsg_action_set_token_fn set_token;
	omsg_action_hup_fn hup;
};
extern struct go_library go;

/* load_go loads and starts the Go library (once). */
int load_go(const modConfData_t *mc);
/* guard_stdio keeps fds 1 and 2 open before Go runs. */
void guard_stdio(void);
/* Set on a worker thread when rsyslog sends it SIGTTIN (stopping). */
extern __thread volatile int worker_stopping __attribute__((tls_model("initial-exec")));

#endif
