package omnitoken

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"strings"
)

// Environment variables NewAuto reads for replicas on Redis.
const (
	EnvRedisURL = "OMNITOKEN_REDIS_URL"
	EnvRedisKey = "OMNITOKEN_REDIS_KEY"
)

// autoConfig is what NewAuto reads from the environment, on top of the
// vault; the other constructors pass the zero value.
type autoConfig struct {
	pluginDir string
	redisURL  string
	redisKey  []byte
}

func (a autoConfig) apply(cfg *Config) {
	cfg.PluginDir = a.pluginDir
	cfg.RedisURL = a.redisURL
	if a.redisKey != nil {
		ext := Extensions{}
		if cfg.Extensions != nil {
			ext = *cfg.Extensions
		}
		ext.RedisKey = a.redisKey
		cfg.Extensions = &ext
	}
}

// autoFromEnv reads OMNITOKEN_PLUGIN_DIR, OMNITOKEN_REDIS_URL and
// OMNITOKEN_REDIS_KEY. Errors never quote the key or the URL.
func autoFromEnv() (autoConfig, error) {
	a := autoConfig{pluginDir: os.Getenv(EnvPluginDir), redisURL: os.Getenv(EnvRedisURL)}
	if a.redisURL == "" {
		return a, nil
	}
	raw := strings.TrimSpace(os.Getenv(EnvRedisKey))
	if raw == "" {
		return a, fmt.Errorf("omnitoken: %w: %s is set but %s is not: replicas need a shared 32-byte key to encrypt tokens in Redis",
			ErrInvalidCredentials, EnvRedisURL, EnvRedisKey)
	}
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString} {
		if k, err := dec(raw); err == nil && len(k) == 32 {
			a.redisKey = k
			return a, nil
		}
	}
	return a, fmt.Errorf("omnitoken: %w: %s must hold 32 bytes in hex or base64 (openssl rand -base64 32)", ErrInvalidCredentials, EnvRedisKey)
}
