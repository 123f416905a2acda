package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/apikey"
	"github.com/plexusone/omnitoken/strategy/basic"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
	"github.com/plexusone/omnitoken/strategy/jwt"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
	"github.com/spf13/cobra"
)

// app is one invocation: its streams, its global flags, and what it opened.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer

	vaultFlag  string
	pluginDir  string
	pluginSums []string
	verbose    bool
	plain      bool // open the vault as it is, without OMNITOKEN_KEY (rekey)

	plugins    []pluginStrategy // loaded once, when needed
	strategies []core.Strategy  // those of the Manager made last

	v       vault.Vault
	vaultID string // how the vault is named to the user
	store   *storage.Store
	locker  core.Locker
	closers []func() error
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "omnitoken",
		Short: "Keep service credentials in a vault and hand out valid tokens",
		Long: `omnitoken keeps service credentials in a vault and hands out valid tokens.

Exit codes: 0 ok, 1 failure, 2 usage, 3 needs login (run the printed
"omnitoken login" command). exec passes its command's exit code through.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	pf := root.PersistentFlags()
	pf.StringVar(&a.vaultFlag, "vault", "", "vault URI or directory (default $"+envVaultURI+", then the omnitoken credentials directory)")
	pf.StringVar(&a.pluginDir, "plugin-dir", os.Getenv(envPluginDir), "directory of strategy plugins (default $"+envPluginDir+")")
	pf.StringSliceVar(&a.pluginSums, "plugin-sha256", splitList(os.Getenv(envPluginSums)), "SHA-256 of a plugin binary allowed to run (repeatable; default $"+envPluginSums+")")
	pf.BoolVarP(&a.verbose, "verbose", "v", false, "log the engine's debug lines to stderr (never a secret)")
	root.AddCommand(
		a.setCmd(), a.listCmd(), a.showCmd(), a.tokenCmd(), a.headerCmd(), a.execCmd(),
		a.loginCmd(), a.checkCmd(), a.deleteCmd(), a.migrateCmd(), a.rekeyCmd(), a.pluginsCmd(),
	)
	return root
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// close releases what the invocation opened, last opened first. Its
// error matters: a Manager that could not write a new token (and so a
// rotated refresh token) to the vault says so when it is closed.
func (a *app) close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}

// credentialsDir is the omnitoken package's CredentialsDir, the default
// vault. It is written out here rather than imported so that the CLI does
// not link the root package (goauth, Google APIs, OpenTelemetry), whose
// package initialisation would be paid by every "omnitoken token" call;
// TestDefaultVault checks that the two agree.
func credentialsDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("credentials directory: %w", err)
	}
	return filepath.Join(dir, "omnitoken", "credentials"), nil
}

// vaultURI is --vault, else $OMNITOKEN_VAULT_URI, else the credentials
// directory.
func (a *app) vaultURI() (string, error) {
	if a.vaultFlag != "" {
		return a.vaultFlag, nil
	}
	if u := os.Getenv(envVaultURI); u != "" {
		return u, nil
	}
	return credentialsDir()
}

// encrypt wraps the vault so that every value is sealed with the keys of
// OMNITOKEN_KEY or OMNITOKEN_KEY_FILE, as omnitoken.NewAuto does, when one
// of them is set. The vault it wraps is closed with it.
func (a *app) encrypt() error {
	keys, err := storage.KeysFromEnv()
	if errors.Is(err, storage.ErrNoKey) {
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := storage.EncryptVault(a.v, keys, storage.EncryptOptions{})
	if err != nil {
		return err
	}
	a.v, a.vaultID = ev, a.vaultID+" (encrypted)"
	return nil
}

// vaultDir returns the directory of a directory vault, or a usage error
// naming the URI.
func (a *app) vaultDir(what string) (string, error) {
	uri, err := a.vaultURI()
	if err != nil {
		return "", err
	}
	scheme, rest, hasScheme := strings.Cut(uri, "://")
	switch {
	case !hasScheme && uri != "":
		return uri, nil
	case scheme == "file" && rest != "":
		return rest, nil
	}
	return "", usagef("%s works on a directory vault (a path or file:///path), not %q", what, uri)
}

// openStore opens the vault and the Store over it, once.
func (a *app) openStore() (*storage.Store, error) {
	if a.store != nil {
		return a.store, nil
	}
	uri, err := a.vaultURI()
	if err != nil {
		return nil, err
	}
	scheme, rest, hasScheme := strings.Cut(uri, "://")
	switch {
	case !hasScheme || scheme == "file":
		dir := uri
		if hasScheme {
			dir = rest
		}
		if dir == "" {
			return nil, usagef("vault %q names no directory (want file:///path/to/dir or a path)", uri)
		}
		// A directory written by omnitoken v0.1.0 is read and written
		// in its own layout, as omnitoken.NewFromDirectory does, until
		// omnitoken migrate moves it.
		dv, err := storage.OpenDirectory(dir)
		if err != nil {
			return nil, err
		}
		a.v, a.locker, a.vaultID = dv, dv.Locker(), dv.Dir()
	case scheme == "memory":
		return nil, usagef("vault %q keeps nothing after the command exits; use a directory or file:///path", uri)
	case scheme == "env":
		// The root package's env:// reads {PREFIX}{NAME}_CREDENTIALS
		// variables, read-only; there is nothing for the CLI to manage.
		return nil, usagef("vault %q: credentials in environment variables are read by programs (omnitoken.NewFromEnv), not managed by the CLI; use a directory or file:///path", uri)
	default:
		registered, others := false, []string{"a directory", "file:///path"}
		for _, s := range omnivault.RegisteredSchemes() {
			registered = registered || s == scheme
			if s != "file" && s != "memory" && s != "env" {
				others = append(others, s+"://")
			}
		}
		if !registered {
			return nil, usagef("no vault provider for scheme %q in this binary (use %s)", scheme, strings.Join(others, ", "))
		}
		v, err := omnivault.VaultFromURI(uri)
		if err != nil {
			return nil, fmt.Errorf("open vault %s://: %w", scheme, err)
		}
		a.v, a.vaultID = v, scheme+"://"
	}
	if !a.plain {
		if err := a.encrypt(); err != nil {
			_ = a.v.Close()
			return nil, err
		}
	}
	a.closers = append(a.closers, a.v.Close)
	st, err := storage.New(a.v, storage.Options{Logger: a.logger()})
	if err != nil {
		return nil, err
	}
	a.store = st
	return st, nil
}

func (a *app) logger() *slog.Logger {
	if !a.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// builtinTypes are the credential types served without a plugin.
var builtinTypes = map[string]bool{basic.Type: true, apikey.Type: true, oauth2.Type: true, jwt.Type: true, gcpsa.Type: true}

// managerOptions tunes a Manager.
type managerOptions struct {
	oauth2         oauth2.Options
	refreshTimeout time.Duration
}

// manager returns a Manager over the vault with the built-in strategies,
// and the plugins when c's type is not built in (or c is nil and a plugin
// directory is set).
func (a *app) manager(c *core.Credentials, mo managerOptions) (*core.Manager, *oauth2.Strategy, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, nil, err
	}
	o2 := oauth2.New(mo.oauth2)
	strategies := []core.Strategy{basic.New(), apikey.New(), o2, jwt.New(jwt.Options{}), gcpsa.New(gcpsa.Options{})}
	if a.pluginDir != "" && (c == nil || !builtinTypes[c.Type]) {
		ps, err := a.loadPlugins()
		if err != nil {
			_ = o2.Close()
			return nil, nil, err
		}
		for _, p := range ps {
			strategies = append(strategies, p)
		}
	}
	a.strategies = strategies
	m, err := core.New(core.Options{
		Store:          st,
		Strategies:     strategies,
		Locker:         a.locker,
		Logger:         a.logger(),
		RefreshTimeout: mo.refreshTimeout,
	})
	if err != nil {
		return nil, nil, err
	}
	a.closers = append(a.closers, m.Close)
	return m, o2, nil
}

// strategy returns the strategy serving typ in the Manager made last, or
// nil.
func (a *app) strategy(typ string) core.Strategy {
	for _, s := range a.strategies {
		if s.Type() == typ {
			return s
		}
	}
	return nil
}

// loadPlugins starts the plugins of the plugin directory, once per
// invocation; they are stopped when it ends.
func (a *app) loadPlugins() ([]pluginStrategy, error) {
	if a.plugins != nil {
		return a.plugins, nil
	}
	ps, err := startPlugins(a.pluginDir, a.pluginSums, a.logger())
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		a.closers = append(a.closers, p.Close)
	}
	a.plugins = ps
	return ps, nil
}

// pluginStrategy is a started plugin (a *plugins.Strategy).
type pluginStrategy interface {
	core.Strategy
	Path() string
	CanValidate() bool
	CanRevoke() bool
	Close() error
}

// credentials reads the credential stored under name.
func (a *app) credentials(ctx context.Context, name string) (*core.Credentials, error) {
	st, err := a.openStore()
	if err != nil {
		return nil, err
	}
	c, err := st.GetCredentials(ctx, name)
	if err != nil {
		if errors.Is(err, core.ErrCredentialsNotFound) {
			return nil, fmt.Errorf("no credential %q in %s (see omnitoken list): %w", name, a.vaultID, err)
		}
		return nil, err
	}
	return c, nil
}

// managerFor reads name's credential and returns a Manager fit for it.
func (a *app) managerFor(ctx context.Context, name string, mo managerOptions) (*core.Manager, *oauth2.Strategy, *core.Credentials, error) {
	c, err := a.credentials(ctx, name)
	if err != nil {
		return nil, nil, nil, err
	}
	m, o2, err := a.manager(c, mo)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, o2, c, nil
}

// grantOf returns the normalized grant type of an oauth2 credential, or "".
func grantOf(c *core.Credentials) string {
	if c == nil || c.Type != oauth2.Type {
		return ""
	}
	var sec oauth2.Section
	if err := c.DecodeNamedSection(oauth2.Type, &sec); err != nil {
		return ""
	}
	return oauth2.NormalizeGrantType(sec.GrantType)
}

// needsPerson reports whether c's first token needs a person to log in.
func needsPerson(c *core.Credentials) bool {
	g := grantOf(c)
	return g == oauth2.GrantAuthorizationCode || g == oauth2.GrantDeviceCode
}

// loginCommand is what a person runs to log in name.
func loginCommand(name string, device bool) string {
	s := "omnitoken login " + shellQuote(name)
	if device {
		s += " --device"
	}
	return s
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./@%+=:,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// loginHint says what to do about an error that needs a person, or "".
// A device code a strategy may have started is not shown: nobody polls it
// once this process exits; the login command starts one and waits.
func loginHint(err error) string {
	var le *needsLoginError
	if errors.As(err, &le) {
		return "To log in, run: " + le.command
	}
	return ""
}

// needsLoginError wraps an error that needs a person with the login
// command for the credential.
type needsLoginError struct {
	command string
	err     error
}

func (e *needsLoginError) Error() string { return e.err.Error() }
func (e *needsLoginError) Unwrap() error { return e.err }

// explain adds the login command to an error that needs a person: the
// command the engine put in its *core.ReauthRequiredError, or, for an
// error the engine did not make, the CLI's own.
func explain(err error, name string, c *core.Credentials) error {
	if err == nil || !errors.Is(err, core.ErrReauthRequired) {
		return err
	}
	cmd := loginCommand(name, grantOf(c) == oauth2.GrantDeviceCode)
	var re *core.ReauthRequiredError
	if errors.As(err, &re) && re.Command != "" {
		cmd = re.Command
	}
	return &needsLoginError{command: cmd, err: err}
}
