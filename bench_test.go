package omnitoken_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
	"golang.org/x/oauth2"
)

// benchTokenManager returns a TokenManager holding a cached, hour-long
// OAuth 2.0 token for "svc", as the default configuration would.
func benchTokenManager(b *testing.B) *omnitoken.TokenManager {
	b.Helper()
	cfg := omnitoken.DefaultConfig()
	cfg.Vault = memory.New()
	tm, err := omnitoken.New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tm.Close() })
	ctx := context.Background()
	creds := &goauth.Credentials{Type: "oauth2", OAuth2: &goauth.CredentialsOAuth2{
		Token: &oauth2.Token{AccessToken: "bench-access-token", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)},
	}}
	if err := tm.SetCredentials(ctx, "svc", creds); err != nil {
		b.Fatal(err)
	}
	if _, err := tm.GetToken(ctx, "svc"); err != nil {
		b.Fatal(err)
	}
	return tm
}

// BenchmarkGetToken is the root package's cached path.
func BenchmarkGetToken(b *testing.B) {
	tm := benchTokenManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := tm.GetToken(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkGetTokenCore is the engine's cached path under the same
// TokenManager: GetToken must stay within 10% of it.
func BenchmarkGetTokenCore(b *testing.B) {
	tm := benchTokenManager(b)
	m := tm.Core()
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Token(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// loopback starts an API server on 127.0.0.1 that answers "ok".
func loopback(b *testing.B) *httptest.Server {
	b.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer bench-access-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	b.Cleanup(func() {
		srv.Close()
		http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	})
	return srv
}

func do(b *testing.B, c *http.Client, req *http.Request) {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkGetClient is one authenticated GET over loopback through the
// client GetClient returns.
func BenchmarkGetClient(b *testing.B) {
	tm := benchTokenManager(b)
	srv := loopback(b)
	c, err := tm.GetClient(context.Background(), "svc")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		do(b, c, req)
	}
}

// BenchmarkBareClient is the baseline of BenchmarkGetClient: an
// http.Client over the same transport that sets the same header itself.
func BenchmarkBareClient(b *testing.B) {
	srv := loopback(b)
	c := &http.Client{Transport: http.DefaultTransport}
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
		req.Header.Set("Authorization", "Bearer bench-access-token")
		do(b, c, req)
	}
}

// BenchmarkGetClientPaired alternates GetClient requests and bare ones
// on the same connection pool, timing each, so that drift in the machine
// affects both alike. It reports both means and the overhead in percent.
func BenchmarkGetClientPaired(b *testing.B) {
	tm := benchTokenManager(b)
	srv := loopback(b)
	mc, err := tm.GetClient(context.Background(), "svc")
	if err != nil {
		b.Fatal(err)
	}
	bare := &http.Client{Transport: http.DefaultTransport}
	var tManaged, tBare time.Duration
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		for j := range 2 {
			start := time.Now()
			req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
			if (n+j)%2 == 0 {
				do(b, mc, req)
				tManaged += time.Since(start)
			} else {
				req.Header.Set("Authorization", "Bearer bench-access-token")
				do(b, bare, req)
				tBare += time.Since(start)
			}
		}
		n++
	}
	if n > 0 {
		b.ReportMetric(float64(tManaged.Nanoseconds())/float64(n), "client-ns/req")
		b.ReportMetric(float64(tBare.Nanoseconds())/float64(n), "bare-ns/req")
		b.ReportMetric(100*(float64(tManaged)/float64(tBare)-1), "overhead-%")
	}
}
