// SPDX-License-Identifier: Apache-2.0

//go:build omsplunkgo_faults

package hec

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
)

// The fault-injection build (go build -tags omsplunkgo_faults), for the
// tests that check a panic stays in its action: OMSPLUNKGO_FAULT=
// "post:N" panics at the Nth post of the process, "post:N+" at the Nth
// and every later one.
var (
	faultWhere, faultEvery = parseFault(os.Getenv("OMSPLUNKGO_FAULT"))
	faultSeen              atomic.Int64
	faultAt                int64
)

func parseFault(v string) (string, bool) {
	where, n, ok := strings.Cut(v, ":")
	if !ok {
		return "", false
	}
	every := strings.HasSuffix(n, "+")
	faultAt, _ = strconv.ParseInt(strings.TrimSuffix(n, "+"), 10, 64)
	return where, every
}

func injectFault(where string) {
	if where != faultWhere || faultAt <= 0 {
		return
	}
	n := faultSeen.Add(1)
	if n == faultAt || faultEvery && n > faultAt {
		panic("injected fault at " + where + " #" + strconv.FormatInt(n, 10))
	}
}
