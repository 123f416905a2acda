package omnitoken

import (
	"context"
	"fmt"
	"os"

	"github.com/plexusone/omnitoken/storage"
)

// Environment variables read by NewAuto to turn on encryption at rest.
const (
	EnvKey     = storage.EnvKey     // OMNITOKEN_KEY: the key list
	EnvKeyFile = storage.EnvKeyFile // OMNITOKEN_KEY_FILE: a file holding it
)

// keysFromEnv reads OMNITOKEN_KEY or OMNITOKEN_KEY_FILE for NewAuto: nil
// when neither is set, an error when one is set but holds no valid key.
func keysFromEnv() (*storage.Keys, error) {
	if os.Getenv(EnvKey) == "" && os.Getenv(EnvKeyFile) == "" {
		return nil, nil
	}
	keys, err := storage.KeysFromEnv()
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return keys, nil
}

// storeVault returns the vault the Store works on: cfg.Vault, sealed with
// cfg.EncryptionKeys when they are set.
func storeVault(cfg Config) (*storage.EncryptedVault, error) {
	if cfg.EncryptionKeys == nil {
		return nil, nil
	}
	allowPlain := cfg.AllowPlaintext
	if _, ok := cfg.Vault.(*envVault); ok {
		// The environment's credentials are its own plaintext, read-only:
		// omnitoken never wrote them and Rekey cannot seal them. A sealed
		// value placed in a variable still needs the key.
		allowPlain = true
	}
	ev, err := storage.EncryptVault(cfg.Vault, cfg.EncryptionKeys, storage.EncryptOptions{AllowPlaintext: allowPlain})
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return ev, nil
}

// Rekey rewrites every value in the TokenManager's vault so that it is
// sealed with the first of Config.EncryptionKeys: plaintext values (a
// vault written before encryption was turned on) are encrypted in place,
// and values sealed with an older key are resealed, after which the older
// keys can be dropped from the list. It reports how many values it
// rewrote. Without EncryptionKeys it is an error matching
// storage.ErrNoKey. Run it while no other process writes to the vault.
func (tm *TokenManager) Rekey(ctx context.Context) (storage.RekeyResult, error) {
	if tm.encrypted == nil {
		return storage.RekeyResult{}, fmt.Errorf("omnitoken: rekey: %w: encryption is off (set Config.EncryptionKeys or %s)", storage.ErrNoKey, EnvKey)
	}
	res, err := storage.Rekey(ctx, tm.encrypted, tm.cfg.CredentialsPrefix, tm.cfg.TokensPrefix)
	if err != nil {
		return res, fmt.Errorf("omnitoken: %w", err)
	}
	return res, nil
}
