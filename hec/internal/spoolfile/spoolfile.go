// SPDX-License-Identifier: Apache-2.0

// Package spoolfile names the files of an action in the spool directory
// (claimed once per process), reads the spool files of releases before
// the window (event objects, also from a damaged file), and finds files
// no action claims. It knows
// nothing of senders or rsyslog and never logs.
package spoolfile

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

// Spool keeps request bodies that a shutdown stranded, one file each,
// until the next start delivers them. Files are written to a temporary
// name, synced and renamed, so a crash leaves either a whole file or none.
type Spool struct {
	// Dir is the spool directory; Prefix starts the name of every file of
	// this spool.
	Dir, Prefix string
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

// Claim names a spool in dir after the action (actionID), so that a
// restart finds its files even when servers, token or index changed in
// between (fixing a wrong token is exactly when files wait). Without an
// actionID files are named after the destination (a hash of its parts:
// the endpoint URLs, token and index, the name earlier releases used for
// every spool, whose files are claimed too).
func Claim(dir, actionID string, destination ...string) *Spool {
	h := fnv.New64a()
	for i, part := range destination {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(part))
	}
	legacy := fmt.Sprintf("omsplunkgo-%016x", h.Sum64())
	base := legacy
	if actionID != "" {
		base = "omsplunkgo-spool-" + safeName(actionID)
	}
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	prefix := base
	for n := 2; spoolsInUse.m[prefix]; n++ {
		prefix = fmt.Sprintf("%s-%d", base, n)
	}
	spoolsInUse.m[prefix] = true
	spoolsInUse.m[legacy] = true
	sp := &Spool{Dir: dir, Prefix: prefix}
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

// Release gives the spool's names back (the action is gone).
func (sp *Spool) Release() {
	spoolsInUse.Lock()
	defer spoolsInUse.Unlock()
	delete(spoolsInUse.m, sp.Prefix)
	if sp.legacy != "" {
		delete(spoolsInUse.m, sp.legacy)
	}
}

const spoolExt = ".hec"

// Save writes body durably as a new spool file.
func (sp *Spool) Save(body []byte) error {
	name := fmt.Sprintf("%s.%d-%d%s", sp.Prefix, time.Now().UnixNano(), sp.seq.Add(1), spoolExt)
	tmp := filepath.Join(sp.Dir, "."+name+".tmp")
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
		err = os.Rename(tmp, filepath.Join(sp.Dir, name))
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(sp.Dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Pending lists the spool's files, oldest first, with the temporary files
// a crash left behind while saving (what they hold was never reported
// done, so their intact events are sent too).
func (sp *Spool) Pending() ([]string, error) {
	entries, err := os.ReadDir(sp.Dir)
	if err != nil {
		return nil, err
	}
	var files []string
	for _, e := range entries {
		if e.Type().IsRegular() && sp.owns(e.Name()) {
			files = append(files, filepath.Join(sp.Dir, e.Name()))
		}
	}
	// Names carry the creation time after the prefix.
	sort.Slice(files, func(i, j int) bool { return spoolTime(files[i]) < spoolTime(files[j]) })
	return files, nil
}

// owns reports whether a file name is one of this spool's.
func (sp *Spool) owns(name string) bool {
	name = strings.TrimPrefix(name, ".")
	name = strings.TrimSuffix(name, ".tmp")
	if !strings.HasSuffix(name, spoolExt) {
		return false
	}
	return strings.HasPrefix(name, sp.Prefix+".") || sp.legacy != "" && strings.HasPrefix(name, sp.legacy+".")
}

// spoolTime is the part of a spool file name after the prefix.
func spoolTime(path string) string {
	n := strings.TrimPrefix(filepath.Base(path), ".")
	if i := strings.LastIndexByte(strings.TrimSuffix(strings.TrimSuffix(n, ".tmp"), spoolExt), '.'); i >= 0 {
		return n[i:]
	}
	return n
}

// EventEnds finds where each event object in body ends. On damage (a file
// cut short by a crash or a full disk) it returns the intact events before
// it with the error.
func EventEnds(body []byte) ([]int, error) {
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

// CheckWritable reports whether this process can create files in dir:
// rsyslogd may have dropped privileges (privDropToUser) after the config
// check, which ran as root.
func CheckWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".omsplunkgo-write-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// Unclaimed lists the spool files in dir that no spool of this process
// claims (saved under another action name, or by an action since
// removed), with the number of intact events they hold. Files ending in
// otherExt (the window's segments) are counted by countOther.
func Unclaimed(dir, otherExt string, countOther func(path string) int) (names []string, events int) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0
	}
	spoolsInUse.Lock()
	inUse := make([]string, 0, len(spoolsInUse.m))
	for p := range spoolsInUse.m {
		inUse = append(inUse, p)
	}
	spoolsInUse.Unlock()
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasPrefix(n, "omsplunkgo-") ||
			!strings.HasSuffix(n, spoolExt) && !strings.HasSuffix(n, otherExt) {
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
		if strings.HasSuffix(n, otherExt) {
			events += countOther(filepath.Join(dir, n))
		} else if body, err := os.ReadFile(filepath.Join(dir, n)); err == nil {
			ends, _ := EventEnds(body)
			events += len(ends)
		}
	}
	return names, events
}
