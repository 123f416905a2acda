package gcpsa_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	email  = "robot@demo-project.iam.gserviceaccount.com"
	keyID  = "0123456789abcdef"
	scopeA = "https://www.googleapis.com/auth/cloud-platform"
	scopeB = "https://www.googleapis.com/auth/devstorage.read_only"
	canary = "CANARY-4e1b77-SECRET"
)

var (
	keyOnce sync.Once
	rsaKey  *rsa.PrivateKey
)

func key(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
	})
	return rsaKey
}

func pkcs8PEM(t testing.TB, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// saJSON is a service account key file as Google issues it.
func saJSON(t testing.TB, tokenURI string) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{
		"type":                        "service_account",
		"project_id":                  "demo-project",
		"private_key_id":              keyID,
		"private_key":                 pkcs8PEM(t, key(t)),
		"client_email":                email,
		"client_id":                   "1234567890",
		"auth_uri":                    "https://accounts.google.com/o/oauth2/auth",
		"token_uri":                   tokenURI,
		"auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
		"client_x509_cert_url":        "https://www.googleapis.com/robot/v1/metadata/x509/robot",
		"universe_domain":             "googleapis.com",
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// tokenServer is a loopback Google token endpoint. It verifies each
// assertion's RS256 signature with the account's public key and its claims.
type tokenServer struct {
	*httptest.Server
	t        *testing.T
	pub      *rsa.PublicKey
	calls    atomic.Int64
	wantSub  string
	mu       sync.Mutex
	failWith func(w http.ResponseWriter, assertion string) bool // true: handled
	issued   map[string]bool
}

func newTokenServer(t *testing.T) *tokenServer {
	ts := &tokenServer{t: t, pub: &key(t).PublicKey}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	t.Cleanup(ts.Close)
	return ts
}

func (ts *tokenServer) tokenURL() string { return ts.URL + "/token" }

func (ts *tokenServer) serve(w http.ResponseWriter, r *http.Request) {
	n := ts.calls.Add(1)
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	assertion := r.PostForm.Get("assertion")
	ts.mu.Lock()
	fail := ts.failWith
	ts.mu.Unlock()
	if fail != nil && fail(w, assertion) {
		return
	}
	refuse := func(format string, args ...any) {
		ts.t.Errorf("token server: "+format, args...)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
	}
	if g := r.PostForm.Get("grant_type"); g != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		refuse("grant_type = %q", g)
		return
	}
	claims := gojwt.MapClaims{}
	tok, err := gojwt.ParseWithClaims(assertion, claims, func(*gojwt.Token) (any, error) { return ts.pub, nil },
		gojwt.WithValidMethods([]string{"RS256"}),
		gojwt.WithIssuer(email),
		gojwt.WithAudience(ts.tokenURL()),
		gojwt.WithIssuedAt(),
		gojwt.WithExpirationRequired())
	if err != nil {
		refuse("assertion does not verify: %v", err)
		return
	}
	if tok.Header["kid"] != keyID {
		refuse("kid = %v, want %s", tok.Header["kid"], keyID)
		return
	}
	if s := claims["scope"]; s != scopeA+" "+scopeB {
		refuse("scope = %v", s)
		return
	}
	if ts.wantSub != "" && claims["sub"] != ts.wantSub {
		refuse("sub = %v, want %s", claims["sub"], ts.wantSub)
		return
	}
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	if life := exp.Sub(iat.Time); life <= 0 || life > time.Hour {
		refuse("exp - iat = %s, want (0, 1h]", life)
		return
	}
	if skew := time.Since(iat.Time); skew < 0 || skew > time.Minute {
		refuse("iat is %s before now, want within a minute", skew)
		return
	}
	access := fmt.Sprintf("ya29.token-%d", n)
	ts.mu.Lock()
	if ts.issued == nil {
		ts.issued = map[string]bool{}
	}
	ts.issued[access] = true
	ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"access_token":%q,"token_type":"Bearer","expires_in":3599,"scope":%q}`, access, scopeA+" "+scopeB)
}

// hasIssued reports whether the server issued the access token.
func (ts *tokenServer) hasIssued(access string) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.issued[access]
}

func (ts *tokenServer) fail(f func(w http.ResponseWriter, assertion string) bool) {
	ts.mu.Lock()
	ts.failWith = f
	ts.mu.Unlock()
}

func newCreds(t *testing.T, tokenURI string) *core.Credentials {
	t.Helper()
	c, err := gcpsa.CredentialsFromJSON(saJSON(t, tokenURI), []string{scopeA, scopeB})
	if err != nil {
		t.Fatalf("CredentialsFromJSON: %v", err)
	}
	return c
}

func newManager(t *testing.T, s core.Strategy) *core.Manager {
	t.Helper()
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

func TestTokenThroughManager(t *testing.T) {
	ts := newTokenServer(t)
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	m := newManager(t, s)
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "gcs", newCreds(t, ts.tokenURL())); err != nil {
		t.Fatalf("SetCredentials: %v", err)
	}
	before := time.Now()
	tok, err := m.Token(ctx, "gcs")
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	if tok.AccessToken != "ya29.token-1" || tok.Type() != "Bearer" {
		t.Errorf("token = %q %q, want ya29.token-1 Bearer", tok.AccessToken, tok.Type())
	}
	if exp := tok.Expiry.Sub(before); exp < 3590*time.Second || exp > 3600*time.Second {
		t.Errorf("Expiry is %s after the request, want expires_in 3599s", exp)
	}
	if tok.Extra["scope"] != scopeA+" "+scopeB {
		t.Errorf("Extra[scope] = %v", tok.Extra["scope"])
	}
	// Cached: no second request.
	again, err := m.Token(ctx, "gcs")
	if err != nil {
		t.Fatal(err)
	}
	if again != tok || ts.calls.Load() != 1 {
		t.Errorf("second Token made %d requests in all, want 1 (cached)", ts.calls.Load())
	}
	// A forced refresh signs a new assertion and gets a new token.
	fresh, err := m.Refresh(ctx, "gcs")
	if err != nil {
		t.Fatal(err)
	}
	if fresh.AccessToken != "ya29.token-2" || ts.calls.Load() != 2 {
		t.Errorf("Refresh gave %q after %d requests", fresh.AccessToken, ts.calls.Load())
	}
}

func TestSubjectFromAdditional(t *testing.T) {
	ts := newTokenServer(t)
	ts.wantSub = "admin@example.com"
	c := newCreds(t, ts.tokenURL())
	c.Additional = map[string][]string{"subject": {"admin@example.com"}}
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	if _, err := s.Token(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidGrant(t *testing.T) {
	ts := newTokenServer(t)
	var echoed atomic.Value
	ts.fail(func(w http.ResponseWriter, assertion string) bool {
		echoed.Store(assertion)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		// A server that echoes the assertion and a canary into its error.
		body, _ := json.Marshal(map[string]string{
			"error":             "invalid_grant",
			"error_description": "Invalid JWT Signature. " + canary + " assertion=" + assertion,
		})
		_, _ = w.Write(body)
		return true
	})
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	m := newManager(t, s)
	ctx := context.Background()
	c := newCreds(t, ts.tokenURL())
	if err := m.SetCredentials(ctx, "gcs", c); err != nil {
		t.Fatal(err)
	}
	_, err := m.Token(ctx, "gcs")
	if !errors.Is(err, core.ErrRefreshFailed) {
		t.Fatalf("err = %v, want ErrRefreshFailed", err)
	}
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || oe.StatusCode != 400 {
		t.Fatalf("err = %v, want an OAuthError invalid_grant 400", err)
	}
	msg := fmt.Sprintf("%v %+v %#v", err, err, err)
	assertion, _ := echoed.Load().(string)
	if assertion == "" {
		t.Fatal("the server saw no assertion")
	}
	// The description is capped, so look for a piece of the assertion's
	// payload (unique to it: it holds iat) as well as the whole.
	parts := strings.Split(assertion, ".")
	if len(parts) != 3 {
		t.Fatalf("assertion has %d parts", len(parts))
	}
	if strings.Contains(msg, assertion) || strings.Contains(msg, parts[1][:32]) || strings.Contains(msg, "BEGIN") {
		t.Errorf("error leaks the assertion or key: %s", msg)
	}
	if !strings.Contains(msg, "system clock") || !strings.Contains(msg, keyID) || !strings.Contains(msg, email) {
		t.Errorf("error lacks the clock/key hint: %s", msg)
	}
	if ts.calls.Load() != 1 {
		t.Errorf("%d requests, want 1: invalid_grant is final", ts.calls.Load())
	}
	// Not asked again until the credential changes.
	if _, err := m.Token(ctx, "gcs"); !errors.Is(err, core.ErrRefreshFailed) {
		t.Errorf("second call: %v", err)
	}
	if ts.calls.Load() != 1 {
		t.Errorf("%d requests after a second call, want 1", ts.calls.Load())
	}
}

func TestTemporaryErrors(t *testing.T) {
	ts := newTokenServer(t)
	ts.fail(func(w http.ResponseWriter, _ string) bool {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html>down " + canary + "</html>"))
		return true
	})
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	_, err := s.Token(context.Background(), newCreds(t, ts.tokenURL()), nil)
	if err == nil || !core.IsTemporary(err) || core.IsPermanent(err) {
		t.Fatalf("503: err = %v, want temporary", err)
	}
	if ra := core.RetryAfterOf(err); ra != 7*time.Second {
		t.Errorf("RetryAfterOf = %s, want 7s", ra)
	}
	if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "html") {
		t.Errorf("error quotes the body: %v", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	s := gcpsa.New(gcpsa.Options{HTTPClient: &http.Client{Transport: tr}})
	_, err = s.Token(context.Background(), newCreds(t, "http://"+addr+"/token"), nil)
	var ne *tokenhttp.NetError
	if !errors.As(err, &ne) || !core.IsTemporary(err) {
		t.Fatalf("err = %v, want a temporary tokenhttp.NetError", err)
	}
	if !strings.HasPrefix(err.Error(), "gcpsa: ") {
		t.Errorf("err = %q, want the package prefix", err)
	}
}

func TestRedirectRefused(t *testing.T) {
	var targetHits atomic.Int64
	target := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { targetHits.Add(1) }))
	defer target.Close()
	ts := newTokenServer(t)
	ts.fail(func(w http.ResponseWriter, _ string) bool {
		w.Header().Set("Location", target.URL+"/steal")
		w.WriteHeader(http.StatusTemporaryRedirect)
		return true
	})
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	_, err := s.Token(context.Background(), newCreds(t, ts.tokenURL()), nil)
	if !errors.Is(err, tokenhttp.ErrRedirect) {
		t.Fatalf("err = %v, want ErrRedirect", err)
	}
	if targetHits.Load() != 0 {
		t.Error("the assertion was sent on to the redirect target")
	}
}

func TestContextBoundsTheRequest(t *testing.T) {
	release := make(chan struct{})
	ts := newTokenServer(t)
	ts.fail(func(w http.ResponseWriter, _ string) bool {
		<-release
		return true
	})
	defer close(release) // runs before the server's Close (t.Cleanup)
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := s.Token(ctx, newCreds(t, ts.tokenURL()), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Token ignored its context: x/oauth2 sends without one, the recorder must add it")
	}
}

// TestPlainHTTPLoopbackOnly: a plain-http token_uri is used on a loopback
// host (127.0.0.1, localhost) without AllowInsecureHTTP, and refused on
// any other host before a request is made; AllowInsecureHTTP lets it
// through.
func TestPlainHTTPLoopbackOnly(t *testing.T) {
	ts := newTokenServer(t)
	ts.fail(func(w http.ResponseWriter, _ string) bool { // any audience: the URL names the host two ways
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.t","token_type":"Bearer","expires_in":3599}`))
		return true
	})
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	for _, u := range []string{ts.tokenURL(), strings.Replace(ts.tokenURL(), "127.0.0.1", "localhost", 1)} {
		if _, err := s.Token(context.Background(), newCreds(t, u), nil); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	var sent atomic.Int64
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no network in this test")
	})}
	c := newCreds(t, "http://idp.example.test/token")
	s = gcpsa.New(gcpsa.Options{HTTPClient: rec})
	if err := s.Validate(c); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("Validate = %v, want plain http refused", err)
	}
	if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("Token = %v, want ErrInvalidCredentials", err)
	}
	if sent.Load() != 0 {
		t.Error("a request was sent over plain http to a host that is not loopback")
	}
	s = gcpsa.New(gcpsa.Options{HTTPClient: rec, AllowInsecureHTTP: true})
	if _, err := s.Token(context.Background(), c, nil); err == nil || sent.Load() != 1 {
		t.Errorf("AllowInsecureHTTP: Token = %v after %d requests, want the one request to fail", err, sent.Load())
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDefaultTokenURL(t *testing.T) {
	c, err := gcpsa.CredentialsFromJSON(saJSON(t, ""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := gcpsa.New(gcpsa.Options{}).Validate(c); err != nil {
		t.Errorf("an account without token_uri (Google's default, https) is refused: %v", err)
	}
}

func TestInvalidAccounts(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	base := func() map[string]any {
		var m map[string]any
		if err := json.Unmarshal(saJSON(t, "https://oauth2.example.com/token"), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	cases := []struct {
		name   string
		edit   func(m map[string]any)
		reason string
	}{
		{"wrong type", func(m map[string]any) { m["type"] = "authorized_user" }, "type"},
		{"no email", func(m map[string]any) { delete(m, "client_email") }, "client_email"},
		{"no key", func(m map[string]any) { delete(m, "private_key") }, "private_key is empty"},
		{"key not PEM", func(m map[string]any) { m["private_key"] = canary }, "not a PEM"},
		{"garbage PEM", func(m map[string]any) {
			m["private_key"] = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte(canary)}))
		}, "does not parse"},
		{"EC key", func(m map[string]any) { m["private_key"] = pkcs8PEM(t, ec) }, "want an RSA key"},
		{"small RSA key", func(m map[string]any) { m["private_key"] = pkcs8PEM(t, small) }, "1024-bit"},
		{"ftp token_uri", func(m map[string]any) { m["token_uri"] = "ftp://x/token" }, "token_uri"},
	}
	s := gcpsa.New(gcpsa.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base()
			tc.edit(m)
			raw, _ := json.Marshal(m)
			_, errFile := gcpsa.CredentialsFromJSON(raw, []string{scopeA})

			var sa gcpsa.ServiceAccount
			if err := json.Unmarshal(raw, &sa); err != nil {
				t.Fatal(err)
			}
			c := &core.Credentials{Type: gcpsa.Type}
			if err := c.SetSection(gcpsa.Type, gcpsa.Section{GCPCredentials: sa}); err != nil {
				t.Fatal(err)
			}
			errValidate := s.Validate(c)
			_, errToken := s.Token(context.Background(), c, nil)
			for where, err := range map[string]error{"CredentialsFromJSON": errFile, "Validate": errValidate, "Token": errToken} {
				if !errors.Is(err, core.ErrInvalidCredentials) {
					t.Fatalf("%s: err = %v, want ErrInvalidCredentials", where, err)
				}
				if !strings.Contains(err.Error(), tc.reason) {
					t.Errorf("%s: err = %q, want it to mention %q", where, err, tc.reason)
				}
				if s := fmt.Sprintf("%v %+v %#v", err, err, err); strings.Contains(s, canary) || strings.Contains(s, "BEGIN") {
					t.Errorf("%s: error leaks the key: %s", where, s)
				}
			}
		})
	}
	for _, bad := range [][]byte{nil, []byte("{"), []byte(`"` + canary + `"`), []byte(`{"type":["` + canary + `"]}`)} {
		_, err := gcpsa.CredentialsFromJSON(bad, nil)
		if !errors.Is(err, core.ErrInvalidCredentials) || strings.Contains(err.Error(), canary) {
			t.Errorf("CredentialsFromJSON(%q) = %v", bad, err)
		}
	}
	if err := s.Validate(&core.Credentials{Type: gcpsa.Type}); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("missing section: %v", err)
	}
}

func TestCredentialsFromJSON(t *testing.T) {
	c, err := gcpsa.CredentialsFromJSON(saJSON(t, "https://oauth2.googleapis.com/token"), []string{scopeA})
	if err != nil {
		t.Fatal(err)
	}
	if c.Type != "gcpsa" || c.Service != "google" {
		t.Errorf("Type, Service = %q, %q", c.Type, c.Service)
	}
	var sec gcpsa.Section
	if err := c.DecodeSection(&sec); err != nil {
		t.Fatal(err)
	}
	if sec.GCPCredentials.ClientEmail != email || sec.GCPCredentials.PrivateKeyID != keyID ||
		!strings.HasPrefix(sec.GCPCredentials.PrivateKey, "-----BEGIN PRIVATE KEY-----") ||
		len(sec.Scopes) != 1 || sec.Scopes[0] != scopeA {
		t.Errorf("section lost fields: %+v", sec)
	}
	// The envelope round-trips through JSON unchanged.
	raw, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	back, err := core.ParseCredentials(raw)
	if err != nil {
		t.Fatal(err)
	}
	raw2, _ := json.Marshal(back)
	if !bytes.Equal(raw, raw2) {
		t.Error("credential JSON changed on a round trip")
	}
	if !bytes.Contains(raw, []byte(`"gcpsa":{"gcpCredentials":{"type":"service_account","client_email":`)) {
		t.Errorf("unexpected layout: %.120s", raw)
	}
}

func TestNoSecretInOutput(t *testing.T) {
	var sa gcpsa.ServiceAccount
	if err := json.Unmarshal(saJSON(t, ""), &sa); err != nil {
		t.Fatal(err)
	}
	sa.PrivateKey = canary
	sa.ClientSecret = canary
	sec := gcpsa.Section{GCPCredentials: sa, Scopes: []string{scopeA}}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "sa", sa, "section", sec, "ptr", &sec)
	out := []string{logs.String()}
	for _, v := range []any{sa, &sa, sec, &sec} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, fmt.Sprintf(f, v))
		}
	}
	for _, s := range out {
		if strings.Contains(s, canary) {
			t.Errorf("canary leaked: %s", s)
		}
	}
	if !strings.Contains(sa.String(), email) {
		t.Errorf("String() hides the non-secret email: %s", sa)
	}
}

func TestCloseOwnTransport(t *testing.T) {
	s := gcpsa.New(gcpsa.Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkToken(b *testing.B) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"access_token":"ya29.x","token_type":"Bearer","expires_in":3600}`))
	}))
	defer ts.Close()
	c, err := gcpsa.CredentialsFromJSON(saJSON(b, ts.URL+"/token"), []string{scopeA})
	if err != nil {
		b.Fatal(err)
	}
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// TestExpiresInClamped: a huge or missing expires_in gives an expiry
// within tokenhttp's bounds; a zero or negative one is a token expired on
// arrival, refused with tokenhttp.ErrExpiredOnArrival.
func TestExpiresInClamped(t *testing.T) {
	for _, tc := range []struct {
		raw  string
		want time.Duration
	}{
		{`"expires_in":3599`, 3599 * time.Second},
		{`"expires_in":0`, 0},
		{`"expires_in":-5`, 0},
		{`"expires_in":-100`, 0},
		{`"expires_in":10000000000`, tokenhttp.MaxTTL}, // overflows a Duration in ns
		{`"expires_in":1000000000000`, tokenhttp.MaxTTL},
		{`"x":1`, tokenhttp.DefaultTTL},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			ts := newTokenServer(t)
			ts.fail(func(w http.ResponseWriter, _ string) bool {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(`{"access_token":"ya29.t","token_type":"Bearer",` + tc.raw + `}`))
				return true
			})
			s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
			before := time.Now()
			tok, err := s.Token(context.Background(), newCreds(t, ts.tokenURL()), nil)
			if tc.want == 0 {
				if !errors.Is(err, tokenhttp.ErrExpiredOnArrival) || !errors.Is(err, core.ErrTokenExpired) {
					t.Fatalf("err = %v, want ErrExpiredOnArrival", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			after := time.Now()
			if tok.Expiry.Before(before.Add(tc.want)) || tok.Expiry.After(after.Add(tc.want)) {
				t.Fatalf("Expiry is %s from now, want %s", tok.Expiry.Sub(before), tc.want)
			}
		})
	}
}

// TestClock: the token's expiry is counted from Options.Clock, so a
// Manager on the same fake clock sees the lifetime the server gave.
func TestClock(t *testing.T) {
	ts := newTokenServer(t)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	s := gcpsa.New(gcpsa.Options{HTTPClient: ts.Client(), Clock: coretest.NewFakeClock(t0)})
	tok, err := s.Token(context.Background(), newCreds(t, ts.tokenURL()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(3599 * time.Second); !tok.Expiry.Equal(want) {
		t.Fatalf("Expiry = %v, want %v", tok.Expiry, want)
	}
}

// TestHugeBody: a 10 MB answer is refused with a clear error that
// does not quote it, after reading at most 1 MiB.
func TestHugeBody(t *testing.T) {
	ts := newTokenServer(t)
	ts.fail(func(w http.ResponseWriter, _ string) bool {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`)
		chunk := strings.Repeat("a", 64<<10)
		for range (10 << 20) / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return true
			}
		}
		_, _ = io.WriteString(w, `"}`)
		return true
	})
	ct := &coretest.BodyCountingTransport{}
	s := gcpsa.New(gcpsa.Options{HTTPClient: &http.Client{Transport: ct}})
	_, err := s.Token(context.Background(), newCreds(t, ts.tokenURL()), nil)
	if err == nil {
		t.Fatal("a 10 MB token response was accepted")
	}
	if n := ct.Read(); n > tokenhttp.MaxBody+1 {
		t.Fatalf("read %d bytes, more than 1 MiB", n)
	}
	if !strings.HasPrefix(err.Error(), "gcpsa: ") || strings.Contains(err.Error(), "aaaa") {
		t.Fatalf("err = %.300v", err)
	}
}
