// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/event"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/winfile"
)

// The window's files at a start. They live in spool.dir, named after the
// action (internal/winfile claims the name: the action's name, or for an
// unnamed action a hash of its servers, token and index), so that a file
// is only ever sent by the action that wrote it. The segments an earlier
// run left (internal/segment), and the spool files of releases before the
// window, go back into the window before any new batch; their intact
// events are sent, a damaged stretch is set aside in a .bad file.

// claimFiles claims the action's name in spool.dir.
func claimFiles(c *Config) *winfile.Files {
	if c.WindowPrefix != "" {
		return &winfile.Files{Dir: c.WindowDir, Prefix: c.WindowPrefix}
	}
	var dest []string
	for _, u := range c.Endpoints {
		dest = append(dest, u.String())
	}
	return winfile.Claim(c.WindowDir, c.ActionID, append(dest, c.Token, c.Index)...)
}

// lockFiles takes this process's hold on the action's files (and on the
// files an earlier release named after its destination): nothing of them
// is read, sent or removed without it.
func (s *Sender) lockFiles() error {
	l, err := winfile.TakeLock(s.files.Dir, s.files.Prefix)
	if err != nil {
		return err
	}
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	s.locks = append(s.locks, l)
	if s.files.Legacy() != "" {
		if l, err := winfile.TakeLock(s.files.Dir, s.files.Legacy()); err == nil {
			s.locks = append(s.locks, l)
		} else {
			s.files.DropLegacy() // another process's: leave them alone
		}
	}
	return nil
}

// unlockFiles lets another process have the action's files.
func (s *Sender) unlockFiles() {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	for _, l := range s.locks {
		l.Release()
	}
	s.locks = nil
}

// openWindowLog opens the action's segment files.
func (s *Sender) openWindowLog() *segment.Log {
	return segment.Open(s.cfg.WindowDir, s.files.Prefix, segment.Options{Sync: s.cfg.WindowFsync})
}

// replayWindow puts what an earlier run left in the window.
func (s *Sender) replayWindow() {
	s.replayPrefix(s.files.Prefix)
	if s.cfg.Standalone {
		return
	}
	if s.files.Old != "" {
		registerOldClaim(s)
	}
	if s.cfg.ActionID == "" {
		s.registerUnnamed()
	}
}

// replayPrefix puts the segment files of prefix, and the spool files of
// releases before the window, in the window.
func (s *Sender) replayPrefix(prefix string) {
	segs, odd, err := segment.Files(s.files.Dir, prefix)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s: %v", OptSpoolDir, s.files.Dir, err))
		return
	}
	for _, f := range odd {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %s has the name of one of this action's window files but is no regular "+
			"file (a symbolic link or a directory): not read, not removed; remove it, or, if it holds a window file, "+
			"copy that file in its place", f))
	}
	var items []*item
	files, skipped := 0, 0
	done := s.doneMarks(prefix)
	var spent []string // nothing left to send: removed once their marks are carried
	for _, f := range segs {
		its, records, marked, empty := s.readSegment(f, done[segment.KeyOf(f)])
		for _, m := range marked {
			if m.Whole() {
				skipped++
			}
		}
		if empty {
			spent = append(spent, f)
		}
		if len(its) == 0 {
			continue
		}
		files++
		// The file goes once each of its pending records is done.
		sg := s.win.log.Adopt(f, records)
		s.win.log.AdoptDone(sg, marked)
		for _, it := range its {
			it.seg, it.replayed = sg, true
		}
		items = append(items, its...)
	}
	// The marks of the files that stay go to a file of this run before
	// the spent files that held them are removed.
	if err := s.win.log.Carry(); err != nil {
		s.log(SevWarning, fmt.Sprintf("omsplunkgo: %v; the window files in %s whose requests were all delivered "+
			"stay until the next start", err, s.files.Dir))
		spent = nil
	}
	for _, f := range spent {
		os.Remove(f)
	}
	sp := s.files
	if prefix != s.files.Prefix {
		sp = &winfile.Files{Dir: s.files.Dir, Prefix: prefix}
	}
	legacy, _ := sp.Pending()
	for _, f := range legacy {
		its := s.readLegacy(f)
		if len(its) == 0 {
			continue
		}
		files++
		sg := s.win.log.Adopt(f, len(its))
		for _, it := range its {
			it.seg, it.off, it.replayed = sg, -1, true
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
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: sending %d events an earlier run left in the window (%d files %s.* in %s; "+
		"%d requests in them HEC had taken are skipped)", events, files, prefix, s.files.Dir, skipped))
	s.win.add(items)
}

// doneMarks gathers the done marks of the window files of prefix and of
// this action's own prefix (which carries the marks of older-named files
// it adopted): per file key and record offset, what HEC took of it.
func (s *Sender) doneMarks(prefix string) map[segment.Key]map[int64][]segment.Mark {
	done := map[segment.Key]map[int64][]segment.Mark{}
	prefixes := []string{prefix}
	if prefix != s.files.Prefix {
		prefixes = append(prefixes, s.files.Prefix)
	}
	for _, p := range prefixes {
		files, _, _ := segment.Files(s.files.Dir, p)
		for _, f := range files {
			c, err := segment.Read(f)
			if err != nil {
				continue // readSegment reports it
			}
			for _, m := range c.Marks {
				if done[m.Key] == nil {
					done[m.Key] = map[int64][]segment.Mark{}
				}
				done[m.Key][m.Off] = append(done[m.Key][m.Off], m)
			}
		}
	}
	return done
}

// Files that releases before 0.7 named after a named action: their naming
// gave "a.b" and "a_b" one name, so they go to an action only when it is
// the one action of the process with that old name, decided once every
// action has started (the unclaimed-files pass).
var oldClaims = struct {
	sync.Mutex
	m map[string][]*Sender // dir NUL old prefix
}{m: map[string][]*Sender{}}

func registerOldClaim(s *Sender) {
	oldClaims.Lock()
	defer oldClaims.Unlock()
	k := s.files.Dir + "\x00" + s.files.Old
	oldClaims.m[k] = append(oldClaims.m[k], s)
}

// adoptOld hands the old-named files in dir to their one claimant each.
func adoptOld(dir string) {
	oldClaims.Lock()
	var single []*Sender
	for k, ss := range oldClaims.m {
		if strings.HasPrefix(k, dir+"\x00") {
			if len(ss) == 1 {
				single = append(single, ss[0])
			} else {
				for _, s := range ss {
					s.log(SevWarning, fmt.Sprintf("omsplunkgo: window files named %s.* (an older release's name) could "+
						"belong to %d actions of this configuration; none sends them (see the unclaimed-files line)",
						s.files.Old, len(ss)))
				}
			}
			delete(oldClaims.m, k)
		}
	}
	oldClaims.Unlock()
	for _, s := range single {
		s.locksMu.Lock()
		if s.stopping.Load() || s.locks == nil {
			s.locksMu.Unlock()
			continue
		}
		l, err := winfile.TakeLock(s.files.Dir, s.files.Old)
		if err != nil {
			s.locksMu.Unlock()
			continue
		}
		s.locks = append(s.locks, l)
		s.locksMu.Unlock()
		winfile.ClaimExtra(s.files.Old)
		s.replayPrefix(s.files.Old)
	}
}

// readSegment reads the items of a segment file: for each record not
// marked done, its events not marked done (one item, or parts of it when
// some were: done, by the marks per offset), bodies left in the file
// until they go; records counts those records. Every record is checked
// before use; a damaged stretch, or a record that does not hold a request
// this action can send, goes to a .bad file beside it for a human to look
// at; a file with nothing left to send is spent (empty), for the caller
// to remove once its marks are carried (once its damage is set aside).
// marked are the marks that hold, to be carried on.
func (s *Sender) readSegment(f string, done map[int64][]segment.Mark) (items []*item, records int, marked []segment.Mark,
	empty bool) {
	c, err := segment.Read(f)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s: %v; left in place", f, err))
		return nil, 0, nil, false
	}
	recs, dmg, data := c.Records, c.Damage, c.Data
	var bad []byte
	unusable := 0
	for _, r := range recs {
		marks := done[r.Off]
		if slices.ContainsFunc(marks, segment.Mark.Whole) {
			marked = append(marked, segment.Mark{Off: r.Off})
			continue
		}
		it, err := recordItem(r, s.raw != nil)
		if err != nil {
			unusable++
			bad = append(bad, r.Raw...)
			if unusable == 1 {
				s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s: %v; set aside", f, err))
			}
			continue
		}
		it.body, it.off = nil, r.Off // read back when it goes
		parts := undone(it, marks)
		if len(parts) == 0 { // every part marked: the record is done
			marked = append(marked, segment.Mark{Off: r.Off})
			continue
		}
		marked = append(marked, marks...)
		records++
		items = append(items, parts...)
	}
	for _, d := range dmg {
		bad = append(bad, data[d.Offset:d.Offset+d.Length]...)
	}
	if len(bad) > 0 {
		if badPath, werr := winfile.WriteBad(f, segment.Ext, bad); werr != nil {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s is damaged (%d bytes, %d unusable records) and the damaged "+
				"part could not be set aside (%v); the file stays until its intact events are delivered",
				f, len(bad), unusable, werr))
			if len(items) == 0 {
				return nil, 0, marked, false // keep it: the damaged part is nowhere else
			}
		} else {
			s.log(SevErr, fmt.Sprintf("omsplunkgo: window file %s is damaged: sending its %d intact requests; the %d "+
				"damaged bytes (%d unusable records) are in %s", f, len(items), len(bad), unusable, badPath))
		}
	}
	return items, records, marked, len(items) == 0
}

// undone is what of a record's item (body in the file) is not marked
// done: the item itself when no part is, else an item per run of events
// not marked, parts of one record (of), which is done once all are.
func undone(it *item, marks []segment.Mark) []*item {
	n := it.events()
	taken := make([]bool, n)
	some := false
	for _, m := range marks {
		for i := max(m.First, 0); i < min(m.First+m.N, n); i++ {
			taken[i], some = true, true
		}
	}
	if !some {
		return []*item{it}
	}
	w := &whole{}
	var parts []*item
	for i := 0; i < n; {
		if taken[i] {
			i++
			continue
		}
		j := i
		for j < n && !taken[j] {
			j++
		}
		start := 0
		if i > 0 {
			start = it.ends[i-1]
		}
		ends := make([]int, 0, j-i)
		for _, e := range it.ends[i:j] {
			ends = append(ends, e-start)
		}
		parts = append(parts, &item{query: it.query, ends: ends, off: it.off, first: i, of: w})
		i = j
	}
	w.parts.Store(int32(len(parts)))
	return parts
}

// recordItem is the request a window record holds, checked in full: its
// payload, its event count against the header's, and its endpoint
// against the action's (raw: the action posts to the raw endpoint).
func recordItem(r segment.Record, raw bool) (*item, error) {
	it, err := decodeItem(r.Payload)
	if err != nil {
		return nil, err
	}
	if r.Events != it.events() {
		return nil, fmt.Errorf("record says %d events and holds %d", r.Events, it.events())
	}
	if it.query != viaEvent && (it.query != "") != raw {
		return nil, fmt.Errorf("record of the other endpoint than the action's (query %q)", it.query)
	}
	return it, nil
}

// readLegacy reads a spool file of a release before the window (event
// objects, as the event endpoint takes them) into items.
func (s *Sender) readLegacy(f string) []*item {
	body, err := readRegular(f)
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s: %v; left in place", f, err))
		return nil
	}
	ends, err := winfile.EventEnds(body)
	if err != nil {
		good := 0
		if len(ends) > 0 {
			good = ends[len(ends)-1]
		}
		base := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "."), ".tmp")
		bad, werr := winfile.WriteBad(filepath.Join(filepath.Dir(f), base), "", body[good:])
		if werr != nil {
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
		"they are sent on the next start", events, s.files.Dir))
	return nil
}

// unclaimedReports holds the spool directories with a report pending:
// reportUnclaimed runs once per directory a few seconds after the first
// action using it started (by then rsyslog has started every action, and
// each has claimed its files).
var unclaimedReports sync.Map

const unclaimedDelay = 3 * time.Second

func (s *Sender) scheduleUnclaimedReport() {
	if _, pending := unclaimedReports.LoadOrStore(s.files.Dir, true); pending {
		return
	}
	dir, example := s.files.Dir, s.files.Prefix
	time.AfterFunc(unclaimedDelay, func() {
		defer s.recoverPanic("unclaimed-files report", nil)
		adoptOld(dir)
		adoptUnnamed(dir, s.log)
		reportUnclaimed(dir, example, s.log)
		unclaimedReports.Delete(dir)
	})
}

// reportUnclaimed logs the spool files in dir that no action of this
// process claims (saved under another action name, or by an action since
// removed), with their event count and how to send them.
func reportUnclaimed(dir, example string, log Logger) {
	names, events := winfile.Unclaimed(dir, segment.Ext, segment.CountEvents)
	if len(names) == 0 {
		return
	}
	log(SevWarning, fmt.Sprintf("omsplunkgo: %d window files in %s (%d events) belong to no action of this configuration: %s. "+
		"They were written by an action since renamed or removed, or by an unnamed action whose destination changed "+
		"in more than its servers or its token; no action sends them. To have an action send them, rename each so that it starts with that "+
		"action's prefix (e.g. %s.) instead of the part before its first dot, and restart rsyslogd "+
		"(give actions a name= so that their files stay theirs across such changes)",
		len(names), dir, events, strings.Join(names, ", "), example))
}

// requestPart is one request's worth of spooled events.
type requestPart struct {
	query string
	body  []byte
	ends  []int
}

// spoolParts turns a spool file of a release before the window (event
// objects) into the requests that deliver it: the body as is for the event
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
		}
		parts = append(parts, p)
	}
	return parts
}

// readRegular reads a file the module wrote: never through a symbolic
// link, never anything but a regular file.
func readRegular(path string) ([]byte, error) {
	f, err := winfile.OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, 1<<30))
}
