// Package livecheck holds what the password-manager vaults' tests share:
// the round trip their live tests run against a real account, and the
// check that only a program importing a vault links its SDK.
package livecheck

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// RoundTrip stores a credential and a token in v through a storage.Store,
// reads and lists them, and deletes them. It is what the providers' live
// tests run against a real account.
func RoundTrip(t *testing.T, v vault.Vault) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	st, err := storage.New(v, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	name := "live-" + time.Now().Format("150405")
	c, err := core.ParseCredentials([]byte(`{"service":"example","type":"basic","basic":{"username":"u","password":"p"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetCredentials(ctx, name, c); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = st.DeleteCredentials(ctx, name); _ = st.DeleteToken(ctx, name) }()
	if _, err := st.GetCredentials(ctx, name); err != nil {
		t.Fatal(err)
	}
	names, err := st.ListCredentials(ctx)
	if err != nil || !slices.Contains(names, name) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
	if err := st.SetToken(ctx, name, &core.StoredToken{Token: core.Token{AccessToken: "live-access", Expiry: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	tok, err := st.GetToken(ctx, name)
	if err != nil || tok.AccessToken != "live-access" {
		t.Fatalf("GetToken = %v, %v", tok, err)
	}
	if err := st.DeleteCredentials(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetCredentials(ctx, name); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}

// OnlyImportersLink checks with `go list -deps`, run in the current
// directory (the vault package's), that this package links sdk and that a
// program built from the root package links neither sdk nor the package
// self, even when both are in one build list. It is skipped with -short.
func OnlyImportersLink(t *testing.T, sdk, self string) {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go list")
	}
	list := func(pkgs ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if !slices.Contains(list("."), sdk) {
		t.Fatalf("this package does not link %s: the check below would pass vacuously", sdk)
	}
	for _, d := range list("github.com/plexusone/omnitoken") {
		if strings.HasPrefix(d, sdk) || strings.HasPrefix(d, self) {
			t.Errorf("a program that does not import %s links %s", self, d)
		}
	}
}
