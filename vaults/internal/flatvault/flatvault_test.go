package flatvault_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/internal/flatvault"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

func TestMapping(t *testing.T) {
	mem := memory.New()
	v, err := flatvault.New(mem, "op", "Private", "omnitoken", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	paths := []string{"credentials/github", "credentials/a%3Ab", "credentials/x:y", "tokens/github", "a%25/b"}
	for _, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: "v-" + p, Fields: map[string]string{"f": "x"}}); err != nil {
			t.Fatal(err)
		}
	}
	if got := v.Item("credentials/github"); got != "omnitoken:credentials:github" {
		t.Fatalf("item = %q", got)
	}
	if _, err := mem.Get(ctx, "Private/omnitoken:credentials:github"); err != nil {
		t.Fatalf("item not where documented: %v", err)
	}
	for _, p := range paths {
		s, err := v.Get(ctx, p)
		if err != nil || s.Value != "v-"+p || len(s.Fields) != 0 {
			t.Fatalf("Get %q = %+v, %v", p, s, err)
		}
	}
	got, err := v.List(ctx, "credentials/")
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if want := []string{"credentials/a%3Ab", "credentials/github", "credentials/x:y"}; !slices.Equal(got, want) {
		t.Fatalf("List = %q, want %q", got, want)
	}
	// Distinct paths never share an item.
	items := map[string]bool{}
	for _, p := range paths {
		items[v.Item(p)] = true
	}
	if len(items) != len(paths) {
		t.Fatalf("items collide: %v", items)
	}
	if _, err := v.Get(ctx, ""); !errors.Is(err, vault.ErrInvalidPath) {
		t.Fatalf("empty path: %v", err)
	}
	if v.Capabilities().MultiField {
		t.Fatal("MultiField reported")
	}
	// A Store over it lists its credentials by name.
	st, err := storage.New(v, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	names, err := st.ListCredentials(ctx)
	if err != nil || !slices.Equal(names, []string{"a:b", "github"}) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
	if _, err := flatvault.New(mem, "op", "", "p", nil); err == nil {
		t.Fatal("empty container accepted")
	}
	if _, err := flatvault.New(mem, "op", "c", "a:b", nil); err == nil {
		t.Fatal("prefix with ':' accepted")
	}
}

// The adapter over omnivault's memory provider passes the vault suite:
// every awkward path maps to an item and back.
func TestVaultConformance(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{
		New: func(t *testing.T) vault.Vault {
			v, err := flatvault.New(memory.New(), "op", "Private", "omnitoken", nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = v.Close() })
			return v
		},
		IgnoresContext: true, // the memory provider does no I/O
	})
}
