// SPDX-License-Identifier: Apache-2.0

package winfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
)

// An unnamed action's files are named after its destination (servers,
// token and index), so fixing a server's URL or rotating the token gives
// the action a new name, and its files would wait for a hand-made mv. The
// identity file beside them (<prefix>.id) keeps the destination's parts,
// hashed (the token is never written), so that a start can find the one
// action of its configuration that differs from them only in the servers
// or only in the token.

// Identity is an unnamed action's destination, each part hashed.
type Identity struct {
	Servers string `json:"servers"`
	Token   string `json:"token"`
	Index   string `json:"index"`
}

// IdentityOf hashes a destination; the order of the servers does not
// matter.
func IdentityOf(servers []string, token, index string) Identity {
	s := append([]string(nil), servers...)
	sort.Strings(s)
	return Identity{Servers: digest(strings.Join(s, "\x00")), Token: digest(token), Index: digest(index)}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte("omsplunkgo identity\x00" + s))
	return hex.EncodeToString(sum[:16])
}

// Kinship says how a file's identity relates to an action's: the same
// token and index with other servers (a server's URL changed), or the
// same servers and index with another token (the token was rotated).
type Kinship int

const (
	Unrelated Kinship = iota
	ServersChanged
	TokenChanged
)

// KinOf tells how the identity of a file relates to an action's (own).
func (file Identity) KinOf(own Identity) Kinship {
	switch {
	case file.Index != own.Index:
		return Unrelated
	case file.Token == own.Token && file.Servers != own.Servers:
		return ServersChanged
	case file.Servers == own.Servers && file.Token != own.Token:
		return TokenChanged
	}
	return Unrelated
}

// IdentityExt ends the name of an unnamed action's destination record.
const IdentityExt = ".id"

// WriteIdentity records id beside the files of prefix (written to a
// temporary name and renamed: a crash leaves the old one or the new).
func WriteIdentity(dir, prefix string, id Identity) error {
	path := filepath.Join(dir, prefix+IdentityExt)
	b, err := json.Marshal(id)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(path); err == nil && string(old) == string(b) {
		return nil
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

// ReadIdentity reads the identity of prefix's files; false when there is
// none, or it is not one (a crafted or damaged file names no owner).
func ReadIdentity(dir, prefix string) (Identity, bool) {
	f, err := os.OpenFile(filepath.Join(dir, prefix+IdentityExt), os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0)
	if err != nil {
		return Identity{}, false
	}
	defer f.Close()
	var id Identity
	dec := json.NewDecoder(&limitedReader{f: f, n: 4096})
	if dec.Decode(&id) != nil || !isDigest(id.Servers) || !isDigest(id.Token) || !isDigest(id.Index) {
		return Identity{}, false
	}
	return id, true
}

func isDigest(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// limitedReader reads at most n bytes of f.
type limitedReader struct {
	f *os.File
	n int
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, os.ErrInvalid
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.f.Read(p)
	l.n -= n
	return n, err
}

// UnclaimedPrefixes lists the prefixes of files in dir that no action of
// this process claims and no other process holds, among the files
// Unclaimed would report.
func UnclaimedPrefixes(dir, otherExt string) []string {
	names, _ := Unclaimed(dir, otherExt, func(string) int { return 0 })
	seen := map[string]bool{}
	var out []string
	for _, n := range names {
		p, _, ok := strings.Cut(strings.TrimPrefix(n, "."), ".")
		if ok && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
