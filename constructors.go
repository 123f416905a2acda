package omnitoken

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

// Environment variables read by NewAuto.
const (
	EnvVaultURI        = "OMNITOKEN_VAULT_URI"
	EnvCredentialsFile = "OMNITOKEN_CREDENTIALS_FILE"
	EnvPluginDir       = "OMNITOKEN_PLUGIN_DIR"
	// EnvPluginSHA256 lists the SHA-256 digests (hex, comma-separated,
	// with or without a "sha256:" prefix) of the plugin binaries that
	// NewAuto may run from EnvPluginDir. It is required with EnvPluginDir.
	EnvPluginSHA256 = "OMNITOKEN_PLUGIN_SHA256"
)

// pluginSource is where a constructor takes plugins from: a directory and
// the checksums of the binaries allowed to run. The zero value loads none.
// It also carries the encryption keys NewAuto reads (see keysFromEnv).
type pluginSource struct {
	dir    string
	sha256 []string
	keys   *storage.Keys
	// redisURL and redisKey: NewAuto's Redis settings (see redis.go).
	redisURL string
	redisKey []byte
}

// pluginsFromEnv reads EnvPluginDir and EnvPluginSHA256. A directory
// without an allowlist is refused: any binary that can be put there would
// otherwise run with this process's rights and see its credentials.
func pluginsFromEnv() (pluginSource, error) {
	dir := os.Getenv(EnvPluginDir)
	if dir == "" {
		return pluginSource{}, nil
	}
	var sums []string
	for _, s := range strings.Split(os.Getenv(EnvPluginSHA256), ",") {
		if s = strings.TrimSpace(s); s != "" {
			sums = append(sums, s)
		}
	}
	if len(sums) == 0 {
		return pluginSource{}, fmt.Errorf("omnitoken: %s is set but %s is empty: %w; list the SHA-256 of each plugin binary to run (hex, comma-separated)",
			EnvPluginDir, EnvPluginSHA256, plugins.ErrChecksumMismatch)
	}
	return pluginSource{dir: dir, sha256: sums}, nil
}

// NewWithVault creates a new TokenManager with the given vault and default
// configuration.
func NewWithVault(v vault.Vault) (*TokenManager, error) {
	cfg := DefaultConfig()
	cfg.Vault = v
	return New(cfg)
}

// newWithVault opens a TokenManager over a vault a constructor opened:
// the TokenManager owns it and closes it.
func newWithVault(v vault.Vault, pl pluginSource) (*TokenManager, error) {
	cfg := DefaultConfig()
	cfg.Vault = v
	cfg.PluginDir = pl.dir
	cfg.EncryptionKeys = pl.keys
	if len(pl.sha256) > 0 {
		cfg.Extensions = &Extensions{PluginOptions: plugins.Options{AllowedSHA256: pl.sha256}}
	}
	pl.applyRedis(&cfg)
	tm, err := New(cfg)
	if err != nil {
		_ = v.Close()
		return nil, err
	}
	tm.ownVault = true
	return tm, nil
}

// NewFromCredentials creates a TokenManager with a single credential. The
// credential is stored in an in-memory vault under the given name. A nil
// creds gives an empty manager.
func NewFromCredentials(name string, creds *goauth.Credentials) (*TokenManager, error) {
	tm, err := newWithVault(memory.New(), pluginSource{})
	if err != nil {
		return nil, err
	}
	if creds != nil {
		if err := tm.SetCredentials(context.Background(), name, creds); err != nil {
			_ = tm.Close()
			return nil, err
		}
	}
	return tm, nil
}

// NewFromCredentialsSet creates a TokenManager from an existing
// goauth.CredentialsSet. The credentials are stored in an in-memory vault.
func NewFromCredentialsSet(set *goauth.CredentialsSet) (*TokenManager, error) {
	return fromCredentialsSet(set, pluginSource{})
}

func fromCredentialsSet(set *goauth.CredentialsSet, pl pluginSource) (*TokenManager, error) {
	tm, err := newWithVault(memory.New(), pl)
	if err != nil {
		return nil, err
	}
	if set != nil {
		if err := tm.creds.SaveCredentialsSet(context.Background(), set); err != nil {
			_ = tm.Close()
			return nil, err
		}
	}
	return tm, nil
}

// NewFromCredentialsFile creates a TokenManager from a goauth
// CredentialsSet JSON file. The credentials are loaded into an in-memory
// vault for the session. This is useful for file-based credential
// workflows without a persistent vault.
//
// A file holding one goauth Credentials object rather than a set
// ({"type": …} at the top instead of {"credentials": {…}}) is loaded as
// that one credential, named after the file without its extension
// ("github-bot.json" gives "github-bot"). A file that is neither is an
// error matching ErrInvalidCredentials that says so. Endpoints are not
// looked up here: an OAuth 2.0 credential of a service goauth does not
// know is loaded, and GetToken reports its missing endpoint.
func NewFromCredentialsFile(credentialsFile string) (*TokenManager, error) {
	return fromCredentialsFile(credentialsFile, pluginSource{})
}

func fromCredentialsFile(credentialsFile string, pl pluginSource) (*TokenManager, error) {
	set, err := readCredentialsFile(credentialsFile)
	if err != nil {
		return nil, err
	}
	return fromCredentialsSet(set, pl)
}

// NewFromDirectory creates a TokenManager using a directory for file-based
// storage. Credentials are stored as JSON files in {directory}/credentials/
// Tokens are stored as JSON files in {directory}/tokens/
//
// This provides persistent storage without requiring a vault service.
// A directory written by omnitoken v0.1.0 is read and written in v0.1.0's
// layout (storage.OpenDirectory, storage.V01FileVault), so v0.1.0
// processes sharing it keep working; storage.MigrateV01 moves it to this
// module's layout, where names are escaped. A new or empty directory gets
// this module's layout.
// Files are written atomically (a crash leaves the old or the new file),
// with mode 0600 in directories of mode 0700, and processes sharing the
// directory refresh each credential once, under a file lock.
func NewFromDirectory(directory string) (*TokenManager, error) {
	return fromDirectory(directory, pluginSource{})
}

func fromDirectory(directory string, pl pluginSource) (*TokenManager, error) {
	v, err := storage.OpenDirectory(directory)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return newWithVault(v, pl)
}

// NewFromEnv creates a TokenManager that reads credentials from environment
// variables. Environment variables should be named with the pattern:
// {prefix}{NAME}_CREDENTIALS containing JSON-encoded goauth.Credentials,
// where NAME is the credential name in upper case with "-" written as "_".
// ListCredentials lists NAME in lower case with "_" written as "-".
// The environment is read-only: tokens are kept in memory.
//
// If prefix is empty, it defaults to "OMNITOKEN_".
func NewFromEnv(prefix string) (*TokenManager, error) { return fromEnv(prefix, pluginSource{}) }

func fromEnv(prefix string, pl pluginSource) (*TokenManager, error) {
	if prefix == "" {
		prefix = DefaultEnvPrefix
	}
	return newWithVault(&envVault{prefix: prefix, credPrefix: DefaultCredentialsPrefix}, pl)
}

// NewFromVaultURI creates a TokenManager from a vault URI. Supported URI
// schemes:
//   - memory:// (or memory) - In-memory (testing)
//   - file:///path/to/dir - File-based storage, as NewFromDirectory
//   - env:// - Environment variables, as NewFromEnv (with optional prefix: env://PREFIX_)
//   - keyring:// (keychain:// on macOS) - the OS keyring, once
//     github.com/plexusone/omnitoken/vaults/keyring is imported
//   - op:// - 1Password, once github.com/plexusone/omnitoken/vaults/onepassword
//     is imported (requires OP_SERVICE_ACCOUNT_TOKEN)
//   - bw:// - Bitwarden Secrets Manager, once
//     github.com/plexusone/omnitoken/vaults/bitwarden is imported (requires
//     BW_ACCESS_TOKEN)
//
// Additional providers can be registered via omnivault.RegisterProvider.
func NewFromVaultURI(uri string) (*TokenManager, error) { return fromVaultURI(uri, pluginSource{}) }

func fromVaultURI(uri string, pl pluginSource) (*TokenManager, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		if uri == "memory" {
			return newWithVault(memory.New(), pl)
		}
		return nil, fmt.Errorf("omnitoken: vault URI %q has no scheme (want e.g. memory://, file:///dir, env://)", uri)
	}
	switch scheme {
	case "memory":
		return newWithVault(memory.New(), pl)
	case "file":
		if rest == "" {
			return nil, fmt.Errorf("omnitoken: vault URI %q names no directory (want file:///path/to/dir)", uri)
		}
		return fromDirectory(rest, pl)
	case "env":
		return fromEnv(rest, pl)
	}
	registered := false
	for _, s := range omnivault.RegisteredSchemes() {
		registered = registered || s == scheme
	}
	if !registered {
		hint := "import the package that registers it with omnivault.RegisterProvider"
		if h, ok := vaultImports[scheme]; ok {
			hint = "import _ " + strconv.Quote(h)
		}
		return nil, fmt.Errorf("omnitoken: no vault provider registered for scheme %q: %s", scheme, hint)
	}
	v, err := omnivault.VaultFromURI(uri)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: open vault %q: %w", scheme+"://", err)
	}
	return newWithVault(v, pl)
}

// NewAuto creates a TokenManager by auto-detecting configuration from
// environment. It checks the following in order:
//   - OMNITOKEN_VAULT_URI - vault URI (e.g., "op://vault", "file:///path")
//   - OMNITOKEN_CREDENTIALS_FILE - path to goauth CredentialsSet file
//   - Falls back to in-memory vault
//
// OMNITOKEN_PLUGIN_DIR, when set, names a directory of strategy plugins to
// load, and OMNITOKEN_PLUGIN_SHA256 must then list the SHA-256 digests of
// the binaries allowed to run (hex, comma-separated). A binary it does not
// list is refused with plugins.ErrChecksumMismatch before it is executed,
// and a directory without the list is refused with the same error.
//
// OMNITOKEN_KEY (a key list) or OMNITOKEN_KEY_FILE (a file holding one),
// when set, turn on encryption at rest, as Config.EncryptionKeys.
//
// OMNITOKEN_REDIS_URL, when set, coordinates refreshes across replicas on
// Redis (Config.RedisURL); tokens there are sealed with the key in
// OMNITOKEN_REDIS_KEY (Extensions.RedisKey: 32 bytes, base64 or hex) or,
// without it, with the vault's keys (OMNITOKEN_KEY).
func NewAuto() (*TokenManager, error) {
	pl, err := pluginsFromEnv()
	if err != nil {
		return nil, err
	}
	if pl.keys, err = keysFromEnv(); err != nil {
		return nil, err
	}
	if pl.redisURL, pl.redisKey, err = redisFromEnv(pl.keys != nil); err != nil {
		return nil, err
	}
	switch {
	case os.Getenv(EnvVaultURI) != "":
		return fromVaultURI(os.Getenv(EnvVaultURI), pl)
	case os.Getenv(EnvCredentialsFile) != "":
		return fromCredentialsFile(os.Getenv(EnvCredentialsFile), pl)
	default:
		return newWithVault(memory.New(), pl)
	}
}

// LoadGoauthCredentials loads a goauth credential from a CredentialsSet
// file. The credential is stored under the given name (or accountKey if
// name is empty). A file of one credential is read as a set holding it
// under the file's name without its extension (see
// NewFromCredentialsFile).
func (tm *TokenManager) LoadGoauthCredentials(ctx context.Context, name, credentialsFile, accountKey string) error {
	set, err := readCredentialsFile(credentialsFile)
	if err != nil {
		return err
	}
	c, ok := set.Credentials[accountKey]
	if !ok {
		return fmt.Errorf("omnitoken: account %q: %w (accounts: %s)", accountKey, ErrCredentialsNotFound, strings.Join(set.Keys(), ", "))
	}
	if name == "" {
		name = accountKey
	}
	return tm.SetCredentials(ctx, name, &c)
}

// LoadGoogleServiceAccount loads a Google service account JSON file into
// the TokenManager. The credentials are stored under the given name with
// type "gcpsa". Scopes should be the OAuth2 scopes required for the Google
// APIs you'll use.
func (tm *TokenManager) LoadGoogleServiceAccount(ctx context.Context, name, serviceAccountFile string, scopes []string) error {
	b, err := os.ReadFile(serviceAccountFile)
	if err != nil {
		return fmt.Errorf("omnitoken: read service account: %w", err)
	}
	c, err := gcpsa.CredentialsFromJSON(b, scopes)
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	if err := tm.mgr.SetCredentials(ctx, name, c); err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	return nil
}
