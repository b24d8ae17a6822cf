// SPDX-License-Identifier: Apache-2.0

// Package lenient reads HTTP/1.1 answers the way RFC 9112 allows a
// recipient to, under a client (fasthttp) that is stricter: a line may
// end in a bare LF (§2.2), and a 2xx answer's body is read only up to a
// bound, the connection then closed instead of drained (HEC's success
// object comes first; what follows is not the client's business). It
// rewrites what the client reads into the strict form: CRLF line ends, and
// a Content-Length cut to the bound with "Connection: close" added. It
// knows nothing of HEC and never logs.
package lenient

import (
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"strconv"
)

// maxLine bounds a status, header or chunk-size line: longer is no
// answer this reader makes sense of, and it passes the rest through.
const maxLine = 64 << 10

type phase int

const (
	head      phase = iota // status line and headers
	body                   // remain bytes of a body with a length
	chunkSize              // a chunk-size line
	chunkData              // remain bytes of chunk data, then its line end
	chunkEnd               // the line end after chunk data
	trailer                // trailer lines after the last chunk
	rest                   // everything as it comes (no length, or given up)
	done                   // the bounded answer was read: nothing more
)

// Conn is a client connection whose answers are read leniently.
type Conn struct {
	net.Conn
	bound int64 // the largest 2xx body read

	buf    []byte // read from the connection
	out    []byte
	line   []byte
	ph     phase
	remain int64
	// The answer under way.
	lines   [][]byte
	status  int
	length  int64 // -1 when none
	chunked bool
	err     error
}

// Wrap reads c's answers leniently, 2xx bodies up to bound bytes.
func Wrap(c net.Conn, bound int64) *Conn {
	return &Conn{Conn: c, bound: bound}
}

func (c *Conn) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.ph == done {
			return 0, io.EOF
		}
		if c.err != nil {
			return 0, c.err
		}
		if c.buf == nil {
			c.buf = make([]byte, 4<<10) // once per connection: HEC's answers are small
		}
		n, err := c.Conn.Read(c.buf)
		c.feed(c.buf[:n])
		if err != nil {
			c.err = err
		}
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 {
		c.out = c.out[:0:0]
	}
	return n, nil
}

// feed processes b, appending what the client is to read to out.
func (c *Conn) feed(b []byte) {
	for len(b) > 0 {
		switch c.ph {
		case rest:
			c.out = append(c.out, b...)
			return
		case done:
			return
		case body, chunkData:
			n := min(int64(len(b)), c.remain)
			c.out = append(c.out, b[:n]...)
			b = b[n:]
			c.remain -= n
			if c.remain == 0 {
				c.endData()
			}
		default: // a line-oriented phase
			i := bytes.IndexByte(b, '\n')
			if i < 0 {
				c.line = append(c.line, b...)
				if len(c.line) > maxLine {
					c.giveUp()
				}
				return
			}
			c.line = append(c.line, b[:i]...)
			b = b[i+1:]
			l := bytes.TrimSuffix(c.line, []byte("\r"))
			c.line = c.line[:0]
			c.onLine(l)
		}
	}
}

// giveUp passes everything through from here on, as it came.
func (c *Conn) giveUp() {
	for _, l := range c.lines {
		c.out = append(append(c.out, l...), '\r', '\n')
	}
	c.out = append(c.out, c.line...)
	c.lines, c.line, c.ph = nil, nil, rest
}

func (c *Conn) endData() {
	switch c.ph {
	case chunkData:
		c.ph = chunkEnd
	case body:
		c.ph = head
		if c.cut() {
			c.ph = done
		}
	}
}

// cut reports whether the answer under way had its body cut to the bound.
func (c *Conn) cut() bool {
	return c.status >= 200 && c.status < 300 && c.length > c.bound
}

func (c *Conn) onLine(l []byte) {
	switch c.ph {
	case head:
		if len(c.lines) == 0 && len(l) == 0 {
			return // blank lines before a status line are allowed
		}
		if len(l) > 0 {
			c.lines = append(c.lines, append([]byte(nil), l...))
			if len(c.lines) > 256 {
				c.giveUp()
			}
			return
		}
		c.endHead()
	case chunkSize:
		c.out = append(append(c.out, l...), '\r', '\n')
		sz := l
		if i := bytes.IndexByte(sz, ';'); i >= 0 {
			sz = sz[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(sz)), 16, 64)
		switch {
		case err != nil || n < 0:
			c.ph = rest // not chunked after all: the client will say so
		case n == 0:
			c.ph = trailer
		default:
			c.ph, c.remain = chunkData, n
		}
	case chunkEnd:
		c.out = append(c.out, '\r', '\n')
		c.ph = chunkSize
	case trailer:
		c.out = append(append(c.out, l...), '\r', '\n')
		if len(l) == 0 {
			c.ph = head
		}
	}
}

// endHead writes the answer's status line and headers with CRLF line
// ends, a 2xx body over the bound announced cut and the connection closed.
func (c *Conn) endHead() {
	c.status, c.length, c.chunked = 0, -1, false
	if f := bytes.Fields(c.lines[0]); len(f) >= 2 {
		c.status, _ = strconv.Atoi(string(f[1]))
	}
	for _, h := range c.lines[1:] {
		k, v, ok := bytes.Cut(h, []byte(":"))
		if !ok {
			continue
		}
		k, v = bytes.TrimSpace(k), bytes.TrimSpace(v)
		switch {
		case bytes.EqualFold(k, []byte("Content-Length")):
			if n, err := strconv.ParseInt(string(v), 10, 64); err == nil && n >= 0 {
				c.length = n
			}
		case bytes.EqualFold(k, []byte("Transfer-Encoding")):
			c.chunked = bytes.Contains(bytes.ToLower(v), []byte("chunked"))
		}
	}
	cut := !c.chunked && c.cut()
	for i, l := range c.lines {
		if cut && i > 0 {
			k, _, _ := bytes.Cut(l, []byte(":"))
			k = bytes.TrimSpace(k)
			if bytes.EqualFold(k, []byte("Content-Length")) || bytes.EqualFold(k, []byte("Connection")) {
				continue
			}
		}
		c.out = append(append(c.out, l...), '\r', '\n')
	}
	if cut {
		c.out = append(c.out, "Content-Length: "+strconv.FormatInt(c.bound, 10)+"\r\nConnection: close\r\n"...)
	}
	c.out = append(c.out, '\r', '\n')
	c.lines = c.lines[:0]
	noBody := c.status/100 == 1 || c.status == 204 || c.status == 304
	switch {
	case noBody:
		c.ph = head
	case c.chunked:
		c.ph = chunkSize
	case c.length == 0:
		c.ph = head
	case c.length > 0 && cut:
		c.ph, c.remain = body, c.bound
	case c.length > 0:
		c.ph, c.remain = body, c.length
	default:
		c.ph = rest // the body ends with the connection
	}
}

// TLSConn is a Conn over TLS. Its Handshake tells a client that the
// connection speaks TLS already (fasthttp then does not wrap it again),
// so that answers are read leniently after decryption.
type TLSConn struct {
	*Conn
	tls *tls.Conn
}

// WrapTLS reads the answers of a TLS connection leniently.
func WrapTLS(c *tls.Conn, bound int64) *TLSConn {
	return &TLSConn{Conn: Wrap(c, bound), tls: c}
}

// Handshake runs the TLS handshake if it has not run yet.
func (c *TLSConn) Handshake() error { return c.tls.Handshake() }
