package loadtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// nopTransport answers every request at once, so the benchmarks below
// time the authorization work alone.
type nopTransport struct{}

var nopResponse = &http.Response{StatusCode: http.StatusOK, Body: http.NoBody}

func (nopTransport) RoundTrip(*http.Request) (*http.Response, error) { return nopResponse, nil }

// BenchmarkTransportNop is core.Transport over a transport that does
// nothing: the cost a request pays for its token (B).
func BenchmarkTransportNop(b *testing.B) {
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{&coretest.CountingStrategy{TTL: time.Hour}}})
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Token(ctx, "svc"); err != nil {
		b.Fatal(err)
	}
	tr := m.Transport("svc", nopTransport{})
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
		if _, err := tr.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTransportNopBare is the baseline of BenchmarkTransportNop: the
// caller sets the header itself.
func BenchmarkTransportNopBare(b *testing.B) {
	var tr nopTransport
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
		req.Header.Set("Authorization", "Bearer access-1")
		if _, err := tr.RoundTrip(req); err != nil {
			b.Fatal(err)
		}
	}
}
