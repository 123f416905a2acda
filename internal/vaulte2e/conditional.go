package vaulte2e

import (
	"context"
	"errors"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// ConditionalWrites races two writers, a and b (two clients of one
// service), over path p through SetIfVersion: a create over an existing
// secret is refused, a write with a stale version is refused and leaves
// the winner's value, a write after a re-read goes through and reports
// the version Get then reads, and a plain Set overwrites whatever is
// there. p must not exist yet.
func ConditionalWrites(t *testing.T, a, b storage.ConditionalVault, p string) {
	t.Helper()
	ctx := context.Background()
	read := func(v storage.ConditionalVault) *vault.Secret {
		t.Helper()
		s, err := v.Get(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	conflict := func(err error) bool { return errors.Is(err, core.ErrConflict) }
	if _, err := a.SetIfVersion(ctx, p, &vault.Secret{Value: "gen1"}, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetIfVersion(ctx, p, &vault.Secret{Value: "gen1-b"}, ""); !conflict(err) {
		t.Fatalf("create over an existing secret: %v, want a conflict", err)
	}
	sa, sb := read(a), read(b)
	if sa.Metadata.Version != sb.Metadata.Version || sa.Metadata.Version == "" {
		t.Fatalf("versions %q and %q of one secret", sa.Metadata.Version, sb.Metadata.Version)
	}
	if _, err := a.SetIfVersion(ctx, p, &vault.Secret{Value: "gen2-a"}, sa.Metadata.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetIfVersion(ctx, p, &vault.Secret{Value: "gen2-b"}, sb.Metadata.Version); !conflict(err) {
		t.Fatalf("stale write: %v, want a conflict", err)
	}
	if got := read(b); got.Value != "gen2-a" {
		t.Fatalf("stored %q after the refused write, want gen2-a", got.Value)
	}
	nv, err := b.SetIfVersion(ctx, p, &vault.Secret{Value: "gen3-b"}, read(b).Metadata.Version)
	if err != nil {
		t.Fatalf("write after re-read: %v", err)
	}
	if got := read(a); got.Value != "gen3-b" || got.Metadata.Version != nv {
		t.Fatalf("read %q at %q, want gen3-b at %q", got.Value, got.Metadata.Version, nv)
	}
	if err := a.Set(ctx, p, &vault.Secret{Value: "plain"}); err != nil {
		t.Fatalf("plain Set over a newer version: %v", err)
	}
	if got := read(b); got.Value != "plain" {
		t.Fatalf("after plain Set: %q, want plain", got.Value)
	}
}

// PrefixesApart checks that two vaults of one service, app and ap, whose
// URIs name the prefixes "app" and "ap", never share a secret: prefix
// "ap" with path "pcredentials/x" is not prefix "app" with path
// "credentials/x".
func PrefixesApart(t *testing.T, app, ap vault.Vault) {
	t.Helper()
	ctx := context.Background()
	if err := app.Set(ctx, "credentials/x", &vault.Secret{Value: "app"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ap.Get(ctx, "pcredentials/x"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("prefix ap, path pcredentials/x reads prefix app's credentials/x: %v", err)
	}
	if got, err := ap.List(ctx, ""); err != nil || len(got) != 0 {
		t.Fatalf("prefix ap lists %q, %v; want nothing", got, err)
	}
}

// Throttling writes p on v, then has the service behind v answer as
// throttled: 2 answers in a row are ridden out, so Get still returns the
// value after exactly 2 throttled answers (throttled counts them all);
// 10 in a row outlast the retries, and Get fails with an error matching
// vault.ErrConnectionFailed. throttle(n) makes the next n answers
// throttled; the service is left throttling what remains of the 10.
func Throttling(t *testing.T, v vault.Vault, p string, throttle func(n int), throttled func() int) {
	t.Helper()
	ctx := context.Background()
	if err := v.Set(ctx, p, &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	throttle(2)
	if s, err := v.Get(ctx, p); err != nil || s.Value != "1" {
		t.Fatalf("Get through throttling: %v, %v", s, err)
	}
	if n := throttled(); n != 2 {
		t.Fatalf("%d throttled answers, want 2", n)
	}
	throttle(10)
	if _, err := v.Get(ctx, p); !errors.Is(err, vault.ErrConnectionFailed) {
		t.Fatalf("Get throttled past the retries: %v, want ErrConnectionFailed", err)
	}
}
