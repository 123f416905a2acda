package storage_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

// t0 is where the fake clocks of these tests start.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// errInjected is the error faultVault injects.
var errInjected = errors.New("injected vault fault")

// faultVault wraps a vault. While on, each call fails with probability
// rate, and with probability rate is first delayed by up to maxDelay
// (less if its context ends). Half of the failed Sets fail after the
// write was applied, as when a vault's reply is lost: the caller sees an
// error for a write that happened. The random source is seeded, so a
// failing run can be replayed as far as goroutine scheduling allows.
type faultVault struct {
	vault.Vault
	rate     float64
	maxDelay time.Duration
	on       atomic.Bool

	mu  sync.Mutex
	rng *rand.Rand

	errs, delays, lostAcks atomic.Int64
}

func newFaultVault(v vault.Vault, seed uint64) *faultVault {
	return &faultVault{Vault: v, rate: 0.2, maxDelay: 500 * time.Microsecond, rng: rand.New(rand.NewPCG(seed, 18))}
}

// draw decides one call's faults: whether to fail, whether the failure
// comes after the operation, and how long to delay first.
func (v *faultVault) draw() (fail, after bool, delay time.Duration) {
	if !v.on.Load() {
		return false, false, 0
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	fail = v.rng.Float64() < v.rate
	after = v.rng.IntN(2) == 0
	if v.rng.Float64() < v.rate {
		delay = time.Duration(v.rng.Int64N(int64(v.maxDelay)))
	}
	return fail, after, delay
}

// before applies the delay and, for a failure before the operation,
// returns the error.
func (v *faultVault) before(ctx context.Context, op, p string) (fail, after bool, err error) {
	fail, after, delay := v.draw()
	if delay > 0 {
		v.delays.Add(1)
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-ctx.Done():
			timer.Stop()
			return false, false, ctx.Err()
		}
	}
	if fail && !after {
		v.errs.Add(1)
		return true, false, vault.NewVaultError(op, p, "fault", errInjected)
	}
	return fail, after, nil
}

func (v *faultVault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	if _, _, err := v.before(ctx, "Get", p); err != nil {
		return nil, err
	}
	return v.Vault.Get(ctx, p)
}

func (v *faultVault) Set(ctx context.Context, p string, s *vault.Secret) error {
	fail, after, err := v.before(ctx, "Set", p)
	if err != nil {
		return err
	}
	if err := v.Vault.Set(ctx, p, s); err != nil {
		return err
	}
	if fail && after {
		v.lostAcks.Add(1)
		return vault.NewVaultError("Set", p, "fault", errInjected)
	}
	return nil
}

func (v *faultVault) Delete(ctx context.Context, p string) error {
	if _, _, err := v.before(ctx, "Delete", p); err != nil {
		return err
	}
	return v.Vault.Delete(ctx, p)
}

func (v *faultVault) Exists(ctx context.Context, p string) (bool, error) {
	if _, _, err := v.before(ctx, "Exists", p); err != nil {
		return false, err
	}
	return v.Vault.Exists(ctx, p)
}

func (v *faultVault) List(ctx context.Context, prefix string) ([]string, error) {
	if _, _, err := v.before(ctx, "List", prefix); err != nil {
		return nil, err
	}
	return v.Vault.List(ctx, prefix)
}

// chainStrategy is a CountingStrategy that records the refresh token of
// each call's prev, in call order.
type chainStrategy struct {
	*coretest.CountingStrategy
	mu    sync.Mutex
	prevs []string
}

func (s *chainStrategy) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	rt := ""
	if prev != nil {
		rt = prev.RefreshToken
	}
	s.mu.Lock()
	s.prevs = append(s.prevs, rt)
	s.mu.Unlock()
	return s.CountingStrategy.Token(ctx, c, prev)
}

// checkChain fails t unless every call after the first got, as prev, the
// token of the call just before it: no refresh token was ever used twice
// and no older one came back.
func (s *chainStrategy) checkChain(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rt := range s.prevs {
		want := ""
		if i > 0 {
			want = fmt.Sprintf("refresh-%d", i)
		}
		if rt != want {
			t.Fatalf("strategy call %d got refresh token %q as prev, want %q", i+1, rt, want)
		}
	}
}

// vaults returns the vaults the fault tests run over: omnivault's memory
// provider and a FileVault with its Locker.
func vaults(t *testing.T) map[string]func(t *testing.T) (vault.Vault, core.Locker) {
	return map[string]func(t *testing.T) (vault.Vault, core.Locker){
		"Memory": func(*testing.T) (vault.Vault, core.Locker) { return memory.New(), nil },
		"File": func(t *testing.T) (vault.Vault, core.Locker) {
			fv := newFileVault(t, filepath.Join(t.TempDir(), "vault"))
			return fv, fv.Locker()
		},
	}
}

// TestVaultFaultsStore, at the Store: one writer
// writes tokens of rising generations through a vault that fails and
// stalls 20% of calls. Once the faults stop, the stored token is the last
// write the vault applied: never older than the last acknowledged one.
func TestVaultFaultsStore(t *testing.T) {
	for name, open := range vaults(t) {
		t.Run(name, func(t *testing.T) {
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			inner, _ := open(t)
			fv := newFaultVault(inner, seed)
			st := newStore(t, fv, storage.Options{})
			ctx := context.Background()
			fv.on.Store(true)
			var acked, applied uint64
			for gen := uint64(1); gen <= 400; gen++ {
				lost := fv.lostAcks.Load()
				err := st.SetToken(ctx, "svc", &core.StoredToken{Token: core.Token{AccessToken: fmt.Sprintf("a-%d", gen)}, Generation: gen})
				switch {
				case err == nil:
					acked, applied = gen, gen
				case !errors.Is(err, errInjected):
					t.Fatalf("gen %d: unexpected error: %v", gen, err)
				case fv.lostAcks.Load() != lost:
					applied = gen // failed after the write
				}
				// Reads fail now and then, but never return a token
				// older than the last one written.
				if got, err := st.GetToken(ctx, "svc"); err == nil && got.Generation != applied {
					t.Fatalf("gen %d: read generation %d, the vault holds %d", gen, got.Generation, applied)
				}
			}
			fv.on.Store(false)
			got, err := st.GetToken(ctx, "svc")
			if err != nil {
				t.Fatal(err)
			}
			if got.Generation != applied || got.Generation < acked || got.AccessToken != fmt.Sprintf("a-%d", applied) {
				t.Fatalf("stored generation %d (%s); last applied %d, last acknowledged %d", got.Generation, got.AccessToken, applied, acked)
			}
			if fv.errs.Load() == 0 || fv.lostAcks.Load() == 0 || fv.delays.Load() == 0 {
				t.Fatalf("faults not exercised: %d errors, %d lost acks, %d delays", fv.errs.Load(), fv.lostAcks.Load(), fv.delays.Load())
			}
		})
	}
}

// TestVaultFaultsManager, end to end: a core.Manager
// over a Store whose vault fails and stalls 20% of calls refreshes a
// short-lived token hundreds of times, from several goroutines, through
// expiries, the refresh-ahead window, background refreshes and forced
// refreshes. Nothing panics, every strategy call is handed the newest
// refresh token, every token handed out is one the strategy issued, every
// write the Manager reports done is in the vault, and once the faults stop
// and the Manager is closed, the vault holds the last token the strategy
// issued, which is no older than any token handed out.
func TestVaultFaultsManager(t *testing.T) {
	for name, open := range vaults(t) {
		t.Run(name, func(t *testing.T) {
			rounds := 300
			if testing.Short() {
				rounds = 60
			}
			seed := uint64(time.Now().UnixNano())
			t.Logf("seed %d", seed)
			inner, locker := open(t)
			fv := newFaultVault(inner, seed)
			st := newStore(t, fv, storage.Options{})
			clock := coretest.NewFakeClock(t0)
			strat := &chainStrategy{CountingStrategy: &coretest.CountingStrategy{TTL: time.Minute, Clock: clock}}

			// Each write the Manager reports as done is in the vault at
			// once: when it reports a token issued without a failed write,
			// or a failed write made good. Events come from the one flight
			// or the write retry, under the Manager's write lock, so no
			// newer token can be written meanwhile.
			direct := newStore(t, inner, storage.Options{})
			var failedMu sync.Mutex
			failed := map[uint64]bool{}
			var acks atomic.Int64
			onEvent := func(ev core.Event) {
				failedMu.Lock()
				defer failedMu.Unlock()
				switch ev.Kind {
				case core.EventPersistFailed:
					failed[ev.Generation] = true
					return
				case core.EventTokenIssued:
					if failed[ev.Generation] {
						return
					}
				case core.EventPersisted:
				default:
					return
				}
				acks.Add(1)
				got, err := direct.GetToken(context.Background(), ev.Name)
				if err != nil || got.Generation != ev.Generation {
					t.Errorf("%s for generation %d, but the vault holds %v (%v)", ev.Kind, ev.Generation, got, err)
				}
			}
			m, err := core.New(core.Options{
				Store: st, Locker: locker, Strategies: []core.Strategy{strat}, Clock: clock,
				RefreshBuffer: 10 * time.Second, BackgroundRefresh: true, OnEvent: onEvent,
			})
			if err != nil {
				t.Fatal(err)
			}
			closed := false
			t.Cleanup(func() {
				if !closed {
					_ = m.Close()
				}
			})
			ctx := context.Background()
			const name = "svc/faulty"
			if err := m.SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
				t.Fatal(err)
			}

			rng := rand.New(rand.NewPCG(seed, 19))
			var maxGen uint64
			failures := 0
			fv.on.Store(true)
			for r := range rounds {
				// Past expiry, into the refresh-ahead window, or not far.
				clock.Advance([]time.Duration{70 * time.Second, 55 * time.Second, 20 * time.Second}[rng.IntN(3)])
				force := rng.IntN(10) == 0
				var wg sync.WaitGroup
				var mu sync.Mutex
				for g := range 4 {
					wg.Go(func() {
						var tok *core.Token
						var err error
						if force && g == 0 {
							tok, err = m.Refresh(ctx, name)
						} else {
							tok, err = m.Token(ctx, name)
						}
						mu.Lock()
						defer mu.Unlock()
						if err != nil {
							failures++
							return
						}
						// The strategy numbers its tokens, and each one it
						// issues is the next generation: access-N is N.
						var n uint64
						if _, err := fmt.Sscanf(tok.AccessToken, "access-%d", &n); err != nil {
							t.Errorf("round %d: token %s is not one the strategy issued", r, tok.AccessToken)
						}
						maxGen = max(maxGen, n)
					})
				}
				wg.Wait()
			}
			fv.on.Store(false)
			closed = true
			if err := m.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			strat.checkChain(t)
			issued := uint64(strat.Calls.Load())
			got, err := st.GetToken(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if got.Generation != issued || got.AccessToken != fmt.Sprintf("access-%d", issued) || got.RefreshToken != fmt.Sprintf("refresh-%d", issued) {
				t.Fatalf("vault holds %s generation %d; the last token issued is access-%d", got.AccessToken, got.Generation, issued)
			}
			if got.Generation < maxGen {
				t.Fatalf("vault holds generation %d, older than generation %d handed out", got.Generation, maxGen)
			}
			t.Logf("%d rounds: %d tokens issued, newest handed out %d, %d failed calls, %d writes reported done; vault: %d errors, %d lost acks, %d delays",
				rounds, issued, maxGen, failures, acks.Load(), fv.errs.Load(), fv.lostAcks.Load(), fv.delays.Load())
			if issued < uint64(rounds)/4 || len(failed) == 0 || fv.errs.Load() == 0 || fv.lostAcks.Load() == 0 || fv.delays.Load() == 0 {
				t.Fatal("the run did not exercise refreshes under faults")
			}
		})
	}
}
