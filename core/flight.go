package core

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

type mode int

const (
	modeNormal mode = iota // refresh unless a fresh token is found
	modeStale              // refresh unless a token newer than staleGen is found (a 401)
	modeForce              // always call the strategy (Refresh)
)

// A 401 forces a refresh at most once per rejectBase, doubling up to
// rejectMax while the API keeps refusing fresh tokens.
const (
	rejectBase = time.Second
	rejectMax  = 5 * time.Minute
)

// flight is one refresh of one credential, shared by every caller that
// waits for it. It runs in its own goroutine, detached from any caller's
// context and bounded by Options.RefreshTimeout.
type flight struct {
	done       chan struct{}
	killed     chan struct{} // closed when the entry dies during the flight
	mode       mode
	staleGen   uint64
	background bool
	puts       uint64      // entry.puts when the flight started
	called     atomic.Bool // the strategy call has started
	c          *cached
	err        error
}

// errAskAgain is a flight's result when SetCredentials replaced the
// credential under it: its waiters ask again, under the new credential.
var errAskAgain = errors.New("core: credential replaced during refresh")

// fetch is the slow path: it joins or starts the flight of name and waits
// for its result, or for ctx.
func (m *Manager) fetch(ctx context.Context, name string, md mode, staleGen uint64) (*entry, *cached, error) {
	if err := checkName(name); err != nil {
		return nil, nil, err
	}
	for {
		e, err := m.entry(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		e.mu.Lock()
		if e.dead.Load() {
			e.mu.Unlock()
			continue
		}
		f := e.flight
		switch {
		case f == nil:
			if c := m.reuse(e, md, staleGen); c != nil {
				e.mu.Unlock()
				return e, c, nil
			}
			if f, err = m.startFlight(e, md, staleGen, false); err != nil {
				e.mu.Unlock()
				return nil, nil, err
			}
		case md == modeForce && (f.mode != modeForce || f.called.Load()):
			// That flight may return a token from before this call: let
			// it end, then start another.
			e.mu.Unlock()
			if _, err := m.wait(ctx, e, f); err != nil {
				return nil, nil, err
			}
			continue
		}
		e.mu.Unlock()
		again, err := m.wait(ctx, e, f)
		if err != nil {
			return nil, nil, err
		}
		if again {
			continue
		}
		if f.err == nil {
			return e, f.c, nil
		}
		if !errors.Is(f.err, errAskAgain) {
			return nil, nil, f.err
		}
	}
}

// wait waits for f to end, for e to die or for ctx. When e died, its
// waiters get its dropErr, or ask again when that is nil.
func (m *Manager) wait(ctx context.Context, e *entry, f *flight) (again bool, err error) {
	select {
	case <-f.done:
		return false, nil
	case <-f.killed:
		return e.dropErr == nil, e.dropErr
	case <-ctx.Done():
		return false, fmt.Errorf("core: token %q: %w", e.name, ctx.Err())
	}
}

// reuse returns the cached token when it serves md without a flight. It
// also applies the bound on refreshes forced by 401s: when one was forced
// too recently, the current token is served again. e.mu must be held.
func (m *Manager) reuse(e *entry, md mode, staleGen uint64) *cached {
	c := e.cur.Load()
	if c == nil || md == modeForce {
		return nil
	}
	now := m.nowNano()
	switch md {
	case modeNormal:
		if now < c.refreshAt || (now < c.expireAt && now < e.notBefore.Load()) {
			return c
		}
	case modeStale:
		if now >= c.expireAt {
			return nil
		}
		if c.st.Generation > staleGen || now < e.rejectAt.Load() {
			return c
		}
		n := e.rejects.Add(1)
		e.rejectAt.Store(now + int64(jittered(rejectBase, rejectMax, int(n))))
	}
	return nil
}

// accepted records that the API took the token of generation gen: the
// next 401 may force a refresh at once again, unless gen was itself
// obtained by a refresh a 401 forced. Then the API's 401s are about
// something other than the token (a path that needs another permission,
// say) and lifting the bound would let every 401 force a refresh.
func (e *entry) accepted(gen uint64) {
	if e.rejects.Load() != 0 && gen != e.forcedGen.Load() {
		e.rejects.Store(0)
		e.rejectAt.Store(0)
	}
}

// startFlight starts a refresh of e in its own goroutine. e.mu must be
// held.
func (m *Manager) startFlight(e *entry, md mode, staleGen uint64, background bool) (*flight, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("core: token %q: %w", e.name, ErrClosed)
	}
	f := &flight{done: make(chan struct{}), killed: make(chan struct{}), mode: md, staleGen: staleGen, background: background, puts: e.puts.Load()}
	e.flight = f
	m.wg.Add(1)
	go m.run(e, f)
	return f, nil
}

// refreshAhead starts one background refresh of a token inside its
// refresh window.
func (m *Manager) refreshAhead(e *entry, now int64) {
	// Load before CompareAndSwap: while a refresh runs, callers in the
	// window only read e.bg, so its cache line is not bounced between
	// cores on every call.
	if now < e.notBefore.Load() || e.bg.Load() || !e.bg.CompareAndSwap(false, true) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flight != nil || e.dead.Load() {
		e.bg.Store(false)
		return
	}
	if _, err := m.startFlight(e, modeNormal, 0, true); err != nil {
		e.bg.Store(false)
	}
}

func (m *Manager) run(e *entry, f *flight) {
	defer m.wg.Done()
	ctx, cancel := context.WithTimeout(m.ctx, m.timeout)
	c, err := m.refresh(ctx, e, f)
	cancel()
	if err != nil && m.ctx.Err() != nil && !IsPermanent(err) {
		// Close cut the refresh short: that, not the cancellation of
		// the refresh's context, is what its waiters are told.
		err = fmt.Errorf("core: token %q: %w", e.name, ErrClosed)
	}
	f.c, f.err = c, err
	e.mu.Lock()
	e.flight = nil
	e.mu.Unlock()
	if f.background {
		e.bg.Store(false)
	}
	close(f.done)
}
