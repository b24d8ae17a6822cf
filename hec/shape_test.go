// SPDX-License-Identifier: Apache-2.0

package hec

import "testing"

// Raw requests carry the metadata in the query string, escaped; a batch
// is grouped by it, keeping each group's order.
func TestRawGroupsByMetadata(t *testing.T) {
	c := defaultConfig()
	c.Index = "main"
	f := newRawFormat(&c)
	msgs := []Message{
		{Body: []byte("1"), Meta: Meta{Sourcetype: []byte("a b")}},
		{Body: []byte("2")},
		{Body: []byte("3"), Meta: Meta{Sourcetype: []byte("a b")}},
		{Body: []byte("4"), Meta: Meta{Index: []byte("sec&x"), Host: []byte("h")}},
		{Body: []byte("5")},
	}
	f.group(msgs)
	wantQuery := map[string]string{
		"1": "index=main&sourcetype=a+b", "3": "index=main&sourcetype=a+b",
		"2": "index=main&sourcetype=syslog", "5": "index=main&sourcetype=syslog",
		"4": "index=sec%26x&sourcetype=syslog&host=h",
	}
	var order []string
	for i, m := range msgs {
		order = append(order, string(m.Body))
		if m.query != wantQuery[string(m.Body)] {
			t.Errorf("message %s: query %q, want %q", m.Body, m.query, wantQuery[string(m.Body)])
		}
		// Equal queries are adjacent.
		for j := 0; j < i-1; j++ {
			if msgs[j].query == m.query && msgs[i-1].query != m.query {
				t.Fatalf("query %q not adjacent: %v", m.query, order)
			}
		}
	}
	pos := map[string]int{}
	for i, b := range order {
		pos[b] = i
	}
	if pos["1"] > pos["3"] || pos["2"] > pos["5"] {
		t.Fatalf("order within a group changed: %v", order)
	}
}
