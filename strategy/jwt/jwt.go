package jwt

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// Type is the credential type served: goauth's "jwt".
const Type = "jwt"

// Defaults and bounds of the token lifetime and of the clock-skew leeway.
const (
	// DefaultLifetime is the token lifetime when neither the credential
	// nor Options sets one.
	DefaultLifetime = time.Hour
	// MaxLifetime is the longest lifetime accepted. The Manager mints a
	// new token as the old one nears expiry, so long lifetimes buy
	// nothing but a longer window for a leaked token.
	MaxLifetime = 24 * time.Hour
	// DefaultLeeway is how far iat and nbf are set before the current
	// time, so receivers with a slightly slow clock accept the token.
	DefaultLeeway = 30 * time.Second
)

// Section is the "jwt" section of a credential: goauth's CredentialsJWT.
// It never prints its private key: String, GoString, Format and LogValue
// redact it.
type Section struct {
	// Issuer is the iss claim; empty omits it.
	Issuer string `json:"issuer,omitempty"`
	// PrivateKey is the HMAC secret or the PEM private key.
	PrivateKey string `json:"privateKey,omitempty"`
	// SigningMethod is the JWS algorithm, such as "HS256", "RS256" or
	// "EdDSA".
	SigningMethod string `json:"signingMethod,omitempty"`
}

// String describes the section without its key.
func (s Section) String() string {
	key := "none"
	if s.PrivateKey != "" {
		key = "[REDACTED]"
	}
	return fmt.Sprintf("jwt.Section{issuer=%q signingMethod=%q privateKey=%s}", s.Issuer, s.SigningMethod, key)
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
		slog.String("issuer", s.Issuer),
		slog.String("signingMethod", s.SigningMethod),
		slog.Bool("privateKey", s.PrivateKey != ""),
	)
}

// NewCredentials returns a "jwt" credential holding s. Lifetime, audience
// and other claims can then be set in its Additional values (see the
// package documentation). The credential is checked as Validate does.
func NewCredentials(s Section) (*core.Credentials, error) {
	c := &core.Credentials{Type: Type}
	if err := c.SetSection(Type, s); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	if _, err := parse(c, Options{}); err != nil {
		return nil, err
	}
	return c, nil
}

// Options configures a Strategy. Every field is optional. The values in a
// credential's "additional" override the ones here.
type Options struct {
	// Clock is the source of iat, nbf and exp. Default: core.SystemClock.
	Clock core.Clock
	// Lifetime of each token. Zero means DefaultLifetime. It must not be
	// negative or exceed MaxLifetime.
	Lifetime time.Duration
	// Leeway is how far iat and nbf are backdated. Zero means
	// DefaultLeeway; negative means none.
	Leeway time.Duration
	// Audience is the default aud claim.
	Audience []string
	// Subject is the default sub claim.
	Subject string
	// KeyID is the default kid header.
	KeyID string
	// Claims are default extra claims. They must not name a registered
	// claim the strategy computes (iss, sub, aud, exp, nbf, iat, jti).
	Claims map[string]any
}

// Strategy mints self-signed JWTs. It is safe for concurrent use and
// holds no state besides its Options.
type Strategy struct {
	opts   Options
	clock  core.Clock
	leeway time.Duration
}

// New returns a Strategy. It panics if opts.Lifetime is negative or above
// MaxLifetime, or if opts.Claims names a registered claim: each is a
// programming error found at start-up.
func New(opts Options) *Strategy {
	if opts.Lifetime < 0 || opts.Lifetime > MaxLifetime {
		panic(fmt.Sprintf("jwt: Options.Lifetime %s is outside (0, %s]", opts.Lifetime, MaxLifetime))
	}
	for name := range opts.Claims {
		if registered[name] || name == "" {
			panic(fmt.Sprintf("jwt: Options.Claims cannot set the claim %q", name))
		}
	}
	s := &Strategy{opts: opts, clock: opts.Clock, leeway: opts.Leeway}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	if s.leeway == 0 {
		s.leeway = DefaultLeeway
	} else if s.leeway < 0 {
		s.leeway = 0
	}
	return s
}

// Type returns "jwt".
func (s *Strategy) Type() string { return Type }

// Validate checks that c's "jwt" section decodes, names a known signing
// method and holds a key that method can sign with, and that c's
// "additional" claim settings are well formed. Errors match
// core.ErrInvalidCredentials and never quote the key.
func (s *Strategy) Validate(c *core.Credentials) error {
	_, err := parse(c, s.opts)
	return err
}

// Token signs and returns a new JWT for c. prev is ignored: every call
// mints a fresh token.
func (s *Strategy) Token(ctx context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	p, err := parse(c, s.opts)
	if err != nil {
		return nil, err
	}
	now := s.clock.Now()
	issued := now.Add(-s.leeway).Unix()
	exp := now.Add(p.lifetime).Unix()

	claims := gojwt.MapClaims{}
	for k, v := range s.opts.Claims {
		claims[k] = v
	}
	for k, v := range p.claims {
		claims[k] = v
	}
	if p.issuer != "" {
		claims["iss"] = p.issuer
	}
	if p.subject != "" {
		claims["sub"] = p.subject
	}
	switch len(p.audience) {
	case 0:
	case 1:
		claims["aud"] = p.audience[0]
	default:
		claims["aud"] = p.audience
	}
	claims["iat"] = issued
	claims["nbf"] = issued
	claims["exp"] = exp
	claims["jti"] = rand.Text()

	t := gojwt.NewWithClaims(p.method.sm, claims)
	if p.kid != "" {
		t.Header["kid"] = p.kid
	}
	signed, err := t.SignedString(p.key)
	if err != nil {
		// The library's errors hold no key material, but the key type is
		// all that matters here.
		return nil, fmt.Errorf("jwt: %w: signing with %s failed", core.ErrInvalidCredentials, p.method.name)
	}
	return &core.Token{AccessToken: signed, TokenType: "Bearer", Expiry: time.Unix(exp, 0)}, nil
}

// registered are the claims the strategy computes.
var registered = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "nbf": true, "iat": true, "jti": true}

// params is a credential resolved against Options.
type params struct {
	method   method
	key      any
	issuer   string
	subject  string
	kid      string
	audience []string
	lifetime time.Duration
	claims   map[string]any
}

func parse(c *core.Credentials, opts Options) (*params, error) {
	if c == nil {
		return nil, fmt.Errorf("jwt: %w: credential is nil", core.ErrInvalidCredentials)
	}
	var sec Section
	if err := c.DecodeNamedSection(Type, &sec); err != nil {
		return nil, fmt.Errorf("jwt: %w", err)
	}
	m, err := lookupMethod(sec.SigningMethod)
	if err != nil {
		return nil, err
	}
	key, err := m.parseKey(sec.PrivateKey)
	if err != nil {
		return nil, err
	}
	p := &params{
		method:   m,
		key:      key,
		issuer:   sec.Issuer,
		subject:  opts.Subject,
		kid:      opts.KeyID,
		audience: opts.Audience,
		lifetime: opts.Lifetime,
	}
	if p.lifetime == 0 {
		p.lifetime = DefaultLifetime
	}
	add := c.Additional
	if v, ok := add["lifetime"]; ok && len(v) > 0 {
		d, err := time.ParseDuration(strings.TrimSpace(v[0]))
		if err != nil {
			return nil, fmt.Errorf("jwt: %w: additional lifetime is not a Go duration such as \"15m\"", core.ErrInvalidCredentials)
		}
		if d <= 0 || d > MaxLifetime {
			return nil, fmt.Errorf("jwt: %w: additional lifetime %s is outside (0, %s]", core.ErrInvalidCredentials, d, MaxLifetime)
		}
		p.lifetime = d
	}
	if v, ok := add["audience"]; ok && len(v) > 0 {
		p.audience = v
	}
	if v, ok := add["subject"]; ok && len(v) > 0 {
		p.subject = v[0]
	}
	if v, ok := add["kid"]; ok && len(v) > 0 {
		p.kid = v[0]
	}
	for k, vs := range add {
		var name string
		var raw bool
		switch {
		case strings.HasPrefix(k, "claim."):
			name = strings.TrimPrefix(k, "claim.")
		case strings.HasPrefix(k, "claimjson."):
			name, raw = strings.TrimPrefix(k, "claimjson."), true
		default:
			continue
		}
		if name == "" || registered[name] {
			return nil, fmt.Errorf("jwt: %w: additional %q cannot set a registered claim; use the lifetime, audience and subject keys", core.ErrInvalidCredentials, k)
		}
		if len(vs) == 0 {
			continue
		}
		if p.claims == nil {
			p.claims = map[string]any{}
		}
		switch {
		case raw:
			var v any
			if len(vs) != 1 || json.Unmarshal([]byte(vs[0]), &v) != nil {
				return nil, fmt.Errorf("jwt: %w: additional %q must hold one JSON value", core.ErrInvalidCredentials, k)
			}
			p.claims[name] = v
		case len(vs) == 1:
			p.claims[name] = vs[0]
		default:
			p.claims[name] = append([]string(nil), vs...)
		}
	}
	return p, nil
}

// errKey builds a key error that names the method and never the key.
func errKey(m method, format string, args ...any) error {
	return fmt.Errorf("jwt: %w: signingMethod %s: privateKey %s", core.ErrInvalidCredentials, m.name, fmt.Sprintf(format, args...))
}

var _ core.Strategy = (*Strategy)(nil)
var _ driver.Validator = (*Strategy)(nil)
