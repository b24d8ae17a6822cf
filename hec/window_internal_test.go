// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
)

func testItem(first, n int) *item {
	it := newItem()
	for i := range n {
		it.body = fmt.Appendf(it.body, `{"event":"e%d"}`, first+i)
		it.ends = append(it.ends, len(it.body))
	}
	return it
}

// A commit split over two requests is done, and its record released, only
// when both parts are delivered: a crash between them must find it.
func TestSplitRecordIsDoneWhenAllPartsAre(t *testing.T) {
	dir := t.TempDir()
	c := defaultConfig()
	w := newWindow(&c, segment.Open(dir, "p", segment.Options{}))
	a, b := testItem(0, 300), testItem(300, 300)
	if err := w.persist([]*item{a, b}); err != nil {
		t.Fatal(err)
	}
	w.add([]*item{a, b})
	first := w.take(500, 1<<20)
	if len(first) != 2 || first[0] != a || first[1].events() != 200 || w.queue[0].events() != 100 {
		t.Fatalf("took %d items, the last of %d events; %d left", len(first), first[len(first)-1].events(), w.queue[0].events())
	}
	if !bytes.HasSuffix(first[1].body, []byte(`{"event":"e499"}`)) || !bytes.HasPrefix(w.queue[0].body, []byte(`{"event":"e500"}`)) ||
		w.queue[0].ends[0] != len(`{"event":"e500"}`) {
		t.Fatalf("split at the wrong place: %q | %q", first[1].body[len(first[1].body)-16:], w.queue[0].body[:16])
	}
	w.done(first)
	if ev, _ := w.held(); ev != 100 {
		t.Fatalf("window holds %d events, want 100", ev)
	}
	files, _, _ := segment.Files(dir, "p")
	contents, _ := segment.Read(files[0])
	recs := contents.Records
	w.log.Close() // as at a stop: the file keeps b's record
	if _, err := os.Stat(files[0]); err != nil || len(recs) != 2 {
		t.Fatalf("b's record is gone with half of it undelivered: %v", err)
	}
	rest := w.take(500, 1<<20)
	w.done(rest)
	if _, err := os.Stat(files[0]); !os.IsNotExist(err) {
		t.Fatalf("every part delivered, the file stays: %v", err)
	}
	if ev, size := w.held(); ev != 0 || size != 0 {
		t.Fatalf("window holds %d events, %d bytes", ev, size)
	}
}
