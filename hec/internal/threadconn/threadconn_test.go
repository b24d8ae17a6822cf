// SPDX-License-Identifier: Apache-2.0

package threadconn

import (
	"errors"
	"io"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// listen starts a loopback listener whose accepted connections go to serve.
func listen(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
	return ln.Addr().String()
}

// Bytes written and read through a threadConn arrive whole, and the peer
// closing shows as io.EOF.
func TestThreadConnCarriesBytesAndSeesEOF(t *testing.T) {
	addr := listen(t, func(c net.Conn) {
		buf := make([]byte, 1<<20)
		n, _ := io.ReadFull(c, buf)
		c.Write(buf[:n])
		c.Close()
	})
	c, err := Dial(addr, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	out := make([]byte, 1<<20) // larger than the socket buffers: Write must wait
	for i := range out {
		out[i] = byte(i)
	}
	if n, err := c.Write(out); n != len(out) || err != nil {
		t.Fatalf("wrote %d, %v", n, err)
	}
	in, err := io.ReadAll(c)
	if err != nil || len(in) != len(out) || in[12345] != out[12345] {
		t.Fatalf("read %d bytes, %v", len(in), err)
	}
	if c.RemoteAddr().String() != addr || c.LocalAddr() == nil {
		t.Fatalf("addresses %v -> %v", c.LocalAddr(), c.RemoteAddr())
	}
}

// A read deadline ends the wait with an error net callers see as a timeout.
func TestThreadConnReadDeadline(t *testing.T) {
	addr := listen(t, func(c net.Conn) { time.Sleep(5 * time.Second); c.Close() })
	c, err := Dial(addr, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(120 * time.Millisecond))
	start := time.Now()
	_, err = c.Read(make([]byte, 10))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("got %v, want a timeout", err)
	}
	if d := time.Since(start); d < 100*time.Millisecond || d > time.Second {
		t.Fatalf("timed out after %v, want about 120ms", d)
	}
}

// abort ends a wait with no deadline within about one poll slice.
func TestThreadConnAbortEndsWait(t *testing.T) {
	addr := listen(t, func(c net.Conn) { time.Sleep(5 * time.Second); c.Close() })
	var stop atomic.Bool
	c, err := Dial(addr, time.Second, stop.Load)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.AfterFunc(100*time.Millisecond, func() { stop.Store(true) })
	start := time.Now()
	_, err = c.Read(make([]byte, 10))
	if !errors.Is(err, ErrAborted) {
		t.Fatalf("got %v, want ErrAborted", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond+3*pollSlice {
		t.Fatalf("aborted after %v", d)
	}
}

// Dialing a closed port fails at once with the address in the error.
func TestThreadConnDialRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := Dial(addr, time.Second, nil); err == nil {
		t.Fatal("dial to a closed port succeeded")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("got %v, want connection refused", err)
	}
	if _, err := Dial("no-such-host.invalid:8088", time.Second, nil); err == nil {
		t.Fatal("dial to an unresolvable name succeeded")
	}
}

// Writing to a peer that has gone returns EPIPE or a reset. (send also
// spares the host a SIGPIPE; a Go test binary ignores that signal anyway,
// so only the error is checked here.)
func TestThreadConnWriteToClosedPeerFails(t *testing.T) {
	addr := listen(t, func(c net.Conn) { c.Close() })
	c, err := Dial(addr, time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond) // the peer's FIN arrives
	chunk := make([]byte, 64<<10)
	for i := 0; i < 100; i++ {
		if _, err = c.Write(chunk); err != nil {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if !errors.Is(err, syscall.EPIPE) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("got %v, want EPIPE or ECONNRESET", err)
	}
}

// A host name is resolved and its addresses tried in turn: "localhost"
// reaches a listener on 127.0.0.1 also on machines that list ::1 first
// (where nothing listens, so it refuses).
func TestThreadConnDialsEveryAddressOfAName(t *testing.T) {
	addr := listen(t, func(c net.Conn) { c.Write([]byte("hi")); c.Close() })
	_, port, _ := net.SplitHostPort(addr)
	c, err := Dial(net.JoinHostPort("localhost", port), 2*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if b, err := io.ReadAll(c); err != nil || string(b) != "hi" {
		t.Fatalf("read %q, %v", b, err)
	}
}
