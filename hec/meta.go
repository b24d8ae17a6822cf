// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"
)

// Meta is a message's own HEC metadata, rendered by rsyslog templates the
// action names (index.template, ...). An empty value means the action's
// fixed value (index, source, sourcetype, host), and when that is unset
// too, HEC's default for the token (host: the message's hostname).
type Meta struct {
	Index, Source, Sourcetype, Host []byte
	// Fields is the rendering of fields.template: a JSON object whose
	// values are strings or arrays of strings, sent as the event's
	// indexed fields. Anything else is dropped before encoding (checkFields).
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

func newFixedMeta(c *Config) fixedMeta {
	q := func(v string) []byte {
		if v == "" {
			return nil
		}
		return AppendJSONString(nil, []byte(v))
	}
	return fixedMeta{host: q(c.Host), source: q(c.Source), sourcetype: q(c.Sourcetype), index: q(c.Index)}
}

// appendWithMeta is AppendEvent for a message with metadata of its own;
// keys come in the same order, with "fields" just before "event".
func (e *Encoder) appendWithMeta(dst []byte, m *Message) []byte {
	dst = append(dst, '{')
	if isDecimal(m.Time) {
		dst = append(dst, `"time":`...)
		dst = append(dst, m.Time...)
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
	host := m.Meta.Host
	if len(host) == 0 && e.fixed.host == nil {
		host = m.Host
	}
	field(`"host":`, host, e.fixed.host)
	field(`"source":`, m.Meta.Source, e.fixed.source)
	field(`"sourcetype":`, m.Meta.Sourcetype, e.fixed.sourcetype)
	field(`"index":`, m.Meta.Index, e.fixed.index)
	if len(m.Meta.Fields) > 0 {
		dst = append(dst, `"fields":`...)
		dst = append(dst, m.Meta.Fields...)
		dst = append(dst, ',')
	}
	dst = append(dst, `"event":`...)
	return e.appendBody(dst, m.Body)
}

// checkFields drops each fields rendering that HEC would refuse (code 15
// fails the whole request): the event goes without fields, counted, and
// logged at most once a minute.
func (s *Sender) checkFields(msgs []Message) {
	for i := range msgs {
		f := msgs[i].Meta.Fields
		if len(f) == 0 {
			continue
		}
		ok, empty := validFields(f)
		if ok && !empty {
			continue
		}
		msgs[i].Meta.Fields = nil
		if !ok {
			s.stats.add(CtrFieldsInvalid, 1)
			s.badFields.note(s, f)
		}
	}
}

// badFieldsLog rate-limits the log line about invalid fields renderings.
type badFieldsLog struct {
	mu     sync.Mutex
	last   time.Time
	missed int64
}

const badFieldsEvery = time.Minute

func (b *badFieldsLog) note(s *Sender, f []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.last) < badFieldsEvery {
		b.missed++
		return
	}
	more := ""
	if b.missed > 0 {
		more = fmt.Sprintf(" (%d more since the last such line)", b.missed)
	}
	b.last, b.missed = time.Now(), 0
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: fields.template rendered %s, which is not a JSON object of strings "+
		"or arrays of strings; the event is sent without fields%s. Counted as fields.invalid; logged at most once a minute",
		preview(f), more))
}

// validFields reports whether b is one JSON object whose values are all
// strings or arrays of strings (what HEC takes as indexed fields), and
// whether it has no members. Surrounding white space is allowed.
func validFields(b []byte) (ok, empty bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b), true
	}
	for {
		var good bool
		if i, good = scanString(b, i); !good {
			return false, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return false, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '[' {
			if i, good = scanStringArray(b, i); !good {
				return false, false
			}
		} else if i, good = scanString(b, i); !good {
			return false, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b), false
		default:
			return false, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanStringArray scans ["a", "b"] (possibly empty) at b[i].
func scanStringArray(b []byte, i int) (int, bool) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var good bool
		if i, good = scanString(b, i); !good {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// scanString scans one JSON string at b[i]: no raw control characters,
// valid escapes, valid UTF-8.
func scanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		default:
			i++
		}
	}
	return i, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
