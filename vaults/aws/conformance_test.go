package aws_test

import (
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnivault/vault"
)

// The vault conformance suite, through the real SDK client against the
// fake; each subtest gets a fresh server.
func TestVaultConformance(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{New: func(t *testing.T) vault.Vault { return newVault(t, startFake(t)) }})
}
