// SPDX-License-Identifier: Apache-2.0

package event

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// A message's own metadata beats the action's fixed values; empty values
// fall back to them; fields go just before the event.
func TestPerMessageMetadataPrecedence(t *testing.T) {
	e := testEncoder(t, func(c *Shape) { c.Index, c.Source, c.Sourcetype = "main", "fixed-src", "syslog" })
	cases := []struct {
		meta Meta
		want string
	}{
		{Meta{}, `{"time":1,"host":"web","source":"fixed-src","sourcetype":"syslog","index":"main","event":"x"}`},
		{Meta{Index: []byte("sec"), Sourcetype: []byte("linux_secure")},
			`{"time":1,"host":"web","source":"fixed-src","sourcetype":"linux_secure","index":"sec","event":"x"}`},
		{Meta{Host: []byte(`h"1`), Source: []byte("s"), Fields: []byte(`{"a":"b"}`)},
			`{"time":1,"host":"h\"1","source":"s","sourcetype":"syslog","index":"main","fields":{"a":"b"},"event":"x"}`},
	}
	for _, c := range cases {
		if got := string(e.AppendWithMeta(nil, []byte("1"), []byte("web"), []byte("x"), &c.meta)); got != c.want {
			t.Errorf("meta %+v:\n got  %s\n want %s", c.meta, got, c.want)
		}
	}
	// A fixed host beats the message's hostname, a host of its own beats both.
	e = testEncoder(t, func(c *Shape) { c.Host = "fixed" })
	meta := Meta{Index: []byte("i")}
	if got := string(e.AppendWithMeta(nil, []byte("1"), []byte("web"), []byte("x"), &meta)); got != `{"time":1,"host":"fixed","sourcetype":"syslog","index":"i","event":"x"}` {
		t.Errorf("fixed host: %s", got)
	}
	meta.Host = []byte("own")
	if got := string(e.AppendWithMeta(nil, []byte("1"), []byte("web"), []byte("x"), &meta)); got != `{"time":1,"host":"own","sourcetype":"syslog","index":"i","event":"x"}` {
		t.Errorf("own host: %s", got)
	}
}

// Indexed fields must be one object of strings or arrays of strings.
func TestValidFields(t *testing.T) {
	good := []string{`{"a":"b"}`, ` { "a" : "b" , "c":["d","e"], "f":[] } `, `{"u":"\u00e9\n日本"}`, "{\n\"x\":\"y\"\n}"}
	empty := []string{`{}`, ` { } `}
	bad := []string{``, `[]`, `"a"`, `{"a":1}`, `{"a":{"b":"c"}}`, `{"a":["b",1]}`, `{"a":"b",}`, `{"a":"b"} x`,
		`{"a":"b"`, `{a:"b"}`, "{\"a\":\"\x01\"}", "{\"a\":\"\xff\"}", `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":null}`,
		`{"a":["b"]`, `{"a":"b"}{}`}
	for _, s := range good {
		if ok, e := ValidFields([]byte(s)); !ok || e {
			t.Errorf("%q: ok %v empty %v, want valid", s, ok, e)
		}
		if !json.Valid([]byte(s)) {
			t.Errorf("test case %q is not JSON", s)
		}
	}
	for _, s := range empty {
		if ok, e := ValidFields([]byte(s)); !ok || !e {
			t.Errorf("%q: ok %v empty %v, want valid and empty", s, ok, e)
		}
	}
	for _, s := range bad {
		if ok, _ := ValidFields([]byte(s)); ok {
			t.Errorf("%q accepted", s)
		}
	}
}

// referenceFields is what encoding/json's tokenizer says of b: one object
// in valid UTF-8 whose every value is a string or an array of strings, and
// whether it has no members.
func referenceFields(b []byte) (ok, empty bool) {
	if !json.Valid(b) || !utf8.Valid(b) {
		return false, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	tok := func() json.Token { t, _ := dec.Token(); return t }
	if tok() != json.Delim('{') {
		return false, false
	}
	members := 0
	for dec.More() {
		tok() // the key
		members++
		switch v := tok().(type) {
		case string:
		case json.Delim:
			if v != '[' {
				return false, false
			}
			for dec.More() {
				if _, isString := tok().(string); !isString {
					return false, false
				}
			}
			tok() // ]
		default:
			return false, false
		}
	}
	return true, members == 0
}

// FuzzValidFields: validFields accepts exactly what encoding/json reads as
// HEC's indexed fields, so that what it accepts can be embedded in the
// request as is and what it refuses is really not fields.
func FuzzValidFields(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":["b","c"]}`, `{}`, `{"a":1}`, ` {"a" : [ ] } `, `{"a":"\u0000"}`,
		`{"a":"b","a":1}`, `{"a":{"b":"c"}}`, `{"a":["b",["c"]]}`, `null`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ok, empty := ValidFields(b)
		wantOK, wantEmpty := referenceFields(b)
		if ok != wantOK || (ok && empty != wantEmpty) {
			t.Fatalf("%q: validFields says ok=%v empty=%v, encoding/json ok=%v empty=%v", b, ok, empty, wantOK, wantEmpty)
		}
	})
}

// A raw line never holds a line break of the message's own: Splunk would
// make it several events.
func TestRawLinesEscapeLineBreaks(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain\n",
		"":                          "-\n",
		"two\nlines":                `two\nlines` + "\n",
		"crlf\r\n<13>Nov 30 forged": `crlf\r\n<13>Nov 30 forged` + "\n",
		"\n":                        `\n` + "\n",
	} {
		got, escaped := AppendLine(nil, []byte(in))
		if string(got) != want || escaped != strings.ContainsAny(in, "\r\n") {
			t.Errorf("%q: got %q (escaped %v), want %q", in, got, escaped, want)
		}
		if bytes.Count(got, []byte("\n")) != 1 || bytes.ContainsRune(got, '\r') {
			t.Errorf("%q gave %q: more than one line", in, got)
		}
	}
}
