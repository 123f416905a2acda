// Package safename maps vault paths to the names a secret manager
// accepts, reversibly. Each cloud's rules differ (which characters, case
// sensitivity, length), so a Mapping states them and escapes every other
// byte as the escape character followed by two hex digits.
package safename

import (
	"errors"
	"fmt"
	"strings"
)

// Mapping is one secret manager's rule for names.
type Mapping struct {
	// Keep reports whether a byte stands for itself. It must be false for
	// Escape and for every byte that is not a valid name character.
	Keep func(b byte) bool
	// Escape starts an escape: Escape, then two hex digits.
	Escape byte
	// LowerHex writes escapes in lower-case hex, for names compared
	// without regard to case.
	LowerHex bool
	// MaxLen bounds an encoded name, in bytes; 0 means no bound.
	MaxLen int
}

// ErrTooLong is returned by Encode for a name longer than MaxLen once
// encoded.
var ErrTooLong = errors.New("safename: name too long")

// Encode maps p to a name, keeping the bytes Keep allows.
func (m Mapping) Encode(p string) (string, error) {
	hex := "0123456789ABCDEF"
	if m.LowerHex {
		hex = "0123456789abcdef"
	}
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != m.Escape && m.Keep(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(m.Escape)
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	if m.MaxLen > 0 && b.Len() > m.MaxLen {
		return "", fmt.Errorf("%w: %d bytes encoded, at most %d", ErrTooLong, b.Len(), m.MaxLen)
	}
	return b.String(), nil
}

// Decode reverses Encode. A name that Encode cannot have produced is an
// error.
func (m Mapping) Decode(name string) (string, error) {
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c != m.Escape {
			if !m.Keep(c) {
				return "", fmt.Errorf("safename: byte %q at %d is neither kept nor escaped", c, i)
			}
			b.WriteByte(c)
			continue
		}
		if i+2 >= len(name) {
			return "", fmt.Errorf("safename: truncated escape at %d", i)
		}
		hi, ok1 := unhex(name[i+1])
		lo, ok2 := unhex(name[i+2])
		if !ok1 || !ok2 {
			return "", fmt.Errorf("safename: malformed escape at %d", i)
		}
		d := hi<<4 | lo
		if d != m.Escape && m.Keep(d) {
			return "", fmt.Errorf("safename: escape at %d stands for a byte that is kept", i)
		}
		b.WriteByte(d)
		i += 2
	}
	return b.String(), nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
