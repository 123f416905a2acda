package omnitoken

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/storage"
)

// Environment variables NewAuto reads for replicas on Redis.
const (
	EnvRedisURL = "OMNITOKEN_REDIS_URL"
	EnvRedisKey = "OMNITOKEN_REDIS_KEY"
)

// redisFromEnv reads OMNITOKEN_REDIS_URL and OMNITOKEN_REDIS_KEY; the
// key may be left out when the vault's keys (OMNITOKEN_KEY) are set, as
// haveKeys says, and they then seal the records. Errors never quote the
// key or the URL.
func redisFromEnv(haveKeys bool) (string, []byte, error) {
	url := os.Getenv(EnvRedisURL)
	if url == "" {
		return "", nil, nil
	}
	raw := strings.TrimSpace(os.Getenv(EnvRedisKey))
	if raw == "" && haveKeys {
		return url, nil, nil
	}
	if raw == "" {
		return "", nil, fmt.Errorf("omnitoken: %w: %s is set but neither %s nor %s is: replicas need a shared key to encrypt tokens in Redis",
			ErrInvalidCredentials, EnvRedisURL, EnvRedisKey, storage.EnvKey)
	}
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString} {
		if k, err := dec(raw); err == nil && len(k) == redisstore.KeySize {
			return url, k, nil
		}
	}
	return "", nil, fmt.Errorf("omnitoken: %w: %s must hold 32 bytes in hex or base64 (openssl rand -base64 32)", ErrInvalidCredentials, EnvRedisKey)
}

// applyRedis puts NewAuto's Redis settings in cfg.
func (pl pluginSource) applyRedis(cfg *Config) {
	if pl.redisURL == "" {
		return
	}
	cfg.RedisURL = pl.redisURL
	if pl.redisKey == nil {
		return
	}
	ext := Extensions{}
	if cfg.Extensions != nil {
		ext = *cfg.Extensions
	}
	ext.RedisKey = pl.redisKey
	cfg.Extensions = &ext
}

// useRedis puts a redisstore Locker and Store (over the vault's store) in
// opts; Close closes the client.
func (tm *TokenManager) useRedis(opts *core.Options) error {
	cfg := tm.cfg
	c, err := redisstore.NewClient(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	tm.res.closers = append(tm.res.closers, c.Close)
	l, err := redisstore.NewLocker(c, redisstore.LockerOptions{Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	var ci redisstore.Cipher
	if key := cfg.ext().RedisKey; key != nil || cfg.EncryptionKeys == nil {
		ci, err = redisstore.NewAESGCM(key)
	} else {
		ci, err = redisstore.NewKeysCipher(cfg.EncryptionKeys)
	}
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	st, err := redisstore.NewStore(c, opts.Store, redisstore.StoreOptions{Cipher: ci, Logger: cfg.Logger})
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	opts.Store, opts.Locker = st, l
	return nil
}
