package core

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxNameLen is the longest credential name, in bytes.
const MaxNameLen = 200

// CheckName reports whether name can be stored: it is not empty, is valid
// UTF-8, holds no NUL byte and is at most MaxNameLen bytes long. Other
// characters, separators and dots included, are allowed: stores escape
// them. The error matches ErrInvalidCredentials.
func CheckName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("core: %w: empty credential name", ErrInvalidCredentials)
	case len(name) > MaxNameLen:
		return fmt.Errorf("core: %w: credential name is %d bytes, longer than %d", ErrInvalidCredentials, len(name), MaxNameLen)
	case strings.IndexByte(name, 0) >= 0:
		return fmt.Errorf("core: %w: credential name contains NUL", ErrInvalidCredentials)
	case !utf8.ValidString(name):
		return fmt.Errorf("core: %w: credential name is not valid UTF-8", ErrInvalidCredentials)
	}
	return nil
}

func notFound(sentinel error, name string) error {
	return fmt.Errorf("core: %q: %w", name, sentinel)
}

// NotFound wraps sentinel (ErrCredentialsNotFound or ErrTokenNotFound)
// with the credential name, for Store implementations.
func NotFound(sentinel error, name string) error { return notFound(sentinel, name) }
