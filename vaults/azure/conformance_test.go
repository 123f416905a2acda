package azure_test

import (
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/azure/internal/fakekv"
	"github.com/plexusone/omnivault/vault"
)

// The vault conformance suite, through the real azsecrets client against
// the fake. Key Vault names hold at most 127 characters, and the mapping
// writes '/' and upper-case letters as three, so the longest path the
// suite may use is shorter than its default.
func TestVaultConformance(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{
		New:        func(t *testing.T) vault.Vault { return newVault(t, startFake(t, &fakekv.Server{}), bearer) },
		MaxPathLen: 100,
	})
}
