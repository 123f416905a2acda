package main

import (
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/internal/loopback"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
)

// Type is the credential type this plugin serves.
const Type = "githubapp"

// DefaultBaseURL is GitHub's REST API. GitHub Enterprise Server uses
// https://HOST/api/v3.
const DefaultBaseURL = "https://api.github.com"

// AllowHTTPEnv, set to 1 in the plugin's environment, lets baseURL use
// plain http on a loopback address: for tests against a local fake only.
const AllowHTTPEnv = "OMNITOKEN_GITHUBAPP_ALLOW_HTTP"

// Timing of the app JWT, as GitHub asks: iat 60 s in the past against
// clock drift, exp at most 10 minutes ahead (9 here, a margin for skew).
const (
	iatBackdate = 60 * time.Second
	jwtLifetime = 9 * time.Minute
	// defaultTokenTTL is the life of an installation token, used when a
	// response lacks expires_at.
	defaultTokenTTL = time.Hour
	minKeyBits      = 2048
)

// section is the "githubapp" credential section:
//
//	{"type":"githubapp","githubapp":{"appID":"123456","installationID":"7890123",
//	 "privateKey":"-----BEGIN RSA PRIVATE KEY-----\n…","baseURL":"https://ghe.example.com/api/v3"}}
type section struct {
	// AppID is the app's ID, or its client ID ("Iv23…"), the JWT's iss.
	AppID flexID `json:"appID"`
	// InstallationID is the installation whose token is wanted.
	InstallationID flexID `json:"installationID"`
	// PrivateKey is the app's PEM RSA private key, PKCS#1 or PKCS#8.
	PrivateKey string `json:"privateKey"`
	// BaseURL is the REST API root. Default: DefaultBaseURL.
	BaseURL string `json:"baseURL,omitempty"`
	// Repositories, when set, limits the token to these repositories.
	Repositories []string `json:"repositories,omitempty"`
	// Permissions, when set, narrows the token's permissions
	// ({"contents":"read"}).
	Permissions map[string]string `json:"permissions,omitempty"`
}

// flexID is an ID written as a JSON number or string.
type flexID string

// UnmarshalJSON accepts a JSON string or number.
func (f *flexID) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*f = flexID(s)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return errors.New("not a number or a string")
	}
	*f = flexID(n.String())
	return nil
}

// strategy issues GitHub App installation tokens.
type strategy struct {
	client    *http.Client
	now       func() time.Time
	allowHTTP bool
}

// newStrategy returns the strategy, reading AllowHTTPEnv.
func newStrategy() *strategy {
	return &strategy{
		client:    tokenhttp.NewClient(nil),
		now:       time.Now,
		allowHTTP: os.Getenv(AllowHTTPEnv) == "1",
	}
}

// Type implements core.Strategy.
func (s *strategy) Type() string { return Type }

// request is a checked section, ready to use.
type request struct {
	sec  section
	key  *rsa.PrivateKey
	base string // without a trailing slash
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("githubapp: %w: "+format, append([]any{core.ErrInvalidCredentials}, args...)...)
}

// parse checks the credential. Its errors name the field at fault and
// never quote the key.
func (s *strategy) parse(c *core.Credentials) (*request, error) {
	var sec section
	if err := c.DecodeNamedSection(Type, &sec); err != nil {
		return nil, err
	}
	if !validAppID(string(sec.AppID)) {
		return nil, invalid("appID must be the app's numeric ID or its client ID")
	}
	if !digits(string(sec.InstallationID)) {
		return nil, invalid("installationID must be a number")
	}
	if strings.TrimSpace(sec.PrivateKey) == "" {
		return nil, invalid("privateKey is empty")
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM([]byte(sec.PrivateKey))
	if err != nil {
		return nil, invalid("privateKey is not a PEM RSA private key (PKCS#1 or PKCS#8)")
	}
	if key.N.BitLen() < minKeyBits {
		return nil, invalid("privateKey has %d bits, want at least %d", key.N.BitLen(), minKeyBits)
	}
	base, err := s.checkBaseURL(sec.BaseURL)
	if err != nil {
		return nil, err
	}
	for _, r := range sec.Repositories {
		if r == "" || strings.ContainsAny(r, "/\\ \t\n") {
			return nil, invalid("repositories must be repository names without the owner")
		}
	}
	return &request{sec: sec, key: key, base: base}, nil
}

func (s *strategy) checkBaseURL(raw string) (string, error) {
	if raw == "" {
		return DefaultBaseURL, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", invalid("baseURL is not an absolute URL")
	}
	if u.User != nil {
		return "", invalid("baseURL must not hold a user or password")
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", invalid("baseURL must not have a query or fragment")
	}
	allow := s.allowHTTP && loopback.Host(u.Hostname())
	if u.Scheme == "http" && !allow {
		return "", invalid("baseURL uses plain http; only a loopback test server may, with %s=1 in the plugin's environment", AllowHTTPEnv)
	}
	if err := tokenhttp.CheckEndpoint("baseURL", raw, allow); err != nil {
		return "", fmt.Errorf("githubapp: %w", err)
	}
	return strings.TrimRight(raw, "/"), nil
}

func digits(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func validAppID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// appJWT signs the app's JWT: RS256, iss the app ID, iat backdated 60 s,
// exp 9 minutes ahead.
func (s *strategy) appJWT(r *request) (string, error) {
	now := s.now()
	claims := jwt.RegisteredClaims{
		Issuer:    string(r.sec.AppID),
		IssuedAt:  jwt.NewNumericDate(now.Add(-iatBackdate)),
		ExpiresAt: jwt.NewNumericDate(now.Add(jwtLifetime)),
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodRS256, claims).SignedString(r.key)
	if err != nil {
		return "", errors.New("githubapp: signing the app JWT failed")
	}
	return signed, nil
}

// Validate implements driver.Validator: the section is complete, the key is
// an RSA key of at least 2048 bits, and baseURL is https.
func (s *strategy) Validate(c *core.Credentials) error {
	_, err := s.parse(c)
	return err
}

// Token implements core.Strategy: it signs an app JWT and exchanges it at
// POST {baseURL}/app/installations/{id}/access_tokens for an installation
// token, which expires at the response's expires_at. prev is not used:
// installation tokens are not refreshed, they are minted anew.
func (s *strategy) Token(ctx context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	r, err := s.parse(c)
	if err != nil {
		return nil, err
	}
	signed, err := s.appJWT(r)
	if err != nil {
		return nil, err
	}
	var body io.Reader
	if len(r.sec.Repositories) > 0 || len(r.sec.Permissions) > 0 {
		b, err := json.Marshal(struct {
			Repositories []string          `json:"repositories,omitempty"`
			Permissions  map[string]string `json:"permissions,omitempty"`
		}{r.sec.Repositories, r.sec.Permissions})
		if err != nil {
			return nil, invalid("repositories or permissions do not encode")
		}
		body = bytes.NewReader(b)
	}
	endpoint := r.base + "/app/installations/" + string(r.sec.InstallationID) + "/access_tokens"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, body)
	if err != nil {
		return nil, invalid("baseURL does not make a request URL")
	}
	setHeaders(req, signed)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	status, h, respBody, err := s.do(req)
	if err != nil {
		return nil, err
	}
	if status != http.StatusCreated && status != http.StatusOK {
		return nil, s.httpError("installation token", status, h, respBody, append(keySecrets(r.sec.PrivateKey), signed)...)
	}
	var out struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	if err := json.Unmarshal(respBody, &out); err != nil || out.Token == "" {
		return nil, fmt.Errorf("githubapp: installation token response from %s has no token (%d bytes)", req.URL.Host, len(respBody))
	}
	now := s.now()
	exp, err := time.Parse(time.RFC3339, out.ExpiresAt)
	if err != nil {
		exp = now.Add(defaultTokenTTL)
	}
	if exp.Sub(now) > tokenhttp.MaxTTL {
		exp = now.Add(tokenhttp.MaxTTL)
	}
	return &core.Token{AccessToken: out.Token, TokenType: "Bearer", Expiry: exp}, nil
}

// Revoke implements driver.Revoker: DELETE {baseURL}/installation/token
// with the token itself. A token GitHub no longer accepts (401) counts as
// revoked.
func (s *strategy) Revoke(ctx context.Context, c *core.Credentials, t *core.Token) error {
	if t == nil || t.AccessToken == "" {
		return nil
	}
	r, err := s.parse(c)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, r.base+"/installation/token", nil)
	if err != nil {
		return invalid("baseURL does not make a request URL")
	}
	setHeaders(req, t.AccessToken)
	status, h, body, err := s.do(req)
	if err != nil {
		return err
	}
	if status == http.StatusNoContent || status == http.StatusOK || status == http.StatusUnauthorized {
		return nil
	}
	return s.httpError("revoke", status, h, body, t.AccessToken)
}

// keySecrets is what must never be echoed of a PEM key: the whole of it
// and each line of its body.
func keySecrets(pemKey string) []string {
	out := []string{pemKey}
	for _, line := range strings.Split(pemKey, "\n") {
		if line = strings.TrimSpace(line); len(line) >= 16 && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
		}
	}
	return out
}

func setHeaders(req *http.Request, bearer string) {
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Accept", "application/vnd.github+json")
	req.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	req.Header.Set("User-Agent", "omnitoken-githubapp")
}

// do sends req through the token client and reads at most
// tokenhttp.MaxBody of the answer. Network failures are temporary and
// never quote the request.
func (s *strategy) do(req *http.Request) (int, http.Header, []byte, error) {
	resp, err := s.client.Do(req)
	if err != nil {
		if errors.Is(err, tokenhttp.ErrRedirect) {
			return 0, nil, nil, fmt.Errorf("githubapp: %w", tokenhttp.ErrRedirect)
		}
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return 0, nil, nil, fmt.Errorf("githubapp: request to %s: %w", req.URL.Host, ctxErr)
		}
		return 0, nil, nil, fmt.Errorf("githubapp: %w", &tokenhttp.NetError{Op: "request to " + req.URL.Host, Err: unwrapURLError(err)})
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, tokenhttp.MaxBody+1))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("githubapp: %w", &tokenhttp.NetError{Op: "read response from " + req.URL.Host, Err: unwrapURLError(err)})
	}
	if len(body) > tokenhttp.MaxBody {
		return 0, nil, nil, fmt.Errorf("githubapp: response from %s is larger than %d bytes", req.URL.Host, tokenhttp.MaxBody)
	}
	return resp.StatusCode, resp.Header, body, nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// rateLimited is GitHub's 403 for an exhausted rate limit: temporary,
// with the delay GitHub asks for.
type rateLimited struct {
	err   *core.OAuthError
	delay time.Duration
}

// Error says the call was rate limited, with GitHub's answer.
func (e *rateLimited) Error() string { return "rate limited: " + e.err.Error() }

// Unwrap returns GitHub's answer.
func (e *rateLimited) Unwrap() error { return e.err }

// Temporary reports true: the call may be made again after RetryAfter.
func (e *rateLimited) Temporary() bool { return true }

// RetryAfter returns the delay GitHub asks for.
func (e *rateLimited) RetryAfter() time.Duration { return e.delay }

// httpError maps a failed answer from GitHub. 401, 403 (other than a rate
// limit), 404 and 422 are permanent and match core.ErrRefreshFailed; 429
// and 5xx are temporary and carry Retry-After. GitHub's message is kept,
// with the JWT, token and key redacted from it.
func (s *strategy) httpError(op string, status int, h http.Header, body []byte, secrets ...string) error {
	var gh struct {
		Message string `json:"message"`
		Doc     string `json:"documentation_url"`
	}
	_ = json.Unmarshal(body, &gh)
	oe := &core.OAuthError{
		StatusCode:  status,
		Description: tokenhttp.Redact(gh.Message, secrets...),
		URI:         tokenhttp.Redact(gh.Doc, secrets...),
		Retry:       tokenhttp.RetryAfter(h, s.now()),
	}
	switch {
	case status == http.StatusTooManyRequests || status >= 500:
		return fmt.Errorf("githubapp: %s: %w", op, oe)
	case status == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0"):
		delay := oe.Retry
		if delay == 0 {
			if reset, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
				delay = min(max(0, time.Unix(reset, 0).Sub(s.now())), time.Hour)
			}
		}
		return fmt.Errorf("githubapp: %s: %w", op, &rateLimited{err: oe, delay: delay})
	}
	hint := ""
	if status == http.StatusUnauthorized {
		hint = " (check appID and privateKey; an 'iat' or 'exp' complaint means this host's clock is off)"
	}
	return fmt.Errorf("githubapp: %s%s: %w: %w", op, hint, core.ErrRefreshFailed, oe)
}

var (
	_ core.Strategy    = (*strategy)(nil)
	_ driver.Validator = (*strategy)(nil)
	_ driver.Revoker   = (*strategy)(nil)
)
