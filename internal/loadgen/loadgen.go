// SPDX-License-Identifier: Apache-2.0

// Package loadgen sends numbered syslog messages over TCP (newline framing,
// as rsyslog's imptcp reads it). Lines are rendered before the clock starts
// and written in large chunks, so the sender is not what a benchmark
// measures. Every run is bounded by a message count and a deadline.
package loadgen

import (
	"fmt"
	"net"
	"strconv"
	"time"
)

// Format is the syslog flavour of the generated lines.
type Format int

const (
	RFC3164 Format = iota // "<13>Nov 24 10:00:00 host app[pid]: msg"
	RFC5424               // "<13>1 2026-11-24T10:00:00.000123Z host app pid - - msg"
)

// Base is the reported time of message 0; message i is i microseconds later.
var Base = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

// Hosts is how many distinct host names the lines cycle through.
const Hosts = 7

// Line is message i rendered in format f, without the trailing newline.
// The body is padded so that a 3164 line is about 200 bytes, like real
// syslog traffic.
func Line(f Format, i int) []byte {
	return AppendLine(nil, f, i)
}

// AppendLine appends message i to dst.
func AppendLine(dst []byte, f Format, i int) []byte {
	host := "host-" + strconv.Itoa(i%Hosts)
	switch f {
	case RFC5424:
		ts := Base.Add(time.Duration(i) * time.Microsecond).Format("2006-01-02T15:04:05.000000Z07:00")
		dst = fmt.Appendf(dst, "<13>1 %s %s app 4242 - - ", ts, host)
	default:
		ts := Base.Add(time.Duration(i) * time.Second).Format(time.Stamp)
		dst = fmt.Appendf(dst, "<13>%s %s app[4242]: ", ts, host)
	}
	return append(dst, Body(i)...)
}

// Body is the message text of message i: a fixed-width sequence number
// first, so that receivers can find i again.
func Body(i int) string {
	return fmt.Sprintf("seq=%09d user=alice action=login src=203.0.113.7 port=52114 status=ok "+
		"session=7f3a9c2e4b1d detail=\"the quick brown fox jumps over the lazy dog\"", i)
}

// SeqOf finds the sequence number in an event text made from Body, or -1.
func SeqOf(event string) int {
	const key = "seq="
	for j := 0; j+len(key)+9 <= len(event); j++ {
		if event[j:j+len(key)] == key {
			n, err := strconv.Atoi(event[j+len(key) : j+len(key)+9])
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// Options bound one run.
type Options struct {
	Addr    string        // imptcp's host:port
	Format  Format        // line flavour
	First   int           // sequence number of the first message
	Count   int           // how many messages
	Rate    int           // messages per second; 0 sends as fast as TCP takes them
	Timeout time.Duration // the whole run's limit
	// Conns spreads a full-speed run over this many connections, each
	// sending a contiguous share of the numbers, as several senders would
	// (default 1; rate-limited runs always use one).
	Conns int
	// Sent, if set, is called with each message's number and the time it
	// was handed to the socket (rate-limited mode only).
	Sent func(i int, at time.Time)
	// Rendered, if set, is called once the lines are rendered, right before
	// the first write (a benchmark starts its CPU accounting there).
	Rendered func()
}

// Result says how a run went.
type Result struct {
	Sent    int
	Started time.Time
	Elapsed time.Duration
}

// Send connects and writes the messages. Lines are rendered before the
// first write; Result.Started is when the first write began.
func Send(o Options) (Result, error) {
	if o.Timeout <= 0 {
		o.Timeout = 5 * time.Minute
	}
	deadline := time.Now().Add(o.Timeout)
	if o.Rate > 0 || o.Conns <= 1 {
		o.Conns = 1
	}
	conns := make([]net.Conn, o.Conns)
	for i := range conns {
		c, err := net.DialTimeout("tcp", o.Addr, 5*time.Second)
		if err != nil {
			return Result{}, err
		}
		defer c.Close()
		if err := c.SetWriteDeadline(deadline); err != nil {
			return Result{}, err
		}
		conns[i] = c
	}
	if o.Rate > 0 {
		return sendPaced(conns[0], o)
	}
	// Pre-render every connection's share in 256 KiB chunks.
	parts := make([][][]byte, o.Conns)
	per := (o.Count + o.Conns - 1) / o.Conns
	for p := range parts {
		from, to := o.First+p*per, min(o.First+(p+1)*per, o.First+o.Count)
		buf := make([]byte, 0, 256<<10)
		for i := from; i < to; i++ {
			buf = AppendLine(buf, o.Format, i)
			buf = append(buf, '\n')
			if len(buf) >= 250<<10 {
				parts[p] = append(parts[p], buf)
				buf = make([]byte, 0, 256<<10)
			}
		}
		if len(buf) > 0 {
			parts[p] = append(parts[p], buf)
		}
	}
	if o.Rendered != nil {
		o.Rendered()
	}
	res := Result{Started: time.Now()}
	errs := make(chan error, o.Conns)
	for p, c := range conns {
		go func() {
			for _, chunk := range parts[p] {
				if _, err := c.Write(chunk); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range conns {
		if err := <-errs; err != nil {
			return res, err
		}
	}
	res.Sent = o.Count
	res.Elapsed = time.Since(res.Started)
	return res, nil
}

// sendPaced writes one message at a time on a fixed schedule, for latency
// measurements; messages due in the same millisecond share one write.
func sendPaced(conn net.Conn, o Options) (Result, error) {
	lines := make([][]byte, o.Count)
	for k := range lines {
		lines[k] = append(AppendLine(nil, o.Format, o.First+k), '\n')
	}
	interval := time.Second / time.Duration(o.Rate)
	res := Result{Started: time.Now()}
	var batch []byte
	for k := 0; k < o.Count; {
		due := res.Started.Add(time.Duration(k) * interval)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		now := time.Now()
		batch = batch[:0]
		first := k
		for k < o.Count && !res.Started.Add(time.Duration(k)*interval).After(now) {
			batch = append(batch, lines[k]...)
			k++
		}
		if _, err := conn.Write(batch); err != nil {
			return res, err
		}
		if o.Sent != nil {
			for j := first; j < k; j++ {
				o.Sent(o.First+j, now)
			}
		}
		res.Sent = k
	}
	res.Elapsed = time.Since(res.Started)
	return res, nil
}
