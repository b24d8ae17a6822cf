// SPDX-License-Identifier: Apache-2.0

// Package errorlog reads the module's error file (one JSON line per event
// HEC refused for good), rotated and compressed copies included, and keeps
// which lines a replay has had delivered, so that an interrupted replay
// goes on where it stopped.
package errorlog

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Line is one event of an error file.
type Line struct {
	// Key names the file by its first line, so that a rotation (a rename,
	// a compression) keeps the lines' identity; Off is the line's offset in
	// the file's text.
	Key    string
	Off    int64
	Time   time.Time // when it was set aside
	Reason string
	Status int // HTTP status of HEC's answer; 0: the module refused it
	Code   int // HEC's code; 0 with Status 0
	Index  string
	Event  []byte // the event object as it was sent
}

// Filter chooses lines; zero fields choose all.
type Filter struct {
	Reason       string // a part of the reason, any case
	Code         int    // HEC's code
	Index        string // the event's index ("-": events without one)
	Since, Until time.Time
}

// Match reports whether l is chosen.
func (f Filter) Match(l *Line) bool {
	switch {
	case f.Reason != "" && !strings.Contains(strings.ToLower(l.Reason), strings.ToLower(f.Reason)):
		return false
	case f.Code != 0 && l.Code != f.Code:
		return false
	case f.Index == "-" && l.Index != "", f.Index != "" && f.Index != "-" && l.Index != f.Index:
		return false
	case !f.Since.IsZero() && l.Time.Before(f.Since):
		return false
	case !f.Until.IsZero() && !l.Time.Before(f.Until):
		return false
	}
	return true
}

// line is an error file's line as written.
type line struct {
	Time   string          `json:"time"`
	Reason string          `json:"reason"`
	Status int             `json:"http_status"`
	Code   int             `json:"hec_code"`
	Event  json.RawMessage `json:"event"`
}

// Scan calls fn for each complete line of the error file at path (gzip
// when its name ends in .gz), in order. A line that is no error-file line
// is counted in bad and skipped; a last line without its newline (being
// written) is left for a later run.
//
// A symbolic link is not followed: rotated copies are found by name in a
// directory rsyslogd writes, and the replay runs as root.
func Scan(path string, fn func(*Line) error) (bad int, err error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return 0, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return 0, fmt.Errorf("%s: not a regular file", path)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		z, err := gzip.NewReader(f)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		defer z.Close()
		r = z
	} else if st, err := f.Stat(); err == nil {
		// The running action may append meanwhile: read what is there now.
		r = io.LimitReader(f, st.Size())
	}
	br := bufio.NewReaderSize(r, 1<<20)
	var key string
	var off int64
	for {
		text, err := br.ReadBytes('\n')
		if err == io.EOF {
			return bad, nil // a line without its newline is being written
		}
		if err != nil {
			return bad, fmt.Errorf("%s: %w", path, err)
		}
		at := off
		off += int64(len(text))
		if key == "" {
			sum := sha256.Sum256(text)
			key = hex.EncodeToString(sum[:12])
		}
		l, ok := parse(bytes.TrimSpace(text))
		if !ok {
			bad++
			continue
		}
		l.Key, l.Off = key, at
		if err := fn(l); err != nil {
			return bad, err
		}
	}
}

func parse(text []byte) (*Line, bool) {
	var raw line
	if err := json.Unmarshal(text, &raw); err != nil || len(raw.Event) == 0 || raw.Event[0] != '{' {
		return nil, false
	}
	var ev struct {
		Index string `json:"index"`
	}
	if json.Unmarshal(raw.Event, &ev) != nil {
		return nil, false
	}
	t, _ := time.Parse(time.RFC3339Nano, raw.Time)
	return &Line{Time: t, Reason: raw.Reason, Status: raw.Status, Code: raw.Code, Index: ev.Index,
		Event: []byte(raw.Event)}, true
}

// Rotated returns path and its rotated copies beside it (path.1,
// path.2.gz, path-20261205, ...), oldest first, path last; the replay's
// own record (DoneSuffix) excluded.
func Rotated(path string) []string {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	entries, _ := os.ReadDir(dir)
	type rotated struct {
		name string
		n    int // logrotate's number: higher is older
	}
	var found []rotated
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || n == base || !strings.HasPrefix(n, base) || strings.HasSuffix(n, DoneSuffix) {
			continue
		}
		rest := strings.TrimSuffix(n[len(base):], ".gz")
		switch {
		case strings.HasPrefix(rest, "."):
			if k, err := strconv.Atoi(rest[1:]); err == nil {
				found = append(found, rotated{n, k})
			}
		case strings.HasPrefix(rest, "-") && len(rest) > 1 && strings.Trim(rest[1:], "0123456789") == "":
			// dateext: a later date is newer.
			k, _ := strconv.Atoi(rest[1:])
			found = append(found, rotated{n, -k})
		}
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n > found[j].n })
	var out []string
	for _, r := range found {
		out = append(out, filepath.Join(dir, r.name))
	}
	return append(out, path)
}
