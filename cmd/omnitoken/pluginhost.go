//go:build !omnitoken_noplugins

package main

import (
	"log/slog"

	"github.com/plexusone/omnitoken/plugins"
)

// startPlugins starts every plugin in dir (see plugins.LoadDir).
func startPlugins(dir string, allowed []string, log *slog.Logger) ([]pluginStrategy, error) {
	ps, err := plugins.LoadDir(dir, plugins.Options{AllowedSHA256: allowed, Logger: log})
	if err != nil {
		return nil, err
	}
	out := make([]pluginStrategy, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out, nil
}
