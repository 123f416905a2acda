//go:build unix

package keyring

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault"
	"golang.org/x/oauth2"
)

// End to end through the seed API over the real Secret Service: store a
// credential, get a token from a loopback IdP (with an 8 KB ID token, so
// it is chunked), "restart" with a new TokenManager on a newly opened
// keyring:// vault, and reuse the stored token with no new IdP request.
func TestSeedAPIEndToEnd(t *testing.T) {
	needDaemon(t)
	service := "omnitoken-e2e"
	t.Cleanup(func() { _ = deleteAll(service) })
	var issued atomic.Int64
	idToken := randomText(t, 8000)
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("%s-%d", canary, issued.Add(1)),
			"token_type": "Bearer", "expires_in": 3600, "id_token": idToken})
	}))
	defer idp.Close()
	creds := &goauth.Credentials{Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "id", ClientSecret: canary, GrantType: "client_credentials",
		Endpoint: oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}}
	ctx := context.Background()

	start := func() *omnitoken.TokenManager {
		t.Helper()
		v, err := omnivault.VaultFromURI("keyring://" + service)
		if err != nil {
			t.Fatal(err)
		}
		cfg := omnitoken.DefaultConfig()
		cfg.Vault, cfg.HTTPClient = v, idp.Client()
		tm, err := omnitoken.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = v.Close() })
		return tm
	}
	tm := start()
	if err := tm.SetCredentials(ctx, "crm", creds); err != nil {
		t.Fatal(err)
	}
	first, err := tm.GetToken(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}

	tm = start()
	defer tm.Close()
	again, err := tm.GetToken(ctx, "crm")
	if err != nil || again.AccessToken != first.AccessToken {
		t.Fatalf("after restart: %v", err)
	}
	if again.Extra("id_token") != idToken {
		t.Fatal("the large ID token did not survive the keyring")
	}
	if n := issued.Load(); n != 1 {
		t.Fatalf("%d token requests, want 1", n)
	}

	// The seed constructor opens the same vault by URI.
	tm2, err := omnitoken.NewFromVaultURI("keyring://" + service)
	if err != nil {
		t.Fatal(err)
	}
	defer tm2.Close()
	names, err := tm2.ListCredentials(ctx)
	if err != nil || !slices.Equal(names, []string{"crm"}) {
		t.Fatalf("ListCredentials = %v, %v", names, err)
	}
}
