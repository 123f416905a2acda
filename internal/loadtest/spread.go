package loadtest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// SliceWidth is the width of the slices Spread counts refreshes in.
const SliceWidth = 100 * time.Millisecond

// SpreadResult is the outcome of Spread.
type SpreadResult struct {
	// Credentials is the number of credentials, all expiring together.
	Credentials int
	// TTL is their tokens' lifetime.
	TTL time.Duration
	// Window is the refresh window: the refresh buffer (the latency term
	// is negligible with an in-process strategy), at most TTL/2.
	Window time.Duration
	// Refreshes is the refreshes observed; one per credential.
	Refreshes int
	// Earliest and Latest are the first and last refresh, as time before
	// the common expiry.
	Earliest, Latest time.Duration
	// Span is Earliest - Latest: how much of the time line the refreshes
	// cover.
	Span time.Duration
	// MaxSlice is the most refreshes in one SliceWidth slice, and
	// MaxSliceShare that as a share of Refreshes.
	MaxSlice      int
	MaxSliceShare float64
	// Slices is the number of slices from the first refresh to the last.
	Slices int
}

// spreadStrategy issues tokens that expire at a fixed time at first, then
// TTL after the fake clock's now, and records when each refresh was asked.
type spreadStrategy struct {
	clk   core.Clock
	first time.Time
	ttl   time.Duration

	mu sync.Mutex
	at []time.Time
}

func (s *spreadStrategy) Type() string { return "spread" }

func (s *spreadStrategy) Token(_ context.Context, _ *core.Credentials, prev *core.Token) (*core.Token, error) {
	now := s.clk.Now()
	exp := s.first
	if prev != nil {
		s.mu.Lock()
		s.at = append(s.at, now)
		s.mu.Unlock()
		exp = now.Add(s.ttl)
	}
	return &core.Token{AccessToken: "spread-token", RefreshToken: "spread-refresh", Expiry: exp}, nil
}

var _ core.Strategy = (*spreadStrategy)(nil)

// Spread runs F: n credentials get tokens that all
// expire at the same instant, ttl from now; then a fake clock steps
// through the refresh window in SliceWidth steps, calling Token on every
// credential at each step, and records at which step each one is
// refreshed. The Manager uses refresh buffer buffer (0: the default) and
// refreshes synchronously, so each refresh happens in the step whose
// clock crossed its refresh point; the refresh point itself is the same
// with BackgroundRefresh.
func Spread(ctx context.Context, n int, ttl, buffer time.Duration) (*SpreadResult, error) {
	if buffer == 0 {
		buffer = core.DefaultRefreshBuffer
	}
	clk := coretest.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	exp := clk.Now().Add(ttl)
	strat := &spreadStrategy{clk: clk, first: exp, ttl: ttl}
	m, err := core.New(core.Options{
		Store:         core.NewMemoryStore(),
		Strategies:    []core.Strategy{strat},
		Clock:         clk,
		RefreshBuffer: buffer,
	})
	if err != nil {
		return nil, err
	}
	defer m.Close()
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cred-%04d", i)
		if err := m.SetCredentials(ctx, names[i], coretest.Credentials("spread")); err != nil {
			return nil, err
		}
		if _, err := m.Token(ctx, names[i]); err != nil {
			return nil, err
		}
	}

	window := min(buffer, ttl/2)
	start := exp.Add(-2*window - time.Second)
	if start.Before(clk.Now()) {
		start = clk.Now()
	}
	refreshed := make([]bool, n)
	left := n
	for t := start; t.Before(exp) && left > 0; t = t.Add(SliceWidth) {
		clk.Set(t)
		for i, name := range names {
			if refreshed[i] {
				continue
			}
			tok, err := m.Token(ctx, name)
			if err != nil {
				return nil, err
			}
			if tok.Expiry.After(exp) {
				refreshed[i] = true
				left--
			}
		}
	}

	strat.mu.Lock()
	at := append([]time.Time(nil), strat.at...)
	strat.mu.Unlock()
	res := &SpreadResult{Credentials: n, TTL: ttl, Window: window, Refreshes: len(at)}
	if len(at) == 0 {
		return res, nil
	}
	first, last := at[0], at[0]
	counts := map[int64]int{}
	for _, a := range at {
		first, last = minTime(first, a), maxTime(last, a)
		counts[int64(a.Sub(start)/SliceWidth)]++
	}
	for _, c := range counts {
		res.MaxSlice = max(res.MaxSlice, c)
	}
	res.Earliest, res.Latest = exp.Sub(first), exp.Sub(last)
	res.Span = last.Sub(first)
	res.Slices = int(res.Span/SliceWidth) + 1
	res.MaxSliceShare = float64(res.MaxSlice) / float64(len(at))
	return res, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
