// SPDX-License-Identifier: Apache-2.0

/* Every function cshim/rsyslog_abi.h declares, as a pointer of the type the
 * shim calls it through. Compiled (-c, under -Werror) against our header
 * and against rsyslog's: both must accept each initialization, so the two
 * declarations agree. */
struct cnfparamvals *(*const chk_nvlstGetParams)(struct nvlst *, struct cnfparamblk *,
						 struct cnfparamvals *) = nvlstGetParams;
void (*const chk_cnfparamvalsDestruct)(const struct cnfparamvals *, const struct cnfparamblk *) =
	cnfparamvalsDestruct;
rsRetVal (*const chk_OMSRconstruct)(omodStringRequest_t **, int) = OMSRconstruct;
rsRetVal (*const chk_OMSRdestruct)(omodStringRequest_t *) = OMSRdestruct;
rsRetVal (*const chk_OMSRsetEntry)(omodStringRequest_t *, int, uchar *, int) = OMSRsetEntry;
void (*const chk_LogError)(const int, const int, const char *, ...) = LogError;
void (*const chk_LogMsg)(const int, const int, const int, const char *, ...) = LogMsg;
char *(*const chk_es_str2cstr)(es_str_t *, const char *) = es_str2cstr;
struct template *(*const chk_tplAddLine)(rsconf_t *, const char *, uchar **) = tplAddLine;
rsconf_t **const chk_ourConf = &ourConf;
#ifdef GLBL_WORKDIR_VOID
/* rsyslog before 8.2202: no argument. The shim passes one anyway, which
 * the callee never reads (the SysV ABIs of x86-64 and arm64 pass it in a
 * register); see rsyslog_abi.h. */
const uchar *(*const chk_glblGetWorkDirRaw)(void) = glblGetWorkDirRaw;
#else
const uchar *(*const chk_glblGetWorkDirRaw)(rsconf_t *) = glblGetWorkDirRaw;
#endif
struct template *(*const chk_tplFind)(rsconf_t *, char *, int) = tplFind;
