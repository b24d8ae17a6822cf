// SPDX-License-Identifier: Apache-2.0

//go:build !omsplunkgo_faults

package hec

// injectFault is a no-op outside the fault-injection test build
// (fault_on.go).
func injectFault(string) {}
