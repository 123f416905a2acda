package omnitoken

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// Defaults of Config.
const (
	DefaultCredentialsPrefix = "credentials/"
	DefaultTokensPrefix      = "tokens/"
	DefaultRefreshBuffer     = 60 * time.Second
)

// Config configures the TokenManager.
type Config struct {
	// Vault is the vault backend for storing credentials and tokens.
	// Required.
	Vault vault.Vault

	// CredentialsPrefix is the path prefix for storing credentials in the vault.
	// Default: "credentials/"
	CredentialsPrefix string

	// TokensPrefix is the path prefix for storing tokens in the vault.
	// Default: "tokens/"
	TokensPrefix string

	// RefreshBuffer is the time before expiry to trigger token refresh.
	// Default: 60 seconds
	RefreshBuffer time.Duration

	// AutoRefresh enables automatic token refresh when tokens are near expiry.
	// When false, tokens are still refreshed on demand; only the background
	// refresh ahead of expiry is off.
	// Default (DefaultConfig): true
	AutoRefresh bool

	// Logger is the logger for the token manager. It never receives a
	// secret.
	// Default: slog.Default()
	Logger *slog.Logger

	// HTTPClient, when set, carries token-endpoint requests of the
	// built-in strategies (its Transport and timeout are used; redirects
	// are never followed). Default: a client requiring TLS 1.2.
	HTTPClient *http.Client

	// AllowInsecureHTTP lets the built-in strategies use plain http
	// endpoints (token, authorization and device endpoints) on any host.
	// Without it, plain http is used only to a loopback host (localhost,
	// 127.0.0.0/8, ::1), such as a local Keycloak, Hydra or Dex or a test
	// server, and a plain http endpoint on any other host is refused with
	// an error matching ErrInvalidCredentials before any request is made.
	//
	// Risk: with it set, client secrets, passwords, assertions, refresh
	// tokens and the tokens issued cross the network unencrypted, where
	// anyone on the path can read, replay or alter them. Set it only for a
	// network you fully control, never for a production identity provider.
	AllowInsecureHTTP bool

	// PluginDir, when set, names a directory of strategy plugins to start;
	// each is registered under the credential type it reports.
	// Extensions.PluginOptions configures them. NewAuto reads PluginDir
	// from OMNITOKEN_PLUGIN_DIR and PluginOptions.AllowedSHA256 from
	// OMNITOKEN_PLUGIN_SHA256, without which it refuses the directory.
	PluginDir string

	// Clock is the source of time for expiry and backoff decisions.
	// Default: the system clock. Tests pass a coretest.FakeClock.
	Clock core.Clock

	// RedisURL, when set (redis:// or rediss://, with user and password
	// as needed), coordinates replicas sharing the vault on Redis: one
	// refresh per expiry across all of them, under a fenced lease, with
	// tokens in a shared record encrypted with Extensions.RedisKey (or,
	// without it, EncryptionKeys) and also written to the vault (see
	// package redisstore). NewAuto reads it from OMNITOKEN_REDIS_URL.
	RedisURL string

	// EncryptionKeys, when set, encrypts every credential and token at
	// rest with AES-256-GCM, whatever the vault (see storage.EncryptVault):
	// the first key seals each write, any key opens a read. Parse them
	// with storage.ParseKeys or storage.KeysFromEnv; NewAuto reads
	// OMNITOKEN_KEY or OMNITOKEN_KEY_FILE. A value that no key opens is an
	// error naming the credential, never plaintext.
	EncryptionKeys *storage.Keys

	// AllowPlaintext, with EncryptionKeys, lets reads return values that
	// were stored before encryption was turned on, while TokenManager.Rekey
	// encrypts them in place. Writes are always encrypted.
	AllowPlaintext bool

	// Extensions holds the settings that are functions or lists: your
	// own strategies, the plugins' options and the event hook. They sit
	// behind a pointer so that Config stays comparable with ==, as it was
	// in v0.1.0. Nil means none.
	Extensions *Extensions
}

// Extensions are the settings of a Config that Go cannot compare.
type Extensions struct {
	// Strategies are added to the built-in ones, for credential types of
	// your own. A type registered twice is an error.
	Strategies []core.Strategy

	// PluginOptions configures the plugins started from Config.PluginDir.
	// Set PluginOptions.AllowedSHA256 to the checksums of the binaries
	// you trust: a binary that matches none is refused before it is
	// executed. Its Logger defaults to Config.Logger.
	PluginOptions plugins.Options

	// OnEvent, when set, receives token lifecycle events (issued,
	// refresh failed, persist failed, …). It must not block.
	OnEvent func(core.Event)

	// RedisKey is the 32-byte key that encrypts tokens in Redis, the same
	// on every replica; with Config.RedisURL, it or Config.EncryptionKeys
	// is required, and it wins over them. NewAuto reads it,
	// hex or base64, from OMNITOKEN_REDIS_KEY.
	RedisKey []byte
}

// ext returns c.Extensions, or the zero Extensions.
func (c *Config) ext() *Extensions {
	if c.Extensions == nil {
		return &Extensions{}
	}
	return c.Extensions
}

// DefaultConfig returns a Config with default values. Vault must still be
// set before use.
func DefaultConfig() Config {
	return Config{
		CredentialsPrefix: DefaultCredentialsPrefix,
		TokensPrefix:      DefaultTokensPrefix,
		RefreshBuffer:     DefaultRefreshBuffer,
		AutoRefresh:       true,
		Logger:            slog.Default(),
	}
}

// Validate reports whether the Config can be used. It returns the
// ErrVaultNotConfigured sentinel itself when Vault is nil.
func (c *Config) Validate() error {
	if c.Vault == nil {
		return ErrVaultNotConfigured
	}
	if c.RefreshBuffer < 0 {
		return fmt.Errorf("omnitoken: %w: RefreshBuffer is negative", ErrInvalidCredentials)
	}
	if k := c.ext().RedisKey; c.RedisURL != "" && len(k) != 32 && (k != nil || c.EncryptionKeys == nil) {
		return fmt.Errorf("omnitoken: %w: with RedisURL, set Extensions.RedisKey (32 bytes, not %d) or EncryptionKeys", ErrInvalidCredentials, len(k))
	}
	if c.CredentialsPrefix != "" && c.CredentialsPrefix == c.TokensPrefix {
		return fmt.Errorf("omnitoken: CredentialsPrefix and TokensPrefix are both %q", c.CredentialsPrefix)
	}
	return nil
}

// withDefaults fills zero values with the documented defaults. AutoRefresh
// is kept as given: false turns background refresh off.
func (c Config) withDefaults() Config {
	if c.CredentialsPrefix == "" {
		c.CredentialsPrefix = DefaultCredentialsPrefix
	}
	if c.TokensPrefix == "" {
		c.TokensPrefix = DefaultTokensPrefix
	}
	if c.RefreshBuffer == 0 {
		c.RefreshBuffer = DefaultRefreshBuffer
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// CredentialsDir returns the default credentials directory for the current user.
// On Unix: ~/.config/omnitoken/credentials
// On macOS: ~/Library/Application Support/omnitoken/credentials
// On Windows: %APPDATA%/omnitoken/credentials
func CredentialsDir() (string, error) {
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("omnitoken: credentials directory: %w", err)
	}
	return filepath.Join(dir, "omnitoken", "credentials"), nil
}
