package redisstore_test

import (
	"testing"
	"time"

	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/storage"
)

// checkReplicas asserts one refresh per expiry with nothing revoked, and
// the newest refresh token both in Redis and in the vault.
func checkReplicas(t *testing.T, res *loadtest.ProcResult, workers int, srv *redistest.Server, key []byte, dir string) {
	t.Helper()
	t.Logf("IdP %+v, generation %d, elapsed %s", res.IdP, res.Generation, res.Elapsed)
	for _, f := range res.Faults(workers, true) {
		t.Error(f)
	}
	for i, w := range res.Workers {
		if w.Expired != 0 {
			t.Errorf("worker %d served %d expired tokens", i, w.Expired)
		}
	}
	// The vault's durable copy is the newest too.
	c, _ := client(t, srv)
	rs := newStore(t, c, key, nil)
	inRedis, err := rs.GetToken(t.Context(), loadtest.CredentialName)
	if err != nil {
		t.Fatal(err)
	}
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	vs, err := storage.New(fv, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inVault, err := vs.GetToken(t.Context(), loadtest.CredentialName)
	if err != nil {
		t.Fatal(err)
	}
	if !inVault.Token.Equal(&inRedis.Token) || inVault.Generation != inRedis.Generation {
		t.Errorf("vault holds generation %d, Redis %d: the write-through lags", inVault.Generation, inRedis.Generation)
	}
}

// 8 replica processes, one redis-server, 20 expiries
// of a rotating refresh token: exactly 20 refreshes, each refresh token
// presented once, nothing revoked, the newest refresh token stored.
func TestReplicasRefreshOncePerExpiry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes and waits for real token expiries")
	}
	srv := redistest.Start(t)
	key, dir := newKey(t), t.TempDir()
	res, err := loadtest.Processes(testContext(t), loadtest.ProcOptions{
		Dir: dir, Backend: redisBackend, Env: replicaEnv(srv.URL(), key, 2*time.Second),
		Procs: 8, Expiries: 20,
	})
	if err != nil {
		t.Fatal(err)
	}
	checkReplicas(t, res, 8, srv, key, dir)
}

// The lease holder is SIGKILLed with its first token
// request at the IdP; another replica takes over within the lease TTL
// plus 1 s, and nothing is revoked.
func TestReplicaHolderKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts OS processes and waits for real token expiries")
	}
	srv := redistest.Start(t)
	key, dir := newKey(t), t.TempDir()
	const ttl = 2 * time.Second
	res, err := loadtest.Processes(testContext(t), loadtest.ProcOptions{
		Dir: dir, Backend: redisBackend, Env: replicaEnv(srv.URL(), key, ttl),
		Procs: 4, Expiries: 3, KillFirst: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Killed {
		t.Errorf("the first worker was not killed with its request held (IdP %+v)", res.IdP)
	}
	t.Logf("takeover after %s (lease TTL %s)", res.Takeover, ttl)
	if res.Takeover > ttl+time.Second {
		t.Errorf("another replica took over %s after the kill, want within TTL + 1 s (%s)", res.Takeover, ttl+time.Second)
	}
	checkReplicas(t, res, 3, srv, key, dir)
}
