// Command quickstart shows omnitoken end to end, offline, in a few
// seconds. It starts a local API and a local OAuth 2.0 token endpoint,
// stores four kinds of credentials in a file vault under a temporary
// directory, makes authenticated requests, shows that cached tokens cost
// no token request, then reopens the vault to show that credentials and
// tokens persisted.
//
//	go run ./examples/quickstart
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/storage"
	"golang.org/x/oauth2"
)

func main() {
	if err := run(context.Background(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// run is the whole program; it writes a deterministic report to w.
func run(ctx context.Context, w io.Writer) error {
	dir, err := os.MkdirTemp("", "omnitoken-quickstart-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// A local OAuth 2.0 token endpoint (TLS, as token endpoints must be)
	// that counts the tokens it issues.
	var issued atomic.Int64
	idp := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		id, secret, _ := r.BasicAuth()
		if r.FormValue("grant_type") != "client_credentials" || id != "bot" || secret != "bot-secret" {
			rw.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(rw, `{"error":"invalid_client"}`)
			return
		}
		n := issued.Add(1)
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{
			"access_token": fmt.Sprintf("oauth-token-%d", n), "token_type": "Bearer", "expires_in": 3600,
		})
	}))
	defer idp.Close()

	// A local API that says who called it.
	api := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer oauth-token-"):
			_, _ = io.WriteString(rw, "hello, OAuth 2.0 client")
		case strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey"):
			_, _ = io.WriteString(rw, "hello, JWT bearer") // a real API verifies the signature

		case r.Header.Get("Authorization") != "":
			if u, _, ok := r.BasicAuth(); ok {
				_, _ = io.WriteString(rw, "hello, "+u)
				return
			}
			rw.WriteHeader(http.StatusUnauthorized)
		case r.Header.Get("X-Api-Key") == "key-123":
			_, _ = io.WriteString(rw, "hello, API key holder")
		default:
			rw.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	open := func() (*omnitoken.TokenManager, error) {
		v, err := storage.NewFileVault(dir)
		if err != nil {
			return nil, err
		}
		cfg := omnitoken.DefaultConfig()
		cfg.Vault = v
		cfg.HTTPClient = idp.Client() // trusts the local endpoint's certificate
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
		return omnitoken.New(cfg)
	}
	mgr, err := open()
	if err != nil {
		return err
	}

	creds := map[string]*goauth.Credentials{
		"jira": {Service: "jira", Type: goauth.TypeBasic,
			Basic: &goauth.CredentialsBasicAuth{Username: "alice", Password: "wonderland"}},
		"weather": {Service: "weather", Type: goauth.TypeHeaderQuery,
			HeaderQuery: &goauth.CredentialsHeaderQuery{Header: http.Header{"X-Api-Key": {"key-123"}}}},
		"signer": {Type: goauth.TypeJWT,
			JWT: &goauth.CredentialsJWT{Issuer: "quickstart", PrivateKey: "a-shared-hmac-secret", SigningMethod: "HS256"}},
		"bot": {Service: "example", Type: goauth.TypeOAuth2,
			OAuth2: &goauth.CredentialsOAuth2{ClientID: "bot", ClientSecret: "bot-secret", GrantType: "client_credentials",
				Endpoint: oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}},
	}
	for name, c := range creds {
		if err := mgr.SetCredentials(ctx, name, c); err != nil {
			return err
		}
	}
	names, err := mgr.ListCredentials(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "stored credentials: %s\n", strings.Join(names, ", "))

	for _, name := range names {
		client, err := mgr.GetClient(ctx, name)
		if err != nil {
			return err
		}
		resp, err := client.Get(api.URL)
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Fprintf(w, "%-8s %-13s -> %d %s\n", name, "("+creds[name].Type+")", resp.StatusCode, body)
	}

	// The cached path: many requests, no new token.
	before := issued.Load()
	for range 10000 {
		if _, err := mgr.GetToken(ctx, "bot"); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "cached path: 10000 GetToken calls made %d token requests\n", issued.Load()-before)
	if err := mgr.Close(); err != nil {
		return err
	}

	// Reopen the vault: credentials and the OAuth token persisted.
	mgr, err = open()
	if err != nil {
		return err
	}
	defer mgr.Close()
	names, err = mgr.ListCredentials(ctx)
	if err != nil {
		return err
	}
	before = issued.Load()
	tok, err := mgr.GetToken(ctx, "bot")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "reopened vault: credentials %s; bot token valid=%v, token requests=%d\n",
		strings.Join(names, ", "), tok.Valid(), issued.Load()-before)
	files, _ := os.ReadDir(dir + "/tokens")
	fmt.Fprintf(w, "token files on disk: %d\n", len(files))
	return nil
}
