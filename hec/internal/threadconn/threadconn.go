// SPDX-License-Identifier: Apache-2.0

// Package threadconn is a TCP connection whose waits block the calling OS
// thread in poll(2), for requests posted from an rsyslog worker thread. It
// knows nothing of HEC and never logs.
package threadconn

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// threadConn is a TCP connection whose reads and writes wait in poll(2) on
// the calling OS thread instead of in Go's network poller.
//
// Why: the hot path is an rsyslog worker thread calling into Go, posting
// one request and waiting for HEC's answer. Waiting in the network poller
// parks the goroutine, puts the thread to sleep, and needs a second thread
// to watch epoll and then wake the first: two thread wake-ups and a spinning
// scheduler per request. Waiting in poll(2) lets the kernel wake the
// rsyslog thread directly when the answer arrives, as a C client would.
type threadConn struct {
	fd            int
	local, remote net.Addr
	readDL        atomic.Int64 // unix nanoseconds, 0 = none
	writeDL       atomic.Int64
	// abort, if set, is asked whenever a wait is interrupted (a signal, or
	// every pollSlice): true ends the wait with ErrAborted.
	abort  func() bool
	closed atomic.Bool
}

// pollSlice bounds one poll(2) so that deadlines changed by another
// goroutine and abort are noticed.
const pollSlice = 50 * time.Millisecond

// ErrAborted ends a wait that abort asked to end.
var ErrAborted = errors.New("connection wait aborted: sender is stopping")

// timeoutError is what a passed deadline returns; fasthttp and net callers
// check Timeout().
type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Dial connects to addr ("host:port") within timeout.
func Dial(addr string, timeout time.Duration, abort func() bool) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, &net.AddrError{Err: "invalid port", Addr: addr}
	}
	deadline := time.Now().Add(timeout)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	ips, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	cancel()
	if err != nil {
		return nil, err
	}
	var firstErr error
	for i, ip := range ips {
		// Like Go's own dialer: each address gets a fair share of what is
		// left, so a black-holed first address cannot use up the timeout.
		share := time.Until(deadline) / time.Duration(len(ips)-i)
		c, err := connectThread(ip, p, time.Now().Add(max(share, min(2*time.Second, time.Until(deadline)))), abort)
		if err == nil {
			return c, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = &net.AddrError{Err: "no address", Addr: addr}
	}
	return nil, firstErr
}

func connectThread(addr net.IPAddr, port int, deadline time.Time, abort func() bool) (net.Conn, error) {
	ip := addr.IP
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if ip4 := ip.To4(); ip4 != nil {
		a := &syscall.SockaddrInet4{Port: port}
		copy(a.Addr[:], ip4)
		sa = a
	} else {
		family = syscall.AF_INET6
		a := &syscall.SockaddrInet6{Port: port}
		copy(a.Addr[:], ip.To16())
		if addr.Zone != "" { // link-local: the interface is part of the address
			if ifi, err := net.InterfaceByName(addr.Zone); err == nil {
				a.ZoneId = uint32(ifi.Index)
			} else if n, err := strconv.Atoi(addr.Zone); err == nil {
				a.ZoneId = uint32(n)
			}
		}
		sa = a
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	c := &threadConn{fd: fd, abort: abort, remote: &net.TCPAddr{IP: ip, Port: port, Zone: addr.Zone}}
	c.writeDL.Store(deadline.UnixNano())
	err = syscall.Connect(fd, sa)
	if err == syscall.EINPROGRESS {
		if err = c.wait(pollOut, &c.writeDL); err == nil {
			var soerr int
			soerr, err = syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_ERROR)
			if err == nil && soerr != 0 {
				err = syscall.Errno(soerr)
			}
		}
	}
	c.writeDL.Store(0)
	if err != nil {
		syscall.Close(fd)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: c.remote, Err: err}
	}
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
	// Keep-alive probes as Go's dialer sets them: a peer that vanished
	// behind a NAT or firewall is noticed on an idle pooled connection.
	syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE, 1)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPIDLE, 15)
	syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_KEEPINTVL, 15)
	if lsa, err := syscall.Getsockname(fd); err == nil {
		c.local = sockaddrToTCP(lsa)
	}
	return c, nil
}

func sockaddrToTCP(sa syscall.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *syscall.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	}
	return &net.TCPAddr{}
}

const (
	pollIn  = 0x1
	pollOut = 0x4
)

type pollFd struct {
	fd      int32
	events  int16
	revents int16
}

// wait blocks the calling thread until fd is ready for events or the
// deadline in dl passes. A signal (rsyslog sends SIGTTIN to a worker it
// wants to stop) or each pollSlice without news interrupts the wait to ask
// abort; the fast path, an answer within the slice, asks nothing.
func (c *threadConn) wait(events int16, dl *atomic.Int64) error {
	for {
		slice := pollSlice
		if d := dl.Load(); d != 0 {
			left := time.Until(time.Unix(0, d))
			if left <= 0 {
				return timeoutError{}
			}
			slice = min(slice, left)
		}
		pfd := pollFd{fd: int32(c.fd), events: events}
		ms := max(int((slice+time.Millisecond-1)/time.Millisecond), 1)
		n, _, e := syscall.Syscall(syscall.SYS_POLL, uintptr(unsafe.Pointer(&pfd)), 1, uintptr(ms))
		if e != 0 && e != syscall.EINTR {
			return os.NewSyscallError("poll", e)
		}
		if n > 0 {
			return nil // ready, or an error the next read or write reports
		}
		if c.closed.Load() {
			return net.ErrClosed
		}
		if c.abort != nil && c.abort() {
			return ErrAborted
		}
	}
}

func (c *threadConn) Read(b []byte) (int, error) {
	for {
		n, err := syscall.Read(c.fd, b)
		switch {
		case err == nil && n == 0 && len(b) > 0:
			return 0, io.EOF
		case err == nil:
			return n, nil
		case err == syscall.EINTR:
			continue
		case err != syscall.EAGAIN:
			return 0, c.opErr("read", err)
		}
		if err := c.wait(pollIn, &c.readDL); err != nil {
			return 0, c.opErr("read", err)
		}
	}
}

func (c *threadConn) Write(b []byte) (int, error) {
	done := 0
	for done < len(b) {
		n, err := send(c.fd, b[done:])
		if n > 0 {
			done += n
		}
		switch {
		case err == nil, err == syscall.EINTR:
			continue
		case err != syscall.EAGAIN:
			return done, c.opErr("write", err)
		}
		if err := c.wait(pollOut, &c.writeDL); err != nil {
			return done, c.opErr("write", err)
		}
	}
	return done, nil
}

// send writes b with MSG_NOSIGNAL: a peer that went away must give EPIPE,
// not a SIGPIPE that kills a host process which does not ignore it.
func send(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)),
		syscall.MSG_NOSIGNAL, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}

func (c *threadConn) opErr(op string, err error) error {
	if _, ok := err.(timeoutError); ok {
		return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: err}
	}
	if err == ErrAborted || err == net.ErrClosed {
		return err
	}
	return &net.OpError{Op: op, Net: "tcp", Source: c.local, Addr: c.remote, Err: os.NewSyscallError(op, err)}
}

// Close must not race a Read or Write of another goroutine (fasthttp
// closes only connections it holds): the descriptor number could be reused
// under the other call. shutdown(2) first wakes a wait that does race it.
func (c *threadConn) Close() error {
	if c.closed.Swap(true) {
		return net.ErrClosed
	}
	syscall.Shutdown(c.fd, syscall.SHUT_RDWR)
	return syscall.Close(c.fd)
}

func (c *threadConn) LocalAddr() net.Addr  { return c.local }
func (c *threadConn) RemoteAddr() net.Addr { return c.remote }

func (c *threadConn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

func (c *threadConn) SetReadDeadline(t time.Time) error {
	c.readDL.Store(unixNanoOrZero(t))
	return nil
}

func (c *threadConn) SetWriteDeadline(t time.Time) error {
	c.writeDL.Store(unixNanoOrZero(t))
	return nil
}

func unixNanoOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
