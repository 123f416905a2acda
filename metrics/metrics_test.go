package metrics_test

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/metrics"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// reader collects what a ManualReader holds, by instrument name.
type reader struct {
	t *testing.T
	r *sdkmetric.ManualReader
}

func newReader(t *testing.T) (*reader, *sdkmetric.MeterProvider) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return &reader{t: t, r: r}, mp
}

func (r *reader) collect() map[string]metricdata.Metrics {
	r.t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.r.Collect(context.Background(), &rm); err != nil {
		r.t.Fatalf("collect: %v", err)
	}
	out := map[string]metricdata.Metrics{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != metrics.ScopeName {
			r.t.Fatalf("scope %q, want %q", sm.Scope.Name, metrics.ScopeName)
		}
		for _, m := range sm.Metrics {
			out[m.Name] = m
		}
	}
	return out
}

// count is the value of a monotonic int64 counter's point with exactly
// attrs, or 0 when there is none.
func count(t *testing.T, ms map[string]metricdata.Metrics, name, unit string, attrs ...attribute.KeyValue) int64 {
	t.Helper()
	m, ok := ms[name]
	if !ok {
		return 0
	}
	if m.Unit != unit {
		t.Errorf("%s: unit %q, want %q", name, m.Unit, unit)
	}
	sum, ok := m.Data.(metricdata.Sum[int64])
	if !ok || !sum.IsMonotonic {
		t.Fatalf("%s: %T is not a monotonic int64 sum", name, m.Data)
	}
	want := attribute.NewSet(attrs...)
	for _, dp := range sum.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value
		}
	}
	return 0
}

// points is the number of data points of a counter.
func points(ms map[string]metricdata.Metrics, name string) int {
	if s, ok := ms[name].Data.(metricdata.Sum[int64]); ok {
		return len(s.DataPoints)
	}
	return 0
}

func gauge(t *testing.T, ms map[string]metricdata.Metrics) map[string]float64 {
	t.Helper()
	m, ok := ms[metrics.TimeToExpiryName]
	if !ok {
		return nil
	}
	if m.Unit != "s" {
		t.Errorf("gauge unit %q", m.Unit)
	}
	g, ok := m.Data.(metricdata.Gauge[float64])
	if !ok {
		t.Fatalf("%T is not a float64 gauge", m.Data)
	}
	out := map[string]float64{}
	for _, dp := range g.DataPoints {
		name, _ := dp.Attributes.Value(metrics.NameKey)
		typ, _ := dp.Attributes.Value(metrics.TypeKey)
		if dp.Attributes.Len() != 2 || typ.AsString() == "" {
			t.Errorf("gauge point attributes %v", dp.Attributes.ToSlice())
		}
		out[name.AsString()] = dp.Value
	}
	return out
}

// failingStore refuses token writes while failWrites is set.
type failingStore struct {
	core.Store
	failWrites atomic.Bool
}

func (s *failingStore) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	if s.failWrites.Load() {
		return errors.New("disk full")
	}
	return s.Store.SetToken(ctx, name, t)
}

// failingLocker refuses leases while fail is set.
type failingLocker struct{ fail atomic.Bool }

func (l *failingLocker) Lock(context.Context, string) (func(), error) {
	if l.fail.Load() {
		return nil, errors.New("lock server unreachable")
	}
	return func() {}, nil
}

// The event stream of a real Manager, read back through a ManualReader.
func TestManagerEvents(t *testing.T) {
	ctx := context.Background()
	rd, mp := newReader(t)
	clock := coretest.NewFakeClock(t0)
	met, err := metrics.New(metrics.Options{MeterProvider: mp, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	persisted := make(chan struct{}, 1) // from the hook Chain wraps
	store := &failingStore{Store: core.NewMemoryStore()}
	strat := &coretest.CountingStrategy{TTL: time.Hour, Clock: clock}
	locker := &failingLocker{}
	opts := core.Options{Store: store, Strategies: []core.Strategy{strat}, Clock: clock, MaxAttempts: 1, Locker: locker,
		OnEvent: func(ev core.Event) {
			if ev.Kind == core.EventPersisted {
				persisted <- struct{}{}
			}
		}}
	opts.OnEvent = met.Chain(opts.OnEvent)
	m, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, name := range []string{"svc", "other", "shared"} {
		if err := m.SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
			t.Fatal(err)
		}
	}
	typ := metrics.TypeKey.String("counting")
	issued := metrics.OutcomeKey.String(metrics.OutcomeIssued)
	token := func(name string) error {
		t.Helper()
		_, err := m.Token(ctx, name)
		return err
	}

	// First token, then a refresh: one request each, one refresh.
	if err := token("svc"); err != nil {
		t.Fatal(err)
	}
	ms := rd.collect()
	if got := count(t, ms, metrics.RequestsName, "{request}", typ, issued); got != 1 {
		t.Fatalf("requests{issued} = %d after the first token, want 1", got)
	}
	if got := count(t, ms, metrics.RefreshesName, "{refresh}", typ); got != 0 {
		t.Fatalf("refreshes = %d after the first token, want 0", got)
	}
	clock.Advance(2 * time.Hour)
	if err := token("svc"); err != nil {
		t.Fatal(err)
	}
	ms = rd.collect()
	if got := count(t, ms, metrics.RequestsName, "{request}", typ, issued); got != 2 {
		t.Fatalf("requests{issued} = %d, want 2", got)
	}
	if got := count(t, ms, metrics.RefreshesName, "{refresh}", typ); got != 1 {
		t.Fatalf("refreshes = %d, want 1", got)
	}

	// A refused write: the token is still issued, and the failure counted.
	store.failWrites.Store(true)
	clock.Advance(2 * time.Hour)
	if err := token("svc"); err != nil {
		t.Fatal(err)
	}
	store.failWrites.Store(false)
	// Let the Manager's retry write the token, so the store is settled.
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := clock.WaitForSleepers(wctx, 1); err != nil {
		t.Fatal("no persist retry is waiting")
	}
	clock.Advance(time.Minute)
	select {
	case <-persisted: // and Chain passed the event on
	case <-wctx.Done():
		t.Fatal("the retried write did not land")
	}
	ms = rd.collect()
	if got := count(t, ms, metrics.PersistFailuresName, "{failure}", typ); got != 1 {
		t.Fatalf("persist_failures = %d, want 1", got)
	}
	if got := count(t, ms, metrics.RefreshesName, "{refresh}", typ); got != 2 {
		t.Fatalf("refreshes = %d, want 2", got)
	}

	// A lock that cannot be taken.
	locker.fail.Store(true)
	clock.Advance(2 * time.Hour)
	if err := token("svc"); err == nil {
		t.Fatal("no error without the lock")
	}
	locker.fail.Store(false)
	ms = rd.collect()
	if got := count(t, ms, metrics.FailuresName, "{failure}", typ, metrics.ErrorTypeKey.String("lock")); got != 1 {
		t.Fatalf("failures{error.type=lock} = %d, want 1", got)
	}

	// Failures of the strategy, each classified.
	failed := metrics.OutcomeKey.String(metrics.OutcomeFailed)
	for i, c := range []struct {
		name, errType string
		err           error
	}{
		{"svc", "permanent", &core.OAuthError{Code: "invalid_client", StatusCode: 401}},
		{"other", "reauth_required", &core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD"}},
		{"shared", "temporary", &core.OAuthError{StatusCode: 503}},
	} {
		strat.SetErr(c.err)
		clock.Advance(2 * time.Hour)
		if err := token(c.name); err == nil {
			t.Fatalf("%s: no error", c.name)
		}
		ms = rd.collect()
		if got := count(t, ms, metrics.RequestsName, "{request}", typ, failed); got != int64(i+1) {
			t.Fatalf("%s: requests{failed} = %d, want %d", c.errType, got, i+1)
		}
		if got := count(t, ms, metrics.FailuresName, "{failure}", typ, metrics.ErrorTypeKey.String(c.errType)); got != 1 {
			t.Fatalf("failures{error.type=%s} = %d, want 1", c.errType, got)
		}
	}
	strat.SetErr(nil)
	if n := points(ms, metrics.FailuresName); n != 4 {
		t.Fatalf("failures has %d series, want 4", n)
	}
	if got := count(t, ms, metrics.ReauthName, "{event}", typ); got != 1 {
		t.Fatalf("reauth_required = %d, want 1", got)
	}

	// A token another Manager refreshed is loaded, not issued.
	other, err := core.New(core.Options{Store: store, Strategies: []core.Strategy{strat}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.Token(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	issuedBefore := count(t, ms, metrics.RequestsName, "{request}", typ, issued)
	if err := token("shared"); err != nil {
		t.Fatal(err)
	}
	ms = rd.collect()
	if got := count(t, ms, metrics.RequestsName, "{request}", typ, metrics.OutcomeKey.String(metrics.OutcomeLoaded)); got != 1 {
		t.Fatalf("requests{loaded} = %d, want 1", got)
	}
	if got := count(t, ms, metrics.RequestsName, "{request}", typ, issued); got != issuedBefore {
		t.Fatalf("requests{issued} moved from %d to %d on a load", issuedBefore, got)
	}
	if n := points(ms, metrics.RequestsName); n != 3 {
		t.Fatalf("requests has %d series, want 3 (issued, loaded, failed)", n)
	}
	// One duration per strategy call: four issued, three failed (the
	// lock failure called no strategy).
	h := ms[metrics.DurationName].Data.(metricdata.Histogram[float64])
	for _, dp := range h.DataPoints {
		if ty, _ := dp.Attributes.Value(metrics.TypeKey); ty.AsString() != "counting" || dp.Sum <= 0 {
			t.Errorf("duration point %v: sum %v", dp.Attributes.ToSlice(), dp.Sum)
		}
		out, _ := dp.Attributes.Value(metrics.OutcomeKey)
		want := map[string]uint64{"issued": uint64(issuedBefore), "failed": 3}[out.AsString()]
		if dp.Count != want {
			t.Errorf("duration{%s} count %d, want %d", out.AsString(), dp.Count, want)
		}
	}
	if len(h.DataPoints) != 2 {
		t.Fatalf("duration series %d, want 2", len(h.DataPoints))
	}
	if _, ok := ms[metrics.TimeToExpiryName]; ok {
		t.Fatal("the expiry gauge reports before ObserveExpiry")
	}

	// The opt-in gauge: svc's last token expired an hour... ago; shared's
	// was just loaded with an hour to go. other never had a token.
	reg, err := met.ObserveExpiry(m)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := met.ObserveExpiry(m); err == nil {
		t.Fatal("a second ObserveExpiry succeeded")
	}
	svcTok, err := store.GetToken(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"svc": svcTok.Expiry.Sub(clock.Now()).Seconds(), "shared": 3600}
	if got := gauge(t, rd.collect()); !equal(got, want) {
		t.Fatalf("time_to_expiry = %v, want %v", got, want)
	}
	clock.Advance(10 * time.Minute)
	want["svc"] -= 600
	want["shared"] -= 600
	if got := gauge(t, rd.collect()); !equal(got, want) {
		t.Fatalf("time_to_expiry 10 min later = %v, want %v", got, want)
	}
	if want["svc"] >= 0 {
		t.Fatalf("svc's token should have expired: %v", want["svc"])
	}
	// A deleted credential leaves the gauge.
	if err := m.DeleteCredentials(ctx, "shared"); err != nil {
		t.Fatal(err)
	}
	delete(want, "shared")
	if got := gauge(t, rd.collect()); !equal(got, want) {
		t.Fatalf("after delete: time_to_expiry = %v, want %v", got, want)
	}
	if err := reg.Unregister(); err != nil {
		t.Fatal(err)
	}
	if got := gauge(t, rd.collect()); len(got) != 0 {
		t.Fatalf("after Unregister: %v", got)
	}
}

func equal(a, b map[string]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || math.Abs(v-w) > 1e-9 {
			return false
		}
	}
	return true
}

// The duration histogram's buckets, and the type attribute.
func TestDurationAndType(t *testing.T) {
	rd, mp := newReader(t)
	met, err := metrics.New(metrics.Options{MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	met.Record(core.Event{Kind: core.EventTokenIssued, Name: "gh", Type: "oauth2", Generation: 1, Duration: 120 * time.Millisecond})
	met.Record(core.Event{Kind: core.EventTokenIssued, Name: "gh", Type: "oauth2", Generation: 2, Duration: 30 * time.Millisecond})
	met.Record(core.Event{Kind: core.EventRefreshFailed, Name: "gh", Type: "oauth2", Err: context.DeadlineExceeded, Duration: 3 * time.Second})
	met.Record(core.Event{Kind: core.EventTokenIssued, Name: "jira", Type: "basic", Generation: 1}) // a stored login: no strategy call

	ms := rd.collect()
	m := ms[metrics.DurationName]
	if m.Unit != "s" {
		t.Fatalf("duration unit %q", m.Unit)
	}
	h, ok := m.Data.(metricdata.Histogram[float64])
	if !ok {
		t.Fatalf("%T is not a float64 histogram", m.Data)
	}
	type key struct{ typ, outcome string }
	got := map[key]metricdata.HistogramDataPoint[float64]{}
	for _, dp := range h.DataPoints {
		typ, _ := dp.Attributes.Value(metrics.TypeKey)
		out, _ := dp.Attributes.Value(metrics.OutcomeKey)
		got[key{typ.AsString(), out.AsString()}] = dp
	}
	if len(got) != 2 {
		t.Fatalf("duration series %v, want oauth2 issued and failed only", got)
	}
	ok1 := got[key{"oauth2", "issued"}]
	if ok1.Count != 2 || math.Abs(ok1.Sum-0.15) > 1e-9 || !slices.Equal(ok1.Bounds, metrics.DurationBuckets) {
		t.Fatalf("issued: count %d sum %v bounds %v", ok1.Count, ok1.Sum, ok1.Bounds)
	}
	// 0.03 s falls in (0.025, 0.05], 0.12 s in (0.1, 0.25].
	if ok1.BucketCounts[3] != 1 || ok1.BucketCounts[6] != 1 {
		t.Fatalf("issued buckets %v", ok1.BucketCounts)
	}
	if f := got[key{"oauth2", "failed"}]; f.Count != 1 || f.Sum != 3 {
		t.Fatalf("failed: count %d sum %v", f.Count, f.Sum)
	}
	oauth := metrics.TypeKey.String("oauth2")
	if n := count(t, ms, metrics.FailuresName, "{failure}", oauth, metrics.ErrorTypeKey.String("timeout")); n != 1 {
		t.Fatalf("failures{timeout} = %d", n)
	}
	if n := count(t, ms, metrics.RequestsName, "{request}", metrics.TypeKey.String("basic"), metrics.OutcomeKey.String("issued")); n != 1 {
		t.Fatalf("requests{basic, issued} = %d", n)
	}
	if n := count(t, ms, metrics.RefreshesName, "{refresh}", oauth); n != 1 {
		t.Fatalf("refreshes{oauth2} = %d", n)
	}
}

func TestErrorType(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&core.ReauthRequiredError{}, "reauth_required"},
		{context.DeadlineExceeded, "timeout"},
		{context.Canceled, "canceled"},
		{core.ErrInvalidCredentials, "permanent"},
		{&core.OAuthError{StatusCode: 429}, "temporary"},
		{errors.New("boom"), "_OTHER"},
	} {
		if got := metrics.ErrorType(c.err); got != c.want {
			t.Errorf("ErrorType(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	met, err := metrics.New(metrics.Options{}) // the global provider, a no-op here
	if err != nil {
		t.Fatal(err)
	}
	met.Record(core.Event{Kind: core.EventTokenIssued, Name: "x", Generation: 2})
	if _, err := met.ObserveExpiry(nil); err == nil {
		t.Fatal("ObserveExpiry(nil) succeeded")
	}
}
