// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

// shipper is one way of getting syslog from TCP into HEC.
type shipper struct {
	name  string
	short string // file-name friendly
	// toFile: the shipper writes lines to outFile instead of posting to HEC.
	toFile bool
	// conns, when set, overrides -conns: how many TCP connections carry
	// the throughput load.
	conns int
	// delay, when set, makes the receiver answer every request that much
	// later (HEC far away); such rows send -distance-n messages and skip
	// the latency run.
	delay time.Duration
	// faults, when set, make the receiver a struggling indexer (the
	// capacity rows); such rows send -distance-n messages and skip the
	// latency run.
	faults *hecreceiver.Faults
	// ack: the receiver requires indexer acknowledgement and turns each
	// ackId true ackDelay after the request (the rows with acks, which,
	// like the other far rows send -distance-n messages and skip the latency run).
	ack   bool
	start func(e *env) (*proc, error)
}

// ackDelay is how long after a request its ack turns true in the ack
// rows: Splunk acknowledges once the events are indexed and replicated,
// seconds are normal.
const ackDelay = 2 * time.Second

// ackShippers are omsplunkgo with useack="on" at each distance; the
// distance rows without acks are their comparison, same run.
func ackShippers(delays []time.Duration, baseline string) []shipper {
	var rows []shipper
	for _, d := range delays {
		ms := d.Milliseconds()
		rows = append(rows, shipper{name: fmt.Sprintf("omsplunkgo, useack, HEC %d ms away, acks 2 s late", ms),
			short: fmt.Sprintf("omsplunkgo-ack-d%d", ms), delay: d, ack: true,
			start: func(e *env) (*proc, error) { return omsplunkgoAck(e, "") }})
		if baseline != "" {
			s := baselineShipper(baseline)
			rows = append(rows, shipper{name: fmt.Sprintf("%s, useack, HEC %d ms away, acks 2 s late", s.name, ms),
				short: fmt.Sprintf("omsplunkgo-baseline-ack-d%d", ms), delay: d, ack: true,
				start: func(e *env) (*proc, error) { return omsplunkgoAck(e, baseline) }})
		}
	}
	return rows
}

// omsplunkgoAck is the defaults plus useack="on" against the ack
// receiver, this build or another's (dir).
func omsplunkgoAck(e *env, dir string) (*proc, error) {
	b := *e
	if dir != "" {
		b.build = dir
	}
	return rsyslog(&b, rsyslogtest.Config{Action: fmt.Sprintf(`server="%s" token="%s" useack="on"`, e.hecAckURL, e.token)})
}

// capacityShippers are the rows with an indexer at its capacity, 50 ms
// away: one that answers 503 above 8 requests at once, and one whose
// answers slow with the square of the overload past 8 (it takes less the
// more it is sent). omsplunkgo's adaptive limit against the limit an admin
// would tune by hand (connections).
func capacityShippers() []shipper {
	kinds := []struct {
		name, short string
		f           hecreceiver.Faults
	}{
		{"503 above 8 at once", "cap503", hecreceiver.Faults{Delay: 50 * time.Millisecond, Capacity: 8}},
		{"slower past 8 at once", "capslow", hecreceiver.Faults{Delay: 50 * time.Millisecond, SlowAbove: 8}},
	}
	var rows []shipper
	for _, k := range kinds {
		f := k.f
		rows = append(rows, shipper{name: fmt.Sprintf("omsplunkgo, defaults (adaptive), indexer %s", k.name),
			short: k.short + "-adaptive", faults: &f,
			start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, "") }})
		for _, c := range []int{8, 16} {
			rows = append(rows, shipper{name: fmt.Sprintf("omsplunkgo, connections=%d, indexer %s", c, k.name),
				short: fmt.Sprintf("%s-c%d", k.short, c), faults: &f,
				start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, fmt.Sprintf(`connections="%d"`, c)) }})
		}
	}
	return rows
}

// distanceShippers are the rows with HEC far away: omsplunkgo with its
// defaults against omhttp and syslog-ng with their throughput settings
// (an action queue with two workers; workers(4), batches of 500).
func distanceShippers(delays []time.Duration) []shipper {
	var rows []shipper
	for _, d := range delays {
		ms := d.Milliseconds()
		rows = append(rows,
			shipper{name: fmt.Sprintf("omsplunkgo, defaults, HEC %d ms away", ms), short: fmt.Sprintf("omsplunkgo-d%d", ms),
				delay: d, start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, "") }},
			shipper{name: fmt.Sprintf("omhttp, action queue, 2 workers, HEC %d ms away", ms), short: fmt.Sprintf("omhttp-queue-d%d", ms),
				delay: d, start: func(e *env) (*proc, error) { return omhttpAction(e, false, actionQueue+` batch.maxsize="500"`) }},
			shipper{name: fmt.Sprintf("syslog-ng http(), TZ set, HEC %d ms away", ms), short: fmt.Sprintf("syslog-ng-tz-d%d", ms),
				delay: d, start: func(e *env) (*proc, error) { return startSyslogNG(e, []string{"TZ=:/etc/localtime"}) }},
		)
	}
	return rows
}

// env is what a shipper needs to start.
type env struct {
	dir     string // scratch directory of this configuration
	port    int    // syslog TCP port to listen on
	hecURL  string
	hecsURL string // the same receiver's HTTPS twin
	// hecAckURL is a receiver that requires indexer acknowledgement.
	hecAckURL string
	caFile    string // PEM of the HTTPS receiver's self-signed certificate
	omhttp    string // rsyslog's omhttp.so, built by scripts/build-omhttp.sh; "" if missing
	token     string
	build     string // the project's build/ directory
	root      string // repository root
	sngRoot   string // unpacked syslog-ng
	outFile   string // for toFile shippers: a named pipe the bench reads
	format    loadgen.Format
	// hecRequests counts the requests the receiver has had so far.
	hecRequests func() int64
	// setFaults sets the receivers' faults (the zero value: none).
	setFaults func(f hecreceiver.Faults)
	// hecFailed counts the requests the receiver answered 503 so far.
	hecFailed func() int64
}

// proc is a running shipper.
type proc struct {
	pid  int
	stop func() error
	logs func() string
}

// hecJSON renders the same event object omsplunkgo sends, as one line.
const hecJSON = `template(name="hecjson" type="string" string="{\"time\":%timereported:::date-unixtimestamp%.%timereported:::date-subseconds%,\"host\":\"%hostname:::json%\",\"sourcetype\":\"syslog\",\"event\":\"%syslogtag:::json%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf,json%\"}\n")`

// hecJSONLine is hecJSON without the newline: omhttp's newline batch
// format puts one between messages itself.
const hecJSONLine = `template(name="hecjsonline" type="string" string="{\"time\":%timereported:::date-unixtimestamp%.%timereported:::date-subseconds%,\"host\":\"%hostname:::json%\",\"sourcetype\":\"syslog\",\"event\":\"%syslogtag:::json%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf,json%\"}")`

// actionQueue is the like-for-like queue of the omhttp and omsplunkgo
// rows with an action queue: two workers, 2048-message batches.
const actionQueue = `queue.type="LinkedList" queue.workerThreads="2" queue.dequeueBatchSize="2048" queue.size="200000"`

// omhttpAction starts rsyslogd with rsyslog's omhttp posting the same
// event JSON to HEC's event endpoint in newline batches; extra goes into
// the action.
func omhttpAction(e *env, https bool, extra string) (*proc, error) {
	if e.omhttp == "" {
		return nil, fmt.Errorf("omhttp.so is not built (scripts/build-omhttp.sh)")
	}
	u, scheme := e.hecURL, `usehttps="off"`
	if https {
		u, scheme = e.hecsURL, fmt.Sprintf(`usehttps="on" tls.cacert="%s"`, e.caFile)
	}
	hostPort := u[strings.Index(u, "://")+3:]
	host, port, _ := strings.Cut(hostPort, ":")
	return rsyslog(e, rsyslogtest.Config{NoModule: true, Type: "omhttp",
		Global: fmt.Sprintf(`module(load="%s")`, e.omhttp) + "\n" + hecJSONLine,
		Action: fmt.Sprintf(`server="%s" serverport="%s" %s restpath="services/collector/event" batch="on" batch.format="newline"
  httpheaderkey="Authorization" httpheadervalue="Splunk %s" template="hecjsonline" %s`, host, port, scheme, e.token, extra)})
}

// omsplunkgoAction starts rsyslogd with omsplunkgo; extra goes into the
// action.
func omsplunkgoAction(e *env, https bool, extra string) (*proc, error) {
	u := e.hecURL
	if https {
		u = e.hecsURL
		extra += fmt.Sprintf(` tls.cacert="%s"`, e.caFile)
	}
	return rsyslog(e, rsyslogtest.Config{Action: fmt.Sprintf(`server="%s" token="%s" %s`, u, e.token, extra)})
}

// metaLine is hecpipe's input: "<time> <host> <event text>".
const metaLine = `template(name="metaline" type="string" string="%timereported:::date-unixtimestamp%.%timereported:::date-subseconds% %hostname% %syslogtag%%msg:::sp-if-no-1st-sp%%msg:::drop-last-lf%\n")`

// routingTemplates are the per-message metadata of the routed row.
const routingTemplates = `template(name="st" type="string" string="linux:%programname%")
template(name="idx" type="string" string="os_%syslogfacility-text%")
template(name="flds" type="list" option.jsonf="on") {
  property(outname="app" name="programname" format="jsonf")
  property(outname="facility" name="syslogfacility-text" format="jsonf")
  property(outname="severity" name="syslogseverity-text" format="jsonf")
}`

// startCeiling runs omfile rendering the event JSON into a named pipe the
// bench drains (as cheap as /dev/null for rsyslogd, but the bench sees
// every line arrive).
func startCeiling(e *env) (*proc, error) {
	if err := syscall.Mkfifo(e.outFile, 0o600); err != nil {
		return nil, err
	}
	return rsyslog(e, rsyslogtest.Config{NoModule: true, Type: "omfile", Global: hecJSON,
		Action: fmt.Sprintf(`file="%s" template="hecjson"`, e.outFile)})
}

func rsyslog(e *env, c rsyslogtest.Config) (*proc, error) {
	c.Dir, c.BuildDir, c.Port = e.dir, e.build, e.port
	d, err := rsyslogtest.Start(&c, false)
	if err != nil {
		return nil, err
	}
	return &proc{pid: d.PID, stop: func() error { return d.Stop(30 * time.Second) }, logs: d.Output}, nil
}

// baselineShipper is omsplunkgo with defaults from another build (dir),
// for an A/B of two versions in one run.
func baselineShipper(dir string) shipper {
	return shipper{name: "omsplunkgo, defaults, baseline build", short: "omsplunkgo-baseline",
		start: func(e *env) (*proc, error) {
			b := *e
			b.build = dir
			return omsplunkgoAction(&b, false, "")
		}}
}

// baselineFarShipper is the baseline build with HEC d away, for an A/B of
// the far rows in one run.
func baselineFarShipper(dir string, d time.Duration) shipper {
	s := baselineShipper(dir)
	s.name = fmt.Sprintf("%s, HEC %d ms away", s.name, d.Milliseconds())
	s.short = fmt.Sprintf("omsplunkgo-baseline-d%d", d.Milliseconds())
	s.delay = d
	return s
}

var shippers = []shipper{
	{
		name: "ceiling: rsyslog omfile, same JSON", short: "ceiling", toFile: true,
		// omfile writes to a named pipe the bench drains (as cheap as
		// /dev/null for rsyslogd, but the bench sees every line arrive).
		start: startCeiling,
	},
	{
		name: "omsplunkgo, defaults", short: "omsplunkgo",
		start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, "") },
	},
	{
		// rsyslog's own HTTP output, as its docs set it up for HEC: batches
		// in newline format (its default batch.maxsize, 100 messages).
		name: "omhttp, defaults", short: "omhttp",
		start: func(e *env) (*proc, error) { return omhttpAction(e, false, "") },
	},
	{
		name: "omsplunkgo, action queue, 2 workers", short: "omsplunkgo-queue",
		start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, actionQueue) },
	},
	{
		// The same queue, and requests of omsplunkgo's default size.
		name: "omhttp, action queue, 2 workers", short: "omhttp-queue",
		start: func(e *env) (*proc, error) { return omhttpAction(e, false, actionQueue+` batch.maxsize="500"`) },
	},
	{
		name: "omsplunkgo, HTTPS", short: "omsplunkgo-https",
		start: func(e *env) (*proc, error) { return omsplunkgoAction(e, true, "") },
	},
	{
		name: "omsplunkgo, HTTPS + gzip", short: "omsplunkgo-https-gzip",
		start: func(e *env) (*proc, error) { return omsplunkgoAction(e, true, `compress="on"`) },
	},
	proxyShipper,
	{
		name: "omhttp, HTTPS", short: "omhttp-https",
		start: func(e *env) (*proc, error) { return omhttpAction(e, true, "") },
	},
	{
		name: "omhttp, HTTPS + gzip", short: "omhttp-https-gzip",
		start: func(e *env) (*proc, error) { return omhttpAction(e, true, `compress="on"`) },
	},
	{
		name: "omsplunkgo, tuned", short: "omsplunkgo-tuned",
		start: func(e *env) (*proc, error) {
			// Two rsyslog workers render and commit in parallel, each with
			// up to 2048 messages split over 2-4 requests.
			return rsyslog(e, rsyslogtest.Config{
				Queue:  `queue.type="LinkedList" queue.workerThreads="2" queue.dequeueBatchSize="2048" queue.workerThreadMinimumMessages="2048"`,
				Action: fmt.Sprintf(`server="%s" token="%s" batch.maxevents="1024"`, e.hecURL, e.token)})
		},
	},
	{
		// The cost of routing: sourcetype, index and indexed fields rendered
		// per message by rsyslog templates, as a Splunk shop routes by
		// program and facility.
		name: "omsplunkgo, per-message metadata", short: "omsplunkgo-routed",
		start: func(e *env) (*proc, error) {
			return rsyslog(e, rsyslogtest.Config{Global: routingTemplates,
				Action: fmt.Sprintf(`server="%s" token="%s" sourcetype.template="st" index.template="idx" fields.template="flds"`,
					e.hecURL, e.token)})
		},
	},
	{
		name: "omprog + Python (stdlib)", short: "omprog-python",
		start: func(e *env) (*proc, error) {
			script := filepath.Join(e.root, "bench/helpers/hec_omprog.py")
			return rsyslog(e, rsyslogtest.Config{NoModule: true, Type: "omprog", Global: `module(load="omprog")` + "\n" + metaLine,
				Action: fmt.Sprintf(`binary="/usr/bin/python3 %s %s %s" template="metaline"`, script, e.hecURL, e.token)})
		},
	},
	{
		name: "omprog + Go helper (hec package)", short: "omprog-go",
		start: func(e *env) (*proc, error) {
			bin := filepath.Join(e.build, "hecpipe")
			return rsyslog(e, rsyslogtest.Config{NoModule: true, Type: "omprog", Global: `module(load="omprog")` + "\n" + metaLine,
				Action: fmt.Sprintf(`binary="%s -server %s -token %s" template="metaline"`, bin, e.hecURL, e.token)})
		},
	},
	{
		// One busy connection (a relay forwarding to this host): one imptcp
		// session, another rsyslog thread layout.
		name: "ceiling, 1 connection", short: "ceiling-1conn", toFile: true, conns: 1,
		start: startCeiling,
	},
	{
		name: "omsplunkgo, defaults, 1 connection", short: "omsplunkgo-1conn", conns: 1,
		start: func(e *env) (*proc, error) { return omsplunkgoAction(e, false, "") },
	},
	{
		name: "omhttp, defaults, 1 connection", short: "omhttp-1conn", conns: 1,
		start: func(e *env) (*proc, error) { return omhttpAction(e, false, "") },
	},
	{
		name: "syslog-ng http()", short: "syslog-ng",
		start: func(e *env) (*proc, error) { return startSyslogNG(e, nil) },
	},
	{
		// Without TZ in its environment (as systemd starts it) syslog-ng
		// 3.38 has glibc stat /etc/localtime for every RFC3164 message it
		// parses; TZ spares that, which more than doubles its throughput
		// here. Both are shown: the first is how it usually runs, the
		// second what it can do.
		name: "syslog-ng http(), TZ set", short: "syslog-ng-tz",
		start: func(e *env) (*proc, error) { return startSyslogNG(e, []string{"TZ=:/etc/localtime"}) },
	},
}

// syslog-ng 3.38 with the http() destination, as Splunk Connect for
// Syslog ships: batches of 500 lines, 4 workers, the same event JSON.
const syslogNGConf = `@version: 3.38
options { stats_freq(0); keep_hostname(yes); };
source s { network(ip(127.0.0.1) port(%d) transport(tcp) %s log-iw-size(100000)); };
destination hec {
  http(url("%s/services/collector/event") method("POST")
       headers("Authorization: Splunk %s" "Content-Type: application/json")
       batch-lines(500) batch-timeout(100) workers(4) delimiter("\n")
       body('$(format-json time=float(${S_UNIXTIME}.${S_USEC}) host=$HOST sourcetype=syslog event="$MSGHDR$MSG")'));
};
log { source(s); destination(hec); flags(flow-control); };
`

// startSyslogNG runs syslog-ng with extraEnv added to its environment.
func startSyslogNG(e *env, extraEnv []string) (*proc, error) {
	if e.sngRoot == "" {
		return nil, fmt.Errorf("syslog-ng is not unpacked (run scripts/setup-bench.sh)")
	}
	conf := filepath.Join(e.dir, "syslog-ng.conf")
	flags := "" // RFC3164 is network()'s default
	if e.format == loadgen.RFC5424 {
		flags = "flags(syslog-protocol)"
	}
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(syslogNGConf, e.port, flags, e.hecURL, e.token)), 0o644); err != nil {
		return nil, err
	}
	logPath := filepath.Join(e.dir, "syslog-ng.out")
	out, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer out.Close()
	cmd := exec.Command(filepath.Join(e.sngRoot, "usr/sbin/syslog-ng"), "-F", "-f", conf,
		"-R", filepath.Join(e.dir, "persist"), "-p", filepath.Join(e.dir, "pid"), "-c", filepath.Join(e.dir, "ctl"),
		"--module-path="+filepath.Join(e.sngRoot, "usr/lib/syslog-ng/3.38"))
	cmd.Env = append(os.Environ(), "LD_LIBRARY_PATH="+filepath.Join(e.sngRoot, "usr/lib/syslog-ng"))
	cmd.Env = append(cmd.Env, extraEnv...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	logs := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	p := &proc{pid: cmd.Process.Pid, logs: logs, stop: func() error {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-done:
			return nil
		case <-time.After(30 * time.Second):
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-done
			return fmt.Errorf("syslog-ng did not stop within 30 s of SIGTERM; killed")
		}
	}}
	if err := waitListening(e.port, done); err != nil {
		p.stop()
		return nil, fmt.Errorf("%v\n%s", err, strings.TrimSpace(logs()))
	}
	return p, nil
}

func waitListening(port int, exited <-chan struct{}) error {
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("exited before listening on port %d", port)
		default:
		}
		if c, err := dialTCP(port); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on port %d after 15 s", port)
}
