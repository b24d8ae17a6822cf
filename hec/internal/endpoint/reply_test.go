// SPDX-License-Identifier: Apache-2.0

package endpoint

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

func TestParseReply(t *testing.T) {
	cases := []struct {
		body string
		want Reply
		ok   bool
	}{
		{`{"text":"Success","code":0}`, Reply{Text: "Success", Code: 0, InvalidEvent: -1, AckID: -1}, true},
		{`{"text":"Invalid data format","code":6,"invalid-event-number":3}`, Reply{Text: "Invalid data format", Code: 6, InvalidEvent: 3, AckID: -1}, true},
		{`{"text":"Event field is required","code":12,"invalid-event-number":"7"}`, Reply{Text: "Event field is required", Code: 12, InvalidEvent: 7, AckID: -1}, true},
		{`{"text":"Success","code":0,"ackId":42,"extra":{"x":[1]}}`, Reply{Text: "Success", Code: 0, InvalidEvent: -1, AckID: 42}, true},
		{`<html>502 Bad Gateway</html>`, Reply{Code: -1, InvalidEvent: -1, AckID: -1}, false},
		{``, Reply{Code: -1, InvalidEvent: -1, AckID: -1}, false},
		{`{"code":`, Reply{Code: -1, InvalidEvent: -1, AckID: -1}, false},
	}
	for _, c := range cases {
		got, err := ParseReply([]byte(c.body))
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%q: got %+v, %v; want %+v ok=%v", c.body, got, err, c.want, c.ok)
		}
	}
}

// Status and HEC code decide what happens to the events.
func TestOutcomeOf(t *testing.T) {
	cases := []struct {
		status, code int
		want         Outcome
	}{
		{200, 0, Delivered},
		{200, -1, Transient}, // a 2xx without HEC's word is no proof
		{503, 9, Transient},
		{500, 8, Transient},
		{502, -1, Transient},
		{429, -1, Transient},
		{408, -1, Transient},
		{401, 2, Misconfigured},
		{403, 4, Misconfigured},
		{400, 7, Misconfigured}, // incorrect index: every event would fail
		{400, 10, Misconfigured},
		{404, -1, Misconfigured},
		{400, 6, Rejected},
		{400, 12, Rejected},
		{400, 13, Rejected},
		{400, 15, Rejected},
		{413, -1, Rejected},
		{400, -1, Misconfigured}, // no HEC code: a proxy, not bad data
		{200, 24, Delivered},     // taken, with a capacity warning: never resend
		{200, 25, Delivered},
		{429, 26, Transient},
		{429, 27, Transient},
		{503, 18, Transient}, // health: queues full
		{503, 19, Transient},
		{503, 20, Transient},
		{503, 23, Transient},
		{400, 28, Misconfigured}, // Cloud: channel missing behind a load balancer
	}
	for _, c := range cases {
		if got := outcomeOf(c.status, c.code); got != c.want {
			t.Errorf("HTTP %d code %d: got %v want %v", c.status, c.code, got, c.want)
		}
	}
}

// referenceReply is what encoding/json makes of a reply body, by the rule
// the sender relies on: a body that is not one JSON object is no reply;
// "code", "invalid-event-number" and "ackId" are a non-negative integer,
// written as a number or as a string of digits, and -1 when absent or
// anything else. The last of repeated keys counts, as in encoding/json.
func referenceReply(b []byte) (Reply, bool) {
	r := Reply{Code: -1, InvalidEvent: -1, AckID: -1}
	if !json.Valid(b) || !bytes.HasPrefix(bytes.TrimLeft(b, " \t\r\n"), []byte("{")) {
		return r, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return r, false
	}
	num := func(raw json.RawMessage) int64 {
		text := string(raw)
		if len(raw) > 0 && raw[0] == '"' {
			if json.Unmarshal(raw, &text) != nil {
				return -1
			}
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil || n < 0 {
			return -1
		}
		return n
	}
	if raw, ok := m["code"]; ok {
		r.Code = int(num(raw))
	}
	if raw, ok := m["invalid-event-number"]; ok {
		r.InvalidEvent = int(num(raw))
	}
	if raw, ok := m["ackId"]; ok {
		r.AckID = num(raw)
	}
	return r, true
}

// FuzzParseReply: ParseReply reads every body as encoding/json does. The
// numbers decide delivery (invalid-event-number says which events HEC
// indexed, ackId which acknowledgement to wait for), so they must agree.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{`{"text":"Success","code":0,"ackId":1}`, `{"invalid-event-number":"x","code":"6"}`, `[1,2]`,
		`{"text":"Invalid data format","code":6,"invalid-event-number":3}`, `{"code":6,"invalid-event-number":"12"}`,
		`{"code":0} x`, `{"code":1.5}`, `{"code":-3}`, `{"ackId":99999999999999999999}`, `{"co\u0064e":7}`,
		`{"code":6,"code":7}`, `null`, `{"code":01}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseReply(b)
		want, ok := referenceReply(b)
		if (err == nil) != ok {
			t.Fatalf("%q: error %v, but encoding/json says valid=%v", b, err, ok)
		}
		got.Text = "" // free text for the log; the numbers decide
		if got != want {
			t.Fatalf("%q: got %+v, encoding/json reads %+v", b, got, want)
		}
	})
}
