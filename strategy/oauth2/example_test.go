package oauth2_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

// A client_credentials credential served through a core.Manager: the
// Manager caches the token and refreshes it; its Client authorizes every
// request.
func Example_clientCredentials() {
	// A stand-in token endpoint and API.
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if id, secret, ok := r.BasicAuth(); !ok || id != "my-client" || secret != "my-secret" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "example-token", "token_type": "bearer", "expires_in": 3600})
	}))
	defer idp.Close()
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "API saw %q", r.Header.Get("Authorization"))
	}))
	defer api.Close()

	creds := &core.Credentials{Service: "example", Type: oauth2.Type}
	if err := creds.SetSection(oauth2.Type, oauth2.Section{
		ClientID:     "my-client",
		ClientSecret: "my-secret",
		GrantType:    "client_credentials",
		Endpoint:     xoauth2.Endpoint{TokenURL: idp.URL + "/oauth/token"},
	}); err != nil {
		log.Fatal(err)
	}

	m, err := core.New(core.Options{
		Store: core.NewMemoryStore(),
		// AllowInsecureHTTP only because the test server is plain http.
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "example-api", creds); err != nil {
		log.Fatal(err)
	}

	tok, err := m.Token(ctx, "example-api")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.AccessToken)

	resp, err := m.Client("example-api", nil).Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output:
	// Bearer example-token
	// API saw "Bearer example-token"
}

// Tokens print redacted, so they are safe to log.
func Example_redaction() {
	tok := &core.Token{AccessToken: "secret-access", RefreshToken: "secret-refresh"}
	sec := oauth2.Section{ClientID: "my-client", ClientSecret: "secret", GrantType: "client_credentials"}
	fmt.Println(tok)
	fmt.Println(sec)
	// Output:
	// Token{type=Bearer access=[REDACTED] refresh=[REDACTED]}
	// oauth2.Section{grantType="client_credentials" clientID="my-client" tokenURL="" clientSecret=[REDACTED]}
}
