// SPDX-License-Identifier: Apache-2.0

package event

import (
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipWriters pools one gzip writer per compression level. Compressing on
// the calling goroutine matters: fasthttp's AppendGzipBytesLevel hands the
// work to a goroutine of its own (to spare the caller's stack), which on
// the hot path costs the thread wake-ups that posting from rsyslog's
// worker thread avoids (README, "How it works").
var gzipWriters [gzip.BestCompression + 1]sync.Pool

// sliceWriter appends to a byte slice.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// AppendGzip appends the gzip compression of src at level (1..9) to dst.
func AppendGzip(dst, src []byte, level int) []byte {
	out := &sliceWriter{b: dst}
	p := &gzipWriters[level]
	zw, _ := p.Get().(*gzip.Writer)
	if zw == nil {
		zw, _ = gzip.NewWriterLevel(out, level) // level is validated 1..9
	} else {
		zw.Reset(out)
	}
	zw.Write(src) //nolint:errcheck // a sliceWriter does not fail
	zw.Close()    //nolint:errcheck
	zw.Reset(nil)
	p.Put(zw)
	return out.b
}
