// SPDX-License-Identifier: Apache-2.0

package hecreceiver

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

func post(t *testing.T, r *Receiver, path, auth, body string, hdr map[string]string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(r.URL() + path)
	req.Header.SetMethod("POST")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.SetBodyString(body)
	if err := fasthttp.Do(req, resp); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode(), string(resp.Body())
}

// The receiver answers like HEC: status, code and text for each case.
func TestRepliesLikeHEC(t *testing.T) {
	r, err := Start(Config{Token: "good", Record: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ok := "Splunk good"
	cases := []struct {
		name, path, auth, body string
		status                 int
		reply                  string
	}{
		{"success", "/services/collector/event", ok, `{"event":"a"}{"event":"b","time":1.5}`, 200, `{"text":"Success","code":0}`},
		{"no token", "/services/collector/event", "", `{"event":"a"}`, 401, `"code":2`},
		{"bad scheme", "/services/collector/event", "Bearer good", `{"event":"a"}`, 401, `"code":3`},
		{"bad token", "/services/collector/event", "Splunk bad", `{"event":"a"}`, 403, `"code":4`},
		{"no data", "/services/collector/event", ok, ``, 400, `"code":5`},
		{"invalid json", "/services/collector/event", ok, `{"event":"a"}{"event":`, 400, `"code":6,"invalid-event-number":1`},
		{"trailing garbage", "/services/collector/event", ok, `{"event":"a"} x`, 400, `"code":6,"invalid-event-number":1`},
		{"missing event", "/services/collector/event", ok, `{"event":"a"}{"host":"h"}`, 400, `"code":12,"invalid-event-number":1`},
		{"blank event", "/services/collector/event", ok, `{"event":""}`, 400, `"code":13,"invalid-event-number":0`},
		{"nested field", "/services/collector/event", ok, `{"event":"a","fields":{"k":{"x":1}}}`, 400, `"code":15`},
		{"ack disabled", "/services/collector/ack", ok, `{"acks":[0]}`, 400, `"code":14`},
		{"raw", "/services/collector/raw?host=h&channel=0aecaa46-5b4e-4b04-9a4f-8b09e5f5a8b0", ok, "line one\nline two\n", 200, `"code":0`},
		{"raw without channel", "/services/collector/raw?host=h", ok, "line\n", 400, `"code":10`},
		{"wrong path", "/services/collector/nope", ok, `{"event":"a"}`, 404, ``},
	}
	for _, c := range cases {
		status, body := post(t, r, c.path, c.auth, c.body, nil)
		if status != c.status || !strings.Contains(body, c.reply) {
			t.Errorf("%s: got %d %s, want %d containing %s", c.name, status, body, c.status, c.reply)
		}
	}
	// Recorded: the successful requests' events (2 + 2 raw lines), and, as
	// Splunk indexes them, the event before each named bad one (3).
	if n := r.Count(); n != 7 {
		t.Fatalf("recorded %d events, want 7: %+v", n, r.Events())
	}
	if evs := r.Events(); evs[1].Time != "1.5" || evs[2].Event != "a" || evs[5].Host != "h" || evs[6].Event != "line two" {
		t.Fatalf("recorded %+v", evs)
	}
}

func TestGzipAndAcks(t *testing.T) {
	r, err := Start(Config{Token: "good", RequireAck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var z bytes.Buffer
	w := gzip.NewWriter(&z)
	w.Write([]byte(`{"event":"zipped"}`))
	w.Close()
	ch := map[string]string{"X-Splunk-Request-Channel": "11111111-2222-3333-4444-555555555555"}
	if status, body := post(t, r, "/services/collector/event", "Splunk good", `{"event":"a"}`, nil); status != 400 || !strings.Contains(body, `"code":10`) {
		t.Fatalf("missing channel: %d %s", status, body)
	}
	gz := map[string]string{"Content-Encoding": "gzip", "X-Splunk-Request-Channel": ch["X-Splunk-Request-Channel"]}
	status, body := post(t, r, "/services/collector/event", "Splunk good", z.String(), gz)
	if status != 200 || !strings.Contains(body, `"ackId":0`) {
		t.Fatalf("gzip with channel: %d %s", status, body)
	}
	status, body = post(t, r, "/services/collector/ack", "Splunk good", `{"acks":[0]}`, ch)
	if status != 200 || body != `{"acks":{"0":true}}` {
		t.Fatalf("ack: %d %s", status, body)
	}
}

// With Indexes set, an event naming another index fails its request with
// code 7 naming the position after it (as Splunk 10.4 and Cloud 10.5 do);
// through the raw endpoint, without a position.
func TestIncorrectIndex(t *testing.T) {
	r, err := Start(Config{Token: "good", Indexes: []string{"main"}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	status, body := post(t, r, "/services/collector/event", "Splunk good", `{"event":"a"}{"event":"b","index":"main"}{"event":"c","index":"sec"}`, nil)
	if status != 400 || body != `{"text":"Incorrect index","code":7,"invalid-event-number":3}` {
		t.Fatalf("event endpoint: %d %s", status, body)
	}
	status, body = post(t, r, "/services/collector/raw?index=sec&channel=0aecaa46-5b4e-4b04-9a4f-8b09e5f5a8b0", "Splunk good", "a\n", nil)
	if status != 400 || body != `{"text":"Incorrect index","code":7}` {
		t.Fatalf("raw endpoint: %d %s", status, body)
	}
	// The two events before the refused one are indexed, the raw request
	// not at all.
	if r.Count() != 2 {
		t.Fatalf("%d events recorded", r.Count())
	}
}

// The rest of what Splunk was measured to do with a request: an unknown
// top-level key ends it with a 200 (the objects before it indexed), or a
// 400 code 5 when it is in the first object; a body over the cap is code 6
// naming object 0; a partly refused request on an ack token carries an
// ackId for the prefix; capacity warnings and 429s; unhealthy health codes.
func TestSplunkFaithfulAnswers(t *testing.T) {
	r, err := Start(Config{Token: "good", Record: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ok := "Splunk good"
	ev := "/services/collector/event"
	status, body := post(t, r, ev, ok, `{"event":"a"}{"event":"b","color":"red"}{"event":"c"}`, nil)
	if status != 200 || r.Count() != 1 || r.Stats().Cut != 1 {
		t.Fatalf("unknown key in object 1: %d %s, %d indexed", status, body, r.Count())
	}
	status, body = post(t, r, ev, ok, `{"colour":"red","event":"a"}`, nil)
	if status != 400 || !strings.Contains(body, `"code":5`) || r.Count() != 1 {
		t.Fatalf("unknown key in object 0: %d %s", status, body)
	}
	r.SetFaults(Faults{BodyCap: 20})
	status, body = post(t, r, ev, ok, `{"event":"a"}{"event":"b"}`, nil)
	if status != 400 || body != `{"text":"Invalid data format","code":6,"invalid-event-number":0}` || r.Count() != 1 {
		t.Fatalf("body cap: %d %s", status, body)
	}
	r.SetFaults(Faults{CapacityWarning: true})
	status, body = post(t, r, ev, ok, `{"event":"a"}`, nil)
	if status != 200 || !strings.Contains(body, `"code":24`) || r.Count() != 2 {
		t.Fatalf("capacity warning: %d %s", status, body)
	}
	r.SetFaults(Faults{Busy429Rate: 1})
	if status, body = post(t, r, ev, ok, `{"event":"a"}`, nil); status != 429 || !strings.Contains(body, `"code":26`) {
		t.Fatalf("429: %d %s", status, body)
	}
	r.SetFaults(Faults{HealthCode: 19})
	if status, body = post(t, r, "/services/collector/health", "", "", nil); status != 503 || !strings.Contains(body, `"code":19`) {
		t.Fatalf("health: %d %s", status, body)
	}

	acks, err := Start(Config{Token: "good", RequireAck: true})
	if err != nil {
		t.Fatal(err)
	}
	defer acks.Close()
	acks.SetFaults(Faults{RejectMatch: "bad"})
	ch := map[string]string{"X-Splunk-Request-Channel": "0aecaa46-5b4e-4b04-9a4f-8b09e5f5a8b0"}
	status, body = post(t, acks, ev, ok, `{"event":"a"}{"event":"bad"}{"event":"c"}`, ch)
	if status != 400 || body != `{"text":"Invalid data format","code":6,"invalid-event-number":1,"ackId":0}` || acks.Count() != 1 {
		t.Fatalf("prefix ack: %d %s", status, body)
	}
	status, body = post(t, acks, ev, ok, `{"event":"bad"}{"event":"c"}`, ch)
	if status != 400 || strings.Contains(body, "ackId") {
		t.Fatalf("nothing indexed, no ackId: %d %s", status, body)
	}
}
