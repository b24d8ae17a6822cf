// SPDX-License-Identifier: Apache-2.0

// Command countersdoc keeps the impstats counters declared once: the Go
// side's hec.CounterNames (each action's) and hec.EPCounterNames (each
// endpoint's), in their constants' order, are the lists; the shim's enums
// (cshim/omsplunkgo_plugin.h) must name them in the same order (the
// prefix and the name in capitals, dots as underscores), its name tables
// (cshim/stats.c) must give each the same name, and the README's tables
// must have a row for each and for no other. `make lint` runs it.
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

// list is one set of counters and where the shim and the README name it.
type list struct {
	what      string   // for messages
	want      []string // the Go side's names, in order
	enum, end string   // the enum's opening, and its count constant
	prefix    string   // of the enum's constants
	heading   string   // of the README's table
}

func main() {
	root := flag.String("root", ".", "the repository")
	flag.Parse()
	read := func(path string) string {
		b, err := os.ReadFile(*root + "/" + path)
		if err != nil {
			fail(err.Error())
		}
		return string(b)
	}
	header, stats, readme := read("cshim/omsplunkgo_plugin.h"), read("cshim/stats.c"), read("README.md")
	var problems []string
	for _, l := range []list{
		{"counter", hec.CounterNames[:], "enum omsg_counter {", "OMSG_NUM_COUNTERS", "OMSG_CTR_", "| counter | meaning |"},
		{"endpoint counter", hec.EPCounterNames[:], "enum omsg_ep_counter {", "OMSG_NUM_EP_COUNTERS", "OMSG_EPC_",
			"| endpoint counter | meaning |"},
	} {
		problems = append(problems, l.check(header, stats, readme)...)
	}
	if len(problems) > 0 {
		fail(strings.Join(problems, "\n"))
	}
}

func (l list) check(header, stats, readme string) (problems []string) {
	bad := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }
	enumName := func(name string) string {
		return l.prefix + strings.ToUpper(strings.ReplaceAll(name, ".", "_"))
	}

	// The enum, in order, up to its count.
	start := strings.Index(header, l.enum)
	end := strings.Index(header[max(start, 0):], l.end)
	if start < 0 || end < 0 {
		fail(fmt.Sprintf("cshim/omsplunkgo_plugin.h: no %s ending in %s", l.enum, l.end))
	}
	enum := regexp.MustCompile(`\b`+l.prefix+`[A-Z0-9_]+`).FindAllString(header[start:start+end], -1)
	if len(enum) != len(l.want) {
		bad("cshim/omsplunkgo_plugin.h: %s has %d counters, the Go side %d", l.enum, len(enum), len(l.want))
	}
	for i := range min(len(enum), len(l.want)) {
		if enum[i] != enumName(l.want[i]) {
			bad("cshim/omsplunkgo_plugin.h: %s %d is %s, the Go side says %q (%s)", l.what, i, enum[i], l.want[i], enumName(l.want[i]))
		}
	}

	// The shim's names.
	names := map[string]string{}
	for _, m := range regexp.MustCompile(`\[(`+l.prefix+`[A-Z0-9_]+)\]\s*=\s*"([^"]*)"`).FindAllStringSubmatch(stats, -1) {
		names[m[1]] = m[2]
	}
	for _, n := range l.want {
		if got, ok := names[enumName(n)]; !ok || got != n {
			bad("cshim/stats.c: %s is named %q, want %q", enumName(n), got, n)
		}
	}
	if len(names) != len(l.want) {
		bad("cshim/stats.c: %d %s names, the Go side %d", len(names), l.what, len(l.want))
	}

	// The README's table: the rows between its heading and the next
	// blank line; a row may name several counters.
	i := strings.Index(readme, l.heading)
	if i < 0 {
		bad("README.md: no %s table (%s)", l.what, l.heading)
		return problems
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
	for _, n := range l.want {
		if seen[n] != 1 {
			bad("README.md: %s %q has %d rows in its table, want 1", l.what, n, seen[n])
		}
		delete(seen, n)
	}
	for n := range seen {
		bad("README.md: the %s table names %q, which is none", l.what, n)
	}
	return problems
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "countersdoc: "+msg)
	os.Exit(1)
}
