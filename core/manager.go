package core

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// Defaults of Options.
const (
	DefaultRefreshBuffer  = 60 * time.Second
	DefaultRefreshTimeout = 30 * time.Second
	DefaultMaxAttempts    = 3
)

// Options configures a Manager. Only Store is required.
type Options struct {
	// Store holds credentials and tokens. Required.
	Store Store
	// Strategies, when set, are the only strategies the Manager uses. The
	// Manager closes those that have a Close() error method when it is
	// closed.
	Strategies []Strategy
	// Registry is used when Strategies is empty. Its strategies belong to
	// whoever built it and are not closed by the Manager.
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
	// Locker extends one refresh per name across processes or hosts, and
	// orders SetCredentials, DeleteCredentials and PutToken with the
	// refreshes of other processes. A FencingLocker's fence is stamped on
	// every token written under it. Default: none (one refresh per name
	// within this process).
	Locker Locker
	// Logger receives debug and warning lines, never a secret. A
	// credential's state change (a refresh that starts failing, a write
	// that fails, a person needed) is one warning; its repeats are debug
	// lines. Default: discard.
	Logger *slog.Logger
	// Clock is the source of time. Default: SystemClock.
	Clock Clock
	// OnEvent, when set, is called synchronously for each Event. It must
	// not block or call back into the Manager.
	OnEvent func(Event)
	// OnReauth, when set, is called when a credential comes to need a
	// person, once per change of state (a new device code is a change). It
	// must not block or call back into the Manager.
	OnReauth func(*ReauthRequiredError)
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
	onReauth   func(*ReauthRequiredError)
	timeout    time.Duration
	attempts   int

	entries sync.Map // string → *entry

	ctx    context.Context
	cancel context.CancelFunc
	life   sync.RWMutex // guards closed against wg.Add
	closed bool
	wg     sync.WaitGroup
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
		onReauth:   opts.OnReauth,
		timeout:    opts.RefreshTimeout,
		attempts:   opts.MaxAttempts,
	}
	if len(opts.Strategies) > 0 {
		m.reg = NewRegistry(opts.Strategies...)
		m.owned = opts.Strategies
	}
	if m.reg == nil {
		m.reg = NewRegistry()
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
// map load and two atomic loads. Inside the window, with BackgroundRefresh,
// the current token is returned and one background refresh starts. An
// expired or missing token is obtained by one flight per name, shared by
// every caller: the stored token is read again first, the strategy is
// called only if it is still stale, and the new token is persisted before
// any caller gets it. A caller whose ctx is done gets ctx.Err() without
// failing the shared refresh.
//
// A credential that needs a person gives an error that is a
// *ReauthRequiredError. The returned token is shared: do not modify it.
func (m *Manager) Token(ctx context.Context, name string) (*Token, error) {
	_, c, err := m.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return &c.st.Token, nil
}

// OAuth2Token is Token in x/oauth2's form. The *oauth2.Token is built once
// per token, so the cached path does not allocate; it is shared: do not
// modify it.
func (m *Manager) OAuth2Token(ctx context.Context, name string) (*oauth2.Token, error) {
	_, c, err := m.get(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.o2, nil
}

// get is the cached path of Token, OAuth2Token and the Transport.
func (m *Manager) get(ctx context.Context, name string) (*entry, *cached, error) {
	if v, ok := m.entries.Load(name); ok {
		e := v.(*entry)
		if c := e.cur.Load(); c != nil {
			if c.fresh.Load() || (c.live.Load() && e.bg.Load()) {
				// Before the refresh point; or in the window, before
				// expiry, while a background refresh runs, when
				// refreshAhead would do nothing.
				return e, c, nil
			}
			now := m.nowNano()
			if now < c.refreshAt {
				return e, c, nil
			}
			if m.background && now < c.expireAt {
				m.refreshAhead(e, now)
				return e, c, nil
			}
		}
	}
	return m.fetch(ctx, name, modeNormal, 0)
}

// Expiry returns the expiry of the token this Manager holds for name, for
// a metrics gauge or a status page: it reads only the cache, never the
// store, and never starts a refresh, so the token may have expired. ok is
// false when no token is held: none obtained yet by this Manager, or
// dropped by SetCredentials, DeleteCredentials or Close. A token that
// does not expire has a zero expiry.
func (m *Manager) Expiry(name string) (expiry time.Time, ok bool) {
	v, found := m.entries.Load(name)
	if !found {
		return time.Time{}, false
	}
	c := v.(*entry).cur.Load()
	if c == nil {
		return time.Time{}, false
	}
	return c.st.Expiry, true
}

// Refresh obtains a new token from the strategy now, whatever the cached
// or stored one, and returns it once it is persisted. The token comes
// from a strategy call that started after Refresh was called.
func (m *Manager) Refresh(ctx context.Context, name string) (*Token, error) {
	_, c, err := m.fetch(ctx, name, modeForce, 0)
	if err != nil {
		return nil, err
	}
	return &c.st.Token, nil
}

// TokenSource returns an oauth2.TokenSource for the named credential, for
// code written against x/oauth2. Its Token method is OAuth2Token with a
// background context: x/oauth2's interface takes none, so each call is
// bounded by Options.RefreshTimeout instead. It is safe for concurrent use.
func (m *Manager) TokenSource(name string) oauth2.TokenSource {
	return tokenSource{m: m, name: name}
}

type tokenSource struct {
	m    *Manager
	name string
}

func (s tokenSource) Token() (*oauth2.Token, error) {
	return s.m.OAuth2Token(context.Background(), s.name)
}

// Client returns an *http.Client whose every request carries the current
// token for name, through a Transport over base (nil means
// http.DefaultTransport).
func (m *Manager) Client(name string, base http.RoundTripper) *http.Client {
	return &http.Client{Transport: m.Transport(name, base)}
}

// Close stops every goroutine the Manager started, writes once more any
// token whose write had failed, drops the cache and closes the strategies
// given in Options.Strategies. Callers waiting on a refresh get an error
// matching ErrClosed. Close is idempotent. Calls after Close fail with
// ErrClosed.
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
			m.flush(flushCtx, e, false, 0)
			if e.dirty.Load() {
				errs = append(errs, fmt.Errorf("core: token %q: %w", e.name, ErrPersistFailed))
			}
		}
		if c := e.cur.Load(); c != nil {
			c.retire()
		}
		m.entries.Delete(k)
		return true
	})
	for _, s := range m.owned {
		if c, ok := s.(closer); ok {
			if err := c.Close(); err != nil {
				errs = append(errs, fmt.Errorf("core: close strategy %q: %w", s.Type(), err))
			}
		}
	}
	return errors.Join(errs...)
}
