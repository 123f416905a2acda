package redisstore_test

import (
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loadtest"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// On Redis Cluster (one node serving every slot, which refuses keys of
// different slots in one script as any cluster does), the lease, fence
// and token scripts work, because one credential's keys share a hash
// tag.
func TestRedisCluster(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.StartCluster(t)
	admin := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer admin.Close()
	if err := admin.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", "0", "16383").Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; {
		info, err := admin.ClusterInfo(ctx).Result()
		if err == nil && strings.Contains(info, "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the cluster did not become ready: %q, %v", info, err)
		}
		time.Sleep(20 * time.Millisecond) // the node settles its state on its own cron
	}
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: []string{srv.Addr()}})
	defer cc.Close()

	// The control: keys of two credentials in one script are refused.
	err := cc.Eval(ctx, "return redis.call('MGET', KEYS[1], KEYS[2])", []string{"omnitoken:{a}:token", "omnitoken:{b}:token"}).Err()
	if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
		t.Fatalf("a script over two slots: err = %v, want CROSSSLOT", err)
	}

	idp := loadtest.NewIdP(loadtest.IdPOptions{TTL: time.Hour})
	t.Cleanup(idp.Close)
	l, err := redisstore.NewLocker(cc, redisstore.LockerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := core.New(core.Options{
		Store:      newStore(t, cc, newKey(t), nil),
		Locker:     l,
		Strategies: []core.Strategy{oauth2.New(oauth2.Options{AllowInsecureHTTP: true})},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, name := range []string{"svc", "Other{x}:y"} {
		if err := m.SetCredentials(ctx, name, idp.Credentials()); err != nil {
			t.Fatal(err)
		}
		first, err := m.Token(ctx, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		next, err := m.Refresh(ctx, name)
		if err != nil || next.AccessToken == first.AccessToken {
			t.Fatalf("%s: Refresh = %v, %v", name, next, err)
		}
	}
	if s := idp.Stats(); s.Refreshes != 2 || s.InvalidGrants != 0 {
		t.Errorf("IdP %+v, want 2 refreshes", s)
	}
}
