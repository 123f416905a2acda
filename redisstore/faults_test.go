package redisstore_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/storage"
)

// line is one line a replica printed, and when.
type line struct {
	worker int
	at     time.Time
	text   string
}

// replicas is a set of worker processes whose output is collected.
type replicas struct {
	t       *testing.T
	workers []*loadtest.Worker

	mu      sync.Mutex
	lines   []line
	changed chan struct{}
}

// startReplicas starts n replica processes over Redis at srv and the
// file vault in dir, seeded with idp's credential, and waits until they
// are ready (not released).
func startReplicas(ctx context.Context, t *testing.T, n int, srv *redistest.Server, key []byte, dir string, ttl time.Duration, idp *loadtest.IdP) *replicas {
	t.Helper()
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.New(fv, storage.Options{})
	if err == nil {
		err = st.SetCredentials(ctx, loadtest.CredentialName, idp.Credentials())
	}
	fv.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := &replicas{t: t, changed: make(chan struct{})}
	for i := range n {
		w, err := loadtest.StartWorker(loadtest.WorkerOptions{
			Dir: dir, Env: replicaEnv(srv.URL(), key, ttl),
			OnLine: func(s string) { r.add(i, s) },
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Kill)
		r.workers = append(r.workers, w)
	}
	for i, w := range r.workers {
		if err := w.WaitReady(ctx); err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
	}
	return r
}

func (r *replicas) add(i int, s string) {
	r.mu.Lock()
	r.lines = append(r.lines, line{worker: i, at: time.Now(), text: s})
	close(r.changed)
	r.changed = make(chan struct{})
	r.mu.Unlock()
}

// waitFor waits until cond holds for the lines so far, or fails the test
// when ctx is done.
func (r *replicas) waitFor(ctx context.Context, what string, cond func([]line) bool) {
	r.t.Helper()
	for {
		r.mu.Lock()
		ok, ch := cond(r.lines), r.changed
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-ch:
		case <-ctx.Done():
			r.t.Fatalf("waiting for %s: %v\n%s", what, ctx.Err(), r.dump())
		}
	}
}

func (r *replicas) dump() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b strings.Builder
	for _, l := range r.lines {
		fmt.Fprintf(&b, "%s worker %d: %s\n", l.at.Format("15:04:05.000"), l.worker, l.text)
	}
	return b.String()
}

// snapshot returns the lines so far.
func (r *replicas) snapshot() []line {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]line(nil), r.lines...)
}

// servedBy reports, for each worker, the last access token it served
// among lines.
func lastServed(lines []line) map[int]string {
	m := map[int]string{}
	for _, l := range lines {
		if at, ok := strings.CutPrefix(l.text, "served "); ok {
			m[l.worker] = at
		}
	}
	return m
}

// allServeFrom reports whether every one of n workers last served a
// token of the IdP's issued at or after at (access tokens are
// "at-<family>-<sequence>").
func allServeFrom(n int, at string) func([]line) bool {
	return func(lines []line) bool {
		m := lastServed(lines)
		for i := range n {
			if m[i] == "" || seq(m[i]) < seq(at) {
				return false
			}
		}
		return true
	}
}

func seq(at string) int {
	n, _ := strconv.Atoi(at[strings.LastIndexByte(at, '-')+1:])
	return n
}

// finish stops the replicas and returns their reports; a replica that
// failed is reported as an error and an empty report.
func (r *replicas) finish() []*loadtest.WorkerReport {
	r.t.Helper()
	var reps []*loadtest.WorkerReport
	for i, w := range r.workers {
		rep, err := w.Finish()
		if err != nil {
			r.t.Errorf("replica %d: %v", i, err)
			rep = new(loadtest.WorkerReport)
		}
		reps = append(reps, rep)
	}
	return reps
}

// The lease holder is SIGSTOPped with its token
// request at the IdP, past its lease; another replica takes over and
// stores a newer token; the IdP answers the stopped one, which is then
// SIGCONTed. Its late write is refused by the compare-and-swap, and no
// replica, itself included, ever serves its token.
func TestReplicaHolderPausedPastLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes")
	}
	ctx := testContext(t)
	srv := redistest.Start(t)
	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: time.Hour})
	t.Cleanup(idp.Close)
	key, dir := newKey(t), t.TempDir()
	const ttl = time.Second
	r := startReplicas(ctx, t, 3, srv, key, dir, ttl, idp)
	paused := r.workers[0]

	arrived, gate := make(chan struct{}, 1), make(chan struct{})
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
	if err := paused.Release(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-arrived: // it holds the lease, its request is at the IdP
	case <-ctx.Done():
		t.Fatal("the first replica's request never reached the IdP")
	}
	if err := paused.Process().Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	continued := false
	cont := func() {
		if !continued {
			continued = true
			_ = paused.Process().Signal(syscall.SIGCONT)
		}
	}
	t.Cleanup(cont)
	idp.SetHold(nil)
	close(gate) // the IdP answers the stopped replica; its answer waits in the socket
	if err := idp.WaitFor(ctx, func(s loadtest.IdPStats) bool { return s.Grants == 1 }); err != nil {
		t.Fatal(err)
	}
	stale := idp.AccessTokens()[0]
	stoppedAt := time.Now()
	for _, w := range r.workers[1:] {
		if err := w.Release(); err != nil {
			t.Fatal(err)
		}
	}
	// Another replica takes the lapsed lease and stores a newer token,
	// which both running replicas serve.
	if err := idp.WaitFor(ctx, func(s loadtest.IdPStats) bool { return s.Grants == 2 }); err != nil {
		t.Fatalf("%v\n%s", err, r.dump())
	}
	newer := idp.AccessTokens()[1]
	r.waitFor(ctx, "the running replicas to serve the newer token", func(lines []line) bool {
		m := lastServed(lines)
		return m[1] == newer && m[2] == newer
	})
	t.Logf("takeover %s after the holder stopped (lease TTL %s)", time.Since(stoppedAt).Round(time.Millisecond), ttl)

	cont()
	r.waitFor(ctx, "the continued replica to serve a token", func(lines []line) bool {
		_, ok := lastServed(lines)[0]
		return ok
	})
	reps := r.finish()
	for _, l := range r.snapshot() {
		if l.text == "served "+stale {
			t.Errorf("replica %d served the paused holder's token at %s", l.worker, l.at.Format("15:04:05.000"))
		}
	}
	if reps[0].WriteFailures == 0 || !strings.Contains(reps[0].FirstWriteFailure, "conflicting write") {
		t.Errorf("the paused replica's late write was not refused by the compare-and-swap: %d write failures (%q)",
			reps[0].WriteFailures, reps[0].FirstWriteFailure)
	}
	s := idp.Stats()
	if s.InvalidGrants != 0 || s.RevokedFamilies != 0 || s.Grants != 2 {
		t.Errorf("IdP %+v; want 2 grants, no invalid_grant, nothing revoked", s)
	}
	c, _ := client(t, srv)
	got, err := newStore(t, c, key, nil).GetToken(ctx, loadtest.CredentialName)
	if err != nil || got.AccessToken != newer {
		t.Errorf("stored token %v, %v; want the newer one", got, err)
	}
	if t.Failed() {
		t.Log(r.dump())
	}
}

// redis-server is killed mid-run, twice: valid
// cached tokens keep being served, due refreshes fail with an error
// naming Redis and no replica refreshes uncoordinated (the IdP sees no
// request); after a restart, with its data and then without, every
// replica recovers unaided, and nothing is ever revoked.
func TestReplicasSurviveRedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes and waits for real token expiries")
	}
	ctx := testContext(t)
	srv := redistest.Start(t)
	const tokenTTL = 3 * time.Second
	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: tokenTTL})
	t.Cleanup(idp.Close)
	key, dir := newKey(t), t.TempDir()
	const n = 4
	r := startReplicas(ctx, t, n, srv, key, dir, 2*time.Second, idp)
	for _, w := range r.workers {
		if err := w.Release(); err != nil {
			t.Fatal(err)
		}
	}
	for round, keepData := range []bool{true, false} {
		// Wait for a refresh, and for every replica to serve its token:
		// each then holds a token with most of its life left.
		before := idp.Stats().Refreshes
		if err := idp.WaitFor(ctx, func(s loadtest.IdPStats) bool { return s.Refreshes > before }); err != nil {
			t.Fatal(err)
		}
		fresh := idp.AccessTokens()[len(idp.AccessTokens())-1]
		r.waitFor(ctx, "every replica to serve the fresh token or a newer one", allServeFrom(n, fresh))
		srv.Kill()
		killed, atKill := time.Now(), idp.Stats()
		from := len(r.snapshot())

		r.waitFor(ctx, "every replica to fail a refresh", func(lines []line) bool {
			failed := map[int]bool{}
			for _, l := range lines[from:] {
				if strings.HasPrefix(l.text, "error ") {
					failed[l.worker] = true
				}
			}
			return len(failed) == n
		})
		for _, l := range r.snapshot()[from:] {
			if !strings.HasPrefix(l.text, "error ") {
				continue
			}
			if !strings.Contains(l.text, "redis unavailable") {
				t.Errorf("round %d: replica %d failed with %q, want an error naming Redis", round, l.worker, l.text)
			}
			if d := l.at.Sub(killed); d < tokenTTL/4 {
				t.Errorf("round %d: replica %d failed %s after Redis died, while its token was still valid", round, l.worker, d)
			}
		}
		if s := idp.Stats(); s.Requests != atKill.Requests {
			t.Errorf("round %d: %d token requests while Redis was down, want none (no uncoordinated refresh)", round, s.Requests-atKill.Requests)
		}

		if err := srv.Restart(keepData); err != nil {
			t.Fatal(err)
		}
		from = len(r.snapshot())
		r.waitFor(ctx, "every replica to recover", func(lines []line) bool {
			ok := map[int]bool{}
			for _, l := range lines[from:] {
				if l.text == "ok" {
					ok[l.worker] = true
				}
			}
			return len(ok) == n
		})
	}
	reps := r.finish()
	s := idp.Stats()
	t.Logf("IdP %+v", s)
	if s.Grants != 1 || s.InvalidGrants != 0 || s.RevokedFamilies != 0 || s.MaxPresented != 1 {
		t.Errorf("IdP %+v; want 1 grant, each refresh token presented once, no invalid_grant, nothing revoked", s)
	}
	for i, rep := range reps {
		if rep.Expired != 0 {
			t.Errorf("replica %d served %d expired tokens", i, rep.Expired)
		}
	}
	c, _ := client(t, srv)
	got, err := newStore(t, c, key, nil).GetToken(ctx, loadtest.CredentialName)
	if err != nil || got.RefreshToken != idp.LatestRefreshToken() {
		t.Errorf("stored token %v, %v; want the newest refresh token", got, err)
	}
	if t.Failed() {
		t.Log(r.dump())
	}
}
