package storage_test

import (
	"sync"
	"testing"

	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
	"github.com/plexusone/omnitoken/storage/vaulttest"
)

// A Store over omnivault's memory vault passes the store suite; its peer
// is a second Store over the same vault.
func TestStoreConformanceMemoryVault(t *testing.T) {
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store { return newStore(t, memory.New(), storage.Options{}) },
		Peer: func(t *testing.T, s core.Store) core.Store {
			return newStore(t, s.(*storage.Store).Vault(), storage.Options{})
		},
	})
}

// A Store over the file vault passes the store suite; its peer is a
// second FileVault and Store on the same directory, as another process
// would open them.
func TestStoreConformanceFileVault(t *testing.T) {
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store { return newStore(t, newFileVault(t, t.TempDir()), storage.Options{}) },
		Peer: func(t *testing.T, s core.Store) core.Store {
			dir := s.(*storage.Store).Vault().(*storage.FileVault).Dir()
			return newStore(t, newFileVault(t, dir), storage.Options{})
		},
	})
}

// FileLocker passes the locker suite. Its peer is a second FileLocker on
// the same directory, and a dead holder is a helper process holding the
// lock that is SIGKILLed.
func TestFileLockerConformance(t *testing.T) {
	var mu sync.Mutex
	dirs := map[core.Locker]string{}
	open := func(t *testing.T, dir string) core.Locker {
		l, err := storage.NewFileLocker(dir)
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		dirs[l] = dir
		mu.Unlock()
		return l
	}
	dirOf := func(l core.Locker) string {
		mu.Lock()
		defer mu.Unlock()
		return dirs[l]
	}
	storetest.TestLocker(t, storetest.LockerOptions{
		New:  func(t *testing.T) core.Locker { return open(t, t.TempDir()) },
		Peer: func(t *testing.T, l core.Locker) core.Locker { return open(t, dirOf(l)) },
		Abandon: func(t *testing.T, l core.Locker, name string) {
			h := startHelper(t, "lockholder", dirOf(l), helperNameEnv+"="+name)
			h.await(t, "locked")
			h.kill(t)
		},
	})
}

// The file vault passes the vault suite.
func TestFileVaultConformance(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{
		New: func(t *testing.T) vault.Vault { return newFileVault(t, t.TempDir()) },
	})
}
