// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 1 of Deliver, shaping: each message is made fit for HEC before it
// is encoded. event.maxbytes cuts or sets aside an oversized text, a fields
// rendering HEC would refuse is dropped, and for the raw endpoint the batch
// is grouped by the metadata that goes into each request's query string.

// shape makes msgs fit for HEC, in place.
func (s *Sender) shape(msgs []Message) {
	s.limitSizes(msgs)
	s.checkFields(msgs)
	if s.raw != nil {
		s.raw.group(msgs)
	}
}

// limitSizes applies event.maxbytes to each message text.
func (s *Sender) limitSizes(msgs []Message) {
	max := s.cfg.EventMaxBytes
	for i := range msgs {
		m := &msgs[i]
		if len(m.Body) <= max {
			continue
		}
		if s.cfg.EventOversize == OversizeTruncate {
			s.stats.add(CtrTruncated, 1)
			s.summary.changed()
			s.rejects.noteTruncated(len(m.Body), max)
			m.Body = truncateUTF8(m.Body, max)
			continue
		}
		ev := s.encode(nil, m)
		s.refuse(ev, fmt.Sprintf("event text is %d bytes, over %s=%d", len(m.Body), OptEventMaxBytes, max), nil)
		m.skip = true
	}
}

// truncateUTF8 cuts b to at most n bytes without splitting a UTF-8
// sequence that was valid.
func truncateUTF8(b []byte, n int) []byte {
	cut := n
	for cut > n-utf8.UTFMax && cut > 0 && !utf8.RuneStart(b[cut]) {
		cut--
	}
	if cut == 0 {
		cut = n // not UTF-8 at all: bytes are all we have
	}
	return b[:cut]
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
		ok, empty := event.ValidFields(f)
		if ok && !empty {
			continue
		}
		msgs[i].Meta.Fields = nil
		if !ok {
			s.stats.add(CtrFieldsInvalid, 1)
			s.noteBadFields(f)
		}
	}
}

// noteBadFields logs a fields rendering HEC would refuse, at most once a
// minute.
func (s *Sender) noteBadFields(f []byte) {
	ok, more := s.badFields.allow()
	if !ok {
		return
	}
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: fields.template rendered %s, which is not a JSON object of strings "+
		"or arrays of strings; the event is sent without fields%s. Counted as fields.invalid; logged at most once a minute",
		preview(f), more))
}

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

// query is the query string for m's metadata (event.RawQuery).
func (f *rawFormat) query(m *Message) string { return event.RawQuery(&m.Meta, &f.fixed) }

// viaEvent marks a message of the raw endpoint that goes through the event
// endpoint instead (no query string is ever empty-prefixed with NUL).
const viaEvent = "\x00event"

// Metadata of many different values would make a request per value: a
// batch with more than rawMaxGroups groups sends the events of groups
// smaller than rawMinGroup through the event endpoint, in one request,
// each with its own metadata.
const (
	rawMaxGroups = 16
	rawMinGroup  = 4
)

// group sets each message's query and orders msgs so that equal queries
// are adjacent, keeping the order within each query. Events of small
// groups in a batch of many go through the event endpoint (viaEvent).
func (f *rawFormat) group(msgs []Message) {
	sizes := map[string]int{}
	for i := range msgs {
		msgs[i].query = f.query(&msgs[i])
		sizes[msgs[i].query]++
	}
	if len(sizes) > rawMaxGroups {
		for i := range msgs {
			if sizes[msgs[i].query] < rawMinGroup {
				msgs[i].query = viaEvent
			}
		}
	}
	if !slices.IsSortedFunc(msgs, func(a, b Message) int { return strings.Compare(a.query, b.query) }) {
		slices.SortStableFunc(msgs, func(a, b Message) int { return strings.Compare(a.query, b.query) })
	}
}
