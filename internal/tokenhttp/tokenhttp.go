// Package tokenhttp is the HTTP side shared by the strategies that talk to
// token endpoints: a client that refuses what a token request must never
// do, a bounded response reader, a token-response parser, and the mapping
// of failures to core.OAuthError without leaking secrets.
package tokenhttp

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loopback"
	"golang.org/x/oauth2"
)

// MaxBody is the most read from a token endpoint's response.
const MaxBody = 1 << 20

// Bounds for expires_in. A token endpoint's zero or negative value is
// refused (ErrExpiredOnArrival); a value above MaxTTL is clamped to it.
const (
	// DefaultTTL is the lifetime given for an expires_in that is not a
	// number, and by strategies whose tokens always expire (gcpsa) when
	// the response has none.
	DefaultTTL = time.Hour
	// MaxTTL is the longest lifetime a token is given.
	MaxTTL = 366 * 24 * time.Hour
	// RequestTimeout bounds one token request when the caller's context
	// has no earlier deadline.
	RequestTimeout = 30 * time.Second
)

// ErrExpiredOnArrival is returned for a token response whose expires_in is
// zero or negative: the token is expired when it arrives. It is refused
// rather than given some default lifetime, since the server said it is
// not valid, and rather than cached as expired, which would send every
// caller back to the token endpoint. It matches core.ErrTokenExpired.
var ErrExpiredOnArrival = fmt.Errorf("tokenhttp: %w on arrival: the token response's expires_in is zero or negative", core.ErrTokenExpired)

// ErrRedirect is returned when a token endpoint answers with a redirect:
// a credential is never sent on to another location.
var ErrRedirect = errors.New("tokenhttp: token endpoint redirected; refusing to follow")

// NewClient returns the client for token requests: TLS 1.2 or later, no
// redirects followed, and a per-request timeout. base, when not nil,
// provides the Transport (its TLS settings are the caller's).
func NewClient(base *http.Client) *http.Client {
	c := &http.Client{Timeout: RequestTimeout}
	if base != nil {
		c.Transport = base.Transport
		if base.Timeout > 0 {
			c.Timeout = base.Timeout
		}
	}
	if c.Transport == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		c.Transport = ownTransport{t}
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return ErrRedirect }
	return c
}

// ownTransport marks a transport NewClient made, which Release closes.
type ownTransport struct{ *http.Transport }

// Release closes the idle connections of c's transport if NewClient made
// it; a transport the caller gave NewClient is theirs and is left alone.
// A strategy's Close calls it. It is safe to call more than once, and c
// stays usable.
func Release(c *http.Client) {
	if t, ok := c.Transport.(ownTransport); ok {
		t.CloseIdleConnections()
	}
}

// CheckEndpoint refuses an endpoint that would carry a credential in the
// clear: plain http is accepted only to a loopback host (see Loopback),
// as Duende IdentityModel's AllowHttpOnLoopback does, so that a local
// identity provider or a test server works, or to any host when
// allowInsecure is set. It runs before any request, so a refused URL is
// never contacted. The error matches core.ErrInvalidCredentials and names
// the field and the host.
func CheckEndpoint(field, raw string, allowInsecure bool) error {
	if raw == "" {
		return fmt.Errorf("tokenhttp: %w: %s is empty", core.ErrInvalidCredentials, field)
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("tokenhttp: %w: %s is not an absolute URL", core.ErrInvalidCredentials, field)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowInsecure || loopback.Host(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("tokenhttp: %w: %s uses plain http to %q, which is not a loopback host; use https, or allow plain http to other hosts explicitly (AllowInsecureHTTP)",
			core.ErrInvalidCredentials, field, u.Hostname())
	}
	return fmt.Errorf("tokenhttp: %w: %s has scheme %q, want https", core.ErrInvalidCredentials, field, u.Scheme)
}

// Redact replaces every occurrence of each secret of 4 bytes or more in
// s, as is and in the URL-encoded forms a server may echo from a request
// body or URL, and caps the result at 256 bytes.
func Redact(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) < 4 {
			continue
		}
		s = strings.ReplaceAll(s, sec, "[REDACTED]")
		if q := url.QueryEscape(sec); q != sec {
			s = strings.ReplaceAll(s, q, "[REDACTED]")
		}
		if p := url.PathEscape(sec); p != sec {
			s = strings.ReplaceAll(s, p, "[REDACTED]")
		}
	}
	if len(s) > 256 {
		cut := 256
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut-- // never split a character
		}
		s = s[:cut] + "…"
	}
	return s
}

// Response is a parsed successful token response.
type Response struct {
	// Token is the token read from the body, its Expiry from expires_in
	// by the time given to Parse.
	Token *core.Token
	// Raw holds every field of the JSON body.
	Raw map[string]any
}

// Post sends form to tokenURL as application/x-www-form-urlencoded and
// parses the answer. header may carry client authentication. secrets are
// redacted from any error description.
func Post(ctx context.Context, c *http.Client, tokenURL string, form url.Values, header http.Header, secrets ...string) (*Response, error) {
	req, err := newFormRequest(ctx, tokenURL, form, header)
	if err != nil {
		return nil, err
	}
	return Do(c, req, secrets...)
}

// Do sends req and parses a token response: at most MaxBody bytes are
// read, errors become *core.OAuthError, and network failures are
// temporary errors that never quote the request.
func Do(c *http.Client, req *http.Request, secrets ...string) (*Response, error) {
	body, h, err := roundTrip(c, req, secrets)
	if err != nil {
		return nil, err
	}
	return parse(body, h, time.Now(), secrets)
}

// PostForm sends form to endpoint as Post does and returns the body of a
// 2xx answer, for endpoints whose answer is not a token response (such as
// the RFC 8628 device authorization endpoint). At most MaxBody bytes are
// read; a non-2xx answer becomes *core.OAuthError with secrets redacted.
func PostForm(ctx context.Context, c *http.Client, endpoint string, form url.Values, header http.Header, secrets ...string) ([]byte, error) {
	req, err := newFormRequest(ctx, endpoint, form, header)
	if err != nil {
		return nil, err
	}
	body, _, err := roundTrip(c, req, secrets)
	return body, err
}

func newFormRequest(ctx context.Context, endpoint string, form url.Values, header http.Header) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("tokenhttp: build request: %w", core.ErrInvalidCredentials)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	for k, vs := range header {
		req.Header[k] = vs
	}
	return req, nil
}

// roundTrip sends req and returns the body of a 2xx answer, read up to
// MaxBody bytes. Every failure is one of: ErrRedirect, the context's
// error, a temporary *NetError, or *core.OAuthError with secrets redacted.
func roundTrip(c *http.Client, req *http.Request, secrets []string) ([]byte, http.Header, error) {
	resp, err := c.Do(req)
	if err != nil {
		if errors.Is(err, ErrRedirect) {
			return nil, nil, ErrRedirect
		}
		if ctxErr := req.Context().Err(); ctxErr != nil {
			return nil, nil, fmt.Errorf("tokenhttp: request to %s: %w", req.URL.Host, ctxErr)
		}
		return nil, nil, &NetError{Op: "request to " + req.URL.Host, Err: unwrapURLError(err)}
	}
	defer resp.Body.Close()
	body, rerr := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if rerr != nil {
		return nil, nil, &NetError{Op: "read response from " + req.URL.Host, Err: unwrapURLError(rerr)}
	}
	if len(body) > MaxBody {
		return nil, nil, fmt.Errorf("tokenhttp: response from %s is larger than %d bytes", req.URL.Host, MaxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, nil, ErrorFromResponse(resp.StatusCode, resp.Header, body, secrets...)
	}
	return body, resp.Header, nil
}

// NetError is a failed exchange with a token endpoint: connection refused,
// reset, timeout or a response lost on the way back. It is temporary.
type NetError struct {
	// Op names the exchange and the host, never the URL's query.
	Op string
	// Err is the cause, without the request's URL.
	Err error
}

// Error names the operation and the cause.
func (e *NetError) Error() string { return "tokenhttp: " + e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *NetError) Unwrap() error { return e.Err }

// Temporary reports true: the exchange may succeed when tried again.
func (e *NetError) Temporary() bool { return true }

// unwrapURLError drops url.Error's URL, which may carry query secrets.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// ErrorFromResponse maps a non-2xx token response to *core.OAuthError,
// keeping the RFC 6749 §5.2 code and a redacted description, and the
// Retry-After delay.
func ErrorFromResponse(status int, h http.Header, body []byte, secrets ...string) error {
	e := &core.OAuthError{StatusCode: status, Retry: RetryAfter(h, time.Now())}
	var er struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
		URI         string `json:"error_uri"`
	}
	if json.Unmarshal(body, &er) == nil {
		e.Code = Redact(er.Error, secrets...)
		e.Description = Redact(er.Description, secrets...)
		e.URI = Redact(er.URI, secrets...)
	} else if vals, err := url.ParseQuery(string(body)); err == nil && vals.Get("error") != "" {
		e.Code = Redact(vals.Get("error"), secrets...)
		e.Description = Redact(vals.Get("error_description"), secrets...)
	}
	if !validCode(e.Code) {
		e.Code = ""
	}
	return e
}

// validCode keeps only codes of RFC 6749's character set, so an echoed
// secret cannot pose as a code.
func validCode(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// RetryAfter parses a Retry-After header, in seconds or as an HTTP date,
// capped at one hour. It returns 0 when absent or malformed.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return max(0, min(d, time.Hour))
}

// Parse reads a token response body: JSON, or form-encoded when the
// content type says so (GitHub's legacy answer). An OAuth error in a body
// sent with a 2xx status (some servers do) becomes *core.OAuthError with
// secrets redacted, as on any other status. expires_in is bounded as
// ExpiresIn says.
func Parse(body []byte, contentType string, now time.Time, secrets ...string) (*Response, error) {
	return parse(body, http.Header{"Content-Type": {contentType}}, now, secrets)
}

func parse(body []byte, h http.Header, now time.Time, secrets []string) (*Response, error) {
	raw := map[string]any{}
	mt, _, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" {
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, errors.New("tokenhttp: token response is not form-encoded")
		}
		for k := range vals {
			raw[k] = vals.Get(k)
		}
	} else if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("tokenhttp: token response is not a JSON object (%d bytes)", len(body))
	}
	if e, ok := raw["error"].(string); ok && e != "" {
		return nil, ErrorFromResponse(http.StatusOK, h, body, secrets...)
	}
	at, isString := raw["access_token"].(string)
	if _, present := raw["access_token"]; present && !isString {
		return nil, errors.New("tokenhttp: token response's access_token is not a JSON string")
	}
	if at == "" {
		return nil, errNoAccessToken
	}
	t := &core.Token{AccessToken: at}
	t.TokenType, _ = raw["token_type"].(string)
	t.RefreshToken, _ = raw["refresh_token"].(string)
	ttl, ok, err := ExpiresIn(raw["expires_in"])
	if err != nil {
		return nil, err
	}
	if ok {
		t.Expiry = now.Add(ttl)
	}
	extra := map[string]any{}
	for k, v := range raw {
		switch k {
		case "access_token", "token_type", "refresh_token", "expires_in":
		default:
			extra[k] = v
		}
	}
	if len(extra) > 0 {
		t.Extra = extra
	}
	return &Response{Token: t, Raw: raw}, nil
}

// expiresIn reads a JSON number or a decimal string of seconds. The
// seconds are bounded before they become a Duration, so a huge value of
// either sign cannot overflow into the other: zero or less is
// ErrExpiredOnArrival, more than MaxTTL gives MaxTTL, and a value that is
// not a number gives DefaultTTL.
func expiresIn(v any) (time.Duration, error) {
	var secs float64
	switch x := v.(type) {
	case float64:
		secs = x
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		if err != nil {
			return DefaultTTL, nil
		}
		secs = float64(n)
	default:
		return DefaultTTL, nil
	}
	switch {
	case !(secs > 0): // also NaN
		return 0, fmt.Errorf("%w (%s)", ErrExpiredOnArrival, strconv.FormatFloat(max(secs, -1e18), 'f', -1, 64))
	case secs > float64(MaxTTL/time.Second):
		return MaxTTL, nil
	}
	return time.Duration(secs) * time.Second, nil
}

// FromRetrieveError converts an error from golang.org/x/oauth2 into one
// that keeps the RFC 6749 code and Retry-After but never the raw body,
// which x/oauth2 copies into its error string.
func FromRetrieveError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		status := 0
		var h http.Header
		if re.Response != nil {
			status = re.Response.StatusCode
			h = re.Response.Header
		}
		oe := ErrorFromResponse(status, h, re.Body, secrets...).(*core.OAuthError)
		if code := Redact(re.ErrorCode, secrets...); oe.Code == "" && validCode(code) {
			oe.Code = code
		}
		if oe.Description == "" {
			oe.Description = Redact(re.ErrorDescription, secrets...)
		}
		return oe
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("tokenhttp: token request: %w", err)
	}
	if errors.Is(err, ErrRedirect) {
		return ErrRedirect
	}
	var ne net.Error
	var ue *url.Error
	if errors.As(err, &ne) || errors.As(err, &ue) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &NetError{Op: "token request", Err: errors.New(Redact(unwrapURLError(err).Error(), secrets...))}
	}
	// x/oauth2's other errors quote the body ("oauth2: cannot parse json:
	// …"): only their fixed prefixes are read.
	switch msg := err.Error(); {
	case msg == "oauth2: server response missing access_token":
		return errNoAccessToken
	case strings.HasPrefix(msg, "oauth2: cannot parse json"):
		return errors.New("tokenhttp: token response is not a JSON token response (malformed JSON, or a field of the wrong type)")
	case strings.HasPrefix(msg, "oauth2: cannot parse response"):
		return errors.New("tokenhttp: token response is not form-encoded")
	}
	return errors.New("tokenhttp: token endpoint returned a response that could not be parsed")
}

var errNoAccessToken = errors.New("tokenhttp: token response has no access_token")

// ExpiresIn reads a raw expires_in value (a JSON number, an integer or a
// string, as in Response.Raw or oauth2.Token.Extra) and applies the
// expires_in bounds. ok is false when v is nil or an empty string, that is
// when the response had no expires_in. err is ErrExpiredOnArrival for a
// zero or negative value.
func ExpiresIn(v any) (ttl time.Duration, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case string:
		if strings.TrimSpace(x) == "" {
			return 0, false, nil
		}
	case json.Number:
		v = x.String()
	case int:
		v = float64(x)
	case int64:
		v = float64(x)
	}
	ttl, err = expiresIn(v)
	return ttl, true, err
}
