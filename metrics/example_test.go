package metrics_test

import (
	"context"
	"fmt"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/metrics"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// Wire the metrics into a Manager and read them back. A real program
// gives a MeterProvider with an exporter (OTLP, Prometheus) instead of a
// ManualReader.
func Example() {
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(context.Background())

	met, err := metrics.New(metrics.Options{MeterProvider: provider})
	if err != nil {
		panic(err)
	}
	store := core.NewMemoryStore()
	opts := core.Options{
		Store:      store,
		Strategies: []core.Strategy{&coretest.CountingStrategy{TTL: time.Hour}},
	}
	opts.OnEvent = met.Chain(opts.OnEvent) // keeps any hook already set
	mgr, err := core.New(opts)
	if err != nil {
		panic(err)
	}
	defer mgr.Close()
	reg, err := met.ObserveExpiry(mgr) // opt-in: one series per credential
	if err != nil {
		panic(err)
	}
	defer reg.Unregister()

	ctx := context.Background()
	_ = mgr.SetCredentials(ctx, "api", coretest.Credentials("counting"))
	for range 3 {
		_, _ = mgr.Token(ctx, "api") // one token request; the cache serves the rest
	}

	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			fmt.Println(m.Name, d.DataPoints[0].Value)
		case metricdata.Gauge[float64]:
			fmt.Printf("%s %.0f%s\n", m.Name, d.DataPoints[0].Value, m.Unit)
		}
	}
	// Output:
	// omnitoken.token.requests 1
	// omnitoken.token.time_to_expiry 3600s
}
