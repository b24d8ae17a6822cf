// SPDX-License-Identifier: Apache-2.0

// Command bench compares omsplunkgo with the other ways of shipping syslog
// to Splunk HEC on this machine: rsyslog's omfile as the ceiling, omprog
// with a Python or a Go helper, and syslog-ng's http() destination. Every
// configuration gets the same load in the same run; each run is checked to
// deliver exactly N events. `make bench` sets up what it needs and runs it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/omsplunkgo/omsplunkgo/internal/hecreceiver"
	"github.com/omsplunkgo/omsplunkgo/internal/loadgen"
	"github.com/omsplunkgo/omsplunkgo/internal/rsyslogtest"
)

const token = "00000000-0000-0000-0000-0000000b3c4d"

// Sequence number ranges of the three phases of one configuration.
const (
	seqThroughput = 0
	seqLatency    = 10_000_000
	seqWarmup     = 50_000_000
	warmupCount   = 2000
)

// result is one configuration's numbers.
type result struct {
	Name          string  `json:"name"`
	Short         string  `json:"short"`
	Messages      int     `json:"messages"`
	Seconds       float64 `json:"seconds"`
	MsgsPerSec    float64 `json:"msgs_per_sec"`
	CPUPerMillion float64 `json:"cpu_seconds_per_million"`
	// HarnessCPUPerMillion is the benchmark's own CPU (load generator and
	// receiver) in the throughput run: on a small machine it competes with
	// the shipper, so it is shown rather than assumed away.
	HarnessCPUPerMillion float64 `json:"harness_cpu_seconds_per_million"`
	// EventsPerRequest is the average HEC request size in the throughput
	// run (0 for the ceiling, which posts nothing): per-request costs are
	// a large part of a shipper's CPU.
	EventsPerRequest float64 `json:"events_per_request"`
	PeakRSSMiB       float64 `json:"peak_rss_mib"`
	Rate             int     `json:"latency_rate"`
	P50ms            float64 `json:"latency_p50_ms"`
	P99ms            float64 `json:"latency_p99_ms"`
	Maxms            float64 `json:"latency_max_ms"`
	Duplicates       int64   `json:"duplicates"`
	// DelayMs is how long the receiver waited before each answer (HEC far
	// away); 0 for loopback rows.
	DelayMs int64 `json:"hec_delay_ms,omitempty"`
	// BusyShare is the share of requests the receiver answered 503 (the
	// capacity rows).
	BusyShare float64 `json:"busy_share,omitempty"`
	Error     string  `json:"error,omitempty"`
	// Rounds are the throughput runs the medians above come from.
	Rounds []round `json:"rounds,omitempty"`
}

// round is one throughput run of a configuration.
type round struct {
	MsgsPerSec           float64 `json:"msgs_per_sec"`
	CPUPerMillion        float64 `json:"cpu_seconds_per_million"`
	HarnessCPUPerMillion float64 `json:"harness_cpu_seconds_per_million"`
}

func main() {
	n := flag.Int("n", 1000000, "messages per throughput run")
	rate := flag.Int("rate", 20000, "messages per second in the latency run")
	latencyN := flag.Int("latency-n", 100000, "messages in the latency run")
	only := flag.String("only", "", "comma-separated configurations to run (default all): "+names())
	out := flag.String("out", "bench/results", "directory for results.json, results.csv and the plots")
	format := flag.String("format", "rfc3164", "syslog format of the load: rfc3164 or rfc5424")
	conns := flag.Int("conns", 4, "TCP connections the throughput load is spread over (several senders)")
	rounds := flag.Int("rounds", 3, "throughput runs per configuration, interleaved across configurations; the table shows medians")
	sngRoot := flag.String("syslog-ng", ".cache/bench/syslog-ng", "unpacked syslog-ng (scripts/setup-bench.sh)")
	omhttp := flag.String("omhttp", "", "rsyslog's omhttp.so (default: the one scripts/build-omhttp.sh built in .cache/bench)")
	delays := flag.String("delays", "10ms,50ms,200ms", "answer delays of the rows with HEC far away (\"\": none)")
	distanceN := flag.Int("distance-n", 200000, "messages per throughput run of the rows with HEC far away")
	acks := flag.Bool("acks", true, "rows with useack=\"on\" at each -delays distance, acks turning true 2 s late (-distance-n messages, as the rows without acks they compare with)")
	capacityN := flag.Int("capacity-n", 800000, "messages per throughput run of the rows with an indexer at capacity (long enough to settle)")
	capacity := flag.Bool("capacity", true, "rows with an indexer at its capacity (adaptive limit against fixed connections)")
	baseline := flag.String("baseline", "", "a build directory of another version (omsplunkgo.so, libomsplunkgo.so): adds the row "+
		"\"omsplunkgo, defaults, baseline build\" and an A/B line against this build, same run")
	flag.Parse()

	f := loadgen.RFC3164
	if *format == "rfc5424" {
		f = loadgen.RFC5424
	} else if *format != "rfc3164" {
		fail("-format must be rfc3164 or rfc5424")
	}
	build, err := rsyslogtest.BuildDir()
	if err != nil {
		fail(err.Error())
	}
	root, _ := os.Getwd()
	if abs, err := filepath.Abs(*sngRoot); err == nil {
		*sngRoot = abs
	}
	if _, err := os.Stat(filepath.Join(*sngRoot, "usr/sbin/syslog-ng")); err != nil {
		*sngRoot = ""
	}
	scratch, err := os.MkdirTemp(shmOrTmp(), "omsplunkgo-bench-")
	if err != nil {
		fail(err.Error())
	}
	defer os.RemoveAll(scratch)

	if *omhttp == "" {
		if found, _ := filepath.Glob(".cache/bench/omhttp-*/omhttp.so"); len(found) > 0 {
			*omhttp = found[len(found)-1]
		}
	}
	if *omhttp != "" {
		if abs, err := filepath.Abs(*omhttp); err == nil {
			*omhttp = abs
		}
	}
	var rt router
	// The receiver only finds each event's sequence number in the raw body:
	// it shares the machine's CPUs with the shipper, and full JSON parsing
	// would cost it more than some shippers spend (JSON validity is what
	// the integration tests check).
	onBody := func(body []byte, at time.Time) int {
		return scanSeqs(body, func(seq int) { rt.arrive(seq, at) })
	}
	recv, err := hecreceiver.Start(hecreceiver.Config{Token: token, OnBody: onBody})
	if err != nil {
		fail(err.Error())
	}
	defer recv.Close()
	// The HTTPS twin, with a self-signed certificate the shippers trust
	// through their CA file option (verification on, as in production).
	tlsConf, caPEM, err := hecreceiver.SelfSigned()
	if err != nil {
		fail(err.Error())
	}
	recvs, err := hecreceiver.Start(hecreceiver.Config{Token: token, OnBody: onBody, TLS: tlsConf})
	if err != nil {
		fail(err.Error())
	}
	defer recvs.Close()
	recvAck, err := hecreceiver.Start(hecreceiver.Config{Token: token, OnBody: onBody, RequireAck: true})
	if err != nil {
		fail(err.Error())
	}
	defer recvAck.Close()
	caFile := filepath.Join(scratch, "hec-ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		fail(err.Error())
	}

	if *rounds < 1 {
		fail("-rounds must be at least 1")
	}
	var chosen []shipper
	candidates := slices.Clone(shippers)
	if *baseline != "" {
		candidates = append(candidates, baselineShipper(*baseline))
	}
	var ds []time.Duration
	for _, v := range strings.Split(*delays, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			fail(fmt.Sprintf("-delays: %q is not a duration like 50ms", v))
		}
		ds = append(ds, d)
	}
	candidates = append(candidates, distanceShippers(ds)...)
	if *baseline != "" {
		for _, d := range ds {
			candidates = append(candidates, baselineFarShipper(*baseline, d))
		}
	}
	if *acks {
		candidates = append(candidates, ackShippers(ds, *baseline)...)
	}
	if *capacity {
		candidates = append(candidates, capacityShippers()...)
	}
	for _, s := range candidates {
		if *only == "" || slices.Contains(strings.Split(*only, ","), s.short) {
			chosen = append(chosen, s)
		}
	}
	fmt.Printf("omsplunkgo benchmark: %d messages (%s, %d connections) per throughput run, %d rounds; %d at %d/s for latency; %d CPUs\n",
		*n, *format, *conns, *rounds, *latencyN, *rate, cpus())
	// Rounds go over every configuration in turn, so that a noisy spell of
	// this shared machine hits all of them alike; each configuration's
	// shipper starts afresh every round, and the last round also measures
	// latency.
	all := make([][]result, len(chosen))
	for k := range *rounds {
		fmt.Printf("round %d of %d\n", k+1, *rounds)
		for i, s := range chosen {
			fmt.Printf("  %-36s ", s.name)
			e := &env{port: freePort(), hecURL: recv.URL(), hecsURL: recvs.URL(), hecAckURL: recvAck.URL(), caFile: caFile, omhttp: *omhttp,
				token: token, build: build, root: root, sngRoot: *sngRoot, format: f,
				hecRequests: func() int64 { return recv.Stats().Requests + recvs.Stats().Requests + recvAck.Stats().Requests },
				hecFailed:   func() int64 { return recv.Stats().Failed + recvs.Stats().Failed + recvAck.Stats().Failed },
				setFaults: func(f hecreceiver.Faults) {
					recv.SetFaults(f)
					recvs.SetFaults(f)
					recvAck.SetFaults(f)
				}}
			e.dir = filepath.Join(scratch, fmt.Sprintf("%s-%d", s.short, k))
			os.MkdirAll(e.dir, 0o755)
			e.outFile = filepath.Join(e.dir, "out.fifo")
			latency := k == *rounds-1 && s.delay == 0 && s.faults == nil
			c := *conns
			if s.conns > 0 {
				c = s.conns
			}
			msgs := *n
			if s.delay > 0 {
				msgs = *distanceN
			}
			if s.faults != nil {
				msgs = *capacityN
			}
			r := run(s, e, &rt, f, msgs, *latencyN, *rate, c, latency)
			all[i] = append(all[i], r)
			switch {
			case r.Error != "":
				fmt.Printf("FAILED: %s\n", r.Error)
			case latency:
				fmt.Printf("%9.0f msgs/s  %6.2f CPU s/M (harness %4.2f)  %6.1f MiB  p99 %7.1f ms\n",
					r.MsgsPerSec, r.CPUPerMillion, r.HarnessCPUPerMillion, r.PeakRSSMiB, r.P99ms)
			default:
				fmt.Printf("%9.0f msgs/s  %6.2f CPU s/M (harness %4.2f)  %6.1f MiB\n",
					r.MsgsPerSec, r.CPUPerMillion, r.HarnessCPUPerMillion, r.PeakRSSMiB)
			}
		}
	}
	var results []result
	for _, rs := range all {
		results = append(results, combine(rs))
	}
	fmt.Println()
	printTable(os.Stdout, results)
	printTargets(os.Stdout, results)
	if err := write(*out, results); err != nil {
		fail(err.Error())
	}
	fmt.Printf("\nraw numbers: %s/results.json, %s/results.csv; plots: %s/*.png\n", *out, *out, *out)
}

// combine makes one configuration's result from its rounds: medians of
// throughput, CPU and request size, the largest peak RSS, the latency of
// the round that measured it, every duplicate, and the first error.
func combine(rs []result) result {
	last := rs[len(rs)-1]
	r := result{Name: last.Name, Short: last.Short, Messages: last.Messages, Rate: last.Rate,
		P50ms: last.P50ms, P99ms: last.P99ms, Maxms: last.Maxms, DelayMs: last.DelayMs}
	var tput, cpu, harness, perReq, secs, busy []float64
	for _, x := range rs {
		r.Duplicates += x.Duplicates
		r.PeakRSSMiB = max(r.PeakRSSMiB, x.PeakRSSMiB)
		if x.Error != "" && r.Error == "" {
			r.Error = x.Error
		}
		tput, cpu, harness = append(tput, x.MsgsPerSec), append(cpu, x.CPUPerMillion), append(harness, x.HarnessCPUPerMillion)
		perReq, secs = append(perReq, x.EventsPerRequest), append(secs, x.Seconds)
		busy = append(busy, x.BusyShare)
		r.Rounds = append(r.Rounds, round{x.MsgsPerSec, x.CPUPerMillion, x.HarnessCPUPerMillion})
	}
	r.MsgsPerSec, r.CPUPerMillion, r.HarnessCPUPerMillion = median(tput), median(cpu), median(harness)
	r.EventsPerRequest, r.Seconds, r.BusyShare = median(perReq), median(secs), median(busy)
	return r
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// run measures one configuration: warm-up, throughput, and with latency
// the latency run.
func run(s shipper, e *env, rt *router, f loadgen.Format, n, latencyN, rate, conns int, latency bool) (r result) {
	r = result{Name: s.name, Short: s.short, Messages: n, Rate: rate, DelayMs: s.delay.Milliseconds()}
	switch {
	case s.faults != nil:
		e.setFaults(*s.faults)
		r.DelayMs = s.faults.Delay.Milliseconds()
	case s.ack:
		e.setFaults(hecreceiver.Faults{Delay: s.delay, AckDelay: ackDelay})
	default:
		e.setFaults(hecreceiver.Faults{Delay: s.delay})
	}
	defer e.setFaults(hecreceiver.Faults{})
	p, err := s.start(e)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer func() {
		if err := p.stop(); err != nil && r.Error == "" {
			r.Error = err.Error()
		}
		if r.Error != "" {
			r.Error += "\n" + tail(p.logs(), 1500)
		}
	}()
	stopTail := make(chan struct{})
	defer close(stopTail)
	if s.toFile {
		go tailFIFO(e.outFile, rt, stopTail)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", e.port)

	// Warm-up: connections open, helpers started, caches warm.
	w := newTracker(seqWarmup, warmupCount)
	rt.set(w)
	if _, err := loadgen.Send(loadgen.Options{Addr: addr, Format: f, First: seqWarmup, Count: warmupCount, Timeout: time.Minute}); err != nil {
		r.Error = "warm-up: " + err.Error()
		return r
	}
	if !w.wait(time.Minute) {
		r.Error = fmt.Sprintf("warm-up: %d of %d arrived", w.count.Load(), warmupCount)
		return r
	}

	// Throughput: first message sent -> N-th event at the receiver.
	t := newTracker(seqThroughput, n)
	rt.set(t)
	var before usage
	var harnessBefore float64
	var requestsBefore, failedBefore int64
	limit := 2*time.Minute + time.Duration(n/1000)*time.Second
	sent, err := loadgen.Send(loadgen.Options{Addr: addr, Format: f, First: seqThroughput, Count: n, Timeout: limit, Conns: conns,
		Rendered: func() {
			before, harnessBefore, requestsBefore, failedBefore = sample(p.pid), ownCPUSeconds(), e.hecRequests(), e.hecFailed()
		}})
	if err != nil {
		r.Error = "sending: " + err.Error()
		return r
	}
	start := sent.Started
	if !t.wait(limit) {
		r.Error = fmt.Sprintf("throughput: %d of %d arrived within %v", t.count.Load(), n, limit)
		return r
	}
	after, harnessAfter := sample(p.pid), ownCPUSeconds()
	if reqs := e.hecRequests() - requestsBefore; reqs > 0 && !s.toFile {
		r.EventsPerRequest = float64(n) / float64(reqs)
		r.BusyShare = float64(e.hecFailed()-failedBefore) / float64(reqs)
	}
	r.Seconds = float64(t.doneAt.Load()-start.UnixNano()) / 1e9
	r.MsgsPerSec = float64(n) / r.Seconds
	r.CPUPerMillion = after.cpuSince(before) / float64(n) * 1e6
	r.HarnessCPUPerMillion = (harnessAfter - harnessBefore) / float64(n) * 1e6

	if !latency {
		time.Sleep(time.Second) // late duplicates
		rt.set(nil)
		return finish(r, p.pid, t.dups.Load()+w.dups.Load())
	}

	// Latency at a fixed moderate rate.
	l := newTracker(seqLatency, latencyN)
	sentAt := make([]int64, latencyN)
	rt.set(l)
	if _, err := loadgen.Send(loadgen.Options{Addr: addr, Format: f, First: seqLatency, Count: latencyN, Rate: rate,
		Timeout: limit, Sent: func(i int, at time.Time) { sentAt[i-seqLatency] = at.UnixNano() }}); err != nil {
		r.Error = "latency run: " + err.Error()
		return r
	}
	if !l.wait(limit) {
		r.Error = fmt.Sprintf("latency run: %d of %d arrived", l.count.Load(), latencyN)
		return r
	}
	lat := make([]float64, latencyN)
	for i := range lat {
		lat[i] = float64(l.arrived[i].Load()-sentAt[i]) / 1e6
	}
	slices.Sort(lat)
	r.P50ms, r.P99ms, r.Maxms = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]

	time.Sleep(time.Second) // late duplicates
	rt.set(nil)
	return finish(r, p.pid, t.dups.Load()+l.dups.Load()+w.dups.Load())
}

// finish records the shipper's peak RSS and fails a run that delivered
// anything twice.
func finish(r result, pid int, dups int64) result {
	r.Duplicates = dups
	r.PeakRSSMiB = float64(sample(pid).peakRSS()) / (1 << 20)
	if r.Duplicates > 0 {
		r.Error = fmt.Sprintf("%d duplicate events: a benchmark must deliver exactly N", r.Duplicates)
	}
	return r
}

func names() string {
	var s []string
	for _, sh := range shippers {
		s = append(s, sh.short)
	}
	s = append(s, "omsplunkgo-d<ms>", "omhttp-queue-d<ms>", "syslog-ng-tz-d<ms>")
	return strings.Join(s, ",")
}

func freePort() int {
	p, err := rsyslogtest.FreePort()
	if err != nil {
		fail(err.Error())
	}
	return p
}

func dialTCP(port int) (net.Conn, error) {
	return net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
}

// shmOrTmp keeps scratch files (the ceiling's output) in memory when it can.
func shmOrTmp() string {
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

func cpus() int {
	b, _ := os.ReadFile("/proc/cpuinfo")
	return strings.Count(string(b), "processor\t:")
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "bench:", msg)
	os.Exit(1)
}

func write(dir string, results []result) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(results, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "results.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := writeCSV(filepath.Join(dir, "results.csv"), results); err != nil {
		return err
	}
	return plot(dir, results)
}
