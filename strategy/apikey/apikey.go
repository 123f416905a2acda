// Package apikey is the strategy for goauth's "headerquery" credential
// type: API keys and other fixed values sent as request headers or query
// parameters. It imports only core and the standard library.
//
// The "headerquery" section is goauth's CredentialsHeaderQuery:
//
//	{"type":"headerquery","headerquery":{"header":{"X-Api-Key":["k-123"]}}}
//	{"type":"headerquery","headerquery":{"query":{"api_key":["k-123"]}}}
//	{"type":"headerquery","headerquery":{"header":{"Authorization":["Bearer k-123"]},"serverURL":"https://api.example.com"}}
//
// A token carries the section's headers and query parameters, and
// core.Token.SetAuth puts them on every request. Header names are
// canonicalized; names that differ only in case are merged, their values
// in the order of the names sorted. A query parameter replaces one of the
// same name already in the request URL. serverURL and allowInsecure are
// kept with the credential for the caller; they play no part in the
// token.
//
// The section must hold at least one non-empty value. Header names must
// be valid HTTP field names and not ones the HTTP client manages itself
// (Host, Content-Length, Transfer-Encoding, Connection and other
// hop-by-hop headers); header values must not hold control characters,
// which would let a value inject a header. Query parameter names must not
// be empty.
//
// A token never expires and carries no refresh token, so the
// core.Manager caches it and never needs to persist it.
package apikey

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// Type is the credential type served: goauth's "headerquery".
const Type = "headerquery"

// Section is the "headerquery" section of a credential: goauth's
// CredentialsHeaderQuery, with the same JSON names. It never prints a
// header or query value, nor a password in ServerURL: String, GoString,
// Format and LogValue show names only.
type Section struct {
	// ServerURL is the API's base URL, for the caller.
	ServerURL string `json:"serverURL,omitempty"`
	// Header holds the headers to set on every request.
	Header http.Header `json:"header,omitempty"`
	// Query holds the query parameters to set on every request.
	Query url.Values `json:"query,omitempty"`
	// AllowInsecure is goauth's flag to skip TLS verification. This
	// package does not act on it.
	AllowInsecure bool `json:"allowInsecure,omitempty"`
}

// String describes the section by its header and parameter names only.
func (s Section) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apikey.Section{header=%s query=%s", names(s.Header), names(s.Query))
	if s.ServerURL != "" {
		fmt.Fprintf(&b, " serverURL=%q", driver.RedactURL(s.ServerURL))
	}
	if s.AllowInsecure {
		b.WriteString(" allowInsecure=true")
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
		slog.String("header", names(s.Header)),
		slog.String("query", names(s.Query)),
		slog.String("serverURL", driver.RedactURL(s.ServerURL)),
	)
}

func names[M ~map[string][]string](m M) string {
	if len(m) == 0 {
		return "none"
	}
	return strings.Join(sortedKeys(m), ",")
}

func sortedKeys[M ~map[string][]string](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Header returns a "headerquery" credential that sends value in the
// header name, such as Header("X-Api-Key", key).
func Header(name, value string) *core.Credentials {
	return mustCredentials(Section{Header: http.Header{name: {value}}})
}

// Query returns a "headerquery" credential that sends value as the query
// parameter param, such as Query("api_key", key).
func Query(param, value string) *core.Credentials {
	return mustCredentials(Section{Query: url.Values{param: {value}}})
}

// NewCredentials returns a "headerquery" credential holding s, checked as
// Validate does.
func NewCredentials(s Section) (*core.Credentials, error) {
	if err := check(s); err != nil {
		return nil, err
	}
	return mustCredentials(s), nil
}

func mustCredentials(s Section) *core.Credentials {
	c := &core.Credentials{Type: Type}
	if err := c.SetSection(Type, s); err != nil {
		panic("apikey: encoding a Section failed: " + err.Error()) // cannot happen: Section always encodes
	}
	return c
}

// Parse decodes c's "headerquery" section and checks it as Validate does.
func Parse(c *core.Credentials) (Section, error) {
	var s Section
	if c == nil {
		return s, fmt.Errorf("apikey: %w: nil credential", core.ErrInvalidCredentials)
	}
	if c.Type != Type {
		return s, fmt.Errorf("apikey: %w: credential type is %q, not %q", core.ErrInvalidCredentials, c.Type, Type)
	}
	if err := c.DecodeNamedSection(Type, &s); err != nil {
		return s, fmt.Errorf("apikey: %w", err)
	}
	if err := check(s); err != nil {
		return Section{}, err
	}
	return s, nil
}

// managed are headers the HTTP client sets or drops itself: a value given
// for them would be ignored or would break the request's framing.
var managed = map[string]bool{
	"Host": true, "Content-Length": true, "Transfer-Encoding": true, "Connection": true,
	"Keep-Alive": true, "Proxy-Connection": true, "Te": true, "Trailer": true, "Upgrade": true,
}

// check validates s. Errors match core.ErrInvalidCredentials and name
// headers and parameters but never quote a value.
func check(s Section) error {
	values := 0
	for _, name := range sortedKeys(s.Header) {
		if !validFieldName(name) {
			return fmt.Errorf("apikey: %w: header name %q is not a valid HTTP field name", core.ErrInvalidCredentials, name)
		}
		if managed[http.CanonicalHeaderKey(name)] {
			return fmt.Errorf("apikey: %w: header %q is managed by the HTTP client and cannot carry a credential", core.ErrInvalidCredentials, name)
		}
		for _, v := range s.Header[name] {
			if !validFieldValue(v) {
				return fmt.Errorf("apikey: %w: a value of header %q holds a control character", core.ErrInvalidCredentials, name)
			}
			if v != "" {
				values++
			}
		}
	}
	for name, vs := range s.Query {
		if name == "" {
			return fmt.Errorf("apikey: %w: a query parameter has an empty name", core.ErrInvalidCredentials)
		}
		for _, v := range vs {
			if v != "" {
				values++
			}
		}
	}
	if values == 0 {
		return fmt.Errorf("apikey: %w: the section has no header or query value", core.ErrInvalidCredentials)
	}
	return nil
}

// validFieldName reports whether name is an RFC 9110 token.
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validFieldValue reports whether v holds no control character other
// than horizontal tab, so it cannot end the header line.
func validFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// Strategy issues tokens that carry a credential's headers and query
// parameters. It holds no state and is safe for concurrent use.
type Strategy struct{}

// New returns a Strategy.
func New() *Strategy { return &Strategy{} }

// Type returns "headerquery".
func (*Strategy) Type() string { return Type }

// Validate checks that c is of type "headerquery" and that its section
// decodes and holds well-formed headers or query parameters, at least one
// with a value. Errors match core.ErrInvalidCredentials and never quote a
// value.
func (*Strategy) Validate(c *core.Credentials) error {
	_, err := Parse(c)
	return err
}

// Token returns a token carrying c's headers, canonicalized, and query
// parameters. It fails with ctx's error when ctx is done, and as Validate
// does for an invalid credential. prev is ignored.
func (*Strategy) Token(ctx context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("apikey: %w", err)
	}
	s, err := Parse(c)
	if err != nil {
		return nil, err
	}
	tok := &core.Token{}
	for _, name := range sortedKeys(s.Header) {
		vs := s.Header[name]
		if len(vs) == 0 {
			continue
		}
		if tok.Header == nil {
			tok.Header = make(http.Header, len(s.Header))
		}
		k := http.CanonicalHeaderKey(name)
		tok.Header[k] = append(tok.Header[k], vs...)
	}
	for name, vs := range s.Query {
		if len(vs) == 0 {
			continue
		}
		if tok.Query == nil {
			tok.Query = make(url.Values, len(s.Query))
		}
		tok.Query[name] = append([]string(nil), vs...)
	}
	return tok, nil
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ slog.LogValuer   = Section{}
)
