// SPDX-License-Identifier: Apache-2.0

package event

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// An event's indexed fields, as a fields template renders them: checked
// before they go into the event object.

// ValidFields reports whether b is one JSON object whose values are all
// strings or arrays of strings (what HEC takes as indexed fields), and
// whether it has no members. Surrounding white space is allowed.
func ValidFields(b []byte) (ok, empty bool) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return skipSpace(b, i+1) == len(b), true
	}
	for {
		var good bool
		if i, good = scanString(b, i); !good {
			return false, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return false, false
		}
		i = skipSpace(b, i+1)
		if i < len(b) && b[i] == '[' {
			if i, good = scanStringArray(b, i); !good {
				return false, false
			}
		} else if i, good = scanString(b, i); !good {
			return false, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return false, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return skipSpace(b, i+1) == len(b), false
		default:
			return false, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// scanStringArray scans ["a", "b"] (possibly empty) at b[i].
func scanStringArray(b []byte, i int) (int, bool) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, true
	}
	for {
		var good bool
		if i, good = scanString(b, i); !good {
			return i, false
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return i, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case ']':
			return i + 1, true
		default:
			return i, false
		}
	}
}

// scanString scans one JSON string at b[i]: no raw control characters,
// valid escapes, valid UTF-8.
func scanString(b []byte, i int) (int, bool) {
	if i >= len(b) || b[i] != '"' {
		return i, false
	}
	for i++; i < len(b); {
		c := b[i]
		switch {
		case c == '"':
			return i + 1, true
		case c < 0x20:
			return i, false
		case c == '\\':
			if i+1 >= len(b) {
				return i, false
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(b) || !isHex4(b[i+2:i+6]) {
					return i, false
				}
				i += 6
			default:
				return i, false
			}
		case c >= 0x80:
			r, size := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && size == 1 {
				return i, false
			}
			i += size
		default:
			i++
		}
	}
	return i, false
}

func isHex4(b []byte) bool {
	for _, c := range b {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// AddField returns the fields object f (valid, or empty: none) with the
// member name: value added, in a new slice; f as it is when it has a
// member of that name already (the rendering's own value wins: a key
// twice is no valid indexed field).
func AddField(f []byte, name string, value []byte) []byte {
	f = bytes.TrimSpace(f)
	if bytes.Contains(f, []byte(`"`+name+`"`)) {
		var m map[string]json.RawMessage
		if json.Unmarshal(f, &m) == nil {
			if _, ok := m[name]; ok {
				return f
			}
		}
	}
	out := make([]byte, 0, len(f)+len(name)+len(value)+8)
	if len(f) < 2 {
		out = append(out, '{')
	} else {
		inner := bytes.TrimSpace(f[1 : len(f)-1])
		out = append(out, '{')
		if len(inner) > 0 {
			out = append(out, inner...)
			out = append(out, ',')
		}
	}
	out = AppendJSONString(out, []byte(name))
	out = append(out, ':')
	out = AppendJSONString(out, value)
	return append(out, '}')
}
