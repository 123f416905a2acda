// Package vaulte2e holds the end-to-end checks that every vault provider
// runs through the seed API: omnitoken.NewFromVaultURI with the provider's
// URI, a credential stored, a token from a loopback IdP, a restart, and
// the token reused; and a race of two managers writing one token.
package vaulte2e

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"golang.org/x/oauth2"
)

// Credentials returns an OAuth 2.0 client-credentials credential for idp.
func Credentials(idp *loadtest.IdP) *goauth.Credentials {
	return &goauth.Credentials{
		Service: "loopback",
		Type:    goauth.TypeOAuth2,
		OAuth2: &goauth.CredentialsOAuth2{
			ClientID: loadtest.ClientID, ClientSecret: loadtest.ClientSecret, GrantType: "client_credentials",
			Endpoint: oauth2.Endpoint{TokenURL: idp.TokenURL(), AuthStyle: oauth2.AuthStyleInHeader},
		},
	}
}

func open(t *testing.T, uri string) *omnitoken.TokenManager {
	t.Helper()
	tm, err := omnitoken.NewFromVaultURI(uri)
	if err != nil {
		t.Fatalf("NewFromVaultURI: %v", err)
	}
	return tm
}

// RoundTrip stores a credential through a TokenManager on uri, gets a
// token from a loopback IdP, closes the manager, opens a new one on the
// same uri and checks that it serves the stored token with no request to
// the IdP.
func RoundTrip(t *testing.T, uri string) {
	t.Helper()
	ctx := context.Background()
	idp := loadtest.NewIdP(loadtest.IdPOptions{})
	defer idp.Close()

	tm := open(t, uri)
	if err := tm.SetCredentials(ctx, "loopback api", Credentials(idp)); err != nil {
		t.Fatalf("SetCredentials: %v", err)
	}
	first, err := tm.GetToken(ctx, "loopback api")
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	if got := idp.Stats().Requests; got != 1 {
		t.Fatalf("%d token requests for the first token, want 1", got)
	}
	if err := tm.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	tm = open(t, uri)
	defer tm.Close()
	names, err := tm.ListCredentials(ctx)
	if err != nil || len(names) != 1 || names[0] != "loopback api" {
		t.Fatalf("ListCredentials after restart = %q, %v", names, err)
	}
	again, err := tm.GetToken(ctx, "loopback api")
	if err != nil {
		t.Fatalf("GetToken after restart: %v", err)
	}
	if again.AccessToken != first.AccessToken {
		t.Fatal("after restart the manager got a new token instead of reusing the stored one")
	}
	if got := idp.Stats().Requests; got != 1 {
		t.Fatalf("%d token requests after restart, want still 1", got)
	}
}

// ConflictRace runs two TokenManagers on uri, which share no Locker, so
// both fetch a token for one credential at once and both write it. The
// vault's conditional write must refuse the second writer, which then
// re-reads and adopts the first one's token: both managers, and a third
// opened afterwards, serve the same token, and no token is lost.
func ConflictRace(t *testing.T, uri string) {
	t.Helper()
	ctx := context.Background()
	idp := loadtest.NewIdP(loadtest.IdPOptions{NoRefreshTokens: true})
	defer idp.Close()
	both := make(chan struct{})
	var once sync.Once
	idp.SetHold(func(ctx context.Context) error {
		if idp.Stats().Held >= 2 {
			once.Do(func() { close(both) })
		}
		select {
		case <-both:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Second):
			return nil // one manager never asked: the assertions below say so
		}
	})

	a, b := open(t, uri), open(t, uri)
	defer a.Close()
	defer b.Close()
	if err := a.SetCredentials(ctx, "raced", Credentials(idp)); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	toks := make([]*oauth2.Token, 2)
	errs := make([]error, 2)
	for i, tm := range []*omnitoken.TokenManager{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			toks[i], errs[i] = tm.GetToken(ctx, "raced")
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("manager %d: %v", i, err)
		}
	}
	if got := idp.Stats().Grants; got != 2 {
		t.Fatalf("%d tokens issued, want 2 (both managers fetched)", got)
	}
	if toks[0].AccessToken != toks[1].AccessToken {
		t.Fatal("the two managers serve different tokens: the losing write was not refused and adopted")
	}
	c := open(t, uri)
	defer c.Close()
	stored, err := c.GetToken(ctx, "raced")
	if err != nil {
		t.Fatal(err)
	}
	if stored.AccessToken != toks[0].AccessToken || idp.Stats().Requests != 2 {
		t.Fatal("the stored token is not the one both managers serve")
	}
}
