// SPDX-License-Identifier: Apache-2.0

// Package winfile owns the names of the window's files: Claim (with Name)
// is the one place that decides what an action's files are called in
// spool.dir (once per process), TakeLock gives one process at a time
// their use, and Unclaimed finds files no action of the process claims.
// It also reads the files releases before the window left (".hec" spool
// files of event objects, also damaged ones) and sets damage aside
// (WriteBad). The segment format itself is hec/internal/segment's. It
// knows nothing of senders or rsyslog and never logs.
package winfile

import (
	"bytes"
	"crypto/sha256"
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
)

// Files are the names an action's window files take: every one of them
// starts with Prefix and a dot, in Dir (spool.dir).
type Files struct {
	// Dir is spool.dir; Prefix starts the name of every file of the
	// action.
	Dir, Prefix string
	// legacy is the prefix an earlier release named this destination's
	// files with (a hash of servers, token and index); they are sent too.
	legacy string
	// Old is the prefix releases before 0.7 named this action's files with,
	// when it differs from Prefix: the old naming mapped several names to
	// one, so those files go to this action only when no other action of
	// the process has the same old name (decided once every action has
	// started; see OldClaimants).
	Old string
}

// prefixesInUse makes two actions of one process with the same destination
// use different prefixes; config order keeps the numbering stable across
// restarts.
var prefixesInUse = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// Claim names the action's files in dir after the action (actionID), so that a
// restart finds its files even when servers, token or index changed in
// between (fixing a wrong token is exactly when files wait). Without an
// actionID files are named after the destination (a hash of its parts:
// the endpoint URLs, token and index, the name earlier releases used for
// every action, whose files are claimed too).
func Claim(dir, actionID string, destination ...string) *Files {
	h := fnv.New64a()
	for i, part := range destination {
		if i > 0 {
			h.Write([]byte{0})
		}
		h.Write([]byte(part))
	}
	legacy := fmt.Sprintf("omsplunkgo-%016x", h.Sum64())
	base, sep := legacy, "-"
	if actionID != "" {
		// "+" never stands in an escaped name: "x" twice is "x" and
		// "x+2", never the name of an action called "x-2".
		base, sep = Name(actionID), "+"
	}
	prefixesInUse.Lock()
	defer prefixesInUse.Unlock()
	prefix := base
	for n := 2; prefixesInUse.m[prefix]; n++ {
		prefix = fmt.Sprintf("%s%s%d", base, sep, n)
	}
	prefixesInUse.m[prefix] = true
	prefixesInUse.m[legacy] = true
	sp := &Files{Dir: dir, Prefix: prefix}
	if legacy != prefix {
		sp.legacy = legacy
	}
	if actionID != "" {
		if old := oldName(actionID); old != prefix {
			sp.Old = old
		}
	}
	return sp
}

// Name is the file name prefix of a named action's window files. It is
// injective: every byte outside [A-Za-z0-9-] is escaped as _XX (hex), so
// "a.b" and "a_b" get names of their own; a name whose escaped form would
// pass maxNameLen keeps its first part and ends in "~" and a hash of the
// whole name, so that every file name stays under the filesystem's 255
// bytes.
func Name(actionID string) string {
	var b strings.Builder
	for i := 0; i < len(actionID); i++ {
		c := actionID[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02X", c)
		}
	}
	esc := b.String()
	if len(esc) > maxNameLen {
		cut := maxNameLen - 17
		// Never cut an escape in two: "_" only ever starts one.
		if i := strings.LastIndexByte(esc[:cut], '_'); i >= 0 && i > cut-3 {
			cut = i
		}
		sum := sha256.Sum256([]byte(actionID))
		esc = fmt.Sprintf("%s~%x", esc[:cut], sum[:8])
	}
	return "omsplunkgo-spool-" + esc
}

// maxNameLen bounds an escaped action name: with the prefix, a segment's
// time and number and the longest ending (".bad.NN"), a file name stays
// far below 255 bytes.
const maxNameLen = 120

// oldName is the prefix releases before 0.7 gave a named action's files:
// each byte outside [A-Za-z0-9_-] replaced by "_", so that "a.b" and
// "a_b" shared one name. Such files are claimed directly only where that
// is unambiguous (see Files.Old).
func oldName(actionID string) string {
	b := []byte(actionID)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return "omsplunkgo-spool-" + string(b)
}

// Legacy is the prefix releases before 0.5 gave this destination's files
// ("" when it is Prefix itself).
func (sp *Files) Legacy() string { return sp.legacy }

// DropLegacy stops claiming the legacy files (another process holds them).
func (sp *Files) DropLegacy() { sp.legacy = "" }

// Release gives the action's names back (the action is gone).
func (sp *Files) Release() {
	prefixesInUse.Lock()
	defer prefixesInUse.Unlock()
	delete(prefixesInUse.m, sp.Prefix)
	if sp.legacy != "" {
		delete(prefixesInUse.m, sp.legacy)
	}
}

// spoolExt ends the files of releases before the window (0.5 and
// earlier): event objects, one file per stranded request.
const spoolExt = ".hec"

// Pending lists the action's files of releases before the window, oldest
// first, with the temporary files
// a crash left behind while saving (what they hold was never reported
// done, so their intact events are sent too).
func (sp *Files) Pending() ([]string, error) {
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

// owns reports whether a file name is one of the action's pre-window files.
func (sp *Files) owns(name string) bool {
	name = strings.TrimPrefix(name, ".")
	name = strings.TrimSuffix(name, ".tmp")
	if !strings.HasSuffix(name, spoolExt) {
		return false
	}
	return strings.HasPrefix(name, sp.Prefix+".") || sp.legacy != "" && strings.HasPrefix(name, sp.legacy+".")
}

// spoolTime is the part of a pre-window file name after the prefix.
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
	prefixesInUse.Lock()
	inUse := make([]string, 0, len(prefixesInUse.m))
	for p := range prefixesInUse.m {
		inUse = append(inUse, p)
	}
	prefixesInUse.Unlock()
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
		if prefix, _, ok := strings.Cut(strings.TrimPrefix(n, "."), "."); ok && Locked(dir, prefix) {
			continue // another live process's files: not ours to report
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

// ClaimExtra marks prefix as claimed by this process too (files of an
// older naming an action took over).
func ClaimExtra(prefix string) {
	prefixesInUse.Lock()
	defer prefixesInUse.Unlock()
	prefixesInUse.m[prefix] = true
}
