package cloudvault

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/internal/safename"
	"github.com/plexusone/omnivault/vault"
)

var lower = safename.Mapping{
	Keep:   func(b byte) bool { return 'a' <= b && b <= 'z' },
	Escape: '_',
	MaxLen: 20,
}

func TestBase(t *testing.T) {
	var b Base
	if err := b.Init("x", lower, strings.Repeat("a", 21)); err == nil || !strings.HasPrefix(err.Error(), "x: prefix: ") {
		t.Fatalf("Init with a prefix too long: %v", err)
	}
	if err := b.Init("x", lower, "pre/"); err != nil {
		t.Fatal(err)
	}
	n, err := b.Encode("a/b")
	if err != nil || n != "pre_2Fa_2Fb" {
		t.Fatalf("Encode(a/b) = %q, %v", n, err)
	}
	if _, err := b.Encode(""); !errors.Is(err, vault.ErrInvalidPath) || !strings.HasPrefix(err.Error(), "x: ") {
		t.Fatalf("Encode(\"\"): %v", err)
	}
	if _, err := b.Encode(strings.Repeat("a", 30)); !errors.Is(err, vault.ErrInvalidPath) {
		t.Fatalf("Encode(too long): %v", err)
	}
	if p, ok := b.Path(n, "a/"); !ok || p != "a/b" {
		t.Fatalf("Path(%q, a/) = %q, %v", n, p, ok)
	}
	for _, n := range []string{"pre_2Fb", "other_2Fa", "pre_zz"} {
		if p, ok := b.Path(n, "a"); ok {
			t.Errorf("Path(%q, a) = %q, true", n, p)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := b.Check(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Secret(ctx, "a/b"); err != nil || got != n {
		t.Fatalf("Secret(a/b) = %q, %v; want %q", got, err, n)
	}
	if _, err := b.Secret(ctx, ""); !errors.Is(err, vault.ErrInvalidPath) {
		t.Fatalf("Secret(\"\") = %v", err)
	}
	cancel()
	if err := b.Check(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Check(canceled) = %v", err)
	}
	if _, err := b.Secret(ctx, "a/b"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Secret(canceled) = %v", err)
	}
	b.Close()
	if err := b.Check(context.Background()); !errors.Is(err, vault.ErrClosed) {
		t.Fatalf("Check after Close = %v", err)
	}
	if _, err := b.Secret(context.Background(), ""); !errors.Is(err, vault.ErrClosed) {
		t.Fatalf("Secret after Close = %v, want ErrClosed before the path is looked at", err)
	}
}

func TestExists(t *testing.T) {
	boom := errors.New("boom")
	for _, c := range []struct {
		err  error
		ok   bool
		fail error
	}{
		{nil, true, nil},
		{vault.NewVaultError("get", "p", "x", vault.ErrSecretNotFound), false, nil},
		{boom, false, boom},
	} {
		ok, err := Exists(nil, c.err)
		if ok != c.ok || !errors.Is(err, c.fail) || (c.fail == nil) != (err == nil) {
			t.Errorf("Exists(%v) = %v, %v", c.err, ok, err)
		}
	}
}
