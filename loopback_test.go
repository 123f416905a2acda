package omnitoken_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
)

// TestPlainHTTPOnLoopback: the seed API reaches an identity provider on
// plain http at 127.0.0.1 or localhost with no option set, as a local
// Keycloak or a test server needs; a plain http endpoint on any other host
// is refused with ErrInvalidCredentials before any request (the recording
// transport sees none, and an unresolvable host gives no network error);
// Config.AllowInsecureHTTP lets it through.
func TestPlainHTTPOnLoopback(t *testing.T) {
	var n atomic.Int64
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeToken(w, fmt.Sprintf("t%d", n.Add(1)), 3600)
	}))
	defer idp.Close()
	localhost := strings.Replace(idp.URL, "127.0.0.1", "localhost", 1)

	t.Run("NewFromDirectory", func(t *testing.T) {
		tm, err := omnitoken.NewFromDirectory(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer tm.Close()
		for name, base := range map[string]string{"ip": idp.URL, "localhost": localhost} {
			if err := tm.SetCredentials(ctx, name, ccCreds(base)); err != nil {
				t.Fatalf("%s: SetCredentials = %v", base, err)
			}
			if tok, err := tm.GetToken(ctx, name); err != nil || !strings.HasPrefix(tok.AccessToken, "t") {
				t.Fatalf("%s: GetToken = %v, %v", base, tok, err)
			}
		}
	})

	t.Run("refused before any request", func(t *testing.T) {
		var mu sync.Mutex
		var hosts []string
		rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
			mu.Lock()
			hosts = append(hosts, r.URL.Host)
			mu.Unlock()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"access_token":"over-plain-http","expires_in":3600}`)), Request: r}, nil
		})}
		const remote = "http://idp.example.test"
		tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: rec})
		if err != nil {
			t.Fatal(err)
		}
		defer tm.Close()
		// SetCredentials stores what it is given, as v0.1.0 did;
		// ValidateCredentials and GetToken refuse it.
		if err := tm.SetCredentials(ctx, "remote", ccCreds(remote)); err != nil && !errors.Is(err, omnitoken.ErrInvalidCredentials) {
			t.Fatalf("SetCredentials = %v", err)
		}
		if err := tm.ValidateCredentials(ctx, "remote"); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), "plain http") {
			t.Fatalf("ValidateCredentials = %v, want plain http refused with ErrInvalidCredentials", err)
		}
		if _, err := tm.GetToken(ctx, "remote"); !errors.Is(err, omnitoken.ErrInvalidCredentials) {
			t.Fatalf("GetToken = %v, want ErrInvalidCredentials", err)
		}

		// A credential already in the vault is refused when used.
		dir := t.TempDir()
		b, _ := json.Marshal(ccCreds("http://idp.invalid"))
		if err := os.MkdirAll(filepath.Join(dir, "credentials"), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "credentials", "remote.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		ftm, err := omnitoken.NewFromDirectory(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer ftm.Close()
		if _, err := ftm.GetToken(ctx, "remote"); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), "plain http") {
			t.Fatalf("GetToken = %v, want plain http refused with ErrInvalidCredentials (not a network error)", err)
		}

		mu.Lock()
		sent := len(hosts)
		mu.Unlock()
		if sent != 0 {
			t.Fatalf("requests were made to %v", hosts)
		}

		// The opt-in lets plain http through to any host.
		otm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: rec, AllowInsecureHTTP: true})
		if err != nil {
			t.Fatal(err)
		}
		defer otm.Close()
		if err := otm.SetCredentials(ctx, "remote", ccCreds(remote)); err != nil {
			t.Fatal(err)
		}
		if tok, err := otm.GetToken(ctx, "remote"); err != nil || tok.AccessToken != "over-plain-http" {
			t.Fatalf("AllowInsecureHTTP: GetToken = %v, %v", tok, err)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(hosts) != 1 || hosts[0] != "idp.example.test" {
			t.Fatalf("requests went to %v, want one to idp.example.test", hosts)
		}
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
