// Package basic is the strategy for goauth's "basic" credential type:
// HTTP Basic authentication (RFC 7617). It imports only core and the
// standard library.
//
// The "basic" section is goauth's CredentialsBasicAuth:
//
//	{"type":"basic","basic":{"username":"alice","password":"s3cret"}}
//	{"type":"basic","basic":{"encoded":"YWxpY2U6czNjcmV0"}}
//	{"type":"basic","basic":{"encoded":"Basic YWxpY2U6czNjcmV0"}}
//
// As in goauth, encoded wins over username and password when both are
// set. It is the base64 of "user-id:password", with or without the
// "Basic " prefix (any case); unpadded base64 is accepted and sent
// padded. A username or a password alone is allowed, as goauth allows
// it. serverURL, allowInsecure and metadata are kept with the credential
// for the caller; they play no part in the token.
//
// A token is the Authorization header "Basic <base64>". It never expires
// and carries no refresh token, so the core.Manager caches it and never
// needs to persist it.
package basic

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"log/slog"
	"sort"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// Type is the credential type served: goauth's "basic".
const Type = "basic"

// Section is the "basic" section of a credential: goauth's
// CredentialsBasicAuth, with the same JSON names. It never prints its
// username, password or encoded value, nor a password in ServerURL:
// String, GoString, Format and LogValue redact them. A username is
// redacted too, since some APIs take their key as the Basic username.
type Section struct {
	// Username is the user-id. It must not contain a colon.
	Username string `json:"username,omitempty"`
	// Password is the password.
	Password string `json:"password,omitempty"`
	// Encoded is the base64 of "user-id:password", optionally prefixed
	// with "Basic ". When set, Username and Password are ignored.
	Encoded string `json:"encoded,omitempty"`
	// ServerURL is the API's base URL, for the caller.
	ServerURL string `json:"serverURL,omitempty"`
	// AllowInsecure is goauth's flag to skip TLS verification. This
	// package does not act on it.
	AllowInsecure bool `json:"allowInsecure,omitempty"`
	// Metadata holds free-form values.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// String describes the section without any secret.
func (s Section) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "basic.Section{username=%s password=%s encoded=%s", redact(s.Username), redact(s.Password), redact(s.Encoded))
	if s.ServerURL != "" {
		fmt.Fprintf(&b, " serverURL=%q", driver.RedactURL(s.ServerURL))
	}
	if s.AllowInsecure {
		b.WriteString(" allowInsecure=true")
	}
	if len(s.Metadata) > 0 {
		keys := make([]string, 0, len(s.Metadata))
		for k := range s.Metadata {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, " metadata=%s", strings.Join(keys, ","))
	}
	b.WriteString("}")
	return b.String()
}

// GoString redacts like String, so %#v is safe.
func (s Section) GoString() string { return s.String() }

// Format redacts for every verb.
func (s Section) Format(f fmt.State, verb rune) {
	driver.FormatRedacted(f, verb, s.String())
}

// LogValue redacts for log/slog.
func (s Section) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("username", s.Username != ""),
		slog.Bool("password", s.Password != ""),
		slog.Bool("encoded", s.Encoded != ""),
		slog.String("serverURL", driver.RedactURL(s.ServerURL)),
	)
}

func redact(v string) string {
	if v == "" {
		return "none"
	}
	return "[REDACTED]"
}

// Credentials returns a "basic" credential for username and password. A
// username holding a colon makes a credential that Validate refuses.
func Credentials(username, password string) *core.Credentials {
	return mustCredentials(Section{Username: username, Password: password})
}

// EncodedCredentials returns a "basic" credential holding encoded: the
// base64 of "user-id:password", with or without the "Basic " prefix.
func EncodedCredentials(encoded string) *core.Credentials {
	return mustCredentials(Section{Encoded: encoded})
}

func mustCredentials(s Section) *core.Credentials {
	c := &core.Credentials{Type: Type}
	if err := c.SetSection(Type, s); err != nil {
		panic("basic: encoding a Section failed: " + err.Error()) // cannot happen: Section always encodes
	}
	return c
}

// NewCredentials returns a "basic" credential holding s, checked as
// Validate does.
func NewCredentials(s Section) (*core.Credentials, error) {
	c := mustCredentials(s)
	if _, err := authorization(s); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse decodes c's "basic" section and checks it as Validate does.
func Parse(c *core.Credentials) (Section, error) {
	s, err := decode(c)
	if err != nil {
		return Section{}, err
	}
	if _, err := authorization(s); err != nil {
		return Section{}, err
	}
	return s, nil
}

func decode(c *core.Credentials) (Section, error) {
	var s Section
	if c == nil {
		return s, fmt.Errorf("basic: %w: nil credential", core.ErrInvalidCredentials)
	}
	if c.Type != Type {
		return s, fmt.Errorf("basic: %w: credential type is %q, not %q", core.ErrInvalidCredentials, c.Type, Type)
	}
	if err := c.DecodeNamedSection(Type, &s); err != nil {
		return s, fmt.Errorf("basic: %w", err)
	}
	return s, nil
}

// authorization returns the base64 credentials to send after "Basic ".
// Errors match core.ErrInvalidCredentials and quote nothing of s.
func authorization(s Section) (string, error) {
	if enc := strings.TrimSpace(s.Encoded); enc != "" {
		if strings.EqualFold(enc, "basic") {
			return "", fmt.Errorf("basic: %w: encoded holds only the \"Basic\" prefix", core.ErrInvalidCredentials)
		}
		if len(enc) >= len("basic ") && strings.EqualFold(enc[:len("basic ")], "basic ") {
			enc = strings.TrimSpace(enc[len("basic "):])
		}
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(enc)
		}
		if err != nil {
			return "", fmt.Errorf("basic: %w: encoded is not base64", core.ErrInvalidCredentials)
		}
		if !bytes.Contains(raw, []byte(":")) {
			return "", fmt.Errorf("basic: %w: encoded does not decode to \"user-id:password\"", core.ErrInvalidCredentials)
		}
		return base64.StdEncoding.EncodeToString(raw), nil
	}
	if s.Username == "" && s.Password == "" {
		return "", fmt.Errorf("basic: %w: the section has no username, password or encoded value", core.ErrInvalidCredentials)
	}
	if strings.Contains(s.Username, ":") {
		return "", fmt.Errorf("basic: %w: username contains a colon, which Basic authentication cannot carry (RFC 7617)", core.ErrInvalidCredentials)
	}
	return core.BasicToken(s.Username, s.Password).AccessToken, nil
}

// Strategy issues HTTP Basic tokens. It holds no state and is safe for
// concurrent use.
type Strategy struct{}

// New returns a Strategy.
func New() *Strategy { return &Strategy{} }

// Type returns "basic".
func (*Strategy) Type() string { return Type }

// Validate checks that c is of type "basic" and that its section decodes
// and holds a username, a password or a well-formed encoded value. Errors
// match core.ErrInvalidCredentials and never quote the section.
func (*Strategy) Validate(c *core.Credentials) error {
	_, err := Parse(c)
	return err
}

// Token returns a token that authorizes with "Basic <base64>". It fails
// with ctx's error when ctx is done, and as Validate does for an invalid
// credential. prev is ignored.
func (*Strategy) Token(ctx context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("basic: %w", err)
	}
	s, err := decode(c)
	if err != nil {
		return nil, err
	}
	a, err := authorization(s)
	if err != nil {
		return nil, err
	}
	return &core.Token{AccessToken: a, TokenType: "Basic"}, nil
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ slog.LogValuer   = Section{}
)
