// SPDX-License-Identifier: Apache-2.0

// Command plugin is built with -buildmode=c-shared into libomsplunkgo.so,
// the Go half of the module. The C shim (cshim/) dlopens it after rsyslogd
// has forked and calls the functions exported here; their contract is
// cshim/omsplunkgo_plugin.h.
package main

/*
#cgo CFLAGS: -I${SRCDIR}/../cshim -Wall -Werror
#include <stdlib.h>
#include <string.h>
#include "omsplunkgo_plugin.h"

static inline void omsg_call_log(const omsg_host_t *h, int sev, const char *msg) {
	if (h != NULL && h->log != NULL)
		h->log(sev, msg);
}
static inline void omsg_set_err(char *dst, int len, const char *msg) {
	if (dst == NULL || len <= 0)
		return;
	strncpy(dst, msg, (size_t)len - 1);
	dst[len - 1] = '\0';
}
*/
import "C"

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

func main() {} // required by c-shared; never runs

// The counters rsyslog reads are hec.Counters: a different count on either
// side fails the build here.
var (
	_ [C.OMSG_NUM_COUNTERS - hec.NumCounters]struct{}
	_ [hec.NumCounters - C.OMSG_NUM_COUNTERS]struct{}
)

var host *C.omsg_host_t

// logf sends a line to rsyslog's own log: in daemon mode fds 1 and 2 are
// gone, so nothing may go to stderr.
func logf(sev int, format string, a ...any) {
	msg := C.CString(fmt.Sprintf(format, a...))
	defer C.free(unsafe.Pointer(msg))
	C.omsg_call_log(host, C.int(sev), msg)
}

func setErr(dst *C.char, n C.int, msg string) {
	cs := C.CString(msg)
	defer C.free(unsafe.Pointer(cs))
	C.omsg_set_err(dst, n, cs)
}

//export omsg_init
func omsg_init(h *C.omsg_host_t, gomaxprocs C.int, gomemlimit C.int64_t, pprofAddr *C.char, errBuf *C.char, errLen C.int) (rc C.int) {
	if h == nil || h.abi != C.OMSG_PLUGIN_ABI {
		setErr(errBuf, errLen, fmt.Sprintf("libomsplunkgo.so speaks plugin ABI %d but the module does not; install the module and library from the same build", C.OMSG_PLUGIN_ABI))
		return C.OMSG_ERROR
	}
	// The shim keeps *h alive for the life of the process.
	host = h
	if gomaxprocs > 0 {
		runtime.GOMAXPROCS(int(gomaxprocs))
	}
	if gomemlimit > 0 {
		debug.SetMemoryLimit(int64(gomemlimit))
	}
	if pprofAddr != nil {
		if err := servePprof(C.GoString(pprofAddr)); err != nil {
			// Profiling is a debugging aid: shipping goes on without it.
			logf(hec.SevErr, "omsplunkgo: debug.pprof: %v", err)
		}
	}
	return C.OMSG_OK
}

//export omsg_action_new
func omsg_action_new(names, values **C.char, n C.int, counters *C.uint64_t, errBuf *C.char, errLen C.int) (handle C.uint64_t) {
	defer func() {
		if p := recover(); p != nil {
			setErr(errBuf, errLen, fmt.Sprintf("internal error creating the action: %v", p))
			handle = 0
		}
	}()
	opts := make(map[string]string, int(n))
	ns := unsafe.Slice(names, int(n))
	vs := unsafe.Slice(values, int(n))
	for i := range ns {
		opts[C.GoString(ns[i])] = C.GoString(vs[i])
	}
	// The counters are C memory rsyslog's impstats reads.
	var ctrs *hec.Counters
	if counters != nil {
		ctrs = (*hec.Counters)(unsafe.Pointer(counters))
	}
	a, err := newAction(opts, ctrs)
	if err != nil {
		setErr(errBuf, errLen, err.Error())
		return 0
	}
	return C.uint64_t(actions.add(a))
}

//export omsg_worker_new
func omsg_worker_new(action C.uint64_t) (handle C.uint64_t) {
	defer func() {
		if p := recover(); p != nil {
			logf(hec.SevErr, "omsplunkgo: internal error creating a worker: %v\n%s", p, debug.Stack())
			handle = 0
		}
	}()
	a := actions.get(uint64(action))
	if a == nil {
		return 0
	}
	return C.uint64_t(workers.add(&worker{a: a, w: a.sender.NewWorker()}))
}

//export omsg_worker_free
func omsg_worker_free(handle C.uint64_t) {
	workers.remove(uint64(handle))
}

//export omsg_action_commit
func omsg_action_commit(handle C.uint64_t, params *C.omsg_str_t, nmsgs, ntpls C.int, stopping *C.int) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			// Keep the batch: a bug here must not lose data.
			logf(hec.SevErr, "omsplunkgo: internal error, batch kept for retry: %v\n%s", p, debug.Stack())
			rc = C.OMSG_SUSPEND
		}
	}()
	w := workers.get(uint64(handle))
	if w == nil || int(ntpls) < w.a.needTemplates() {
		return C.OMSG_ERROR
	}
	ps := unsafe.Slice(params, int(nmsgs)*int(ntpls))
	stop := func() bool { return stopping != nil && atomic.LoadInt32((*int32)(unsafe.Pointer(stopping))) != 0 }
	return C.int(w.commit(int(nmsgs), stop, func(i, tpl int) []byte {
		s := &ps[i*int(ntpls)+tpl]
		if s.ptr == nil || s.len == 0 {
			return nil
		}
		return unsafe.Slice((*byte)(unsafe.Pointer(s.ptr)), int(s.len))
	}))
}

//export omsg_action_probe
func omsg_action_probe(handle C.uint64_t) (rc C.int) {
	defer func() {
		if p := recover(); p != nil {
			logf(hec.SevErr, "omsplunkgo: internal error in health probe: %v\n%s", p, debug.Stack())
			rc = C.OMSG_SUSPEND
		}
	}()
	a := actions.get(uint64(handle))
	if a == nil {
		return C.OMSG_ERROR
	}
	return C.int(a.probe())
}

//export omsg_action_set_token
func omsg_action_set_token(handle C.uint64_t, token *C.char) {
	defer func() {
		if p := recover(); p != nil {
			logf(hec.SevErr, "omsplunkgo: internal error setting the token: %v", p)
		}
	}()
	if a := actions.get(uint64(handle)); a != nil {
		a.sender.SetToken(C.GoString(token))
	}
}

//export omsg_action_hup
func omsg_action_hup(handle C.uint64_t) {
	defer func() {
		if p := recover(); p != nil {
			logf(hec.SevErr, "omsplunkgo: internal error on HUP: %v", p)
		}
	}()
	if a := actions.get(uint64(handle)); a != nil {
		a.sender.Reopen()
	}
}

//export omsg_action_free
func omsg_action_free(handle C.uint64_t) {
	defer func() {
		if p := recover(); p != nil {
			// What the window holds stays in its files for the next start.
			logf(hec.SevErr, "omsplunkgo: internal error stopping the action: %v\n%s", p, debug.Stack())
		}
	}()
	if a := actions.get(uint64(handle)); a != nil {
		a.sender.Close()
	}
	actions.remove(uint64(handle))
}
