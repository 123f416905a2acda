package redisstore_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
)

// The Store passes the core.Store suite: each store has its own key
// prefix on one redis-server and its own file vault; its peer is a second
// client, FileVault and Store on the same prefix and directory, as
// another replica would open them.
func TestStoreConformance(t *testing.T) {
	srv := redistest.Start(t)
	key := newKey(t)
	type where struct{ prefix, dir string }
	var mu sync.Mutex
	places := map[core.Store]where{}
	var seq atomic.Int64
	open := func(t *testing.T, w where) core.Store {
		t.Helper()
		c, _ := client(t, srv)
		fv, err := storage.NewFileVault(w.dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = fv.Close() })
		durable, err := storage.New(fv, storage.Options{})
		if err != nil {
			t.Fatal(err)
		}
		ci, err := redisstore.NewAESGCM(key)
		if err != nil {
			t.Fatal(err)
		}
		s, err := redisstore.NewStore(c, durable, redisstore.StoreOptions{Cipher: ci, Prefix: w.prefix})
		if err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		places[s] = w
		mu.Unlock()
		return s
	}
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store {
			return open(t, where{prefix: fmt.Sprintf("conformance%d", seq.Add(1)), dir: t.TempDir()})
		},
		Peer: func(t *testing.T, s core.Store) core.Store {
			mu.Lock()
			w := places[s]
			mu.Unlock()
			return open(t, w)
		},
		RefusesStaleTokens: true,
	})
}

// The Locker passes the core.Locker suite: its peer is a Locker on a
// second client of the same server, and a dead holder is a lease taken
// and never renewed nor released.
func TestLockerConformance(t *testing.T) {
	srv := redistest.Start(t)
	const ttl = time.Second
	var mu sync.Mutex
	clients := map[core.Locker]*goredis.Client{}
	open := func(t *testing.T) core.Locker {
		c, _ := client(t, srv)
		l := newLocker(t, c, redisstore.LockerOptions{TTL: ttl})
		mu.Lock()
		clients[l] = c
		mu.Unlock()
		return l
	}
	storetest.TestLocker(t, storetest.LockerOptions{
		New:  open,
		Peer: func(t *testing.T, _ core.Locker) core.Locker { return open(t) },
		Abandon: func(t *testing.T, l core.Locker, name string) {
			mu.Lock()
			c := clients[l]
			mu.Unlock()
			seg, err := storage.EscapeName(name)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.SetArgs(t.Context(), "omnitoken:{"+seg+"}:lease", "dead-holder", goredis.SetArgs{Mode: "NX", TTL: ttl}).Err(); err != nil {
				t.Fatal(err)
			}
		},
		DeadHolderTimeout: ttl + time.Second,
	})
}
