package omnitoken_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/storage"
)

// With RedisURL, tokens are kept on Redis, encrypted with RedisKey or
// else the vault's EncryptionKeys, under a lease.
func TestConfigRedis(t *testing.T) {
	text, err := storage.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := storage.ParseKeys(text)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  omnitoken.Config
	}{
		{"RedisKey", omnitoken.Config{Extensions: &omnitoken.Extensions{RedisKey: make([]byte, 32)}}},
		{"EncryptionKeys", omnitoken.Config{EncryptionKeys: keys}},
	} {
		t.Run(tc.name, func(t *testing.T) { testConfigRedis(t, tc.cfg) })
	}
}

func testConfigRedis(t *testing.T, cfg omnitoken.Config) {
	srv := redistest.Start(t)
	idp := tokenServer(t, func(w http.ResponseWriter, _ *http.Request) { writeToken(w, "CANARY-REDIS-AT", 3600) })
	fv, err := storage.NewFileVault(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	cfg.Vault, cfg.HTTPClient, cfg.RedisURL = fv, idp.Client(), srv.URL()
	tm, err := omnitoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.SetCredentials(ctx, "svc", ccCreds(idp.URL)); err != nil {
		t.Fatal(err)
	}
	tok, err := tm.GetToken(ctx, "svc")
	if err != nil || tok.AccessToken != "CANARY-REDIS-AT" {
		t.Fatalf("GetToken = %v, %v", tok, err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr()})
	defer c.Close()
	rec, err := c.HGetAll(ctx, "omnitoken:{svc}:token").Result()
	if err != nil || rec["v"] == "" {
		t.Fatalf("no token record in Redis: %v, %v", rec, err)
	}
	if strings.Contains(rec["v"], "CANARY") {
		t.Fatal("the token is in Redis in clear")
	}
	if n, _ := c.Exists(ctx, "omnitoken:{svc}:fence").Result(); n != 1 {
		t.Error("the refresh took no lease")
	}
}

// NewAuto reads OMNITOKEN_REDIS_URL and OMNITOKEN_REDIS_KEY, and refuses
// a URL without a good key.
func TestNewAutoRedis(t *testing.T) {
	t.Setenv(omnitoken.EnvVaultURI, "memory://")
	for _, key := range []string{strings.Repeat("ab", 32), base64.StdEncoding.EncodeToString(make([]byte, 32))} {
		t.Setenv(omnitoken.EnvRedisURL, "redis://127.0.0.1:1")
		t.Setenv(omnitoken.EnvRedisKey, key)
		tm, err := omnitoken.NewAuto()
		if err != nil {
			t.Fatalf("key %q: %v", key, err)
		}
		_ = tm.Close()
	}
	// Without OMNITOKEN_REDIS_KEY, the vault's keys seal the records.
	text, err := storage.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(storage.EnvKey, text)
	t.Setenv(omnitoken.EnvRedisKey, "")
	tm, err := omnitoken.NewAuto()
	if err != nil {
		t.Fatalf("OMNITOKEN_KEY without OMNITOKEN_REDIS_KEY: %v", err)
	}
	_ = tm.Close()
	t.Setenv(storage.EnvKey, "")

	t.Setenv(omnitoken.EnvRedisURL, "redis://:s3cret-PW@127.0.0.1:1")
	for _, key := range []string{"", "s3cret-KEY", hex.EncodeToString(make([]byte, 16))} {
		t.Setenv(omnitoken.EnvRedisKey, key)
		tm, err := omnitoken.NewAuto()
		if err == nil {
			_ = tm.Close()
			t.Fatalf("key %q: NewAuto succeeded", key)
		}
		if !errors.Is(err, omnitoken.ErrInvalidCredentials) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("err = %v, want ErrInvalidCredentials quoting neither key nor password", err)
		}
	}
}
