package plugins_test

import (
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
	"github.com/plexusone/omnitoken/strategytest"
)

// TestConformance runs the strategy conformance suite against the test
// strategy served by a real plugin process, started afresh for each
// subtest.
func TestConformance(t *testing.T) {
	const canary = "conformance-canary-apikey-31f6"
	bin := plugins.BuildTestPlugin(t, 0)
	withSecret := func(t *testing.T, sec teststrategy.Section) *core.Credentials {
		c := creds(t, sec)
		if err := c.SetSection("vendorx", map[string]string{"apiKey": canary}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	strategytest.RunConformance(t, strategytest.Harness{
		NewStrategy: func(t *testing.T) core.Strategy {
			s, err := plugins.Open(bin, plugins.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		Credentials: func(t *testing.T) *core.Credentials { return withSecret(t, teststrategy.Section{}) },
		Invalid: func(t *testing.T) []*core.Credentials {
			return []*core.Credentials{withSecret(t, teststrategy.Section{TTL: "soon"})}
		},
		Secrets:     func(*testing.T) []string { return []string{canary} },
		Expiring:    true,
		Refreshable: true,
		// The adapter fails a call whose context is done, whatever the
		// strategy in the plugin does.
		HonoursContext: true,
	})
}
