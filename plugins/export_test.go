package plugins

import (
	"strconv"
	"testing"
)

// TestPluginPkg is the import path of the test plugin binary.
const TestPluginPkg = "github.com/plexusone/omnitoken/plugins/internal/testplugin"

// HelperHostEnv names the variable that turns this test binary into a
// helper host process.
const HelperHostEnv = helperHostEnv

// BuildTestPlugin builds the test plugin once per test binary. version,
// when not 0, makes the plugin announce that protocol version instead of
// ProtocolVersion.
func BuildTestPlugin(tb testing.TB, version int) string {
	tb.Helper()
	if version == 0 {
		return builder.Build(tb, TestPluginPkg)
	}
	return builder.Build(tb, TestPluginPkg, "-X github.com/plexusone/omnitoken/plugins.buildProtocolVersion="+strconv.Itoa(version))
}

// Build builds any main package once per test binary.
func Build(tb testing.TB, pkg string) string {
	tb.Helper()
	return builder.Build(tb, pkg)
}
