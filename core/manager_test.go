package core_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// withCredential returns a Manager on opts that holds the credential
// "svc" of type typ. It is closed when the test ends.
func withCredential(t *testing.T, opts core.Options, typ string) *core.Manager {
	t.Helper()
	m, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.SetCredentials(context.Background(), "svc", coretest.Credentials(typ)); err != nil {
		t.Fatal(err)
	}
	return m
}

type fixture struct {
	m     *core.Manager
	store *flakyStore
	strat *coretest.CountingStrategy
	clock *coretest.FakeClock
}

func newFixture(t *testing.T, ttl time.Duration, mut func(*core.Options)) *fixture {
	t.Helper()
	clock := coretest.NewFakeClock(t0)
	f := &fixture{
		store: &flakyStore{Store: core.NewMemoryStore()},
		strat: &coretest.CountingStrategy{TTL: ttl, Clock: clock},
		clock: clock,
	}
	opts := core.Options{Store: f.store, Strategies: []core.Strategy{f.strat}, Clock: clock, RefreshBuffer: 10 * time.Second}
	if mut != nil {
		mut(&opts)
	}
	m, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	f.m = m
	if err := m.SetCredentials(context.Background(), "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	return f
}

// flakyStore wraps a Store with injectable failures and stale reads.
type flakyStore struct {
	core.Store
	failWrites atomic.Bool
	writes     atomic.Int64
	tokenReads atomic.Int64
	mu         sync.Mutex
	staleTok   *core.StoredToken // when set, GetToken returns it (a stale replica)
}

func (s *flakyStore) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	if s.failWrites.Load() {
		return errors.New("vault: write failed (injected)")
	}
	s.writes.Add(1)
	return s.Store.SetToken(ctx, name, t)
}

func (s *flakyStore) GetToken(ctx context.Context, name string) (*core.StoredToken, error) {
	s.tokenReads.Add(1)
	s.mu.Lock()
	st := s.staleTok
	s.mu.Unlock()
	if st != nil {
		return st.Clone(), nil
	}
	return s.Store.GetToken(ctx, name)
}

// stored reads the token the store under s holds for name.
func stored(t *testing.T, s *flakyStore, name string) *core.StoredToken {
	t.Helper()
	st, err := s.Store.GetToken(context.Background(), name)
	if err != nil {
		t.Fatalf("stored token %q: %v", name, err)
	}
	return st
}

func TestNewNeedsStore(t *testing.T) {
	if _, err := core.New(core.Options{}); !errors.Is(err, core.ErrVaultNotConfigured) {
		t.Fatalf("err = %v", err)
	}
}

// TestOneFlight: 200 goroutines ask for a cold credential at once; the
// strategy runs exactly once and all get the same token.
func TestOneFlight(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, time.Hour, nil)
	f.strat.Gate = gate
	const n = 200
	var start, done sync.WaitGroup
	start.Add(1)
	toks := make([]*core.Token, n)
	errs := make([]error, n)
	for i := range n {
		done.Add(1)
		go func() {
			defer done.Done()
			start.Wait()
			toks[i], errs[i] = f.m.Token(context.Background(), "svc")
		}()
	}
	start.Done()
	close(gate)
	done.Wait()
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("strategy calls = %d, want 1", c)
	}
	for i := range n {
		if errs[i] != nil || toks[i] != toks[0] {
			t.Fatalf("goroutine %d: %v %v", i, toks[i], errs[i])
		}
	}
	stored, err := f.store.Store.GetToken(context.Background(), "svc")
	if err != nil || stored.AccessToken != toks[0].AccessToken {
		t.Fatalf("token not persisted: %v %v", stored, err)
	}
}

// TestCachedPathNoStoreRead: once cached, Token reads neither credentials
// nor tokens from the store.
func TestCachedPathNoStoreRead(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	reads := f.store.tokenReads.Load()
	for range 1000 {
		if _, err := f.m.Token(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.store.tokenReads.Load(); got != reads {
		t.Fatalf("store reads grew from %d to %d on the cached path", reads, got)
	}
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("calls = %d", c)
	}
}

// TestRefreshOnExpiry: an expired token is refreshed with prev, and the
// stored token is re-read first.
func TestRefreshOnExpiry(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	a, _ := f.m.Token(ctx, "svc")
	f.clock.Advance(2 * time.Minute)
	reads := f.store.tokenReads.Load()
	b, err := f.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if b.AccessToken == a.AccessToken || stored(t, f.store, "svc").AccessToken != b.AccessToken || stored(t, f.store, "svc").Generation != 2 {
		t.Fatalf("not refreshed: %v -> %v", a, b)
	}
	if f.store.tokenReads.Load() == reads {
		t.Fatal("stored token was not re-read before refreshing")
	}
}

// TestLoadsNewerStoredToken: another process refreshed; the Manager uses
// the stored token and does not call the strategy.
func TestLoadsNewerStoredToken(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	_, _ = f.m.Token(ctx, "svc")
	f.clock.Advance(2 * time.Minute)
	other := stored(t, f.store, "svc")
	other.AccessToken, other.RefreshToken = "from-other-process", "rt-other"
	other.Expiry = f.clock.Now().Add(time.Hour)
	other.Generation++
	if err := f.store.Store.SetToken(ctx, "svc", other); err != nil {
		t.Fatal(err)
	}
	b, err := f.m.Token(ctx, "svc")
	if err != nil || b.AccessToken != "from-other-process" {
		t.Fatalf("got %v, %v", b, err)
	}
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("strategy calls = %d, want 1", c)
	}
}

// TestStaleReadNeverWins: a vault that serves an older token
// after a write never makes the Manager go back to it: the next refresh
// sends the newest refresh token and takes the next generation.
func TestStaleReadNeverWins(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	rec := &prevRecorder{CountingStrategy: coretest.CountingStrategy{TTL: time.Minute, Clock: clock}}
	store := &flakyStore{Store: core.NewMemoryStore()}
	m, err := core.New(core.Options{Store: store, Strategies: []core.Strategy{rec}, Clock: clock, RefreshBuffer: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	_ = m.SetCredentials(ctx, "svc", coretest.Credentials("counting"))
	_, _ = m.Token(ctx, "svc")
	a := stored(t, store, "svc")
	clock.Advance(2 * time.Minute)
	_, _ = m.Token(ctx, "svc")
	b := stored(t, store, "svc")
	store.mu.Lock()
	store.staleTok = a // the replica lags behind the write of b
	store.mu.Unlock()
	clock.Advance(2 * time.Minute)
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	store.mu.Lock()
	store.staleTok = nil
	store.mu.Unlock()
	if c := stored(t, store, "svc"); c.Generation != b.Generation+1 {
		t.Fatalf("generation %d after %d: the stale token won", c.Generation, b.Generation)
	}
	if got := rec.lastPrev(); got != b.RefreshToken || got == a.RefreshToken {
		t.Fatalf("refresh sent %q, want the newest %q", got, b.RefreshToken)
	}
}

// TestPersistRetryAdoptsNewerStored: a token
// whose write failed is not written over a newer one that another process
// stored meanwhile; the Manager adopts the newer one.
func TestPersistRetryAdoptsNewerStored(t *testing.T) {
	loaded := make(chan struct{}, 8)
	f := newFixture(t, time.Minute, func(o *core.Options) {
		o.OnEvent = func(e core.Event) {
			if e.Kind == core.EventTokenLoaded {
				loaded <- struct{}{}
			}
		}
	})
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	f.store.failWrites.Store(true)
	f.clock.Advance(2 * time.Minute)
	if _, err := f.m.Token(ctx, "svc"); err != nil { // kept in memory, write failed
		t.Fatal(err)
	}
	first := stored(t, f.store, "svc") // generation 1; the one in memory is 2
	newer := &core.StoredToken{Token: core.Token{AccessToken: "other-process", RefreshToken: "rt-other", Expiry: f.clock.Now().Add(time.Hour)},
		Generation: 3, CredentialsDigest: first.CredentialsDigest}
	if err := f.store.Store.SetToken(ctx, "svc", newer); err != nil {
		t.Fatal(err)
	}
	f.store.failWrites.Store(false)
	wakeRetry(t, f.clock)
	<-loaded
	if got, _ := f.m.Token(ctx, "svc"); got.AccessToken != "other-process" {
		t.Fatalf("serving %v, not the newer stored token", got)
	}
	st, err := f.store.Store.GetToken(ctx, "svc")
	if err != nil || st.AccessToken != "other-process" {
		t.Fatalf("the newer stored token was overwritten: %v %v", st, err)
	}
}

// TestPersistFailure: the vault write fails; the new token stays
// in memory, the old refresh token is never used again, a typed event is
// emitted, and the write happens once the vault recovers.
func TestPersistFailure(t *testing.T) {
	var mu sync.Mutex
	var events []core.Event
	persisted := make(chan struct{}, 8)
	rec := &prevRecorder{CountingStrategy: coretest.CountingStrategy{TTL: time.Minute}}
	clock := coretest.NewFakeClock(t0)
	rec.Clock = clock
	store := &flakyStore{Store: core.NewMemoryStore()}
	m, err := core.New(core.Options{Store: store, Strategies: []core.Strategy{rec}, Clock: clock, RefreshBuffer: time.Second,
		OnEvent: func(e core.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
			if e.Kind == core.EventPersisted {
				persisted <- struct{}{}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	_ = m.SetCredentials(ctx, "svc", coretest.Credentials("counting"))
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	store.failWrites.Store(true)
	clock.Advance(2 * time.Minute)
	b, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatalf("caller should get the new token: %v", err)
	}
	mu.Lock()
	var sawPersistFailed bool
	for _, e := range events {
		if e.Kind == core.EventPersistFailed && errors.Is(e.Err, core.ErrPersistFailed) {
			sawPersistFailed = true
		}
	}
	mu.Unlock()
	if !sawPersistFailed {
		t.Fatal("no EventPersistFailed")
	}
	// Next refresh while the vault is still down uses b's refresh token.
	clock.Advance(2 * time.Minute)
	c, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.lastPrev(); got != b.RefreshToken {
		t.Fatalf("refresh used %q, want the in-memory %q", got, b.RefreshToken)
	}
	// The vault recovers; the background retry writes the newest token.
	store.failWrites.Store(false)
	wakeRetry(t, clock)
	<-persisted
	st, err := store.Store.GetToken(ctx, "svc")
	if err != nil || st.AccessToken != c.AccessToken {
		t.Fatalf("stored %v, %v; want the newest token", st, err)
	}
}

type prevRecorder struct {
	coretest.CountingStrategy
	mu   sync.Mutex
	prev string
}

func (p *prevRecorder) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	p.mu.Lock()
	if prev != nil {
		p.prev = prev.RefreshToken
	}
	p.mu.Unlock()
	return p.CountingStrategy.Token(ctx, c, prev)
}

func (p *prevRecorder) lastPrev() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.prev
}

// TestCancelledWaiter: a waiter whose context is cancelled gets
// ctx.Err(); the others get the token; later refreshes work.
func TestCancelledWaiter(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, time.Minute, nil)
	f.strat.Gate = gate
	f.strat.Started = make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { _, err := f.m.Token(ctx, "svc"); errc <- err }()
	okc := make(chan *core.Token, 1)
	go func() { t, _ := f.m.Token(context.Background(), "svc"); okc <- t }()
	recv(t, f.strat.Started, "the flight to reach the strategy")
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	close(gate)
	if tok := <-okc; tok == nil {
		t.Fatal("other waiter got no token")
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.m.Token(context.Background(), "svc"); err != nil {
		t.Fatalf("later refresh: %v", err)
	}
}

// TestPermanentFailure: invalid_grant is not retried and not
// asked again until the credential changes.
func TestPermanentFailure(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	f.strat.SetErr(&core.OAuthError{Code: "invalid_grant", StatusCode: 400})
	for range 3 {
		_, err := f.m.Token(ctx, "svc")
		if !errors.Is(err, core.ErrRefreshFailed) {
			t.Fatalf("err = %v", err)
		}
		var oe *core.OAuthError
		if !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Fatalf("OAuthError lost: %v", err)
		}
	}
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("calls = %d, want 1", c)
	}
	f.strat.SetErr(nil)
	c := coretest.Credentials("counting")
	c.Service = "changed"
	if err := f.m.SetCredentials(ctx, "svc", c); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatalf("after credential change: %v", err)
	}
}

// TestRetryAfter: a temporary error with Retry-After 7 s is not
// retried sooner, and a still-valid token is served meanwhile.
func TestRetryAfter(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	a, _ := f.m.Token(ctx, "svc")
	// Token lives 60 s, counts as expired at 55 s, refresh point ≤ 50 s.
	f.clock.Advance(52 * time.Second)
	f.strat.SetErr(&core.OAuthError{StatusCode: 503, Retry: 7 * time.Second})
	got, err := f.m.Token(ctx, "svc")
	if err != nil || got != a {
		t.Fatalf("valid token not served: %v %v", got, err)
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("calls = %d, want 2", c)
	}
	f.strat.SetErr(nil)
	f.clock.Advance(2 * time.Second) // 54 s: still valid, inside Retry-After
	if got, err := f.m.Token(ctx, "svc"); err != nil || got != a {
		t.Fatalf("valid token not served: %v %v", got, err)
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("endpoint asked again within Retry-After: calls = %d", c)
	}
	// 56 s: expired. The caller waits until 59 s (52 + 7) for the next try.
	f.clock.Advance(2 * time.Second)
	done := make(chan *core.Token, 1)
	go func() { tok, _ := f.m.Token(ctx, "svc"); done <- tok }()
	if err := f.clock.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("endpoint asked before Retry-After: calls = %d", c)
	}
	f.clock.Advance(3 * time.Second)
	if tok := <-done; tok == nil || tok == a {
		t.Fatalf("no new token after Retry-After: %v", tok)
	}
	if c := f.strat.Calls.Load(); c != 3 {
		t.Fatalf("calls = %d, want 3", c)
	}
}

// TestRetryAfterBlocksUntilDue: with no valid token, the flight waits the
// full Retry-After (fake time) before the next attempt.
func TestRetryAfterBlocksUntilDue(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	f.strat.SetErr(&core.OAuthError{StatusCode: 429, Retry: 7 * time.Second})
	done := make(chan error, 1)
	go func() { _, err := f.m.Token(context.Background(), "svc"); done <- err }()
	if err := f.clock.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("calls before Retry-After = %d", c)
	}
	f.strat.SetErr(nil)
	f.clock.Advance(6 * time.Second)
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("retried after 6 s: calls = %d", c)
	}
	f.clock.Advance(time.Second)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("calls = %d, want 2", c)
	}
}

// TestBackgroundRefresh: inside the window the current token is returned
// at once and exactly one background refresh starts.
func TestBackgroundRefresh(t *testing.T) {
	gate := make(chan struct{})
	issued := make(chan struct{}, 4)
	f := newFixture(t, time.Minute, func(o *core.Options) {
		o.BackgroundRefresh = true
		o.OnEvent = func(e core.Event) {
			if e.Kind == core.EventTokenIssued {
				issued <- struct{}{}
			}
		}
	})
	ctx := context.Background()
	a, _ := f.m.Token(ctx, "svc")
	recv(t, issued, "the first token")
	f.strat.Gate = gate
	f.clock.Advance(51 * time.Second) // past any jittered refresh point (≤ 15 s before expiry)
	for range 100 {
		got, err := f.m.Token(ctx, "svc")
		if err != nil || got != a {
			t.Fatalf("caller waited or got another token: %v %v", got, err)
		}
	}
	close(gate)
	recv(t, issued, "the background refresh")
	if got, _ := f.m.Token(ctx, "svc"); got == a {
		t.Fatal("the background refresh's token is not served")
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("calls = %d, want 2", c)
	}
}

func TestSetDeleteInvalidate(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	a, _ := f.m.Token(ctx, "svc")
	if err := f.m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	b, _ := f.m.Token(ctx, "svc")
	if b.AccessToken == a.AccessToken {
		t.Fatal("Set did not invalidate the cache")
	}
	if err := f.m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.m.Token(ctx, "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	if err := f.m.DeleteCredentials(ctx, "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestCloseStopsEverything(t *testing.T) {
	gate := make(chan struct{})
	f := newFixture(t, time.Minute, nil)
	f.strat.Gate = gate
	f.strat.Started = make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() { _, err := f.m.Token(context.Background(), "svc"); errc <- err }()
	recv(t, f.strat.Started, "the flight to reach the strategy")
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, core.ErrClosed) {
		t.Fatalf("in-flight call after Close: %v, want ErrClosed", err)
	}
	if _, err := f.m.Token(context.Background(), "svc"); !errors.Is(err, core.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := f.m.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSetCredentialsValidation(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	bad := []*core.Credentials{nil, {}, {Type: "counting"}}
	for _, c := range bad {
		if err := f.m.SetCredentials(ctx, "x", c); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("%v: %v", c, err)
		}
	}
	for _, name := range []string{"", "a\x00b", strings.Repeat("n", 300)} {
		if err := f.m.SetCredentials(ctx, name, coretest.Credentials("counting")); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("name %q: %v", name, err)
		}
	}
	// A type no strategy serves is stored, and fails at Token.
	if err := f.m.SetCredentials(ctx, "later", coretest.Credentials("githubapp")); err != nil {
		t.Fatal(err)
	}
	_, err := f.m.Token(ctx, "later")
	if !errors.Is(err, core.ErrUnsupportedCredentialType) || !strings.Contains(err.Error(), "githubapp") || !strings.Contains(err.Error(), "counting") {
		t.Fatalf("err = %v", err)
	}
}

func TestRegistry(t *testing.T) {
	mustPanic := func(name string, fn func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		fn()
	}
	r := core.NewRegistry()
	mustPanic("nil", func() { r.Register(nil) })
	mustPanic("empty", func() { r.Register(&coretest.CountingStrategy{TypeName: ""}); r.Register(&emptyType{}) })
	r2 := core.NewRegistry(&coretest.CountingStrategy{TypeName: "b"}, &coretest.CountingStrategy{TypeName: "a"})
	mustPanic("dup", func() { r2.Register(&coretest.CountingStrategy{TypeName: "a"}) })
	if got := strings.Join(r2.Types(), ","); got != "a,b" {
		t.Fatalf("Types = %s", got)
	}
	_, err := r2.Lookup("zzz")
	if !errors.Is(err, core.ErrUnsupportedCredentialType) || !strings.Contains(err.Error(), `"zzz"`) || !strings.Contains(err.Error(), "a, b") {
		t.Fatalf("Lookup error = %v", err)
	}
}

type emptyType struct{ panicky }

func (emptyType) Type() string { return "" }

// TestPanickingStrategy: a panic becomes an error without the panic value.
func TestPanickingStrategy(t *testing.T) {
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{panicky{}}})
	defer m.Close()
	_ = m.SetCredentials(context.Background(), "p", coretest.Credentials("panicky"))
	_, err := m.Token(context.Background(), "p")
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("err = %v", err)
	}
}

type panicky struct{}

func (panicky) Type() string { return "panicky" }
func (panicky) Token(context.Context, *core.Credentials, *core.Token) (*core.Token, error) {
	panic("CANARY secret in panic")
}

// TestClientStaysFresh: a client from Manager.Client keeps working after
// its first token expires.
func TestClientStaysFresh(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	api := newAPI(t, f)
	c := f.m.Client("svc", nil)
	for i := range 5 {
		resp, err := c.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d", i, resp.StatusCode)
		}
		f.clock.Advance(90 * time.Second) // every token expires between requests
	}
	if c := f.strat.Calls.Load(); c != 5 {
		t.Fatalf("calls = %d, want 5", c)
	}
}

// newAPI accepts only the newest, unexpired token of the fixture's
// strategy (by the fake clock).
func newAPI(t *testing.T, f *fixture) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		want := fmt.Sprintf("Bearer access-%d", f.strat.Calls.Load())
		if r.Header.Get("Authorization") != want {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(200)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Test401Retry: a 401 on a POST with a body gives one refresh and
// one retry with an identical body; a second 401 goes to the caller.
func Test401Retry(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	first, _ := f.m.Token(ctx, "svc")
	var mu sync.Mutex
	var bodies []string
	var rejectAll atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if rejectAll.Load() || r.Header.Get("Authorization") == "Bearer "+first.AccessToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, "nope")
			return
		}
		_, _ = io.WriteString(w, "ok")
	}))
	defer srv.Close()
	c := f.m.Client("svc", nil)
	payload := strings.Repeat("payload-", 1000)
	resp, err := c.Post(srv.URL, "text/plain", bytes.NewBufferString(payload))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(out) != "ok" {
		t.Fatalf("status %d %q", resp.StatusCode, out)
	}
	if len(bodies) != 2 || bodies[0] != payload || bodies[1] != payload {
		t.Fatalf("bodies: %d sent, identical=%v", len(bodies), len(bodies) == 2 && bodies[0] == bodies[1])
	}
	if c := f.strat.Calls.Load(); c != 2 {
		t.Fatalf("strategy calls = %d, want 2 (one forced refresh)", c)
	}
	// Second 401, once the bound on forced refreshes has passed, goes
	// back to the caller after exactly one retry.
	rejectAll.Store(true)
	f.clock.Advance(2 * time.Second)
	mu.Lock()
	bodies = nil
	mu.Unlock()
	resp, err = c.Post(srv.URL, "text/plain", bytes.NewBufferString(payload))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(bodies) != 2 {
		t.Fatalf("status %d after %d requests, want 401 after 2", resp.StatusCode, len(bodies))
	}
	// A body that cannot be replayed is not retried.
	mu.Lock()
	bodies = nil
	mu.Unlock()
	req, _ := http.NewRequest(http.MethodPost, srv.URL, io.NopCloser(strings.NewReader(payload)))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(bodies) != 1 {
		t.Fatalf("non-replayable: status %d, %d requests", resp.StatusCode, len(bodies))
	}
}

// TestNoSecretsLeak: canaries never reach a log line, an error or
// a print of credentials, tokens or events.
func TestNoSecretsLeak(t *testing.T) {
	const canary = "CANARY-7d1e"
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var evs []core.Event
	leaky := &leakyStrategy{secret: canary}
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{leaky}, Logger: logger,
		OnEvent: func(e core.Event) { evs = append(evs, e) }})
	defer m.Close()
	ctx := context.Background()
	c := &core.Credentials{Type: "leaky", Service: "svc"}
	_ = c.SetSection("leaky", map[string]string{"secret": canary + "-section"})
	if err := m.SetCredentials(ctx, "l", c); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctx, "l")
	if err != nil {
		t.Fatal(err)
	}
	leaky.fail = true
	_, ferr := m.Refresh(ctx, "l")
	got, _ := m.Credentials(ctx, "l")
	var out strings.Builder
	for _, v := range []any{tok, *tok, got, *got, ferr} {
		fmt.Fprintf(&out, "%v %+v %#v %s %q\n", v, v, v, v, v)
	}
	logger.Debug("dump", "token", tok, "creds", got, "err", ferr)
	for _, e := range evs {
		logger.Info("event", "e", e)
		fmt.Fprintf(&out, "%v %+v\n", e, e)
	}
	all := out.String() + logs.String()
	if strings.Contains(all, canary) {
		t.Fatalf("canary leaked:\n%s", all)
	}
	if !strings.Contains(all, "REDACTED") {
		t.Fatal("nothing was printed; the test checks nothing")
	}
}

type leakyStrategy struct {
	secret string
	fail   bool
}

func (l *leakyStrategy) Type() string { return "leaky" }
func (l *leakyStrategy) Token(context.Context, *core.Credentials, *core.Token) (*core.Token, error) {
	if l.fail {
		return nil, &core.OAuthError{Code: "invalid_grant", StatusCode: 400, Description: "redacted by strategy"}
	}
	return &core.Token{AccessToken: l.secret + "-access", RefreshToken: l.secret + "-refresh", Expiry: time.Now().Add(time.Hour),
		Header: map[string][]string{"X-Key": {l.secret + "-header"}}, Extra: map[string]any{"id_token": l.secret + "-id"}}, nil
}

// TestRedirectToOtherHostGetsNoSecret: a redirect to another host
// is followed without the token; a same-host redirect keeps it.
func TestRedirectToOtherHostGetsNoSecret(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	var leaked, sameHost, reached atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(true)
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer other.Close()
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/away":
			http.Redirect(w, r, otherURL+"/landed", http.StatusFound)
		case "/here":
			http.Redirect(w, r, "/landed", http.StatusFound)
		case "/landed":
			sameHost.Store(r.Header.Get("Authorization") != "")
		}
	}))
	defer api.Close()
	c := f.m.Client("svc", nil)
	for _, p := range []string{"/away", "/here"} {
		resp, err := c.Get(api.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if !reached.Load() || leaked.Load() {
		t.Fatalf("redirect reached other host: %v; token leaked: %v", reached.Load(), leaked.Load())
	}
	if !sameHost.Load() {
		t.Fatal("a same-host redirect lost the token")
	}
}

// TestExpiredTokenFromStrategy: a token that is expired on arrival is an
// error, and callers are not sent back to the endpoint at once.
func TestExpiredTokenFromStrategy(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	s := &expiredStrategy{clock: clock}
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}, Clock: clock})
	defer m.Close()
	_ = m.SetCredentials(context.Background(), "x", coretest.Credentials("expired"))
	if _, err := m.Token(context.Background(), "x"); err == nil || !strings.Contains(err.Error(), "already expired") {
		t.Fatalf("err = %v", err)
	}
	// The next caller waits out the backoff before the endpoint is asked.
	done := make(chan error, 1)
	go func() { _, err := m.Token(context.Background(), "x"); done <- err }()
	if err := clock.WaitForSleepers(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
	if c := s.calls.Load(); c != 1 {
		t.Fatalf("calls = %d: the endpoint was asked again without backoff", c)
	}
	clock.Advance(time.Second)
	if err := <-done; err == nil || s.calls.Load() != 2 {
		t.Fatalf("after backoff: %v, calls = %d", err, s.calls.Load())
	}
}

type expiredStrategy struct {
	clock *coretest.FakeClock
	calls atomic.Int64
}

func (s *expiredStrategy) Type() string { return "expired" }
func (s *expiredStrategy) Token(context.Context, *core.Credentials, *core.Token) (*core.Token, error) {
	s.calls.Add(1)
	return &core.Token{AccessToken: "a", Expiry: s.clock.Now().Add(-time.Minute)}, nil
}

// TestPermanentFailureTakesNewerStoredToken: after a permanent failure, a
// token another process stored (a re-authorization) is used without
// calling the strategy.
func TestPermanentFailureTakesNewerStoredToken(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	f.strat.SetErr(&core.OAuthError{Code: "invalid_grant", StatusCode: 400})
	if _, err := f.m.Token(ctx, "svc"); !errors.Is(err, core.ErrRefreshFailed) {
		t.Fatalf("err = %v", err)
	}
	other := &core.StoredToken{Token: core.Token{AccessToken: "reauthorized", Expiry: f.clock.Now().Add(time.Hour)}, Generation: 7}
	if err := f.store.Store.SetToken(ctx, "svc", other); err != nil {
		t.Fatal(err)
	}
	got, err := f.m.Token(ctx, "svc")
	if err != nil || got.AccessToken != "reauthorized" {
		t.Fatalf("got %v, %v", got, err)
	}
	if c := f.strat.Calls.Load(); c != 1 {
		t.Fatalf("calls = %d, want 1", c)
	}
}

// wakeRetry advances the clock past the persist retry's backoff once the
// retry sleeps. The retry may also be mid-attempt already; the caller
// waits for the retry's event either way.
func wakeRetry(t *testing.T, clock *coretest.FakeClock) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() {
		if clock.WaitForSleepers(ctx, 1) == nil {
			clock.Advance(time.Minute)
		}
	}()
}

// With the system clock, the cached path learns that a token's refresh
// point has come from a timer rather than a clock read: the token is
// refreshed once its point passes, and no token served meanwhile has
// expired.
func TestSystemClockRefreshesAtRefreshPoint(t *testing.T) {
	strat := &coretest.CountingStrategy{TTL: 4 * time.Second}
	m := withCredential(t, core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{strat}, RefreshBuffer: 3 * time.Second}, "counting")
	ctx := context.Background()
	first, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for strat.Calls.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("token not refreshed by its refresh point: %d strategy calls", strat.Calls.Load())
		}
		tok, err := m.Token(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		if now := time.Now(); !tok.Expiry.After(now) {
			t.Fatalf("served a token that expired at %v, now %v", tok.Expiry, now)
		}
		time.Sleep(5 * time.Millisecond) // pace the polling loop
	}
	tok, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == first.AccessToken {
		t.Fatalf("still serving %q after the refresh", tok.AccessToken)
	}
	if time.Now().After(first.Expiry) {
		t.Fatalf("refreshed only after the first token expired at %v", first.Expiry)
	}
}
