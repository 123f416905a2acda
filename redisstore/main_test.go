package redisstore_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
)

func TestMain(m *testing.M) {
	runWorkerIfRequested() // the replica tests run this binary as workers
	// go-redis logs each failed dial; the tests that stop Redis make many.
	goredis.SetLogger(quietLogger{})
	goleak.VerifyTestMain(m)
}

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// client returns a client of srv, closed when the test ends, counting its
// round trips.
func client(t *testing.T, srv *redistest.Server) (*goredis.Client, *redisstore.RoundTrips) {
	t.Helper()
	c, err := redisstore.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	rt := new(redisstore.RoundTrips)
	c.AddHook(rt)
	return c, rt
}

func newKey(t testing.TB) []byte {
	t.Helper()
	k := make([]byte, redisstore.KeySize)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// newStore returns a Store on c over a fresh MemoryStore.
func newStore(t *testing.T, c goredis.UniversalClient, key []byte, durable core.Store) *redisstore.Store {
	t.Helper()
	ci, err := redisstore.NewAESGCM(key)
	if err != nil {
		t.Fatal(err)
	}
	if durable == nil {
		durable = core.NewMemoryStore()
	}
	s, err := redisstore.NewStore(c, durable, redisstore.StoreOptions{Cipher: ci})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type quietLogger struct{}

func (quietLogger) Printf(context.Context, string, ...any) {}
