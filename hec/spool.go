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
	seq         atomic.Uint64
}

// spoolsInUse makes two actions of one process with the same destination
// use different prefixes; config order keeps the numbering stable across
// restarts.
var spoolsInUse = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// claimSpool names the action's spool after its destination (servers and
// token), so that a restart with the same config finds its own files.
func claimSpool(c *Config) *spool {
	h := fnv.New64a()
	for _, u := range c.Endpoints {
		h.Write([]byte(u.String()))
		h.Write([]byte{0})
	}
	h.Write([]byte(c.Token))
	h.Write([]byte{0})
	h.Write([]byte(c.Index))
	base := fmt.Sprintf("omsplunkgo-%016x", h.Sum64())
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	prefix := base
	for n := 2; spoolsInUse.m[prefix]; n++ {
		prefix = fmt.Sprintf("%s-%d", base, n)
	}
	spoolsInUse.m[prefix] = true
	return &spool{dir: c.SpoolDir, prefix: prefix}
}

func (sp *spool) release() {
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	delete(spoolsInUse.m, sp.prefix)
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

// pending lists the spool's files, oldest first.
func (sp *spool) pending() ([]string, error) {
	entries, err := os.ReadDir(sp.dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, sp.prefix+".") && strings.HasSuffix(n, spoolExt) && e.Type().IsRegular() {
			files = append(files, filepath.Join(sp.dir, n))
		}
	}
	sort.Strings(files) // names carry the creation time
	return files, nil
}

// eventEnds finds where each event object in body ends.
func eventEnds(body []byte) ([]int, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	var ends []int
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return ends, nil
			}
			return nil, err
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
		ends, err := eventEnds(body)
		if err != nil || len(ends) == 0 {
			bad := f + ".bad"
			os.Rename(f, bad)
			s.log(SevErr, fmt.Sprintf("omsplunkgo: spool file %s is damaged (%v); renamed to %s", f, err, bad))
			continue
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
