// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// spool keeps request bodies that a shutdown stranded, one file each, until
// the next start delivers them. Files are written to a temporary name,
// synced and renamed, so a crash leaves either a whole file or none.
type spool struct {
	dir, prefix string
	// legacy is the prefix an earlier release named this destination's
	// files with (a hash of servers, token and index); they are sent too.
	legacy string
	seq    atomic.Uint64
}

// spoolsInUse makes two actions of one process with the same destination
// use different prefixes; config order keeps the numbering stable across
// restarts.
var spoolsInUse = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// claimSpool names the action's spool after the action (ActionID), so that
// a restart finds its files even when servers, token or index changed in
// between (fixing a wrong token is exactly when files wait). Without an
// ActionID (the hec package used on its own) files are named after the
// destination.
func claimSpool(c *Config) *spool {
	h := fnv.New64a()
	for _, u := range c.Endpoints {
		h.Write([]byte(u.String()))
		h.Write([]byte{0})
	}
	h.Write([]byte(c.Token))
	h.Write([]byte{0})
	h.Write([]byte(c.Index))
	legacy := fmt.Sprintf("omsplunkgo-%016x", h.Sum64())
	base := legacy
	if c.ActionID != "" {
		base = "omsplunkgo-spool-" + safeName(c.ActionID)
	}
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	prefix := base
	for n := 2; spoolsInUse.m[prefix]; n++ {
		prefix = fmt.Sprintf("%s-%d", base, n)
	}
	spoolsInUse.m[prefix] = true
	spoolsInUse.m[legacy] = true
	sp := &spool{dir: c.SpoolDir, prefix: prefix}
	if legacy != prefix {
		sp.legacy = legacy
	}
	return sp
}

// safeName keeps an action name usable in a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func (sp *spool) release() {
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	delete(spoolsInUse.m, sp.prefix)
	if sp.legacy != "" {
		delete(spoolsInUse.m, sp.legacy)
	}
}

const spoolExt = ".hec"

// save writes body durably as a new spool file.
func (sp *spool) save(body []byte) error {
	name := fmt.Sprintf("%s.%d-%d%s", sp.prefix, time.Now().UnixNano(), sp.seq.Add(1), spoolExt)
	tmp := filepath.Join(sp.dir, "."+name+".tmp")
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(sp.dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(sp.dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// pending lists the spool's files, oldest first, with the temporary files
// a crash left behind while saving (what they hold was never reported
// done, so their intact events are sent too).
func (sp *spool) pending() ([]string, error) {
	entries, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && sp.owns(e.Name()) {
			files = append(files, filepath.Join(sp.dir, e.Name()))
		}
	}
	// Names carry the creation time after the prefix.
	sort.Slice(files, func(i, j int) bool { return spoolTime(files[i]) < spoolTime(files[j]) })
	return files, nil
}

// owns reports whether a file name is one of this spool's.
func (sp *spool) owns(name string) bool {
	name = strings.TrimPrefix(name, ".")
	name = strings.TrimSuffix(name, ".tmp")
	if !strings.HasSuffix(name, spoolExt) {
		return false
	}
	return strings.HasPrefix(name, sp.prefix+".") || sp.legacy != "" && strings.HasPrefix(name, sp.legacy+".")
}

// spoolTime is the part of a spool file name after the prefix.
func spoolTime(path string) string {
	n := strings.TrimPrefix(filepath.Base(path), ".")
	if i := strings.LastIndexByte(strings.TrimSuffix(strings.TrimSuffix(n, ".tmp"), spoolExt), '.'); i >= 0 {
		return n[i:]
	}
	return n
}

// eventEnds finds where each event object in body ends. On damage (a file
// cut short by a crash or a full disk) it returns the intact events before
// it with the error.
func eventEnds(body []byte) ([]int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var ends []int
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return ends, nil
			}
			return ends, err
		}
		if len(raw) == 0 || raw[0] != '{' {
			return ends, fmt.Errorf("not an event object at byte %d", dec.InputOffset()-int64(len(raw)))
		}
		ends = append(ends, int(dec.InputOffset()))
	}
}

// replaySpool delivers what an earlier shutdown saved, file by file,
// retrying while HEC is down, until done or the sender closes.
func (s *Sender) replaySpool() {
	files, err := s.spool.pending()
	if err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: %s=%s: %v", OptSpoolDir, s.spool.dir, err))
		return
	}
	if len(files) == 0 {
		return
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: sending %d batches saved at the last shutdown (%s)", len(files), s.spool.dir))
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
		ends, err := eventEnds(body)
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
	if err := s.spool.save(body); err != nil {
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
	if _, pending := unclaimedReports.LoadOrStore(s.spool.dir, true); pending {
		return
	}
	dir, example := s.spool.dir, s.spool.prefix
	time.AfterFunc(unclaimedDelay, func() {
		reportUnclaimed(dir, example, s.log)
		unclaimedReports.Delete(dir)
	})
}

// reportUnclaimed logs the spool files in dir that no action of this
// process claims (saved under another action name, or by an action since
// removed), with their event count and how to send them.
func reportUnclaimed(dir, example string, log Logger) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	spoolsInUse.Lock()
	inUse := make([]string, 0, len(spoolsInUse.m))
	for p := range spoolsInUse.m {
		inUse = append(inUse, p)
	}
	spoolsInUse.Unlock()
	var names []string
	events := 0
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, "omsplunkgo-") || !strings.HasSuffix(n, spoolExt) {
			continue
		}
		claimed := false
		for _, p := range inUse {
			if strings.HasPrefix(n, p+".") {
				claimed = true
			}
		}
		if claimed {
			continue
		}
		names = append(names, n)
		if body, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			ends, _ := eventEnds(body)
			events += len(ends)
		}
	}
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

// checkWritable reports whether this process can create files in dir:
// rsyslogd may have dropped privileges (privDropToUser) after the config
// check, which ran as root.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".omsplunkgo-write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
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
			body = s.enc.AppendMessage(body, &msgs[i])
			events++
		}
	}
	if s.spool == nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and HEC has not taken %d events; "+
			"rsyslog will drop them - set global(workDirectory=...) or the action's spool.dir to keep them", events))
		return fmt.Errorf("%w: %w", ErrSuspend, ErrStopping)
	}
	if err := s.spool.save(body); err != nil {
		s.log(SevErr, fmt.Sprintf("omsplunkgo: rsyslog is stopping and %d events could not be saved: %v", events, err))
		return fmt.Errorf("%w: %w: %v", ErrSuspend, ErrStopping, err)
	}
	s.stats.add(CtrSpooled, int64(events))
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: rsyslog is stopping: saved %d undelivered events to %s; "+
		"they are sent on the next start", events, s.spool.dir))
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
