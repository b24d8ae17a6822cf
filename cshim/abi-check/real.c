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
#include "print.h"

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
