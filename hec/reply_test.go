package hec

import "testing"

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
	}
	for _, c := range cases {
		if got := outcomeOf(c.status, c.code); got != c.want {
			t.Errorf("HTTP %d code %d: got %v want %v", c.status, c.code, got, c.want)
		}
	}
}

func FuzzParseReply(f *testing.F) {
	f.Add([]byte(`{"text":"Success","code":0,"ackId":1}`))
	f.Add([]byte(`{"invalid-event-number":"x","code":"6"}`))
	f.Add([]byte(`[1,2]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseReply(b)
		if err != nil && (r.Code != -1 || r.InvalidEvent != -1 || r.AckID != -1) {
			t.Fatalf("error %v but reply %+v", err, r)
		}
	})
}
