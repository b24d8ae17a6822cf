// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
)

const bulk = 100000

// Every message rsyslog takes in reaches HEC exactly once, with the reported
// time (sub-second), the hostname and the event text intact.
func TestEveryMessageArrivesOnceWithExactFields(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	d := start(t, newConfig(t, action(r, "")), false)
	send(t, d, loadgen.RFC5424, 0, bulk)
	waitFor(t, r, bulk, 2*time.Minute)

	evs := checkExactlyOnce(t, r.Events(), 0, bulk)
	for i, ev := range evs {
		// For RFC5424 input rsyslog's syslogtag is "app[4242]", no colon.
		want := hecreceiver.Event{Time: rfc5424Time(i), Host: hostOf(i), Sourcetype: "syslog",
			Event: "app[4242] " + loadgen.Body(i)}
		if ev.Time != want.Time || ev.Host != want.Host || ev.Sourcetype != want.Sourcetype || ev.Event != want.Event ||
			ev.Index != "" || ev.Source != "" {
			t.Fatalf("message %d arrived as\n %+v\nwant\n %+v", i, ev, want)
		}
	}
	if got := r.Count(); got != bulk {
		t.Fatalf("receiver counted %d events, want %d", got, bulk)
	}
}

// A plain `rsyslogd` forks into the background before activating modules;
// the Go runtime must start in the child and deliver everything.
func TestDaemonizedRsyslogdDelivers(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	d := start(t, newConfig(t, action(r, "")), true)
	send(t, d, loadgen.RFC5424, 0, bulk)
	waitFor(t, r, bulk, 2*time.Minute)
	checkExactlyOnce(t, r.Events(), 0, bulk)
}

// RFC3164 lines: the event is "tag: message", the host is the line's
// hostname, and the time is the line's timestamp in this year.
func TestRFC3164LinesBecomeEvents(t *testing.T) {
	const n = 2000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	d := start(t, newConfig(t, action(r, "")), false)
	send(t, d, loadgen.RFC3164, 0, n)
	waitFor(t, r, n, time.Minute)
	evs := checkExactlyOnce(t, r.Events(), 0, n)
	year := time.Now().Year()
	for i, ev := range evs {
		ts := loadgen.Base.Add(time.Duration(i) * time.Second)
		// RFC3164 has no year or zone: rsyslog uses the current year, local time.
		local := time.Date(year, ts.Month(), ts.Day(), ts.Hour(), ts.Minute(), ts.Second(), 0, time.Local)
		if want := strconv.FormatInt(local.Unix(), 10) + ".0"; ev.Time != want {
			t.Fatalf("message %d: time %q, want %q", i, ev.Time, want)
		}
		if ev.Host != hostOf(i) || ev.Event != "app[4242]: "+loadgen.Body(i) {
			t.Fatalf("message %d arrived as %+v", i, ev)
		}
	}
}

// index, source, sourcetype and host options shape every event; a custom
// template replaces the event body, and template.json embeds JSON as is.
func TestActionOptionsShapeEvents(t *testing.T) {
	const n = 500
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `index="netops" source="edge" sourcetype="linux:syslog" host="collector-1" template="jsonbody" template.json="on"`))
	conf.Global = `template(name="jsonbody" type="list" option.jsonf="on") {
  property(outname="msg" name="msg" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
}`
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	evs := checkExactlyOnce(t, r.Events(), 0, n)
	for i, ev := range evs {
		wantEvent := `{"msg":"` + strings.ReplaceAll(loadgen.Body(i), `"`, `\"`) + `", "app":"app"}`
		if ev.Index != "netops" || ev.Source != "edge" || ev.Sourcetype != "linux:syslog" || ev.Host != "collector-1" ||
			ev.Time != rfc5424Time(i) || ev.Event != wantEvent {
			t.Fatalf("message %d arrived as %+v\nwant event %s", i, ev, wantEvent)
		}
	}
}

// Whatever bytes a message holds, HEC gets valid JSON: control characters
// (rsyslog's escaping turned off), quotes, backslashes, invalid UTF-8.
func TestHostileBytesBecomeValidJSON(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, ""))
	conf.Global = `global(parser.escapeControlCharactersOnReceive="off")`
	d := start(t, conf, false)
	bodies := []string{
		"quote \" backslash \\ slash /",
		"bell \a vt \v esc \x1b del \x7f",
		"bad utf8 \xff\xfe and \xc3 alone",
		"fine utf8 日本語 ✓",
		"tab\tseparated\tvalues",
	}
	var lines []byte
	for i, b := range bodies {
		lines = append(lines, "<13>1 2026-11-24T10:00:00Z h app - - - "+strconv.Itoa(i)+" "+b+"\n"...)
	}
	sendRaw(t, d.Addr(), lines)
	waitFor(t, r, int64(len(bodies)), 30*time.Second)
	got := map[string]bool{}
	for _, ev := range r.Events() {
		got[ev.Event] = true
	}
	want := []string{
		"app 0 quote \" backslash \\ slash /",
		"app 1 bell \a vt \v esc \x1b del \x7f",
		"app 2 bad utf8 \ufffd\ufffd and \ufffd alone",
		"app 3 fine utf8 日本語 ✓",
		"app 4 tab\tseparated\tvalues",
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("no event %q; got %+v", w, r.Events())
		}
	}
	if s := r.Stats(); s.Rejected != 0 {
		t.Fatalf("receiver rejected %d requests as invalid", s.Rejected)
	}
}

// HTTPS to HEC with the action trusting HEC's certificate through
// tls.cacert: every message arrives once.
func TestHTTPSWithTrustedCADelivers(t *testing.T) {
	const n = 5000
	tc, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	r := startReceiver(t, hecreceiver.Config{Record: true, TLS: tc})
	conf := newConfig(t, "")
	ca := filepath.Join(conf.Dir, "hec-ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	conf.Action = action(r, fmt.Sprintf(`tls.cacert="%s"`, ca))
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
}
