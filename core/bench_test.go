package core_test

import (
	"context"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"golang.org/x/oauth2"
)

func benchManager(b *testing.B) *core.Manager {
	b.Helper()
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{&coretest.CountingStrategy{TTL: time.Hour}}})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		b.Fatal(err)
	}
	if _, err := m.Token(ctx, "svc"); err != nil {
		b.Fatal(err)
	}
	return m
}

// BenchmarkCachedToken is the cached path: one map load and two atomic
// loads, with no clock read.
func BenchmarkCachedToken(b *testing.B) {
	m := benchManager(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Token(ctx, "svc"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkReuseTokenSource is the baseline: x/oauth2's cached source.
func BenchmarkReuseTokenSource(b *testing.B) {
	ts := oauth2.ReuseTokenSource(nil, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a", Expiry: time.Now().Add(time.Hour)}))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := ts.Token(); err != nil {
				b.Fatal(err)
			}
		}
	})
}
