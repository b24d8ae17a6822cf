// SPDX-License-Identifier: Apache-2.0

/* Prints items.h from rsyslog's own headers (its source package), and makes
 * the compiler compare each function rsyslog_abi.h declares with rsyslog's
 * prototype (signatures.h). */
#include "config.h"
#include "rsyslog.h"
#include "typedefs.h"
#include "rainerscript.h"
#include "objomsr.h"
#include "modules.h"
#include "errmsg.h"
#include "syslogd-types.h"
#include "obj.h"
#include "statsobj.h"
#include "print.h"

/* Where rsyslog's statsobj interface has AddCounter, and that the shim's
 * table (rsyslog_abi.h statsobj_if_t) is at least as large. */
#define STATSOBJ_ADDCOUNTER_OFFSET offsetof(statsobj_if_t, AddCounter)
#define STATSOBJ_FITS 1

#ifndef ABI_PRINT_ONLY /* compiled with -c only: these need rsyslogd to link */
#include "template.h"
#include "rsconf.h"
#include "glbl.h"
#include "signatures.h"
#endif

int main(void)
{
#include "items.h"
	return 0;
}
