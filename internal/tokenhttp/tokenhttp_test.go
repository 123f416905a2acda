package tokenhttp

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// FuzzParse: the token-response parser never panics; what it
// accepts has an access token and an expiry within the clamp bounds.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","expires_in":3600,"refresh_token":"r"}`), "application/json")
	f.Add([]byte(`{"access_token":"a","expires_in":-5}`), "application/json")
	f.Add([]byte(`{"access_token":"a","expires_in":1e300}`), "application/json")
	f.Add([]byte(`{"access_token":"a","expires_in":"12"}`), "")
	f.Add([]byte(`access_token=a&expires_in=0`), "application/x-www-form-urlencoded")
	f.Add([]byte(`{"error":"invalid_grant"}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, ct string) {
		r, err := Parse(body, ct, now)
		if err != nil {
			return
		}
		if r.Token.AccessToken == "" {
			t.Fatal("accepted a response without access_token")
		}
		if e := r.Token.Expiry; !e.IsZero() && (e.Before(now) || e.After(now.Add(MaxTTL))) {
			t.Fatalf("expiry %v outside the clamp bounds", e)
		}
	})
}

func TestParseClamps(t *testing.T) {
	for body, want := range map[string]time.Duration{
		`{"access_token":"a","expires_in":9e18}`:          MaxTTL,
		`{"access_token":"a","expires_in":"120"}`:         2 * time.Minute,
		`{"access_token":"a","expires_in":"99999999999"}`: MaxTTL,
		`{"access_token":"a","expires_in":"soon"}`:        DefaultTTL,
		`{"access_token":"a","expires_in":""}`:            0, // absent: no expiry
		`{"access_token":"a"}`:                            0,
	} {
		r, err := Parse([]byte(body), "application/json", now)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if got := r.Token.Expiry; (want == 0 && !got.IsZero()) || (want != 0 && got.Sub(now) != want) {
			t.Errorf("%s: expiry %v, want in %v", body, got, want)
		}
	}
}

// TestParseRefusesExpiredOnArrival: a zero or negative expires_in, as a
// number or a string, huge ones included (their nanoseconds overflow
// int64), is a token that is expired on arrival: Parse refuses it with
// ErrExpiredOnArrival, which matches core.ErrTokenExpired and never
// quotes the token.
func TestParseRefusesExpiredOnArrival(t *testing.T) {
	for _, v := range []string{`0`, `-100`, `"0"`, `"-100"`, `-10000000000`, `"-10000000000"`, `-1e300`, `0.0`, `-0.5`} {
		body := `{"access_token":"secret-at-1234","expires_in":` + v + `}`
		_, err := Parse([]byte(body), "application/json", now)
		if !errors.Is(err, ErrExpiredOnArrival) || !errors.Is(err, core.ErrTokenExpired) {
			t.Errorf("expires_in %s: err = %v, want ErrExpiredOnArrival", v, err)
			continue
		}
		if strings.Contains(err.Error(), "secret-at") {
			t.Errorf("the error quotes the token: %v", err)
		}
	}
	for _, v := range []any{0, -100, int64(-1), float64(0), "-100", json.Number("0")} {
		if _, ok, err := ExpiresIn(v); !ok || !errors.Is(err, ErrExpiredOnArrival) {
			t.Errorf("ExpiresIn(%#v) = %v, %v, want ErrExpiredOnArrival", v, ok, err)
		}
	}
}

// TestHugeBody: a 10 MB answer is refused after reading at most
// MaxBody+1 bytes.
func TestHugeBody(t *testing.T) {
	var written int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat("x", 64<<10))
		for written < 10<<20 {
			n, err := w.Write(chunk)
			written += n
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	_, err := Post(t.Context(), NewClient(srv.Client()), srv.URL, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v", err)
	}
}

// TestErrorRedaction: a secret echoed in an error body is redacted, and
// an echoed secret posing as the error code is dropped.
func TestErrorRedaction(t *testing.T) {
	const secret = "CANARY-s3cr3t-value"
	err := ErrorFromResponse(400, nil, []byte(`{"error":"invalid_grant","error_description":"bad `+secret+`"}`), secret)
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || strings.Contains(err.Error(), secret) {
		t.Fatalf("err = %v", err)
	}
	err = ErrorFromResponse(400, nil, []byte(`{"error":"`+secret+` with spaces"}`))
	if strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("echoed code kept: %v", err)
	}
	h := http.Header{"Retry-After": {"7"}}
	if d := RetryAfter(h, now); d != 7*time.Second {
		t.Fatalf("Retry-After = %v", d)
	}
}

// TestRedactEncodedForms: a secret echoed URL-encoded, as a server
// quoting a request body or URL would, is redacted too.
func TestRedactEncodedForms(t *testing.T) {
	const secret = "CANARY/s3cr3t+with=chars& more"
	for _, echo := range []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		url.Values{"client_secret": {secret}}.Encode(),
	} {
		got := Redact("you sent "+echo+" again", secret)
		if strings.Contains(got, "CANARY") || !strings.Contains(got, "[REDACTED]") || !strings.HasPrefix(got, "you sent ") {
			t.Errorf("Redact(%q) = %q", echo, got)
		}
	}
	if got := Redact("x" + strings.Repeat("é", 200)); !utf8.ValidString(got) || len(got) > 256+len("…") {
		t.Errorf("capped description is %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got := Redact("abc", "ab"); got != "abc" {
		t.Errorf("a secret shorter than 4 bytes was redacted: %q", got)
	}
}

// TestTLSRefused: the token client refuses a certificate no root
// vouches for and a server that offers less than TLS 1.2, even through a
// caller's transport that trusts the certificate. The request never
// reaches the handler. Only a transport that lowers MinVersion itself (a
// test's explicit opt-in) talks to the old server.
func TestTLSRefused(t *testing.T) {
	var hits atomic.Int64
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a"}`))
	})
	quiet := log.New(io.Discard, "", 0) // the refused handshakes are expected
	selfSigned := httptest.NewUnstartedServer(ok)
	selfSigned.Config.ErrorLog = quiet
	selfSigned.StartTLS()
	defer selfSigned.Close()
	_, err := Post(t.Context(), NewClient(nil), selfSigned.URL, nil, nil)
	var ce *tls.CertificateVerificationError
	if !errors.As(err, &ce) {
		t.Errorf("self-signed: err = %v, want a certificate verification error", err)
	}

	old := httptest.NewUnstartedServer(ok)
	old.Config.ErrorLog = quiet
	old.TLS = &tls.Config{MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}
	old.StartTLS()
	defer old.Close()
	_, err = Post(t.Context(), NewClient(old.Client()), old.URL, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Errorf("TLS 1.1: err = %v, want a protocol version failure", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("the handler got %d requests", n)
	}

	optIn := old.Client().Transport.(*http.Transport).Clone()
	optIn.TLSClientConfig.MinVersion = tls.VersionTLS10
	defer optIn.CloseIdleConnections()
	if _, err := Post(t.Context(), NewClient(&http.Client{Transport: optIn}), old.URL, nil, nil); err != nil {
		t.Fatalf("opted-in client: %v; the TLS 1.1 server does not work, so the refusal above proves nothing", err)
	}
}

// TestErrorClassification: what the Manager reads from a failed answer.
// 429 and 5xx are temporary with their Retry-After (seconds or an HTTP
// date); the final RFC 6749 codes are permanent and match
// core.ErrRefreshFailed; a 200 carrying "error" is an error too.
func TestErrorClassification(t *testing.T) {
	date := http.Header{"Retry-After": {now.Add(90 * time.Second).Format(http.TimeFormat)}}
	for _, tc := range []struct {
		name      string
		status    int
		h         http.Header
		body      string
		temporary bool
		permanent bool
		retry     time.Duration
	}{
		{"429 seconds", 429, http.Header{"Retry-After": {"7"}}, "", true, false, 7 * time.Second},
		{"503 date", 503, date, "<html>busy</html>", true, false, 90 * time.Second},
		{"500 no header", 500, nil, "", true, false, 0},
		{"400 invalid_grant", 400, nil, `{"error":"invalid_grant"}`, false, true, 0},
		{"401 invalid_client", 401, nil, `{"error":"invalid_client"}`, false, true, 0},
		{"400 form-encoded invalid_grant", 400, nil, `error=invalid_grant&error_description=x`, false, true, 0},
		{"503 invalid_client is still final", 503, nil, `{"error":"invalid_client"}`, false, true, 0},
		{"400 invalid_request", 400, nil, `{"error":"invalid_request"}`, false, false, 0},
		{"huge Retry-After is capped", 429, http.Header{"Retry-After": {"99999999"}}, "", true, false, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := errorAt(tc.status, tc.h, []byte(tc.body))
			if core.IsTemporary(err) != tc.temporary || core.IsPermanent(err) != tc.permanent {
				t.Fatalf("%v: temporary %v permanent %v, want %v %v", err, core.IsTemporary(err), core.IsPermanent(err), tc.temporary, tc.permanent)
			}
			if errors.Is(err, core.ErrRefreshFailed) != tc.permanent {
				t.Fatalf("%v: errors.Is(ErrRefreshFailed) = %v", err, !tc.permanent)
			}
			if got := core.RetryAfterOf(err); got != tc.retry {
				t.Fatalf("RetryAfterOf = %v, want %v", got, tc.retry)
			}
		})
	}
	_, err := Parse([]byte(`{"error":"invalid_grant","access_token":"x"}`), "application/json", now)
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || !core.IsPermanent(err) {
		t.Fatalf("200 with error: %v", err)
	}
}

// errorAt is ErrorFromResponse with Retry-After dates read at now.
func errorAt(status int, h http.Header, body []byte) error {
	e := ErrorFromResponse(status, h, body).(*core.OAuthError)
	e.Retry = RetryAfter(h, now)
	return e
}

// TestRelease: Release closes the idle connections of a transport
// NewClient made, and leaves a caller's transport (and its pooled
// connection) alone.
func TestRelease(t *testing.T) {
	var opened atomic.Int64
	closed := make(chan struct{}, 4)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"a"}`))
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		switch st {
		case http.StateNew:
			opened.Add(1)
		case http.StateClosed:
			closed <- struct{}{}
		}
	}
	srv.Start()
	defer srv.Close()

	own := NewClient(nil)
	if _, err := Post(t.Context(), own, srv.URL, nil, nil); err != nil {
		t.Fatal(err)
	}
	Release(own)
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Release left the client's own idle connection open")
	}
	Release(own) // again: harmless

	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	theirs := NewClient(&http.Client{Transport: tr})
	opened.Store(0)
	for range 2 {
		if _, err := Post(t.Context(), theirs, srv.URL, nil, nil); err != nil {
			t.Fatal(err)
		}
		Release(theirs)
	}
	if n := opened.Load(); n != 1 {
		t.Fatalf("%d connections for two requests: Release closed the caller's pooled connection", n)
	}
}

// TestCheckEndpointLoopback: plain http is accepted to loopback hosts
// only, unless allowInsecure; https always; anything else never.
func TestCheckEndpointLoopback(t *testing.T) {
	for raw, want := range map[string]bool{
		"https://idp.example/token":         true,
		"http://127.0.0.1:8080/token":       true,
		"http://127.1.2.3/token":            true,
		"http://localhost:9000/token":       true,
		"http://LOCALHOST/token":            true,
		"http://[::1]:8080/token":           true,
		"http://[::ffff:127.0.0.1]/token":   true,
		"http://idp.example/token":          false,
		"http://10.0.0.1/token":             false,
		"http://128.0.0.1/token":            false,
		"http://[::2]/token":                false,
		"http://localhost.idp.example/":     false,
		"http://127.0.0.1.idp.example/":     false,
		"http://0.0.0.0/token":              false,
		"ftp://127.0.0.1/token":             false,
		"http:///token":                     false,
		"http://user:pw@idp.example/token":  false,
		"http://idp.example@127.0.0.1/path": true, // the host is 127.0.0.1
	} {
		err := CheckEndpoint("tokenURL", raw, false)
		if (err == nil) != want {
			t.Errorf("CheckEndpoint(%q) = %v, want ok %v", raw, err, want)
		}
		if err != nil && !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("CheckEndpoint(%q) = %v, want ErrInvalidCredentials", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("the error quotes the URL's password: %v", err)
		}
	}
	if err := CheckEndpoint("tokenURL", "http://idp.example/token", true); err != nil {
		t.Errorf("allowInsecure: %v", err)
	}
}
