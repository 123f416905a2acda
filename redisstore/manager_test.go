package redisstore_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// The cached path never touches Redis, and a refresh costs exactly five
// round trips: take the lease, re-read the record, write it with the
// compare-and-swap, check it after the write-through, release the lease.
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
		if n := rt.Load() - before; n != 5 {
			t.Errorf("a refresh cost %d Redis round trips, want 5", n)
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

// Redis down: a valid cached token is served without Redis; a refresh
// that needs the lease fails with a temporary error matching
// ErrUnavailable and EventLockFailed, and sends nothing to the IdP; once
// Redis is back the next call refreshes, with nothing done by hand.
func TestManagerWhileRedisDown(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, rt := client(t, srv)
	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: time.Hour})
	t.Cleanup(idp.Close)
	clk := coretest.NewFakeClock(time.Now())
	var mu sync.Mutex
	var lockFailed []core.Event
	m, err := core.New(core.Options{
		Store:      newStore(t, c, newKey(t), nil),
		Locker:     newLocker(t, c, redisstore.LockerOptions{}),
		Clock:      clk,
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true, Clock: clk})},
		OnEvent: func(ev core.Event) {
			if ev.Kind == core.EventLockFailed {
				mu.Lock()
				lockFailed = append(lockFailed, ev)
				mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetCredentials(ctx, "svc", idp.Credentials()); err != nil {
		t.Fatal(err)
	}
	first, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	before := rt.Load()
	if got, err := m.Token(ctx, "svc"); err != nil || got != first {
		t.Fatalf("cached token while Redis is down: %v, %v", got, err)
	}
	if n := rt.Load() - before; n != 0 {
		t.Errorf("the cached path sent %d commands to Redis", n)
	}
	requests := idp.Stats().Requests
	clk.Advance(2 * time.Hour)
	_, err = m.Token(ctx, "svc")
	if !errors.Is(err, redisstore.ErrUnavailable) || !core.IsTemporary(err) {
		t.Fatalf("expired token, Redis down: err = %v, want a temporary error matching ErrUnavailable", err)
	}
	mu.Lock()
	n := len(lockFailed)
	mu.Unlock()
	if n == 0 {
		t.Error("no EventLockFailed")
	}
	if s := idp.Stats(); s.Requests != requests {
		t.Errorf("%d token requests while Redis was down, want 0 (no uncoordinated refresh)", s.Requests-requests)
	}
	if err := srv.Restart(true); err != nil {
		t.Fatal(err)
	}
	got, err := m.Token(ctx, "svc")
	if err != nil || got.AccessToken == first.AccessToken {
		t.Fatalf("after Redis came back: %v, %v; want a new token", got, err)
	}
	if s := idp.Stats(); s.Refreshes != 1 || s.InvalidGrants != 0 {
		t.Errorf("IdP %+v, want 1 refresh", s)
	}
}
