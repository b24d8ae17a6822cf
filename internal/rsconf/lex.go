// SPDX-License-Identifier: Apache-2.0

package rsconf

import (
	"strconv"
	"strings"
)

// token is a word, a punctuation mark or a string (str) of RainerScript.
type token struct {
	text string
	str  bool
}

// quoted is the token as it reads in a right-hand side: a string in
// double quotes, escaped as JSON.
func (t token) quoted() string {
	if t.str {
		return strconv.Quote(t.text)
	}
	return t.text
}

const punct = "(){}=;,[]&+"

// lex splits RainerScript into tokens; comments (# to the end of the
// line, /* ... */) are dropped, and legacy lines starting with $ are
// words like any other (the legacy template is read apart).
func lex(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += end + 4
		case c == '"' || c == '\'':
			text, n := str(s[i:])
			out = append(out, token{text: text, str: true})
			i += n
		case strings.IndexByte(punct, c) >= 0:
			out = append(out, token{text: string(c)})
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n\"'#"+punct, rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out
}

// str reads a quoted string at the start of s: its value and its length.
func str(s string) (string, int) {
	q := s[0]
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == q:
			return b.String(), i + 1
		case s[i] == '\\' && i+1 < len(s):
			i++
			b.WriteByte(unescapeByte(s[i]))
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), len(s)
}

func unescapeByte(c byte) byte {
	switch c {
	case 'n':
		return '\n'
	case 't':
		return '\t'
	case 'r':
		return '\r'
	}
	return c
}

// unescape undoes a legacy template string's backslash escapes.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			b.WriteByte(unescapeByte(s[i]))
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
