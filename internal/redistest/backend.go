package redistest

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/redisstore"
)

// Environment of a replica (besides loadtest's).
const (
	envRedisURL = "OMNITOKEN_REDISTEST_URL"
	envRedisKey = "OMNITOKEN_REDISTEST_KEY" // hex
	envLeaseTTL = "OMNITOKEN_REDISTEST_TTL"
)

// ReplicaEnv is the environment of replicas sharing the Redis server at
// url and the encryption key, with leases of ttl; pass it as
// loadtest.ProcOptions.Env or WorkerOptions.Env.
func ReplicaEnv(url string, key []byte, ttl time.Duration) []string {
	return []string{envRedisURL + "=" + url, envRedisKey + "=" + hex.EncodeToString(key), envLeaseTTL + "=" + ttl.String()}
}

// Backend returns a loadtest.Backend that opens a replica's Store and
// Locker: a redisstore.Store over the file vault loadtest.FileBackend
// opens, and a redisstore.Locker, both on the server ReplicaEnv names.
// Their round trips are added to rt when it is not nil. Without ReplicaEnv
// in the environment it is loadtest.FileBackend.
func Backend(rt *redisstore.RoundTrips) loadtest.Backend {
	return func(ctx context.Context, getenv func(string) string) (core.Store, core.Locker, func() error, error) {
		if getenv(envRedisURL) == "" {
			return loadtest.FileBackend(ctx, getenv)
		}
		return openReplica(ctx, getenv, rt)
	}
}

func openReplica(ctx context.Context, getenv func(string) string, rt *redisstore.RoundTrips) (core.Store, core.Locker, func() error, error) {
	key, err := hex.DecodeString(getenv(envRedisKey))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("redistest: bad %s", envRedisKey)
	}
	ttl, err := time.ParseDuration(getenv(envLeaseTTL))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("redistest: bad %s", envLeaseTTL)
	}
	durable, _, closeVault, err := loadtest.FileBackend(ctx, getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	c, err := redisstore.NewClient(getenv(envRedisURL))
	if err != nil {
		_ = closeVault()
		return nil, nil, nil, err
	}
	if rt != nil {
		c.AddHook(rt)
	}
	closeAll := func() error { _ = c.Close(); return closeVault() }
	l, err := redisstore.NewLocker(c, redisstore.LockerOptions{TTL: ttl})
	if err != nil {
		_ = closeAll()
		return nil, nil, nil, err
	}
	ci, err := redisstore.NewAESGCM(key)
	if err != nil {
		_ = closeAll()
		return nil, nil, nil, err
	}
	s, err := redisstore.NewStore(c, durable, redisstore.StoreOptions{Cipher: ci})
	if err != nil {
		_ = closeAll()
		return nil, nil, nil, err
	}
	return s, l, closeAll, nil
}
