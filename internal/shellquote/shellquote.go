// Package shellquote quotes a word for a POSIX shell, so that a command
// printed for a person (such as "omnitoken login NAME") can be pasted as
// is, whatever NAME holds.
package shellquote

import "strings"

// Quote returns s as one POSIX shell word: bare when it holds only
// characters no shell treats specially, else in single quotes, each
// single quote inside closed, escaped and reopened. The empty string
// becomes a pair of single quotes.
func Quote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@%+=,", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
