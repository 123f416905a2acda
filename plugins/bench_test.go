package plugins_test

import (
	"context"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

// BenchmarkPluginToken is one Token call through a plugin process: JSON
// encoding of the credential, a gRPC round trip over mutual TLS, and
// decoding of the token. Compare with BenchmarkInProcessToken, the same
// strategy called directly.
func BenchmarkPluginToken(b *testing.B) {
	s, err := plugins.Open(plugins.BuildTestPlugin(b, 0), plugins.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchToken(b, s)
}

// BenchmarkInProcessToken is BenchmarkPluginToken's strategy in-process.
func BenchmarkInProcessToken(b *testing.B) {
	benchToken(b, teststrategy.New())
}

func benchToken(b *testing.B, s core.Strategy) {
	c := creds(b, teststrategy.Section{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Token(ctx, c, nil); err != nil {
			b.Fatal(err)
		}
	}
}
