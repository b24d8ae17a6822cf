// SPDX-License-Identifier: Apache-2.0

package integration

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// The window must never be the reason nothing ships: a full or small
// disk, a second rsyslogd on the same directory, odd action names and
// crafted window files degrade delivery at most, never stop it.

// onSmallFS makes rsyslogd's work directory a tmpfs of size, in a private
// mount namespace that ends with rsyslogd (nothing is mounted on this
// machine's own tree); with fill, a file takes all its space first. It
// returns the work directory as the test sees it through rsyslogd's root
// once rsyslogd runs (/proc/PID/root/...).
func onSmallFS(t *testing.T, conf *rsyslogtest.Config, size string, fill bool) func(d *rsyslogtest.Daemon) string {
	t.Helper()
	work := filepath.Join(conf.Dir, "work")
	if err := os.Mkdir(work, 0o755); err != nil {
		t.Fatal(err)
	}
	conf.WorkDir = work
	script := `mount -t tmpfs -o size=` + size + ` omsplunkgo-test "$W" || exit 1
`
	if fill {
		script += `dd if=/dev/zero of="$W/filler" bs=4k 2>/dev/null
`
	}
	script += `exec "$@"`
	conf.Wrap = []string{"env", "W=" + work, "unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh"}
	return func(d *rsyslogtest.Daemon) string { return fmt.Sprintf("/proc/%d/root%s", d.PID, work) }
}

// Window directory on a full filesystem, HEC healthy: every message is
// delivered, the fallback to memory is logged once, and once space is back
// the files are used again, said once too.
func TestFullDiskStillShips(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `name="full"`))
	work := onSmallFS(t, conf, "256m", true)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 20000)
	waitFor(t, r, 20000, time.Minute)
	seen := work(d)
	if err := os.Remove(filepath.Join(seen, "filler")); err != nil {
		t.Fatalf("freeing the filesystem: %v", err)
	}
	time.Sleep(1100 * time.Millisecond) // the files are tried again once a second
	send(t, d, loadgen.RFC5424, 20000, 20000)
	waitFor(t, r, 40000, time.Minute)
	checkExactlyOnce(t, r.Events(), 0, 40000)
	log := d.InternalLog()
	if n := strings.Count(log, "the window goes on in memory"); n != 1 {
		t.Fatalf("the fallback to memory was logged %d times, want 1:\n%s", n, tail(log, 3000))
	}
	if !contains(log, "can be written again") {
		t.Fatalf("the files' return is not logged:\n%s", tail(log, 3000))
	}
	if segs, _ := filepath.Glob(filepath.Join(seen, "omsplunkgo-spool-omsplunkgo-full.*.seg")); len(segs) == 0 {
		t.Fatalf("no window file after space came back")
	}
}

// A 2 MiB filesystem with HEC healthy: the window's files fit (emptied as
// their records are done, well below 4 MiB) and rsyslog never suspends
// the action.
func TestSmallDiskNoSuspendCycles(t *testing.T) {
	const n = 200000
	r := startReceiver(t, hecreceiver.Config{})
	conf := newConfig(t, action(r, ""))
	onSmallFS(t, conf, "2m", false)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	waitFor(t, r, n, 2*time.Minute)
	if got := r.Count(); got != n {
		t.Fatalf("%d events for %d messages", got, n)
	}
	log := d.InternalLog()
	if c := strings.Count(log, "suspended"); c != 0 {
		t.Fatalf("the action was suspended %d times with HEC healthy:\n%s", c, tail(log, 3000))
	}
	// Short of space, a commit waits for delivered records to free some:
	// with HEC healthy the window stays on its files.
	if contains(log, "goes on in memory") {
		t.Fatalf("the window left its files on a 2 MiB filesystem with HEC healthy:\n%s", tail(log, 3000))
	}
}

// Two rsyslogd on one work directory, one action name: the second names
// the first's pid and keeps its window in memory; neither sends, deletes
// nor replays the other's files, and each HEC gets its own events once.
func TestTwoRsyslogdOnOneDirectory(t *testing.T) {
	r1 := startReceiver(t, hecreceiver.Config{Record: true})
	r2 := startReceiver(t, hecreceiver.Config{Record: true})
	r1.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	shared := t.TempDir()
	c1 := newConfig(t, action(r1, `name="x" `+lossFreeAction))
	c1.WorkDir = shared
	d1 := start(t, c1, false)
	send(t, d1, loadgen.RFC5424, 0, 3000)
	time.Sleep(2 * time.Second) // in d1's window files, HEC refusing
	c2 := newConfig(t, action(r2, `name="x"`))
	c2.WorkDir = shared
	d2 := start(t, c2, false)
	send(t, d2, loadgen.RFC5424, 10000, 3000)
	waitFor(t, r2, 3000, time.Minute)
	checkArrivals(t, r2.Events(), 10000, 3000, nil) // none of d1's
	if !contains(d2.Output(), fmt.Sprintf("pid %d", d1.PID)) {
		t.Fatalf("the second rsyslogd does not name the first's pid:\n%s", tail(d2.Output(), 3000))
	}
	if err := d2.Stop(30 * time.Second); err != nil {
		t.Fatal(err)
	}
	// d1 crashes: its files were left alone, so the next start sends them.
	d1.Kill()
	r1.SetFaults(hecreceiver.Faults{})
	c3 := newConfig(t, action(r1, `name="x"`))
	c3.WorkDir = shared
	start(t, c3, false)
	waitFor(t, r1, 3000, time.Minute)
	checkExactlyOnce(t, r1.Events(), 0, 3000)
	if r2.Count() != 3000 {
		t.Fatalf("r2 has %d events, want its own 3000", r2.Count())
	}
}

// Action names of any form get files of their own: "a.b"'s events, held
// in its window while its HEC refuses, do not go to the HEC of an action
// called "a_b" started on the same directory, and do go to a.b's HEC once
// a.b runs again. A 230-character name delivers like any other.
func TestOddActionNamesKeepTheirOwnFiles(t *testing.T) {
	ra := startReceiver(t, hecreceiver.Config{Record: true})
	rb := startReceiver(t, hecreceiver.Config{Record: true})
	ra.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	shared := t.TempDir()
	run := func(r *hecreceiver.Receiver, name string, first, n int, stop bool) {
		t.Helper()
		c := newConfig(t, action(r, fmt.Sprintf(`name=%q index="%s"`, name, strings.Map(func(c rune) rune {
			if c == '.' || c == '_' {
				return 'x'
			}
			return c
		}, name[:min(len(name), 8)]))))
		c.WorkDir = shared
		d := start(t, c, false)
		if n > 0 {
			send(t, d, loadgen.RFC5424, first, n)
		}
		if stop {
			time.Sleep(time.Second)
			if err := d.Stop(30 * time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	run(ra, "a.b", 0, 300, true)    // held in a.b's window files
	run(rb, "a_b", 1000, 100, true) // a_b's own events, and nothing of a.b's
	time.Sleep(quietPeriod + unclaimedGrace)
	checkArrivals(t, rb.Events(), 1000, 100, nil)
	ra.SetFaults(hecreceiver.Faults{})
	run(ra, "a.b", 0, 0, false)
	waitFor(t, ra, 300, time.Minute)
	checkExactlyOnce(t, ra.Events(), 0, 300)

	long := startReceiver(t, hecreceiver.Config{Record: true})
	name := strings.Repeat("n", 230)
	c := newConfig(t, action(long, fmt.Sprintf(`name=%q`, name)))
	d := start(t, c, false)
	send(t, d, loadgen.RFC5424, 0, 2000)
	waitFor(t, long, 2000, time.Minute)
	checkExactlyOnce(t, long.Events(), 0, 2000)
	if contains(d.InternalLog(), "file name too long") {
		t.Fatalf("a long action name broke the window's files:\n%s", tail(d.InternalLog(), 2000))
	}
}

// unclaimedGrace covers the module's delay before it reports (and hands
// out) files of no action.
const unclaimedGrace = 4 * time.Second

// record frames a window record as the module writes it (hec/internal/
// segment): magic, payload length, CRC-32C, event count, payload. The
// payload is a request: query, event count, event ends (deltas), body.
func record(query string, deltas []uint64, body string, events uint32) []byte {
	p := binary.AppendUvarint(nil, uint64(len(query)))
	p = append(p, query...)
	p = binary.AppendUvarint(p, uint64(len(deltas)))
	for _, d := range deltas {
		p = binary.AppendUvarint(p, d)
	}
	p = append(p, body...)
	h := binary.LittleEndian.AppendUint32(nil, 0x3147534f)
	h = binary.LittleEndian.AppendUint32(h, uint32(len(p)))
	h = binary.LittleEndian.AppendUint32(h, crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)))
	h = binary.LittleEndian.AppendUint32(h, events)
	return append(h, p...)
}

// sideFile is an omfile action in the same ruleset, before the module's:
// what the rest of rsyslogd does while the module has trouble.
func sideFile(conf *rsyslogtest.Config) string {
	path := filepath.Join(conf.Dir, "side.log")
	conf.Ruleset += fmt.Sprintf("  action(type=\"omfile\" file=%q)\n", path)
	return path
}

func lines(path string) int {
	b, _ := os.ReadFile(path)
	return strings.Count(string(b), "\n")
}

// A window file with crafted records next to intact ones (event ends out
// of order, past the body, none at all), and a .bad name planted as a
// symbolic link to a file outside: rsyslogd starts and stays up, the
// omfile action beside keeps writing, the intact events are sent, and the
// file outside is untouched.
func TestCraftedWindowFileDoesNotCrashRsyslogd(t *testing.T) {
	r := startReceiver(t, hecreceiver.Config{Record: true})
	conf := newConfig(t, action(r, `name="c"`))
	side := sideFile(conf)
	ev := func(s string) string { return `{"event":"` + s + `"}` }
	a, b := ev("crafted-intact-1"), ev("crafted-intact-2")
	data := record("", []uint64{uint64(len(a)), uint64(len(b))}, a+b, 2)
	data = append(data, record("", []uint64{5, ^uint64(0) - 1}, "abc", 2)...)                   // ends 5 then 3
	data = append(data, record("", []uint64{99}, "short", 1)...)                                // past the body
	data = append(data, record("", nil, "", 0)...)                                              // no events
	data = append(data, record("", []uint64{uint64(len(a)) - 1}, ev("crafted-intact-3"), 1)...) // short end
	c := ev("crafted-intact-4")
	data = append(data, record("", []uint64{uint64(len(c))}, c, 1)...)
	prefix := filepath.Join(conf.Dir, "omsplunkgo-spool-omsplunkgo-c.1-1")
	if err := os.WriteFile(prefix+".seg", data, 0o600); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(t.TempDir(), "victim")
	os.WriteFile(victim, []byte("keep"), 0o600)
	os.Symlink(victim, prefix+".bad")
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, 1000)
	waitFor(t, r, 1003, time.Minute)
	var crafted []string
	var rest []hecreceiver.Event
	for _, e := range r.Events() {
		if strings.HasPrefix(e.Event, "crafted-") {
			crafted = append(crafted, e.Event)
		} else {
			rest = append(rest, e)
		}
	}
	checkExactlyOnce(t, rest, 0, 1000)
	if strings.Join(crafted, " ") != "crafted-intact-1 crafted-intact-2 crafted-intact-4" {
		t.Fatalf("intact crafted events received: %q", crafted)
	}
	if !d.Alive() || lines(side) != 1000 {
		t.Fatalf("rsyslogd alive %v, omfile wrote %d of 1000 lines", d.Alive(), lines(side))
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep" {
		t.Fatalf("the file behind the planted link holds %q", got)
	}
	if bad, err := os.ReadFile(prefix + ".bad.2"); err != nil || len(bad) == 0 {
		t.Fatalf("the crafted records were not set aside: %v", err)
	}
}

// A panic in the module (injected by the fault build) stays in its
// action: logged with its stack, the request sent again, every message
// delivered once; one that recurs on every request suspends the action
// with a clear message while rsyslogd and the omfile action beside go on.
func TestPanicStaysInItsAction(t *testing.T) {
	build, err := rsyslogtest.BuildDir()
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(build, "faults", "libomsplunkgo.so")
	if _, err := os.Stat(lib); err != nil {
		t.Fatalf("the fault build is missing (make %s): %v", "build/faults/libomsplunkgo.so", err)
	}
	for _, tc := range []struct{ fault, want string }{
		{"post:3", "internal error in the request"},
		{"post:1+", "is suspended until rsyslogd restarts"},
	} {
		t.Run(tc.fault, func(t *testing.T) {
			t.Setenv("OMSPLUNKGO_FAULT", tc.fault)
			r := startReceiver(t, hecreceiver.Config{Record: true})
			conf := newConfig(t, action(r, `batch.maxevents="100"`))
			conf.ModuleParams = fmt.Sprintf("library=%q", lib)
			side := sideFile(conf)
			d := start(t, conf, false)
			send(t, d, loadgen.RFC5424, 0, 2000)
			deadline := time.Now().Add(time.Minute)
			for lines(side) < 2000 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if tc.fault == "post:3" {
				waitFor(t, r, 2000, time.Minute)
				checkExactlyOnce(t, r.Events(), 0, 2000)
			} else {
				time.Sleep(2 * time.Second)
				send(t, d, loadgen.RFC5424, 2000, 1000) // rsyslogd goes on
				for lines(side) < 3000 && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
			}
			log := d.InternalLog()
			if !d.Alive() || !contains(log, tc.want) || !contains(log, "goroutine") {
				t.Fatalf("rsyslogd alive %v; log lacks %q or the stack:\n%s", d.Alive(), tc.want, tail(d.Output(), 6000))
			}
			if want := map[bool]int{true: 2000, false: 3000}[tc.fault == "post:3"]; lines(side) != want {
				t.Fatalf("omfile beside wrote %d of %d lines", lines(side), want)
			}
		})
	}
}

// goroutines reads the module's goroutine count from its debug.pprof
// endpoint.
func goroutines(t *testing.T, base string) int {
	t.Helper()
	resp, err := http.Get(base + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var n int
	if _, err := fmt.Sscanf(string(b), "goroutine profile: total %d", &n); err != nil {
		t.Fatalf("goroutine profile: %v: %.80q", err, b)
	}
	return n
}

// goroutineProfile reads the module's goroutines grouped by stack.
func goroutineProfile(t *testing.T, base string) string {
	t.Helper()
	resp, err := http.Get(base + "goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// A 60 s outage with batch.maxevents="1" (every event a request of its
// own): requests wait as data, so rsyslogd's memory stays under 100 MB
// and the module's goroutines under 200, and once HEC is back everything
// arrives.
func TestLongOutageWithOneEventRequests(t *testing.T) {
	const n = 100000
	r := startReceiver(t, hecreceiver.Config{})
	r.SetFaults(hecreceiver.Faults{FailUntil: time.Now().Add(time.Hour)})
	port, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	conf := newConfig(t, action(r, `batch.maxevents="1" `+lossFreeAction))
	conf.Queue = `queue.type="LinkedList" queue.size="200000"`
	conf.ModuleParams = fmt.Sprintf(`debug.pprof="127.0.0.1:%d"`, port)
	base := fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/", port)
	d := start(t, conf, false)
	send(t, d, loadgen.RFC5424, 0, n)
	var rss int64
	most, profile := 0, ""
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(2 * time.Second) {
		rss = max(rss, d.RSS())
		if n := goroutines(t, base); n > most {
			most = n
			if n > 200 {
				profile = goroutineProfile(t, base)
			}
		}
	}
	if rss > 100<<20 || most > 200 {
		t.Fatalf("through 60 s of outage: RSS up to %d MiB (want < 100), up to %d goroutines (want < 200); the profile at the most:\n%s", rss>>20, most, profile[:min(len(profile), 8000)])
	}
	r.SetFaults(hecreceiver.Faults{})
	waitFor(t, r, n, 3*time.Minute)
	if got := r.Count(); got != n {
		t.Fatalf("%d events for %d messages", got, n)
	}
	t.Logf("RESULT 60 s outage, batch.maxevents=1: RSS at most %d MiB, at most %d goroutines", rss>>20, most)
}

// Two actions in one ruleset without queues of their own (the shape of
// most configurations), one HEC refusing: the healthy one, 200 ms away,
// ships at least 0.8 x what it ships alone.
func TestDeadNeighbourDoesNotStall(t *testing.T) {
	const n = 100000
	dead, err := rsyslogtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	rate := func(withDead bool) float64 {
		r := startReceiver(t, hecreceiver.Config{})
		r.SetFaults(hecreceiver.Faults{Delay: 200 * time.Millisecond})
		conf := newConfig(t, action(r, ""))
		if withDead {
			conf.Ruleset = fmt.Sprintf(`  action(type="omsplunkgo" server="http://127.0.0.1:%d" token="%s")`+"\n", dead, token)
		}
		d := start(t, conf, false)
		begin := time.Now()
		send(t, d, loadgen.RFC5424, 0, n)
		if got := r.WaitCount(n, 2*time.Minute); got < n {
			t.Fatalf("healthy HEC got %d of %d (dead neighbour: %v)", got, n, withDead)
		}
		took := time.Since(begin)
		if err := d.Stop(30 * time.Second); err != nil {
			t.Fatal(err)
		}
		return float64(n) / took.Seconds()
	}
	alone := rate(false)
	beside := rate(true)
	t.Logf("RESULT healthy HEC 200 ms away: %.0f msgs/s alone, %.0f beside a refusing one (%.2f x)", alone, beside, beside/alone)
	if beside < 0.8*alone {
		t.Fatalf("beside a refusing HEC the healthy one ships %.0f msgs/s, alone %.0f (%.2f x, want >= 0.8)",
			beside, alone, beside/alone)
	}
}
