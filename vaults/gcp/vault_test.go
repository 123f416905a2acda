package gcp_test

import (
	"context"
	"crypto/tls"
	"errors"
	"strings"
	"testing"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/gcp"
	"github.com/plexusone/omnitoken/vaults/gcp/internal/fakesm"
	"github.com/plexusone/omnivault/vault"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/oauth"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const bearer = "ya29.canary-access-token"

func startFake(t *testing.T) *fakesm.Server {
	t.Helper()
	s, err := (&fakesm.Server{Token: bearer}).Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// newVault drives the real client over TLS with a per-call bearer token.
func newVault(t *testing.T, srv *fakesm.Server, token string) *gcp.Vault {
	t.Helper()
	return newVaultIn(t, srv, token, "proj", "omnitoken-")
}

// newVaultIn is newVault for a given project and prefix.
func newVaultIn(t *testing.T, srv *fakesm.Server, token, project, prefix string) *gcp.Vault {
	t.Helper()
	c := newClient(t, srv, token)
	v, err := gcp.New(gcp.Config{Client: c, Project: project, Prefix: prefix,
		Backoff: gax.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond, Multiplier: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// newClient is a real Secret Manager client of the fake, over TLS with a
// per-call bearer token, closed when the test ends.
func newClient(t *testing.T, srv *fakesm.Server, token string) *secretmanager.Client {
	t.Helper()
	conn, err := grpc.NewClient(srv.Addr,
		grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: srv.RootCAs})),
		grpc.WithPerRPCCredentials(oauth.TokenSource{TokenSource: oauth2.StaticTokenSource(&oauth2.Token{AccessToken: token})}))
	if err != nil {
		t.Fatal(err)
	}
	c, err := secretmanager.NewClient(context.Background(), option.WithGRPCConn(conn))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = c.Close()
		_ = conn.Close()
	})
	return c
}

func TestCRUDAndList(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	if _, err := v.Get(ctx, "credentials/none"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	paths := []string{"credentials/a", "credentials/GitHub Bot", "credentials/ünï", "credentials/x_y", "tokens/a"}
	for _, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: "v:" + p}); err != nil {
			t.Fatalf("Set %s: %v", p, err)
		}
	}
	if got, _ := srv.Current("projects/proj/secrets/omnitoken-credentials_2Fa"); got != "v:credentials/a" {
		t.Fatalf("secret IDs %q", srv.IDs())
	}
	s, err := v.Get(ctx, "credentials/ünï")
	if err != nil || s.Value != "v:credentials/ünï" || !strings.HasPrefix(s.Metadata.Version, "1:") {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	got, err := v.List(ctx, "credentials/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"credentials/GitHub Bot", "credentials/a", "credentials/x_y", "credentials/ünï"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("List = %q, want %q", got, want)
	}
	// An update adds a version, moves the alias, and destroys the old one.
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "second"}); err != nil {
		t.Fatal(err)
	}
	if val, live := srv.Current("projects/proj/secrets/omnitoken-tokens_2Fa"); val != "second" || live != 1 {
		t.Fatalf("after update: current %q, %d live versions; want second, 1", val, live)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if ok, err := v.Exists(ctx, "tokens/a"); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
}

func TestEtagConflict(t *testing.T) {
	srv := startFake(t)
	a, b := newVault(t, srv, bearer), newVault(t, srv, bearer)
	vaulte2e.ConditionalWrites(t, a, b, "tokens/x")
	// The old versions and the losers' are destroyed.
	if val, live := srv.Current("projects/proj/secrets/omnitoken-tokens_2Fx"); val != "plain" || live != 1 {
		t.Fatalf("current %q with %d live versions; want plain, 1", val, live)
	}
	if _, err := a.SetIfVersion(context.Background(), "tokens/x", &vault.Secret{Value: "x"}, "garbage"); err == nil {
		t.Fatal("SetIfVersion took a version Get never reported")
	}
}

func TestAuthFailure(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv, "ya29.wrong")
	_, err := v.Get(context.Background(), "x")
	if !errors.Is(err, vault.ErrAccessDenied) {
		t.Fatalf("Get with a bad token: %v, want ErrAccessDenied", err)
	}
	if strings.Contains(err.Error(), "ya29") {
		t.Fatalf("error quotes the token: %v", err)
	}
}

func TestThrottling(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	srv.Throttle(3)
	if err := v.Set(ctx, "tokens/x", &vault.Secret{Value: "1"}); err != nil {
		t.Fatalf("Set through throttling: %v", err)
	}
	if srv.Calls("Throttled") != 3 {
		t.Fatalf("%d throttled, want 3", srv.Calls("Throttled"))
	}
	tctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	srv.Throttle(1 << 30)
	if _, err := v.Get(tctx, "tokens/x"); err == nil {
		t.Fatal("Get under endless throttling succeeded")
	}
	srv.Throttle(0)
	if s, err := v.Get(ctx, "tokens/x"); err != nil || s.Value != "1" {
		t.Fatalf("Get after throttling ends: %v, %v", s, err)
	}
}

func TestFromURIErrors(t *testing.T) {
	for _, bad := range []string{"gcp-sm://", "gcp-sm://u:canary@proj/x", "vault://proj"} {
		if _, err := gcp.FromURI(context.Background(), bad); err == nil || strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func isConflict(err error) bool { return errors.Is(err, core.ErrConflict) }

// A secret that exists with no current version (its first write created
// it and then failed, or an operator created it empty) reads as missing,
// so a conditional write for "nothing stored" goes through: the etag of
// the empty secret is the condition. Before, it was refused as a conflict
// forever, and the token could never be stored.
func TestSetIfVersionOverEmptySecret(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv, bearer)
	ctx := context.Background()
	raw := newClient(t, srv, bearer)
	if _, err := raw.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent: "projects/proj", SecretId: "omnitoken-tokens_2Fe",
		Secret: &secretmanagerpb.Secret{Replication: &secretmanagerpb.Replication{
			Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}},
		}},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, "tokens/e"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get of an empty secret: %v, want ErrSecretNotFound", err)
	}
	nv, err := v.SetIfVersion(ctx, "tokens/e", &vault.Secret{Value: "first"}, "")
	if err != nil {
		t.Fatalf("SetIfVersion(\"\") over an empty secret: %v", err)
	}
	if s, err := v.Get(ctx, "tokens/e"); err != nil || s.Value != "first" || s.Metadata.Version != nv {
		t.Fatalf("Get = %+v, %v; want first at %q", s, err, nv)
	}
	// Now that it holds a version, "nothing stored" is a conflict again.
	if _, err := v.SetIfVersion(ctx, "tokens/e", &vault.Secret{Value: "again"}, ""); !isConflict(err) {
		t.Fatalf("SetIfVersion(\"\") over a live secret: %v, want a conflict", err)
	}
}

// A Get that reads the alias, and then finds the version it named
// destroyed by a concurrent Set, reads again and returns the new value,
// instead of failing a read of a secret that was there all along.
func TestGetRacesSet(t *testing.T) {
	srv := startFake(t)
	v, other := newVault(t, srv, bearer), newVault(t, srv, bearer)
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/r", &vault.Secret{Value: "old"}); err != nil {
		t.Fatal(err)
	}
	srv.Before("AccessSecretVersion", func() {
		if err := other.Set(ctx, "tokens/r", &vault.Secret{Value: "new"}); err != nil {
			t.Error(err)
		}
	})
	s, err := v.Get(ctx, "tokens/r")
	if err != nil || s.Value != "new" {
		t.Fatalf("Get while a Set destroys the version read = %+v, %v; want new", s, err)
	}
}

// A refused write names neither the value it carried nor a token.
func TestWriteErrorsQuoteNoSecret(t *testing.T) {
	srv := startFake(t)
	for _, v := range []*gcp.Vault{newVault(t, srv, "ya29.wrong"), newVault(t, srv, bearer)} {
		srv.Throttle(1000)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := v.Set(ctx, "tokens/x", &vault.Secret{Value: "canary-value"})
		cancel()
		if err == nil {
			t.Fatal("Set succeeded")
		}
		if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "ya29") {
			t.Fatalf("error quotes a secret: %v", err)
		}
	}
}

// Two plain Sets of one secret that interleave leave one live version:
// each destroys the version it replaced. Before, the Set whose alias
// update came last moved the alias unconditionally, and the other's
// version stayed live (and billed) with no alias naming it.
func TestInterleavedSetsLeaveOneVersion(t *testing.T) {
	srv := startFake(t)
	v, other := newVault(t, srv, bearer), newVault(t, srv, bearer)
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/s", &vault.Secret{Value: "0"}); err != nil {
		t.Fatal(err)
	}
	srv.Before("UpdateSecret", func() {
		if err := other.Set(ctx, "tokens/s", &vault.Secret{Value: "other"}); err != nil {
			t.Error(err)
		}
	})
	if err := v.Set(ctx, "tokens/s", &vault.Secret{Value: "mine"}); err != nil {
		t.Fatal(err)
	}
	if val, live := srv.Current("projects/proj/secrets/omnitoken-tokens_2Fs"); val != "mine" || live != 1 {
		t.Fatalf("current %q with %d live versions; want mine, 1", val, live)
	}
}

// The PREFIX of a URI's path is followed by a '/', so that the vaults of
// prefixes "a" and "ab" never share a name; before, prefix "app" with
// path "credentials/x" and prefix "ap" with path "pcredentials/x" named
// one secret.
func TestURIPrefixesStayApart(t *testing.T) {
	srv := startFake(t)
	vaulte2e.PrefixesApart(t, newVaultIn(t, srv, bearer, "proj", gcp.URIPrefix("/app")), newVaultIn(t, srv, bearer, "proj", gcp.URIPrefix("/ap/")))
}
