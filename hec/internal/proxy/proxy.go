// SPDX-License-Identifier: Apache-2.0

// Package proxy reaches HEC through an HTTP proxy: a CONNECT tunnel to
// HEC's host and port, inside which the client speaks as it would to HEC
// directly (TLS end to end for https, so the proxy sees neither events nor
// token). It knows nothing of HEC and never logs; its errors name the proxy
// without its password and say what to fix.
package proxy

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Proxy is one HTTP proxy.
type Proxy struct {
	Addr  string // host:port to connect to
	Shown string // the proxy for log lines: http://[user@]host:port, never the password
	From  string // where it was configured: the parameter or an environment variable
	auth  string // Proxy-Authorization value, "" without credentials
}

// Parse reads http://[user:password@]host[:port] (port 3128 if omitted,
// a proxy's usual one). The error never repeats the text: it may hold a
// password.
func Parse(s, from string) (*Proxy, error) {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		s = "http://" + s // as curl and the environment variables' users write it
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not a URL http://[user:password@]host:port", from)
	}
	switch {
	case u.Scheme == "https":
		return nil, fmt.Errorf("%s: an https:// proxy (TLS to the proxy) is not supported; use http://host:port: "+
			"the connection to HEC is still TLS end to end through it", from)
	case u.Scheme != "http":
		return nil, fmt.Errorf("%s: the proxy must be http://[user:password@]host:port, not %s://", from, u.Scheme)
	case u.Hostname() == "":
		return nil, fmt.Errorf("%s: the proxy URL has no host", from)
	case u.Path != "" && u.Path != "/" || u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("%s: the proxy URL must be http://[user:password@]host:port, without a path", from)
	}
	port := u.Port()
	if port == "" {
		port = "3128"
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return nil, fmt.Errorf("%s: the proxy URL has a bad port (1-65535)", from)
	}
	p := &Proxy{Addr: net.JoinHostPort(u.Hostname(), port), From: from}
	p.Shown = "http://" + p.Addr
	if u.User != nil {
		user := u.User.Username()
		pass, _ := u.User.Password()
		if strings.ContainsAny(user+pass, "\r\n") || strings.Contains(user, ":") {
			return nil, fmt.Errorf("%s: the proxy's user name must not hold ':' or line breaks", from)
		}
		p.auth = "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
		p.Shown = "http://" + url.User(user).String() + "@" + p.Addr
	}
	return p, nil
}

// Error is a failure at the proxy: it could not be reached, or it did not
// open the tunnel. Nothing reached HEC.
type Error struct {
	Proxy  string // Shown
	Target string // host:port the tunnel was for
	Status int    // the proxy's HTTP status, 0 when it gave none
	Reason string // its status text, or what went wrong
	Err    error  // the connection's error, when there was no answer
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("proxy %s: %s: %v", e.Proxy, e.Reason, e.Err)
	}
	return fmt.Sprintf("proxy %s refused the tunnel to %s: HTTP %d %s%s", e.Proxy, e.Target, e.Status, e.Reason, e.hint())
}

func (e *Error) Unwrap() error { return e.Err }

// Misconfigured says the proxy will refuse again until an admin changes
// something: credentials, or what it lets clients tunnel to. A proxy that
// could not reach HEC (502, 503, 504), or was itself unreachable, may
// succeed later.
func (e *Error) Misconfigured() bool {
	return e.Status >= 400 && e.Status < 500 && e.Status != http.StatusRequestTimeout && e.Status != http.StatusTooManyRequests
}

func (e *Error) hint() string {
	switch {
	case e.Status == http.StatusProxyAuthRequired || e.Status == http.StatusUnauthorized: // tinyproxy says 401
		return " - the proxy wants other credentials: check the user and password in the proxy URL " +
			"(http://user:password@host:port)"
	case e.Status == http.StatusForbidden || e.Status == http.StatusMethodNotAllowed:
		return " - the proxy does not let this host tunnel (CONNECT) to that port: allow it there " +
			"(squid: the port in SSL_ports; tinyproxy: ConnectPort)"
	case e.Status >= 500:
		return " - the proxy could not reach HEC; retrying"
	}
	return ""
}

// maxAnswer bounds the proxy's answer to CONNECT that is read (status line
// and headers); its body, if any, is not.
const maxAnswer = 16 << 10

// Connect asks the proxy, over c, for a tunnel to target (host:port) and
// returns the connection to speak through. c is closed on failure.
func (p *Proxy) Connect(c net.Conn, target string, deadline time.Time) (net.Conn, error) {
	fail := func(status int, reason string, err error) (net.Conn, error) {
		c.Close()
		return nil, &Error{Proxy: p.Shown, Target: target, Status: status, Reason: reason, Err: err}
	}
	c.SetDeadline(deadline)
	var req strings.Builder
	req.WriteString("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n")
	if p.auth != "" {
		req.WriteString("Proxy-Authorization: " + p.auth + "\r\n")
	}
	req.WriteString("User-Agent: omsplunkgo\r\n\r\n")
	if _, err := c.Write([]byte(req.String())); err != nil {
		return fail(0, "sending CONNECT", err)
	}
	br := bufio.NewReaderSize(&limited{c: c, n: maxAnswer}, 4096)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fail(0, "reading its answer to CONNECT", err)
	}
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fail(resp.StatusCode, strings.TrimSpace(strings.TrimPrefix(resp.Status, strconv.Itoa(resp.StatusCode))), nil)
	}
	c.SetDeadline(time.Time{})
	if n := br.Buffered(); n > 0 {
		// Bytes past the answer are HEC's already (no proxy sends any
		// before the client speaks, but they must not be lost).
		early, _ := br.Peek(n)
		return &prefixed{Conn: c, early: append([]byte(nil), early...)}, nil
	}
	return c, nil
}

// Unreachable is the error of a proxy that could not be connected to.
func (p *Proxy) Unreachable(err error) error {
	return &Error{Proxy: p.Shown, Reason: "cannot connect to it", Err: err}
}

// limited reads at most n bytes from c: a proxy that answers CONNECT with
// endless headers cannot hold memory.
type limited struct {
	c net.Conn
	n int
}

var errTooLong = errors.New("answer to CONNECT too long")

func (l *limited) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLong
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.c.Read(p)
	l.n -= n
	return n, err
}

// prefixed returns early before reading from its connection.
type prefixed struct {
	net.Conn
	early []byte
}

func (p *prefixed) Read(b []byte) (int, error) {
	if len(p.early) > 0 {
		n := copy(b, p.early)
		p.early = p.early[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}
