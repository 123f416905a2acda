package redisstore

import (
	"errors"

	"github.com/plexusone/omnitoken/core"
)

// The pieces below bridge to the core API in which Store methods take a
// core.StoredToken carrying a Fence, and a refused compare-and-swap is
// core.ErrConflict. They are the only lines that change when core gains
// them.

// storedToken is the token type of core.Store.
type storedToken = core.Token

// ErrConflict matches a SetToken the store refused because it holds a
// newer token: a higher fence, or the same fence and a higher or equal
// generation.
var ErrConflict = errors.New("conflicting write")

func fenceOf(*storedToken) uint64 { return 0 }

func setFence(*storedToken, uint64) {}

// coreAdoptsOnConflict reports whether the Manager, when SetToken fails
// with ErrConflict, adopts the stored token instead of serving its own.
const coreAdoptsOnConflict = false
