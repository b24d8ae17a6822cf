// SPDX-License-Identifier: Apache-2.0

// Package event writes and reads HEC's wire format for events: the JSON
// event object (time, host, source, sourcetype, index, fields, event), its
// strings, indexed fields, the raw endpoint's lines and query, and gzip.
// It knows nothing of senders or rsyslog and never logs.
package event

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"

	jsoniter "github.com/json-iterator/go"
)

// Encoder turns one rendered syslog message into one HEC event object.
//
// It is hand-rolled rather than built on jsoniter's Stream: the event has a
// fixed shape, the per-action fields (source, sourcetype, index, host
// override) are escaped once up front, and the only per-message work left is
// escaping two strings. BenchmarkEncodeEvent/BenchmarkEncodeEventJsoniter in
// event_test.go measure the difference (bench/README.md, "Where the time goes").
type Encoder struct {
	fixedHost    []byte // `"host":"…",` when the host option overrides every event
	tail         []byte // `"source":…,"sourcetype":…,"index":…,"event":`
	fixed        fixedMeta
	templateJSON bool
}

// EmptyEvent replaces an empty event body: HEC rejects a blank "event" with
// code 13 and takes the whole request down with it. "-" is syslog's NILVALUE.
const EmptyEvent = "-"

// Shape is an action's fixed metadata: the values every event gets unless
// it has its own; empty ones are left out. TemplateJSON embeds a body that
// is JSON as it is instead of quoting it.
type Shape struct {
	Index, Source, Sourcetype, Host string
	TemplateJSON                    bool
}

// NewEncoder prepares the per-action parts of every event.
func NewEncoder(c Shape) *Encoder {
	e := &Encoder{templateJSON: c.TemplateJSON, fixed: newFixedMeta(c)}
	if c.Host != "" {
		e.fixedHost = append(e.fixedHost, `"host":`...)
		e.fixedHost = AppendJSONString(e.fixedHost, []byte(c.Host))
		e.fixedHost = append(e.fixedHost, ',')
	}
	field := func(name, v string) {
		if v == "" {
			return
		}
		e.tail = append(e.tail, '"')
		e.tail = append(e.tail, name...)
		e.tail = append(e.tail, `":`...)
		e.tail = AppendJSONString(e.tail, []byte(v))
		e.tail = append(e.tail, ',')
	}
	field("source", c.Source)
	field("sourcetype", c.Sourcetype)
	field("index", c.Index)
	e.tail = append(e.tail, `"event":`...)
	return e
}

// AppendEvent appends one event object to dst. ts is the event time as
// rsyslog renders "unixtime.fraction"; it is left out (HEC then stamps the
// arrival time) unless it is a plain decimal number, so that a broken
// template can never produce invalid JSON. host is ignored when the action
// has a fixed host. body is the event text, or a JSON value when the action
// says template.json="on" and the text parses as JSON.
func (e *Encoder) AppendEvent(dst, ts, host, body []byte) []byte {
	dst = append(dst, '{')
	if isDecimal(ts) {
		dst = append(dst, `"time":`...)
		dst = append(dst, ts...)
		dst = append(dst, ',')
	}
	if e.fixedHost != nil {
		dst = append(dst, e.fixedHost...)
	} else if len(host) > 0 {
		dst = append(dst, `"host":`...)
		dst = AppendJSONString(dst, host)
		dst = append(dst, ',')
	}
	dst = append(dst, e.tail...)
	return e.appendBody(dst, body)
}

// AppendWithMeta is AppendEvent with the event's own metadata where it
// has any.
func (e *Encoder) AppendWithMeta(dst, ts, host, body []byte, meta *Meta) []byte {
	if meta.empty() {
		return e.AppendEvent(dst, ts, host, body)
	}
	return e.appendWithMeta(dst, ts, host, body, meta)
}

// appendBody appends the "event" value and closes the object.
func (e *Encoder) appendBody(dst, body []byte) []byte {
	switch {
	case len(body) == 0:
		dst = append(dst, `"`+EmptyEvent+`"`...)
	case e.templateJSON && embeddable(body):
		dst = append(dst, body...)
	default:
		dst = AppendJSONString(dst, body)
	}
	return append(dst, '}')
}

// embeddable reports whether a template.json body can go into the request
// as it is. encoding/json.Valid, not jsoniter's: jsoniter accepts trailing
// garbage ("0A0"), which would corrupt the whole request. Valid JSON may
// still hold invalid UTF-8 inside strings, and null or "" would be an
// event HEC refuses as missing or blank (codes 12, 13); those go quoted.
func embeddable(body []byte) bool {
	if !json.Valid(body) || !utf8.Valid(body) {
		return false
	}
	v := bytes.Trim(body, " \t\r\n")
	return string(v) != "null" && string(v) != `""`
}

// isDecimal accepts a JSON number of digits with at most one '.', not
// first or last, and no leading zero ("00" is not JSON).
func isDecimal(b []byte) bool {
	if len(b) == 0 || len(b) > 32 || b[0] == '.' || b[len(b)-1] == '.' {
		return false
	}
	if b[0] == '0' && len(b) > 1 && b[1] != '.' {
		return false
	}
	dot := false
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return true
}

// needsEscape marks bytes that cannot be copied into a JSON string as is:
// control characters, quote, backslash, and the start of any non-ASCII
// sequence (checked for valid UTF-8).
var needsEscape = func() (t [256]bool) {
	for i := 0; i < 0x20; i++ {
		t[i] = true
	}
	t['"'], t['\\'] = true, true
	for i := 0x80; i < 0x100; i++ {
		t[i] = true
	}
	return t
}()

const hexDigits = "0123456789abcdef"

// wordNeedsEscape reports whether any of the 8 bytes in x is one that
// needsEscape marks (SWAR: a high bit, a byte below 0x20, '"' or '\\').
func wordNeedsEscape(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	if x&highs != 0 {
		return true
	}
	below := func(x uint64, n uint64) bool { return (x-ones*n)&^x&highs != 0 } // valid for ASCII bytes
	return below(x, 0x20) || below(x^(ones*'"'), 1) || below(x^(ones*'\\'), 1)
}

// AppendJSONString appends s as a quoted JSON string. Every input gives valid
// JSON: control characters (NUL included) are \u-escaped and each byte of an
// invalid UTF-8 sequence becomes U+FFFD, as Splunk itself would show it.
func AppendJSONString(dst, s []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip 8 plain bytes at a time: syslog text is mostly plain ASCII.
		if i+8 <= len(s) && !wordNeedsEscape(binary.LittleEndian.Uint64(s[i:])) {
			i += 8
			continue
		}
		c := s[i]
		if !needsEscape[c] {
			i++
			continue
		}
		if c >= 0x80 {
			r, size := utf8.DecodeRune(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// Meta is a message's own HEC metadata, rendered by rsyslog templates the
// action names (index.template, ...). An empty value means the action's
// fixed value (index, source, sourcetype, host), and when that is unset
// too, HEC's default for the token (host: the message's hostname).
type Meta struct {
	Index, Source, Sourcetype, Host []byte
	// Fields is the rendering of fields.template: a JSON object whose
	// values are strings or arrays of strings, sent as the event's
	// indexed fields. Anything else must be dropped before encoding
	// (ValidFields tells).
	Fields []byte
}

func (m *Meta) empty() bool {
	return len(m.Index) == 0 && len(m.Source) == 0 && len(m.Sourcetype) == 0 && len(m.Host) == 0 &&
		len(m.Fields) == 0
}

// fixedMeta is the action's fixed metadata, each value already a quoted
// JSON string, nil when unset.
type fixedMeta struct {
	host, source, sourcetype, index []byte
}

func newFixedMeta(c Shape) fixedMeta {
	q := func(v string) []byte {
		if v == "" {
			return nil
		}
		return AppendJSONString(nil, []byte(v))
	}
	return fixedMeta{host: q(c.Host), source: q(c.Source), sourcetype: q(c.Sourcetype), index: q(c.Index)}
}

// appendWithMeta is AppendEvent for an event with metadata of its own;
// keys come in the same order, with "fields" just before "event".
func (e *Encoder) appendWithMeta(dst, ts, msgHost, body []byte, meta *Meta) []byte {
	dst = append(dst, '{')
	if isDecimal(ts) {
		dst = append(dst, `"time":`...)
		dst = append(dst, ts...)
		dst = append(dst, ',')
	}
	field := func(name string, own, fixed []byte) {
		switch {
		case len(own) > 0:
			dst = append(dst, name...)
			dst = AppendJSONString(dst, own)
			dst = append(dst, ',')
		case fixed != nil:
			dst = append(dst, name...)
			dst = append(dst, fixed...)
			dst = append(dst, ',')
		}
	}
	host := meta.Host
	if len(host) == 0 && e.fixed.host == nil {
		host = msgHost
	}
	field(`"host":`, host, e.fixed.host)
	field(`"source":`, meta.Source, e.fixed.source)
	field(`"sourcetype":`, meta.Sourcetype, e.fixed.sourcetype)
	field(`"index":`, meta.Index, e.fixed.index)
	if len(meta.Fields) > 0 {
		dst = append(dst, `"fields":`...)
		dst = append(dst, meta.Fields...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"event":`...)
	return e.appendBody(dst, body)
}

// Decode reads an event object back into its metadata and text (a
// non-string event is kept as JSON text).
func Decode(ev []byte) (meta Meta, body []byte) {
	it := jsoniter.ConfigFastest.BorrowIterator(ev)
	defer jsoniter.ConfigFastest.ReturnIterator(it)
	str := func() []byte {
		if it.WhatIsNext() == jsoniter.StringValue {
			return []byte(it.ReadString())
		}
		return append([]byte(nil), it.SkipAndReturnBytes()...)
	}
	// ReadObjectCB: a ReadObject loop would stop at an empty key.
	it.ReadObjectCB(func(it *jsoniter.Iterator, field string) bool {
		switch field {
		case "host":
			meta.Host = str()
		case "source":
			meta.Source = str()
		case "sourcetype":
			meta.Sourcetype = str()
		case "index":
			meta.Index = str()
		case "event":
			body = str()
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	return meta, body
}
