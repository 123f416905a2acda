package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// fencingLocker is a fake core.FencingLocker: each lease gets the next
// fence. It does not exclude anyone; the Manager's flights already do
// within a process, and these tests play the other holder themselves.
type fencingLocker struct {
	next atomic.Uint64
	err  error
}

func (l *fencingLocker) Lock(ctx context.Context, name string) (func(), error) {
	_, unlock, err := l.LockFenced(ctx, name)
	return unlock, err
}

func (l *fencingLocker) LockFenced(context.Context, string) (uint64, func(), error) {
	if l.err != nil {
		return 0, nil, l.err
	}
	return l.next.Add(1), func() {}, nil
}

// fencingStore is a fake of a Store that checks fences, as the Redis store
// does with a script: SetToken refuses, with ErrConflict, a token that is
// not newer than the one it holds.
type fencingStore struct {
	core.Store
	mu      sync.Mutex
	refused int
}

func (s *fencingStore) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, err := s.Store.GetToken(ctx, name); err == nil &&
		(cur.Fence > t.Fence || (cur.Fence == t.Fence && cur.Generation >= t.Generation)) {
		s.refused++
		return fmt.Errorf("fake: fence %d generation %d is not newer than fence %d generation %d: %w",
			t.Fence, t.Generation, cur.Fence, cur.Generation, core.ErrConflict)
	}
	return s.Store.SetToken(ctx, name, t)
}

func newFencing(t *testing.T, mut func(*core.Options)) (*core.Manager, *fencingStore, *coretest.CountingStrategy, *coretest.FakeClock) {
	t.Helper()
	clock := coretest.NewFakeClock(t0)
	strat := &coretest.CountingStrategy{TTL: time.Minute, Clock: clock}
	store := &fencingStore{Store: core.NewMemoryStore()}
	opts := core.Options{Store: store, Strategies: []core.Strategy{strat}, Clock: clock, Locker: &fencingLocker{}, RefreshBuffer: 10 * time.Second}
	if mut != nil {
		mut(&opts)
	}
	m, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.SetCredentials(context.Background(), "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	return m, store, strat, clock
}

// TestFenceStamped: every token written under a fenced lease carries its
// fence, PutToken's included. (SetCredentials took lease 1.)
func TestFenceStamped(t *testing.T) {
	m, store, _, clock := newFencing(t, nil)
	ctx := context.Background()
	for gen := uint64(1); gen <= 2; gen++ {
		if _, err := m.Token(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
		st, err := store.GetToken(ctx, "svc")
		if err != nil || st.Fence != gen+1 || st.Generation != gen {
			t.Fatalf("stored %v (fence %d), %v; want fence %d, generation %d", st, st.Fence, err, gen+1, gen)
		}
		clock.Advance(2 * time.Minute)
	}
	if err := m.PutToken(ctx, "svc", &core.Token{AccessToken: "put", Expiry: clock.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if st, _ := store.GetToken(ctx, "svc"); st.Fence != 4 || st.AccessToken != "put" {
		t.Fatalf("PutToken stored %v with fence %d, want fence 4", st, st.Fence)
	}
}

// TestConflictAdoptsStored: while this Manager's refresh runs, its lease
// lapses and another holder writes under a newer fence. The store refuses
// the late write; the Manager adopts the other holder's token and does not
// write again.
func TestConflictAdoptsStored(t *testing.T) {
	var loaded, issued atomic.Int64
	m, store, strat, clock := newFencing(t, func(o *core.Options) {
		o.OnEvent = func(e core.Event) {
			switch e.Kind {
			case core.EventTokenLoaded:
				loaded.Add(1)
			case core.EventTokenIssued:
				issued.Add(1)
			}
		}
	})
	strat.Started = make(chan struct{}, 1)
	strat.Gate = make(chan struct{})
	ctx := context.Background()
	got := make(chan *core.Token, 1)
	go func() {
		tok, err := m.Token(ctx, "svc")
		if err != nil {
			t.Error(err)
		}
		got <- tok
	}()
	recv(t, strat.Started, "the refresh to start")
	other := &core.StoredToken{Token: core.Token{AccessToken: "other-holder", Expiry: clock.Now().Add(time.Hour)}, Generation: 1, Fence: 7}
	if err := store.Store.SetToken(ctx, "svc", other); err != nil {
		t.Fatal(err)
	}
	close(strat.Gate)
	if tok := recv(t, got, "the waiter"); tok == nil || tok.AccessToken != "other-holder" {
		t.Fatalf("waiter got %v, want the other holder's token", tok)
	}
	store.mu.Lock()
	refused := store.refused
	store.mu.Unlock()
	if refused != 1 {
		t.Fatalf("store refused %d writes, want exactly 1 (no blind retry)", refused)
	}
	if st, _ := store.GetToken(ctx, "svc"); st.AccessToken != "other-holder" || st.Fence != 7 {
		t.Fatalf("store holds %v, want the other holder's token", st)
	}
	if loaded.Load() != 1 || issued.Load() != 0 {
		t.Fatalf("EventTokenLoaded %d times, EventTokenIssued %d times; want 1 and 0", loaded.Load(), issued.Load())
	}
	// PutToken under a lapsed lease is refused too, and says so.
	err := m.PutToken(ctx, "svc", &core.Token{AccessToken: "late", Expiry: clock.Now().Add(time.Hour)})
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("PutToken over a newer fence: %v, want ErrConflict", err)
	}
}

// TestLockFailed: a Locker that fails gives a temporary error wrapping
// its own, and EventLockFailed with the credential's type.
func TestLockFailed(t *testing.T) {
	lockErr := errors.New("redis: connection refused")
	var ev atomic.Pointer[core.Event]
	m, _, strat, _ := newFencing(t, func(o *core.Options) {
		o.Locker = &fencingLocker{err: lockErr}
		o.OnEvent = func(e core.Event) {
			if e.Kind == core.EventLockFailed {
				ev.Store(&e)
			}
		}
	})
	_, err := m.Token(context.Background(), "svc")
	if !errors.Is(err, lockErr) || !core.IsTemporary(err) {
		t.Fatalf("err = %v: wraps the Locker's error %v, temporary %v", err, errors.Is(err, lockErr), core.IsTemporary(err))
	}
	e := ev.Load()
	if e == nil || e.Name != "svc" || e.Type != "counting" || !errors.Is(e.Err, lockErr) {
		t.Fatalf("EventLockFailed = %+v", e)
	}
	if strat.Calls.Load() != 0 {
		t.Fatal("the strategy was called without the lock")
	}
}

// TestEventTypeAndDuration: issued and failed events carry the
// credential's type and the strategy call's latency.
func TestEventTypeAndDuration(t *testing.T) {
	var mu sync.Mutex
	var evs []core.Event
	f := newFixture(t, time.Minute, func(o *core.Options) {
		o.OnEvent = func(e core.Event) {
			mu.Lock()
			evs = append(evs, e)
			mu.Unlock()
		}
	})
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	f.strat.SetErr(&core.OAuthError{Code: "invalid_client", StatusCode: 401})
	f.clock.Advance(2 * time.Minute)
	_, _ = f.m.Token(ctx, "svc")
	mu.Lock()
	defer mu.Unlock()
	kinds := map[core.EventKind]bool{}
	for _, e := range evs {
		if e.Kind == core.EventTokenIssued || e.Kind == core.EventRefreshFailed {
			kinds[e.Kind] = true
			if e.Type != "counting" || e.Duration <= 0 || e.Name != "svc" {
				t.Errorf("%s event: type %q, duration %s, name %q", e.Kind, e.Type, e.Duration, e.Name)
			}
		}
	}
	if !kinds[core.EventTokenIssued] || !kinds[core.EventRefreshFailed] {
		t.Fatalf("events: %v", evs)
	}
}
