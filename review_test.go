package omnitoken_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
	"golang.org/x/oauth2"
)

// TestLoopbackIdPRedirectToRemote: a token endpoint on loopback that
// redirects to a remote host over plain http does not get the credential
// carried there, whichever grant (client_credentials goes through
// x/oauth2, password through the strategy's own client): the redirect is
// refused and no request reaches the remote host.
func TestLoopbackIdPRedirectToRemote(t *testing.T) {
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://idp.example.test/oauth/token", http.StatusTemporaryRedirect)
	}))
	defer idp.Close()
	var mu sync.Mutex
	var remote []string
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.URL.Hostname() != "127.0.0.1" {
			mu.Lock()
			remote = append(remote, r.URL.String())
			mu.Unlock()
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
				Body: http.NoBody, Request: r}, nil
		}
		return http.DefaultTransport.RoundTrip(r)
	})}
	tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: rec})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for name, c := range map[string]*goauth.Credentials{
		"cc": ccCreds(idp.URL),
		"pw": {Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
			ClientID: "id", ClientSecret: "secret", GrantType: "password", Username: "u", Password: "p",
			Endpoint: oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token"}}},
	} {
		if err := tm.SetCredentials(ctx, name, c); err != nil {
			t.Fatal(err)
		}
		if tok, err := tm.GetToken(ctx, name); err == nil || !strings.Contains(err.Error(), "redirect") {
			t.Fatalf("%s: GetToken = %v, %v; want the redirect refused", name, tok, err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(remote) != 0 {
		t.Fatalf("requests reached the remote host: %v", remote)
	}
}
