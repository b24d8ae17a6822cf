// SPDX-License-Identifier: Apache-2.0

/* Loads the built shim (build/omsplunkgo.so) the way rsyslogd does, with
 * stand-ins for the rsyslog symbols it takes from the rsyslogd binary, and
 * checks what no rsyslog on this machine can show:
 *   - an rsyslog whose output module interface is not version 6 is refused
 *     with a message, not crashed;
 *   - an rsyslog whose statistics interface the module does not know (a
 *     future statsobj version) still loads the module, and it says once that
 *     impstats counters are off.
 * Build: cc -rdynamic (the module resolves the stand-ins from this program).
 * Usage: modinit_test path/to/omsplunkgo.so */
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../rsyslog_abi.h"

static char logged[8192];

static void record(const char *fmt, va_list ap)
{
	size_t n = strlen(logged);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	n = strlen(logged);
	if (n + 1 < sizeof(logged))
		strcat(logged, "\n");
}

/* Stand-ins for rsyslogd's exports. */
rsconf_t *ourConf;
void LogError(const int iErrno, const int iErrCode, const char *fmt, ...)
{
	(void)iErrno;
	(void)iErrCode;
	va_list ap;
	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
}
void LogMsg(const int iErrno, const int iErrCode, const int severity, const char *fmt, ...)
{
	(void)iErrno;
	(void)iErrCode;
	(void)severity;
	va_list ap;
	va_start(ap, fmt);
	record(fmt, ap);
	va_end(ap);
}
struct template *tplAddLine(rsconf_t *conf, const char *pName, uchar **ppRestOfConfLine)
{
	(void)conf;
	(void)pName;
	(void)ppRestOfConfLine;
	return NULL;
}
struct template *tplFind(rsconf_t *conf, char *pName, int iLenName)
{
	(void)conf;
	(void)pName;
	(void)iLenName;
	return NULL;
}
struct cnfparamvals *nvlstGetParams(struct nvlst *lst, struct cnfparamblk *params, struct cnfparamvals *vals)
{
	(void)lst;
	(void)params;
	return vals;
}
void cnfparamvalsDestruct(const struct cnfparamvals *paramvals, const struct cnfparamblk *blk)
{
	(void)paramvals;
	(void)blk;
}
rsRetVal OMSRconstruct(omodStringRequest_t **ppThis, int iNumEntries)
{
	(void)ppThis;
	(void)iNumEntries;
	return RS_RET_ERR;
}
rsRetVal OMSRdestruct(omodStringRequest_t *pThis)
{
	(void)pThis;
	return RS_RET_OK;
}
rsRetVal OMSRsetEntry(omodStringRequest_t *pThis, int iEntry, uchar *pTplName, int iTplOpts)
{
	(void)pThis;
	(void)iEntry;
	(void)pTplName;
	(void)iTplOpts;
	return RS_RET_ERR;
}
char *es_str2cstr(es_str_t *s, const char *nulEsc)
{
	(void)s;
	(void)nulEsc;
	return NULL;
}
const uchar *glblGetWorkDirRaw(rsconf_t *cnf)
{
	(void)cnf;
	return NULL;
}

/* An object interface whose statsobj is a version nobody knows yet. */
static rsRetVal useObj(const char *srcFile, uchar *pObjName, uchar *pObjFile, interface_t *pIf)
{
	(void)srcFile;
	(void)pObjFile;
	if (strcmp((const char *)pObjName, "statsobj") != 0 || pIf->ifVersion != 99)
		return -2051; /* RS_RET_INTERFACE_NOT_SUPPORTED, as rsyslog's QueryIF answers */
	return RS_RET_OK;
}
static rsRetVal getObjInterface(obj_if_t *pIf)
{
	pIf->UseObj = useObj;
	return RS_RET_OK;
}
static rsRetVal hostQuery(uchar *name, omsg_entry_point_t *ep)
{
	if (strcmp((const char *)name, "objGetObjInterface") == 0) {
		*ep = (omsg_entry_point_t)getObjInterface;
		return RS_RET_OK;
	}
	return RS_RET_MODULE_ENTRY_POINT_NOT_FOUND;
}

typedef rsRetVal (*modinit_fn)(int, int *, omsg_entry_point_t *, omsg_host_query_t, void *);

static int failures;
static void expect(int ok, const char *what)
{
	if (!ok) {
		fprintf(stderr, "FAIL: %s\nlogged:\n%s", what, logged);
		failures++;
	}
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s omsplunkgo.so\n", argv[0]);
		return 2;
	}
	void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
		return 1;
	}
	modinit_fn modInit = (modinit_fn)dlsym(h, "modInit");
	expect(modInit != NULL, "modInit is exported");
	if (modInit == NULL)
		return 1;
	int provided = 0;
	omsg_entry_point_t query = NULL;

	logged[0] = '\0';
	rsRetVal r = modInit(7, &provided, &query, hostQuery, NULL);
	expect(r == RS_RET_INCOMPATIBLE, "an rsyslog speaking module interface 7 is refused");
	expect(strstr(logged, "interface version 7") != NULL && strstr(logged, "not loaded") != NULL,
	       "the refusal says which interface version and that the module is not loaded");

	logged[0] = '\0';
	r = modInit(CURR_MOD_IF_VERSION, &provided, &query, hostQuery, NULL);
	expect(r == RS_RET_OK && provided == CURR_MOD_IF_VERSION && query != NULL,
	       "with an unknown statistics interface the module still loads");
	expect(strstr(logged, "impstats counters are off") != NULL,
	       "the module says that impstats counters are off, and why");
	const char *first = strstr(logged, "counters are off");
	expect(first != NULL && strstr(first + 1, "counters are off") == NULL, "it says so once");

	if (failures == 0)
		printf("PASS: modInit refuses an unknown module interface and degrades without statistics\n");
	return failures != 0;
}
