// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/spoolfile"
)

// The window's files at a start. They live in spool.dir, named after the
// action (internal/spoolfile claims the name: the action's name, or for an
// unnamed action a hash of its servers, token and index), so that a file
// is only ever sent by the action that wrote it. The segments an earlier
// run left (internal/segment), and the spool files of releases before the
// window, go back into the window before any new batch; their intact
// events are sent, a damaged stretch is set aside in a .bad file.

// claimSpool claims the action's name in spool.dir.
func claimSpool(c *Config) *spoolfile.Spool {
	var dest []string
	for _, u := range c.Endpoints {
		dest = append(dest, u.String())
	}
	return spoolfile.Claim(c.SpoolDir, c.ActionID, append(dest, c.Token, c.Index)...)
}

// openWindowLog opens the action's segment files.
func (s *Sender) openWindowLog() *segment.Log {
	return segment.Open(s.cfg.SpoolDir, s.spool.Prefix, segment.Options{Sync: s.cfg.WindowFsync})
}

// replayWindow puts what an earlier run left in the window.
func (s *Sender) replayWindow() {
	segs, err := segment.Files(s.spool.Dir, s.spool.Prefix)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s: %v", OptSpoolDir, s.spool.Dir, err))
		return
	}
	var items []*item
	files := 0
	for _, f := range segs {
		its := s.readSegment(f)
		if len(its) == 0 {
			continue
		}
		files++
		sg := s.win.log.Adopt(f, len(its))
		for _, it := range its {
			it.seg, it.replayed = sg, true
		}
		items = append(items, its...)
	}
	legacy, _ := s.spool.Pending()
	for _, f := range legacy {
		its := s.readLegacy(f)
		if len(its) == 0 {
			continue
		}
		files++
		sg := s.win.log.Adopt(f, len(its))
		for _, it := range its {
			it.seg, it.replayed = sg, true
		}
		items = append(items, its...)
	}
	if len(items) == 0 {
		return
	}
	events := 0
	for _, it := range items {
		events += it.events()
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: sending %d events an earlier run left in the window (%d files in %s)",
		events, files, s.spool.Dir))
	s.win.add(items)
}

// readSegment reads the items of a segment file. A damaged stretch goes
// to a .bad file beside it for a human to look at; an empty or wholly
// damaged file is removed once set aside.
func (s *Sender) readSegment(f string) []*item {
	recs, dmg, data, err := segment.Read(f)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s: %v; left in place", f, err))
		return nil
	}
	var items []*item
	for _, r := range recs {
		it, err := decodeItem(r.Payload)
		if err != nil {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s: %v; skipped", f, err))
			continue
		}
		items = append(items, it)
	}
	if len(dmg) > 0 {
		var bad []byte
		for _, d := range dmg {
			bad = append(bad, data[d.Offset:d.Offset+d.Length]...)
		}
		badPath := strings.TrimSuffix(f, segment.Ext) + ".bad"
		if werr := os.WriteFile(badPath, bad, 0o600); werr != nil {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s is damaged (%d bytes) and the damaged part could not be "+
				"set aside (%v); the file stays until its intact events are delivered", f, len(bad), werr))
		} else {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s is damaged: sending its %d intact requests; the %d "+
				"damaged bytes are in %s", f, len(items), len(bad), badPath))
		}
	}
	if len(items) == 0 {
		os.Remove(f)
	}
	return items
}

// readLegacy reads a spool file of a release before the window (event
// objects, as the event endpoint takes them) into items.
func (s *Sender) readLegacy(f string) []*item {
	body, err := os.ReadFile(f)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s: %v; left in place", f, err))
		return nil
	}
	ends, err := spoolfile.EventEnds(body)
	if err != nil {
		good := 0
		if len(ends) > 0 {
			good = ends[len(ends)-1]
		}
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "."), ".tmp")
		bad := filepath.Join(filepath.Dir(f), base+".bad")
		if werr := os.WriteFile(bad, body[good:], 0o600); werr != nil {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s is damaged (%v) and its damaged part could not be "+
				"set aside (%v); left in place", f, err, werr))
			return nil
		}
		s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s is damaged (%v): sending its %d intact events; "+
			"the damaged %d bytes after them are in %s", f, err, len(ends), len(body)-good, bad))
		body = body[:good]
	}
	if len(ends) == 0 {
		os.Remove(f)
		if len(body) == 0 {
			s.log(SevInfo, fmt.Sprintf("omsplunkgo: spool file %s is empty (left by an interrupted save); removed", f))
		}
		return nil
	}
	var items []*item
	for _, p := range s.spoolParts(body, ends) {
		items = append(items, &item{query: p.query, body: p.body, ends: p.ends})
	}
	return items
}

// keepForNextStart writes items to the window's files past its bound:
// rsyslog is stopping and would drop the batch.
func (s *Sender) keepForNextStart(items []*item) error {
	events := 0
	for _, it := range items {
		events += it.events()
	}
	defer freeItems(items)
	if s.win.log == nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping, the window is full and %d events cannot be kept; "+
			"rsyslog will drop them - set global(workDirectory=...) or the action's spool.dir to keep them", events))
		return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
	}
	if err := s.win.persist(items); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and %d events could not be saved: %v", events, err))
		return fmt.Errorf("%w: %w: %v", ErrSuspend, ErrStopping, err)
	}
	s.stats.add(CtrSpooled, int64(events))
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping and the window is full: saved %d more events to %s; "+
		"they are sent on the next start", events, s.spool.Dir))
	return nil
}

// unclaimedReports holds the spool directories with a report pending:
// reportUnclaimed runs once per directory a few seconds after the first
// action using it started (by then rsyslog has started every action, and
// each has claimed its files).
var unclaimedReports sync.Map

const unclaimedDelay = 3 * time.Second

func (s *Sender) scheduleUnclaimedReport() {
	if _, pending := unclaimedReports.LoadOrStore(s.spool.Dir, true); pending {
		return
	}
	dir, example := s.spool.Dir, s.spool.Prefix
	time.AfterFunc(unclaimedDelay, func() {
		reportUnclaimed(dir, example, s.log)
		unclaimedReports.Delete(dir)
	})
}

// reportUnclaimed logs the spool files in dir that no action of this
// process claims (saved under another action name, or by an action since
// removed), with their event count and how to send them.
func reportUnclaimed(dir, example string, log Logger) {
	names, events := spoolfile.Unclaimed(dir, segment.Ext, segment.CountEvents)
	if len(names) == 0 {
		return
	}
	log(SevWarning, fmt.Sprintf("omsplunkgo: %d window files in %s (%d events) belong to no action of this configuration: %s. "+
		"They were written by an action since renamed or removed, or by an unnamed action whose servers, token or "+
		"index changed; no action sends them. To have an action send them, rename each so that it starts with that "+
		"action's prefix (e.g. %s.) instead of the part before its first dot, and restart rsyslogd "+
		"(give actions a name= so that their files stay theirs across such changes)",
		len(names), dir, events, strings.Join(names, ", "), example))
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
		var m Message
		m.Meta, m.Body = event.Decode(ev)
		evs = append(evs, spooled{m, ev})
		evs[len(evs)-1].m.query = s.raw.query(&evs[len(evs)-1].m)
		start = end
	}
	slices.SortStableFunc(evs, func(a, b spooled) int { return strings.Compare(a.m.query, b.m.query) })
	var parts []requestPart
	for i := 0; i < len(evs); {
		p := requestPart{query: evs[i].m.query}
		for ; i < len(evs) && evs[i].m.query == p.query; i++ {
			p.body, _ = event.AppendLine(p.body, evs[i].m.Body)
			p.ends = append(p.ends, len(p.body))
			p.events = append(p.events, evs[i].ev)
		}
		parts = append(parts, p)
	}
	return parts
}
