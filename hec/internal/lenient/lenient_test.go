// SPDX-License-Identifier: Apache-2.0

package lenient

import (
	"io"
	"net"
	"strings"
	"testing"
)

// read feeds answer to a Conn in pieces of step bytes and returns what
// the client reads.
func read(t *testing.T, answer string, step int, bound int64) string {
	t.Helper()
	server, client := net.Pipe()
	go func() {
		for i := 0; i < len(answer); i += step {
			server.Write([]byte(answer[i:min(i+step, len(answer))]))
		}
		server.Close()
	}()
	out, err := io.ReadAll(Wrap(client, bound))
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestStrictAnswersPassUnchanged(t *testing.T) {
	a := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\nX-T: 1\r\n\r\n" +
		"HTTP/1.1 204 No Content\r\n\r\n" +
		"HTTP/1.1 503 Busy\r\nContent-Length: 3\r\n\r\nbad"
	for _, step := range []int{1, 3, 1000} {
		if got := read(t, a, step, 1<<20); got != a {
			t.Fatalf("step %d: %q", step, got)
		}
	}
}

func TestBareLFIsReadAsCRLF(t *testing.T) {
	a := "HTTP/1.1 200 OK\nContent-Length: 5\n\nhello" +
		"HTTP/1.1 200 OK\nTransfer-Encoding: chunked\n\n5\nhel\nl\n0\n\n"
	want := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel\nl\r\n0\r\n\r\n"
	for _, step := range []int{1, 2, 1000} {
		if got := read(t, a, step, 1<<20); got != want {
			t.Fatalf("step %d: %q", step, got)
		}
	}
}

// A 2xx body over the bound is cut to it and the connection ends there;
// any other answer's body is left to the client's own limit.
func TestLargeSuccessBodyIsCut(t *testing.T) {
	body := `{"text":"Success","code":0}` + strings.Repeat(" ", 1000)
	a := "HTTP/1.1 200 OK\r\nContent-Length: 1027\r\nConnection: keep-alive\r\n\r\n" + body + "HTTP/1.1 200 OK\r\n\r\n"
	got := read(t, a, 7, 100)
	want := "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n" + body[:100]
	if got != want {
		t.Fatalf("%q", got)
	}
	a = "HTTP/1.1 503 Busy\r\nContent-Length: 1027\r\n\r\n" + body
	if got := read(t, a, 7, 100); got != a {
		t.Fatalf("a 503's body was cut: %q", got[:80])
	}
}

// What makes no sense as HTTP goes to the client as it came, for the
// client to refuse.
func TestNonsensePassesThrough(t *testing.T) {
	a := strings.Repeat("x", maxLine+10) + "\r\n\r\n"
	if got := read(t, a, 4096, 100); got != a {
		t.Fatalf("%d bytes out of %d", len(got), len(a))
	}
}
