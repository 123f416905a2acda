package gcp_test

import (
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnivault/vault"
)

// The vault conformance suite, through the real client against the fake.
// Secret IDs hold at most 255 characters, and the mapping writes '/' as
// three, so the longest path is shorter than the suite's default.
func TestVaultConformance(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{
		New:        func(t *testing.T) vault.Vault { return newVault(t, startFake(t), bearer) },
		MaxPathLen: 240,
	})
}
