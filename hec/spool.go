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
	"github.com/omsplunkgo/omsplunkgo/hec/internal/spoolfile"
)

// The spool: a batch that a stop strands (HEC did not answer in time) is
// saved in spool.dir and reported done, since rsyslog drops a batch whose
// commit fails during shutdown; the next start replays it. The files
// themselves are internal/spoolfile's.

// claimSpool claims the action's spool in spool.dir, named after the
// action; the destination names the files of releases before action names.
func claimSpool(c *Config) *spoolfile.Spool {
	var dest []string
	for _, u := range c.Endpoints {
		dest = append(dest, u.String())
	}
	return spoolfile.Claim(c.SpoolDir, c.ActionID, append(dest, c.Token, c.Index)...)
}

// replaySpool delivers what an earlier shutdown saved, file by file,
// retrying while HEC is down, until done or the sender closes.
func (s *Sender) replaySpool() {
	files, err := s.spool.Pending()
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s: %v", OptSpoolDir, s.spool.Dir, err))
		return
	}
	if len(files) == 0 {
		return
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: sending %d batches saved at the last shutdown (%s)", len(files), s.spool.Dir))
	var events int64
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s: %v; left in place", f, err))
			continue
		}
		if len(body) == 0 {
			os.Remove(f)
			s.log(SevInfo, fmt.Sprintf("omsplunkgo: spool file %s is empty (left by an interrupted save); removed", f))
			continue
		}
		ends, err := spoolfile.EventEnds(body)
		if err != nil {
			// Keep the damaged rest for a human; send the intact events.
			good := 0
			if len(ends) > 0 {
				good = ends[len(ends)-1]
			}
			base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "."), ".tmp")
			bad := filepath.Join(filepath.Dir(f), base+".bad")
			if werr := os.WriteFile(bad, body[good:], 0o600); werr != nil {
				s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s is damaged (%v) and its damaged part could not be "+
					"set aside (%v); left in place", f, err, werr))
				continue
			}
			s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s is damaged (%v): sending its %d intact events; "+
				"the damaged %d bytes after them are in %s", f, err, len(ends), len(body)-good, bad))
			body = body[:good]
			if len(ends) == 0 {
				os.Remove(f)
				continue
			}
		}
		parts := s.spoolParts(body, ends)
		for i := 0; i < len(parts); {
			p := parts[i]
			if err := s.send(p.query, p.body, p.ends); err == nil {
				i++
				continue
			}
			select {
			case <-s.haltCh:
				if i > 0 {
					s.keepUndelivered(f, parts[i:])
				}
				return // the file stays for the next start
			case <-time.After(5 * time.Second):
			}
		}
		os.Remove(f)
		events += int64(len(ends))
		s.stats.add(CtrReplayed, int64(len(ends)))
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: the %d events saved at the last shutdown are delivered", events))
}

// keepUndelivered replaces spool file f by one holding only parts, so
// that the next start does not send the parts before them again.
func (s *Sender) keepUndelivered(f string, parts []requestPart) {
	var body []byte
	for _, p := range parts {
		for _, ev := range p.events {
			body = append(body, ev...)
		}
	}
	if err := s.spool.Save(body); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s: could not save its undelivered part (%v); "+
			"the whole file is sent again at the next start", f, err))
		return
	}
	os.Remove(f)
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
	names, events := spoolfile.Unclaimed(dir)
	if len(names) == 0 {
		return
	}
	log(SevWarning, fmt.Sprintf("omsplunkgo: %d spool files in %s (%d events) belong to no action of this configuration: %s. "+
		"They were saved by an action since renamed or removed. To have an action send them, rename each so that it "+
		"starts with that action's prefix (e.g. %s.) instead of the part before its first dot, and restart rsyslogd; "+
		"or post one to HEC as it is: curl -H 'Authorization: Splunk <token>' --data-binary @<file> "+
		"https://<hec>:8088/services/collector/event",
		len(names), dir, events, strings.Join(names, ", "), example))
}

// saveForLater writes the undelivered parts of a batch to the spool during
// shutdown.
func (s *Sender) saveForLater(msgs []Message, left []span) error {
	var body []byte
	events := 0
	for _, sp := range left {
		for i := sp.from; i < sp.to; i++ {
			if msgs[i].skip {
				continue
			}
			body = s.encode(body, &msgs[i])
			events++
		}
	}
	if s.spool == nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and HEC has not taken %d events; "+
			"rsyslog will drop them - set global(workDirectory=...) or the action's spool.dir to keep them", events))
		return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
	}
	if err := s.spool.Save(body); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and %d events could not be saved: %v", events, err))
		return fmt.Errorf("%w: %w: %v", ErrSuspend, ErrStopping, err)
	}
	s.stats.add(CtrSpooled, int64(events))
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping: saved %d undelivered events to %s; "+
		"they are sent on the next start", events, s.spool.Dir))
	return nil
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
