package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// redisLeaseTTL is the lease TTL of the replica runs.
const redisLeaseTTL = 2 * time.Second

// sectionR: replicas coordinated on Redis (redisstore).
func sectionR(ctx context.Context, r *report, _, dir string, cfg config) error {
	srv, err := redistest.Run()
	if err != nil {
		return err
	}
	defer srv.Close()
	key := make([]byte, redisstore.KeySize)
	_, _ = rand.Read(key)
	env := redistest.ReplicaEnv(srv.URL(), key, redisLeaseTTL)

	// One Manager: Redis round trips of a refresh, and of the cached path.
	perRefresh, cached, err := redisRoundTrips(ctx, filepath.Join(dir, "rt"), env)
	if err != nil {
		return err
	}
	res, err := loadtest.Processes(ctx, loadtest.ProcOptions{Dir: filepath.Join(dir, "shared"), Backend: redistest.Backend(nil), Env: env,
		Procs: cfg.procs, Expiries: cfg.expiries})
	if err != nil {
		return err
	}
	kill, kerr := loadtest.Processes(ctx, loadtest.ProcOptions{Dir: filepath.Join(dir, "kill"), Backend: redistest.Backend(nil), Env: env,
		Procs: cfg.procs, Expiries: 3, KillFirst: true})
	rt := new(redisstore.RoundTrips)
	var atStart int64
	lat, err := loadtest.RefreshAheadLatency(ctx, loadtest.LatencyOptions{Dir: filepath.Join(dir, "latency"), Backend: redistest.Backend(rt), Env: env,
		Replicas: 8, Callers: 8, Cycles: cfg.cycles, Baseline: cfg.baselineTime, OnRefreshPhase: func() { atStart = rt.Load() }})
	if err != nil {
		return err
	}
	allPerRefresh := float64(rt.Load()-atStart) / float64(max(lat.Refreshes, 1))

	var b strings.Builder
	fmt.Fprintf(&b, "Replicas share one credential through `redisstore` on a local `redis-server` (lease TTL %s): a fenced lease per credential, tokens in an AES-256-GCM record written by a compare-and-swap script and through to each replica's `FileVault`. Round trips are counted with a go-redis hook (`redisstore.RoundTrips`).\n\n", redisLeaseTTL)
	b.WriteString("| Measure | Value | Target | Met |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| Redis round trips per refresh, one replica (lease, re-read, compare-and-swap, check after write-through, release) | %.1f | 5 | %s |\n", perRefresh, yes(perRefresh == 5))
	fmt.Fprintf(&b, "| Redis round trips of 10,000 cached `Token` calls | %d | 0 | %s |\n", cached, yes(cached == 0))
	e := res.IdP
	okE := e.Refreshes == res.Options.Expiries && e.MaxPresented == 1 && e.Grants == 1 && e.InvalidGrants == 0 && e.RevokedFamilies == 0 && res.LatestRefreshTokenStored
	fmt.Fprintf(&b, "| %d processes, %d expiries: refreshes / most requests per refresh token / invalid_grant / families revoked | %d / %d / %d / %d | %d / 1 / 0 / 0 | %s |\n",
		res.Options.Procs, res.Options.Expiries, e.Refreshes, e.MaxPresented, e.InvalidGrants, e.RevokedFamilies, res.Options.Expiries, yes(okE))
	fmt.Fprintf(&b, "| newest refresh token stored at the end | %s | yes | %s |\n", yesno(res.LatestRefreshTokenStored), yes(res.LatestRefreshTokenStored))
	okKill := kerr == nil && kill.Killed && kill.Takeover <= redisLeaseTTL+time.Second && kill.IdP.RevokedFamilies == 0 && kill.IdP.InvalidGrants == 0
	killFig := "run failed"
	if kerr == nil {
		killFig = fmt.Sprintf("%s, %d revoked", kill.Takeover.Round(time.Millisecond), kill.IdP.RevokedFamilies)
	}
	fmt.Fprintf(&b, "| lease holder SIGKILLed mid-refresh: takeover after | %s | ≤ TTL + 1 s, 0 revoked | %s |\n", killFig, yes(okKill))
	p99r := float64(lat.During.P99) / float64(lat.Cached.P99)
	fmt.Fprintf(&b, "| 8 replicas × 1 caller: p99 of `Token` during a coordinated refresh / cached p99 | %s / %s = %.2f× | ≤ 2× | %s |\n", dur(lat.During.P99), dur(lat.Cached.P99), p99r, yes(p99r <= 2))
	fmt.Fprintf(&b, "| same run: token requests / refreshes / failed calls | %d / %d / %d | equal, 0 | %s |\n", lat.Requests, lat.Refreshes, lat.Errors, yes(lat.Requests == lat.Refreshes && lat.Errors == 0))
	fmt.Fprintf(&b, "| same run: Redis round trips per refresh, all 8 replicas (each replica's refresh ahead takes the lease in turn, re-reads and finds the new token; waiters poll) | %.1f | — | — |\n", allPerRefresh)
	b.WriteString("\nThe SIGSTOP, Redis-restart and canary-scan cases are asserted by the `redisstore` tests (`TestReplicaHolderPausedPastLease`, `TestReplicasSurviveRedisRestart`, `TestRedisHoldsNoSecret`).\n")
	r.section("R. Replicas on Redis", b.String())

	okRT := perRefresh == 5 && cached == 0
	r.add(row{"R", "Redis round trips per refresh", fmt.Sprintf("%.1f (lease, re-read, CAS write, check, release); cached path %d", perRefresh, cached), fmt.Sprintf("%.1f per refresh across 8 replicas", allPerRefresh), yes(okRT)})
	r.add(row{"R", fmt.Sprintf("exactly 1 refresh per expiry, %d replicas on Redis, %d expiries", res.Options.Procs, res.Options.Expiries),
		fmt.Sprintf("%d refreshes, ≤ %d request per refresh token, %d invalid_grant, %d revoked", e.Refreshes, e.MaxPresented, e.InvalidGrants, e.RevokedFamilies), "—", yes(okE)})
	r.add(row{"R", "SIGKILLed lease holder: takeover ≤ TTL + 1 s", killFig, fmt.Sprintf("TTL %s", redisLeaseTTL), yes(okKill)})
	r.add(row{"R", "p99 during coordinated refresh ≤ 2× cached p99 (8 replicas)", fmt.Sprintf("%s = %.2f×", dur(lat.During.P99), p99r), fmt.Sprintf("cached p99 %s", dur(lat.Cached.P99)), yes(p99r <= 2)})
	if !okE || !okKill || p99r > 2 || !okRT {
		r.miss(fmt.Sprintf("R: processes %s; kill %s (err %v); p99 ratio %.2f; round trips per refresh %.1f, cached %d.", idpLine(e), killFig, kerr, p99r, perRefresh, cached))
	}
	return nil
}

// redisRoundTrips returns the Redis round trips of one forced refresh (the
// mean of five) and of 10,000 cached Token calls, on one Manager.
func redisRoundTrips(ctx context.Context, dir string, env []string) (float64, int64, error) {
	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: time.Hour})
	defer idp.Close()
	rt := new(redisstore.RoundTrips)
	st, locker, closeAll, err := loadtest.OpenBackend(ctx, redistest.Backend(rt), dir, env)
	if err != nil {
		return 0, 0, err
	}
	defer closeAll()
	m, err := core.New(core.Options{Store: st, Locker: locker, Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})}})
	if err != nil {
		return 0, 0, err
	}
	defer m.Close()
	if err := m.SetCredentials(ctx, loadtest.CredentialName, idp.Credentials()); err != nil {
		return 0, 0, err
	}
	if _, err := m.Token(ctx, loadtest.CredentialName); err != nil { // loads the scripts
		return 0, 0, err
	}
	before := rt.Load()
	const n = 5
	for range n {
		if _, err := m.Refresh(ctx, loadtest.CredentialName); err != nil {
			return 0, 0, err
		}
	}
	perRefresh := float64(rt.Load()-before) / n
	before = rt.Load()
	for range 10_000 {
		if _, err := m.Token(ctx, loadtest.CredentialName); err != nil {
			return 0, 0, err
		}
	}
	return perRefresh, rt.Load() - before, nil
}
