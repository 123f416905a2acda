package oauth2_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"

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
		// The test server is plain http on 127.0.0.1: loopback hosts need
		// no option.
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{})},
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

// The authorization-code grant with PKCE for a credential stored under a
// name: AuthCodeURL builds the URL a person opens, and Exchange trades the
// code from the redirect for tokens and stores them under that name. From
// then on the Manager refreshes them. (AuthorizeLocal does all of it for
// a CLI, on a 127.0.0.1 redirect.)
func Example_authorizationCode() {
	var challenge string // what the authorization server saw
	idp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		// The server checks the PKCE verifier against the challenge.
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if r.PostForm.Get("code") != "code-from-redirect" || base64.RawURLEncoding.EncodeToString(sum[:]) != challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "user-token", "refresh_token": "user-refresh", "expires_in": 3600})
	}))
	defer idp.Close()

	creds := &core.Credentials{Type: oauth2.Type}
	if err := creds.SetSection(oauth2.Type, oauth2.Section{
		ClientID:    "web-app",
		GrantType:   "authorization_code",
		PKCE:        true,
		RedirectURL: "https://app.example/callback",
		Scopes:      []string{"read"},
		Endpoint:    xoauth2.Endpoint{AuthURL: idp.URL + "/authorize", TokenURL: idp.URL + "/token"},
	}); err != nil {
		log.Fatal(err)
	}
	s := oauth2.New(oauth2.Options{}) // the stand-in is plain http on loopback: allowed
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "alice", creds); err != nil {
		log.Fatal(err)
	}

	// Until someone authorizes, Token says so.
	_, err = m.Token(ctx, "alice")
	fmt.Println("before:", errors.Is(err, core.ErrReauthRequired))

	state, verifier := "random-state", xoauth2.GenerateVerifier()
	authURL, err := s.AuthCodeURL(ctx, m, "alice", state, verifier)
	if err != nil {
		log.Fatal(err)
	}
	q, _ := url.Parse(authURL)
	challenge = q.Query().Get("code_challenge")
	fmt.Println("method:", q.Query().Get("code_challenge_method"), "scope:", q.Query().Get("scope"))

	// The person approves; the redirect to RedirectURL carries the code
	// and the state, which the app checks before exchanging the code.
	if err := s.Exchange(ctx, m, "alice", "code-from-redirect", verifier); err != nil {
		log.Fatal(err)
	}
	tok, err := m.Token(ctx, "alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("after:", tok.AccessToken)
	// Output:
	// before: true
	// method: S256 scope: read
	// after: user-token
}
