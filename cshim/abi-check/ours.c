// SPDX-License-Identifier: Apache-2.0

/* Prints items.h as cshim/rsyslog_abi.h declares them, and checks that the
 * plugin boundary's string type matches rsyslog's actWrkrIParams_t. */
#include "print.h"
#include "../rsyslog_abi.h"
#include "../omsplunkgo_plugin.h"

_Static_assert(sizeof(omsg_str_t) == sizeof(actWrkrIParams_t), "omsg_str_t size");
_Static_assert(offsetof(omsg_str_t, ptr) == offsetof(actWrkrIParams_t, param), "omsg_str_t.ptr");
_Static_assert(offsetof(omsg_str_t, cap) == offsetof(actWrkrIParams_t, lenBuf), "omsg_str_t.cap");
_Static_assert(offsetof(omsg_str_t, len) == offsetof(actWrkrIParams_t, lenStr), "omsg_str_t.len");

/* The shim's idea of AddCounter's place for the interface version of the
 * rsyslog under check (check.sh passes it as STATSOBJ_VERSION), and that
 * its table holds that version's whole interface. */
#include "../stats.h"
#define STATSOBJ_ADDCOUNTER_OFFSET \
	(offsetof(statsobj_if_t, later) + stats_addcounter_slot(STATSOBJ_VERSION) * sizeof(void (*)(void)))
#define STATSOBJ_FITS (sizeof(statsobj_if_t) >= STATSOBJ_REAL_SIZE)

#ifndef ABI_PRINT_ONLY
#include "signatures.h"
#endif

int main(void)
{
#include "items.h"
	return 0;
}
