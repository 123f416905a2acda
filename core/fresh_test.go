package core

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// ttlStrategy issues numbered tokens that live for ttl.
type ttlStrategy struct {
	ttl   time.Duration
	calls atomic.Int64
}

func (s *ttlStrategy) Type() string { return "ttl" }

func (s *ttlStrategy) Token(context.Context, *Credentials, *Token) (*Token, error) {
	n := s.calls.Add(1)
	return &Token{AccessToken: fmt.Sprintf("access-%d", n), TokenType: "Bearer", Expiry: time.Now().Add(s.ttl)}, nil
}

// ttlCredentials is a credential of ttlStrategy's type.
func ttlCredentials(t *testing.T) *Credentials {
	t.Helper()
	c := &Credentials{Type: "ttl"}
	if err := c.SetSection("ttl", map[string]string{}); err != nil {
		t.Fatal(err)
	}
	return c
}

// ttlManager returns a Manager on opts holding the credential "svc" of
// ttlStrategy's type, with a memory store and an hour-long ttlStrategy
// where opts has none. It is closed when the test ends.
func ttlManager(t *testing.T, opts Options) *Manager {
	t.Helper()
	if opts.Store == nil {
		opts.Store = NewMemoryStore()
	}
	if opts.Strategies == nil {
		opts.Strategies = []Strategy{&ttlStrategy{ttl: time.Hour}}
	}
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.SetCredentials(context.Background(), "svc", ttlCredentials(t)); err != nil {
		t.Fatal(err)
	}
	return m
}

func freshManager(t *testing.T, ttl, buffer time.Duration) *Manager {
	t.Helper()
	return ttlManager(t, Options{Strategies: []Strategy{&ttlStrategy{ttl: ttl}}, RefreshBuffer: buffer})
}

func current(t *testing.T, m *Manager) *cached {
	t.Helper()
	v, ok := m.entries.Load("svc")
	if !ok {
		t.Fatal("no entry for svc")
	}
	return v.(*entry).cur.Load()
}

// With the system clock, a token whose refresh window is wide enough is
// served without a clock read until a timer marks its refresh point; the
// timer is stopped when the token is replaced and when the Manager closes.
func TestFreshTimerLifecycle(t *testing.T) {
	m := freshManager(t, time.Hour, time.Minute)
	ctx := context.Background()
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	first := current(t, m)
	if !first.fresh.Load() || first.timer.Load() == nil {
		t.Fatalf("hour-long token: fresh=%v timer=%v, want armed", first.fresh.Load(), first.timer.Load() != nil)
	}
	if _, err := m.Refresh(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	second := current(t, m)
	if second == first {
		t.Fatal("Refresh did not replace the cached token")
	}
	if first.fresh.Load() || first.timer.Load() != nil {
		t.Fatalf("replaced token: fresh=%v timer=%v, want retired", first.fresh.Load(), first.timer.Load() != nil)
	}
	if !second.fresh.Load() {
		t.Fatal("new token not armed")
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if second.fresh.Load() || second.timer.Load() != nil {
		t.Fatalf("after Close: fresh=%v timer=%v, want retired", second.fresh.Load(), second.timer.Load() != nil)
	}
}

// A token whose window is narrower than a timer's possible lateness is
// never armed: every call compares the clock with its refresh point.
func TestFreshNarrowWindowReadsClock(t *testing.T) {
	m := freshManager(t, 3*time.Second, -1)
	if _, err := m.Token(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	c := current(t, m)
	if margin := time.Duration(c.expireAt - c.refreshAt); margin >= maxTimerLag {
		t.Fatalf("window %v: the test needs one narrower than %v", margin, maxTimerLag)
	}
	if c.fresh.Load() || c.timer.Load() != nil {
		t.Fatalf("narrow window: fresh=%v timer=%v, want unarmed", c.fresh.Load(), c.timer.Load() != nil)
	}
}

// Under a Clock other than SystemClock nothing is armed, so a fake clock
// alone decides when a token is due.
func TestFreshNotArmedUnderOtherClock(t *testing.T) {
	m := ttlManager(t, Options{Clock: shiftedClock{}})
	if _, err := m.Token(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	if got := current(t, m); got.fresh.Load() || got.timer.Load() != nil {
		t.Fatalf("other clock: fresh=%v timer=%v, want unarmed", got.fresh.Load(), got.timer.Load() != nil)
	}
}

// shiftedClock is the system clock under another type.
type shiftedClock struct{ SystemClock }

// gateCredsStore blocks GetCredentials while gate is set, after saying so
// on entered.
type gateCredsStore struct {
	Store
	gate    atomic.Bool
	entered chan struct{}
	release chan struct{}
}

func (s *gateCredsStore) GetCredentials(ctx context.Context, name string) (*Credentials, error) {
	if s.gate.CompareAndSwap(true, false) {
		s.entered <- struct{}{}
		<-s.release
	}
	return s.Store.GetCredentials(ctx, name)
}

// A PutToken that began before Close and publishes its token after
// Close dropped the cache arms no timer: nothing would stop it.
func TestFreshNoTimerArmedAfterClose(t *testing.T) {
	store := &gateCredsStore{Store: NewMemoryStore(), entered: make(chan struct{}), release: make(chan struct{})}
	m := ttlManager(t, Options{Store: store})
	ctx := context.Background()
	store.gate.Store(true)
	put := make(chan error, 1)
	go func() {
		put <- m.PutToken(ctx, "svc", &Token{AccessToken: "put", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour)})
	}()
	select {
	case <-store.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("PutToken did not read the credential")
	}
	v, ok := m.entries.Load("svc")
	if !ok {
		t.Fatal("no entry for svc")
	}
	e := v.(*entry)
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	close(store.release)
	select {
	case err := <-put:
		if err != nil {
			t.Fatalf("PutToken: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PutToken did not return")
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if got := e.cur.Load(); got != nil && (got.timer.Load() != nil || got.fresh.Load()) {
		fresh, timer := got.fresh.Load(), got.timer.Load() != nil
		got.retire() // stop the stray timer
		t.Fatalf("token published after Close: fresh=%v timer=%v, want unarmed", fresh, timer)
	}
}

// With BackgroundRefresh, a token whose skew allowance (expireAt to its
// expiry) is wide enough stays live through its window: the first timer
// clears fresh at the refresh point, a second clears live at expireAt,
// never before.
func TestFreshLiveThroughWindow(t *testing.T) {
	m, err := New(Options{Store: NewMemoryStore(), BackgroundRefresh: true})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	now := time.Now()
	c := &cached{st: StoredToken{Token: Token{AccessToken: "a", Expiry: now.Add(2500 * time.Millisecond)}},
		refreshAt: m.off(now.Add(50 * time.Millisecond)), expireAt: m.off(now.Add(1200 * time.Millisecond))}
	m.arm(c)
	defer c.retire()
	if !c.fresh.Load() || !c.live.Load() {
		t.Fatalf("armed: fresh=%v live=%v, want both", c.fresh.Load(), c.live.Load())
	}
	deadline := time.Now().Add(10 * time.Second)
	for c.fresh.Load() {
		if time.Now().After(deadline) {
			t.Fatal("fresh never cleared")
		}
		time.Sleep(time.Millisecond) // pace the polling loop
	}
	if m.nowNano() < c.refreshAt {
		t.Fatal("fresh cleared before the refresh point")
	}
	if m.nowNano() < c.expireAt && !c.live.Load() {
		t.Fatal("live cleared in the window, before expireAt")
	}
	for c.live.Load() {
		if time.Now().After(deadline) {
			t.Fatal("live never cleared")
		}
		time.Sleep(time.Millisecond)
	}
	if m.nowNano() < c.expireAt {
		t.Fatal("live cleared before expireAt")
	}

	// A skew allowance under maxTimerLag: never live.
	narrow := &cached{st: StoredToken{Token: Token{AccessToken: "a", Expiry: now.Add(time.Hour)}},
		refreshAt: m.off(now.Add(30 * time.Minute)), expireAt: m.off(now.Add(time.Hour - maxTimerLag/2))}
	m.arm(narrow)
	defer narrow.retire()
	if !narrow.fresh.Load() || narrow.live.Load() {
		t.Fatalf("narrow allowance: fresh=%v live=%v, want fresh only", narrow.fresh.Load(), narrow.live.Load())
	}
}

// Without BackgroundRefresh nothing is live: a caller in the window
// refreshes the token itself.
func TestFreshNotLiveWithoutBackground(t *testing.T) {
	m := freshManager(t, time.Hour, time.Minute)
	if _, err := m.Token(context.Background(), "svc"); err != nil {
		t.Fatal(err)
	}
	if c := current(t, m); !c.fresh.Load() || c.live.Load() {
		t.Fatalf("fresh=%v live=%v, want fresh only", c.fresh.Load(), c.live.Load())
	}
}

// A live token in its window with no background refresh running still
// starts one: live spares the clock read only while a refresh runs.
func TestLiveInWindowStartsBackgroundRefresh(t *testing.T) {
	s := &ttlStrategy{ttl: time.Hour}
	m := ttlManager(t, Options{Strategies: []Strategy{s}, BackgroundRefresh: true})
	ctx := context.Background()
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	v, _ := m.entries.Load("svc")
	e := v.(*entry)
	// The state due leaves: past the refresh point, before expiry, live.
	now := m.nowNano()
	c := e.cur.Load().withFence(0)
	c.refreshAt, c.expireAt = now-int64(time.Second), now+int64(time.Hour)
	e.writeMu.Lock()
	m.install(e, c)
	e.writeMu.Unlock()
	c.live.Store(true)
	if c.fresh.Load() {
		t.Fatal("a token past its refresh point was armed fresh")
	}
	got, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if got.AccessToken != "access-1" {
		t.Fatalf("in the window got %q, want the current access-1", got.AccessToken)
	}
	deadline := time.Now().Add(10 * time.Second)
	for s.calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no background refresh started for a live token in its window")
		}
		time.Sleep(time.Millisecond) // pace the polling loop
	}
}
