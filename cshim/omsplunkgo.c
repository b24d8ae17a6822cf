// SPDX-License-Identifier: Apache-2.0

/* omsplunkgo: the module rsyslog loads. Pure C: it implements rsyslog's
 * output module ABI, validates the action's parameters (so `rsyslogd -N1`
 * reports config errors without starting Go), and after rsyslogd has
 * forked loads the Go library that does the HEC work (../plugin).
 *
 * Why the split: a Go shared library starts its runtime threads when it is
 * loaded, and only the forking thread survives a fork. rsyslogd loads
 * modules before it daemonizes, so Go must not be loaded until
 * activateCnf, the first hook after the fork.
 *
 * Entry points below are in the order rsyslog calls them; parameter
 * checks are in params.c, the Go library's host in gohost.c (shim.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shim.h"

/* The texts of the templates the module adds to rsyslog's config (names
 * in shim.h). The meta template is parsed in Go. */
static uchar tpl_meta_text[] =
	"\"%timereported:::date-unixtimestamp%.%timereported:::date-subseconds% %hostname%\"";
static uchar tpl_meta_rcvd_text[] =
	"\"%timegenerated:::date-unixtimestamp%.%timegenerated:::date-subseconds% %hostname%\"";
static uchar tpl_meta_both_text[] =
	"\"%timereported:::date-unixtimestamp%.%timereported:::date-subseconds% "
	"%timegenerated:::date-unixtimestamp%.%timegenerated:::date-subseconds% %hostname%\"";
static uchar tpl_event_text[] = "\"%syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\"";
/* endpoint="raw": Splunk parses time and host out of each line itself, as
 * from a syslog file, so the line carries them. */
static uchar tpl_raw_text[] =
	"\"%timereported:::date-rfc3339% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\"";
static uchar tpl_raw_rcvd_text[] =
	"\"%timegenerated:::date-rfc3339% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\"";

/* ---- state ----------------------------------------------------------- */

modConfData_t *loadModConf;
static instanceData *instances; /* every action, for activateCnf */
static pthread_mutex_t instances_mu = PTHREAD_MUTEX_INITIALIZER;

/* ---- entry points, in the order rsyslog calls them ------------------- */

static rsRetVal modGetType(eModType_t *t)
{
	*t = eMOD_OUT;
	return RS_RET_OK;
}

/* KEEP: the Go runtime cannot be unloaded from a process. */
static rsRetVal modGetKeepType(eModKeepType_t *t)
{
	*t = eMOD_KEEP;
	return RS_RET_OK;
}

static rsRetVal modExit(void)
{
	return RS_RET_OK;
}

static rsRetVal modGetID(void **id)
{
	*id = (void *)modExit;
	return RS_RET_OK;
}

static rsRetVal getModCnfName(uchar **name)
{
	*name = (uchar *)MODULE_NAME;
	return RS_RET_OK;
}

static rsRetVal isCompatibleWithFeature(syslogFeature f)
{
	return f == sFEATURERepeatedMsgReduction ? RS_RET_OK : RS_RET_INCOMPATIBLE;
}

static rsRetVal beginCnfLoad(modConfData_t **ptr, rsconf_t *pConf)
{
	modConfData_t *mc = calloc(1, sizeof(*mc));
	if (mc == NULL)
		return RS_RET_OUT_OF_MEMORY;
	mc->pConf = pConf;
	loadModConf = mc;
	*ptr = mc;
	return RS_RET_OK;
}

static rsRetVal setModCnf(struct nvlst *lst)
{
	struct cnfparamvals *pvals = nvlstGetParams(lst, &modpblk, NULL);
	if (pvals == NULL) {
		LogError(0, RS_RET_MISSING_CNFPARAMS, MODULE_NAME ": error processing module parameters");
		return RS_RET_MISSING_CNFPARAMS;
	}
	for (int i = 0; i < modpblk.nParams; i++) {
		if (!pvals[i].bUsed)
			continue;
		const char *name = modpblk.descr[i].name;
		if (!strcmp(name, "library"))
			loadModConf->library = es_str2cstr(pvals[i].val.d.estr, NULL);
		else if (!strcmp(name, "gomaxprocs"))
			loadModConf->gomaxprocs = (int)pvals[i].val.d.n;
		else if (!strcmp(name, "gomemlimit"))
			loadModConf->gomemlimit = pvals[i].val.d.n;
		else if (!strcmp(name, "debug.pprof"))
			loadModConf->pprof = es_str2cstr(pvals[i].val.d.estr, NULL);
	}
	cnfparamvalsDestruct(pvals, &modpblk);
	return RS_RET_OK;
}

static rsRetVal endCnfLoad(modConfData_t *mc)
{
	(void)mc;
	loadModConf = NULL;
	return RS_RET_OK;
}

/* The whole configuration is read (rsyslogd -N1 stops after this): the
 * work directory is known, so `omsplunkgo check` and `replay` see each
 * action with the defaults it will run with, in the configuration's order. */
static rsRetVal checkCnf(modConfData_t *mc)
{
	pthread_mutex_lock(&instances_mu);
	int n = 0;
	for (instanceData *p = instances; p != NULL; p = p->next)
		n++;
	instanceData **order = calloc((size_t)n + 1, sizeof(*order));
	int i = n;
	for (instanceData *p = instances; p != NULL && order != NULL; p = p->next) {
		add_workdir_defaults(p, mc);
		order[--i] = p;
	}
	for (i = 0; i < n && order != NULL; i++)
		dump_for_check(order[i], order[i]->name);
	pthread_mutex_unlock(&instances_mu);
	free(order);
	return RS_RET_OK;
}

static rsRetVal newActInst(uchar *modName, struct nvlst *lst, void **ppModData, omodStringRequest_t **ppOMSR)
{
	(void)modName;
	struct cnfparamvals *pvals;
	instanceData *pData = NULL;
	int ok = 1;

	*ppOMSR = NULL;
	pvals = nvlstGetParams(lst, &actpblk, NULL);
	if (pvals == NULL) {
		LogError(0, RS_RET_MISSING_CNFPARAMS, MODULE_NAME ": action parameters are missing or invalid");
		return RS_RET_MISSING_CNFPARAMS;
	}
	if ((pData = calloc(1, sizeof(*pData))) == NULL) {
		cnfparamvalsDestruct(pvals, &actpblk);
		return RS_RET_OUT_OF_MEMORY;
	}
	pData->ntpls = OMSG_NUM_FIXED_TPLS;
	for (int i = 0; i < actpblk.nParams; i++)
		if (pvals[i].bUsed && !take_param(pData, i, &pvals[i].val))
			ok = 0;
	cnfparamvalsDestruct(pvals, &actpblk);

	if (!ok || !check_action(pData) || !request_templates(pData, ppOMSR)) {
		if (*ppOMSR != NULL) {
			OMSRdestruct(*ppOMSR);
			*ppOMSR = NULL;
		}
		free_instance_data(pData);
		return RS_RET_CONFIG_ERROR;
	}
	/* Window files are named after a named action; an unnamed one's
	 * position in the config is no identity (reordering would hand one
	 * action's files to another), so Go names them after its destination. */
	int named = pData->name != NULL;
	char *name = stats_name(pData);
	/* The action's counters, then each server's (omsplunkgo_plugin.h). */
	pData->nservers = count_servers(pData);
	pData->counters = calloc(OMSG_NUM_COUNTERS + (size_t)pData->nservers * OMSG_NUM_EP_COUNTERS, sizeof(intctr_t));
	pData->epstats = calloc((size_t)pData->nservers, sizeof(statsobj_t *));
	if (pData->counters == NULL || pData->epstats == NULL) {
		free(name);
		free_instance_data(pData);
		return RS_RET_OUT_OF_MEMORY;
	}
	if (name != NULL) {
		pData->stats = stats_new(name, pData->counters);
		stats_new_endpoints(pData, name);
		char *id = named ? strdup(name) : NULL;
		if (id != NULL)
			add_opt(pData, "action.id", id);
	}
	pthread_mutex_lock(&instances_mu);
	pData->next = instances;
	instances = pData;
	pthread_mutex_unlock(&instances_mu);
	*ppModData = pData;
	return RS_RET_OK;
}

/* First hook after rsyslogd forked, on the main thread: start Go now. */
static rsRetVal activateCnf(modConfData_t *mc)
{
	char err[1024];
	if (!load_go(mc))
		return RS_RET_ERR;
	pthread_mutex_lock(&instances_mu);
	for (instanceData *p = instances; p != NULL; p = p->next) {
		if (p->handle != 0)
			continue;
		add_workdir_defaults(p, mc);
		err[0] = '\0';
		p->handle = go.action_new(p->names, (const char *const *)p->values, p->nopts, p->counters, err,
					  sizeof(err));
		if (p->handle == 0)
			LogError(0, RS_RET_CONFIG_ERROR, MODULE_NAME ": action not started, its messages stay queued: %s",
				 err);
	}
	pthread_mutex_unlock(&instances_mu);
	return RS_RET_OK;
}

static rsRetVal freeCnf(void *ptr)
{
	modConfData_t *mc = ptr;
	if (mc != NULL) {
		free(mc->library);
		free(mc->pprof);
		free(mc);
	}
	return RS_RET_OK;
}

static rsRetVal createWrkrInstance(wrkrInstanceData_t **ppWrkrData, instanceData *pData)
{
	wrkrInstanceData_t *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return RS_RET_OUT_OF_MEMORY;
	w->pData = pData;
	*ppWrkrData = w;
	return RS_RET_OK;
}

static rsRetVal freeWrkrInstance(void *p)
{
	wrkrInstanceData_t *w = p;
	if (w != NULL && w->worker != 0 && go.loaded) {
		int oldstate;
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
		go.worker_free(w->worker);
		pthread_setcancelstate(oldstate, NULL);
	}
	free(w);
	return RS_RET_OK;
}

static rsRetVal beginTransaction(wrkrInstanceData_t *w)
{
	(void)w;
	return RS_RET_OK;
}

static rsRetVal status_to_rsret(int st)
{
	switch (st) {
	case OMSG_OK:
		return RS_RET_OK;
	default: /* OMSG_SUSPEND, OMSG_ERROR: keep the messages */
		return RS_RET_SUSPENDED;
	}
}

/* One cgo crossing per batch. Cancellation stays off while Go runs: rsyslog
 * may pthread_cancel a worker at shutdown, and unwinding through Go frames
 * corrupts the runtime. The Go side bounds the call (a commit waits at most
 * window.maxwait for room in the window, then hands the batch back),
 * and a pending cancel acts at the next cancellation point after return. */
static rsRetVal commitTransaction(wrkrInstanceData_t *const w, actWrkrIParams_t *const pParams,
				  const unsigned nParams)
{
	instanceData *pData = w->pData;
	int oldstate, st;
	if (!go.loaded || pData->handle == 0)
		return RS_RET_SUSPENDED;
	guard_stdio();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	if (w->worker == 0)
		w->worker = go.worker_new(pData->handle);
	st = w->worker == 0 ? OMSG_ERROR
			    : go.commit(w->worker, (const omsg_str_t *)pParams, (int)nParams, pData->ntpls,
					&worker_stopping);
	pthread_setcancelstate(oldstate, NULL);
	return status_to_rsret(st);
}

/* rsyslog retries a suspended action only after this says OK, so ask HEC's
 * health endpoint rather than assume. */
static rsRetVal tryResume(wrkrInstanceData_t *w)
{
	instanceData *pData = w->pData;
	int oldstate, st;
	if (!go.loaded || pData->handle == 0)
		return RS_RET_SUSPENDED;
	guard_stdio();
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	st = go.probe(pData->handle);
	pthread_setcancelstate(oldstate, NULL);
	return st == OMSG_OK ? RS_RET_OK : RS_RET_SUSPENDED;
}

/* HUP (SIGHUP to rsyslogd, on the main thread): the error file is
 * reopened (as omfile does, so that it follows logrotate), and token.file
 * is read again, so that a rotated token applies without a restart. A
 * file that cannot be read keeps the token in use (the reason is logged). */
static rsRetVal doHUP(instanceData *pData)
{
	if (pData == NULL || !go.loaded || pData->handle == 0)
		return RS_RET_OK;
	int oldstate;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	go.hup(pData->handle);
	pthread_setcancelstate(oldstate, NULL);
	if (pData->token_file == NULL)
		return RS_RET_OK;
	char *tok = read_token_file(pData->token_file);
	if (tok == NULL)
		return RS_RET_OK;
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &oldstate);
	go.set_token(pData->handle, tok);
	pthread_setcancelstate(oldstate, NULL);
	memset(tok, 0, strlen(tok));
	free(tok);
	return RS_RET_OK;
}

static rsRetVal dbgPrintInstInfo(void *p)
{
	(void)p;
	return RS_RET_OK;
}

static rsRetVal freeInstance(void *p)
{
	instanceData *pData = p;
	if (pData == NULL)
		return RS_RET_OK;
	pthread_mutex_lock(&instances_mu);
	for (instanceData **pp = &instances; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == pData) {
			*pp = pData->next;
			break;
		}
	}
	pthread_mutex_unlock(&instances_mu);
	if (go.loaded && pData->handle != 0)
		go.action_free(pData->handle); /* Go stops writing pData->counters */
	stats_free(pData->stats);
	for (int i = 0; pData->epstats != NULL && i < pData->nservers; i++)
		stats_free(pData->epstats[i]);
	free_instance_data(pData);
	return RS_RET_OK;
}

/* Legacy "*.* :omsplunkgo:" lines are not supported; saying "not ours"
 * lets other modules claim their own legacy lines. */
static rsRetVal parseSelectorAct(uchar **pp, void **ppModData, omodStringRequest_t **ppOMSR)
{
	(void)pp;
	(void)ppModData;
	(void)ppOMSR;
	return RS_RET_CONFLINE_UNPROCESSED;
}

static rsRetVal queryEtryPt(uchar *name, omsg_entry_point_t *ep)
{
	static const struct {
		const char *name;
		omsg_entry_point_t fn;
	} table[] = {
		{ "getType", (omsg_entry_point_t)modGetType },
		{ "getKeepType", (omsg_entry_point_t)modGetKeepType },
		{ "modGetID", (omsg_entry_point_t)modGetID },
		{ "modExit", (omsg_entry_point_t)modExit },
		{ "getModCnfName", (omsg_entry_point_t)getModCnfName },
		{ "isCompatibleWithFeature", (omsg_entry_point_t)isCompatibleWithFeature },
		{ "beginCnfLoad", (omsg_entry_point_t)beginCnfLoad },
		{ "setModCnf", (omsg_entry_point_t)setModCnf },
		{ "endCnfLoad", (omsg_entry_point_t)endCnfLoad },
		{ "checkCnf", (omsg_entry_point_t)checkCnf },
		{ "activateCnf", (omsg_entry_point_t)activateCnf },
		{ "freeCnf", (omsg_entry_point_t)freeCnf },
		{ "newActInst", (omsg_entry_point_t)newActInst },
		{ "createWrkrInstance", (omsg_entry_point_t)createWrkrInstance },
		{ "freeWrkrInstance", (omsg_entry_point_t)freeWrkrInstance },
		{ "beginTransaction", (omsg_entry_point_t)beginTransaction },
		{ "commitTransaction", (omsg_entry_point_t)commitTransaction },
		{ "tryResume", (omsg_entry_point_t)tryResume },
		{ "doHUP", (omsg_entry_point_t)doHUP },
		{ "dbgPrintInstInfo", (omsg_entry_point_t)dbgPrintInstInfo },
		{ "freeInstance", (omsg_entry_point_t)freeInstance },
		{ "parseSelectorAct", (omsg_entry_point_t)parseSelectorAct },
	};
	if (name == NULL || ep == NULL)
		return RS_RET_PARAM_ERROR;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (!strcmp((const char *)name, table[i].name)) {
			*ep = table[i].fn;
			return RS_RET_OK;
		}
	}
	*ep = NULL;
	return RS_RET_MODULE_ENTRY_POINT_NOT_FOUND;
}

__attribute__((visibility("default"))) rsRetVal modInit(int ifVersRequested, int *ifVersProvided, omsg_entry_point_t *queryEtryPtOut,
		 omsg_host_query_t hostQuery, void *modInfo)
{
	(void)modInfo;
	if (ifVersProvided == NULL || queryEtryPtOut == NULL)
		return RS_RET_PARAM_ERROR;
	/* Every rsyslog 8 from 8.2102 to 8.2608 speaks version 6; another
	 * version may lay out what we touch differently: refuse, not crash. */
	if (ifVersRequested != CURR_MOD_IF_VERSION) {
		LogError(0, RS_RET_INCOMPATIBLE,
			 MODULE_NAME ": this rsyslog speaks output module interface version %d, omsplunkgo knows "
			 "version %d (rsyslog 8.2102 to 8.2608); the module is not loaded",
			 ifVersRequested, CURR_MOD_IF_VERSION);
		return RS_RET_INCOMPATIBLE;
	}
	params_init();
	uchar *p = tpl_meta_text;
	tplAddLine(ourConf, TPL_META, &p);
	p = tpl_event_text;
	tplAddLine(ourConf, TPL_EVENT, &p);
	p = tpl_raw_text;
	tplAddLine(ourConf, TPL_RAW, &p);
	p = tpl_meta_rcvd_text;
	tplAddLine(ourConf, TPL_META_RCVD, &p);
	p = tpl_meta_both_text;
	tplAddLine(ourConf, TPL_META_BOTH, &p);
	p = tpl_raw_rcvd_text;
	tplAddLine(ourConf, TPL_RAW_RCVD, &p);
	stats_init(hostQuery);
	*ifVersProvided = CURR_MOD_IF_VERSION;
	*queryEtryPtOut = (omsg_entry_point_t)queryEtryPt;
	return RS_RET_OK;
}
