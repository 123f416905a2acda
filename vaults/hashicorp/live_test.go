package hashicorp_test

import (
	"crypto/rand"
	"os"
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/hashicorp"
	"github.com/plexusone/omnivault/vault"
)

// TestLiveVaultConformance runs the vault conformance suite against a real
// server, under a fresh prefix of the KV v2 mount that
// OMNITOKEN_LIVE_VAULT_MOUNT names, with VAULT_ADDR and VAULT_TOKEN. It is
// skipped when OMNITOKEN_LIVE_VAULT_MOUNT is unset.
func TestLiveVaultConformance(t *testing.T) {
	mount := os.Getenv("OMNITOKEN_LIVE_VAULT_MOUNT")
	if mount == "" {
		t.Skip("set OMNITOKEN_LIVE_VAULT_MOUNT, VAULT_ADDR and VAULT_TOKEN to run against a real server")
	}
	prefix := "omnitoken-live-" + rand.Text()
	vaulttest.Run(t, vaulttest.Options{New: func(t *testing.T) vault.Vault {
		v, err := hashicorp.New(hashicorp.Config{
			Address: os.Getenv("VAULT_ADDR"), Mount: mount, Prefix: prefix,
			Auth: hashicorp.Auth{Token: os.Getenv("VAULT_TOKEN")}, Namespace: os.Getenv("VAULT_NAMESPACE"),
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cleanup(t, v); _ = v.Close() })
		return v
	}})
}

// cleanup deletes whatever a subtest left under the Vault's prefix.
func cleanup(t *testing.T, v vault.Vault) {
	paths, err := v.List(t.Context(), "")
	if err != nil {
		t.Logf("cleanup: %v", err)
		return
	}
	for _, p := range paths {
		_ = v.Delete(t.Context(), p)
	}
}
