// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"testing"
	"time"
)

// Retry-After comes as seconds or as an HTTP date.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	cases := map[string]time.Duration{
		"":                              0,
		"3":                             3 * time.Second,
		" 10 ":                          10 * time.Second,
		"-1":                            0,
		"soon":                          0,
		"Fri, 27 Nov 2026 12:00:05 GMT": 5 * time.Second,
		"Fri, 27 Nov 2026 11:00:00 GMT": 0,
		"999999":                        time.Hour,
	}
	for v, want := range cases {
		if got := parseRetryAfter([]byte(v), now); got != want {
			t.Errorf("Retry-After %q: %v, want %v", v, got, want)
		}
	}
}
