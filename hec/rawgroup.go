// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"slices"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
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
