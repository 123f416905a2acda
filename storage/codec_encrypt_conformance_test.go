package storage_test

import (
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnivault/vault"
)

// TestEncryptedVaultConformance runs the vault conformance suite against
// the encrypting codec over the file vault.
func TestEncryptedVaultConformance(t *testing.T) {
	ks := parseKeys(t, newKeys(t, 2)...)
	vaulttest.Run(t, vaulttest.Options{
		New: func(t *testing.T) vault.Vault {
			fv, err := storage.NewFileVault(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			ev, err := storage.EncryptVault(fv, ks, storage.EncryptOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = ev.Close() })
			return ev
		},
	})
}

// A Store over the encrypting codec over the file vault passes the store
// suite; its peer opens the same directory with the same keys, as another
// process would.
func TestEncryptedStoreConformance(t *testing.T) {
	ks := parseKeys(t, newKeys(t, 1)...)
	open := func(t *testing.T, dir string) core.Store {
		ev, err := storage.EncryptVault(newFileVault(t, dir), ks, storage.EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return newStore(t, ev, storage.Options{})
	}
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store { return open(t, t.TempDir()) },
		Peer: func(t *testing.T, s core.Store) core.Store {
			ev := s.(*storage.Store).Vault().(*storage.EncryptedVault)
			return open(t, ev.Unwrap().(*storage.FileVault).Dir())
		},
	})
}
