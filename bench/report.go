// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

func printTable(w io.Writer, rs []result) {
	fmt.Fprintf(w, "| configuration | msgs/s | CPU s per 1M msgs | peak RSS MiB | latency p50 / p99 / max ms at %d/s | events per HEC request | bench harness CPU s per 1M msgs | 503s |\n", rateOf(rs))
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		if r.Error != "" {
			fmt.Fprintf(w, "| %s | failed: %s | | | | | | |\n", r.Name, firstLine(r.Error))
			continue
		}
		perReq := "-"
		if r.EventsPerRequest > 0 {
			perReq = fmt.Sprintf("%.0f", r.EventsPerRequest)
		}
		lat := fmt.Sprintf("%.1f / %.1f / %.1f", r.P50ms, r.P99ms, r.Maxms)
		if r.DelayMs > 0 {
			lat = fmt.Sprintf("- (%d msgs)", r.Messages)
		}
		busy := "-"
		if r.BusyShare > 0 {
			busy = fmt.Sprintf("%.1f%%", 100*r.BusyShare)
		}
		fmt.Fprintf(w, "| %s | %.0f | %.2f | %.1f | %s | %s | %.2f | %s |\n",
			r.Name, r.MsgsPerSec, r.CPUPerMillion, r.PeakRSSMiB, lat, perReq, r.HarnessCPUPerMillion, busy)
	}
}

// printTargets compares against the project's targets (README, Benchmarks).
func printTargets(w io.Writer, rs []result) {
	get := func(short string) *result {
		for i := range rs {
			if rs[i].Short == short && rs[i].Error == "" {
				return &rs[i]
			}
		}
		return nil
	}
	ceil, osg, py, sng, sngTZ := get("ceiling"), get("omsplunkgo"), get("omprog-python"), get("syslog-ng"), get("syslog-ng-tz")
	if osg == nil {
		return
	}
	fmt.Fprintln(w, "\nomsplunkgo (defaults) against the targets, same run:")
	check := func(ok bool, format string, a ...any) {
		mark := "ok  "
		if !ok {
			mark = "MISS"
		}
		fmt.Fprintf(w, "  %s %s\n", mark, fmt.Sprintf(format, a...))
	}
	if ceil != nil {
		x := osg.MsgsPerSec / ceil.MsgsPerSec
		check(x >= 0.9, "throughput %.0f%% of the ceiling (target >= 90%%)%s", 100*x, perRound(osg, ceil, tput, 100, "%.0f%%"))
		y := osg.CPUPerMillion / ceil.CPUPerMillion
		check(y <= 1.15, "rsyslogd CPU per message %.2f x the ceiling's (target <= 1.15)%s", y, perRound(osg, ceil, cpu, 1, "%.2f"))
		d := osg.PeakRSSMiB - ceil.PeakRSSMiB
		check(d <= 64, "peak RSS %.1f MiB above the ceiling's (target <= 64)", d)
	}
	if py != nil {
		x := osg.MsgsPerSec / py.MsgsPerSec
		check(x >= 2, "%.1f x the throughput of omprog + Python (target >= 2)%s", x, perRound(osg, py, tput, 1, "%.1f"))
	}
	if sng != nil {
		x := osg.MsgsPerSec / sng.MsgsPerSec
		check(x >= 4, "%.1f x the throughput of syslog-ng http() (target >= 4)%s", x, perRound(osg, sng, tput, 1, "%.1f"))
	}
	if sngTZ != nil {
		x := osg.MsgsPerSec / sngTZ.MsgsPerSec
		check(x >= 4, "%.1f x the throughput of syslog-ng http() with TZ set (target >= 4)%s", x, perRound(osg, sngTZ, tput, 1, "%.1f"))
	}
	if base := get("omsplunkgo-baseline"); base != nil {
		x, y := osg.MsgsPerSec/base.MsgsPerSec, osg.CPUPerMillion/base.CPUPerMillion
		check(x >= 0.95, "this build: %.2f x the baseline build's throughput (target >= 0.95)%s", x, perRound(osg, base, tput, 1, "%.2f"))
		check(y <= 1.05, "this build: rsyslogd CPU per message %.2f x the baseline build's (target <= 1.05)%s", y, perRound(osg, base, cpu, 1, "%.2f"))
	}
	// Default batch.maxdelay is 0: the target is 0 + 10 ms.
	check(osg.P99ms <= 10, "p99 latency %.1f ms at %d/s (target <= batch.maxdelay 0 + 10 ms)", osg.P99ms, osg.Rate)

	// Against rsyslog's own omhttp, like for like.
	for _, p := range []struct{ label, ours, theirs string }{
		{"HTTP, defaults", "omsplunkgo", "omhttp"},
		{"HTTPS + gzip, defaults", "omsplunkgo-https-gzip", "omhttp-https-gzip"},
		{"HTTP, action queue with 2 workers", "omsplunkgo-queue", "omhttp-queue"},
		{"HTTP, 1 connection", "omsplunkgo-1conn", "omhttp-1conn"},
	} {
		a, b := get(p.ours), get(p.theirs)
		if a == nil || b == nil {
			continue
		}
		x, y := a.MsgsPerSec/b.MsgsPerSec, a.CPUPerMillion/b.CPUPerMillion
		check(x >= 1.2, "%s: %.2f x omhttp's throughput (target >= 1.2)%s", p.label, x, perRound(a, b, tput, 1, "%.2f"))
		check(y <= 0.85, "%s: rsyslogd CPU per message %.2f x omhttp's (target <= 0.85)%s", p.label, y, perRound(a, b, cpu, 1, "%.2f"))
	}
	if tls := get("omsplunkgo-https-gzip"); tls != nil {
		d := tls.CPUPerMillion - osg.CPUPerMillion
		check(d <= 0.5, "HTTPS + gzip costs %.2f CPU s per 1M msgs more than plain HTTP (target <= 0.5)", d)
	}
	if direct, proxied := get("omsplunkgo-https"), get("omsplunkgo-https-proxy"); direct != nil && proxied != nil {
		x := proxied.MsgsPerSec / direct.MsgsPerSec
		check(x >= 0.8, "HTTPS through a proxy: %.2f x the direct HTTPS row's throughput, rsyslogd CPU per message %.2f x (target >= 0.8)%s",
			x, proxied.CPUPerMillion/direct.CPUPerMillion, perRound(proxied, direct, tput, 1, "%.2f"))
	}
	printDistanceTargets(w, get, check)
	printCapacityTargets(get, check)
}

// printCapacityTargets: against an indexer at its capacity the adaptive
// limit settles near the best fixed connections setting, with few 503s.
func printCapacityTargets(get func(string) *result, check func(bool, string, ...any)) {
	for _, k := range []struct{ short, label string }{{"cap503", "503 above 8 at once"}, {"capslow", "slower past 8 at once"}} {
		a := get(k.short + "-adaptive")
		if a == nil {
			continue
		}
		var best *result
		for _, c := range []int{8, 16} {
			if r := get(fmt.Sprintf("%s-c%d", k.short, c)); r != nil && (best == nil || r.MsgsPerSec > best.MsgsPerSec) {
				best = r
			}
		}
		if best == nil {
			continue
		}
		x := a.MsgsPerSec / best.MsgsPerSec
		check(x >= 0.8, "indexer %s: adaptive %.2f x the best fixed setting (%s) (target >= 0.8)", k.label, x, best.Name)
		check(a.BusyShare <= 0.05, "indexer %s: %.1f%% of requests answered 503 (target <= 5%%)", k.label, 100*a.BusyShare)
	}
}

// printDistanceTargets: with HEC far away, the defaults must not depend on
// the distance the way a commit waiting for HEC's answer does.
func printDistanceTargets(w io.Writer, get func(string) *result, check func(bool, string, ...any)) {
	for _, t := range []struct {
		ms   int
		want float64
	}{{50, 150000}, {200, 50000}} {
		if r := get(fmt.Sprintf("omsplunkgo-d%d", t.ms)); r != nil {
			check(r.MsgsPerSec >= t.want, "HEC %d ms away, defaults: %.0f msgs/s (target >= %.0f)", t.ms, r.MsgsPerSec, t.want)
		}
	}
	for _, ms := range []int{10, 50, 200} {
		a, b := get(fmt.Sprintf("omsplunkgo-ack-d%d", ms)), get(fmt.Sprintf("omsplunkgo-d%d", ms))
		if a == nil || b == nil {
			continue
		}
		x := a.MsgsPerSec / b.MsgsPerSec
		if ms == 50 {
			check(x >= 0.9, "HEC 50 ms away, acks 2 s late: %.2f x the throughput without acks (target >= 0.9)%s", x,
				perRound(a, b, tput, 1, "%.2f"))
			check(a.PeakRSSMiB < 200, "HEC 50 ms away, acks 2 s late: peak RSS %.0f MiB (target < 200)", a.PeakRSSMiB)
		} else {
			fmt.Fprintf(w, "  info HEC %d ms away, acks 2 s late: %.2f x the throughput without acks, peak RSS %.0f MiB\n",
				ms, x, a.PeakRSSMiB)
		}
	}
	a, b := get("omsplunkgo-d50"), get("omhttp-queue-d50")
	if a != nil && b != nil {
		x := a.MsgsPerSec / b.MsgsPerSec
		check(x >= 8, "HEC 50 ms away: %.1f x omhttp with an action queue of 2 workers (target >= 8)%s", x, perRound(a, b, tput, 1, "%.1f"))
	}
}

func tput(r round) float64 { return r.MsgsPerSec }
func cpu(r round) float64  { return r.CPUPerMillion }

// perRound lists a/b of each round (the two ran back to back), scaled
// and formatted, when there was more than one round.
func perRound(a, b *result, of func(round) float64, scale float64, format string) string {
	if len(a.Rounds) < 2 || len(a.Rounds) != len(b.Rounds) {
		return ""
	}
	var parts []string
	for i := range a.Rounds {
		parts = append(parts, fmt.Sprintf(format, scale*of(a.Rounds[i])/of(b.Rounds[i])))
	}
	return "; rounds: " + strings.Join(parts, ", ")
}

func rateOf(rs []result) int {
	if len(rs) > 0 {
		return rs[0].Rate
	}
	return 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

func writeCSV(path string, rs []result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	w.Write([]string{"configuration", "messages", "seconds", "msgs_per_sec", "cpu_seconds_per_million",
		"harness_cpu_seconds_per_million", "events_per_request", "peak_rss_mib", "latency_rate", "latency_p50_ms", "latency_p99_ms", "latency_max_ms", "duplicates", "error"})
	ff := func(x float64) string { return strconv.FormatFloat(x, 'f', 3, 64) }
	for _, r := range rs {
		w.Write([]string{r.Name, strconv.Itoa(r.Messages), ff(r.Seconds), ff(r.MsgsPerSec), ff(r.CPUPerMillion),
			ff(r.HarnessCPUPerMillion), ff(r.EventsPerRequest), ff(r.PeakRSSMiB), strconv.Itoa(r.Rate), ff(r.P50ms), ff(r.P99ms), ff(r.Maxms),
			strconv.FormatInt(r.Duplicates, 10), firstLine(r.Error)})
	}
	w.Flush()
	return w.Error()
}

// plot draws the PNGs with gnuplot (Debian's gnuplot-nox).
func plot(dir string, rs []result) error {
	var ok []result
	for _, r := range rs {
		if r.Error == "" {
			ok = append(ok, r)
		}
	}
	if len(ok) == 0 {
		return nil
	}
	var dat strings.Builder
	fmt.Fprintln(&dat, "# name msgs_per_sec cpu_per_million p50 p99 max peak_rss")
	near := 0
	for _, r := range ok {
		if r.DelayMs > 0 {
			continue // distance.png
		}
		near++
		fmt.Fprintf(&dat, "%q %.1f %.3f %.3f %.3f %.3f %.1f\n", r.Short, r.MsgsPerSec, r.CPUPerMillion,
			r.P50ms, r.P99ms, r.Maxms, r.PeakRSSMiB)
	}
	datPath := filepath.Join(dir, "results.dat")
	if err := os.WriteFile(datPath, []byte(dat.String()), 0o644); err != nil {
		return err
	}
	script := fmt.Sprintf(`set terminal pngcairo size 1000,520 font "sans,10"
set datafile separator whitespace
set style data histograms
set style fill solid 0.85 border -1
set boxwidth 0.7
set grid ytics
set xtics rotate by -20 noenhanced
set key noenhanced
set yrange [0:*]

set output "%[1]s/throughput.png"
set title "End-to-end throughput (first message sent to N-th event at HEC), %[2]d messages"
set ylabel "messages per second"
plot "%[3]s" using 2:xtic(1) title "msgs/s" lc rgb "#2b7bba"

set output "%[1]s/cpu.png"
set title "Shipper CPU (whole process tree) per million messages"
set ylabel "CPU seconds"
plot "%[3]s" using 3:xtic(1) title "CPU s / 1M msgs" lc rgb "#d95f02"

set output "%[1]s/latency.png"
set title "Latency from send to arrival at %[4]d msgs/s"
set ylabel "milliseconds (log scale)"
set logscale y
set yrange [0.01:*]
set style histogram clustered gap 1
plot "%[3]s" using 4:xtic(1) title "p50" lc rgb "#1b9e77", "" using 5 title "p99" lc rgb "#7570b3", "" using 6 title "max" lc rgb "#e7298a"
`, dir, ok[0].Messages, datPath, ok[0].Rate)
	if near == 0 {
		// Only rows with HEC far away (-only): distance.png alone.
		script = "set terminal pngcairo size 1000,520 font \"sans,10\"\n"
	}
	if d, err := distancePlot(dir, ok); err != nil {
		return err
	} else {
		script += d
	}
	cmd := exec.Command("gnuplot")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("gnuplot: %v: %s (install gnuplot-nox: scripts/setup-bench.sh)", err, out)
	}
	return nil
}

// distancePlot writes distance.dat (msgs/s per shipper and HEC delay) and
// returns the gnuplot lines of distance.png, throughput against distance;
// "" when no row had a delay.
func distancePlot(dir string, rs []result) (string, error) {
	families := []struct{ prefix, title string }{
		{"omsplunkgo-d", "omsplunkgo, defaults"},
		{"omsplunkgo-ack-d", "omsplunkgo, useack, acks 2 s late"},
		{"omhttp-queue-d", "omhttp, action queue, 2 workers"},
		{"syslog-ng-tz-d", "syslog-ng http(), workers(4)"},
	}
	var delays []int64
	by := map[string]float64{}
	for _, r := range rs {
		if r.DelayMs == 0 {
			continue
		}
		if !slices.Contains(delays, r.DelayMs) {
			delays = append(delays, r.DelayMs)
		}
		by[r.Short] = r.MsgsPerSec
	}
	if len(delays) == 0 {
		return "", nil
	}
	slices.Sort(delays)
	var dat strings.Builder
	fmt.Fprintln(&dat, "# hec_delay_ms then msgs/s of: omsplunkgo omhttp-queue syslog-ng-tz (NaN: not run or failed)")
	for _, d := range delays {
		fmt.Fprintf(&dat, "%d", d)
		for _, f := range families {
			if v, ok := by[fmt.Sprintf("%s%d", f.prefix, d)]; ok {
				fmt.Fprintf(&dat, " %.1f", v)
			} else {
				fmt.Fprint(&dat, " NaN")
			}
		}
		fmt.Fprintln(&dat)
	}
	path := filepath.Join(dir, "distance.dat")
	if err := os.WriteFile(path, []byte(dat.String()), 0o644); err != nil {
		return "", err
	}
	var plots []string
	for i, f := range families {
		plots = append(plots, fmt.Sprintf("%q using 1:%d with linespoints lw 2 pt 7 title %q", path, i+2, f.title))
	}
	return fmt.Sprintf(`
unset logscale
unset style
set output "%s/distance.png"
set title "Throughput against HEC's distance (every answer delayed)"
set xlabel "HEC answer delay, ms"
set ylabel "messages per second (log scale)"
set logscale y
set yrange [*:*]
set xtics autofreq norotate
set key top right
plot %s
`, dir, strings.Join(plots, ", ")), nil
}
