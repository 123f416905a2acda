package driver

import (
	"context"
	"fmt"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/internal/shared"
)

// Validator is implemented by a Strategy that checks a credential when it
// is stored. Validate returns an error matching core.ErrInvalidCredentials
// for a malformed credential, or a temporary error when it could not
// answer.
type Validator interface {
	Validate(c *core.Credentials) error
}

// Revoker is implemented by a Strategy that can revoke a token when its
// credential is deleted. Revocation is best effort, and must honour ctx.
type Revoker interface {
	Revoke(ctx context.Context, c *core.Credentials, t *core.Token) error
}

// Closer is implemented by a Strategy that holds resources, such as a
// plugin process. A Manager closes the strategies it was given in
// Options.Strategies; strategies in a Registry are closed by its owner.
type Closer interface {
	Close() error
}

// MaxNameLen is the longest credential name, in bytes.
const MaxNameLen = 200

// Both array lengths are negative, and the build fails, unless MaxNameLen
// is the limit CheckName applies.
var (
	_ [MaxNameLen - shared.MaxNameLen]struct{}
	_ [shared.MaxNameLen - MaxNameLen]struct{}
)

// CheckName reports whether name can be stored: it is not empty, is valid
// UTF-8, holds no NUL byte and is at most MaxNameLen bytes long. Other
// characters, separators and dots included, are allowed: stores escape
// them. The error matches core.ErrInvalidCredentials.
func CheckName(name string) error { return shared.CheckName(name, core.ErrInvalidCredentials) }

// NotFound wraps sentinel (core.ErrCredentialsNotFound or
// core.ErrTokenNotFound) with the credential name, for Store
// implementations.
func NotFound(sentinel error, name string) error {
	return fmt.Errorf("core: %q: %w", name, sentinel)
}

// RedactURL returns u fit for a log line or an error: a password in its
// userinfo and every query value are replaced by "xxxxx", since either may
// be a secret. A URL that does not parse is hidden whole.
func RedactURL(u string) string { return shared.RedactURL(u) }

// FormatRedacted writes a redacted description s for any fmt verb: %q
// quotes it, every other verb writes it as is. Types that hold secrets
// implement fmt.Formatter with it, so no verb, %+v and %#v included, can
// reach their fields.
func FormatRedacted(f fmt.State, verb rune, s string) { shared.FormatRedacted(f, verb, s, s) }

// DescribeJSONError describes an encoding/json error without quoting the
// input, which may be secret: the offset of a syntax error, or the field
// and the kind of value of a type error.
func DescribeJSONError(err error) string { return shared.DescribeJSONError(err) }
