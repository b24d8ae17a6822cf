// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// A routing ruleset as the README shows it: sshd and sudo to linux_secure
// in index "security", cron to "cron" in "os", everything else keeps the
// action's fixed sourcetype and the token's default index.
const routingRuleset = `
  if $programname == "sshd" or $programname == "sudo" then {
    set $.sourcetype = "linux_secure";
    set $.index = "security";
  } else if $programname == "cron" then {
    set $.sourcetype = "cron";
    set $.index = "os";
  }
`

const routingTemplates = `
template(name="hec_sourcetype" type="string" string="%$.sourcetype%")
template(name="hec_index" type="string" string="%$.index%")
template(name="hec_fields" type="list" option.jsonf="on") {
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="app" name="programname" format="jsonf")
}
`

// routingCase is a program, its facility (as a PRI facility number) and
// the routing the ruleset above gives it.
type routingCase struct {
	program                   string
	facility                  int
	facilityText              string
	wantSourcetype, wantIndex string
}

var routingCases = []routingCase{
	{"sshd", 10, "authpriv", "linux_secure", "security"},
	{"sudo", 4, "auth", "linux_secure", "security"},
	{"cron", 9, "cron", "cron", "os"},
	{"kernel", 0, "kern", "syslog", ""},
	{"nginx", 16, "local0", "syslog", ""},
}

// routingLines renders n RFC5424 lines per case, numbered so that each
// event can be matched to the line it came from.
func routingLines(n int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		for _, c := range routingCases {
			b = fmt.Appendf(b, "<%d>1 2026-11-24T10:00:00.%06dZ host-%d %s 42 - - %s-%06d hello\n",
				c.facility*8+6, i, i%3, c.program, c.program, i)
		}
	}
	return b
}

// startRouted runs rsyslogd with the routing ruleset and templates (plus
// extraGlobal) and an action with params, against a receiver made with
// rcfg, and sends perCase lines of each routing case.
func startRouted(t *testing.T, rcfg hecreceiver.Config, params, extraGlobal string, perCase int) (*hecreceiver.Receiver, *rsyslogtest.Config) {
	t.Helper()
	rcfg.Record = true
	r := startReceiver(t, rcfg)
	conf := newConfig(t, action(r, params))
	conf.Global = routingTemplates + extraGlobal
	conf.Ruleset = routingRuleset
	d := start(t, conf, false)
	sendRaw(t, d.Addr(), routingLines(perCase))
	return r, conf
}

// Events from several programs and facilities arrive with the index,
// sourcetype and indexed fields their templates rendered, each checked
// per event; an empty rendering falls back to the action's fixed value.
func TestPerMessageMetadataRoutesEvents(t *testing.T) {
	const perCase = 400
	r, _ := startRouted(t, hecreceiver.Config{}, `sourcetype="syslog" source="rsyslog" sourcetype.template="hec_sourcetype"
	  index.template="hec_index" fields.template="hec_fields"`, "", perCase)
	total := int64(perCase * len(routingCases))
	waitFor(t, r, total, time.Minute)

	seen := map[string]int{}
	for _, ev := range r.Events() {
		var c *routingCase
		for k := range routingCases {
			// For RFC5424 input rsyslog's syslogtag is "app[procid]", no colon.
			if strings.HasPrefix(ev.Event, routingCases[k].program+"[42] ") {
				c = &routingCases[k]
			}
		}
		if c == nil {
			t.Fatalf("unexpected event %+v", ev)
		}
		seen[ev.Event]++
		wantFields := map[string]any{"facility": c.facilityText, "app": c.program}
		if ev.Sourcetype != c.wantSourcetype || ev.Index != c.wantIndex || ev.Source != "rsyslog" ||
			fmt.Sprint(ev.Fields) != fmt.Sprint(wantFields) || !strings.HasPrefix(ev.Host, "host-") {
			t.Fatalf("event %q arrived as %+v; want sourcetype %q, index %q, fields %v",
				ev.Event, ev, c.wantSourcetype, c.wantIndex, wantFields)
		}
	}
	if int64(len(seen)) != total {
		t.Fatalf("%d distinct events of %d", len(seen), total)
	}
	for e, n := range seen {
		if n != 1 {
			t.Fatalf("event %q arrived %d times", e, n)
		}
	}
}

// A fields rendering that is not a flat JSON object of strings loses
// nothing: those events go without fields, the others keep theirs, and the
// log says so.
func TestBadFieldsRenderingLosesNothing(t *testing.T) {
	const n = 300
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `fields.template="hec_fields"`))
	// Every third message renders a nested object, every third plain text.
	conf.Global = `template(name="hec_fields" type="string" string="%$.fields%")`
	conf.Ruleset = `
  set $.n = cnum(field($msg, 45, 2));
  if $.n % 3 == 0 then { set $.fields = "{\"app\":\"" & $app-name & "\"}"; }
  else if $.n % 3 == 1 then { set $.fields = "{\"nested\":{\"a\":\"b\"}}"; }
  else { set $.fields = "not json"; }
`
	d := start(t, conf, false)
	var b []byte
	for i := 0; i < n; i++ {
		b = fmt.Appendf(b, "<13>1 2026-11-24T10:00:00Z h app - - - x-%d-%d\n", i, i)
	}
	sendRaw(t, d.Addr(), b)
	waitFor(t, r, n, time.Minute)
	if s := r.Stats(); s.Rejected != 0 {
		t.Fatalf("receiver stats %+v: want no rejected request", s)
	}
	seen := make([]int, n)
	for _, ev := range r.Events() {
		var i, j int
		k := strings.LastIndex(ev.Event, "x-")
		if _, err := fmt.Sscanf(ev.Event[max(k, 0):], "x-%d-%d", &i, &j); k < 0 || err != nil || i != j || i < 0 || i >= n {
			t.Fatalf("unexpected event %+v", ev)
		}
		seen[i]++
		if wantFields := i%3 == 0; wantFields != (ev.Fields != nil) ||
			(wantFields && (ev.Fields["app"] != "app" || len(ev.Fields) != 1)) {
			t.Fatalf("event %q has fields %v", ev.Event, ev.Fields)
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("message %d arrived %d times", i, c)
		}
	}
	// rsyslog writes a message a module logs on its worker thread through
	// its own queue; now and then it held one until the stop (seen once in
	// CI-like runs), which writes it for sure.
	if !waitLog(d, "sent without fields", 5*time.Second) {
		if err := d.Stop(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(d.InternalLog(), "sent without fields") {
			t.Fatalf("no log line about the bad fields rendering:\n%s", d.InternalLog())
		}
	}
}

// endpoint="raw" posts lines to /services/collector/raw with a channel and
// the metadata in the query string; events whose metadata differs travel
// in different requests, and each arrives with its own.
func TestRawEndpointCarriesPerMessageMetadata(t *testing.T) {
	const perCase = 300
	r, _ := startRouted(t, hecreceiver.Config{}, `endpoint="raw" compress="on" source="rsyslog" sourcetype.template="hec_sourcetype"
	  index.template="hec_index" host.template="hec_host"`,
		`template(name="hec_host" type="string" string="%hostname%.example")`, perCase)
	total := int64(perCase * len(routingCases))
	waitFor(t, r, total, time.Minute)
	if st := r.Stats(); st.Gzipped != st.Requests || st.Bytes >= st.Decoded {
		t.Fatalf("compress=\"on\": %d of %d requests gzipped, %d bytes on the wire for %d", st.Gzipped, st.Requests, st.Bytes, st.Decoded)
	}

	seen := map[string]bool{}
	for _, ev := range r.Events() {
		if !ev.Raw || ev.Channel == "" {
			t.Fatalf("event %+v did not come through the raw endpoint with a channel", ev)
		}
		matched := false
		for _, c := range routingCases {
			// The raw line carries time, host and tag, as a syslog file would.
			tag := " " + c.program + "[42] " + c.program + "-"
			if !strings.Contains(ev.Event, tag) {
				continue
			}
			matched = true
			if ev.Sourcetype != c.wantSourcetype || ev.Index != c.wantIndex || ev.Source != "rsyslog" ||
				!strings.HasSuffix(ev.Host, ".example") || !strings.HasPrefix(ev.Event, "2026-11-24T10:00:00.") {
				t.Fatalf("raw event %q arrived as %+v; want sourcetype %q, index %q", ev.Event, ev, c.wantSourcetype, c.wantIndex)
			}
		}
		if !matched || seen[ev.Event] {
			t.Fatalf("unexpected or duplicate raw event %q", ev.Event)
		}
		seen[ev.Event] = true
	}
	if int64(len(seen)) != total {
		t.Fatalf("%d distinct events of %d", len(seen), total)
	}
}

// An index the token may not write (HEC code 7) set by index.template
// sets those events aside in the error file and delivers all the others:
// one bad route does not stall the action.
func TestRefusedPerMessageIndexStallsNothing(t *testing.T) {
	const perCase = 200
	statsDir := t.TempDir()
	global, statsPath := impstatsConfig(statsDir)
	r, conf := startRouted(t, hecreceiver.Config{Indexes: []string{"security"}},
		`sourcetype.template="hec_sourcetype" index.template="hec_index" name="hec"`, global, perCase)
	// cron's index "os" is refused; the other four programs arrive.
	want := int64(perCase * (len(routingCases) - 1))
	waitFor(t, r, want, time.Minute)
	arrived := map[string]int{}
	for _, ev := range r.Events() {
		arrived[ev.Event]++
	}
	errfile := filepath.Join(conf.Dir, "omsplunkgo-rejected.json")
	var inFile map[string]int
	deadline := time.Now().Add(10 * time.Second)
	for {
		inFile = map[string]int{}
		b, _ := os.ReadFile(errfile)
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var l struct {
				HECCode int `json:"hec_code"`
				Event   struct{ Event, Index string }
			}
			if json.Unmarshal([]byte(line), &l) == nil && l.HECCode == 7 && l.Event.Index == "os" {
				inFile[l.Event.Event]++
			}
		}
		if len(inFile) >= perCase || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Each line, by program and number, arrived once or is in the error
	// file once: never both, never neither.
	for i := 0; i < perCase; i++ {
		for _, c := range routingCases {
			ev := fmt.Sprintf("%s[42] %s-%06d hello", c.program, c.program, i)
			wantArrived, wantInFile := 1, 0
			if c.wantIndex == "os" {
				wantArrived, wantInFile = 0, 1
			}
			if arrived[ev] != wantArrived || inFile[ev] != wantInFile {
				t.Fatalf("%q arrived %d times (want %d), is in the error file %d times (want %d)",
					ev, arrived[ev], wantArrived, inFile[ev], wantInFile)
			}
			delete(arrived, ev)
			delete(inFile, ev)
		}
	}
	if len(arrived)+len(inFile) > 0 {
		t.Fatalf("unexpected events: arrived %v, in the error file %v", arrived, inFile)
	}
	// The counters agree: Splunk's code 7 names the object after the bad
	// one, and no good event is set aside for it.
	waitStats(t, statsPath, "omsplunkgo-hec", func(st map[string]float64) bool {
		return st["rejected"] == perCase && st["delivered"] == float64(want)
	})
}

// token.file: the secret comes from a file, and appears in no log line.
func TestTokenFromFile(t *testing.T) {
	const n = 1000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, "")
	tf := filepath.Join(conf.Dir, "hec.token")
	if err := os.WriteFile(tf, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A named action: its name is rewritten at config load, which must
	// leave the token file's path alone.
	conf.Action = fmt.Sprintf(`name="rotating" server="%s" token.file="%s"`, r.URL(), tf)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, n)
	if strings.Contains(d.Output(), token) {
		t.Fatalf("the token appears in rsyslogd's output:\n%s", d.Output())
	}
}

// waitLog waits until rsyslog's internal log holds s.
func waitLog(d interface{ InternalLog() string }, s string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for !strings.Contains(d.InternalLog(), s) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}

// A token rotated in Splunk and in token.file: after rsyslogd's HUP the
// next request carries the new token, the requests refused meanwhile are
// retried with it, and nothing is lost.
func TestTokenFileIsReadAgainOnHUP(t *testing.T) {
	const n = 1000
	r := startReceiver(t, hecreceiver.Config{Record: true, Token: "token-one"})
	conf := newConfig(t, "")
	tf := filepath.Join(conf.Dir, "hec.token")
	if err := os.WriteFile(tf, []byte("token-one\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A named action: its name is rewritten at config load, which must
	// leave the token file's path alone.
	conf.Action = fmt.Sprintf(`name="rotating" server="%s" token.file="%s"`, r.URL(), tf)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)

	// Splunk gets the new token first; rsyslog keeps retrying the old one
	// until the file changes and rsyslogd is told.
	r.SetToken("token-two")
	send(t, d, loadgen.RFC5424, n, n)
	deadline := time.Now().Add(10 * time.Second)
	for r.Stats().Denied == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no request was refused with the old token")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := os.WriteFile(tf, []byte("token-two\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(d.PID, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, r, 2*n, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, 2*n)
	if !waitLog(d, "the new token applies from the next request on", 5*time.Second) {
		t.Fatalf("no log line about the new token:\n%s", d.InternalLog())
	}
	if strings.Contains(d.Output(), "token-two") || strings.Contains(d.Output(), "token-one") {
		t.Fatalf("a token appears in rsyslogd's output:\n%s", d.Output())
	}
}

// endpoint="raw": a message whose text holds CR/LF (octet-counted framing
// lets it through rsyslog whole) arrives as exactly one event, so it can
// forge no line of its own; raw.linebreaks counts it.
func TestRawMessageWithLineBreaksArrivesAsOneEvent(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `endpoint="raw" template="msgonly" name="raw"`))
	global, path := impstatsConfig(conf.Dir)
	conf.Global = `global(parser.escapeControlCharactersOnReceive="off")
template(name="msgonly" type="string" string="%msg%")` + "\n" + global
	d := start(t, conf, false)
	forged := "first line\r\n<13>Nov 30 10:00:00 victimhost sshd[1]: Accepted password for root"
	var b []byte
	for i, m := range []string{"plain one", forged, "plain two"} {
		line := fmt.Sprintf("<13>1 2026-11-24T10:00:00Z h app %d - - %s", i, m)
		b = fmt.Appendf(b, "%d %s", len(line), line) // octet-counted: the message may hold LF
	}
	sendRaw(t, d.Addr(), b)
	waitFor(t, r, 3, 30*time.Second)
	got := map[string]int{}
	for _, ev := range r.Events() {
		got[ev.Event]++
	}
	want := []string{"plain one", `first line\r\n<13>Nov 30 10:00:00 victimhost sshd[1]: Accepted password for root`, "plain two"}
	for _, w := range want {
		if got[w] != 1 {
			t.Fatalf("%q arrived %d times; events: %q", w, got[w], got)
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d distinct events, want 3: %q", len(got), got)
	}
	waitStats(t, path, "omsplunkgo-raw", func(st map[string]float64) bool { return st["raw.linebreaks"] == 1 })
}

// endpoint="raw" with a sourcetype of its own for almost every message
// (20,000 values): rsyslogd's batches do not become one request per
// message; every event arrives once with its sourcetype.
func TestRawEndpointWithManySourcetypes(t *testing.T) {
	const n = 20000
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `endpoint="raw" sourcetype.template="st_per_message"`))
	// loadgen's RFC5424 times differ by a microsecond per message.
	conf.Global = `template(name="st_per_message" type="string" string="st%timereported:::date-subseconds%")`
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, time.Minute)
	evs := checkExactlyOnce(t, r.Events(), 0, n)
	for i, ev := range evs {
		want := fmt.Sprintf("st%06d", loadgen.Base.Add(time.Duration(i)*time.Microsecond).Nanosecond()/1000)
		if ev.Sourcetype != want {
			t.Fatalf("message %d arrived with sourcetype %q, want %q", i, ev.Sourcetype, want)
		}
	}
	if reqs := r.Stats().Requests; reqs > n/20 {
		t.Fatalf("%d requests for %d messages", reqs, n)
	}
	t.Logf("%d requests for %d messages with %d sourcetypes", r.Stats().Requests, n, n)
}

// The error file follows a log rotation: logrotate runs the shipped
// snippet (rsyslog-conf/omsplunkgo.logrotate, its paths pointed at this
// test's file and its postrotate at this rsyslogd), and events HEC refuses
// afterwards go to a new file at the configured path, none to the rotated
// one.
func TestErrorFileIsReopenedOnHUP(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	r.SetFaults(hecreceiver.Faults{RejectMatch: "REFUSED"})
	conf := newConfig(t, "")
	errfile := filepath.Join(conf.Dir, "refused.json")
	conf.Action = action(r, fmt.Sprintf(`errorfile="%s"`, errfile))
	d := start(t, conf, false)
	refusedLines := func(tag string, n int) []byte {
		var b []byte
		for i := 0; i < n; i++ {
			b = fmt.Appendf(b, "<14>1 2026-12-05T10:00:00Z host app 1 - - %s-%03d REFUSED\n", tag, i)
		}
		return b
	}
	countIn := func(path, tag string) int {
		b, _ := os.ReadFile(path)
		return strings.Count(string(b), tag+"-")
	}
	waitIn := func(path, tag string, n int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for countIn(path, tag) < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s holds %d of %d %s events", path, countIn(path, tag), n, tag)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	sendRaw(t, d.Addr(), refusedLines("before", 20))
	waitIn(errfile, "before", 20)

	snippet, err := os.ReadFile(repoFile("rsyslog-conf/omsplunkgo.logrotate"))
	if err != nil {
		t.Fatal(err)
	}
	lr := strings.NewReplacer("/var/spool/rsyslog/omsplunkgo-rejected.json /var/lib/rsyslog/omsplunkgo-rejected.json", errfile)
	text := lr.Replace(string(snippet))
	post := regexp.MustCompile(`(?m)^\s*if \[ -x /usr/lib/rsyslog/rsyslog-rotate \].*$`)
	if !strings.Contains(text, errfile) || !post.MatchString(text) {
		t.Fatalf("the snippet's paths or postrotate changed; update this test:\n%s", snippet)
	}
	text = post.ReplaceAllString(text, fmt.Sprintf("\t\tkill -HUP %d", d.PID))
	lrConf := filepath.Join(conf.Dir, "logrotate.conf")
	os.WriteFile(lrConf, []byte(text), 0o644)
	if out, err := exec.Command("logrotate", "-f", "-s", filepath.Join(conf.Dir, "logrotate.state"), lrConf).CombinedOutput(); err != nil {
		t.Fatalf("logrotate (scripts/setup-debian.sh installs it): %v\n%s", err, out)
	}
	rotated := errfile + ".1" // delaycompress: the newest rotated file stays plain
	if countIn(rotated, "before") != 20 {
		t.Fatalf("logrotate did not rotate %s", errfile)
	}
	if !waitLog(d, "rsyslogd was HUPed", 10*time.Second) { // handled on rsyslogd's main loop
		t.Fatalf("rsyslogd did not log the HUP:\n%s", tail(d.InternalLog(), 2000))
	}
	sendRaw(t, d.Addr(), refusedLines("after", 20))
	waitIn(errfile, "after", 20)
	if countIn(rotated, "after") != 0 || countIn(errfile, "before") != 0 {
		t.Fatalf("after the rotation: %d new events in the rotated file, %d old ones in the new file",
			countIn(rotated, "after"), countIn(errfile, "before"))
	}
}
