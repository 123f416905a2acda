package core

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/plexusone/omnitoken/core/internal/shared"
	"golang.org/x/oauth2"
)

// Credentials is the envelope of one stored credential. It reads and
// writes goauth's Credentials JSON exactly:
//
//	{"service":"github","type":"oauth2","oauth2":{"clientID":"…","grantType":"client_credentials"}}
//
// Service, Type, Subdomain, Token and Additional are fields. Every other
// top-level key is a section whose raw JSON is kept as it came. A strategy
// decodes the section named by Type into its own struct with
// DecodeSection. Decoding and encoding again gives back the same JSON,
// sections the engine does not know included, so a plugin's own
// credential type travels through the vault untouched.
//
// Credentials never print their sections or token: String, GoString,
// Format and LogValue redact.
type Credentials struct {
	// Service names the API provider, such as "github" or "google".
	Service string
	// Type selects the Strategy, such as "oauth2" or "basic".
	Type string
	// Subdomain is used by services whose endpoints depend on a tenant.
	Subdomain string
	// Token is a static token carried in the credential itself.
	Token *oauth2.Token
	// Additional holds free-form extra values.
	Additional url.Values

	sections map[string]json.RawMessage
}

// goauthOrder is the order of goauth's Credentials struct fields; encoding
// follows it so that the bytes match goauth's own json.Marshal.
var goauthOrder = []string{"basic", "headerquery", "gcpsa", "googleoauth2", "jwt", "oauth2"}

var reservedKeys = map[string]bool{"service": true, "type": true, "subdomain": true, "token": true, "additional": true}

// ParseCredentials decodes goauth JSON. A malformed document is an error
// matching ErrInvalidCredentials that does not quote the input.
func ParseCredentials(data []byte) (*Credentials, error) {
	c := new(Credentials)
	if err := c.UnmarshalJSON(data); err != nil {
		return nil, err
	}
	return c, nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (c *Credentials) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("core: credentials: %w: %s", ErrInvalidCredentials, jsonErrorKind(err))
	}
	if raw == nil {
		return fmt.Errorf("core: credentials: %w: not a JSON object", ErrInvalidCredentials)
	}
	var out Credentials
	for k, v := range raw {
		var err error
		switch k {
		case "service":
			err = json.Unmarshal(v, &out.Service)
		case "type":
			err = json.Unmarshal(v, &out.Type)
		case "subdomain":
			err = json.Unmarshal(v, &out.Subdomain)
		case "token":
			err = json.Unmarshal(v, &out.Token)
		case "additional":
			err = json.Unmarshal(v, &out.Additional)
		default:
			if out.sections == nil {
				out.sections = make(map[string]json.RawMessage, len(raw))
			}
			out.sections[k] = append(json.RawMessage(nil), v...)
		}
		if err != nil {
			return fmt.Errorf("core: credentials: %w: field %q: %s", ErrInvalidCredentials, k, jsonErrorKind(err))
		}
	}
	*c = out
	return nil
}

// MarshalJSON implements json.Marshaler (on values and pointers), producing goauth's field order:
// service, type, subdomain, goauth's sections, other sections sorted by
// name, token, additional.
func (c Credentials) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	put := func(key string, v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("core: credentials: encode %q: %w", key, err)
		}
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := json.Marshal(key)
		buf.Write(kb)
		buf.WriteByte(':')
		buf.Write(b)
		return nil
	}
	if c.Service != "" {
		_ = put("service", c.Service)
	}
	if c.Type != "" {
		_ = put("type", c.Type)
	}
	if c.Subdomain != "" {
		_ = put("subdomain", c.Subdomain)
	}
	for _, k := range c.sectionOrder() {
		if err := put(k, c.sections[k]); err != nil {
			return nil, err
		}
	}
	if c.Token != nil {
		if err := put("token", c.Token); err != nil {
			return nil, err
		}
	}
	if len(c.Additional) > 0 {
		if err := put("additional", c.Additional); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (c *Credentials) sectionOrder() []string {
	keys := make([]string, 0, len(c.sections))
	for _, k := range goauthOrder {
		if _, ok := c.sections[k]; ok {
			keys = append(keys, k)
		}
	}
	var rest []string
	for k := range c.sections {
		if !slices.Contains(goauthOrder, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	return append(keys, rest...)
}

// Sections returns the names of the sections present, in encoding order.
func (c *Credentials) Sections() []string { return c.sectionOrder() }

// Section returns a copy of the raw JSON of the named section, or nil.
func (c *Credentials) Section(name string) json.RawMessage {
	v, ok := c.sections[name]
	if !ok {
		return nil
	}
	return append(json.RawMessage(nil), v...)
}

// HasSection reports whether the named section is present and not null.
func (c *Credentials) HasSection(name string) bool {
	v, ok := c.sections[name]
	return ok && !bytes.Equal(bytes.TrimSpace(v), []byte("null"))
}

// SetSection stores v as the named section. v may be a json.RawMessage,
// which is kept as is after a validity check, or any value json.Marshal
// accepts. A nil v removes the section. The reserved top-level keys
// (service, type, subdomain, token, additional) cannot be sections.
func (c *Credentials) SetSection(name string, v any) error {
	if name == "" || reservedKeys[name] {
		return fmt.Errorf("core: credentials: %w: %q is not a section name", ErrInvalidCredentials, name)
	}
	if v == nil {
		delete(c.sections, name)
		return nil
	}
	var raw json.RawMessage
	switch x := v.(type) {
	case json.RawMessage:
		if !json.Valid(x) {
			return fmt.Errorf("core: credentials: %w: section %q is not valid JSON", ErrInvalidCredentials, name)
		}
		raw = append(json.RawMessage(nil), x...)
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("core: credentials: encode section %q: %w", name, err)
		}
		raw = b
	}
	if c.sections == nil {
		c.sections = make(map[string]json.RawMessage)
	}
	c.sections[name] = raw
	return nil
}

// DecodeSection decodes the section named by c.Type into v. A missing or
// null section, or one that does not decode, is an error matching
// ErrInvalidCredentials that names the section but never quotes it.
func (c *Credentials) DecodeSection(v any) error {
	return c.DecodeNamedSection(c.Type, v)
}

// DecodeNamedSection decodes the named section into v, as DecodeSection.
func (c *Credentials) DecodeNamedSection(name string, v any) error {
	if !c.HasSection(name) {
		return fmt.Errorf("core: credentials: %w: type %q has no %q section", ErrInvalidCredentials, c.Type, name)
	}
	if err := json.Unmarshal(c.sections[name], v); err != nil {
		return fmt.Errorf("core: credentials: %w: section %q: %s", ErrInvalidCredentials, name, jsonErrorKind(err))
	}
	return nil
}

// Clone returns a deep copy.
func (c *Credentials) Clone() *Credentials {
	if c == nil {
		return nil
	}
	out := *c
	if c.Token != nil {
		t := *c.Token
		out.Token = &t
	}
	if c.Additional != nil {
		out.Additional = make(url.Values, len(c.Additional))
		for k, v := range c.Additional {
			out.Additional[k] = append([]string(nil), v...)
		}
	}
	if c.sections != nil {
		out.sections = make(map[string]json.RawMessage, len(c.sections))
		for k, v := range c.sections {
			out.sections[k] = append(json.RawMessage(nil), v...)
		}
	}
	return &out
}

// Fingerprint returns a digest of the credential's JSON. It changes
// whenever the credential changes and reveals nothing of it.
func (c *Credentials) Fingerprint() [32]byte {
	b, err := c.MarshalJSON()
	if err != nil {
		return [32]byte{}
	}
	return sha256.Sum256(b)
}

// String describes the credential without any secret.
func (c Credentials) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Credentials{service=%q type=%q", c.Service, c.Type)
	if c.Subdomain != "" {
		fmt.Fprintf(&b, " subdomain=%q", c.Subdomain)
	}
	if s := c.sectionOrder(); len(s) > 0 {
		fmt.Fprintf(&b, " sections=%s", strings.Join(s, ","))
	}
	if c.Token != nil {
		b.WriteString(" token=[REDACTED]")
	}
	if len(c.Additional) > 0 {
		b.WriteString(" additional=")
		b.WriteString(strings.Join(sortedKeys(c.Additional), ","))
	}
	b.WriteString("}")
	return b.String()
}

// GoString redacts like String, so %#v is safe.
func (c Credentials) GoString() string { return "core." + c.String() }

// Format redacts for every verb.
func (c Credentials) Format(f fmt.State, verb rune) {
	shared.FormatRedacted(f, verb, c.String(), c.GoString())
}

// LogValue redacts for log/slog.
func (c Credentials) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("service", c.Service),
		slog.String("type", c.Type),
		slog.Any("sections", c.sectionOrder()),
	)
}

func jsonErrorKind(err error) string { return shared.DescribeJSONError(err) }

func sortedKeys[M ~map[string]V, V any](m M) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
