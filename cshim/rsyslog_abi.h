// SPDX-License-Identifier: Apache-2.0

/* The part of rsyslog 8's module ABI that omsplunkgo uses, declared here so
 * the module builds without a configured rsyslog source tree.
 *
 * Every value and layout below mirrors rsyslog's headers (file named per
 * item; paths in rsyslog's source). `make abi-check` compiles
 * cshim/abi-check/ against the real headers of the installed rsyslog's
 * Debian source package and fails on any mismatch.
 *
 * Functions declared extern here are resolved at load time from the
 * rsyslogd binary (exported with -rdynamic) or from libestr, which
 * rsyslogd links.
 */
#ifndef OMSPLUNKGO_RSYSLOG_ABI_H
#define OMSPLUNKGO_RSYSLOG_ABI_H

#include <stdint.h>

/* runtime/rsyslog.h: rsRetVal is an enum; only these members are used. */
typedef int rsRetVal;
#define RS_RET_OK 0
#define RS_RET_OUT_OF_MEMORY (-6)
#define RS_RET_PARAM_ERROR (-1000)
#define RS_RET_MODULE_ENTRY_POINT_NOT_FOUND (-1004)
#define RS_RET_CONFLINE_UNPROCESSED (-2001)
#define RS_RET_INCOMPATIBLE (-2003)
#define RS_RET_SUSPENDED (-2007)
#define RS_RET_CONFIG_ERROR (-2046)
#define RS_RET_MISSING_CNFPARAMS (-2211)
#define RS_RET_LEGA_ACT_NOT_SUPPORTED (-2215)
#define RS_RET_DATAFAIL (-2218)
#define RS_RET_ERR (-3000)
#define NO_ERRCODE (-1)

typedef unsigned char uchar;
typedef struct rsconf_s rsconf_t;

/* runtime/modules.h */
#define CURR_MOD_IF_VERSION 6
typedef enum { eMOD_IN = 0, eMOD_OUT = 1 } eModType_t;
typedef enum { eMOD_NOKEEP = 0, eMOD_KEEP = 1 } eModKeepType_t;

/* runtime/syslogd-types.h */
typedef enum { sFEATURERepeatedMsgReduction = 1 } syslogFeature;

/* runtime/typedefs.h: ecslCmdHdrlType, only the handlers used here. */
typedef enum {
	eCmdHdlrBinary = 4,
	eCmdHdlrInt = 6,
	eCmdHdlrNonNegInt = 7,
	eCmdHdlrPositiveInt = 8,
	eCmdHdlrSize = 9,
	eCmdHdlrGetWord = 13,
	eCmdHdlrString = 14,
	eCmdHdlrArray = 15
} ecslCmdHdrlType;

/* libestr: es_str_t is opaque to us; es_str2cstr mallocs a C copy. */
typedef struct es_str_s es_str_t;
char *es_str2cstr(es_str_t *s, const char *nulEsc);

/* grammar/rainerscript.h */
#define CNFPARAMBLK_VERSION 1
#define CNFPARAM_REQUIRED 0x0001
struct cnfparamdescr {
	const char *name;
	ecslCmdHdrlType type;
	unsigned flags;
};
struct cnfparamblk {
	unsigned short version;
	unsigned short nParams;
	struct cnfparamdescr *descr;
};
struct cnfarray {
	unsigned nodetype;
	int nmemb;
	es_str_t **arr;
} __attribute__((aligned(8)));
struct svar {
	union {
		es_str_t *estr;
		struct cnfarray *ar;
		long long n;
		struct json_object *json;
	} d;
	char datatype; /* 'N' number, 'S' string, 'A' array */
};
struct cnfparamvals {
	struct svar val;
	unsigned char bUsed;
};
struct nvlst;
struct cnfparamvals *nvlstGetParams(struct nvlst *lst, struct cnfparamblk *params,
				    struct cnfparamvals *vals);
void cnfparamvalsDestruct(const struct cnfparamvals *paramvals, const struct cnfparamblk *blk);

/* runtime/objomsr.h */
#define OMSR_NO_RQD_TPL_OPTS 0
typedef struct omodStringRequest_s {
	int iNumEntries;
	uchar **ppTplName;
	int *piTplOpts;
} omodStringRequest_t;
rsRetVal OMSRconstruct(omodStringRequest_t **ppThis, int iNumEntries);
rsRetVal OMSRdestruct(omodStringRequest_t *pThis);
/* Takes ownership of pTplName (rsyslog frees it). */
rsRetVal OMSRsetEntry(omodStringRequest_t *pThis, int iEntry, uchar *pTplName, int iTplOpts);

/* runtime/rsyslog.h: one rendered template string of a batch. */
typedef struct actWrkrIParams {
	uchar *param;
	uint32_t lenBuf;
	uint32_t lenStr;
} actWrkrIParams_t;

/* runtime/errmsg.h */
void LogError(const int iErrno, const int iErrCode, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void LogMsg(const int iErrno, const int iErrCode, const int severity, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* template.h and runtime/rsconf.c: modules may add internal templates
 * (names starting with a space) to the config being loaded, as omkafka
 * does. ppRestOfConfLine points at a quoted legacy template string. */
struct template;
extern rsconf_t *ourConf;
struct template *tplAddLine(rsconf_t *conf, const char *pName, uchar **ppRestOfConfLine);

/* template.c: looks a template up by name in a config being loaded. rsyslog
 * resolves an action's templates when the action is parsed, so a template
 * must be defined above the action that names it. */
struct template *tplFind(rsconf_t *conf, char *pName, int iLenName);

/* runtime/glbl.h: global(workDirectory=...) of a config, NULL if unset.
 * Before 8.2202 it took no argument (and read the one config there was);
 * the argument passed here is then never read: x86-64's and arm64's
 * calling conventions pass it in a register the callee ignores. */
const uchar *glblGetWorkDirRaw(rsconf_t *cnf);

/* runtime/obj-types.h, runtime/obj.h: core objects (statsobj...) are used
 * through versioned interface tables. Every table starts with
 * interface_t; rsyslog fills a table only for the exact version asked
 * for. obj_if_t is version 2 in every rsyslog 8 release. */
typedef struct interface_s {
	int ifVersion;
	int ifIsLoaded;
} interface_t;
#define objCURR_IF_VERSION 2
#define CORE_COMPONENT NULL
typedef struct obj_if_s {
	int ifVersion;
	int ifIsLoaded;
	rsRetVal (*UseObj)(const char *srcFile, uchar *pObjName, uchar *pObjFile, interface_t *pIf);
	rsRetVal (*ReleaseObj)(const char *srcFile, uchar *pObjName, uchar *pObjFile, interface_t *pIf);
	void (*unused[13])(void); /* InfoConstruct ... GetName: filled by rsyslog, never called */
} obj_if_t;

/* runtime/statsobj.h: impstats counters. The interface version changed
 * (13 up to 8.2512, 14 in 8.2602-8.2606, 16 in 8.2608) by inserting
 * functions before AddCounter; the first six members never moved. cshim/
 * stats.c knows where AddCounter sits in each version (later[]). */
typedef struct statsobj_s statsobj_t;
typedef uint64_t intctr_t;
typedef enum { ctrType_IntCtr = 0, ctrType_Int = 1 } statsCtrType_t;
#define CTR_FLAG_NONE 0
#define CTR_FLAG_RESETTABLE 1
typedef rsRetVal (*statsobj_add_counter_fn)(statsobj_t *pThis, const uchar *ctrName, statsCtrType_t ctrType,
					    int8_t flags, void *pCtr);
typedef struct statsobj_if_s {
	int ifVersion;
	int ifIsLoaded;
	rsRetVal (*DebugPrint)(statsobj_t *pThis);
	rsRetVal (*Construct)(statsobj_t **ppThis);
	rsRetVal (*ConstructFinalize)(statsobj_t *pThis);
	rsRetVal (*Destruct)(statsobj_t **ppThis);
	rsRetVal (*SetName)(statsobj_t *pThis, uchar *name);
	rsRetVal (*SetOrigin)(statsobj_t *pThis, uchar *name);
	/* Version-dependent members; room for more than any known version has. */
	void (*later[24])(void);
} statsobj_if_t;

/* runtime/module-template.h: the signatures rsyslog calls us with. */
typedef rsRetVal (*omsg_entry_point_t)();
typedef rsRetVal (*omsg_host_query_t)(uchar *name, omsg_entry_point_t *ep);

#endif
