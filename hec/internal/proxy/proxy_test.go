// SPDX-License-Identifier: Apache-2.0

package proxy

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestParseHidesThePassword(t *testing.T) {
	p, err := Parse("http://bob:pa%3Ass@proxy.example:8080", "parameter proxy")
	if err != nil {
		t.Fatal(err)
	}
	if p.Addr != "proxy.example:8080" || p.Shown != "http://bob@proxy.example:8080" ||
		p.auth != "Basic Ym9iOnBhOnNz" { // bob:pa:ss
		t.Fatalf("got %+v", p)
	}
	if p, err := Parse("proxy.example", "env"); err != nil || p.Addr != "proxy.example:3128" || p.auth != "" {
		t.Fatalf("bare host: %+v, %v", p, err)
	}
	for _, bad := range []string{"https://bob:pw-secret@p:1", "socks5://bob:pw-secret@p:1", "http://bob:pw-secret@p:1/x",
		"http://bob:pw-secret@p:0", "http://bob:pw-secret@:3128", "http://bob:pw-secret\x01@p:1"} {
		_, err := Parse(bad, "parameter proxy")
		if err == nil || strings.Contains(err.Error(), "pw-secret") || !strings.HasPrefix(err.Error(), "parameter proxy: ") {
			t.Fatalf("%q: %v", bad, err)
		}
	}
}

func TestExempt(t *testing.T) {
	for _, c := range []struct {
		list, host, port string
		want             bool
	}{
		{"*", "splunk.example.com", "8088", true},
		{"example.com", "splunk.example.com", "8088", true},
		{".example.com", "splunk.example.com", "8088", true},
		{"*.example.com", "splunk.example.com", "8088", true},
		{"example.com", "example.com", "8088", true},
		{"example.com", "badexample.com", "8088", false},
		{"example.com:8088", "splunk.example.com", "8088", true},
		{"example.com:443", "splunk.example.com", "8088", false},
		{"10.0.0.0/8 , other", "10.1.2.3", "8088", true},
		{"10.0.0.0/8", "11.1.2.3", "8088", false},
		{"10.1.2.3", "10.1.2.3", "8088", true},
		{"::1", "[::1]", "8088", true},
		{"127.0.0.1", "localhost", "8088", false},
		{"", "splunk", "8088", false},
		{"SPLUNK.Example.com", "splunk.example.COM", "8088", true},
	} {
		if got := Exempt(c.list, c.host, c.port); got != c.want {
			t.Errorf("Exempt(%q, %q, %q) = %v", c.list, c.host, c.port, got)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{"https_proxy": "http://u:p@sec:1", "HTTP_PROXY": "plain:2", "no_proxy": "direct.example"}
	get := func(k string) string { return env[k] }
	if p, _ := FromEnv(get, "https", "splunk", "8088"); p == nil || p.Addr != "sec:1" || p.From != "environment variable https_proxy" {
		t.Fatalf("https: %+v", p)
	}
	if p, _ := FromEnv(get, "http", "splunk", "8088"); p == nil || p.Addr != "plain:2" {
		t.Fatalf("http: %+v", p)
	}
	if p, _ := FromEnv(get, "https", "hec.direct.example", "8088"); p != nil {
		t.Fatalf("no_proxy: %+v", p)
	}
}

// fakeProxy answers one CONNECT with answer, then echoes.
func fakeProxy(t *testing.T, answer string) (string, chan string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		br := bufio.NewReader(c)
		req, err := http.ReadRequest(br)
		if err != nil {
			got <- err.Error()
			return
		}
		got <- req.Method + " " + req.Host + " " + req.Header.Get("Proxy-Authorization")
		io.WriteString(c, answer)
		io.Copy(c, br)
	}()
	return ln.Addr().String(), got
}

func TestConnect(t *testing.T) {
	p, _ := Parse("http://u:p@127.0.0.1:1", "test")
	dial := func(addr string) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	// A tunnel, with HEC's first bytes in the same read as the answer.
	addr, got := fakeProxy(t, "HTTP/1.1 200 Connection established\r\nX: y\r\n\r\nEARLY")
	c, err := p.Connect(dial(addr), "hec:8088", time.Now().Add(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if g := <-got; g != "CONNECT hec:8088 Basic dTpw" {
		t.Fatalf("the proxy got %q", g)
	}
	c.Write([]byte("ping"))
	buf := make([]byte, 9)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "EARLYping" {
		t.Fatalf("through the tunnel: %q, %v", buf, err)
	}
	c.Close()

	for _, k := range []struct {
		answer string
		status int
		misc   bool
	}{
		{"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", 407, true},
		{"HTTP/1.1 403 Forbidden\r\n\r\n", 403, true},
		{"HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, false},
		{"HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 20000) + "\r\n\r\n", 0, false},
		{"garbage\r\n\r\n", 0, false},
	} {
		addr, _ := fakeProxy(t, k.answer)
		_, err := p.Connect(dial(addr), "hec:8088", time.Now().Add(5*time.Second))
		var pe *Error
		if !errors.As(err, &pe) || pe.Status != k.status || pe.Misconfigured() != k.misc ||
			!strings.Contains(err.Error(), "proxy http://u@127.0.0.1:1") {
			t.Fatalf("answer %.40q: %v", k.answer, err)
		}
	}
}
