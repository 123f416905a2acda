package loadtest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/plexusone/omnivault/vault"
)

func TestMain(m *testing.M) {
	RunWorkerIfRequested() // the Processes tests run this binary as workers
	goleak.VerifyTestMain(m)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 45*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// C: a stampede on a cold credential, then on an
// expired one with a rotating refresh token, costs one request each.
func TestStampedeOneRequestEach(t *testing.T) {
	res, err := Stampede(testContext(t), t.TempDir(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	for _, ph := range []struct {
		name string
		got  StampedePhase
	}{{"cold", res.Cold}, {"expired", res.Expired}} {
		if ph.got.Requests != 1 {
			t.Errorf("%s: %d token requests for 1000 goroutines, want exactly 1", ph.name, ph.got.Requests)
		}
		if ph.got.Tokens != 1 || ph.got.Errors != 0 {
			t.Errorf("%s: goroutines got %d distinct tokens and %d errors, want 1 and 0", ph.name, ph.got.Tokens, ph.got.Errors)
		}
	}
	s := res.IdP
	if s.Grants != 1 || s.Refreshes != 1 || s.InvalidGrants != 0 || s.MaxPresented != 1 {
		t.Errorf("IdP saw %+v, want 1 grant, then 1 refresh presenting its refresh token once, and no invalid_grant", s)
	}
	if !res.RotatedRefreshTokenStored {
		t.Error("the vault does not hold the rotated refresh token")
	}
}

// D: with BackgroundRefresh, callers inside the refresh window keep
// getting the current token while the refresh is held at the endpoint,
// and exactly one refresh happens.
func TestRefreshAheadNeverBlocks(t *testing.T) {
	ctx := testContext(t)
	idp := NewIdP(IdPOptions{TTL: time.Hour})
	t.Cleanup(idp.Close)
	clk := coretest.NewFakeClock(time.Now())
	fv, err := storage.NewFileVault(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fv.Close() })
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	issued := make(chan uint64, 16)
	m, err := core.New(core.Options{
		Store:             st,
		Strategies:        []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true, Clock: clk})},
		Clock:             clk,
		BackgroundRefresh: true,
		Locker:            fv.Locker(),
		OnEvent: func(ev core.Event) {
			if ev.Kind == core.EventTokenIssued {
				issued <- ev.Generation
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if err := m.SetCredentials(ctx, CredentialName, idp.Credentials()); err != nil {
		t.Fatal(err)
	}
	first, err := m.Token(ctx, CredentialName)
	if err != nil {
		t.Fatal(err)
	}
	firstGen := <-issued

	// Into the window: the window is at least the 60 s buffer and the
	// refresh point at most one more window before it; the token counts
	// as expired 5 s before its expiry.
	clk.Set(first.Expiry.Add(-30 * time.Second))
	arrived := make(chan struct{}, 1)
	gate := make(chan struct{})
	idp.SetHold(func(rctx context.Context) error {
		select {
		case arrived <- struct{}{}:
		default:
		}
		select {
		case <-gate:
			return nil
		case <-rctx.Done():
			return rctx.Err()
		}
	})
	released := false
	release := func() {
		if !released {
			released = true
			close(gate)
		}
	}
	t.Cleanup(release)

	if tok, err := m.Token(ctx, CredentialName); err != nil || tok != first {
		t.Fatalf("first call in the window: got %v, %v; want the current token at once", tok, err)
	}
	select {
	case <-arrived: // the background refresh is at the endpoint, held
	case <-ctx.Done():
		t.Fatal("no background refresh reached the endpoint")
	}

	const callers, calls = 200, 200
	var stale atomic.Int64
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			for range calls {
				tok, err := m.Token(ctx, CredentialName)
				if err != nil || tok != first {
					stale.Add(1)
				}
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		release()
		<-done
		t.Fatal("callers in the refresh window blocked while the refresh was held")
	}
	if n := stale.Load(); n != 0 {
		t.Errorf("%d of %d calls during the held refresh did not return the current token at once", n, callers*calls)
	}
	if s := idp.Stats(); s.Requests != 2 || s.Held != 1 {
		t.Errorf("while held, IdP saw %+v; want 2 requests (first token, one refresh) with the refresh still held", s)
	}

	release()
	select {
	case g := <-issued:
		if g != firstGen+1 {
			t.Errorf("refresh issued generation %d, want %d", g, firstGen+1)
		}
	case <-ctx.Done():
		t.Fatal("the released refresh never completed")
	}
	tok, err := m.Token(ctx, CredentialName)
	if err != nil || tok.AccessToken == first.AccessToken {
		t.Fatalf("after the refresh: %v, %v; want the new token", tok, err)
	}
	for range 1000 {
		if _, err := m.Token(ctx, CredentialName); err != nil {
			t.Fatal(err)
		}
	}
	if s := idp.Stats(); s.Requests != 2 || s.Refreshes != 1 || s.Aborted != 0 {
		t.Errorf("IdP saw %+v; want exactly one refresh after the first token", s)
	}
}

func checkProcesses(t *testing.T, res *ProcResult, workers int) {
	t.Helper()
	t.Logf("IdP %+v, generation %d, elapsed %s", res.IdP, res.Generation, res.Elapsed)
	for _, f := range res.Faults(workers, false) {
		t.Error(f)
	}
}

// E: OS processes sharing the file vault and its lock
// refresh each token exactly once and never send a rotated refresh token.
func TestProcessesShareOneRefresh(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes and waits for real token expiries")
	}
	res, err := Processes(testContext(t), ProcOptions{Dir: t.TempDir(), Procs: 4, Expiries: 3})
	if err != nil {
		t.Fatal(err)
	}
	checkProcesses(t, res, 4)
}

// E: a process SIGKILLed while it holds the lock, with its token request
// in flight, blocks nobody: the others take the lock and carry on.
func TestKilledLockHolderDoesNotBlock(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes and waits for real token expiries")
	}
	res, err := Processes(testContext(t), ProcOptions{Dir: t.TempDir(), Procs: 3, Expiries: 2, KillFirst: true})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Killed {
		t.Errorf("the first worker was not killed with its request held (IdP %+v)", res.IdP)
	}
	checkProcesses(t, res, 2)
}

// F: refreshes of credentials that expire together are spread over at
// least half of the refresh window, so that no moment carries them all.
func TestSpreadRefreshes(t *testing.T) {
	for _, ttl := range []time.Duration{time.Hour, time.Minute} {
		t.Run(ttl.String(), func(t *testing.T) {
			res, err := Spread(testContext(t), 1000, ttl, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%+v", *res)
			if res.Refreshes != 1000 {
				t.Fatalf("%d refreshes, want 1000", res.Refreshes)
			}
			// The refresh points are jittered over min(window, ttl/3)
			// before the window. With an hour-long token that is a whole
			// window; with a minute-long one the window is capped at
			// ttl/2 and the spread at ttl/3, two thirds of the window.
			// Either way the refreshes span at least half the window.
			spread := min(res.Window, ttl/3)
			if res.Span < spread*9/10 {
				t.Errorf("refreshes span %s, want at least 90%% of the %s jitter spread", res.Span, spread)
			}
			if res.Span < res.Window/2 {
				t.Errorf("refreshes span %s, want at least half the %s window", res.Span, res.Window)
			}
			if res.MaxSliceShare > 0.05 {
				t.Errorf("%d refreshes (%.1f%%) in one %s slice, want at most 5%%", res.MaxSlice, 100*res.MaxSliceShare, SliceWidth)
			}
			if res.Latest < res.Window-SliceWidth {
				t.Errorf("a refresh %s before expiry, later than the %s window", res.Latest, res.Window)
			}
		})
	}
}

// countingVault counts the calls that reach a vault.
type countingVault struct {
	vault.Vault
	gets, lists, exists atomic.Int64
}

func (v *countingVault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	v.gets.Add(1)
	return v.Vault.Get(ctx, p)
}

func (v *countingVault) List(ctx context.Context, prefix string) ([]string, error) {
	v.lists.Add(1)
	return v.Vault.List(ctx, prefix)
}

func (v *countingVault) Exists(ctx context.Context, p string) (bool, error) {
	v.exists.Add(1)
	return v.Vault.Exists(ctx, p)
}

// G: opening a vault and getting one token reads that credential and its
// token only, however many the vault holds.
func TestFirstTokenReadsOneCredential(t *testing.T) {
	dir := t.TempDir()
	const n = 2000
	if err := WriteVault(dir, n, 40, time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	var cv *countingVault
	m, closeAll, err := openManager(dir, func(v vault.Vault) vault.Vault {
		cv = &countingVault{Vault: v}
		return cv
	})
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll()
	tok, err := m.Token(testContext(t), ScaleName(n/2))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(dir, strings.TrimSuffix(storage.DefaultTokensPrefix, "/"), ScaleName(n/2)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if want, err := core.ParseStoredToken(raw); err != nil || want.Generation != 1 || tok.AccessToken != want.AccessToken {
		t.Errorf("got %v, want the stored token of generation 1 (%v)", tok, err)
	}
	if g, l, e := cv.gets.Load(), cv.lists.Load(), cv.exists.Load(); g != 2 || l != 0 || e != 0 {
		t.Errorf("first token cost %d gets, %d lists, %d exists; want 2 gets (credential, token) and nothing else", g, l, e)
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h Histogram
	for i := 1; i <= 1000; i++ {
		h.Record(time.Duration(i))
	}
	h.Record(time.Second)
	if got := h.Quantile(0.5); got != 500 {
		t.Errorf("p50 = %d, want 500", got)
	}
	if got := h.Quantile(0.99); got != 990 {
		t.Errorf("p99 = %d, want 990", got)
	}
	if h.Max() != time.Second || h.Count() != 1001 || h.CountAbove(time.Millisecond) != 1 {
		t.Errorf("max %s, count %d, above 1ms %d", h.Max(), h.Count(), h.CountAbove(time.Millisecond))
	}
	if want := (time.Second + 500500) / 1001; h.Mean() != want {
		t.Errorf("mean %d, want %d", h.Mean(), want)
	}
	for _, d := range []time.Duration{1500, 123456, 7 * time.Second} {
		var one Histogram
		one.Record(d)
		if q := one.Quantile(1); q > d || float64(d-q) > 0.016*float64(d) {
			t.Errorf("%d recorded as %d", d, q)
		}
	}
}

// A worker process never starts workers: were a test binary's TestMain to
// miss RunWorkerIfRequested, each worker would run the tests again and
// start workers of its own, without bound.
func TestWorkerStartsNoWorkers(t *testing.T) {
	t.Setenv(envWorker, "1") // as in a worker process
	called := false
	w, err := StartWorker(WorkerOptions{Command: func() (*exec.Cmd, error) {
		called = true
		return exec.Command("true"), nil
	}})
	if err == nil {
		_ = w.cmd.Wait()
		t.Fatal("StartWorker in a worker process started a process")
	}
	if called || !strings.Contains(err.Error(), "loadtest: ") {
		t.Errorf("StartWorker in a worker: command built %v, error %v", called, err)
	}
}
