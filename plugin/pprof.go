// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

// servePprof serves Go's profiling endpoints (/debug/pprof/...) on addr,
// for module(debug.pprof="127.0.0.1:6060"): where the Go side spends CPU
// and memory inside a running rsyslogd, read with `go tool pprof`.
func servePprof(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %q: %v (give a free host:port, e.g. 127.0.0.1:6060)", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	logf(hec.SevInfo, "omsplunkgo: Go profiling endpoints on http://%s/debug/pprof/", ln.Addr())
	go http.Serve(ln, mux)
	return nil
}
