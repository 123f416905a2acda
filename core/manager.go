package core

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults of Options.
const (
	DefaultRefreshBuffer  = 60 * time.Second
	DefaultRefreshTimeout = 30 * time.Second
	DefaultMaxAttempts    = 3
	// maxExpiryDelta is the most a token's expiry is brought forward to
	// allow for clock skew and transit time.
	maxExpiryDelta = 5 * time.Second
	backoffBase    = 250 * time.Millisecond
	backoffMax     = 30 * time.Second
)

// Options configures a Manager. Only Store is required.
type Options struct {
	// Store holds credentials and tokens. Required.
	Store Store
	// Strategies, when set, are the only strategies the Manager uses: no
	// global state is read. The Manager closes those that implement
	// Closer when it is closed.
	Strategies []Strategy
	// Registry is used when Strategies is empty. Default: DefaultRegistry.
	Registry *Registry
	// RefreshBuffer is how long before expiry a token is refreshed. It is
	// the least refresh-ahead window; the window grows with the token
	// endpoint's observed latency and is capped at half a token's
	// lifetime. Default: DefaultRefreshBuffer. Negative means zero.
	RefreshBuffer time.Duration
	// BackgroundRefresh refreshes a token inside its refresh window in the
	// background while callers keep getting the current one. When false,
	// the first caller inside the window refreshes synchronously.
	BackgroundRefresh bool
	// Locker extends one refresh per name across processes or hosts.
	// Default: none (one refresh per name within this process).
	Locker Locker
	// Logger receives debug and warning lines, never a secret.
	// Default: discard.
	Logger *slog.Logger
	// Clock is the source of time. Default: SystemClock.
	Clock Clock
	// OnEvent, when set, is called synchronously for each Event. It must
	// not block or call back into the Manager.
	OnEvent func(Event)
	// RefreshTimeout bounds one refresh, retries included. Default:
	// DefaultRefreshTimeout.
	RefreshTimeout time.Duration
	// MaxAttempts bounds strategy calls per refresh on temporary errors.
	// Default: DefaultMaxAttempts.
	MaxAttempts int
}

// Manager hands out valid tokens by credential name. It caches them,
// refreshes them once per name however many goroutines ask, persists them
// before any caller sees them, and serves the cached path without a lock,
// an allocation or a store read.
//
// The lifecycle is New → use → Close. A Manager is safe for concurrent
// use.
type Manager struct {
	store      Store
	reg        *Registry
	owned      []Strategy
	buffer     time.Duration
	background bool
	locker     Locker
	log        *slog.Logger
	clock      Clock
	sysClock   bool
	epoch      time.Time // time offsets (refreshAt, expireAt, notBefore) count from here
	onEvent    func(Event)
	timeout    time.Duration
	attempts   int

	entries sync.Map // string → *entry

	ctx    context.Context
	cancel context.CancelFunc
	life   sync.RWMutex // guards closed against wg.Add
	closed bool
	wg     sync.WaitGroup
}

type mode int

const (
	modeNormal mode = iota // refresh unless a fresh token is found
	modeStale              // refresh unless a token newer than staleGen is found (a 401)
	modeForce              // always call the strategy
)

type entry struct {
	name string
	tok  atomic.Pointer[Token]

	mu     sync.Mutex // guards flight and dead
	flight *flight
	dead   bool

	bg        atomic.Bool  // a background refresh is starting or running
	notBefore atomic.Int64 // offset (see Manager.off) before which the endpoint is not called again
	latency   atomic.Int64 // EWMA of strategy latency, ns
	perm      atomic.Pointer[permFailure]

	persistMu sync.Mutex // serializes token writes
	dirty     atomic.Bool
	retrying  atomic.Bool
}

type permFailure struct {
	fp  [32]byte
	err error
}

type flight struct {
	done       chan struct{}
	mode       mode
	staleGen   uint64
	background bool
	tok        *Token
	err        error
}

// New returns a Manager. It fails with ErrVaultNotConfigured when
// opts.Store is nil.
func New(opts Options) (*Manager, error) {
	if opts.Store == nil {
		return nil, fmt.Errorf("core: %w: Options.Store is nil", ErrVaultNotConfigured)
	}
	m := &Manager{
		store:      opts.Store,
		reg:        opts.Registry,
		buffer:     opts.RefreshBuffer,
		background: opts.BackgroundRefresh,
		locker:     opts.Locker,
		log:        opts.Logger,
		clock:      opts.Clock,
		onEvent:    opts.OnEvent,
		timeout:    opts.RefreshTimeout,
		attempts:   opts.MaxAttempts,
	}
	if len(opts.Strategies) > 0 {
		m.reg = NewRegistry(opts.Strategies...)
		m.owned = opts.Strategies
	}
	if m.reg == nil {
		m.reg = DefaultRegistry
	}
	if m.buffer == 0 {
		m.buffer = DefaultRefreshBuffer
	} else if m.buffer < 0 {
		m.buffer = 0
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if m.clock == nil {
		m.clock = SystemClock{}
	}
	_, m.sysClock = m.clock.(SystemClock)
	m.epoch = m.clock.Now()
	if m.timeout <= 0 {
		m.timeout = DefaultRefreshTimeout
	}
	if m.attempts <= 0 {
		m.attempts = DefaultMaxAttempts
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nil
}

// Store returns the Manager's store.
func (m *Manager) Store() Store { return m.store }

// Registry returns the registry the Manager looks strategies up in.
func (m *Manager) Registry() *Registry { return m.reg }

// nowNano is the current time as nanoseconds since m.epoch. With the
// system clock it reads only the monotonic clock, which costs half of
// time.Now here and does not jump with the wall clock.
func (m *Manager) nowNano() int64 {
	if m.sysClock {
		return int64(time.Since(m.epoch))
	}
	return int64(m.clock.Now().Sub(m.epoch))
}

// off converts t to nanoseconds since m.epoch.
func (m *Manager) off(t time.Time) int64 { return int64(t.Sub(m.epoch)) }

// Token returns a valid token for the named credential.
//
// A cached token outside its refresh window is returned at the cost of one
// map load and one atomic load. Inside the window, with BackgroundRefresh,
// the current token is returned and one background refresh starts. An
// expired or missing token is obtained by one flight per name, shared by
// every caller: the stored token is read again first, the strategy is
// called only if it is still stale, and the new token is persisted before
// any caller gets it. A caller whose ctx is done gets ctx.Err() without
// failing the shared refresh.
//
// The returned token is shared: do not modify it.
func (m *Manager) Token(ctx context.Context, name string) (*Token, error) {
	if v, ok := m.entries.Load(name); ok {
		e := v.(*entry)
		if t := e.tok.Load(); t != nil {
			now := m.nowNano()
			if now < t.refreshAt {
				return t, nil
			}
			if m.background && now < t.expireAt {
				m.refreshAhead(e, now)
				return t, nil
			}
		}
	}
	return m.fetch(ctx, name, modeNormal, 0)
}

// Refresh obtains a new token from the strategy now, whatever the cached
// one, and returns it once it is persisted.
func (m *Manager) Refresh(ctx context.Context, name string) (*Token, error) {
	return m.fetch(ctx, name, modeForce, 0)
}

// refreshAfterReject returns a token newer than rejected, refreshing once
// if no newer one exists. The transport calls it after a 401.
func (m *Manager) refreshAfterReject(ctx context.Context, name string, rejected *Token) (*Token, error) {
	return m.fetch(ctx, name, modeStale, rejected.Generation)
}

func (m *Manager) entry(name string) *entry {
	for {
		v, _ := m.entries.LoadOrStore(name, &entry{name: name})
		e := v.(*entry)
		e.mu.Lock()
		dead := e.dead
		e.mu.Unlock()
		if !dead {
			return e
		}
		m.entries.CompareAndDelete(name, e)
	}
}

func (m *Manager) fetch(ctx context.Context, name string, md mode, staleGen uint64) (*Token, error) {
	if err := CheckName(name); err != nil {
		return nil, err
	}
	e := m.entry(name)
	e.mu.Lock()
	f := e.flight
	if f == nil {
		if t := e.tok.Load(); t != nil && md != modeForce {
			now := m.nowNano()
			switch {
			case md == modeNormal && now < t.refreshAt,
				md == modeNormal && now < t.expireAt && now < e.notBefore.Load(),
				md == modeStale && t.Generation > staleGen && now < t.expireAt:
				e.mu.Unlock()
				return t, nil
			}
		}
		var err error
		if f, err = m.startFlight(e, md, staleGen, false); err != nil {
			e.mu.Unlock()
			return nil, err
		}
	}
	e.mu.Unlock()
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("core: token %q: %w", name, ctx.Err())
	}
}

// startFlight starts a refresh of e in its own goroutine, detached from any
// caller's context. e.mu must be held.
func (m *Manager) startFlight(e *entry, md mode, staleGen uint64, background bool) (*flight, error) {
	m.life.RLock()
	defer m.life.RUnlock()
	if m.closed {
		return nil, fmt.Errorf("core: token %q: %w", e.name, ErrClosed)
	}
	f := &flight{done: make(chan struct{}), mode: md, staleGen: staleGen, background: background}
	e.flight = f
	m.wg.Add(1)
	go m.run(e, f)
	return f, nil
}

func (m *Manager) refreshAhead(e *entry, now int64) {
	// Load before CompareAndSwap: while a refresh runs, callers in the
	// window only read e.bg, so its cache line is not bounced between
	// cores on every call.
	if now < e.notBefore.Load() || e.bg.Load() || !e.bg.CompareAndSwap(false, true) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.flight != nil || e.dead {
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
	tok, err := m.refresh(ctx, e, f.mode, f.staleGen)
	cancel()
	f.tok, f.err = tok, err
	e.mu.Lock()
	e.flight = nil
	e.mu.Unlock()
	if f.background {
		e.bg.Store(false)
	}
	close(f.done)
}

// refresh is the slow path of one flight.
func (m *Manager) refresh(ctx context.Context, e *entry, md mode, staleGen uint64) (*Token, error) {
	name := e.name
	creds, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("core: token %q: %w", name, err)
	}
	fp := creds.Fingerprint()
	digest := hex.EncodeToString(fp[:8])
	strat, err := m.reg.Lookup(creds.Type)
	if err != nil {
		return nil, fmt.Errorf("core: token %q: %w", name, err)
	}
	if m.locker != nil {
		unlock, err := m.locker.Lock(ctx, name)
		if err != nil {
			return m.serveOrFail(e, md, fmt.Errorf("core: token %q: lock: %w", name, err))
		}
		defer unlock()
	}

	cur := e.tok.Load()
	if cur != nil && cur.CredentialsDigest != "" && cur.CredentialsDigest != digest {
		cur = nil // the credential changed under us
	}
	if cur != nil && e.dirty.Load() {
		m.persistCurrent(ctx, e, true)
		cur = e.tok.Load() // it may have adopted a newer stored token
	}
	prev := cur
	stored, serr := m.store.GetToken(ctx, name)
	switch {
	case serr != nil && !errors.Is(serr, ErrTokenNotFound):
		m.log.Warn("core: reading stored token failed", "name", name, "error", serr)
	case stored != nil && (stored.CredentialsDigest == "" || stored.CredentialsDigest == digest) &&
		(prev == nil || stored.Generation > prev.Generation):
		prev = stored
	}
	now := m.clock.Now()
	if prev != nil {
		if prev != cur {
			m.seal(e, prev, now)
		}
		n := m.off(now)
		if (md == modeNormal && n < prev.refreshAt) || (md == modeStale && prev.Generation > staleGen && n < prev.expireAt) {
			if prev != cur {
				e.tok.Store(prev)
				e.perm.Store(nil)
				m.emit(Event{Kind: EventTokenLoaded, Name: name, Generation: prev.Generation})
			}
			return prev, nil
		}
	}

	// A permanent failure is not retried until the credential changes; a
	// newer stored token (another process re-authorized) was taken above.
	if pf := e.perm.Load(); pf != nil && pf.fp == fp && md != modeForce {
		return m.serveOrFail(e, md, pf.err)
	}
	if wait := time.Duration(e.notBefore.Load() - m.off(now)); wait > 0 && md != modeForce {
		// The endpoint asked us to back off and no valid token is left.
		if err := m.clock.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("core: token %q: waiting for Retry-After: %w", name, err)
		}
	}
	tok, err := m.callWithRetry(ctx, e, strat, creds, prev)
	if err != nil {
		err = fmt.Errorf("core: token %q: %w", name, err)
		if IsPermanent(err) {
			e.perm.Store(&permFailure{fp: fp, err: err})
		}
		m.emit(Event{Kind: EventRefreshFailed, Name: name, Err: err})
		m.log.Warn("core: refresh failed", "name", name, "error", err)
		if prev != nil && prev != cur && m.off(now) < prev.expireAt {
			e.tok.Store(prev)
		}
		return m.serveOrFail(e, md, err)
	}

	gen := uint64(0)
	for _, t := range []*Token{cur, stored, prev} {
		if t != nil && t.Generation > gen {
			gen = t.Generation
		}
	}
	tok = tok.Clone()
	tok.Generation = gen + 1
	tok.CredentialsDigest = digest
	now = m.clock.Now()
	tok.IssuedAt = now
	m.seal(e, tok, now)
	e.perm.Store(nil)
	e.notBefore.Store(0)

	e.persistMu.Lock()
	if persistable(tok) {
		if werr := m.store.SetToken(ctx, name, tok); werr != nil {
			e.tok.Store(tok)
			e.dirty.Store(true)
			e.persistMu.Unlock()
			perr := fmt.Errorf("core: token %q: %w: %w", name, ErrPersistFailed, werr)
			m.emit(Event{Kind: EventPersistFailed, Name: name, Generation: tok.Generation, Err: perr})
			m.log.Warn("core: token kept in memory, write will be retried", "name", name, "error", perr)
			m.startPersistRetry(e)
			m.emit(Event{Kind: EventTokenIssued, Name: name, Generation: tok.Generation})
			return tok, nil
		}
	}
	e.dirty.Store(false)
	e.tok.Store(tok)
	e.persistMu.Unlock()
	m.emit(Event{Kind: EventTokenIssued, Name: name, Generation: tok.Generation})
	m.log.Debug("core: token issued", "name", name, "token", tok)
	return tok, nil
}

// serveOrFail returns the cached token if it is still valid, else err. A
// forced refresh (Refresh) always reports its failure.
func (m *Manager) serveOrFail(e *entry, md mode, err error) (*Token, error) {
	if t := e.tok.Load(); t != nil && md != modeForce && m.nowNano() < t.expireAt {
		m.emit(Event{Kind: EventServedStale, Name: e.name, Generation: t.Generation, Err: err})
		if e.notBefore.Load() < t.expireAt && IsPermanent(err) {
			e.notBefore.Store(t.expireAt)
		}
		return t, nil
	}
	return nil, err
}

func persistable(t *Token) bool { return t.RefreshToken != "" || !t.Expiry.IsZero() }

// callWithRetry calls the strategy, retrying temporary errors with capped,
// jittered exponential backoff that honours Retry-After. When a still-valid
// token exists it does not wait: it records when the endpoint may be asked
// again and returns the error, so the valid token keeps being served.
func (m *Manager) callWithRetry(ctx context.Context, e *entry, s Strategy, c *Credentials, prev *Token) (*Token, error) {
	for attempt := 1; ; attempt++ {
		start := time.Now()
		tok, err := callStrategy(ctx, s, c, prev)
		m.observe(e, time.Since(start))
		if err == nil && !tok.Expiry.IsZero() && !tok.Expiry.After(m.clock.Now()) {
			// Caching it would send every caller back to the endpoint.
			err = fmt.Errorf("core: strategy %q returned a token that has already expired", s.Type())
		}
		if err == nil {
			return tok, nil
		}
		if IsPermanent(err) || ctx.Err() != nil {
			return nil, err
		}
		delay := backoff(attempt)
		if ra := RetryAfterOf(err); ra > delay {
			delay = ra
		}
		now := m.clock.Now()
		e.notBefore.Store(m.off(now.Add(delay)))
		valid := prev != nil && m.off(now) < prev.expireAt
		if !IsTemporary(err) || attempt >= m.attempts || valid {
			return nil, err
		}
		if serr := m.clock.Sleep(ctx, delay); serr != nil {
			return nil, err
		}
	}
}

func callStrategy(ctx context.Context, s Strategy, c *Credentials, prev *Token) (tok *Token, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The panic value may hold a secret; it is not printed.
			tok, err = nil, fmt.Errorf("core: strategy %q panicked", s.Type())
		}
	}()
	tok, err = s.Token(ctx, c.Clone(), prev.Clone())
	if err == nil && tok == nil {
		err = fmt.Errorf("core: strategy %q returned no token and no error", s.Type())
	}
	if err == nil && tok.AccessToken == "" && len(tok.Header) == 0 && len(tok.Query) == 0 {
		err = fmt.Errorf("core: strategy %q returned an empty token", s.Type())
	}
	return tok, err
}

func backoff(attempt int) time.Duration {
	d := backoffBase << min(attempt-1, 16)
	if d > backoffMax || d <= 0 {
		d = backoffMax
	}
	return d/2 + rand.N(d/2+1) // jitter in [d/2, d]
}

// observe folds one strategy latency into the entry's moving average.
func (m *Manager) observe(e *entry, d time.Duration) {
	old := e.latency.Load()
	if old == 0 {
		e.latency.Store(int64(d))
		return
	}
	e.latency.Store(old + (int64(d)-old)/4)
}

// seal precomputes what the cached path reads: the Authorization header,
// the x/oauth2 form, and when to refresh and when the token counts as
// expired. The refresh window is the configured buffer plus four times the
// endpoint's observed latency (a slow endpoint is asked earlier), at most
// half the token's lifetime. The refresh point is spread with jitter over
// one more window (at most a third of the lifetime) before it, so
// credentials that expire together are not refreshed together.
func (m *Manager) seal(e *entry, t *Token, now time.Time) {
	t.authz = ""
	t.authz = t.AuthorizationHeader()
	if n := len(t.AccessToken); n > 0 && strings.HasSuffix(t.authz, t.AccessToken) {
		// Share the header's bytes, so that a long access token (a JWT)
		// is held once, not twice, by each cached credential.
		t.AccessToken = t.authz[len(t.authz)-n:]
	}
	t.o2 = t.toOAuth2()
	if t.Expiry.IsZero() {
		t.refreshAt, t.expireAt = math.MaxInt64, math.MaxInt64
		return
	}
	exp := m.off(t.Expiry)
	life := time.Duration(exp - m.off(now))
	if life <= 0 {
		t.refreshAt, t.expireAt = exp, exp
		return
	}
	t.expireAt = exp - int64(min(maxExpiryDelta, life/10))
	window := m.buffer + 4*time.Duration(e.latency.Load())
	window = min(window, life/2)
	jitter := time.Duration(0)
	if spread := min(window, life/3); spread > 1 {
		jitter = rand.N(spread)
	}
	t.refreshAt = exp - int64(window+jitter)
}

func (m *Manager) startPersistRetry(e *entry) {
	if !e.retrying.CompareAndSwap(false, true) {
		return
	}
	// Called from a flight, which holds a wg slot, so Add cannot race Wait.
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			for attempt := 1; e.dirty.Load(); attempt++ {
				if m.clock.Sleep(m.ctx, backoff(attempt)) != nil {
					e.retrying.Store(false)
					return
				}
				m.persistCurrent(m.ctx, e, false)
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

// persistCurrent writes the cached token if its write failed before. It
// takes the Locker unless the caller holds it, and it never overwrites a
// newer token another process stored meanwhile: it adopts that one.
func (m *Manager) persistCurrent(ctx context.Context, e *entry, locked bool) {
	if !e.dirty.Load() {
		return
	}
	if m.locker != nil && !locked {
		unlock, err := m.locker.Lock(ctx, e.name)
		if err != nil {
			return
		}
		defer unlock()
	}
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	t := e.tok.Load()
	if t == nil || !e.dirty.Load() {
		return
	}
	if stored, err := m.store.GetToken(ctx, e.name); err == nil && stored.Generation > t.Generation &&
		(stored.CredentialsDigest == "" || stored.CredentialsDigest == t.CredentialsDigest) {
		m.seal(e, stored, m.clock.Now())
		e.tok.Store(stored)
		e.dirty.Store(false)
		m.emit(Event{Kind: EventTokenLoaded, Name: e.name, Generation: stored.Generation})
		return
	}
	if err := m.store.SetToken(ctx, e.name, t); err != nil {
		return
	}
	e.dirty.Store(false)
	m.emit(Event{Kind: EventPersisted, Name: e.name, Generation: t.Generation})
}

func (m *Manager) emit(ev Event) {
	if m.onEvent == nil {
		return
	}
	ev.Time = m.clock.Now()
	m.onEvent(ev)
}

// SetCredentials validates c and stores it under name. The cached token
// and the stored token for name are dropped. c's Type must name a section
// that is present; a strategy registered for the type that implements
// Validator checks the rest. A type no strategy serves is stored as is.
// Malformed input is an error matching ErrInvalidCredentials.
func (m *Manager) SetCredentials(ctx context.Context, name string, c *Credentials) error {
	if err := m.validate(name, c); err != nil {
		return err
	}
	if err := m.store.SetCredentials(ctx, name, c); err != nil {
		return fmt.Errorf("core: set credentials %q: %w", name, err)
	}
	m.invalidate(name)
	if err := m.store.DeleteToken(ctx, name); err != nil && !errors.Is(err, ErrTokenNotFound) {
		m.log.Warn("core: dropping stored token failed", "name", name, "error", err)
	}
	return nil
}

func (m *Manager) validate(name string, c *Credentials) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("core: credentials %q: %w: nil", name, ErrInvalidCredentials)
	}
	if c.Type == "" {
		return fmt.Errorf("core: credentials %q: %w: no type", name, ErrInvalidCredentials)
	}
	if !c.HasSection(c.Type) {
		return fmt.Errorf("core: credentials %q: %w: type %q has no %q section", name, ErrInvalidCredentials, c.Type, c.Type)
	}
	if s, err := m.reg.Lookup(c.Type); err == nil {
		if v, ok := s.(Validator); ok {
			if err := v.Validate(c); err != nil {
				// A strategy that could not answer (a crashed plugin) is
				// not a verdict on the credential.
				if !errors.Is(err, ErrInvalidCredentials) && !IsTemporary(err) {
					err = fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
				}
				return fmt.Errorf("core: credentials %q: %w", name, err)
			}
		}
	}
	return nil
}

// invalidate drops the cached entry for name. A flight still running on it
// finishes on the detached entry; its token is bound to the old
// credential's digest and is ignored when read back.
func (m *Manager) invalidate(name string) {
	v, ok := m.entries.Load(name)
	if !ok {
		return
	}
	e := v.(*entry)
	e.mu.Lock()
	e.dead = true
	e.mu.Unlock()
	m.entries.CompareAndDelete(name, e)
}

// Credentials returns the stored credential.
func (m *Manager) Credentials(ctx context.Context, name string) (*Credentials, error) {
	c, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("core: get credentials %q: %w", name, err)
	}
	return c, nil
}

// DeleteCredentials removes the credential and its token. A strategy that
// implements Revoker is asked, best effort, to revoke the token first.
func (m *Manager) DeleteCredentials(ctx context.Context, name string) error {
	c, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return fmt.Errorf("core: delete credentials %q: %w", name, err)
	}
	if s, lerr := m.reg.Lookup(c.Type); lerr == nil {
		if r, ok := s.(Revoker); ok {
			if t, terr := m.store.GetToken(ctx, name); terr == nil {
				if rerr := r.Revoke(ctx, c, t); rerr != nil {
					m.log.Warn("core: revoke failed", "name", name, "error", rerr)
				}
			}
		}
	}
	m.invalidate(name)
	if err := m.store.DeleteToken(ctx, name); err != nil && !errors.Is(err, ErrTokenNotFound) {
		m.log.Warn("core: deleting stored token failed", "name", name, "error", err)
	}
	if err := m.store.DeleteCredentials(ctx, name); err != nil {
		return fmt.Errorf("core: delete credentials %q: %w", name, err)
	}
	return nil
}

// ListCredentials returns the stored credential names, sorted.
func (m *Manager) ListCredentials(ctx context.Context) ([]string, error) {
	names, err := m.store.ListCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("core: list credentials: %w", err)
	}
	return names, nil
}

// Client returns an *http.Client whose every request carries the current
// token for name, through a Transport over base (nil means
// http.DefaultTransport).
func (m *Manager) Client(name string, base http.RoundTripper) *http.Client {
	return &http.Client{Transport: m.Transport(name, base)}
}

// Close stops every goroutine the Manager started, writes once more any
// token whose write had failed, drops the cache and closes the strategies
// given in Options.Strategies. Close is idempotent. Calls after Close fail
// with ErrClosed, except on the cached path, which is dropped.
func (m *Manager) Close() error {
	m.life.Lock()
	if m.closed {
		m.life.Unlock()
		return nil
	}
	m.closed = true
	m.life.Unlock()
	m.cancel()
	m.wg.Wait()

	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var errs []error
	m.entries.Range(func(k, v any) bool {
		e := v.(*entry)
		if e.dirty.Load() {
			m.persistCurrent(flushCtx, e, false)
			if e.dirty.Load() {
				errs = append(errs, fmt.Errorf("core: token %q: %w", e.name, ErrPersistFailed))
			}
		}
		m.entries.Delete(k)
		return true
	})
	for _, s := range m.owned {
		if c, ok := s.(Closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("core: close strategy %q: %w", s.Type(), err))
			}
		}
	}
	return errors.Join(errs...)
}

// PutToken stores a token obtained outside a strategy call, such as from
// an authorization-code exchange, under name: it is bound to the current
// credential, given the next generation, persisted, then cached. A failed
// write is an error matching ErrPersistFailed and nothing is cached.
func (m *Manager) PutToken(ctx context.Context, name string, t *Token) error {
	creds, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return fmt.Errorf("core: put token %q: %w", name, err)
	}
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "" && len(t.Header) == 0 && len(t.Query) == 0) {
		return fmt.Errorf("core: put token %q: %w: empty token", name, ErrInvalidCredentials)
	}
	fp := creds.Fingerprint()
	e := m.entry(name)
	e.persistMu.Lock()
	defer e.persistMu.Unlock()
	tok := t.Clone()
	gen := uint64(0)
	if cur := e.tok.Load(); cur != nil {
		gen = cur.Generation
	}
	if stored, err := m.store.GetToken(ctx, name); err == nil && stored.Generation > gen {
		gen = stored.Generation
	}
	now := m.clock.Now()
	tok.Generation = gen + 1
	tok.CredentialsDigest = hex.EncodeToString(fp[:8])
	tok.IssuedAt = now
	m.seal(e, tok, now)
	if err := m.store.SetToken(ctx, name, tok); err != nil {
		return fmt.Errorf("core: put token %q: %w: %w", name, ErrPersistFailed, err)
	}
	e.dirty.Store(false)
	e.perm.Store(nil)
	e.notBefore.Store(0)
	e.tok.Store(tok)
	m.emit(Event{Kind: EventTokenIssued, Name: name, Generation: tok.Generation})
	return nil
}
