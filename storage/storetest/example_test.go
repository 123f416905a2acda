package storetest_test

import (
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
)

// A store's own test file runs the suite from a test function. This one
// is for core.MemoryStore, which does no I/O and so may ignore its
// contexts.
func ExampleTestStore() {
	_ = func(t *testing.T) {
		storetest.TestStore(t, storetest.StoreOptions{
			New:            func(*testing.T) core.Store { return core.NewMemoryStore() },
			IgnoresContext: true,
		})
	}
}

// A locker shared by processes gives the suite a Peer: a second locker on
// the same locks, here a FileLocker on the same directory. A locker also
// sets Abandon, to hand a lock to a holder that then dies: storage's
// tests start a helper process that takes the lock and SIGKILL it; a
// Redis lease simply takes the lock and never releases it, with
// DeadHolderTimeout a little above the lease TTL.
func ExampleTestLocker() {
	_ = func(t *testing.T) {
		dirs := map[core.Locker]string{}
		open := func(t *testing.T, dir string) core.Locker {
			l, err := storage.NewFileLocker(dir)
			if err != nil {
				t.Fatal(err)
			}
			dirs[l] = dir
			return l
		}
		storetest.TestLocker(t, storetest.LockerOptions{
			New:  func(t *testing.T) core.Locker { return open(t, t.TempDir()) },
			Peer: func(t *testing.T, l core.Locker) core.Locker { return open(t, dirs[l]) },
		})
	}
}
