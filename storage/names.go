package storage

import (
	"fmt"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// MaxSegmentLen is the longest escaped name, in bytes. With the file
// vault's ".json" or a locker's ".lock" suffix it stays below the 255-byte
// file name limit of common file systems.
const MaxSegmentLen = 240

const upperHex = "0123456789ABCDEF"

// safeByte reports whether b is kept as is in an escaped name. '.' is kept
// too, except as the first byte.
func safeByte(b byte) bool {
	return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_' || b == '-'
}

// EscapeName maps a credential name to one vault path segment, reversibly.
//
// Lower-case ASCII letters, digits, '_' and '-' are kept, and so is '.'
// except as the first byte; every other byte, upper-case letters
// included, is written as %XX in upper-case hex. The segment therefore
// never contains '/', '\\' or NUL, is never "." or "..", never starts with
// '.', and distinct names give distinct segments, so no name escapes its
// prefix or collides with another ("a/b" is "a%2Fb", "a_b" stays "a_b" and
// "a%2Fb" is "a%252%46b").
//
// Distinct segments also differ in more than letter case: "github" stays
// "github" while "GitHub" is "%47it%48ub", so the two stay apart on a
// case-insensitive file system (macOS, Windows) as well. Segments are
// plain ASCII, so file systems that normalize Unicode leave them alone.
//
// The name is first checked with driver.CheckName. A name that fails it, or
// whose segment would be longer than MaxSegmentLen bytes, is an error
// matching core.ErrInvalidCredentials.
func EscapeName(name string) (string, error) {
	if err := driver.CheckName(name); err != nil {
		return "", fmt.Errorf("storage: %w", err)
	}
	var b strings.Builder
	b.Grow(len(name))
	for i := 0; i < len(name); i++ {
		c := name[i]
		if safeByte(c) || (c == '.' && i > 0) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(upperHex[c>>4])
		b.WriteByte(upperHex[c&0xF])
	}
	if b.Len() > MaxSegmentLen {
		return "", fmt.Errorf("storage: %w: credential name escapes to %d bytes, longer than %d", core.ErrInvalidCredentials, b.Len(), MaxSegmentLen)
	}
	return b.String(), nil
}

// UnescapeName is the inverse of EscapeName. It accepts only the canonical
// form EscapeName produces, so a segment written by anything else (a
// foreign entry in the vault, "%2f" in lower case, an escaped lower-case
// letter, an upper-case letter as is) is an error matching
// core.ErrInvalidCredentials rather than a second spelling of some name.
func UnescapeName(seg string) (string, error) {
	if seg == "" || len(seg) > MaxSegmentLen {
		return "", fmt.Errorf("storage: %w: segment length %d is not a stored name", core.ErrInvalidCredentials, len(seg))
	}
	out := make([]byte, 0, len(seg))
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		switch {
		case safeByte(c) || (c == '.' && i > 0):
			out = append(out, c)
		case c == '%' && i+2 < len(seg):
			hi, lo := unhex(seg[i+1]), unhex(seg[i+2])
			if hi < 0 || lo < 0 {
				return "", fmt.Errorf("storage: %w: bad escape at byte %d of a stored name", core.ErrInvalidCredentials, i)
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		default:
			return "", fmt.Errorf("storage: %w: byte %d of a stored name is not canonical", core.ErrInvalidCredentials, i)
		}
	}
	name := string(out)
	again, err := EscapeName(name)
	if err != nil {
		return "", err
	}
	if again != seg {
		return "", fmt.Errorf("storage: %w: stored name is not in canonical form", core.ErrInvalidCredentials)
	}
	return name, nil
}

// unhex decodes one upper-case hex digit, or returns -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'A' <= c && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
