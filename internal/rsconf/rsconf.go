// SPDX-License-Identifier: Apache-2.0

// Package rsconf reads what `omsplunkgo check` needs of an rsyslog
// configuration as `rsyslogd -N1 -o` writes it (includes expanded):
// templates, lookup tables and the variables `set` assigns, so that the
// values an index or sourcetype template can render are known where they
// can be (a constant, a variable set to literals, a lookup table), and
// why not where they cannot.
package rsconf

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strings"
)

// Conf is the parts of a configuration that decide what a template renders.
type Conf struct {
	templates map[string]template
	tables    map[string]string   // lookup table name -> file
	sets      map[string][]string // variable (lower case) -> each right-hand side, as tokens joined by spaces
}

// template is a template as pieces: literal text, or a property.
type template struct {
	pieces []piece
	odd    string // why it cannot be read, "" when it can
}

type piece struct {
	text     string // literal
	property string // property name ("" for a literal)
	options  string // property options (after the first ':'), "" for none
}

// Parse reads a configuration's text.
func Parse(text string) *Conf {
	c := &Conf{templates: map[string]template{}, tables: map[string]string{}, sets: map[string][]string{}}
	for _, m := range legacyTemplate.FindAllStringSubmatch(text, -1) {
		c.templates[strings.ToLower(m[1])] = stringTemplate(unescape(m[2]))
	}
	toks := lex(text)
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.str {
			continue
		}
		switch strings.ToLower(t.text) {
		case "template":
			params, next := paramsAt(toks, i+1)
			if params == nil {
				continue
			}
			name := strings.ToLower(params["name"])
			switch strings.ToLower(params["type"]) {
			case "string":
				c.templates[name] = stringTemplate(params["string"])
			case "list":
				tpl, end := listTemplate(toks, next)
				c.templates[name], next = tpl, end
			default:
				c.templates[name] = template{odd: fmt.Sprintf("a template of type %q", params["type"])}
			}
			i = next - 1
		case "lookup_table":
			if params, next := paramsAt(toks, i+1); params != nil {
				c.tables[strings.ToLower(params["name"])] = params["file"]
				i = next - 1
			}
		case "set":
			if i+2 < len(toks) && toks[i+2].text == "=" && !toks[i+2].str {
				name := strings.ToLower(toks[i+1].text)
				var rhs []string
				j := i + 3
				for ; j < len(toks) && !(toks[j].text == ";" && !toks[j].str); j++ {
					rhs = append(rhs, toks[j].quoted())
				}
				c.sets[name] = append(c.sets[name], strings.Join(rhs, " "))
				i = j
			}
		}
	}
	return c
}

// legacyTemplate is `$template name,"string"` (the legacy syntax).
var legacyTemplate = regexp.MustCompile(`(?m)^\s*\$template\s+([^,\s]+)\s*,\s*"((?:[^"\\]|\\.)*)"`)

// Values is what a template can render.
type Values struct {
	List []string // sorted, without repeats
	From string   // where they come from, for a reader
	// Unknown says why not every value can be known ("" when List is all).
	Unknown string
}

// maxValues bounds an enumeration: a lookup table of thousands of values
// is still listed, a product of several beyond this is not.
const maxValues = 10000

// Values enumerates what template name can render.
func (c *Conf) Values(name string) Values {
	tpl, ok := c.templates[strings.ToLower(name)]
	switch {
	case !ok:
		return Values{Unknown: fmt.Sprintf("template %q is not in the configuration (a built-in one?)", name)}
	case tpl.odd != "":
		return Values{Unknown: fmt.Sprintf("template %q is %s", name, tpl.odd)}
	}
	out := []string{""}
	var from []string
	for _, p := range tpl.pieces {
		if p.property == "" {
			for i := range out {
				out[i] += p.text
			}
			continue
		}
		vals, origin, why := c.property(p)
		if why != "" {
			return Values{Unknown: fmt.Sprintf("template %q renders %s: %s", name, p.property, why)}
		}
		from = append(from, origin)
		if len(out)*len(vals) > maxValues {
			return Values{Unknown: fmt.Sprintf("template %q can render more than %d values", name, maxValues)}
		}
		var next []string
		for _, o := range out {
			for _, v := range vals {
				next = append(next, o+v)
			}
		}
		out = next
	}
	v := Values{List: dedupe(out), From: strings.Join(from, "; ")}
	if v.From == "" {
		v.From = fmt.Sprintf("template %q is constant", name)
	}
	return v
}

// property enumerates a property's values: a variable's, where every
// `set` of it assigns a literal or a lookup; origin says from where.
func (c *Conf) property(p piece) (vals []string, origin, why string) {
	name := strings.ToLower(p.property)
	if !strings.HasPrefix(name, "$.") && !strings.HasPrefix(name, "$!") && !strings.HasPrefix(name, "$/") {
		return nil, "", "a property of the message, known only when messages come"
	}
	if strings.Trim(p.options, ":") != "" {
		return nil, "", fmt.Sprintf("with options %q, which this check does not apply", p.options)
	}
	rhss := c.sets[name]
	if len(rhss) == 0 {
		return nil, "", "a variable no `set` in the configuration assigns"
	}
	var tables []string
	literals := 0
	for _, rhs := range rhss {
		if s, ok := literal(rhs); ok {
			vals = append(vals, s)
			literals++
			continue
		}
		table, ok := lookupCall(rhs)
		if !ok {
			return nil, "", fmt.Sprintf("set to `%s`", rhs)
		}
		file, ok := c.tables[strings.ToLower(table)]
		if !ok {
			return nil, "", fmt.Sprintf("a lookup in table %q, which the configuration does not define", table)
		}
		tv, err := tableValues(file)
		if err != nil {
			return nil, "", fmt.Sprintf("a lookup in table %q: %v", table, err)
		}
		vals = append(vals, tv...)
		tables = append(tables, fmt.Sprintf("lookup table %q (%s)", table, file))
	}
	parts := tables
	if literals > 0 {
		parts = append(parts, fmt.Sprintf("%d literal set %s", literals, p.property))
	}
	return vals, strings.Join(parts, ", "), ""
}

// literal reads a right-hand side that is one string.
func literal(rhs string) (string, bool) {
	var s string
	if strings.HasPrefix(rhs, `"`) && json.Unmarshal([]byte(rhs), &s) == nil {
		return s, true
	}
	return "", false
}

// lookupCall reads `lookup ( "table" , ... )`.
var lookupRE = regexp.MustCompile(`^(?i:lookup) \( ("(?:[^"\\]|\\.)*") ,`)

func lookupCall(rhs string) (string, bool) {
	m := lookupRE.FindStringSubmatch(rhs)
	if m == nil {
		return "", false
	}
	return literal(m[1])
}

// tableValues are a lookup table's values and its nomatch.
func tableValues(file string) ([]string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var t struct {
		Nomatch *string `json:"nomatch"`
		Table   []struct {
			Value string `json:"value"`
		} `json:"table"`
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("%s: %v", file, err)
	}
	var out []string
	for _, e := range t.Table {
		out = append(out, e.Value)
	}
	if t.Nomatch != nil {
		out = append(out, *t.Nomatch)
	} else {
		out = append(out, "") // no match renders empty
	}
	return out, nil
}

func dedupe(in []string) []string {
	sort.Strings(in)
	var out []string
	for i, s := range in {
		if i == 0 || s != in[i-1] {
			out = append(out, s)
		}
	}
	return out
}

// stringTemplate splits a string template into pieces.
func stringTemplate(s string) template {
	var t template
	for len(s) > 0 {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			t.pieces = append(t.pieces, piece{text: s})
			break
		}
		if i > 0 {
			t.pieces = append(t.pieces, piece{text: s[:i]})
		}
		j := strings.IndexByte(s[i+1:], '%')
		if j < 0 {
			return template{odd: "a string template with an unclosed %"}
		}
		name, opts, _ := strings.Cut(s[i+1:i+1+j], ":")
		t.pieces = append(t.pieces, piece{property: name, options: opts})
		s = s[i+2+j:]
	}
	return t
}

// listTemplate reads a list template's `{ constant(...) property(...) }`
// at toks[i]; it returns the index after it.
func listTemplate(toks []token, i int) (template, int) {
	if i >= len(toks) || toks[i].text != "{" || toks[i].str {
		return template{odd: "a list template without its { }"}, i
	}
	var t template
	for i++; i < len(toks) && !(toks[i].text == "}" && !toks[i].str); {
		kind := strings.ToLower(toks[i].text)
		params, next := paramsAt(toks, i+1)
		if params == nil {
			return template{odd: "a list template this check cannot read"}, i + 1
		}
		switch kind {
		case "constant":
			t.pieces = append(t.pieces, piece{text: params["value"]})
		case "property":
			opts := ""
			for k, v := range params {
				if k != "name" {
					opts += k + "=" + v + " "
				}
			}
			t.pieces = append(t.pieces, piece{property: params["name"], options: strings.TrimSpace(opts)})
		default:
			t.odd = fmt.Sprintf("a list template with %q", toks[i].text)
		}
		i = next
	}
	return t, i + 1
}

// paramsAt reads `( name="value" ... )` at toks[i]: the parameters (names
// in lower case) and the index after the ")"; nil when there is none.
func paramsAt(toks []token, i int) (map[string]string, int) {
	if i >= len(toks) || toks[i].text != "(" || toks[i].str {
		return nil, i
	}
	params := map[string]string{}
	for i++; i+2 < len(toks) && !(toks[i].text == ")" && !toks[i].str); i++ {
		if toks[i+1].text == "=" && !toks[i+1].str {
			params[strings.ToLower(toks[i].text)] = toks[i+2].text
			i += 2
		}
	}
	return params, i + 1
}
