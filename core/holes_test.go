package core_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
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

// recv returns the next value of ch, failing the test after 10 s.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
	}
	var zero T
	return zero
}

// revokingStrategy is a CountingStrategy that can revoke: it reports each
// revoked access token.
type revokingStrategy struct {
	*coretest.CountingStrategy
	revoked chan string
}

func (r *revokingStrategy) Revoke(_ context.Context, _ *core.Credentials, t *core.Token) error {
	r.revoked <- t.AccessToken
	return nil
}

// TestDeleteDuringRefresh: DeleteCredentials while a refresh is in
// flight. The flight's token is not written back but revoked, the waiter
// gets ErrCredentialsNotFound, and nothing of the name stays in the store.
func TestDeleteDuringRefresh(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	rs := &revokingStrategy{
		CountingStrategy: &coretest.CountingStrategy{TTL: time.Hour, Clock: clock, Started: make(chan struct{}, 1), Gate: make(chan struct{})},
		revoked:          make(chan string, 4),
	}
	store := core.NewMemoryStore()
	m := withCredential(t, core.Options{Store: store, Strategies: []core.Strategy{rs}, Clock: clock}, "counting")
	ctx := context.Background()
	got := make(chan error, 1)
	go func() {
		_, err := m.Token(ctx, "svc")
		got <- err
	}()
	recv(t, rs.Started, "the refresh to start")
	if err := m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, got, "the waiter"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("waiter got %v, want ErrCredentialsNotFound", err)
	}
	close(rs.Gate) // the IdP answers after the delete
	if tok := recv(t, rs.revoked, "the revocation"); tok != "access-1" {
		t.Fatalf("revoked %q, want the token the flight obtained", tok)
	}
	if _, err := store.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("stored token after delete: %v", err)
	}
	if _, err := store.GetCredentials(ctx, "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("stored credential after delete: %v", err)
	}
	if _, err := m.Token(ctx, "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("Token after delete: %v", err)
	}
}

// TestPutTokenDuringRefresh: a token given to PutToken while a refresh is
// in flight wins; the flight's token is neither stored nor served.
func TestPutTokenDuringRefresh(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	f.strat.Started = make(chan struct{}, 1)
	f.strat.Gate = make(chan struct{})
	ctx := context.Background()
	got := make(chan *core.Token, 1)
	go func() {
		tok, _ := f.m.Token(ctx, "svc")
		got <- tok
	}()
	recv(t, f.strat.Started, "the refresh to start")
	put := &core.Token{AccessToken: "from-authorization-code", RefreshToken: "rt-put", Expiry: f.clock.Now().Add(time.Hour)}
	if err := f.m.PutToken(ctx, "svc", put); err != nil {
		t.Fatal(err)
	}
	close(f.strat.Gate)
	if tok := recv(t, got, "the waiter"); tok == nil || tok.AccessToken != put.AccessToken {
		t.Fatalf("waiter got %v, want the token put explicitly", tok)
	}
	if st := stored(t, f.store, "svc"); st.AccessToken != put.AccessToken {
		t.Fatalf("store holds %v, want the token put explicitly", st)
	}
	if tok, err := f.m.Token(ctx, "svc"); err != nil || tok.AccessToken != put.AccessToken {
		t.Fatalf("Token = %v, %v; want the token put explicitly", tok, err)
	}
}

// doneSignal is a context that reports when a caller first waits on it.
type doneSignal struct {
	context.Context
	once    sync.Once
	waiting chan struct{}
}

func (d *doneSignal) Done() <-chan struct{} {
	d.once.Do(func() { close(d.waiting) })
	return d.Context.Done()
}

// TestRefreshNeverOlderThanCall: Refresh called while a normal refresh is
// in flight does not return that refresh's token, which the strategy began
// to obtain before the call.
func TestRefreshNeverOlderThanCall(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	f.strat.Started = make(chan struct{}, 2)
	f.strat.Gate = make(chan struct{})
	bg := context.Background()
	go func() { _, _ = f.m.Token(bg, "svc") }()
	recv(t, f.strat.Started, "the first refresh to start")
	ctx := &doneSignal{Context: bg, waiting: make(chan struct{})}
	got := make(chan *core.Token, 1)
	go func() {
		tok, err := f.m.Refresh(ctx, "svc")
		if err != nil {
			t.Error(err)
		}
		got <- tok
	}()
	recv(t, ctx.waiting, "Refresh to wait") // it waits behind the first refresh
	f.strat.Gate <- struct{}{}              // the first refresh ends: access-1
	recv(t, f.strat.Started, "Refresh's own strategy call")
	f.strat.Gate <- struct{}{}
	if tok := recv(t, got, "Refresh"); tok == nil || tok.AccessToken != "access-2" {
		t.Fatalf("Refresh returned %v, want access-2, obtained after the call", tok)
	}
}

// TestCloseWaitersGetErrClosed: callers waiting on a refresh when Close
// runs get ErrClosed, not the cancellation of the refresh's context.
func TestCloseWaitersGetErrClosed(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	f.strat.Started = make(chan struct{}, 1)
	f.strat.Gate = make(chan struct{})
	got := make(chan error, 1)
	go func() {
		_, err := f.m.Token(context.Background(), "svc")
		got <- err
	}()
	recv(t, f.strat.Started, "the refresh to start")
	if err := f.m.Close(); err != nil {
		t.Fatal(err)
	}
	if err := recv(t, got, "the waiter"); !errors.Is(err, core.ErrClosed) || errors.Is(err, context.Canceled) {
		t.Fatalf("waiter got %v, want ErrClosed", err)
	}
}

// TestAlways401BoundsRefreshes: an API that refuses every token does not
// get one token request per API request. A 401 on a token that was just
// refreshed goes back to the caller; forced refreshes back off.
func TestAlways401BoundsRefreshes(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	var accept atomic.Bool
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !accept.Load() {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()
	c := f.m.Client("svc", nil)
	get := func() int {
		t.Helper()
		resp, err := c.Get(api.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for range 20 {
		if s := get(); s != http.StatusUnauthorized {
			t.Fatalf("status %d", s)
		}
	}
	if n := f.strat.Calls.Load(); n != 2 {
		t.Fatalf("20 refused requests made %d token requests, want 2 (the first token and one forced refresh)", n)
	}
	// Once the backoff has passed, a 401 may force one refresh again.
	f.clock.Advance(2 * time.Second)
	get()
	get()
	if n := f.strat.Calls.Load(); n != 3 {
		t.Fatalf("after the backoff: %d token requests, want 3", n)
	}
	// The API accepts again the token a forced refresh gave: that does not
	// lift the bound (see TestMixed401BoundsRefreshes).
	accept.Store(true)
	if s := get(); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	accept.Store(false)
	get()
	if n := f.strat.Calls.Load(); n != 3 {
		t.Fatalf("after the forced token was accepted: %d token requests, want 3", n)
	}
	// A token refreshed before expiry, which no 401 forced, is accepted:
	// the bound is lifted, and the next 401 on it refreshes at once.
	f.clock.Advance(time.Hour)
	accept.Store(true)
	if s := get(); s != http.StatusOK {
		t.Fatalf("status %d", s)
	}
	if n := f.strat.Calls.Load(); n != 4 {
		t.Fatalf("after expiry: %d token requests, want 4", n)
	}
	accept.Store(false)
	get()
	if n := f.strat.Calls.Load(); n != 5 {
		t.Fatalf("after an accepted request: %d token requests, want 5", n)
	}
}

// TestNoCredentialOverPlainHTTP: a redirect from https to plain http on
// the same host that is not loopback is followed without the credential,
// and a first request over plain http to such a host is refused.
func TestNoCredentialOverPlainHTTP(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	var leaked, reached atomic.Bool
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Store(true)
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer plain.Close()
	var authorized atomic.Bool
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authorized.Store(r.Header.Get("Authorization") != "")
		http.Redirect(w, r, "http://example.com/landed", http.StatusFound)
	}))
	defer secure.Close()
	// example.com (in httptest's certificate) resolves to the two servers:
	// port 443 to the TLS one, port 80 to the plain one.
	base := secure.Client().Transport.(*http.Transport).Clone()
	base.TLSClientConfig.MinVersion = tls.VersionTLS12
	base.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := map[string]string{"example.com:443": secure.Listener.Addr().String(), "example.com:80": plain.Listener.Addr().String()}[addr]
		if target == "" {
			return nil, fmt.Errorf("unexpected dial to %s", addr)
		}
		var d net.Dialer
		return d.DialContext(ctx, network, target)
	}
	defer base.CloseIdleConnections()
	c := f.m.Client("svc", base)
	resp, err := c.Get("https://example.com/start")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if !authorized.Load() || !reached.Load() {
		t.Fatalf("https request authorized: %v; redirect followed: %v", authorized.Load(), reached.Load())
	}
	if leaked.Load() {
		t.Fatal("the credential was sent over plain http after a redirect")
	}
	reached.Store(false)
	_, err = c.Get("http://example.com/direct")
	if err == nil || !strings.Contains(err.Error(), "plain http") || reached.Load() {
		t.Fatalf("plain http request: err %v, reached server %v", err, reached.Load())
	}
}

// TestWarnOncePerState: an expected state (a person must enter a device
// code) warns once, reports OnReauth and EventReauthRequired once, and its
// repeats are debug lines; a change of state (a new code) warns again. A
// person needed without a device code is not asked again at all (see
// TestReauthFailsFast).
func TestWarnOncePerState(t *testing.T) {
	logger, logs := coretest.DebugLogger()
	var reauths []*core.ReauthRequiredError
	var events atomic.Int64
	f := newFixture(t, time.Hour, func(o *core.Options) {
		o.Logger = logger
		o.OnReauth = func(e *core.ReauthRequiredError) { reauths = append(reauths, e) }
		o.OnEvent = func(e core.Event) {
			if e.Kind == core.EventReauthRequired {
				events.Add(1)
			}
		}
	})
	ctx := context.Background()
	const name = "my svc's"
	if err := f.m.SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	f.strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD-EFGH"})
	for range 5 {
		_, err := f.m.Token(ctx, name)
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) || re.Name != name || re.Command != `omnitoken login 'my svc'\''s' --device` || re.UserCode != "ABCD-EFGH" {
			t.Fatalf("err = %v (%+v)", err, re)
		}
		f.clock.Advance(time.Minute) // past any backoff
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Fatalf("%d warnings for one state, want 1:\n%s", n, logs)
	}
	if len(reauths) != 1 || events.Load() != 1 {
		t.Fatalf("OnReauth called %d times, EventReauthRequired %d times; want 1 each", len(reauths), events.Load())
	}
	if d := strings.Count(logs.String(), "level=DEBUG msg=\"core: a person must authorize"); d != 4 {
		t.Fatalf("%d debug lines for the repeats, want 4:\n%s", d, logs)
	}
	// Another state: a new device code to enter.
	f.strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "WXYZ-0000"})
	_, err := f.m.Token(ctx, name)
	var re *core.ReauthRequiredError
	if !errors.As(err, &re) || re.UserCode != "WXYZ-0000" {
		t.Fatalf("device: err = %v", err)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 || len(reauths) != 2 {
		t.Fatalf("after a change of state: %d warnings, %d OnReauth calls; want 2 each", n, len(reauths))
	}
}

// TestInvalidGrantNeedsPerson: a refresh token refused with invalid_grant
// is a *ReauthRequiredError that still matches ErrRefreshFailed.
func TestInvalidGrantNeedsPerson(t *testing.T) {
	f := newFixture(t, time.Minute, nil)
	ctx := context.Background()
	if _, err := f.m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	f.strat.SetErr(&core.OAuthError{Code: "invalid_grant", StatusCode: 400})
	f.clock.Advance(2 * time.Minute)
	_, err := f.m.Token(ctx, "svc")
	var re *core.ReauthRequiredError
	if !errors.As(err, &re) || re.Name != "svc" || re.Command != "omnitoken login svc" {
		t.Fatalf("err = %v, want a ReauthRequiredError for svc", err)
	}
	if !errors.Is(err, core.ErrRefreshFailed) || !errors.Is(err, core.ErrReauthRequired) || !core.IsPermanent(err) {
		t.Fatalf("err = %v: ErrRefreshFailed %v, ErrReauthRequired %v, permanent %v", err,
			errors.Is(err, core.ErrRefreshFailed), errors.Is(err, core.ErrReauthRequired), core.IsPermanent(err))
	}
	if _, err := f.m.Token(ctx, "svc"); err == nil || f.strat.Calls.Load() != 2 {
		t.Fatalf("asked the endpoint again after invalid_grant: calls = %d", f.strat.Calls.Load())
	}
}

// TestSetCredentialsDuringRefresh: a credential replaced while a refresh
// runs: the old refresh's token is not kept, and waiters get a token of
// the new credential.
func TestSetCredentialsDuringRefresh(t *testing.T) {
	f := newFixture(t, time.Hour, nil)
	f.strat.Started = make(chan struct{}, 2)
	f.strat.Gate = make(chan struct{})
	ctx := context.Background()
	got := make(chan *core.Token, 1)
	go func() {
		tok, err := f.m.Token(ctx, "svc")
		if err != nil {
			t.Error(err)
		}
		got <- tok
	}()
	recv(t, f.strat.Started, "the first refresh to start")
	c := coretest.Credentials("counting")
	c.Service = "replaced"
	if err := f.m.SetCredentials(ctx, "svc", c); err != nil {
		t.Fatal(err)
	}
	recv(t, f.strat.Started, "the refresh under the new credential")
	close(f.strat.Gate)
	tok := recv(t, got, "the waiter")
	if tok == nil || tok.AccessToken != "access-2" {
		t.Fatalf("waiter got %v, want access-2, obtained under the new credential", tok)
	}
	if st := stored(t, f.store, "svc"); st.AccessToken != "access-2" {
		t.Fatalf("store holds %v, want access-2", st)
	}
}
