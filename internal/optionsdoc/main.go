// SPDX-License-Identifier: Apache-2.0

// Command optionsdoc keeps the module's parameters declared once: it reads
// cshim/options.h, renders the README's configuration reference tables
// from it, and checks that the option names the Go side parses
// (hec/config.go, the Opt* constants) are exactly those the shim hands to
// Go, and that the Go side takes each number at the bounds options.h
// gives and refuses it past them, with the defaults options.h states.
// `make lint` runs it with -check; `make options-doc` with -write.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec"
)

// param is one X(...) entry of options.h.
type param struct {
	name, typ, where string
	min, max         int64
	deflt, meaning   string
}

const (
	beginMark = "<!-- options: generated from cshim/options.h by `make options-doc`; edit that file, not this table -->"
	endMark   = "<!-- options: end -->"
)

// fromShim are options the shim adds for Go, not parameters of their own.
var fromShim = []string{"action.id"}

func main() {
	root := flag.String("root", ".", "the repository")
	check := flag.Bool("check", false, "fail when README.md or hec/config.go disagree with cshim/options.h")
	write := flag.Bool("write", false, "rewrite README.md's configuration reference from cshim/options.h")
	flag.Parse()
	if *check == *write {
		fail("give -check or -write")
	}
	header, err := os.ReadFile(*root + "/cshim/options.h")
	if err != nil {
		fail(err.Error())
	}
	module, action, err := parseOptions(string(header))
	if err != nil {
		fail("cshim/options.h: " + err.Error())
	}
	readme, err := os.ReadFile(*root + "/README.md")
	if err != nil {
		fail(err.Error())
	}
	updated, err := replaceBlock(readme, render(module, action))
	if err != nil {
		fail("README.md: " + err.Error())
	}
	if *write {
		if err := os.WriteFile(*root+"/README.md", updated, 0o644); err != nil {
			fail(err.Error())
		}
		return
	}
	problems := 0
	if !bytes.Equal(updated, readme) {
		fmt.Fprintln(os.Stderr, "optionsdoc: README.md's configuration reference differs from cshim/options.h; run `make options-doc`")
		problems++
	}
	goNames, err := goOptionNames(*root + "/hec/config.go")
	if err != nil {
		fail(err.Error())
	}
	want := slices.Clone(fromShim)
	for _, p := range action {
		if p.where == "GO" || p.where == "RSYSLOG_GO" {
			want = append(want, p.name)
		}
	}
	for _, n := range want {
		if !slices.Contains(goNames, n) {
			fmt.Fprintf(os.Stderr, "optionsdoc: the shim hands %q to Go, but hec/config.go has no Opt constant for it\n", n)
			problems++
		}
	}
	for _, n := range goNames {
		if !slices.Contains(want, n) {
			fmt.Fprintf(os.Stderr, "optionsdoc: hec/config.go knows option %q, which cshim/options.h does not hand to Go\n", n)
			problems++
		}
	}
	for _, msg := range checkRanges(action) {
		fmt.Fprintln(os.Stderr, "optionsdoc: "+msg)
		problems++
	}
	if problems > 0 {
		os.Exit(1)
	}
}

// checkRanges holds the Go side's checks and defaults against options.h,
// from the outside: each number the shim checks must be taken at its
// bounds and refused past them by hec.ParseOptions and Validate, and
// each default options.h states must give the Config the Go side makes
// without the option.
func checkRanges(ps []param) []string {
	base := map[string]string{hec.OptServer: "http://127.0.0.1:8088", hec.OptToken: "t"}
	parse := func(name, v string) (hec.Config, error) {
		m := maps.Clone(base)
		m[name] = v
		c, err := hec.ParseOptions(m)
		if err == nil {
			err = c.Validate()
		}
		return c, err
	}
	plain, err := hec.ParseOptions(base)
	if err != nil {
		return []string{"hec.ParseOptions refuses a server and a token: " + err.Error()}
	}
	var out []string
	for _, p := range ps {
		if p.where != "GO" {
			continue
		}
		numeric := p.typ == "eCmdHdlrInt" || p.typ == "eCmdHdlrSize" || p.typ == "eCmdHdlrNonNegInt"
		if numeric && p.max > p.min {
			for _, v := range []struct {
				n  int64
				ok bool
			}{{p.min - 1, false}, {p.min, true}, {p.max, true}, {p.max + 1, false}} {
				if _, err := parse(p.name, strconv.FormatInt(v.n, 10)); (err == nil) != v.ok {
					out = append(out, fmt.Sprintf("%s=%d: cshim/options.h takes %d..%d, the Go side says %v", p.name, v.n,
						p.min, p.max, err))
				}
			}
		}
		if v, ok := literalDefault(p.deflt); ok {
			c, err := parse(p.name, v)
			if err != nil || !reflect.DeepEqual(c, plain) {
				out = append(out, fmt.Sprintf("%s: cshim/options.h says its default is %q, which is not the Go side's (%v)",
					p.name, p.deflt, err))
			}
		}
	}
	return out
}

// literalDefault reads a default options.h states as a value ("500",
// "10000 ms", "64m", "`off`"); false for a description ("token's
// default", "none").
func literalDefault(d string) (string, bool) {
	d = strings.TrimSuffix(d, " ms")
	if w, ok := strings.CutPrefix(d, "`"); ok && strings.HasSuffix(w, "`") && !strings.ContainsAny(w, " <") {
		return strings.TrimSuffix(w, "`"), true
	}
	if n, ok := strings.CutSuffix(d, "m"); ok {
		if x, err := strconv.ParseInt(n, 10, 64); err == nil {
			return strconv.FormatInt(x<<20, 10), true
		}
	}
	if _, err := strconv.ParseInt(d, 10, 64); err == nil {
		return d, true
	}
	return "", false
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "optionsdoc:", msg)
	os.Exit(2)
}

var entryRE = regexp.MustCompile(`X\(\s*("(?:[^"\\]|\\.)*")\s*,\s*(\w+)\s*,\s*(\w+)\s*,\s*(-?\d+)\s*,\s*(-?\d+)\s*,\s*(\w+)\s*,\s*("(?:[^"\\]|\\.)*")\s*,\s*("(?:[^"\\]|\\.)*")\s*\)`)

// parseOptions reads the module and action lists of options.h.
func parseOptions(h string) (module, action []param, err error) {
	h = strings.ReplaceAll(h, "\\\n", " ")
	split := strings.Index(h, "#define OMSG_ACTION_PARAMS")
	if split < 0 || !strings.Contains(h[:split], "#define OMSG_MODULE_PARAMS") {
		return nil, nil, fmt.Errorf("no OMSG_MODULE_PARAMS followed by OMSG_ACTION_PARAMS")
	}
	for part, dst := range map[string]*[]param{h[:split]: &module, h[split:]: &action} {
		for _, m := range entryRE.FindAllStringSubmatch(part, -1) {
			p := param{typ: m[2], where: m[6]}
			for i, s := range map[int]*string{1: &p.name, 7: &p.deflt, 8: &p.meaning} {
				if *s, err = strconv.Unquote(m[i]); err != nil {
					return nil, nil, fmt.Errorf("%s: %v", m[0][:min(len(m[0]), 60)], err)
				}
			}
			p.min, _ = strconv.ParseInt(m[4], 10, 64)
			p.max, _ = strconv.ParseInt(m[5], 10, 64)
			*dst = append(*dst, p)
		}
	}
	// Each X( must have been read: a malformed entry must not vanish.
	if n := strings.Count(h, "X(\""); n != len(module)+len(action) {
		return nil, nil, fmt.Errorf("read %d of %d X(...) entries; one is malformed", len(module)+len(action), n)
	}
	// The map above has no order; the lists keep the header's.
	return module, action, nil
}

// render is the generated block: the module's and the action's tables.
func render(module, action []param) []byte {
	var b bytes.Buffer
	b.WriteString(beginMark + "\n\n")
	b.WriteString("Module parameters, `module(load=\"omsplunkgo\" …)`:\n\n")
	table(&b, module)
	b.WriteString("\nAction parameters, `action(type=\"omsplunkgo\" …)`; `rsyslogd -N1` checks\neach and names the parameter in its error:\n\n")
	table(&b, action)
	b.WriteString("\n" + endMark)
	return b.Bytes()
}

func table(b *bytes.Buffer, ps []param) {
	b.WriteString("| parameter | default | meaning |\n|---|---|---|\n")
	for _, p := range ps {
		if strings.HasPrefix(p.where, "RSYSLOG") {
			continue // rsyslog's own: described in the text after the table
		}
		meaning := p.meaning
		if p.min <= p.max {
			meaning += fmt.Sprintf(" (%s..%s)", number(p.typ, p.min), number(p.typ, p.max))
		}
		fmt.Fprintf(b, "| `%s` | %s | %s |\n", p.name, p.deflt, meaning)
	}
}

// number writes a size with rsyslog's suffixes where it divides evenly.
func number(typ string, n int64) string {
	if typ == "eCmdHdlrSize" && n > 0 {
		for _, u := range []struct {
			s string
			v int64
		}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}} {
			if n%u.v == 0 {
				return strconv.FormatInt(n/u.v, 10) + u.s
			}
		}
	}
	return strconv.FormatInt(n, 10)
}

// replaceBlock puts block between the markers of readme.
func replaceBlock(readme, block []byte) ([]byte, error) {
	i := bytes.Index(readme, []byte(beginMark))
	j := bytes.Index(readme, []byte(endMark))
	if i < 0 || j < i {
		return nil, fmt.Errorf("no generated block (%q ... %q)", beginMark, endMark)
	}
	out := append([]byte(nil), readme[:i]...)
	out = append(out, block...)
	return append(out, readme[j+len(endMark):]...), nil
}

// goOptionNames are the values of the Opt* constants of hec/config.go.
func goOptionNames(path string) ([]string, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, s := range g.Specs {
			vs := s.(*ast.ValueSpec)
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Opt") || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					v, _ := strconv.Unquote(lit.Value)
					names = append(names, v)
				}
			}
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s: no Opt* constants found", path)
	}
	return names, nil
}
