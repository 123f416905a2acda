package core

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core/internal/shared"
	"golang.org/x/oauth2"
)

// Token is what a Strategy returns and what the Manager hands out: what
// a token is, and nothing of how the Manager keeps it (see StoredToken).
// It authorizes a request by itself: as a bearer (or other typed) token in
// the Authorization header, as extra headers, or as query parameters. That
// lets Basic and API keys ride the same pipeline as OAuth.
//
// A Token handed out by the Manager is shared between callers and must not
// be modified. Use Clone for a private copy.
//
// A Token never prints its secrets: String, GoString, Format and LogValue
// all redact. Its JSON encoding is complete, for storage only.
type Token struct {
	// AccessToken is the credential sent in the Authorization header as
	// "<TokenType> <AccessToken>". Empty means no Authorization header.
	AccessToken string `json:"access_token,omitempty"`
	// TokenType is "Bearer" (the default when empty), "Basic", or another
	// scheme.
	TokenType string `json:"token_type,omitempty"`
	// RefreshToken, when set, is passed back to the strategy as prev so it
	// can refresh rather than acquire anew.
	RefreshToken string `json:"refresh_token,omitempty"`
	// Expiry is when the access token stops working. Zero means never.
	Expiry time.Time `json:"expiry,omitzero"`
	// Header holds headers set on every request, such as an API key.
	Header http.Header `json:"header,omitempty"`
	// Query holds query parameters added to every request.
	Query url.Values `json:"query,omitempty"`
	// Extra holds further response fields (id_token, scope, …). Values
	// are treated as secrets when printed.
	Extra map[string]any `json:"extra,omitempty"`
}

// StoredToken is a token as a Store keeps it: the Token and the Manager's
// bookkeeping. Token is embedded, so the JSON is flat and reads the same
// as a Token's.
type StoredToken struct {
	Token
	// IssuedAt is when the Manager obtained the token.
	IssuedAt time.Time `json:"issued_at,omitzero"`
	// Generation increases by one with each token the Manager writes for a
	// credential. It orders tokens across processes, so an older token read
	// from a stale vault never replaces a newer one.
	Generation uint64 `json:"generation,omitempty"`
	// CredentialsDigest binds the token to the credential it came from: a
	// short digest of the credential's JSON. A stored token whose digest no
	// longer matches its credential is ignored. Empty matches any.
	CredentialsDigest string `json:"credentials_digest,omitempty"`
	// Fence is the fencing token of the lease under which the Manager wrote
	// this token (see FencingLocker), or 0.
	Fence uint64 `json:"fence,omitempty"`
}

// Clone returns a deep copy.
func (t *StoredToken) Clone() *StoredToken {
	if t == nil {
		return nil
	}
	c := *t
	c.Token = *t.Token.Clone()
	return &c
}

// newer reports whether t supersedes o for the same credential: a higher
// fence, or the same fence and a higher generation.
func (t *StoredToken) newer(o *StoredToken) bool {
	if o == nil {
		return true
	}
	if t.Fence != o.Fence {
		return t.Fence > o.Fence
	}
	return t.Generation > o.Generation
}

// String describes the token without any secret.
func (t StoredToken) String() string {
	return strings.TrimSuffix(t.Token.String(), "}") + fmt.Sprintf(" gen=%d}", t.Generation)
}

// GoString redacts like String, so %#v is safe.
func (t StoredToken) GoString() string { return "core.Stored" + t.String() }

// Format redacts for every verb, including %v, %+v, %#v, %s and %q.
func (t StoredToken) Format(f fmt.State, verb rune) {
	shared.FormatRedacted(f, verb, t.String(), t.GoString())
}

// LogValue redacts for log/slog.
func (t StoredToken) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("token", t.Token), slog.Uint64("generation", t.Generation))
}

// BasicToken returns a Token that authorizes with HTTP Basic.
func BasicToken(username, password string) *Token {
	return &Token{
		AccessToken: base64.StdEncoding.EncodeToString([]byte(username + ":" + password)),
		TokenType:   "Basic",
	}
}

// Type returns the Authorization scheme: TokenType normalised, or "Bearer".
func (t *Token) Type() string {
	switch {
	case t.TokenType == "", strings.EqualFold(t.TokenType, "bearer"):
		return "Bearer"
	case strings.EqualFold(t.TokenType, "basic"):
		return "Basic"
	case strings.EqualFold(t.TokenType, "mac"):
		return "MAC"
	}
	return t.TokenType
}

// AuthorizationHeader returns the Authorization header value, or "" when
// the token authorizes through Header or Query only.
func (t *Token) AuthorizationHeader() string {
	if t.AccessToken == "" {
		return ""
	}
	return t.Type() + " " + t.AccessToken
}

// SetAuth authorizes r in place: the Authorization header, the extra
// headers and the query parameters. Call it on a clone of a caller's
// request; a RoundTripper must not modify the request it was given.
func (t *Token) SetAuth(r *http.Request) {
	if h := t.AuthorizationHeader(); h != "" {
		r.Header.Set("Authorization", h)
	}
	for k, vs := range t.Header {
		r.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if len(t.Query) > 0 {
		q := r.URL.Query()
		for k, vs := range t.Query {
			q[k] = append([]string(nil), vs...)
		}
		r.URL.RawQuery = q.Encode()
	}
}

// Expired reports whether the token has expired at now. A token without
// Expiry never expires.
func (t *Token) Expired(now time.Time) bool {
	return !t.Expiry.IsZero() && !now.Before(t.Expiry)
}

// OAuth2 returns the token as a new *oauth2.Token. Manager.OAuth2Token
// returns one built once per token instead.
func (t *Token) OAuth2() *oauth2.Token {
	o := &oauth2.Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
	if len(t.Extra) > 0 {
		o = o.WithExtra(t.Extra)
	}
	return o
}

// Clone returns a deep copy.
func (t *Token) Clone() *Token {
	if t == nil {
		return nil
	}
	c := &Token{
		AccessToken:  t.AccessToken,
		TokenType:    t.TokenType,
		RefreshToken: t.RefreshToken,
		Expiry:       t.Expiry,
	}
	if t.Header != nil {
		c.Header = t.Header.Clone()
	}
	if t.Query != nil {
		c.Query = make(url.Values, len(t.Query))
		for k, v := range t.Query {
			c.Query[k] = append([]string(nil), v...)
		}
	}
	if t.Extra != nil {
		c.Extra = deepCopy(t.Extra).(map[string]any)
	}
	return c
}

// deepCopy copies the JSON-shaped values of Token.Extra.
func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = deepCopy(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = deepCopy(e)
		}
		return l
	}
	return v
}

// Equal reports whether two tokens authorize requests identically and
// carry the same refresh token and expiry.
func (t *Token) Equal(o *Token) bool {
	if t == nil || o == nil {
		return t == o
	}
	return t.AccessToken == o.AccessToken && t.Type() == o.Type() &&
		t.RefreshToken == o.RefreshToken && t.Expiry.Equal(o.Expiry) &&
		fmt.Sprint(t.Header) == fmt.Sprint(o.Header) && t.Query.Encode() == o.Query.Encode()
}

// String describes the token without any secret.
func (t Token) String() string {
	var b strings.Builder
	b.WriteString("Token{type=")
	if t.AccessToken != "" {
		b.WriteString(t.Type())
	} else {
		b.WriteString("none")
	}
	b.WriteString(" access=")
	b.WriteString(redacted(t.AccessToken))
	if t.RefreshToken != "" {
		b.WriteString(" refresh=[REDACTED]")
	}
	if len(t.Header) > 0 {
		b.WriteString(" headers=")
		b.WriteString(strings.Join(sortedKeys(t.Header), ","))
	}
	if len(t.Query) > 0 {
		b.WriteString(" query=")
		b.WriteString(strings.Join(sortedKeys(t.Query), ","))
	}
	if !t.Expiry.IsZero() {
		b.WriteString(" expiry=")
		b.WriteString(t.Expiry.UTC().Format(time.RFC3339))
	}
	b.WriteString("}")
	return b.String()
}

// GoString redacts like String, so %#v is safe.
func (t Token) GoString() string { return "core." + t.String() }

// Format redacts for every verb, including %v, %+v, %#v, %s and %q.
func (t Token) Format(f fmt.State, verb rune) {
	shared.FormatRedacted(f, verb, t.String(), t.GoString())
}

// LogValue redacts for log/slog.
func (t Token) LogValue() slog.Value {
	attrs := []slog.Attr{
		slog.String("type", t.Type()),
		slog.Bool("refreshable", t.RefreshToken != ""),
	}
	if !t.Expiry.IsZero() {
		attrs = append(attrs, slog.Time("expiry", t.Expiry))
	}
	return slog.GroupValue(attrs...)
}

func redacted(s string) string {
	if s == "" {
		return "none"
	}
	return "[REDACTED]"
}

// ParseStoredToken decodes a stored token: the StoredToken JSON the
// Manager writes, or goauth's tokens.TokenInfo JSON ({"serviceKey":…,"token":{…}}) that
// the seed API's VaultTokenSet writes. A malformed document is an error
// matching ErrInvalidCredentials that does not quote the input.
func ParseStoredToken(data []byte) (*StoredToken, error) {
	var probe struct {
		AccessToken string          `json:"access_token"`
		Inner       json.RawMessage `json:"token"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, fmt.Errorf("core: stored token: %w: %s", ErrInvalidCredentials, jsonErrorKind(err))
	}
	if probe.AccessToken == "" && len(probe.Inner) > 0 && string(probe.Inner) != "null" {
		data = probe.Inner
	}
	t := new(StoredToken)
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("core: stored token: %w: %s", ErrInvalidCredentials, jsonErrorKind(err))
	}
	return t, nil
}
