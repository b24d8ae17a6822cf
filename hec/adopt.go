// SPDX-License-Identifier: Apache-2.0

package hec

import (
	"fmt"
	"strings"
	"sync"

	"github.com/omsplunkgo/omsplunkgo/hec/internal/segment"
	"github.com/omsplunkgo/omsplunkgo/hec/internal/winfile"
)

// Window files an unnamed action left under its earlier destination: an
// unnamed action's files are named after its servers, token and index, so
// a fixed server URL or a rotated token renames it. Once every action has
// started, files that no action claims go to the one unnamed action of
// the configuration that differs from their destination only in the
// servers or only in the token (winfile.Identity); to none when several
// could, nor to any action whose destination differs in more.

var unnamed = struct {
	sync.Mutex
	m map[string][]*Sender // by spool directory
}{m: map[string][]*Sender{}}

// registerUnnamed records this unnamed action's destination beside its
// files and as a possible heir of earlier files.
func (s *Sender) registerUnnamed() {
	id := s.identity()
	if err := winfile.WriteIdentity(s.files.Dir, s.files.Prefix, id); err != nil {
		s.log(SevWarning, fmt.Sprintf("omsplunkgo: %s: cannot record the destination of this action's window files "+
			"(%v): should its servers or token change, they wait for a hand-made rename", s.files.Dir, err))
	}
	unnamed.Lock()
	defer unnamed.Unlock()
	unnamed.m[s.files.Dir] = append(unnamed.m[s.files.Dir], s)
}

func (s *Sender) identity() winfile.Identity {
	var servers []string
	for _, u := range s.cfg.Endpoints {
		servers = append(servers, u.String())
	}
	return winfile.IdentityOf(servers, s.cfg.Token, s.cfg.Index)
}

// adoptUnnamed hands each set of unclaimed files in dir that has an
// identity to its one plausible heir.
func adoptUnnamed(dir string, log Logger) {
	unnamed.Lock()
	heirs := unnamed.m[dir]
	delete(unnamed.m, dir)
	unnamed.Unlock()
	if len(heirs) == 0 {
		return
	}
	ids := make([]winfile.Identity, len(heirs))
	for i, s := range heirs {
		ids[i] = s.identity()
	}
	for _, prefix := range winfile.UnclaimedPrefixes(dir, segment.Ext) {
		fileID, ok := winfile.ReadIdentity(dir, prefix)
		if !ok {
			continue
		}
		var found []*Sender
		var how winfile.Kinship
		for i, s := range heirs {
			if k := fileID.KinOf(ids[i]); k != winfile.Unrelated {
				found, how = append(found, s), k
			}
		}
		switch {
		case len(found) == 1:
			found[0].adopt(prefix, how)
		case len(found) > 1:
			var names []string
			for _, s := range found {
				names = append(names, s.files.Prefix)
			}
			log(SevWarning, fmt.Sprintf("omsplunkgo: the window files %s/%s.* of an unnamed action could belong to %d "+
				"actions of this configuration (%s): none sends them; give the actions a name= and rename the files "+
				"to the right one's prefix", dir, prefix, len(found), strings.Join(names, ", ")))
		}
	}
}

// adopt takes the files of prefix as its own: locked, claimed, replayed.
func (s *Sender) adopt(prefix string, how winfile.Kinship) {
	s.locksMu.Lock()
	if s.stopping.Load() || s.locks == nil {
		s.locksMu.Unlock()
		return
	}
	l, err := winfile.TakeLock(s.files.Dir, prefix)
	if err != nil {
		s.locksMu.Unlock()
		return // another process took them meanwhile
	}
	s.locks = append(s.locks, l)
	s.locksMu.Unlock()
	winfile.ClaimExtra(prefix)
	why := "the same token and index, other servers (a server's URL changed)"
	if how == winfile.TokenChanged {
		why = "the same servers and index, another token (the token was changed)"
	}
	s.log(SevInfo, fmt.Sprintf("omsplunkgo: window files %s/%s.* of an earlier run go to this action (%s): %s; "+
		"no other action of this configuration could be theirs", s.files.Dir, prefix, s.files.Prefix, why))
	s.replayPrefix(prefix)
}
