package redisstore_test

import (
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// The cached path never touches Redis, and a refresh costs exactly four
// round trips: take the lease, re-read the record, write it with the
// compare-and-swap, release the lease.
func TestRefreshRoundTrips(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, rt := client(t, srv)
	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: time.Hour})
	t.Cleanup(idp.Close)
	l := newLocker(t, c, redisstore.LockerOptions{})
	m, err := core.New(core.Options{
		Store:      newStore(t, c, newKey(t), nil),
		Locker:     l,
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetCredentials(ctx, "svc", idp.Credentials()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Token(ctx, "svc"); err != nil { // loads the scripts
		t.Fatal(err)
	}
	for range 3 {
		before := rt.Load()
		tok, err := m.Refresh(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		if n := rt.Load() - before; n != 4 {
			t.Errorf("a refresh cost %d Redis round trips, want 4", n)
		}
		before = rt.Load()
		for range 1000 {
			if got, err := m.Token(ctx, "svc"); err != nil || got != tok {
				t.Fatalf("cached Token = %v, %v", got, err)
			}
		}
		if n := rt.Load() - before; n != 0 {
			t.Errorf("1000 cached Token calls cost %d Redis round trips, want 0", n)
		}
	}
	if s := idp.Stats(); s.Refreshes != 3 || s.MaxPresented != 1 {
		t.Errorf("IdP %+v, want 3 refreshes", s)
	}
}
