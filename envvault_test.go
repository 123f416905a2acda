package omnitoken

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/storage/storetest"
)

// A Store over the read-only environment vault passes the store suite:
// credentials are seeded as environment variables, and tokens are kept
// in the Store's memory.
func TestEnvStoreConformance(t *testing.T) {
	var n atomic.Int64
	storetest.TestStore(t, storetest.StoreOptions{
		New: func(t *testing.T) core.Store {
			prefix := fmt.Sprintf("OTCONFORMANCE%d_", n.Add(1))
			s, err := storage.New(&envVault{prefix: prefix, credPrefix: DefaultCredentialsPrefix}, storage.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		ReadOnlyCredentials: true,
		Seed: func(t *testing.T, s core.Store, name string, c *core.Credentials) {
			data, err := c.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			prefix := s.(*storage.Store).Vault().(*envVault).prefix
			t.Setenv(prefix+strings.ToUpper(strings.ReplaceAll(name, "-", "_"))+envSuffix, string(data))
		},
	})
}
