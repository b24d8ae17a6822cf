// SPDX-License-Identifier: Apache-2.0

// Command countersdoc keeps the impstats counters declared once: the Go
// side's hec.CounterNames, in Counter order, is the list; the shim's
// enum omsg_counter (cshim/omsplunkgo_plugin.h) must name them in the same
// order (OMSG_CTR_ and the name in capitals, dots as underscores), its
// name table (cshim/stats.c) must give each the same name, and the
// README's counter table must have a row for each and for no other.
// `make lint` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

func main() {
	root := flag.String("root", ".", "the repository")
	flag.Parse()
	var problems []string
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	read := func(path string) string {
		b, err := os.ReadFile(*root + "/" + path)
		if err != nil {
			fail(err.Error())
		}
		return string(b)
	}
	want := hec.CounterNames[:]
	enumName := func(name string) string {
		return "OMSG_CTR_" + strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
	}

	// The enum, in order, up to OMSG_NUM_COUNTERS.
	header := read("cshim/omsplunkgo_plugin.h")
	start := strings.Index(header, "enum omsg_counter {")
	end := strings.Index(header[max(start, 0):], "OMSG_NUM_COUNTERS")
	if start < 0 || end < 0 {
		fail("cshim/omsplunkgo_plugin.h: no enum omsg_counter ending in OMSG_NUM_COUNTERS")
	}
	enum := regexp.MustCompile(`\bOMSG_CTR_[A-Z0-9_]+`).FindAllString(header[start:start+end], -1)
	if len(enum) != len(want) {
		bad("cshim/omsplunkgo_plugin.h: enum omsg_counter has %d counters, hec.CounterNames %d", len(enum), len(want))
	}
	for i := range min(len(enum), len(want)) {
		if enum[i] != enumName(want[i]) {
			bad("cshim/omsplunkgo_plugin.h: counter %d is %s, hec.CounterNames says %q (%s)", i, enum[i], want[i], enumName(want[i]))
		}
	}

	// The shim's names.
	names := map[string]string{}
	for _, m := range regexp.MustCompile(`\[(OMSG_CTR_[A-Z0-9_]+)\]\s*=\s*"([^"]*)"`).FindAllStringSubmatch(read("cshim/stats.c"), -1) {
		names[m[1]] = m[2]
	}
	for _, n := range want {
		if got, ok := names[enumName(n)]; !ok || got != n {
			bad("cshim/stats.c: %s is named %q, want %q", enumName(n), got, n)
		}
	}
	if len(names) != len(want) {
		bad("cshim/stats.c: %d names, hec.CounterNames %d", len(names), len(want))
	}

	// The README's table: the rows between its heading and the next
	// blank line; a row may name several counters.
	readme := read("README.md")
	i := strings.Index(readme, "| counter | meaning |")
	if i < 0 {
		fail("README.md: no counter table (| counter | meaning |)")
	}
	table := readme[i:]
	if j := strings.Index(table, "\n\n"); j >= 0 {
		table = table[:j]
	}
	seen := map[string]int{}
	for _, line := range strings.Split(table, "\n")[2:] {
		cell := strings.SplitN(strings.TrimPrefix(line, "|"), "|", 2)[0]
		for _, m := range regexp.MustCompile("`([a-z0-9.]+)`").FindAllStringSubmatch(cell, -1) {
			seen[m[1]]++
		}
	}
	for _, n := range want {
		if seen[n] != 1 {
			bad("README.md: counter %q has %d rows in the counter table, want 1", n, seen[n])
		}
		delete(seen, n)
	}
	for n := range seen {
		bad("README.md: the counter table names %q, which is no counter", n)
	}

	if len(problems) > 0 {
		fail(strings.Join(problems, "\n"))
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "countersdoc: "+msg)
	os.Exit(1)
}
