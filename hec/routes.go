// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"strings"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
)

// Routing safety, part of shaping: index.template and sourcetype.template
// let a message steer where it goes; with an allow-list, a rendering
// outside it is replaced by the fallback, the rendered value kept as an
// indexed field, and counted. Without an allow-list nothing is checked.

// routes holds the allow-lists of one action; nil when it has none.
type routes struct {
	index, sourcetype *allowList
	indexFallback     []byte // "" = the action's index applies
}

func newRoutes(c *Config) *routes {
	if len(c.IndexAllowed) == 0 && len(c.SourcetypeAllowed) == 0 {
		return nil
	}
	return &routes{index: newAllowList(c.IndexAllowed), sourcetype: newAllowList(c.SourcetypeAllowed),
		indexFallback: []byte(c.IndexFallback)}
}

// Indexed fields that keep a replaced value.
const (
	fieldOrigIndex      = "orig_index"
	fieldOrigSourcetype = "orig_sourcetype"
)

func (r *routes) apply(msgs []Message, stats *counters) {
	for i := range msgs {
		m := &msgs[i]
		if m.skip {
			continue
		}
		if len(m.Meta.Index) > 0 && !r.index.allows(m.Meta.Index) {
			m.Meta.Fields = event.AddField(m.Meta.Fields, fieldOrigIndex, m.Meta.Index)
			m.Meta.Index = r.indexFallback
			stats.add(CtrRouteFallback, 1)
		}
		if len(m.Meta.Sourcetype) > 0 && !r.sourcetype.allows(m.Meta.Sourcetype) {
			m.Meta.Fields = event.AddField(m.Meta.Fields, fieldOrigSourcetype, m.Meta.Sourcetype)
			m.Meta.Sourcetype = nil // the action's sourcetype applies
			stats.add(CtrRouteFallback, 1)
		}
	}
}

// allowList is a set of names, an entry ending in * standing for every
// name it starts. nil allows everything.
type allowList struct {
	exact    map[string]struct{}
	prefixes [][]byte
}

func newAllowList(entries []string) *allowList {
	if len(entries) == 0 {
		return nil
	}
	a := &allowList{exact: map[string]struct{}{}}
	for _, e := range entries {
		if p, ok := strings.CutSuffix(e, "*"); ok {
			a.prefixes = append(a.prefixes, []byte(p))
		} else {
			a.exact[e] = struct{}{}
		}
	}
	return a
}

func (a *allowList) allows(v []byte) bool {
	if a == nil {
		return true
	}
	if _, ok := a.exact[string(v)]; ok {
		return true
	}
	for _, p := range a.prefixes {
		if bytes.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// RoutedIndex is where an event goes whose index.template rendered v: v,
// or, outside index.allowed, index.fallback (replaced); "" stands for the
// action's index.
func (c *Config) RoutedIndex(v string) (index string, replaced bool) {
	if v == "" || newAllowList(c.IndexAllowed).allows([]byte(v)) {
		return v, false
	}
	return c.IndexFallback, true
}
