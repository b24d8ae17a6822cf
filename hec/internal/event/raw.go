// SPDX-License-Identifier: Apache-2.0

package event

import (
	"bytes"
	"net/url"
	"strings"
)

// The raw endpoint's wire format: one line per event, its metadata in the
// request's query.

// AppendLine appends body as one line of a raw request. Splunk breaks a
// raw body into events at line breaks, so a CR or LF inside the text
// would make the message several events, and could forge whole lines of
// another host's: each is written as the two characters \r or \n, and
// escaped says whether any was. An empty text would be no event at all;
// it becomes "-", like an empty event.
func AppendLine(dst, body []byte) (out []byte, escaped bool) {
	if len(body) == 0 {
		return append(dst, EmptyEvent+"\n"...), false
	}
	for {
		i := bytes.IndexAny(body, "\r\n")
		if i < 0 {
			break
		}
		dst = append(dst, body[:i]...)
		if body[i] == '\n' {
			dst = append(dst, '\\', 'n')
		} else {
			dst = append(dst, '\\', 'r')
		}
		body, escaped = body[i+1:], true
	}
	dst = append(dst, body...)
	return append(dst, '\n'), escaped
}

// RawQuery is the raw endpoint's query string for an event's metadata: its
// own values, else the action's (fixed); the message's hostname is not
// used (Splunk reads it from the line).
func RawQuery(own, fixed *Meta) string {
	var b strings.Builder
	add := func(name string, own, fixed []byte) {
		v := own
		if len(v) == 0 {
			v = fixed
		}
		if len(v) == 0 {
			return
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(string(v)))
	}
	add("index", own.Index, fixed.Index)
	add("source", own.Source, fixed.Source)
	add("sourcetype", own.Sourcetype, fixed.Sourcetype)
	add("host", own.Host, fixed.Host)
	return b.String()
}

// RawAsEvent turns one line of a raw request back into the event object
// it stands for, with the request's metadata.
func RawAsEvent(query string, line []byte) []byte {
	q, _ := url.ParseQuery(query)
	ev := []byte{'{'}
	for _, k := range [...]string{"host", "source", "sourcetype", "index"} {
		if v := q.Get(k); v != "" {
			ev = append(ev, '"')
			ev = append(ev, k...)
			ev = append(ev, `":`...)
			ev = AppendJSONString(ev, []byte(v))
			ev = append(ev, ',')
		}
	}
	ev = append(ev, `"event":`...)
	ev = AppendJSONString(ev, bytes.TrimSuffix(line, []byte{'\n'}))
	return append(ev, '}')
}
