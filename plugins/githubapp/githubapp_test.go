package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// TestAppJWT: the JWT sent to GitHub is RS256, signed by the app's key,
// iss the app ID, iat 60 s in the past, exp at most 10 minutes ahead.
func TestAppJWT(t *testing.T) {
	f := fake(t)
	s := testStrategy()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	s.now = func() time.Time { return now }
	// The fake checks iat and exp against its own clock: not this one.
	_, _ = s.Token(ctxT(t), credsFor(t, f.URL, nil), nil)
	raw := f.LastJWT()
	if raw == "" {
		t.Fatal("no JWT reached the endpoint")
	}
	key, _ := appKey(t)
	var claims jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(raw, &claims, func(*jwt.Token) (any, error) { return &key.PublicKey, nil },
		jwt.WithValidMethods([]string{"RS256"}), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		t.Fatalf("JWT does not verify with the app's public key: %v", err)
	}
	if tok.Header["alg"] != "RS256" {
		t.Errorf("alg = %v", tok.Header["alg"])
	}
	if claims.Issuer != appID {
		t.Errorf("iss = %q, want %q", claims.Issuer, appID)
	}
	if got := now.Sub(claims.IssuedAt.Time); got != 60*time.Second {
		t.Errorf("iat is %s before now, want 60s", got)
	}
	if got := claims.ExpiresAt.Sub(now); got <= 0 || got > 10*time.Minute {
		t.Errorf("exp is %s after now, want (0, 10m]", got)
	}
}

func TestToken(t *testing.T) {
	f := fake(t)
	s := testStrategy()
	tok, err := s.Token(ctxT(t), credsFor(t, f.URL, nil), nil)
	if err != nil {
		t.Fatalf("Token: %v (fake rejected: %v)", err, f.Rejections())
	}
	exp, issued := f.Expiry(tok.AccessToken)
	if !issued || !tok.Expiry.Equal(exp) {
		t.Errorf("token %v expiring %s; the fake issued it: %v, expiring %s", tok, tok.Expiry, issued, exp)
	}
	if tok.Type() != "Bearer" || tok.RefreshToken != "" {
		t.Errorf("token %v, want a Bearer token without refresh token", tok)
	}
	if f.Mints() != 1 {
		t.Errorf("%d mints", f.Mints())
	}
}

// TestScopedToken: repositories and permissions go in the request body.
func TestScopedToken(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := make([]byte, 1024)
		n, _ := r.Body.Read(b)
		got = r.Header.Get("Content-Type") + " " + string(b[:n])
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"token":"ghs_x","expires_at":"2030-01-01T00:00:00Z"}`))
	}))
	defer srv.Close()
	_, err := testStrategy().Token(ctxT(t), credsFor(t, srv.URL, func(m map[string]any) {
		m["repositories"] = []string{"omnitoken"}
		m["permissions"] = map[string]string{"contents": "read"}
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := `application/json {"repositories":["omnitoken"],"permissions":{"contents":"read"}}`; got != want {
		t.Errorf("request %q, want %q", got, want)
	}
}

// TestHTTPErrors: GitHub's failures keep their meaning, and never quote
// the JWT or the key.
func TestHTTPErrors(t *testing.T) {
	_, pemKey := appKey(t)
	keyLine := strings.Split(pemKey, "\n")[1]
	// The strategy's clock stands still, so every delay is exact.
	now := time.Now().Truncate(time.Second)
	reset := now.Add(42 * time.Second).Unix()
	for _, tc := range []struct {
		name      string
		status    int
		header    http.Header
		permanent bool
		temporary bool
		retry     time.Duration
	}{
		{name: "bad credentials", status: 401, permanent: true},
		{name: "not found", status: 404, permanent: true},
		{name: "forbidden", status: 403, permanent: true},
		{name: "unprocessable", status: 422, permanent: true},
		{name: "server error", status: 502, temporary: true, header: http.Header{"Retry-After": {"7"}}, retry: 7 * time.Second},
		{name: "too many requests", status: 429, temporary: true},
		{name: "secondary rate limit", status: 403, temporary: true, header: http.Header{"Retry-After": {"30"}}, retry: 30 * time.Second},
		{name: "primary rate limit", status: 403, temporary: true, header: http.Header{"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Reset": {fmt.Sprint(reset)}}, retry: 42 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header()[k] = v
				}
				w.WriteHeader(tc.status)
				// A server that echoes what it got: the JWT and the key.
				fmt.Fprintf(w, `{"message":"rejected %s and %s","documentation_url":"https://docs.github.com/x"}`,
					strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "), keyLine)
			}))
			defer srv.Close()
			s := testStrategy()
			s.now = func() time.Time { return now }
			_, err := s.Token(ctxT(t), credsFor(t, srv.URL, nil), nil)
			if err == nil {
				t.Fatal("no error")
			}
			var oe *core.OAuthError
			if !errors.As(err, &oe) || oe.StatusCode != tc.status {
				t.Errorf("err %v: want an OAuthError with status %d", err, tc.status)
			}
			if core.IsPermanent(err) != tc.permanent || errors.Is(err, core.ErrRefreshFailed) != tc.permanent {
				t.Errorf("err %v: IsPermanent %v, ErrRefreshFailed %v; want %v", err, core.IsPermanent(err), errors.Is(err, core.ErrRefreshFailed), tc.permanent)
			}
			if core.IsTemporary(err) != tc.temporary {
				t.Errorf("err %v: IsTemporary %v, want %v", err, core.IsTemporary(err), tc.temporary)
			}
			if got := core.RetryAfterOf(err); got != tc.retry {
				t.Errorf("RetryAfterOf = %s, want %s", got, tc.retry)
			}
			msg := fmt.Sprintf("%v %+v %#v", err, err, err)
			if strings.Contains(msg, "eyJ") || strings.Contains(msg, keyLine) {
				t.Errorf("error quotes a secret: %s", msg)
			}
			if !strings.Contains(msg, "[REDACTED]") {
				t.Errorf("error lost GitHub's message: %s", msg)
			}
		})
	}
}

func TestNetworkAndContextErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	url := srv.URL
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := testStrategy().Token(ctx, credsFor(t, url, nil), nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging server: %v, want DeadlineExceeded", err)
	}
	srv.Close()
	_, err = testStrategy().Token(ctxT(t), credsFor(t, url, nil), nil)
	if !core.IsTemporary(err) || core.IsPermanent(err) {
		t.Errorf("closed server: %v, want a temporary error", err)
	}
}

// TestRefusesRedirect: the JWT is never sent on to a redirect target.
func TestRefusesRedirect(t *testing.T) {
	var leaked atomic.Bool
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { leaked.Store(true) }))
	defer target.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer srv.Close()
	_, err := testStrategy().Token(ctxT(t), credsFor(t, srv.URL, nil), nil)
	if !errors.Is(err, tokenhttp.ErrRedirect) {
		t.Errorf("err = %v, want ErrRedirect", err)
	}
	if leaked.Load() {
		t.Error("the redirect was followed")
	}
}

func TestValidate(t *testing.T) {
	_, pemKey := appKey(t)
	keyLine := strings.Split(pemKey, "\n")[1]
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	smallPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(small)}))
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ec)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}))
	pkcs8DER, _ := x509.MarshalPKCS8PrivateKey(testKey)
	pkcs8PEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8DER}))

	s := newStrategy() // plain http not allowed
	valid := func(m map[string]any) { m["baseURL"] = "https://ghe.example.com/api/v3/" }
	if err := s.Validate(credsFor(t, "", valid)); err != nil {
		t.Errorf("valid: %v", err)
	}
	if err := s.Validate(credsFor(t, "", func(m map[string]any) { delete(m, "baseURL"); m["privateKey"] = pkcs8PEM; m["appID"] = "Iv23liABCdef" })); err != nil {
		t.Errorf("PKCS#8 key, client ID, default baseURL: %v", err)
	}
	for name, edit := range map[string]func(map[string]any){
		"no appID":                  func(m map[string]any) { delete(m, "appID") },
		"appID with a slash":        func(m map[string]any) { m["appID"] = "12/34" },
		"no installationID":         func(m map[string]any) { delete(m, "installationID") },
		"installationID path":       func(m map[string]any) { m["installationID"] = "1/../../admin" },
		"installationID not number": func(m map[string]any) { m["installationID"] = true },
		"no key":                    func(m map[string]any) { m["privateKey"] = "" },
		"garbled key":               func(m map[string]any) { m["privateKey"] = strings.Replace(pemKey, keyLine, keyLine[:10], 1) },
		"EC key":                    func(m map[string]any) { m["privateKey"] = ecPEM },
		"1024-bit key":              func(m map[string]any) { m["privateKey"] = smallPEM },
		"plain http":                func(m map[string]any) { m["baseURL"] = "http://127.0.0.1:1" },
		"ftp":                       func(m map[string]any) { m["baseURL"] = "ftp://ghe.example.com" },
		"relative":                  func(m map[string]any) { m["baseURL"] = "/api/v3" },
		"userinfo":                  func(m map[string]any) { m["baseURL"] = "https://u:p@ghe.example.com" },
		"query":                     func(m map[string]any) { m["baseURL"] = "https://ghe.example.com/?x=1" },
		"repository with owner":     func(m map[string]any) { m["repositories"] = []string{"plexusone/omnitoken"} },
	} {
		t.Run(name, func(t *testing.T) {
			c := credsFor(t, "https://api.github.com", edit)
			err := s.Validate(c)
			if !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("Validate = %v, want ErrInvalidCredentials", err)
			}
			if _, terr := s.Token(ctxT(t), c, nil); !errors.Is(terr, core.ErrInvalidCredentials) {
				t.Errorf("Token = %v, want ErrInvalidCredentials", terr)
			}
			if msg := fmt.Sprintf("%v %+v", err, err); strings.Contains(msg, keyLine) || strings.Contains(msg, "PRIVATE KEY-----\n") {
				t.Errorf("error quotes the key: %s", msg)
			}
		})
	}
	// Plain http only with the env var, and only to loopback.
	loopback := credsFor(t, "http://127.0.0.1:1", nil)
	allowed := newStrategy()
	allowed.allowHTTP = true
	if err := allowed.Validate(loopback); err != nil {
		t.Errorf("loopback http with %s=1: %v", AllowHTTPEnv, err)
	}
	if err := allowed.Validate(credsFor(t, "http://ghe.example.com", nil)); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("non-loopback http with %s=1: %v, want refused", AllowHTTPEnv, err)
	}
	if err := s.Validate(loopback); err == nil || !strings.Contains(err.Error(), AllowHTTPEnv) {
		t.Errorf("loopback http without the env var: %v, want a refusal naming %s", err, AllowHTTPEnv)
	}
	t.Setenv(AllowHTTPEnv, "1")
	if err := newStrategy().Validate(loopback); err != nil {
		t.Errorf("newStrategy does not read %s: %v", AllowHTTPEnv, err)
	}
}

func TestRevoke(t *testing.T) {
	f := fake(t)
	s := testStrategy()
	c := credsFor(t, f.URL, nil)
	tok, err := s.Token(ctxT(t), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Revoke(ctxT(t), c, tok); err != nil {
		t.Fatal(err)
	}
	if !f.Revoked(tok.AccessToken) || f.Valid(tok.AccessToken) {
		t.Error("the token was not revoked")
	}
	if err := s.Revoke(ctxT(t), c, tok); err != nil {
		t.Errorf("revoking twice (GitHub answers 401): %v", err)
	}
	if err := s.Revoke(ctxT(t), c, nil); err != nil {
		t.Errorf("revoking no token: %v", err)
	}
}
