package redisstore_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/redisstore"
)

// Environment of a replica worker (besides loadtest's).
const (
	envRedisURL = "OMNITOKEN_REDISSTORE_TEST_URL"
	envRedisKey = "OMNITOKEN_REDISSTORE_TEST_KEY" // hex
	envLeaseTTL = "OMNITOKEN_REDISSTORE_TEST_TTL"
)

func runWorkerIfRequested() { loadtest.RunWorkerIfRequestedWith(redisBackend) }

// redisBackend is countingBackend without a counter.
var redisBackend = countingBackend(nil)

// replicaEnv is the environment of replicas sharing srvURL and key, with
// leases of ttl.
func replicaEnv(srvURL string, key []byte, ttl time.Duration) []string {
	return []string{envRedisURL + "=" + srvURL, envRedisKey + "=" + hex.EncodeToString(key), envLeaseTTL + "=" + ttl.String()}
}

// countingBackend opens a replica's Store and Locker: a Store on Redis
// over the file vault loadtest.FileBackend opens, and a Locker on Redis.
// Their round trips are added to rt, when it is not nil.
func countingBackend(rt *redisstore.RoundTrips) loadtest.Backend {
	return func(ctx context.Context, getenv func(string) string) (core.Store, core.Locker, func() error, error) {
		return openReplica(ctx, getenv, rt)
	}
}

func openReplica(ctx context.Context, getenv func(string) string, rt *redisstore.RoundTrips) (core.Store, core.Locker, func() error, error) {
	key, err := hex.DecodeString(getenv(envRedisKey))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bad %s", envRedisKey)
	}
	ttl, err := time.ParseDuration(getenv(envLeaseTTL))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("bad %s", envLeaseTTL)
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
