// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
)

// Splunk as enterprises reach it: by a server name apart from the URL's
// host, with event times that make sense, and with routes that cannot go
// astray.

// HEC reached by IP address with a certificate only for a name: with
// tls.servername the name is sent and verified; without it the log names
// the fix and nothing is delivered (nor lost).
func TestTLSServerName(t *testing.T) {
	tc, caPEM, err := hecreceiver.SelfSignedFor([]string{"hec.example.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, caPEM, 0o644)
	r := startReceiver(t, hecreceiver.Config{Record: true, TLS: tc})

	conf := newConfig(t, action(r, fmt.Sprintf(`tls.cacert="%s"`, ca)))
	d := start(t, conf, false)
	sendRaw(t, d.Addr(), timedLines("nameless", 0, 100, func(int) time.Time { return time.Now() }))
	if !waitLog(d, "set tls.servername to one", 20*time.Second) {
		t.Fatalf("no log line naming tls.servername:\n%s", tail(d.InternalLog(), 2000))
	}
	if r.Count() != 0 {
		t.Fatalf("%d events arrived over TLS whose name did not verify", r.Count())
	}
	d.Stop(30 * time.Second)

	conf.Action = action(r, fmt.Sprintf(`tls.cacert="%s" tls.servername="hec.example.test"`, ca))
	d = start(t, conf, false)
	waitFor(t, r, 100, time.Minute) // the first run's, from its window files
	sendRaw(t, d.Addr(), timedLines("named", 0, 100, func(int) time.Time { return time.Now() }))
	waitFor(t, r, 200, time.Minute)
}

// timedLines renders n RFC5424 lines of program prog, numbered from
// first, line i stamped at(i).
func timedLines(prog string, first, n int, at func(i int) time.Time) []byte {
	var b []byte
	for i := first; i < first+n; i++ {
		b = fmt.Appendf(b, "<14>1 %s host-1 %s 42 - - %s-%06d tick\n",
			at(i).UTC().Format("2006-01-02T15:04:05.000000Z"), prog, prog, i)
	}
	return b
}

// eventSeconds reads an event's "time" (unix seconds with a fraction).
func eventSeconds(t *testing.T, ev hecreceiver.Event) float64 {
	t.Helper()
	f, err := strconv.ParseFloat(ev.Time, 64)
	if err != nil {
		t.Fatalf("event %q has time %q: %v", ev.Event, ev.Time, err)
	}
	return f
}

// Each time source, and the guard, event by event: devices whose clocks
// are 5 years behind or 2 days ahead among devices whose clocks are right.
func TestEventTimeSources(t *testing.T) {
	const per = 300
	now := time.Now()
	kinds := []struct {
		prog   string
		offset time.Duration
	}{{"good", 0}, {"behind", -5 * 365 * 24 * time.Hour}, {"ahead", 48 * time.Hour}}
	lines := func() []byte {
		var b []byte
		for _, k := range kinds {
			b = append(b, timedLines(k.prog, 0, per, func(i int) time.Time {
				return now.Add(k.offset + time.Duration(i)*time.Millisecond)
			})...)
		}
		return b
	}
	offsetOf := func(ev hecreceiver.Event) time.Duration {
		for _, k := range kinds {
			if strings.HasPrefix(ev.Event, k.prog+"[42] ") {
				return k.offset
			}
		}
		t.Fatalf("unexpected event %q", ev.Event)
		return 0
	}
	near := func(sec float64, want time.Time) bool { return abs(sec-float64(want.UnixNano())/1e9) < 120 }

	for _, c := range []struct {
		name, params string
		check        func(ev hecreceiver.Event)
		replaced     float64
	}{
		{"reported", ``, func(ev hecreceiver.Event) {
			if !near(eventSeconds(t, ev), now.Add(offsetOf(ev))) || ev.Fields["orig_time"] != nil {
				t.Fatalf("time.source=reported: %q has time %s, fields %v", ev.Event, ev.Time, ev.Fields)
			}
		}, 0},
		{"received", `time.source="received"`, func(ev hecreceiver.Event) {
			if !near(eventSeconds(t, ev), now) || ev.Fields["orig_time"] != nil {
				t.Fatalf("time.source=received: %q has time %s, want about %d", ev.Event, ev.Time, now.Unix())
			}
		}, 0},
		{"none", `time.source="none"`, func(ev hecreceiver.Event) {
			if ev.Time != "" || strings.Contains(ev.Query, "auto_extract") {
				t.Fatalf("time.source=none: %q has time %q, query %q", ev.Event, ev.Time, ev.Query)
			}
		}, 0},
		{"extract", `time.source="extract"`, func(ev hecreceiver.Event) {
			if ev.Time != "" || ev.Query != "auto_extract_timestamp=true" {
				t.Fatalf("time.source=extract: %q has time %q, query %q", ev.Event, ev.Time, ev.Query)
			}
		}, 0},
		{"guard", `time.maxpast="2592000" time.maxfuture="3600"`, func(ev hecreceiver.Event) {
			sec, off := eventSeconds(t, ev), offsetOf(ev)
			orig, _ := ev.Fields["orig_time"].(string)
			if off == 0 && (!near(sec, now) || orig != "") {
				t.Fatalf("guard: %q, right clock, arrived with time %s, orig_time %q", ev.Event, ev.Time, orig)
			}
			if off != 0 {
				o, err := strconv.ParseFloat(orig, 64)
				if !near(sec, now) || err != nil || !near(o, now.Add(off)) {
					t.Fatalf("guard: %q, clock %v off, arrived with time %s, orig_time %q", ev.Event, off, ev.Time, orig)
				}
			}
		}, 2 * per},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startReceiver(t, hecreceiver.Config{Record: true})
			global, statsPath := impstatsConfig(t.TempDir())
			conf := newConfig(t, action(r, c.params+` name="timed"`))
			conf.Global = global
			d := start(t, conf, false)
			sendRaw(t, d.Addr(), lines())
			waitFor(t, r, int64(per*len(kinds)), time.Minute)
			for _, ev := range r.Events() {
				c.check(ev)
			}
			waitStats(t, statsPath, "omsplunkgo-timed", func(st map[string]float64) bool {
				return st["delivered"] == float64(per*len(kinds)) && st["time.replaced"] == c.replaced
			})
		})
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// An index template that renders 20 indexes, 5 outside the allow-list:
// those 5 go to the fallback, marked with the index they rendered and
// counted; the 15 allowed (one entry a prefix with *) arrive as rendered.
// The sourcetype's allow-list holds 10 of 20: the others get the action's
// sourcetype, marked.
func TestIndexAllowList(t *testing.T) {
	const per = 50
	r := startReceiver(t, hecreceiver.Config{Record: true})
	global, statsPath := impstatsConfig(t.TempDir())
	conf := newConfig(t, action(r, `index.template="ix" index="main" index.fallback="quarantine" name="routed"
	  index.allowed=["idx0*", "idx10", "idx11", "idx12", "idx13", "idx14"]
	  sourcetype="syslog" sourcetype.template="st" sourcetype.allowed=["st_idx0*"]`))
	conf.Global = global + `
template(name="ix" type="string" string="%programname%")
template(name="st" type="string" string="st_%programname%")`
	d := start(t, conf, false)
	var b []byte
	for k := 0; k < 20; k++ {
		b = append(b, timedLines(fmt.Sprintf("idx%02d", k), 0, per, func(int) time.Time { return time.Now() })...)
	}
	sendRaw(t, d.Addr(), b)
	waitFor(t, r, 20*per, time.Minute)
	seen := map[string]int{}
	for _, ev := range r.Events() {
		prog := ev.Event[:5]
		seen[ev.Event]++
		allowed := prog < "idx15"
		orig, _ := ev.Fields["orig_index"].(string)
		if allowed && (ev.Index != prog || orig != "") || !allowed && (ev.Index != "quarantine" || orig != prog) {
			t.Fatalf("%q arrived in index %q with orig_index %q", ev.Event, ev.Index, orig)
		}
		stAllowed := prog < "idx10"
		origST, _ := ev.Fields["orig_sourcetype"].(string)
		if stAllowed && (ev.Sourcetype != "st_"+prog || origST != "") ||
			!stAllowed && (ev.Sourcetype != "syslog" || origST != "st_"+prog) {
			t.Fatalf("%q arrived with sourcetype %q, orig_sourcetype %q", ev.Event, ev.Sourcetype, origST)
		}
	}
	if len(seen) != 20*per {
		t.Fatalf("%d distinct events of %d", len(seen), 20*per)
	}
	waitStats(t, statsPath, "omsplunkgo-routed", func(st map[string]float64) bool {
		return st["route.fallback"] == 5*per+10*per && st["delivered"] == 20*per
	})
}

// Events Splunk refuses for their index (code 7) go once to
// index.onrefused, marked with the refused index; where that index is
// refused too, they go to the error file, once, and nowhere else.
func TestIndexOnRefused(t *testing.T) {
	const good, bad = 300, 12
	for _, c := range []struct {
		name       string
		indexes    []string
		toFallback bool
	}{
		{"fallback taken", []string{"main", "idx_ok", "refused_here"}, true},
		{"fallback refused too", []string{"main", "idx_ok"}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := startReceiver(t, hecreceiver.Config{Record: true, Indexes: c.indexes})
			global, statsPath := impstatsConfig(t.TempDir())
			conf := newConfig(t, action(r, `index.template="ix" index.onrefused="refused_here" name="onref"`))
			conf.Global = global + `
template(name="ix" type="string" string="%programname%")`
			d := start(t, conf, false)
			var b []byte
			for i := 0; i < good; i++ {
				b = append(b, timedLines("idx_ok", i, 1, func(int) time.Time { return time.Now() })...)
				if i%(good/bad) == 0 && i/(good/bad) < bad {
					b = append(b, timedLines(fmt.Sprintf("bad%02d", i/(good/bad)), i, 1, func(int) time.Time { return time.Now() })...)
				}
			}
			sendRaw(t, d.Addr(), b)
			want := int64(good)
			if c.toFallback {
				want += bad
			}
			waitFor(t, r, want, time.Minute)
			arrived := map[string]int{}
			for _, ev := range r.Events() {
				arrived[ev.Event]++
				prog := ev.Event[:strings.IndexByte(ev.Event, '[')]
				ref, _ := ev.Fields["refused_index"].(string)
				switch {
				case prog == "idx_ok" && ev.Index == "idx_ok" && ref == "":
				case c.toFallback && strings.HasPrefix(prog, "bad") && ev.Index == "refused_here" && ref == prog:
				default:
					t.Fatalf("%q arrived in %q with refused_index %q", ev.Event, ev.Index, ref)
				}
			}
			for e, n := range arrived {
				if n != 1 {
					t.Fatalf("%q arrived %d times", e, n)
				}
			}
			wantOnRefused, wantRejected := float64(bad), float64(0)
			if !c.toFallback {
				wantRejected = bad
			}
			waitStats(t, statsPath, "omsplunkgo-onref", func(st map[string]float64) bool {
				return st["index.onrefused"] == wantOnRefused && st["rejected"] == wantRejected
			})
			lines, _ := os.ReadFile(filepath.Join(conf.Dir, "omsplunkgo-rejected.json"))
			inFile := map[string]int{}
			for _, l := range strings.Split(strings.TrimSpace(string(lines)), "\n") {
				var rec struct {
					HECCode int `json:"hec_code"`
					Event   struct {
						Event, Index string
						Fields       map[string]string
					}
				}
				if l != "" && json.Unmarshal([]byte(l), &rec) == nil {
					if rec.HECCode != 7 || rec.Event.Index != "refused_here" || !strings.HasPrefix(rec.Event.Fields["refused_index"], "bad") {
						t.Fatalf("unexpected error file line %s", l)
					}
					inFile[rec.Event.Event]++
				}
			}
			if len(inFile) != int(wantRejected) {
				t.Fatalf("%d events in the error file, want %d: %v", len(inFile), int(wantRejected), inFile)
			}
			for e, n := range inFile {
				if n != 1 {
					t.Fatalf("%q is in the error file %d times", e, n)
				}
			}
		})
	}
}

// The raw endpoint takes each event's time from its line: with
// time.source="received" the built-in line starts with the receive time,
// with the default the reported one (here 5 years back).
func TestRawLineCarriesTheChosenTime(t *testing.T) {
	const n = 200
	back := time.Now().AddDate(-5, 0, 0)
	for _, c := range []struct {
		params string
		year   int
	}{{``, back.Year()}, {`time.source="received"`, time.Now().Year()}} {
		r := startReceiver(t, hecreceiver.Config{Record: true})
		d := start(t, newConfig(t, action(r, `endpoint="raw" `+c.params)), false)
		sendRaw(t, d.Addr(), timedLines("old", 0, n, func(int) time.Time { return back }))
		waitFor(t, r, n, time.Minute)
		for _, ev := range r.Events() {
			if !ev.Raw || !strings.HasPrefix(ev.Event, strconv.Itoa(c.year)+"-") {
				t.Fatalf("%q: raw line %q, want it to start with %d", c.params, ev.Event, c.year)
			}
		}
	}
}
