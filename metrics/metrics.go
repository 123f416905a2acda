package metrics

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ScopeName is the instrumentation scope of every instrument.
const ScopeName = "github.com/plexusone/omnitoken/metrics"

// Instrument names.
const (
	RequestsName        = "omnitoken.token.requests"
	RefreshesName       = "omnitoken.token.refreshes"
	FailuresName        = "omnitoken.token.failures"
	PersistFailuresName = "omnitoken.token.persist_failures"
	ReauthName          = "omnitoken.token.reauth_required"
	DurationName        = "omnitoken.token.request.duration"
	TimeToExpiryName    = "omnitoken.token.time_to_expiry"
)

// Attribute keys.
const (
	TypeKey      = attribute.Key("omnitoken.credential.type")
	NameKey      = attribute.Key("omnitoken.credential.name")
	OutcomeKey   = attribute.Key("omnitoken.outcome")
	ErrorTypeKey = attribute.Key("error.type")
)

// Values of OutcomeKey.
const (
	OutcomeIssued = "issued"
	OutcomeLoaded = "loaded"
	OutcomeFailed = "failed"
)

// DurationBuckets are the histogram's bucket boundaries in seconds, those
// the semantic conventions advise for HTTP client request durations. New
// reads it; do not modify it.
var DurationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}

// Options configures Metrics.
type Options struct {
	// MeterProvider creates the meter. Default: otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// Clock is what the expiry gauge measures time to expiry against. Use
	// the Manager's clock. Default: core.SystemClock.
	Clock core.Clock
}

// Metrics turns core events into OpenTelemetry measurements. Its methods
// are safe for concurrent use and never block on I/O, except the expiry
// gauge's callback, which runs when a reader collects.
type Metrics struct {
	meter           metric.Meter
	clock           core.Clock
	requests        metric.Int64Counter
	refreshes       metric.Int64Counter
	failures        metric.Int64Counter
	persistFailures metric.Int64Counter
	reauth          metric.Int64Counter
	duration        metric.Float64Histogram

	names     sync.Map // credential name → its type, for the expiry gauge
	observing atomic.Bool
}

// New creates the instruments on a meter of opts.MeterProvider.
func New(opts Options) (*Metrics, error) {
	mp := opts.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	m := &Metrics{meter: mp.Meter(ScopeName), clock: opts.Clock}
	if m.clock == nil {
		m.clock = core.SystemClock{}
	}
	var errs [6]error
	m.requests, errs[0] = m.meter.Int64Counter(RequestsName, metric.WithUnit("{request}"),
		metric.WithDescription("Token requests the Manager could not serve from its cache, by outcome."))
	m.refreshes, errs[1] = m.meter.Int64Counter(RefreshesName, metric.WithUnit("{refresh}"),
		metric.WithDescription("New tokens that replaced an earlier token of the same credential."))
	m.failures, errs[2] = m.meter.Int64Counter(FailuresName, metric.WithUnit("{failure}"),
		metric.WithDescription("Failed strategy calls and failed locks, by error.type."))
	m.persistFailures, errs[3] = m.meter.Int64Counter(PersistFailuresName, metric.WithUnit("{failure}"),
		metric.WithDescription("New tokens the store refused to write; each is kept in memory and written again later."))
	m.duration, errs[4] = m.meter.Float64Histogram(DurationName, metric.WithUnit("s"),
		metric.WithDescription("Duration of one strategy call, such as a request to a token endpoint."),
		metric.WithExplicitBucketBoundaries(DurationBuckets...))
	m.reauth, errs[5] = m.meter.Int64Counter(ReauthName, metric.WithUnit("{event}"),
		metric.WithDescription("Times a credential came to need a person to sign in (omnitoken login)."))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("metrics: creating instruments: %w", err)
	}
	return m, nil
}

// Record measures one event. It is a core.Options.OnEvent function.
func (m *Metrics) Record(ev core.Event) {
	ctx := context.Background()
	typ := ev.Type
	if typ == "" {
		typ = "unknown"
	}
	typeAttr := TypeKey.String(typ)
	switch ev.Kind {
	case core.EventTokenIssued:
		m.track(ev.Name, typ)
		m.requests.Add(ctx, 1, metric.WithAttributes(typeAttr, OutcomeKey.String(OutcomeIssued)))
		if ev.Duration > 0 {
			m.duration.Record(ctx, ev.Duration.Seconds(), metric.WithAttributes(typeAttr, OutcomeKey.String(OutcomeIssued)))
		}
		if ev.Generation > 1 {
			m.refreshes.Add(ctx, 1, metric.WithAttributes(typeAttr))
		}
	case core.EventTokenLoaded:
		m.track(ev.Name, typ)
		m.requests.Add(ctx, 1, metric.WithAttributes(typeAttr, OutcomeKey.String(OutcomeLoaded)))
	case core.EventRefreshFailed:
		m.requests.Add(ctx, 1, metric.WithAttributes(typeAttr, OutcomeKey.String(OutcomeFailed)))
		if ev.Duration > 0 {
			m.duration.Record(ctx, ev.Duration.Seconds(), metric.WithAttributes(typeAttr, OutcomeKey.String(OutcomeFailed)))
		}
		m.failures.Add(ctx, 1, metric.WithAttributes(typeAttr, ErrorTypeKey.String(ErrorType(ev.Err))))
	case core.EventLockFailed:
		m.failures.Add(ctx, 1, metric.WithAttributes(typeAttr, ErrorTypeKey.String("lock")))
	case core.EventPersistFailed:
		m.persistFailures.Add(ctx, 1, metric.WithAttributes(typeAttr))
	case core.EventReauthRequired:
		m.reauth.Add(ctx, 1, metric.WithAttributes(typeAttr))
	}
}

// Chain returns an OnEvent function that records each event and then
// passes it to next, when next is not nil:
//
//	opts.OnEvent = met.Chain(opts.OnEvent)
func (m *Metrics) Chain(next func(core.Event)) func(core.Event) {
	if next == nil {
		return m.Record
	}
	return func(ev core.Event) {
		m.Record(ev)
		next(ev)
	}
}

// ErrorType classifies a failure for the error.type attribute, with few
// enough values to keep the series count low.
func ErrorType(err error) string {
	switch {
	case errors.Is(err, core.ErrReauthRequired):
		return "reauth_required"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case core.IsPermanent(err):
		return "permanent"
	case core.IsTemporary(err):
		return "temporary"
	}
	return "_OTHER"
}

// track remembers a credential the expiry gauge reports on.
func (m *Metrics) track(name, typ string) {
	if name == "" {
		return
	}
	if v, ok := m.names.Load(name); ok && v.(string) == typ {
		return
	}
	m.names.Store(name, typ)
}

// ExpiryReader reports the expiry of the token held for a credential
// without a store read or a refresh. *core.Manager is one.
type ExpiryReader interface {
	Expiry(name string) (expiry time.Time, ok bool)
}

// ObserveExpiry registers the opt-in gauge omnitoken.token.time_to_expiry:
// for each credential this Metrics has seen a token issued or loaded for,
// the seconds until its token expires (negative once it has expired). It
// carries the credential's name, one series per credential, so enable it
// only where the number of credentials is modest.
//
// At each collection the gauge asks tokens, the Manager whose events this
// Metrics records, for the expiry of the token it holds: a read of its
// cache, never of the store, so collecting costs no I/O, never starts a
// refresh and never touches the cached path. A credential the Manager
// holds no token for (deleted, replaced, or the Manager closed) is dropped
// from the gauge until a token is issued again; a token without an expiry
// (Basic, API keys) is not reported.
//
// Call it once per Metrics. Unregister the returned Registration to stop.
func (m *Metrics) ObserveExpiry(tokens ExpiryReader) (metric.Registration, error) {
	if tokens == nil {
		return nil, errors.New("metrics: ObserveExpiry: nil ExpiryReader")
	}
	if !m.observing.CompareAndSwap(false, true) {
		return nil, errors.New("metrics: ObserveExpiry: already observing")
	}
	gauge, err := m.meter.Float64ObservableGauge(TimeToExpiryName, metric.WithUnit("s"),
		metric.WithDescription("Seconds until the credential's current token expires; negative once expired."))
	if err != nil {
		m.observing.Store(false)
		return nil, fmt.Errorf("metrics: creating %s: %w", TimeToExpiryName, err)
	}
	reg, err := m.meter.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		now := m.clock.Now()
		m.names.Range(func(k, v any) bool {
			name := k.(string)
			exp, ok := tokens.Expiry(name)
			switch {
			case !ok:
				m.names.CompareAndDelete(name, v)
			case !exp.IsZero():
				o.ObserveFloat64(gauge, exp.Sub(now).Seconds(),
					metric.WithAttributes(NameKey.String(name), TypeKey.String(v.(string))))
			}
			return true
		})
		return nil
	}, gauge)
	if err != nil {
		m.observing.Store(false)
		return nil, fmt.Errorf("metrics: registering %s: %w", TimeToExpiryName, err)
	}
	return reg, nil
}
