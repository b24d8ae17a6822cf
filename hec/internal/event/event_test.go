// SPDX-License-Identifier: Apache-2.0

package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
	"github.com/valyala/fasthttp"
)

// testEncoder is the encoder of an action with default settings (the
// sourcetype "syslog"), changed by mod.
func testEncoder(t testing.TB, mod func(*Shape)) *Encoder {
	c := Shape{Sourcetype: "syslog"}
	if mod != nil {
		mod(&c)
	}
	return NewEncoder(c)
}

// The default event carries time, host, sourcetype and the event text, in
// that order, and nothing else.
func TestDefaultEventShape(t *testing.T) {
	e := testEncoder(t, nil)
	got := string(e.AppendEvent(nil, []byte("1700000000.123456"), []byte("web-1"), []byte("sshd[42]: accepted")))
	want := `{"time":1700000000.123456,"host":"web-1","sourcetype":"syslog","event":"sshd[42]: accepted"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// Per-action options appear in every event; a fixed host replaces the
// message's hostname.
func TestActionFieldsAndFixedHost(t *testing.T) {
	e := testEncoder(t, func(c *Shape) {
		c.Index, c.Source, c.Sourcetype, c.Host = "main", `a"b`, "st", "fixed"
	})
	got := string(e.AppendEvent(nil, []byte("1"), []byte("ignored"), []byte("x")))
	want := `{"time":1,"host":"fixed","source":"a\"b","sourcetype":"st","index":"main","event":"x"}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

// A time that is not a plain decimal is dropped rather than breaking JSON.
func TestMalformedTimeIsLeftOut(t *testing.T) {
	e := testEncoder(t, nil)
	for _, ts := range []string{"", "abc", "1.2.3", ".5", "5.", "1e9", "-1", "1 2", "00", "01.5"} {
		got := e.AppendEvent(nil, []byte(ts), []byte("h"), []byte("m"))
		if bytes.Contains(got, []byte(`"time"`)) {
			t.Errorf("time %q was kept: %s", ts, got)
		}
		if !json.Valid(got) {
			t.Errorf("time %q gave invalid JSON: %s", ts, got)
		}
	}
}

// An empty body would make HEC reject the whole request (code 13).
func TestEmptyBodyBecomesNilValue(t *testing.T) {
	got := string(testEncoder(t, nil).AppendEvent(nil, nil, nil, nil))
	if got != `{"sourcetype":"syslog","event":"-"}` {
		t.Fatalf("got %s", got)
	}
}

// template.json embeds valid JSON bodies and quotes invalid ones.
func TestTemplateJSON(t *testing.T) {
	e := testEncoder(t, func(c *Shape) { c.TemplateJSON = true })
	if got := string(e.AppendEvent(nil, nil, nil, []byte(`{"a":1}`))); !strings.HasSuffix(got, `"event":{"a":1}}`) {
		t.Errorf("JSON body not embedded: %s", got)
	}
	if got := string(e.AppendEvent(nil, nil, nil, []byte(`{"a":`))); !strings.HasSuffix(got, `"event":"{\"a\":"}`) {
		t.Errorf("broken JSON body not quoted: %s", got)
	}
}

func TestJSONStringEscapes(t *testing.T) {
	cases := map[string]string{
		"plain":           `"plain"`,
		"q\"b\\":          `"q\"b\\"`,
		"\n\r\t":          `"\n\r\t"`,
		"\x00\x01\x1f":    `"\u0000\u0001\u001f"`,
		"\x7f":            "\"\x7f\"",
		"日本":              `"日本"`,
		"a\xffb":          `"a\ufffdb"`,
		"\xe6\x97":        `"\ufffd\ufffd"`,
		"\xed\xa0\x80":    `"\ufffd\ufffd\ufffd"`, // UTF-16 surrogate, invalid in UTF-8
		"</script>\u2028": "\"</script>\u2028\"",
	}
	for in, want := range cases {
		if got := string(AppendJSONString(nil, []byte(in))); got != want {
			t.Errorf("%q: got %s want %s", in, got, want)
		}
	}
}

// FuzzAppendEvent: whatever the three inputs hold, the event is one valid
// JSON object in valid UTF-8 whose event text round-trips (invalid UTF-8
// aside) and whose "event" is never null or blank, with or without
// template.json: HEC refuses those (codes 12, 13) and takes the whole
// request down with them.
func FuzzAppendEvent(f *testing.F) {
	f.Add([]byte("1700000000.5"), []byte("host"), []byte("msg"))
	f.Add([]byte(""), []byte("\x00"), []byte("\xff\"\\\n"))
	f.Add([]byte("1."), []byte("h\u2028"), []byte(`{"a":[1,2]}`))
	f.Add([]byte("1"), []byte("h"), []byte(`null`))
	f.Add([]byte("1"), []byte("h"), []byte(` "" `))
	f.Add([]byte("1"), []byte("h"), []byte("\"\xff\""))
	encs := []*Encoder{testEncoder(f, nil), testEncoder(f, func(c *Shape) { c.TemplateJSON = true; c.Index = "i" })}
	f.Fuzz(func(t *testing.T, ts, host, body []byte) {
		for _, e := range encs {
			out := e.AppendEvent(nil, ts, host, body)
			// UseNumber: JSON numbers have no size limit (template.json
			// may embed 1e400); float64 would reject valid JSON.
			var ev map[string]any
			dec := json.NewDecoder(bytes.NewReader(out))
			dec.UseNumber()
			if err := dec.Decode(&ev); err != nil || dec.More() {
				t.Fatalf("invalid JSON %q: %v", out, err)
			}
			if !utf8.Valid(out) {
				t.Fatalf("invalid UTF-8 in the request: %q", out)
			}
			switch v := ev["event"].(type) {
			case nil:
				t.Fatalf("event missing or null: %s", out)
			case string:
				if v == "" {
					t.Fatalf("blank event: %s", out)
				}
			}
			if s, ok := ev["event"].(string); ok && !e.templateJSON && utf8.Valid(body) && len(body) > 0 && s != string(body) {
				t.Fatalf("event text changed: %q -> %q", body, s)
			}
		}
	})
}

var benchMsg = []byte(`sshd[4242]: Accepted publickey for alice from 203.0.113.7 port 52114 ssh2: ED25519 SHA256:Zk3mLq0 "quoted" \ path`)

func BenchmarkEncodeEvent(b *testing.B) {
	e := testEncoder(b, func(c *Shape) { c.Index = "main" })
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		buf = e.AppendEvent(buf[:0], []byte("1700000000.123456"), []byte("web-1"), benchMsg)
	}
}

// The alternative the encoder replaces: jsoniter's streaming writer.
func BenchmarkEncodeEventJsoniter(b *testing.B) {
	stream := jsoniter.NewStream(jsoniter.ConfigFastest, nil, 1024)
	b.SetBytes(int64(len(benchMsg)))
	b.ReportAllocs()
	for b.Loop() {
		stream.Reset(nil)
		stream.WriteObjectStart()
		stream.WriteObjectField("time")
		stream.WriteRaw("1700000000.123456")
		stream.WriteMore()
		stream.WriteObjectField("host")
		stream.WriteString("web-1")
		stream.WriteMore()
		stream.WriteObjectField("sourcetype")
		stream.WriteString("syslog")
		stream.WriteMore()
		stream.WriteObjectField("index")
		stream.WriteString("main")
		stream.WriteMore()
		stream.WriteObjectField("event")
		stream.WriteString(string(benchMsg))
		stream.WriteObjectEnd()
	}
}

// gzip of a default-sized request body on the calling goroutine, as the
// sender does, against fasthttp's helper (which compresses on a goroutine
// of its own).
func gzipBody() []byte {
	e := testEncoder(nil, nil)
	var body []byte
	for i := 0; i < 256; i++ {
		body = e.AppendEvent(body, []byte("1700000000.123456"), []byte("web-1"), benchMsg)
	}
	return body
}

func BenchmarkGzipRequest(b *testing.B) {
	body := gzipBody()
	var out []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		out = AppendGzip(out[:0], body, 1)
	}
}

func BenchmarkGzipRequestFasthttp(b *testing.B) {
	body := gzipBody()
	var out []byte
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		out = fasthttp.AppendGzipBytesLevel(out[:0], body, 1)
	}
}

// A request body gzipped by the sender inflates to the same bytes.
func TestAppendGzipRoundTrips(t *testing.T) {
	body := gzipBody()
	z := AppendGzip([]byte("prefix"), body, 1)
	var r fasthttp.Response
	r.SetBodyRaw(z[len("prefix"):])
	got, err := r.BodyGunzip()
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("round trip: %v, %d bytes back of %d", err, len(got), len(body))
	}
}
