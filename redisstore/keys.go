package redisstore

import (
	"fmt"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
)

// DefaultPrefix starts every key the Locker and the Store use.
const DefaultPrefix = "omnitoken"

// keys are the Redis keys of one credential. They share the hash tag
// {escaped name}, so Redis Cluster keeps them in one slot and a script
// may touch them together.
type keys struct {
	lease string // the lease: a random owner id with a TTL
	fence string // the fencing counter; never expires
	token string // the token record: a hash of fence, generation, ciphertext
}

// keysFor returns the keys of name. The name is escaped as for a vault
// path (storage.EscapeName), which turns '{', '}' and ':' into %XX, so it
// can neither end the hash tag early nor collide with another name.
func keysFor(prefix, name string) (keys, error) {
	seg, err := storage.EscapeName(name)
	if err != nil {
		return keys{}, fmt.Errorf("redisstore: %w", err)
	}
	base := prefix + ":{" + seg + "}:"
	return keys{lease: base + "lease", fence: base + "fence", token: base + "token"}, nil
}

// checkPrefix refuses a prefix that would carry its own hash tag.
func checkPrefix(p string) (string, error) {
	if p == "" {
		return DefaultPrefix, nil
	}
	if strings.ContainsAny(p, "{}") {
		return "", fmt.Errorf("redisstore: %w: key prefix %q contains '{' or '}'", core.ErrInvalidCredentials, p)
	}
	return p, nil
}
