package vaulttest_test

import (
	"testing"

	"github.com/plexusone/omnivault/vault"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/vaulttest"
)

// A backend's own test file runs the suite from a test function. This one
// is for the file vault; a backend that cannot list sets NoList, one
// shared with other data sets a Prefix.
func ExampleRun() {
	_ = func(t *testing.T) {
		vaulttest.Run(t, vaulttest.Options{
			New: func(t *testing.T) vault.Vault {
				v, err := storage.NewFileVault(t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = v.Close() })
				return v
			},
		})
	}
}
