package core

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// cached is what the cached path reads: the token, and what is derived
// from it once so that serving it costs no allocation. Its fields are
// immutable once published, but for fresh, live and timer.
type cached struct {
	st        StoredToken
	authz     string        // the Authorization header, or ""
	o2        *oauth2.Token // the token in x/oauth2's form
	refreshAt int64         // nanoseconds since the Manager's epoch
	expireAt  int64         // likewise; math.MaxInt64 = never

	// fresh is true while the refresh point is known not to have come,
	// so the cached path serves the token without reading the clock.
	// A timer clears it at refreshAt; while it is false, every call
	// compares the clock with refreshAt, as it always does under a
	// Clock other than SystemClock. See arm.
	fresh atomic.Bool
	// live is true, with BackgroundRefresh, while expireAt is known not
	// to have come: a caller in the window while a background refresh
	// runs is served c without reading the clock. The timer clears it at
	// expireAt.
	live  atomic.Bool
	timer atomic.Pointer[time.Timer] // clears fresh, then live; nil once retired
}

// maxTimerLag is the least margin that a timer may guard: the refresh
// window (refreshAt to expireAt) for fresh, and the skew allowance
// (expireAt to the token's expiry) for live. A timer runs late by the
// scheduler's latency, milliseconds under load; a token whose margin is
// narrower than this is checked against the clock on every call instead,
// so that lateness can never serve an expired token.
const maxTimerLag = time.Second

// arm sets c.fresh (and c.live, see due), and the timer that clears it at
// c.refreshAt, if the cached path may skip the clock for c. c must be
// published already, and e.writeMu held.
//
// Nothing stays armed once Close has begun. Close cancels m.ctx, then
// retires the token each entry holds. arm checks m.ctx after storing the
// timer: either it sees Close and retires c itself, or its store came
// before Close looked at the entry, whose token c already was.
func (m *Manager) arm(c *cached) {
	if !m.sysClock || c.timer.Load() != nil || m.ctx.Err() != nil {
		return
	}
	if c.refreshAt == math.MaxInt64 {
		c.fresh.Store(true) // never expires
		return
	}
	if c.expireAt-c.refreshAt < int64(maxTimerLag) {
		return
	}
	d := time.Duration(c.refreshAt - m.nowNano())
	if d <= 0 {
		return
	}
	c.fresh.Store(true)
	c.live.Store(m.background && m.off(c.st.Token.Expiry)-c.expireAt >= int64(maxTimerLag))
	// The timer starts only once c.timer holds it, so that due always
	// finds it, however long this goroutine is paused in between.
	t := time.AfterFunc(math.MaxInt64, func() { m.due(c) })
	c.timer.Store(t)
	t.Reset(d)
	if m.ctx.Err() != nil {
		c.retire()
		t.Stop() // Close may have retired c before Reset started t
	}
}

// due runs when c's refresh point comes. From then on the cached path
// reads the clock, but while c is live: then a second timer clears live at
// c.expireAt. It replaces the first only if c was not retired meanwhile.
func (m *Manager) due(c *cached) {
	c.fresh.Store(false)
	first := c.timer.Load()
	d := time.Duration(c.expireAt - m.nowNano())
	if !c.live.Load() || first == nil || d <= 0 {
		// Not live, retired, or already past expireAt: the clock decides
		// from now on.
		c.live.Store(false)
		return
	}
	second := time.AfterFunc(d, func() { c.live.Store(false) })
	if !c.timer.CompareAndSwap(first, second) {
		second.Stop()
		c.live.Store(false)
	}
}

// retire stops c's timer: c is no longer served, or the Manager closes.
// It leaves fresh and live false, so a caller still holding the entry
// reads the clock.
func (c *cached) retire() {
	c.fresh.Store(false)
	c.live.Store(false)
	if t := c.timer.Swap(nil); t != nil {
		t.Stop()
	}
}

// withFence is a copy of c stamped with a new fence. It is not armed.
func (c *cached) withFence(fence uint64) *cached {
	n := &cached{st: c.st, authz: c.authz, o2: c.o2, refreshAt: c.refreshAt, expireAt: c.expireAt}
	n.st.Fence = fence
	return n
}

// setAuth authorizes r in place, as Token.SetAuth does, with the header
// built once.
func (c *cached) setAuth(r *http.Request) {
	if c.authz != "" {
		r.Header.Set("Authorization", c.authz)
	}
	t := &c.st.Token
	for k, vs := range t.Header {
		r.Header[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	if len(t.Query) > 0 {
		q := r.URL.Query()
		for k, vs := range t.Query {
			q[k] = append([]string(nil), vs...)
		}
		r.URL.RawQuery = q.Encode()
	}
}

// entry is the Manager's state for one credential name.
type entry struct {
	name string
	cur  atomic.Pointer[cached]
	typ  atomic.Pointer[string] // the credential's type, once read

	mu      sync.Mutex // guards flight, and dropErr with dead
	flight  *flight
	dead    atomic.Bool   // set under mu and writeMu; never cleared
	dropErr error         // what waiters get once dead; nil: ask again
	gone    chan struct{} // made before dead is set; closed when the operation that killed the entry is done

	bg        atomic.Bool  // a background refresh is starting or running
	notBefore atomic.Int64 // offset before which the endpoint is not called again
	latency   atomic.Int64 // EWMA of strategy latency, ns
	perm      atomic.Pointer[permFailure]
	rejects   atomic.Int64  // forced refreshes after a 401, since the API last accepted a token
	rejectAt  atomic.Int64  // offset before which a 401 does not force a refresh
	forcedGen atomic.Uint64 // generation of the token the last forced refresh gave

	writeMu  sync.Mutex    // serializes token writes (see commit and flush)
	puts     atomic.Uint64 // PutToken writes; a flight started before one drops its result
	dirty    atomic.Bool   // the cached token's write failed
	retrying atomic.Bool

	states [numTopics]atomic.Pointer[string] // last logged state per topic
}

type permFailure struct {
	fp  [32]byte
	err error
}

func newEntry(name string) *entry {
	return &entry{name: name}
}

// entry returns the live entry for name, creating it. While a
// SetCredentials or DeleteCredentials of name runs, it waits for it.
func (m *Manager) entry(ctx context.Context, name string) (*entry, error) {
	for {
		v, ok := m.entries.Load(name)
		if !ok {
			v, _ = m.entries.LoadOrStore(name, newEntry(name))
		}
		e := v.(*entry)
		if !e.dead.Load() {
			return e, nil
		}
		select {
		case <-e.gone:
		case <-ctx.Done():
			return nil, fmt.Errorf("core: token %q: %w", name, ctx.Err())
		}
	}
}

// kill marks the entry of name dead, so that nothing of what was in
// flight for it is written or handed out, and leaves it in place until
// bury, so that no new refresh of name starts meanwhile. Waiters get
// dropErr, or ask again once buried when dropErr is nil. It returns the
// token that was cached, or nil.
func (m *Manager) kill(ctx context.Context, name string, dropErr error) (*entry, *cached, error) {
	for {
		v, loaded := m.entries.LoadOrStore(name, newEntry(name))
		e := v.(*entry)
		if loaded && e.dead.Load() {
			select { // another SetCredentials or DeleteCredentials runs
			case <-e.gone:
				continue
			case <-ctx.Done():
				return nil, nil, fmt.Errorf("core: credentials %q: %w", name, ctx.Err())
			}
		}
		e.writeMu.Lock()
		e.mu.Lock()
		if e.dead.Load() {
			e.mu.Unlock()
			e.writeMu.Unlock()
			continue
		}
		e.dropErr = dropErr
		e.gone = make(chan struct{})
		e.dead.Store(true)
		c := e.cur.Swap(nil)
		if c != nil {
			c.retire()
		}
		e.dirty.Store(false)
		if e.flight != nil {
			close(e.flight.killed) // its waiters get dropErr now
		}
		e.mu.Unlock()
		e.writeMu.Unlock()
		return e, c, nil
	}
}

// bury removes a killed entry, letting new refreshes of its name start.
func (m *Manager) bury(e *entry) {
	m.entries.CompareAndDelete(e.name, e)
	close(e.gone)
}

// publish makes c the token the cached path serves. The credential has a
// token again: a later failure of its refresh is a change of state.
// e.writeMu must be held.
//
// Once Close has begun it caches nothing: a call begun before Close (a
// PutToken, or its adoption of a newer stored token) may have made e
// after Close dropped the cache, and nothing would drop it again; a call
// after Close must fail with ErrClosed, not be served it.
func (m *Manager) publish(e *entry, c *cached) {
	if m.ctx.Err() != nil {
		return
	}
	m.install(e, c)
	e.perm.Store(nil)
	e.notBefore.Store(0)
	m.clearState(e, topicRefresh)
}

// install makes c the token the cached path serves and arms it, retiring
// the one it replaces. e.writeMu must be held.
func (m *Manager) install(e *entry, c *cached) {
	if old := e.cur.Swap(c); old != nil && old != c {
		old.retire()
	}
	m.arm(c)
}

func (e *entry) credType() string {
	if p := e.typ.Load(); p != nil {
		return *p
	}
	return ""
}
