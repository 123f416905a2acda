//go:build unix

package keyring

import (
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnivault/vault"
)

// TestVaultConformance runs the vault conformance suite against the real
// gnome-keyring-daemon.
func TestVaultConformance(t *testing.T) {
	needDaemon(t)
	vaulttest.Run(t, vaulttest.Options{
		New: func(t *testing.T) vault.Vault { return newVault(t) },
	})
}

// A Store over the keyring vault passes the store suite; its peer is a
// second Vault on the same service, as another process would open it.
func TestStoreConformance(t *testing.T) {
	needDaemon(t)
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store {
			st, err := storage.New(newVault(t), storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
		Peer: func(t *testing.T, s core.Store) core.Store {
			v, err := New(Options{Service: s.(*storage.Store).Vault().(*Vault).Service()})
			if err != nil {
				t.Fatal(err)
			}
			st, err := storage.New(v, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return st
		},
	})
}
