package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/internal/loadtest"
)

// sectionA: the cached path against x/oauth2's ReuseTokenSource.
func sectionA(ctx context.Context, r *report, root, _ string, cfg config) error {
	bt := []string{"-benchtime", cfg.benchtime}
	coreSet, err := goBench(ctx, root, "./core/", "^Benchmark(CachedToken|ReuseTokenSource)$", "1,2", cfg.count, bt...)
	if err != nil {
		return err
	}
	rootSet, rootErr := goBench(ctx, root, ".", "^BenchmarkGetToken(Core)?$", "1,2", cfg.count, bt...)

	var b strings.Builder
	fmt.Fprintf(&b, "Cached `core.Manager.Token` and root `TokenManager.GetToken` against `golang.org/x/oauth2`'s `ReuseTokenSource` over a static source, all on an hour-long token, one goroutine per P (`b.RunParallel`). Medians of %d rounds, `-benchtime %s`; each round runs every benchmark of its binary once, and a ratio is the median of the rounds' ratios. The core benchmarks and the baseline run in one binary (`./core`'s tests); GetToken and core Token under the same TokenManager in another (the root package's).\n\n", cfg.count, cfg.benchtime)
	b.WriteString("| Path | -cpu | ns/op | allocs/op | Baseline (same binary) | Ratio | Target | Met |\n|---|---|---|---|---|---|---|---|\n")
	for _, cpu := range []int{1, 2} {
		target := map[int]float64{1: 0.8, 2: 0.5}[cpu]
		c, ok1 := coreSet.median("BenchmarkCachedToken", cpu, "ns/op")
		rts, ok2 := coreSet.median("BenchmarkReuseTokenSource", cpu, "ns/op")
		if !ok1 || !ok2 {
			return fmt.Errorf("core benchmarks at -cpu %d missing from the output", cpu)
		}
		allocs := coreSet.maxOf("BenchmarkCachedToken", cpu, "allocs/op")
		ratio, _ := coreSet.ratio("BenchmarkCachedToken", "BenchmarkReuseTokenSource", cpu, "ns/op")
		fmt.Fprintf(&b, "| core Token | %d | %.1f | %.0f | ReuseTokenSource %.1f ns/op | %.2f× | ≤ %.1f× | %s |\n",
			cpu, c, allocs, rts, ratio, target, yes(ratio <= target))
		if ratio > target {
			r.miss(fmt.Sprintf("A, -cpu %d: core Token is %.2f× ReuseTokenSource (target ≤ %.1f×); runs %s ns/op against %s ns/op.",
				cpu, ratio, target, nums(coreSet.values("BenchmarkCachedToken", cpu, "ns/op")), nums(coreSet.values("BenchmarkReuseTokenSource", cpu, "ns/op"))))
		}
		if allocs > 0 {
			r.miss(fmt.Sprintf("A, -cpu %d: core Token allocates (%.0f allocs/op in the worst run).", cpu, allocs))
		}
		r.add(row{"A", fmt.Sprintf("core Token ≤ %.1f× ReuseTokenSource at -cpu %d", target, cpu),
			fmt.Sprintf("%.1f ns/op = %.2f×", c, ratio), fmt.Sprintf("ReuseTokenSource %.1f ns/op", rts), yes(ratio <= target)})
		r.add(row{"A", fmt.Sprintf("core Token 0 allocs/op at -cpu %d", cpu),
			fmt.Sprintf("%.0f allocs/op (worst of %d)", allocs, cfg.count), "—", yes(allocs == 0)})

		if rootErr != nil {
			continue
		}
		g, ok1 := rootSet.median("BenchmarkGetToken", cpu, "ns/op")
		gc, ok2 := rootSet.median("BenchmarkGetTokenCore", cpu, "ns/op")
		if !ok1 || !ok2 {
			return fmt.Errorf("root benchmarks at -cpu %d missing from the output", cpu)
		}
		gAllocs := rootSet.maxOf("BenchmarkGetToken", cpu, "allocs/op")
		gr, _ := rootSet.ratio("BenchmarkGetToken", "BenchmarkGetTokenCore", cpu, "ns/op")
		fmt.Fprintf(&b, "| root GetToken | %d | %.1f | %.0f | core Token under the same TokenManager %.1f ns/op | %.2f× | ≤ 1.10× | %s |\n",
			cpu, g, gAllocs, gc, gr, yes(gr <= 1.10))
		fmt.Fprintf(&b, "| root GetToken | %d | %.1f | %.0f | ReuseTokenSource (core binary) %.1f ns/op | %.2f× | — | — |\n",
			cpu, g, gAllocs, rts, g/rts)
		if gr > 1.10 || gAllocs > 0 {
			r.miss(fmt.Sprintf("A, -cpu %d: root GetToken is %.2f× core Token under the same TokenManager (target ≤ 1.10×), %.0f allocs/op; runs %s ns/op against %s ns/op. GetToken adds one call frame, an error check and the precomputed x/oauth2 form to core Token: %.1f ns on this %.1f ns path.",
				cpu, gr, gAllocs, nums(rootSet.values("BenchmarkGetToken", cpu, "ns/op")), nums(rootSet.values("BenchmarkGetTokenCore", cpu, "ns/op")), g-gc, gc))
		}
		r.add(row{"A", fmt.Sprintf("root GetToken within 10%% of core at -cpu %d", cpu),
			fmt.Sprintf("%.1f ns/op, %.0f allocs/op = %.2f× core", g, gAllocs, gr), fmt.Sprintf("core Token %.1f ns/op", gc), yes(gr <= 1.10 && gAllocs == 0)})
	}
	if rootErr != nil {
		fmt.Fprintf(&b, "\nRoot benchmarks could not run: %v\n", rootErr)
		r.add(row{"A", "root GetToken within 10% of core", "not measured: " + rootErr.Error(), "—", "**no**"})
	}
	b.WriteString("\nThe cached path is one `sync.Map` load and two atomic loads (the token, and a flag that a timer clears at the token's refresh point), with no clock read; `ReuseTokenSource` takes a mutex and reads the wall clock, so it also stops scaling with a second P.\n")
	r.section("A. Cached path", b.String())
	return nil
}

// sectionB: an authenticated request through GetClient over loopback.
func sectionB(ctx context.Context, r *report, root, _ string, cfg config) error {
	paired, err := goBench(ctx, root, ".", "^BenchmarkGetClientPaired$", "1,2", cfg.count, "-benchtime", cfg.pairedtime)
	if err != nil {
		return err
	}
	sep, err := goBench(ctx, root, ".", "^Benchmark(GetClient|BareClient)$", "2", cfg.count)
	if err != nil {
		return err
	}
	nop, err := goBench(ctx, root, "./internal/loadtest/", "^BenchmarkTransportNop(Bare)?$", "2", cfg.count)
	if err != nil {
		return err
	}

	var b strings.Builder
	b.WriteString("One GET to an `httptest` server on 127.0.0.1 that answers \"ok\", through the `*http.Client` from `GetClient` (core `Transport` over `http.DefaultTransport`), against a bare `http.Client` over the same `http.DefaultTransport` that sets the same `Authorization` header itself. `BenchmarkGetClientPaired` alternates the two on one connection pool and times each request, so drift in the machine hits both alike; its overhead is the figure. Medians of " + fmt.Sprint(cfg.count) + " rounds, the paired benchmark at `-benchtime " + cfg.pairedtime + "` (tens of thousands of pairs a run) so that one run's overhead is not the spread of a few thousand loopback round trips.\n\n")
	b.WriteString("| Measure | -cpu | GetClient | Bare client (baseline) | Overhead | Target | Met |\n|---|---|---|---|---|---|---|\n")
	var missB []string
	for _, cpu := range []int{1, 2} {
		ov, ok := paired.median("BenchmarkGetClientPaired", cpu, "overhead-%")
		cl, _ := paired.median("BenchmarkGetClientPaired", cpu, "client-ns/req")
		ba, _ := paired.median("BenchmarkGetClientPaired", cpu, "bare-ns/req")
		if !ok {
			return fmt.Errorf("paired benchmark at -cpu %d missing from the output", cpu)
		}
		runs := paired.values("BenchmarkGetClientPaired", cpu, "overhead-%")
		fmt.Fprintf(&b, "| paired, median | %d | %.0f ns/req | %.0f ns/req | %+.2f%% (runs: %s) | ≤ 2%% | %s |\n",
			cpu, cl, ba, ov, pcts(runs), yes(ov <= 2))
		if ov > 2 {
			missB = append(missB, fmt.Sprintf("-cpu %d: %+.2f%% (runs %s)", cpu, ov, pcts(runs)))
		}
		r.add(row{"B", fmt.Sprintf("GetClient request overhead ≤ 2%% at -cpu %d", cpu),
			fmt.Sprintf("%+.2f%% (%.0f ns/req)", ov, cl), fmt.Sprintf("bare client %.0f ns/req", ba), yes(ov <= 2)})
	}
	g, _ := sep.median("BenchmarkGetClient", 2, "ns/op")
	bb, _ := sep.median("BenchmarkBareClient", 2, "ns/op")
	ga, _ := sep.median("BenchmarkGetClient", 2, "allocs/op")
	ba, _ := sep.median("BenchmarkBareClient", 2, "allocs/op")
	gB, _ := sep.median("BenchmarkGetClient", 2, "B/op")
	bB, _ := sep.median("BenchmarkBareClient", 2, "B/op")
	fmt.Fprintf(&b, "| separate benchmarks, median | 2 | %.0f ns/op, %.0f allocs, %.0f B | %.0f ns/op, %.0f allocs, %.0f B | %+.2f%% | — | — |\n",
		g, ga, gB, bb, ba, bB, 100*(g/bb-1))
	tn, _ := nop.median("BenchmarkTransportNop", 2, "ns/op")
	tb, _ := nop.median("BenchmarkTransportNopBare", 2, "ns/op")
	tna, _ := nop.median("BenchmarkTransportNop", 2, "allocs/op")
	tba, _ := nop.median("BenchmarkTransportNopBare", 2, "allocs/op")
	fmt.Fprintf(&b, "\nWhat the Transport itself adds, measured over a RoundTripper that does nothing (`internal/loadtest` `BenchmarkTransportNop` against `BenchmarkTransportNopBare`): %.0f ns and %.0f allocations per request (%.0f against %.0f ns/op), which is %.2f%% of the bare loopback request above. It is the token look-up and the request clone that a RoundTripper must make rather than modify the caller's request. The run-to-run spread of the loopback figures is larger than that.\n",
		tn-tb, tna-tba, tn, tb, 100*(tn-tb)/bb)
	if len(missB) > 0 {
		r.miss(fmt.Sprintf("B: GetClient overhead over 2%% (%s). The Transport's own cost, measured without the network, is %.0f ns per request (%.2f%% of a bare request); the rest is the run-to-run spread of loopback requests on a shared 2-core machine, where client and server compete for the same cores.",
			strings.Join(missB, "; "), tn-tb, 100*(tn-tb)/bb))
	}
	r.section("B. Authenticated request", b.String())
	return nil
}

// sectionC: a stampede on a cold, then an expired credential.
func sectionC(ctx context.Context, r *report, _, dir string, _ config) error {
	const n = 1000
	res, err := loadtest.Stampede(ctx, dir, n)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d goroutines released from a barrier call `Token` on one oauth2 client_credentials credential (tokens in a `FileVault`, `FileLocker` on), against the loopback IdP, which holds the first request until all %d have started. Then a fake clock moves past the token's expiry and the wave repeats; that refresh presents the rotating refresh token. Asserted, not timed, by `TestStampedeOneRequestEach`.\n\n", n, n)
	b.WriteString("| Wave | Token requests | Distinct tokens handed out | Errors | Target | Met |\n|---|---|---|---|---|---|\n")
	for _, w := range []struct {
		name string
		ph   loadtest.StampedePhase
	}{{"cold", res.Cold}, {"expired", res.Expired}} {
		ok := w.ph.Requests == 1 && w.ph.Tokens == 1 && w.ph.Errors == 0
		fmt.Fprintf(&b, "| %s | %d | %d | %d | exactly 1 request | %s |\n", w.name, w.ph.Requests, w.ph.Tokens, w.ph.Errors, yes(ok))
		r.add(row{"C", fmt.Sprintf("exactly 1 token request, %d goroutines, %s credential", n, w.name),
			fmt.Sprintf("%d request, %d distinct token", w.ph.Requests, w.ph.Tokens), fmt.Sprintf("%d callers", n), yes(ok)})
	}
	fmt.Fprintf(&b, "\nIdP: %s. Rotated refresh token in the vault: %s.\n", idpLine(res.IdP), yesno(res.RotatedRefreshTokenStored))
	r.section("C. Stampede", b.String())
	return nil
}

// sectionD: Token latency while refreshing ahead against a slow endpoint.
func sectionD(ctx context.Context, r *report, _, dir string, cfg config) error {
	res, err := loadtest.RefreshAheadLatency(ctx, loadtest.LatencyOptions{Dir: dir, TTL: cfg.aheadTTL, Cycles: cfg.cycles, Baseline: cfg.baselineTime})
	if err != nil {
		return err
	}
	o := res.Options
	var b strings.Builder
	fmt.Fprintf(&b, "`BackgroundRefresh` on (root `AutoRefresh`), default 60 s buffer, tokens of %s from a loopback endpoint that takes %s, so the window is capped at half the lifetime and every token is refreshed ahead. The lifetime is long enough that its skew allowance (a tenth of it, at most 5 s) spans more than a second, so that, as for any token of some ten seconds or more, the Manager's timers guard it and no call reads the clock; shorter tokens are checked against the clock on every call. %d goroutines call `Token` in a loop, each call timed with the monotonic clock, for %d refreshes; most of each figure is the two clock reads around the call, the same in every row. A call counts as *during refresh* when it begins while a refresh request is at the endpoint. The baseline is the same loop for %s on an hour-long token. Tokens in a `FileVault` with `FileLocker`.\n\n",
		o.TTL, o.EndpointLatency, o.Callers, o.Cycles, o.Baseline)
	b.WriteString("| Calls | Count | Mean | p50 | p99 | Max |\n|---|---|---|---|---|---|\n")
	for _, l := range []struct {
		name string
		s    loadtest.LatencySummary
	}{{"cached path (baseline)", res.Cached}, {"during refresh", res.During}, {"rest of the refresh run", res.Outside}} {
		fmt.Fprintf(&b, "| %s | %d | %s | %s | %s | %s |\n", l.name, l.s.Calls, dur(l.s.Mean), dur(l.s.P50), dur(l.s.P99), dur(l.s.Max))
	}
	p99r := float64(res.During.P99) / float64(res.Cached.P99)
	p50r := float64(res.During.P50) / float64(res.Cached.P50)
	fmt.Fprintf(&b, "\nRefreshes: %d, token requests: %d, failed calls: %d. Calls that took %s or more (half the endpoint's latency), in the whole refresh run: %d.\n",
		res.Refreshes, res.Requests, res.Errors, o.EndpointLatency/2, res.SlowCalls)
	fmt.Fprintf(&b, "\np99 during refresh is %.2f× the cached p99 (target ≤ 2×: %s); p50 %.2f×.", p99r, yes(p99r <= 2), p50r)
	if res.During.Max >= o.EndpointLatency/2 {
		fmt.Fprintf(&b, " The slowest call during refresh took %s: a caller waited.", dur(res.During.Max))
	}
	b.WriteString(" The largest single calls are scheduling: two cores run the callers, the HTTP client and server, and the file-vault write of each refresh.\n")
	if p99r > 2 {
		r.miss(fmt.Sprintf("D: p99 of Token during refresh is %s, %.2f× the cached %s (target ≤ 2×); %d calls during refresh, max %s.",
			dur(res.During.P99), p99r, dur(res.Cached.P99), res.During.Calls, dur(res.During.Max)))
	}
	if res.SlowCalls > 0 || res.Errors > 0 {
		r.miss(fmt.Sprintf("D: %d calls took %s or more and %d failed: some caller waited for the endpoint, or did not get a token.",
			res.SlowCalls, o.EndpointLatency/2, res.Errors))
	}
	r.section("D. Refresh ahead", b.String())
	r.add(row{"D", "p99 of Token during refresh ≤ 2× cached p99",
		fmt.Sprintf("%s = %.2f× (p50 %s)", dur(res.During.P99), p99r, dur(res.During.P50)), fmt.Sprintf("cached p99 %s, p50 %s", dur(res.Cached.P99), dur(res.Cached.P50)), yes(p99r <= 2)})
	r.add(row{"D", "no caller waits for the endpoint",
		fmt.Sprintf("%d of %d calls ≥ %s; max during refresh %s", res.SlowCalls, res.During.Calls+res.Outside.Calls, o.EndpointLatency/2, dur(res.During.Max)),
		fmt.Sprintf("endpoint latency %s", o.EndpointLatency), yes(res.SlowCalls == 0 && res.Errors == 0)})
	r.add(row{"D", fmt.Sprintf("one refresh per cycle over %d cycles", o.Cycles),
		fmt.Sprintf("%d token requests for %d refreshes", res.Requests, res.Refreshes), "—", yes(res.Requests == res.Refreshes)})
	return nil
}

// sectionE: OS processes sharing one file vault.
func sectionE(ctx context.Context, r *report, _, dir string, cfg config) error {
	res, err := loadtest.Processes(ctx, loadtest.ProcOptions{Dir: filepath.Join(dir, "shared"), Procs: cfg.procs, Expiries: cfg.expiries})
	if err != nil {
		return err
	}
	kill, kerr := loadtest.Processes(ctx, loadtest.ProcOptions{Dir: filepath.Join(dir, "kill"), Procs: cfg.procs, Expiries: 3, KillFirst: true})

	var b strings.Builder
	fmt.Fprintf(&b, "%d OS processes (this program run again as workers) share one `FileVault` directory and its `FileLocker`, with `BackgroundRefresh`, each calling `Token` every %s. They are released together from a barrier, cold. The loopback IdP issues %s tokens with a refresh token on client_credentials, rotates the refresh token on every refresh, and revokes the whole family (RFC 9700 §4.14.2) when a rotated one is presented again. The run stops after %d refreshes (expiries). The same invariants are asserted by `TestProcessesShareOneRefresh`.\n\n",
		res.Options.Procs, res.Options.Period, res.Options.TTL, res.Options.Expiries)
	e := res.IdP
	perExpiry := e.MaxPresented
	issued := 0
	calls, errs, expired := 0, 0, 0
	for _, w := range res.Workers {
		issued += w.Issued
		calls += w.Calls
		errs += w.Errors
		expired += w.Expired
	}
	okRefresh := perExpiry == 1 && e.Grants == 1 && res.Generation == uint64(e.Issued())
	b.WriteString("| Measure | Value | Target | Met |\n|---|---|---|---|\n")
	fmt.Fprintf(&b, "| expiries (refreshes) | %d | %d | — |\n", e.Refreshes, res.Options.Expiries)
	fmt.Fprintf(&b, "| refresh requests per expiry (most for one refresh token) | %d | exactly 1 | %s |\n", perExpiry, yes(perExpiry == 1))
	fmt.Fprintf(&b, "| client_credentials grants (token families) | %d | 1 | %s |\n", e.Grants, yes(e.Grants == 1))
	fmt.Fprintf(&b, "| `invalid_grant` | %d | 0 | %s |\n", e.InvalidGrants, yes(e.InvalidGrants == 0))
	fmt.Fprintf(&b, "| families revoked for reuse | %d | 0 | %s |\n", e.RevokedFamilies, yes(e.RevokedFamilies == 0))
	fmt.Fprintf(&b, "| last generation / tokens issued / tokens the workers report obtaining | %d / %d / %d | equal | %s |\n", res.Generation, e.Issued(), issued, yes(res.Generation == uint64(e.Issued()) && issued == e.Issued()))
	fmt.Fprintf(&b, "| latest refresh token in the vault at the end | %s | yes | %s |\n", yesno(res.LatestRefreshTokenStored), yes(res.LatestRefreshTokenStored))
	fmt.Fprintf(&b, "| Token calls / failed / handed out past expiry | %d / %d / %d | — / 0 / — | %s |\n", calls, errs, expired, yes(errs == 0))
	fmt.Fprintf(&b, "| wall time | %s | — | — |\n", res.Elapsed.Round(10*time.Millisecond))
	r.add(row{"E", fmt.Sprintf("exactly 1 refresh per expiry, %d processes, %d expiries", res.Options.Procs, res.Options.Expiries),
		fmt.Sprintf("%d refreshes, at most %d request per refresh token, %d grant", e.Refreshes, perExpiry, e.Grants), fmt.Sprintf("%d expiries", e.Refreshes), yes(okRefresh)})
	if !okRefresh || e.InvalidGrants > 0 || e.RevokedFamilies > 0 {
		r.miss(fmt.Sprintf("E: %s; last generation %d.", idpLine(e), res.Generation))
	}
	r.add(row{"E", "0 invalid_grant", fmt.Sprintf("%d invalid_grant, %d families revoked", e.InvalidGrants, e.RevokedFamilies), "—", yes(e.InvalidGrants == 0 && e.RevokedFamilies == 0)})

	b.WriteString("\n**A lock held by a killed process.** ")
	if kerr != nil {
		fmt.Fprintf(&b, "The run failed: %v\n", kerr)
		r.add(row{"E", "a SIGKILLed lock holder blocks nobody", "run failed: " + kerr.Error(), "—", "**no**"})
	} else {
		k := kill.IdP
		ok := kill.Killed && k.Grants == 1 && k.MaxPresented == 1 && k.InvalidGrants == 0 && kill.LatestRefreshTokenStored && len(kill.Workers) == kill.Options.Procs-1
		for _, w := range kill.Workers {
			ok = ok && w.Errors == 0 && w.Calls > 0
		}
		fmt.Fprintf(&b, "One worker is released alone; the IdP holds its first token request, so it holds the credential's file lock. The other %d are released (and wait on the lock), then the first is SIGKILLed. The kernel drops its lock, its held request is abandoned unprocessed, and the others go on for %d refreshes: %s; killed with the lock held: %s; all %d survivors called `Token` without error: %s. Asserted by `TestKilledLockHolderDoesNotBlock`.\n",
			kill.Options.Procs-1, kill.Options.Expiries, idpLine(k), yesno(kill.Killed), len(kill.Workers), yesno(ok))
		if !ok {
			r.miss(fmt.Sprintf("E, killed lock holder: %s; killed with the lock held: %s; survivor reports: %+v.", idpLine(k), yesno(kill.Killed), kill.Workers))
		}
		r.add(row{"E", "a SIGKILLed lock holder blocks nobody", fmt.Sprintf("%d survivors carried on: %d refreshes, %d invalid_grant", len(kill.Workers), k.Refreshes, k.InvalidGrants), "—", yes(ok)})
	}
	r.section("E. Processes sharing a file vault", b.String())
	return nil
}

// sectionF: refreshes of credentials that expire together.
func sectionF(ctx context.Context, r *report, _, _ string, cfg config) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%d credentials get tokens that expire at the same instant. A fake clock then steps through the refresh window in %s steps, calling `Token` on every credential at each step, and each refresh is counted in the step whose clock crossed its refresh point. Default 60 s buffer. The refresh points are jittered over min(window, lifetime/3) before the window. Asserted by `TestSpreadRefreshes`.\n\n", cfg.spreadN, loadtest.SliceWidth)
	b.WriteString("| Token lifetime | Window | Refreshes | First / last refresh before expiry | Span | Span / window | Largest 100 ms slice | Target | Met |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, ttl := range []time.Duration{time.Hour, time.Minute} {
		res, err := loadtest.Spread(ctx, cfg.spreadN, ttl, 0)
		if err != nil {
			return err
		}
		ok := res.MaxSliceShare <= 0.05 && res.Refreshes == cfg.spreadN
		spanOK := res.Span >= res.Window/2
		fmt.Fprintf(&b, "| %s | %s | %d | %s / %s | %s | %.2f | %d (%.1f%%) | ≤ 5%% per slice; span ≥ ½ window | %s; %s |\n",
			ttl, res.Window, res.Refreshes, res.Earliest, res.Latest, res.Span, float64(res.Span)/float64(res.Window),
			res.MaxSlice, 100*res.MaxSliceShare, yes(ok), yes(spanOK))
		r.add(row{"F", fmt.Sprintf("no 100 ms slice > 5%% (%d credentials, %s tokens)", cfg.spreadN, ttl),
			fmt.Sprintf("largest slice %.1f%%", 100*res.MaxSliceShare), fmt.Sprintf("%d refreshes over %s", res.Refreshes, res.Span), yes(ok)})
		r.add(row{"F", fmt.Sprintf("spread over ≥ half the window (%s tokens)", ttl),
			fmt.Sprintf("%s of a %s window (%.2f)", res.Span, res.Window, float64(res.Span)/float64(res.Window)), "—", yes(spanOK)})
		if !spanOK {
			r.miss(fmt.Sprintf("F, %s tokens: the refreshes span %s of the %s window (%.3f), under half. The window is capped at half the lifetime (%s) and the jitter at a third of it (%s), so %d uniform samples should cover about two thirds of the window; a shorter span means the jitter is not doing its work.",
				ttl, res.Span, res.Window, float64(res.Span)/float64(res.Window), ttl/2, ttl/3, res.Refreshes))
		}
	}
	r.section("F. Refreshes of credentials that expire together", b.String())
	return nil
}

// sectionG: memory per cached credential and opening a large vault.
func sectionG(ctx context.Context, r *report, _, dir string, cfg config) error {
	exp := time.Now().Add(24 * time.Hour)
	big, jwt, small := filepath.Join(dir, "big"), filepath.Join(dir, "jwt"), filepath.Join(dir, "small")
	if err := loadtest.WriteVault(big, cfg.scaleN, 40, exp); err != nil {
		return err
	}
	if err := loadtest.WriteVault(jwt, cfg.jwtN, 1000, exp); err != nil {
		return err
	}
	if err := loadtest.WriteVault(small, 10, 40, exp); err != nil {
		return err
	}
	perBig, err := loadtest.HeapPerCredential(ctx, big, cfg.scaleN)
	if err != nil {
		return err
	}
	perJWT, err := loadtest.HeapPerCredential(ctx, jwt, cfg.jwtN)
	if err != nil {
		return err
	}
	tBig, err := loadtest.TimeToFirstToken(ctx, big, cfg.scaleN, cfg.ttftReps)
	if err != nil {
		return err
	}
	tSmall, err := loadtest.TimeToFirstToken(ctx, small, 10, cfg.ttftReps)
	if err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "A `FileVault` directory is written directly (plain JSON files, no fsync) with N oauth2 credentials and a valid token each. *Heap per cached credential*: live heap after a full GC, before and after `Token` on every credential through a Manager over that vault; the store keeps nothing in memory, so this is the Manager's cache: entry, token, its precomputed `Authorization` header and x/oauth2 form, and the map node. *Time to first token*: open the vault, build the Manager, get one token; median of %d openings (page cache warm). `TestFirstTokenReadsOneCredential` asserts that this costs two vault reads (credential and token) and no listing, whatever N.\n\n", cfg.ttftReps)
	b.WriteString("| Measure | Value | Baseline | Target | Met |\n|---|---|---|---|---|\n")
	fmt.Fprintf(&b, "| heap per cached credential, %d credentials, 40-byte access tokens | %.0f B | — | ≤ 2 KB | %s |\n", cfg.scaleN, perBig, yes(perBig <= 2048))
	fmt.Fprintf(&b, "| heap per cached credential, %d credentials, 1,000-byte (JWT-sized) access tokens | %.0f B | — | ≤ 2 KB | %s |\n", cfg.jwtN, perJWT, yes(perJWT <= 2048))
	ratio := float64(tBig) / float64(tSmall)
	fmt.Fprintf(&b, "| time to first token, vault of %d | %s | vault of 10: %s | no growth (≤ 1.5×) | %s (%.2f×) |\n", cfg.scaleN, dur(tBig), dur(tSmall), yes(ratio <= 1.5), ratio)
	b.WriteString("\nThe access token's bytes are held once per credential: `AccessToken` and the x/oauth2 form point into the precomputed `Authorization` header.\n")
	if perBig > 2048 || perJWT > 2048 {
		r.miss(fmt.Sprintf("G: %.0f B per cached credential with 40-byte tokens, %.0f B with 1,000-byte tokens (target ≤ 2,048 B).", perBig, perJWT))
	}
	if ratio > 1.5 {
		r.miss(fmt.Sprintf("G: the first token took %s from a vault of %d credentials against %s from a vault of 10 (%.2f×). The vault is read by name (two files), never listed, as TestFirstTokenReadsOneCredential asserts; the difference is the file system's lookup in a directory of %d entries and run-to-run spread.",
			dur(tBig), cfg.scaleN, dur(tSmall), ratio, cfg.scaleN))
	}
	r.add(row{"G", "≤ 2 KB heap per cached credential (40-byte tokens)", fmt.Sprintf("%.0f B", perBig), fmt.Sprintf("%d credentials", cfg.scaleN), yes(perBig <= 2048)})
	r.add(row{"G", "≤ 2 KB heap per cached credential (1,000-byte tokens)", fmt.Sprintf("%.0f B", perJWT), fmt.Sprintf("%d credentials", cfg.jwtN), yes(perJWT <= 2048)})
	r.add(row{"G", "time to first token does not grow with the vault", fmt.Sprintf("%s with %d credentials = %.2f×", dur(tBig), cfg.scaleN, ratio), fmt.Sprintf("%s with 10", dur(tSmall)), yes(ratio <= 1.5)})
	r.section("G. Scale", b.String())
	return nil
}

// sectionH: binary sizes.
func sectionH(ctx context.Context, r *report, root, dir string, _ config) error {
	sizes := map[string]int64{}
	for _, p := range []string{"minimal", "full"} {
		bin := filepath.Join(dir, p)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./internal/benchreport/testdata/"+p)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %w: %s", p, err, firstLine(string(out)))
		}
		fi, err := os.Stat(bin)
		if err != nil {
			return err
		}
		sizes[p] = fi.Size()
	}
	var b strings.Builder
	b.WriteString("Two programs that open a file vault and make one authenticated request, built with plain `go build` (symbols included): `internal/benchreport/testdata/minimal` imports `core`, `storage` and `strategy/basic`; `internal/benchreport/testdata/full` imports the root `omnitoken` package, which links every built-in strategy, goauth and the plugin host.\n\n")
	b.WriteString("| Program | Size |\n|---|---|\n")
	fmt.Fprintf(&b, "| minimal (core, storage, strategy/basic) | %s |\n", mib(sizes["minimal"]))
	fmt.Fprintf(&b, "| root package | %s |\n", mib(sizes["full"]))
	fmt.Fprintf(&b, "\nThe root package costs %s more (%.1f×).\n", mib(sizes["full"]-sizes["minimal"]), float64(sizes["full"])/float64(sizes["minimal"]))
	r.add(row{"H", "report both sizes", fmt.Sprintf("minimal %s, root %s", mib(sizes["minimal"]), mib(sizes["full"])), "—", "—"})
	r.section("H. Binary size", b.String())
	return nil
}

func idpLine(s loadtest.IdPStats) string {
	return fmt.Sprintf("%d requests, %d grants, %d refreshes, %d invalid_grant, %d reuses, %d families revoked, %d abandoned, at most %d request per refresh token",
		s.Requests, s.Grants, s.Refreshes, s.InvalidGrants, s.Reuses, s.RevokedFamilies, s.Aborted, s.MaxPresented)
}

func pcts(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%+.1f", v)
	}
	return strings.Join(s, ", ")
}

func dur(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%d ns", d.Nanoseconds())
	case d < time.Millisecond:
		return fmt.Sprintf("%.1f µs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.1f ms", float64(d)/1e6)
	}
	return d.Round(time.Millisecond).String()
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

func yes(ok bool) string {
	if ok {
		return "yes"
	}
	return "**no**"
}

func yesno(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

func nums(vs []float64) string {
	s := make([]string, len(vs))
	for i, v := range vs {
		s[i] = fmt.Sprintf("%.1f", v)
	}
	return strings.Join(s, ", ")
}
