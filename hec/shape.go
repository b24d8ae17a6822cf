// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"unicode/utf8"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Stage 1 of Deliver, shaping: each message is made fit for HEC before it
// is encoded. event.maxbytes cuts or sets aside an oversized text, a fields
// rendering HEC would refuse is dropped, a rendered index or sourcetype
// outside its allow-list is replaced (routes.go), the event time chosen
// and guarded (eventtime.go), and for the raw endpoint the batch is
// grouped by the metadata that goes into each request's query string.

// shape makes msgs fit for HEC, in place.
func (s *Sender) shape(msgs []Message) {
	s.limitSizes(msgs)
	s.checkFields(msgs)
	if s.routes != nil {
		s.routes.apply(msgs, &s.stats)
	}
	if s.times != nil {
		s.times.apply(msgs, &s.stats)
	}
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
			s.refusals.changed()
			s.noteTruncated(len(m.Body), max)
			m.Body = truncateUTF8(m.Body, max)
			continue
		}
		ev := s.enc.AppendWithMeta(nil, m.Time, m.Host, m.Body, &m.Meta)
		s.refusals.refuse(ev, fmt.Sprintf("event text is %d bytes, over %s=%d", len(m.Body), OptEventMaxBytes, max), nil)
		m.skip = true
	}
}

// noteTruncated logs the first truncation only; the counter has the rest.
func (s *Sender) noteTruncated(size, max int) {
	if s.truncNoted.Swap(true) {
		return
	}
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: an event of %d bytes was cut to %s=%d (logged once; "+
		"set %s=\"reject\" to set such events aside instead)", size, OptEventMaxBytes, max, OptEventOversize))
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
	s.log(SevWarning, fmt.Sprintf("omsplunkgo: fields.template rendered %.512q, which is not a JSON object of strings "+
		"or arrays of strings; the event is sent without fields%s. Counted as fields.invalid; logged at most once a minute",
		f, more))
}

// HEC endpoints a Sender can post events to (option endpoint).
const (
	EndpointEvent = "event" // JSON event objects, metadata per event
	EndpointRaw   = "raw"   // lines of text, metadata per request in the query string
)
