/* Prints items.h as cshim/rsyslog_abi.h declares them, and checks that the
 * plugin boundary's string type matches rsyslog's actWrkrIParams_t. */
#include "print.h"
#include "../rsyslog_abi.h"
#include "../omsplunkgo_plugin.h"

_Static_assert(sizeof(omsg_str_t) == sizeof(actWrkrIParams_t), "omsg_str_t size");
_Static_assert(offsetof(omsg_str_t, ptr) == offsetof(actWrkrIParams_t, param), "omsg_str_t.ptr");
_Static_assert(offsetof(omsg_str_t, cap) == offsetof(actWrkrIParams_t, lenBuf), "omsg_str_t.cap");
_Static_assert(offsetof(omsg_str_t, len) == offsetof(actWrkrIParams_t, lenStr), "omsg_str_t.len");

#ifndef ABI_PRINT_ONLY
#include "signatures.h"
#endif

int main(void)
{
#include "items.h"
	return 0;
}
