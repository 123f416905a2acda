//go:build omnitoken_noplugins

package main

import (
	"errors"
	"log/slog"
)

// This build, made with -tags omnitoken_noplugins, does not link the
// plugin host (go-plugin, gRPC, protobuf), whose start-up every command
// would pay.
var errNoPluginSupport = errors.New("this omnitoken was built without plugin support (-tags omnitoken_noplugins); build it without that tag to use plugins")

func startPlugins(string, []string, *slog.Logger) ([]pluginStrategy, error) {
	return nil, errNoPluginSupport
}
