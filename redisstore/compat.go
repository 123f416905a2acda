package redisstore

import "github.com/plexusone/omnitoken/core"

// storedToken is the token type of core.Store.
type storedToken = core.StoredToken

// ErrConflict is core.ErrConflict: a SetToken the store refused because
// it holds a newer token, by a higher fence, or the same fence and a
// higher or equal generation.
var ErrConflict = core.ErrConflict

func fenceOf(t *storedToken) uint64 { return t.Fence }

func setFence(t *storedToken, f uint64) { t.Fence = f }
