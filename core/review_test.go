package core_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// TestReauthFailsFast: once a credential needs a person, later calls fail
// at once with the same ReauthRequiredError, without sleeping on the
// clock and without asking the strategy again, until a token arrives.
func TestReauthFailsFast(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	m, strat, clock := f.m, f.strat, f.clock
	strat.SetErr(&core.ReauthRequiredError{Err: errors.New("no token yet")})
	ctx := context.Background()
	for i := range 5 {
		// The fake clock never advances: a sleep would last until the
		// timeout.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := m.Token(cctx, "svc")
		cancel()
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) || re.Name != "svc" {
			t.Fatalf("call %d: err = %v, want a ReauthRequiredError for svc", i, err)
		}
	}
	if n := strat.Calls.Load(); n != 1 {
		t.Fatalf("strategy called %d times, want 1", n)
	}
	if clock.Sleepers() != 0 {
		t.Fatal("a call sleeps on the clock")
	}
	// A person authorizes: the token is served at once.
	if err := m.PutToken(ctx, "svc", &core.Token{AccessToken: "fresh", Expiry: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctx, "svc")
	if err != nil || tok.AccessToken != "fresh" {
		t.Fatalf("after PutToken: %v, %v", tok, err)
	}
}

// TestPendingDeviceCodeNoSleep: while a device code is pending the
// strategy is asked on each call, since it polls for the person's
// approval, but no call sleeps on the clock.
func TestPendingDeviceCodeNoSleep(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	m, strat := f.m, f.strat
	strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD"})
	ctx := context.Background()
	for i := range 3 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := m.Token(cctx, "svc")
		cancel()
		if !errors.Is(err, core.ErrReauthRequired) {
			t.Fatalf("call %d: err = %v, want ErrReauthRequired", i, err)
		}
	}
	if n := strat.Calls.Load(); n != 3 {
		t.Fatalf("strategy called %d times, want once per call (3)", n)
	}
	strat.SetErr(nil) // the person approved
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
}

// nameLocker is a core.Locker shared by Managers that stand for separate
// processes: one lease per name at a time. Each Lock call is announced on
// tries before it waits.
type nameLocker struct {
	tries chan struct{}
	mu    sync.Mutex
	held  map[string]chan struct{}
}

func newNameLocker() *nameLocker {
	return &nameLocker{tries: make(chan struct{}, 16), held: map[string]chan struct{}{}}
}

func (l *nameLocker) Lock(ctx context.Context, name string) (func(), error) {
	l.tries <- struct{}{}
	for {
		l.mu.Lock()
		ch, busy := l.held[name]
		if !busy {
			mine := make(chan struct{})
			l.held[name] = mine
			l.mu.Unlock()
			return func() {
				l.mu.Lock()
				delete(l.held, name)
				l.mu.Unlock()
				close(mine)
			}, nil
		}
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// gatedStore holds DeleteToken, once gate is set, until it is closed.
type gatedStore struct {
	core.Store
	entered chan struct{}
	gate    chan struct{}
}

func (s *gatedStore) DeleteToken(ctx context.Context, name string) error {
	if s.gate != nil {
		s.entered <- struct{}{}
		<-s.gate
	}
	return s.Store.DeleteToken(ctx, name)
}

// TestChangeWhileOtherProcessRefreshes: a refresh of another process
// holding the Locker when DeleteCredentials or SetCredentials runs here
// cannot write its token back after the change: both take the Locker.
func TestChangeWhileOtherProcessRefreshes(t *testing.T) {
	for op, change := range map[string]func(context.Context, *core.Manager) error{
		"DeleteCredentials": func(ctx context.Context, m *core.Manager) error { return m.DeleteCredentials(ctx, "svc") },
		"SetCredentials": func(ctx context.Context, m *core.Manager) error {
			c := coretest.Credentials("counting")
			if err := c.SetSection("counting", map[string]string{"v": "2"}); err != nil {
				return err
			}
			return m.SetCredentials(ctx, "svc", c)
		},
	} {
		t.Run(op, func(t *testing.T) {
			locker := newNameLocker()
			fa := newFixture(t, time.Hour, func(o *core.Options) { o.Locker = locker })
			a, held, store := fa.m, fa.strat, fa.store.Store
			held.Started, held.Gate = make(chan struct{}, 1), make(chan struct{})
			b := newFixture(t, time.Hour, func(o *core.Options) { o.Store, o.Locker = store, locker }).m
			for range len(locker.tries) {
				<-locker.tries
			}
			ctx := context.Background()
			refreshed := make(chan error, 1)
			go func() {
				_, err := a.Token(ctx, "svc")
				refreshed <- err
			}()
			recv(t, held.Started, "process A's refresh")
			recv(t, locker.tries, "process A's lock")
			changed := make(chan error, 1)
			go func() { changed <- change(ctx, b) }()
			select {
			case <-locker.tries: // B waits for A's lease
			case err := <-changed:
				changed <- err // B did not wait
			case <-time.After(10 * time.Second):
				t.Fatalf("%s neither returned nor took the lock", op)
			}
			close(held.Gate) // A's IdP answers; A writes its token
			recv(t, refreshed, "process A's refresh")
			if err := recv(t, changed, op); err != nil {
				t.Fatal(err)
			}
			if tok, err := store.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
				t.Fatalf("after %s the store holds %v (err %v)", op, tok, err)
			}
		})
	}
}

// TestRefreshAfterOtherProcessDeletes: a refresh that starts while another
// process deletes the credential under the Locker reads the credential
// only once it holds the lease, finds it gone, and writes nothing.
func TestRefreshAfterOtherProcessDeletes(t *testing.T) {
	locker := newNameLocker()
	fa := newFixture(t, time.Hour, func(o *core.Options) { o.Locker = locker })
	a, strat, shared := fa.m, fa.strat, fa.store.Store
	gs := &gatedStore{Store: shared, entered: make(chan struct{}, 1)}
	b := newFixture(t, time.Hour, func(o *core.Options) { o.Store, o.Locker = gs, locker }).m
	gs.gate = make(chan struct{})
	ctx := context.Background()
	deleted := make(chan error, 1)
	go func() { deleted <- b.DeleteCredentials(ctx, "svc") }()
	recv(t, gs.entered, "B deleting the token")
	for len(locker.tries) > 0 { // B's lock, with the fix
		<-locker.tries
	}
	refreshed := make(chan error, 1)
	go func() {
		_, err := a.Token(ctx, "svc")
		refreshed <- err
	}()
	recv(t, locker.tries, "A's lock")
	close(gs.gate)
	if err := recv(t, deleted, "the delete"); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, refreshed, "A's refresh"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("A's refresh got %v, want ErrCredentialsNotFound", err)
	}
	if tok, err := shared.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("after the delete the store holds %v (err %v)", tok, err)
	}
	if n := strat.Calls.Load(); n != 0 {
		t.Fatalf("A's strategy called %d times for a deleted credential", n)
	}
}

// TestExpiry: Manager.Expiry reports the held token's expiry from the
// cache alone: no store read, no refresh, no allocation, even once the
// token has expired; nothing once the credential is deleted.
func TestExpiry(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	m, strat, clock := f.m, f.strat, f.clock
	ctx := context.Background()
	if exp, ok := m.Expiry("svc"); ok {
		t.Fatalf("Expiry before any token = %v, true", exp)
	}
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	reads := f.store.tokenReads.Load()
	if exp, ok := m.Expiry("svc"); !ok || !exp.Equal(t0.Add(time.Hour)) {
		t.Fatalf("Expiry = %v, %v; want %v, true", exp, ok, t0.Add(time.Hour))
	}
	if allocs := testing.AllocsPerRun(100, func() { m.Expiry("svc") }); allocs != 0 {
		t.Fatalf("Expiry allocates %v times", allocs)
	}
	if f.store.tokenReads.Load() != reads || strat.Calls.Load() != 1 {
		t.Fatalf("Expiry read the store (%d reads) or refreshed (%d calls)", f.store.tokenReads.Load()-reads, strat.Calls.Load())
	}
	if err := m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, ok := m.Expiry("svc"); ok {
		t.Fatal("Expiry after delete reports a token")
	}
}

// TestCallsAfterClose: every call of a closed Manager fails with ErrClosed
// and writes nothing to the store.
func TestCallsAfterClose(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	m, store := f.m, f.store.Store
	ctx := context.Background()
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	before, err := store.GetToken(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	for call, err := range map[string]error{
		"Token":             func() error { _, err := m.Token(ctx, "svc"); return err }(),
		"Refresh":           func() error { _, err := m.Refresh(ctx, "svc"); return err }(),
		"PutToken":          m.PutToken(ctx, "svc", &core.Token{AccessToken: "late", Expiry: t0.Add(time.Hour)}),
		"SetCredentials":    m.SetCredentials(ctx, "other", coretest.Credentials("counting")),
		"DeleteCredentials": m.DeleteCredentials(ctx, "svc"),
	} {
		if !errors.Is(err, core.ErrClosed) {
			t.Errorf("%s after Close: %v, want ErrClosed", call, err)
		}
	}
	after, err := store.GetToken(ctx, "svc")
	if err != nil || after.AccessToken != before.AccessToken {
		t.Fatalf("the store changed after Close: %v, %v", after, err)
	}
	if _, err := store.GetCredentials(ctx, "other"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("SetCredentials after Close wrote: %v", err)
	}
	if _, ok := m.Expiry("svc"); ok {
		t.Fatal("Expiry after Close reports a token")
	}
}

// TestMixed401BoundsRefreshes: an API that accepts the token on one path
// and answers 401 on another (a missing permission reported as 401) does
// not get a refresh per 401: a token obtained by a forced refresh that the
// API accepts does not lift the bound on forced refreshes.
func TestMixed401BoundsRefreshes(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/admin" {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	c := f.m.Client("svc", nil)
	get := func(path string) int {
		t.Helper()
		resp, err := c.Get(api.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 20 {
		if s := get("/ok"); s != http.StatusOK {
			t.Fatalf("/ok: status %d", s)
		}
		if s := get("/admin"); s != http.StatusUnauthorized {
			t.Fatalf("/admin: status %d", s)
		}
	}
	if n := f.strat.Calls.Load(); n != 2 {
		t.Fatalf("20 accepted and 20 refused requests made %d token requests, want 2 (the first token and one forced refresh)", n)
	}
}

// TestDeleteNeedsLock: when the Locker fails, DeleteCredentials deletes
// nothing and says why, since it could not keep another process from
// writing a token back.
func TestDeleteNeedsLock(t *testing.T) {
	lockErr := errors.New("redis: connection refused")
	locker := &fencingLocker{}
	f := newFixture(t, time.Hour, func(o *core.Options) { o.Locker = locker })
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	locker.err = lockErr
	if err := f.m.DeleteCredentials(ctx, "svc"); !errors.Is(err, lockErr) {
		t.Fatalf("DeleteCredentials without the lock: %v, want the Locker's error", err)
	}
	if _, err := f.store.Store.GetCredentials(ctx, "svc"); err != nil {
		t.Fatalf("the credential is gone after a refused delete: %v", err)
	}
	if tok, err := f.m.Token(ctx, "svc"); err != nil || f.strat.Calls.Load() != 1 {
		t.Fatalf("after a refused delete: %v, %v, %d strategy calls; want the cached token", tok, err, f.strat.Calls.Load())
	}
}

// TestReauthInWindowServesCached: a credential that comes to need a person
// while its token is still valid serves that token without a refresh
// attempt (a flight, store reads) on every call until it expires.
func TestReauthInWindowServesCached(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	first, err := f.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	f.strat.SetErr(&core.ReauthRequiredError{Err: errors.New("consent withdrawn")})
	f.clock.Advance(time.Hour - 5*time.Second - time.Millisecond) // inside the window, not expired
	reads := f.store.tokenReads.Load()
	for range 10 {
		tok, err := f.m.Token(ctx, "svc")
		if err != nil || tok.AccessToken != first.AccessToken {
			t.Fatalf("Token = %v, %v; want the cached token", tok, err)
		}
	}
	if n := f.store.tokenReads.Load() - reads; n > 1 || f.strat.Calls.Load() != 2 {
		t.Fatalf("10 calls read the store %d times and called the strategy %d times; want at most one refresh attempt", n, f.strat.Calls.Load()-1)
	}
}

// roundTripFunc is an http.RoundTripper made of a function.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestPlainHTTPOnlyToLoopback: the Transport sends a credential over plain
// http to loopback hosts only, judged by the literal host, never by a name
// that merely starts or ends like one.
func TestPlainHTTPOnlyToLoopback(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	var sent atomic.Int64
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if r.Header.Get("Authorization") != "" {
			sent.Add(1)
		}
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	c := f.m.Client("svc", base)
	for host, loopback := range map[string]bool{
		"localhost": true, "LocalHost:8080": true, "127.0.0.1": true, "127.255.0.9:81": true,
		"[::1]": true, "[::1]:8443": true, "[::ffff:127.0.0.1]": true, "[::1%25lo]": true, "[fe80::1%25lo]": false,
		"localhost.evil.com": false, "127.0.0.1.nip.io": false, "0.0.0.0": false, "[::]": false,
		"[::ffff:10.0.0.1]": false, "10.0.0.1": false, "evil.com": false, "127.0.0.1@evil.com": false,
	} {
		before := sent.Load()
		resp, err := c.Get("http://" + host + "/x")
		if resp != nil {
			resp.Body.Close()
		}
		if got := err == nil && sent.Load() == before+1; got != loopback {
			t.Errorf("http://%s: credential sent %v (err %v), want %v", host, got, err, loopback)
		}
	}
}

// TestReauthEndsWithOtherProcessLogin: a credential that needs a person
// here is served at once when another process sharing the store stores a
// token for it (a login run elsewhere), without a strategy call.
func TestReauthEndsWithOtherProcessLogin(t *testing.T) {
	a := newFixture(t, time.Hour, nil)
	a.strat.SetErr(&core.ReauthRequiredError{Err: errors.New("no token yet")})
	ctx := context.Background()
	if _, err := a.m.Token(ctx, "svc"); !errors.Is(err, core.ErrReauthRequired) {
		t.Fatalf("err = %v, want ErrReauthRequired", err)
	}
	b := newFixture(t, time.Hour, func(o *core.Options) { o.Store = a.store.Store })
	if err := b.m.PutToken(ctx, "svc", &core.Token{AccessToken: "logged-in", Expiry: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok, err := a.m.Token(ctx, "svc")
	if err != nil || tok.AccessToken != "logged-in" || a.strat.Calls.Load() != 1 {
		t.Fatalf("after another process's login: %v, %v, %d strategy calls", tok, err, a.strat.Calls.Load())
	}
}

// TestRecreatedElsewhereAdopted: another process deletes the credential
// (revoking its tokens), adds it again and stores a new token, whose
// generation starts again from 1. Here, where the cached token's refresh
// is now refused, the stored token is adopted, whatever its generation,
// instead of asking for a person for good.
func TestRecreatedElsewhereAdopted(t *testing.T) {
	a := newFixture(t, time.Hour, nil)
	ctx := context.Background()
	for range 3 { // generation 3 here
		if _, err := a.m.Refresh(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
	}
	a.clock.Advance(50 * time.Minute)
	b := newFixture(t, time.Hour, func(o *core.Options) { o.Store, o.Clock = a.store.Store, a.clock })
	b.strat.Clock = a.clock
	if err := b.m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if err := b.m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	fresh, err := b.m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	a.strat.SetErr(&core.OAuthError{Code: "invalid_grant", StatusCode: 400}) // the revoked refresh token
	a.clock.Advance(15 * time.Minute)                                        // a's token expired, b's valid
	for i := range 2 {
		tok, err := a.m.Token(ctx, "svc")
		if err != nil || tok.AccessToken != fresh.AccessToken {
			t.Fatalf("call %d: %v, %v; want the token stored by the other process", i, tok, err)
		}
	}
}

// TestReauthAgainAfterPutToken: a credential that needed a person, got a
// token through PutToken, and needs a person again once that token
// expires is a new state: it warns and calls OnReauth again.
func TestReauthAgainAfterPutToken(t *testing.T) {
	var reauths atomic.Int64
	f := newFixture(t, time.Hour, func(o *core.Options) {
		o.OnReauth = func(*core.ReauthRequiredError) { reauths.Add(1) }
	})
	f.strat.SetErr(&core.ReauthRequiredError{Err: errors.New("no token yet")})
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); !errors.Is(err, core.ErrReauthRequired) {
		t.Fatalf("err = %v", err)
	}
	if err := f.m.PutToken(ctx, "svc", &core.Token{AccessToken: "from-login", Expiry: f.clock.Now().Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if tok, err := f.m.Token(ctx, "svc"); err != nil || tok.AccessToken != "from-login" {
		t.Fatalf("after PutToken: %v, %v", tok, err)
	}
	f.clock.Advance(2 * time.Minute)
	if _, err := f.m.Token(ctx, "svc"); !errors.Is(err, core.ErrReauthRequired) {
		t.Fatalf("after expiry: err = %v", err)
	}
	if n := reauths.Load(); n != 2 {
		t.Fatalf("OnReauth called %d times, want 2 (once per time a person is needed)", n)
	}
}

// failDeleteStore fails DeleteToken while fail is set.
type failDeleteStore struct {
	core.Store
	fail atomic.Bool
}

func (s *failDeleteStore) DeleteToken(ctx context.Context, name string) error {
	if s.fail.Load() {
		return errors.New("vault: delete failed (injected)")
	}
	return s.Store.DeleteToken(ctx, name)
}

// TestDeleteTokenFailureReported: when the stored token cannot be deleted,
// DeleteCredentials says so and keeps the credential, so that calling it
// again finishes the job; it never returns nil with the token still on
// disk.
func TestDeleteTokenFailureReported(t *testing.T) {
	fs := &failDeleteStore{Store: core.NewMemoryStore()}
	f := newFixture(t, time.Hour, func(o *core.Options) { o.Store = fs })
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	fs.fail.Store(true)
	if err := f.m.DeleteCredentials(ctx, "svc"); err == nil {
		if _, terr := fs.Store.GetToken(ctx, "svc"); terr == nil {
			t.Fatal("DeleteCredentials returned nil with the token still stored")
		}
	}
	fs.fail.Store(false)
	if err := f.m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatalf("the second delete: %v", err)
	}
	if _, err := fs.Store.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("after the second delete the token is still stored: %v", err)
	}
}

// staticStrategy returns a copy of one token on every call.
type staticStrategy struct{ tok core.Token }

func (s *staticStrategy) Type() string { return "static" }

func (s *staticStrategy) Token(context.Context, *core.Credentials, *core.Token) (*core.Token, error) {
	return s.tok.Clone(), nil
}

// The Transport authorizes a copy of the request: the caller's header
// map, header values, URL and query are as they were, even when the
// RoundTripper below appends to a header it was given.
func TestTransportLeavesRequestAlone(t *testing.T) {
	strat := &staticStrategy{tok: core.Token{
		AccessToken: "access-1", TokenType: "Bearer", Expiry: time.Now().Add(time.Hour),
		Header: http.Header{"X-Api-Key": {"key-1"}},
		Query:  url.Values{"sig": {"sig-1"}},
	}}
	m := withCredential(t, core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{strat}}, "static")
	var sent *http.Request
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		r.Header["X-Trace"] = append(r.Header["X-Trace"], "appended")
		return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Request: r}, nil
	})
	req, err := http.NewRequest(http.MethodGet, "https://api.example/v1?page=2", nil)
	if err != nil {
		t.Fatal(err)
	}
	trace := make([]string, 1, 2)
	trace[0] = "caller"
	req.Header["X-Trace"] = trace
	if _, err := m.Transport("svc", base).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if sent == req {
		t.Fatal("the Transport sent the caller's request itself")
	}
	if got := sent.Header.Get("Authorization"); got != "Bearer access-1" {
		t.Errorf("sent Authorization = %q", got)
	}
	if got := sent.Header.Get("X-Api-Key"); got != "key-1" {
		t.Errorf("sent X-Api-Key = %q", got)
	}
	if got := sent.URL.Query(); got.Get("sig") != "sig-1" || got.Get("page") != "2" {
		t.Errorf("sent query = %v", got)
	}
	if len(req.Header) != 1 || req.Header.Get("Authorization") != "" || req.Header.Get("X-Api-Key") != "" {
		t.Errorf("caller's header changed: %v", req.Header)
	}
	if len(req.Header["X-Trace"]) != 1 || trace[:2][1] != "" {
		t.Errorf("caller's X-Trace values changed: %q", trace[:2])
	}
	if req.URL.RawQuery != "page=2" {
		t.Errorf("caller's query changed: %q", req.URL.RawQuery)
	}
}
