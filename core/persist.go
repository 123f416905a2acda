package core

import (
	"context"
	"errors"
	"fmt"
)

// pending is a token on its way to the store and the cache.
type pending struct {
	tok      *Token       // the Manager's own copy
	base     *StoredToken // the stored token read by this operation, or nil
	fence    uint64       // the lease's fence, or 0
	digest   string       // the credential's digest
	puts     uint64       // entry.puts when the operation started
	explicit bool         // PutToken: its write must succeed, and it wins over flights
}

var (
	// errDropped: the entry died; the token must not be kept.
	errDropped = errors.New("core: entry deleted")
	// errSuperseded: a PutToken ran since the flight started; its token wins.
	errSuperseded = errors.New("core: superseded by PutToken")
	// errAdopted: the store refused the write as older than what it holds,
	// whose token is now in use.
	errAdopted = errors.New("core: adopted the stored token")
)

// nextGeneration is the one generation rule: one more than the newest
// generation seen for the name, cached or stored.
func nextGeneration(e *entry, stored *StoredToken) uint64 {
	g := uint64(0)
	if c := e.cur.Load(); c != nil {
		g = c.st.Generation
	}
	if stored != nil && stored.Generation > g {
		g = stored.Generation
	}
	return g + 1
}

// commit gives p's token the next generation and the fence, persists it
// and publishes it. When the store refuses the write with ErrConflict, it
// adopts the stored token instead. Any other failed write keeps the new
// token in memory, serves it and retries the write in the background:
// after a rotation it is the only copy. A PutToken's failed write is an
// error instead, and nothing is cached.
func (m *Manager) commit(ctx context.Context, e *entry, p pending) (*cached, error) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if e.dead.Load() {
		return nil, errDropped
	}
	if !p.explicit && e.puts.Load() != p.puts {
		return e.cur.Load(), errSuperseded
	}
	now := m.clock.Now()
	c := m.seal(e, &StoredToken{
		Token:             *p.tok,
		IssuedAt:          now,
		Generation:        nextGeneration(e, p.base),
		CredentialsDigest: p.digest,
		Fence:             p.fence,
	}, now)
	if p.explicit || persistable(&c.st.Token) {
		adopted, err := m.persist(ctx, e, c)
		switch {
		case adopted != nil && p.explicit:
			return nil, fmt.Errorf("core: put token %q: %w: the store holds a newer token, now in use", e.name, ErrConflict)
		case adopted != nil:
			return adopted, errAdopted
		case err != nil && p.explicit:
			return nil, err
		case err != nil && errors.Is(err, ErrConflict):
			return nil, err
		case err != nil:
			m.publish(e, c)
			e.dirty.Store(true)
			m.emit(e, Event{Kind: EventPersistFailed, Generation: c.st.Generation, Err: err})
			m.note(e, topicPersist, "core: token kept in memory, write will be retried", "error", err)
			m.startPersistRetry(e)
			return c, nil
		}
	}
	if p.explicit {
		e.puts.Add(1)
	}
	e.dirty.Store(false)
	m.publish(e, c)
	m.clearState(e, topicPersist)
	return c, nil
}

// persist writes c's token to the store: the one place where the Manager
// writes a token. When the store refuses with ErrConflict, persist reads
// the stored token and returns it, published, as adopted: the write is
// never retried blindly. e.writeMu must be held.
func (m *Manager) persist(ctx context.Context, e *entry, c *cached) (adopted *cached, err error) {
	werr := m.store.SetToken(ctx, e.name, &c.st)
	if werr == nil {
		return nil, nil
	}
	err = fmt.Errorf("core: token %q: %w: %w", e.name, ErrPersistFailed, werr)
	if !errors.Is(werr, ErrConflict) {
		return nil, err
	}
	stored, rerr := m.store.GetToken(ctx, e.name)
	if rerr != nil || stored == nil || !matches(stored, c.st.CredentialsDigest) {
		return nil, err
	}
	return m.take(e, m.seal(e, stored, m.clock.Now())), nil
}

// take publishes c, a token read from the store, as the current one.
// e.writeMu must be held.
func (m *Manager) take(e *entry, c *cached) *cached {
	m.publish(e, c)
	e.dirty.Store(false)
	m.emit(e, Event{Kind: EventTokenLoaded, Generation: c.st.Generation})
	return c
}

func persistable(t *Token) bool { return t.RefreshToken != "" || !t.Expiry.IsZero() }

// startPersistRetry retries, with backoff, the write of a token kept in
// memory until it succeeds or the Manager closes.
func (m *Manager) startPersistRetry(e *entry) {
	if !e.retrying.CompareAndSwap(false, true) {
		return
	}
	// Called from a flight, which holds a wg slot, so Add cannot race Wait.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			for attempt := 1; e.dirty.Load() && !e.dead.Load(); attempt++ {
				if m.clock.Sleep(m.ctx, jittered(backoffBase, backoffMax, attempt)) != nil {
					e.retrying.Store(false)
					return
				}
				m.flush(m.ctx, e, false, 0)
			}
			e.retrying.Store(false)
			// A write that failed after the loop saw dirty clear found
			// retrying still set and left the retry to us.
			if !e.dirty.Load() || !e.retrying.CompareAndSwap(false, true) {
				return
			}
		}
	}()
}

// flush writes the cached token if its write failed before. It takes the
// Locker unless the caller holds it (then fence is the caller's), and it
// never overwrites a newer token another process stored meanwhile: it
// adopts that one.
func (m *Manager) flush(ctx context.Context, e *entry, locked bool, fence uint64) {
	if !e.dirty.Load() {
		return
	}
	if !locked {
		f, unlock, err := m.lock(ctx, e)
		if err != nil {
			return
		}
		defer unlock()
		fence = f
	}
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	c := e.cur.Load()
	if c == nil || !e.dirty.Load() || e.dead.Load() {
		return
	}
	if stored, err := m.store.GetToken(ctx, e.name); err == nil && stored != nil && matches(stored, c.st.CredentialsDigest) && stored.newer(&c.st) {
		m.take(e, m.seal(e, stored, m.clock.Now()))
		return
	}
	if fence != 0 && fence != c.st.Fence {
		c = c.withFence(fence)
	}
	adopted, err := m.persist(ctx, e, c)
	if adopted != nil || err != nil {
		return
	}
	m.install(e, c)
	e.dirty.Store(false)
	m.clearState(e, topicPersist)
	m.emit(e, Event{Kind: EventPersisted, Generation: c.st.Generation})
}
