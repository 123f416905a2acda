package oidctest_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/internal/oidctest"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// Both providers publish a discovery document whose issuer is the
// server's URL, and the test user is named after the issuer's host.
func TestStart(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  func(...*storage.Client) *httptest.Server
		scheme string
	}{
		{"http", oidctest.Start, "http://"},
		{"https", oidctest.StartTLS, "https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := tc.start(storage.DeviceClient("oidctest-device-"+tc.name, "secret"))
			defer srv.Close()
			if !strings.HasPrefix(srv.URL, tc.scheme) {
				t.Fatalf("URL %q, want scheme %s", srv.URL, tc.scheme)
			}
			resp, err := srv.Client().Get(srv.URL + "/.well-known/openid-configuration")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("discovery: status %d", resp.StatusCode)
			}
			var doc struct {
				Issuer string `json:"issuer"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
				t.Fatal(err)
			}
			if doc.Issuer != srv.URL {
				t.Fatalf("issuer %q, want %q", doc.Issuer, srv.URL)
			}
			if got, want := oidctest.User(srv.URL), "test-user@127.0.0.1"; got != want {
				t.Fatalf("User: %q, want %q", got, want)
			}
		})
	}
}
