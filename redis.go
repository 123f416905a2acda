package omnitoken

import (
	"fmt"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/redisstore"
)

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
	ci, err := redisstore.NewAESGCM(cfg.ext().RedisKey)
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
