// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"net/url"
	"slices"
	"strings"

	jsoniter "github.com/json-iterator/go"
)

// HEC endpoints a Sender can post events to (option endpoint).
const (
	EndpointEvent = "event" // JSON event objects, metadata per event
	EndpointRaw   = "raw"   // lines of text, metadata per request in the query string
)

// rawFormat lays requests out for HEC's raw endpoint: one line per event,
// and the metadata (index, source, sourcetype, host) in the query string,
// so it applies to the whole request. Deliver therefore groups a batch by
// metadata first (group), and a request only ever holds events of one
// group (Message.query). Splunk takes each event's time (and, for the
// syslog sourcetype, its host) from the line itself.
type rawFormat struct {
	fixed Meta // the action's fixed metadata
}

func newRawFormat(c *Config) *rawFormat {
	return &rawFormat{fixed: Meta{Index: []byte(c.Index), Source: []byte(c.Source),
		Sourcetype: []byte(c.Sourcetype), Host: []byte(c.Host)}}
}

// query is the query string for m's metadata: its own values, else the
// action's; the message's hostname is not used (Splunk reads it from the
// line).
func (f *rawFormat) query(m *Message) string {
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
	add("index", m.Meta.Index, f.fixed.Index)
	add("source", m.Meta.Source, f.fixed.Source)
	add("sourcetype", m.Meta.Sourcetype, f.fixed.Sourcetype)
	add("host", m.Meta.Host, f.fixed.Host)
	return b.String()
}

// group sets each message's query and orders msgs so that equal queries
// are adjacent, keeping the order within each query.
func (f *rawFormat) group(msgs []Message) {
	sorted := true
	for i := range msgs {
		msgs[i].query = f.query(&msgs[i])
		if i > 0 && msgs[i].query < msgs[i-1].query {
			sorted = false
		}
	}
	if !sorted {
		slices.SortStableFunc(msgs, func(a, b Message) int { return strings.Compare(a.query, b.query) })
	}
}

// appendLine appends m as one line of a raw request. An empty text would
// be no event at all; it becomes "-", like an empty event.
func appendLine(dst []byte, m *Message) []byte {
	if len(m.Body) == 0 {
		dst = append(dst, EmptyEvent...)
	} else {
		dst = append(dst, m.Body...)
	}
	return append(dst, '\n')
}

// requestPart is one request's worth of spooled events.
type requestPart struct {
	query  string
	body   []byte
	ends   []int
	events [][]byte // the spooled event objects it was made of (raw endpoint)
}

// spoolParts turns a spool file (event objects, as saveForLater writes
// them) into the requests that deliver it: the body as is for the event
// endpoint; for the raw endpoint, lines grouped by metadata.
func (s *Sender) spoolParts(body []byte, ends []int) []requestPart {
	if s.raw == nil {
		return []requestPart{{body: body, ends: ends}}
	}
	type spooled struct {
		m  Message
		ev []byte
	}
	evs := make([]spooled, 0, len(ends))
	start := 0
	for _, end := range ends {
		ev := body[start:end]
		evs = append(evs, spooled{decodeEvent(ev), ev})
		evs[len(evs)-1].m.query = s.raw.query(&evs[len(evs)-1].m)
		start = end
	}
	slices.SortStableFunc(evs, func(a, b spooled) int { return strings.Compare(a.m.query, b.m.query) })
	var parts []requestPart
	for i := 0; i < len(evs); {
		p := requestPart{query: evs[i].m.query}
		for ; i < len(evs) && evs[i].m.query == p.query; i++ {
			p.body = appendLine(p.body, &evs[i].m)
			p.ends = append(p.ends, len(p.body))
			p.events = append(p.events, evs[i].ev)
		}
		parts = append(parts, p)
	}
	return parts
}

// decodeEvent reads back an event object of the spool into a message whose
// metadata is the event's own. A non-string event is kept as JSON text.
func decodeEvent(ev []byte) Message {
	var m Message
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
			m.Meta.Host = str()
		case "source":
			m.Meta.Source = str()
		case "sourcetype":
			m.Meta.Sourcetype = str()
		case "index":
			m.Meta.Index = str()
		case "event":
			m.Body = str()
		default:
			it.Skip()
		}
		return it.Error == nil
	})
	return m
}

// rawAsEvent turns one line of a raw request back into the event object it
// stands for, with the request's metadata, for the error file.
func rawAsEvent(query string, line []byte) []byte {
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
