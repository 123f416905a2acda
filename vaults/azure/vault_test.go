package azure_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/azure"
	"github.com/plexusone/omnitoken/vaults/azure/internal/fakekv"
	"github.com/plexusone/omnivault/vault"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const bearer = "canary-azure-access-token"

// staticCred is an azcore.TokenCredential with a fixed token.
type staticCred string

func (c staticCred) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(c), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

func startFake(t *testing.T, s *fakekv.Server) *fakekv.Server {
	t.Helper()
	s.Token = bearer
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// newVault drives the real azsecrets client, challenge and all, at the fake.
func newVault(t *testing.T, srv *fakekv.Server, token string) *azure.Vault {
	t.Helper()
	return newVaultPrefix(t, srv, token, "omnitoken/")
}

// newVaultPrefix is newVault with a given prefix.
func newVaultPrefix(t *testing.T, srv *fakekv.Server, token, prefix string) *azure.Vault {
	t.Helper()
	c, err := azsecrets.NewClient(srv.URL, staticCred(token), &azsecrets.ClientOptions{
		ClientOptions: azcore.ClientOptions{
			Transport: srv.Client(),
			Retry:     policy.RetryOptions{MaxRetries: 3, RetryDelay: time.Millisecond, MaxRetryDelay: 5 * time.Millisecond},
		},
		DisableChallengeResourceVerification: true, // the fake's host is 127.0.0.1, not *.vault.azure.net
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Client().CloseIdleConnections)
	v, err := azure.New(azure.Config{Client: c, Prefix: prefix, PurgeWait: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCRUDAndList(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	if _, err := v.Get(ctx, "credentials/none"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	// "GitHub" and "github" differ only in case, which Key Vault ignores.
	paths := []string{"credentials/GitHub", "credentials/github", "credentials/ünï", "credentials/x-y", "tokens/a"}
	for _, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: "v:" + p}); err != nil {
			t.Fatalf("Set %s: %v", p, err)
		}
	}
	if val, _, _, ok := srv.State("omnitoken-2fcredentials-2f-47it-48ub"); !ok || val != "v:credentials/GitHub" {
		t.Fatalf("stored names %q", srv.Names())
	}
	for _, p := range paths {
		s, err := v.Get(ctx, p)
		if err != nil || s.Value != "v:"+p {
			t.Fatalf("Get %s = %+v, %v", p, s, err)
		}
	}
	got, err := v.List(ctx, "credentials/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"credentials/GitHub", "credentials/github", "credentials/x-y", "credentials/ünï"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if srv.Calls("challenge") == 0 {
		t.Fatal("the client never met the authentication challenge")
	}
}

// Delete soft-deletes and purges, retrying while the delete is in
// progress, so the name can be written again at once.
func TestSoftDelete(t *testing.T) {
	srv := startFake(t, &fakekv.Server{PurgeDelay: 2})
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatal(err)
	}
	if srv.Calls("purge") != 3 {
		t.Fatalf("%d purge attempts, want 3 (two answered 409)", srv.Calls("purge"))
	}
	if _, _, _, ok := srv.State("omnitoken-2ftokens-2fa"); ok {
		t.Fatal("secret still there after Delete")
	}
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "2"}); err != nil {
		t.Fatalf("Set after Delete: %v", err)
	}
	if err := v.Delete(ctx, "tokens/none"); err != nil {
		t.Fatalf("Delete missing: %v", err)
	}
}

// With purge protection, a deleted secret stays soft-deleted: Get and List
// no longer see it, and a later Set recovers it and writes.
func TestPurgeProtection(t *testing.T) {
	srv := startFake(t, &fakekv.Server{PurgeProtection: true})
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatal(err)
	}
	if _, _, deleted, ok := srv.State("omnitoken-2ftokens-2fa"); !ok || !deleted {
		t.Fatal("want the secret soft-deleted")
	}
	if ok, err := v.Exists(ctx, "tokens/a"); ok || err != nil {
		t.Fatalf("Exists on a soft-deleted secret = %v, %v", ok, err)
	}
	if l, err := v.List(ctx, ""); err != nil || len(l) != 0 {
		t.Fatalf("List = %q, %v", l, err)
	}
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "2"}); err != nil {
		t.Fatalf("Set on a soft-deleted name: %v", err)
	}
	if val, n, deleted, _ := srv.State("omnitoken-2ftokens-2fa"); val != "2" || n != 2 || deleted || srv.Calls("recover") != 1 {
		t.Fatalf("after Set: %q, %d versions, deleted %v, %d recoveries", val, n, deleted, srv.Calls("recover"))
	}
}

func TestAuthFailure(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	v := newVault(t, srv, "wrong-token")
	_, err := v.Get(context.Background(), "x")
	if !errors.Is(err, vault.ErrAccessDenied) {
		t.Fatalf("Get with a bad token: %v, want ErrAccessDenied", err)
	}
	if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("error quotes a token: %v", err)
	}
}

func TestThrottling(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	v := newVault(t, srv, bearer)
	vaulte2e.Throttling(t, v, "tokens/x", srv.Throttle, func() int { return srv.Calls("throttled") })
}

func TestFromURIErrors(t *testing.T) {
	for _, bad := range []string{"azure-kv://", "azure-kv://u:canary@kv.vault.azure.net/x", "vault://kv"} {
		if _, err := azure.FromURI(bad); err == nil || strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// A refused write names neither the value it carried nor a token.
func TestWriteErrorsQuoteNoSecret(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	for _, v := range []*azure.Vault{newVault(t, srv, "wrong-token"), newVault(t, srv, bearer)} {
		srv.Throttle(10)
		err := v.Set(context.Background(), "tokens/x", &vault.Secret{Value: "canary-secret-value"})
		if err == nil {
			t.Fatal("Set succeeded")
		}
		for _, s := range []string{"canary", "wrong-token"} {
			if strings.Contains(err.Error(), s) {
				t.Fatalf("error quotes %q: %v", s, err)
			}
		}
	}
}

// Key Vault purges asynchronously: for a while after a purge, a write of
// the name answers 409 while the name is not among the deleted secrets
// (recover answers 404). Set waits it out; before, it gave up at the 404.
func TestSetWhilePurging(t *testing.T) {
	srv := startFake(t, &fakekv.Server{PurgeLag: 2})
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/p", &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/p"); err != nil {
		t.Fatal(err)
	}
	if err := v.Set(ctx, "tokens/p", &vault.Secret{Value: "2"}); err != nil {
		t.Fatalf("Set while the purge finishes: %v", err)
	}
	if s, err := v.Get(ctx, "tokens/p"); err != nil || s.Value != "2" {
		t.Fatalf("Get = %+v, %v; want 2", s, err)
	}
}

// The PREFIX of a URI's path is followed by a '/', so that the vaults of
// prefixes "a" and "ab" never share a name; before, prefix "app" with
// path "credentials/x" and prefix "ap" with path "pcredentials/x" named
// one secret.
func TestURIPrefixesStayApart(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	vaulte2e.PrefixesApart(t, newVaultPrefix(t, srv, bearer, azure.URIPrefix("/app")), newVaultPrefix(t, srv, bearer, azure.URIPrefix("/ap/")))
}
