package azure_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/azure"
	"github.com/plexusone/omnivault/vault"
)

// TestLiveKeyVaultConformance runs the vault conformance suite against
// the vault whose host OMNITOKEN_LIVE_AZURE_KV names, with
// DefaultAzureCredential, under a fresh prefix; what it wrote is purged.
// It is skipped when OMNITOKEN_LIVE_AZURE_KV is unset.
func TestLiveKeyVaultConformance(t *testing.T) {
	host := os.Getenv("OMNITOKEN_LIVE_AZURE_KV")
	if host == "" {
		t.Skip("set OMNITOKEN_LIVE_AZURE_KV=my-vault.vault.azure.net to run against Azure")
	}
	prefix := "live" + strings.ToLower(rand.Text())[:8]
	vaulttest.Run(t, vaulttest.Options{
		MaxPathLen: 100,
		New: func(t *testing.T) vault.Vault {
			v, err := azure.FromURI("azure-kv://" + host + "/" + prefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				paths, _ := v.List(context.Background(), "")
				for _, p := range paths {
					_ = v.Delete(context.Background(), p)
				}
			})
			return v
		},
	})
}
