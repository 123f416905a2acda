package omnitoken

import (
	"fmt"
	"slices"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/strategy/apikey"
	"github.com/plexusone/omnitoken/strategy/basic"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
	"github.com/plexusone/omnitoken/strategy/jwt"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// builtins returns every built-in strategy, configured from cfg.
func builtins(cfg Config) []core.Strategy {
	return []core.Strategy{
		basic.New(),
		apikey.New(),
		oauth2.New(oauth2.Options{HTTPClient: cfg.HTTPClient, Clock: cfg.Clock, AllowInsecureHTTP: cfg.AllowInsecureHTTP}),
		jwt.New(jwt.Options{Clock: cfg.Clock}),
		gcpsa.New(gcpsa.Options{HTTPClient: cfg.HTTPClient, Clock: cfg.Clock, AllowInsecureHTTP: cfg.AllowInsecureHTTP}),
	}
}

// buildRegistry wires the strategies of one TokenManager: the built-ins,
// cfg.Extensions.Strategies and plugins from cfg.PluginDir. It returns
// the closers of what it started.
func buildRegistry(cfg Config) (*core.Registry, []func() error, error) {
	reg := core.NewRegistry()
	var closers []func() error
	add := func(s core.Strategy, origin string) error {
		if slices.Contains(reg.Types(), s.Type()) {
			return fmt.Errorf("omnitoken: credential type %q from %s is already served", s.Type(), origin)
		}
		reg.Register(s)
		if c, ok := s.(driver.Closer); ok {
			closers = append(closers, c.Close)
		}
		return nil
	}
	fail := func(err error) (*core.Registry, []func() error, error) {
		for _, c := range closers {
			_ = c()
		}
		return nil, nil, err
	}
	for _, s := range builtins(cfg) {
		if err := add(s, "the built-ins"); err != nil {
			return fail(err)
		}
	}
	for _, s := range cfg.ext().Strategies {
		if s == nil {
			return fail(fmt.Errorf("omnitoken: Config.Extensions.Strategies holds a nil strategy"))
		}
		if err := add(s, "Config.Extensions.Strategies"); err != nil {
			return fail(err)
		}
	}
	plugins, err := loadPlugins(cfg)
	if err != nil {
		return fail(err)
	}
	for i, s := range plugins {
		if err := add(s, "plugin directory"); err != nil {
			for _, rest := range plugins[i:] { // not yet owned by closers
				if c, ok := rest.(driver.Closer); ok {
					_ = c.Close()
				}
			}
			return fail(err)
		}
	}
	return reg, closers, nil
}

// loadPlugins starts the plugins in cfg.PluginDir.
func loadPlugins(cfg Config) ([]core.Strategy, error) {
	if cfg.PluginDir == "" {
		return nil, nil
	}
	opts := cfg.ext().PluginOptions
	if opts.Logger == nil {
		opts.Logger = cfg.Logger
	}
	ps, err := plugins.LoadDir(cfg.PluginDir, opts)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	out := make([]core.Strategy, len(ps))
	for i, p := range ps {
		out[i] = p
	}
	return out, nil
}
