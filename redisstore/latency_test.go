package redisstore_test

import (
	"testing"
	"time"

	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
)

// replicaLatency runs loadtest.RefreshAheadLatency with 8 replicas
// (Managers with their own Redis clients) sharing one credential, and
// returns it with the Redis round trips of its refresh phase per refresh.
func replicaLatency(tb testing.TB, cycles int, baseline time.Duration) (*loadtest.LatencyResult, float64) {
	tb.Helper()
	srv := redistest.Start(tb)
	rt := new(redisstore.RoundTrips)
	ctx := tb.Context()
	var atStart int64
	res, err := loadtest.RefreshAheadLatency(ctx, loadtest.LatencyOptions{
		Dir: tb.TempDir(), Replicas: 8, Callers: 8, Cycles: cycles, Baseline: baseline,
		Backend: redistest.Backend(rt), Env: replicaEnv(srv.URL(), newKey(tb), 2*time.Second),
		OnRefreshPhase: func() { atStart = rt.Load() },
	})
	if err != nil {
		tb.Fatal(err)
	}
	return res, float64(rt.Load()-atStart) / float64(res.Refreshes)
}

// Eight replicas calling Token in a loop through refreshes of one
// credential on Redis: one token request per refresh, no failed call.
// The figures are logged; BenchmarkReplicaLatency compares them.
func TestReplicaLatencyRun(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real token expiries")
	}
	res, perRefresh := replicaLatency(t, 5, time.Second)
	t.Logf("cached p99 %s, during refresh p99 %s (%d calls), %d refreshes, %.1f Redis round trips per refresh across 8 replicas",
		res.Cached.P99, res.During.P99, res.During.Calls, res.Refreshes, perRefresh)
	if res.Errors != 0 || res.Requests != res.Refreshes || res.Refreshes < 5 {
		t.Errorf("%d failed calls, %d token requests for %d refreshes; want none failed and one request per refresh", res.Errors, res.Requests, res.Refreshes)
	}
}

// BenchmarkReplicaLatency reports the p99 of Token during a coordinated
// refresh as a ratio of the cached p99 (target ≤ 2), and the Redis round
// trips per refresh, all replicas included.
func BenchmarkReplicaLatency(b *testing.B) {
	for b.Loop() {
		res, perRefresh := replicaLatency(b, 20, 2*time.Second)
		b.ReportMetric(float64(res.During.P99)/float64(res.Cached.P99), "p99-ratio")
		b.ReportMetric(float64(res.Cached.P99), "cached-p99-ns")
		b.ReportMetric(float64(res.During.P99), "during-p99-ns")
		b.ReportMetric(perRefresh, "roundtrips/refresh")
	}
}
