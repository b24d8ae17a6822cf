// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"testing"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
)

// FuzzWindowFile reads window files made of arbitrary bytes around an
// intact record, as a crash, a full disk or a crafted file leaves them:
// reading never panics, every request it yields is well formed, and the
// intact record comes back as it was written.
func FuzzWindowFile(f *testing.F) {
	f.Add([]byte{}, []byte{})
	f.Add([]byte("OSG1\x05\x00\x00\x00"), []byte("\xff\xff"))
	// A record whose checksum holds and whose ends run backwards.
	bad := []byte{0, 2, 5, 0xfb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}
	bad = append(bad, "0123456789"...)
	framed, _, _ := frame(bad, 2)
	f.Add(framed, []byte{})
	f.Fuzz(func(t *testing.T, before, after []byte) {
		good := testItem(0, 3)
		good.query = "index=main"
		rec, payloadLen, err := frame(encodeItem(nil, good), good.events())
		if err != nil {
			t.Fatal(err)
		}
		data := append(append(append([]byte(nil), before...), rec...), after...)
		recs := segment.Parse(data).Records
		found := false
		for _, r := range recs {
			it, err := recordItem(r, true)
			if err != nil {
				continue
			}
			prev := 0
			for _, e := range it.ends {
				if e <= prev || e > len(it.body) {
					t.Fatalf("ends %v over a body of %d bytes", it.ends, len(it.body))
				}
				prev = e
			}
			if prev != len(it.body) {
				t.Fatalf("ends %v do not cover a body of %d bytes", it.ends, len(it.body))
			}
			if len(r.Payload) == payloadLen && bytes.Equal(it.body, good.body) && it.query == good.query {
				found = true
			}
		}
		// Damage before it may swallow the record only by being an intact
		// record itself that spans it; then it is that record's.
		if !found && !spans(recs, data, len(before), len(rec)) {
			t.Fatalf("the intact record is not read back (%d records)", len(recs))
		}
	})
}

// frame makes the segment record of payload.
func frame(payload []byte, events int) ([]byte, int, error) {
	buf := segment.Frame(nil, []segment.Record{{Payload: payload, Events: events}})
	return buf, len(payload), nil
}

// spans reports whether an intact record other than the one at off covers it.
func spans(recs []segment.Record, data []byte, off, n int) bool {
	for _, r := range recs {
		start := cap(data) - cap(r.Raw)
		if start <= off && start+len(r.Raw) >= off+n && start != off {
			return true
		}
	}
	return false
}
