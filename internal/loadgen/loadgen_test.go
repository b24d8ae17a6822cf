// SPDX-License-Identifier: Apache-2.0

package loadgen

import (
	"strings"
	"testing"
)

func TestLinesCarryTheirSequenceNumber(t *testing.T) {
	for _, f := range []Format{RFC3164, RFC5424} {
		for _, i := range []int{0, 7, 123456789} {
			line := string(Line(f, i))
			if SeqOf(line) != i {
				t.Fatalf("format %d message %d: SeqOf(%q) = %d", f, i, line, SeqOf(line))
			}
			if strings.ContainsAny(line, "\n\r") {
				t.Fatalf("line breaks framing: %q", line)
			}
		}
	}
	if n := len(Line(RFC3164, 1)); n < 180 || n > 220 {
		t.Fatalf("RFC3164 line is %d bytes; benchmarks assume about 200", n)
	}
}
