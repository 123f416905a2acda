package loadtest

import (
	"context"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// LatencyOptions configures RefreshAheadLatency. Zero fields take the
// defaults shown.
type LatencyOptions struct {
	// Dir is a directory for the file vaults. Required.
	Dir string
	// EndpointLatency is how long the token endpoint takes. Default 200 ms.
	EndpointLatency time.Duration
	// TTL is the token lifetime during the refresh phase. Default 1 s.
	TTL time.Duration
	// Cycles is the number of refreshes to measure over. Default 20.
	Cycles int
	// Callers is the number of goroutines calling Token in a loop.
	// Default GOMAXPROCS.
	Callers int
	// Baseline is how long the cached path is measured. Default 2 s.
	Baseline time.Duration
	// Replicas is the number of Managers, each with its own Store and
	// Locker from Backend, sharing the callers round-robin. Default 1.
	Replicas int
	// Backend opens each replica's Store and Locker, reading Env (see
	// ProcOptions); its file vault, if any, is in a directory under Dir.
	// Default FileBackend.
	Backend Backend
	// Env is what Backend reads besides the file vault's directory.
	Env []string
	// OnRefreshPhase, when set, is called as the refresh phase begins.
	OnRefreshPhase func()
}

// LatencySummary summarizes a set of Token call latencies, each timed
// with the monotonic clock around one call.
type LatencySummary struct {
	// Calls is the number of calls; the rest are their mean, median,
	// 99th percentile and largest latency.
	Calls uint64
	Mean  time.Duration
	P50   time.Duration
	P99   time.Duration
	Max   time.Duration
}

func summarize(h *Histogram) LatencySummary {
	return LatencySummary{Calls: h.Count(), Mean: h.Mean(), P50: h.Quantile(0.50), P99: h.Quantile(0.99), Max: h.Max()}
}

// LatencyResult is the outcome of RefreshAheadLatency.
type LatencyResult struct {
	// Options are the options used, defaults filled in.
	Options LatencyOptions
	// Cached is the baseline: the same callers on a token far from its
	// refresh window.
	Cached LatencySummary
	// During is the calls begun while a refresh request was at the token
	// endpoint.
	During LatencySummary
	// Outside is the other calls of the refresh phase.
	Outside LatencySummary
	// Refreshes is the refreshes completed during the refresh phase.
	Refreshes int
	// Requests is the token requests of the refresh phase.
	Requests int
	// SlowCalls is the calls of the refresh phase that took at least half
	// the endpoint latency: callers that waited for the endpoint.
	SlowCalls uint64
	// Errors is the failed Token calls.
	Errors uint64
}

// RefreshAheadLatency runs D: with BackgroundRefresh and a token endpoint
// that takes EndpointLatency, Callers goroutines call Token in a loop
// over Cycles refreshes of TTL-long tokens, each call timed. The baseline
// is the same loop on a cached token that is nowhere near its window.
// Time is the real clock.
func RefreshAheadLatency(ctx context.Context, o LatencyOptions) (*LatencyResult, error) {
	if o.EndpointLatency == 0 {
		o.EndpointLatency = 200 * time.Millisecond
	}
	if o.TTL == 0 {
		o.TTL = time.Second
	}
	if o.Cycles == 0 {
		o.Cycles = 20
	}
	if o.Callers == 0 {
		o.Callers = runtime.GOMAXPROCS(0)
	}
	if o.Baseline == 0 {
		o.Baseline = 2 * time.Second
	}
	if o.Replicas == 0 {
		o.Replicas = 1
	}
	if o.Backend == nil {
		o.Backend = FileBackend
	}
	res := &LatencyResult{Options: o}

	// Baseline: an hour-long token.
	{
		idp := NewIdP(IdPOptions{TTL: time.Hour})
		m, closeAll, err := latencyManagers(ctx, o, filepath.Join(o.Dir, "cached"), idp)
		if err != nil {
			idp.Close()
			return nil, err
		}
		stop := make(chan struct{})
		t := time.AfterFunc(o.Baseline, func() { close(stop) })
		during, outside, errs := callLoop(ctx, m, idp, o.Callers, stop)
		t.Stop()
		closeAll()
		idp.Close()
		outside.Merge(during)
		res.Cached = summarize(outside)
		res.Errors += errs
	}

	// Refresh phase.
	idp := NewIdP(IdPOptions{TTL: o.TTL, Latency: o.EndpointLatency})
	defer idp.Close()
	m, closeAll, err := latencyManagers(ctx, o, filepath.Join(o.Dir, "refresh"), idp)
	if err != nil {
		return nil, err
	}
	defer closeAll()
	if o.OnRefreshPhase != nil {
		o.OnRefreshPhase()
	}
	base := idp.Stats()
	stop := make(chan struct{})
	werr := make(chan error, 1)
	go func() {
		werr <- idp.WaitFor(ctx, func(s IdPStats) bool { return s.Issued() >= base.Issued()+o.Cycles })
		close(stop)
	}()
	during, outside, errs := callLoop(ctx, m, idp, o.Callers, stop)
	if err := <-werr; err != nil {
		return nil, err
	}
	end := idp.Stats()
	res.Refreshes = end.Issued() - base.Issued()
	res.Requests = end.Requests - base.Requests
	res.During, res.Outside = summarize(during), summarize(outside)
	res.SlowCalls = during.CountAbove(o.EndpointLatency/2) + outside.CountAbove(o.EndpointLatency/2)
	res.Errors += errs
	return res, nil
}

// latencyManagers returns o.Replicas Managers with BackgroundRefresh,
// each over its own Store and Locker from o.Backend with its file vault
// in dir, holding a first token for CredentialName.
func latencyManagers(ctx context.Context, o LatencyOptions, dir string, idp *IdP) ([]*core.Manager, func(), error) {
	var ms []*core.Manager
	var closers []func() error
	closeAll := func() {
		for _, m := range ms {
			_ = m.Close()
		}
		for _, c := range closers {
			_ = c()
		}
	}
	for range o.Replicas {
		st, locker, closeBackend, err := OpenBackend(ctx, o.Backend, dir, o.Env)
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		closers = append(closers, closeBackend)
		m, err := core.New(core.Options{
			Store:             st,
			Strategies:        []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})},
			BackgroundRefresh: true,
			Locker:            locker,
		})
		if err != nil {
			closeAll()
			return nil, nil, err
		}
		ms = append(ms, m)
	}
	if err := ms[0].SetCredentials(ctx, CredentialName, idp.Credentials()); err != nil {
		closeAll()
		return nil, nil, err
	}
	for _, m := range ms {
		if _, err := m.Token(ctx, CredentialName); err != nil {
			closeAll()
			return nil, nil, err
		}
	}
	return ms, closeAll, nil
}

// callLoop runs callers goroutines, spread over ms, that time Token calls
// until stop is closed. A call begun while the IdP was busy goes to during, any other
// to outside.
func callLoop(ctx context.Context, ms []*core.Manager, idp *IdP, callers int, stop <-chan struct{}) (during, outside *Histogram, errs uint64) {
	var stopped atomic.Bool
	go func() {
		<-stop
		stopped.Store(true)
	}()
	during, outside = new(Histogram), new(Histogram)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var nerr atomic.Uint64
	for i := range callers {
		m := ms[i%len(ms)]
		wg.Go(func() {
			d, o := new(Histogram), new(Histogram)
			for !stopped.Load() {
				busy := idp.Busy()
				start := time.Now()
				_, err := m.Token(ctx, CredentialName)
				el := time.Since(start)
				if err != nil {
					nerr.Add(1)
				}
				if busy {
					d.Record(el)
				} else {
					o.Record(el)
				}
			}
			mu.Lock()
			during.Merge(d)
			outside.Merge(o)
			mu.Unlock()
		})
	}
	wg.Wait()
	return during, outside, nerr.Load()
}
