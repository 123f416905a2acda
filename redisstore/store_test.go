package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
	"github.com/plexusone/omnitoken/storage"
)

var expiry = time.Now().Add(time.Hour).Round(0)

func tok(at, rt string, gen uint64) *core.StoredToken {
	return &core.StoredToken{Token: core.Token{AccessToken: at, RefreshToken: rt, Expiry: expiry}, Generation: gen}
}

// fenced is tok with refresh token "rt-"+at, written under fence.
func fenced(at string, fence, gen uint64) *core.StoredToken {
	tk := tok(at, "rt-"+at, gen)
	tk.Fence = fence
	return tk
}

// The compare-and-swap keeps the newest token: an older or equal
// generation, even the same token again, is refused with ErrConflict and
// changes nothing.
func TestSetTokenCompareAndSwap(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, rt := client(t, srv)
	durable := core.NewMemoryStore()
	s := newStore(t, c, newKey(t), durable)

	if err := s.SetToken(ctx, "svc", tok("at-2", "rt-2", 2)); err != nil {
		t.Fatal(err)
	}
	for _, old := range []*core.StoredToken{tok("at-1", "rt-1", 1), tok("at-2b", "rt-2b", 2), tok("at-2", "rt-2", 2)} {
		err := s.SetToken(ctx, "svc", old)
		if !errors.Is(err, core.ErrConflict) {
			t.Fatalf("writing generation %d over 2: err = %v, want ErrConflict", old.Generation, err)
		}
	}
	got, err := s.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "at-2" || got.RefreshToken != "rt-2" || got.Generation != 2 {
		t.Fatalf("GetToken = %v, %v; want generation 2, at-2", got, err)
	}
	before := rt.Load()
	if err := s.SetToken(ctx, "svc", tok("at-3", "rt-3", 3)); err != nil {
		t.Fatal(err)
	}
	if n := rt.Load() - before; n != 2 {
		t.Errorf("a write cost %d Redis round trips, want 2 (compare-and-swap, check after the write-through)", n)
	}
	before = rt.Load()
	got, err = s.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "at-3" {
		t.Fatalf("GetToken = %v, %v", got, err)
	}
	if n := rt.Load() - before; n != 1 {
		t.Errorf("a read cost %d Redis round trips, want 1", n)
	}
	// Written through to the durable store.
	if d, err := durable.GetToken(ctx, "svc"); err != nil || d.RefreshToken != "rt-3" {
		t.Fatalf("durable copy = %v, %v; want rt-3", d, err)
	}
}

// With no record in Redis (a restart without data) the durable copy is
// read, and a write older than it is refused.
func TestEmptyRedisFallsBackToDurableCopy(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	durable := core.NewMemoryStore()
	s := newStore(t, c, newKey(t), durable)
	if _, err := s.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("no token anywhere: err = %v, want ErrTokenNotFound", err)
	}
	if err := s.SetToken(ctx, "svc", tok("at-5", "rt-5", 5)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken(ctx, "svc")
	if err != nil || got.RefreshToken != "rt-5" {
		t.Fatalf("after Redis lost its data: %v, %v; want the durable rt-5", got, err)
	}
	if err := s.SetToken(ctx, "svc", tok("at-4", "rt-4", 4)); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("writing generation 4 over the durable 5: err = %v, want ErrConflict", err)
	}
	if err := s.SetToken(ctx, "svc", tok("at-6", "rt-6", 6)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteToken(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("after DeleteToken: err = %v, want ErrTokenNotFound", err)
	}
}

// Redis down: a read fails with ErrUnavailable; a write still reaches
// the durable store, and reports ErrUnavailable so it is written again.
func TestStoreWhileRedisDown(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	durable := core.NewMemoryStore()
	s := newStore(t, c, newKey(t), durable)
	srv.Kill()
	if _, err := s.GetToken(ctx, "svc"); !errors.Is(err, redisstore.ErrUnavailable) {
		t.Fatalf("GetToken: err = %v, want ErrUnavailable", err)
	}
	err := s.SetToken(ctx, "svc", tok("at-1", "rt-1", 1))
	if !errors.Is(err, redisstore.ErrUnavailable) || !core.IsTemporary(err) {
		t.Fatalf("SetToken: err = %v, want a temporary ErrUnavailable", err)
	}
	if d, err := durable.GetToken(ctx, "svc"); err != nil || d.RefreshToken != "rt-1" {
		t.Fatalf("durable copy = %v, %v; want rt-1", d, err)
	}
	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
	// The Manager writes it again under a new lease, with a newer fence.
	again := tok("at-1", "rt-1", 1)
	again.Fence = 1
	if err := s.SetToken(ctx, "svc", again); err != nil {
		t.Fatalf("writing it again once Redis is back: %v", err)
	}
	if got, err := s.GetToken(ctx, "svc"); err != nil || got.RefreshToken != "rt-1" || got.Fence != 1 {
		t.Fatalf("GetToken = %v, %v", got, err)
	}
}

// A reader of Redis alone learns no secret: every value of every key is
// scanned for the canaries.
func TestRedisHoldsNoSecret(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	s := newStore(t, c, newKey(t), nil)
	l := newLocker(t, c, redisstore.LockerOptions{})
	canaries := []string{"CANARY-ACCESS-7f3a", "CANARY-REFRESH-9b1c", "CANARY-IDTOKEN-22d0", "CANARY-APIKEY-5e8e"}
	for i, name := range []string{"svc", "Weird{name}:x", "a/b"} {
		_, unlock, err := l.LockFenced(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		tk := tok(canaries[0], canaries[1], uint64(i+1))
		tk.Extra = map[string]any{"id_token": canaries[2]}
		tk.Header = map[string][]string{"X-Api-Key": {canaries[3]}}
		if err := s.SetToken(ctx, name, tk); err != nil {
			t.Fatal(err)
		}
		unlock()
	}
	dump := dumpRedis(ctx, t, c)
	if len(dump) == 0 {
		t.Fatal("Redis is empty")
	}
	for _, cn := range canaries {
		if strings.Contains(dump, cn) {
			t.Errorf("Redis holds canary %s", cn)
		}
	}
}

// dumpRedis returns every key and every value Redis holds, as text.
func dumpRedis(ctx context.Context, t *testing.T, c *goredis.Client) string {
	t.Helper()
	var b strings.Builder
	iter := c.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case "string":
			v, _ := c.Get(ctx, k).Result()
			fmt.Fprintf(&b, "%s = %s\n", k, v)
		case "hash":
			v, _ := c.HGetAll(ctx, k).Result()
			fmt.Fprintf(&b, "%s = %v\n", k, v)
		default:
			t.Fatalf("unexpected key %s of type %s", k, typ)
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// Every key of one credential carries the same hash tag, which holds no
// brace, so Redis Cluster keeps them in one slot.
func TestKeysAreHashTaggedPerCredential(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	s := newStore(t, c, newKey(t), nil)
	l := newLocker(t, c, redisstore.LockerOptions{TTL: time.Minute})
	names := []string{"svc", "br{ace}", "co:lon"}
	for _, name := range names {
		_, unlock, err := l.LockFenced(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SetToken(ctx, name, tok("at", "rt", 1)); err != nil {
			t.Fatal(err)
		}
		defer unlock()
	}
	keys, err := c.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]int{}
	for _, k := range keys {
		open := strings.IndexByte(k, '{')
		end := strings.IndexByte(k[open+1:], '}')
		if open < 0 || end < 1 {
			t.Fatalf("key %q has no hash tag", k)
		}
		tags[k[open+1:open+1+end]]++
	}
	if len(tags) != len(names) {
		t.Fatalf("tags %v, want one per credential (%d)", tags, len(names))
	}
	for tag, n := range tags {
		if n != 3 {
			t.Errorf("tag %q on %d keys, want 3 (lease, fence, token)", tag, n)
		}
	}
}

// A record read with another key, or altered in Redis, is a clear error
// naming the credential; never garbage, never plaintext.
func TestWrongKeyOrTamperedRecord(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	s := newStore(t, c, newKey(t), nil)
	if err := s.SetToken(ctx, "svc", tok("CANARY-AT", "CANARY-RT", 3)); err != nil {
		t.Fatal(err)
	}
	other := newStore(t, c, newKey(t), nil)
	_, err := other.GetToken(ctx, "svc")
	if !errors.Is(err, redisstore.ErrDecrypt) || !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), `"svc"`) {
		t.Fatalf("wrong key: err = %v", err)
	}
	// Relabel the generation: the ciphertext is bound to it.
	if err := c.HSet(ctx, "omnitoken:{svc}:token", "g", "9").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetToken(ctx, "svc"); !errors.Is(err, redisstore.ErrDecrypt) {
		t.Fatalf("relabelled record: err = %v", err)
	}
	if _, err := redisstore.NewAESGCM(make([]byte, 16)); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("16-byte key: err = %v", err)
	}
	if _, err := redisstore.NewStore(c, core.NewMemoryStore(), redisstore.StoreOptions{}); !errors.Is(err, core.ErrVaultNotConfigured) {
		t.Errorf("no cipher: err = %v", err)
	}
}

func TestNewClientURLs(t *testing.T) {
	for _, u := range []string{"redis://127.0.0.1:6379/0", "rediss://user:pw@example.com:6380", "redis://:pw@localhost"} {
		c, err := redisstore.NewClient(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		_ = c.Close()
	}
	c, err := redisstore.NewClient("rediss://alice:s3cret-PW@example.com:6380/0")
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options()
	_ = c.Close()
	if o.Username != "alice" || o.Password != "s3cret-PW" || o.TLSConfig == nil {
		t.Errorf("rediss URL: username %q, TLS %v; want alice with TLS", o.Username, o.TLSConfig != nil)
	}
	for _, u := range []string{"http://x", "redis://u:s3cret-PW@host:notaport", "s3cret-PW"} {
		_, err := redisstore.NewClient(u)
		if !errors.Is(err, core.ErrInvalidCredentials) || strings.Contains(err.Error(), "s3cret-PW") {
			t.Errorf("%q: err = %v, want ErrInvalidCredentials without the password", "…", err)
		}
	}
}

// The fence orders writes first: a holder whose lease lapsed writes with
// an older fence and is refused even with a higher generation; a newer
// fence wins whatever the generation.
func TestSetTokenFenceOrdersWrites(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	durable := core.NewMemoryStore()
	s := newStore(t, c, newKey(t), durable)
	if err := s.SetToken(ctx, "svc", fenced("a", 10, 5)); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken(ctx, "svc", fenced("late", 9, 6)); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("older fence, higher generation: err = %v, want ErrConflict", err)
	}
	if err := s.SetToken(ctx, "svc", fenced("b", 11, 5)); err != nil {
		t.Fatalf("newer fence, same generation: %v", err)
	}
	got, err := s.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "b" || got.Fence != 11 || got.Generation != 5 {
		t.Fatalf("GetToken = %v (fence %d), %v; want b at fence 11", got, got.Fence, err)
	}
	if d, err := durable.GetToken(ctx, "svc"); err != nil || d.AccessToken != "b" {
		t.Fatalf("durable copy = %v, %v; want b", d, err)
	}
	// The durable copy keeps the fence, so after Redis loses its data the
	// late writer is still refused.
	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken(ctx, "svc", fenced("late", 10, 7)); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("after Redis lost its data, an older fence: err = %v, want ErrConflict", err)
	}
}

// pausedDurable holds the durable write of the token with access token
// "a" until release is closed, as a holder paused between its
// compare-and-swap and its write-through.
type pausedDurable struct {
	core.Store
	entered, release chan struct{}
}

func (p *pausedDurable) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	if t.AccessToken == "a" {
		close(p.entered)
		<-p.release
	}
	return p.Store.SetToken(ctx, name, t)
}

// A holder paused after its compare-and-swap and before its write-through
// wakes up after a newer holder stored a newer token in both places: its
// late durable write must not leave the vault with the older token, which
// Redis would serve after losing its data.
func TestLateWriteThroughKeepsNewerDurableCopy(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	durable := &pausedDurable{Store: core.NewMemoryStore(), entered: make(chan struct{}), release: make(chan struct{})}
	s := newStore(t, c, newKey(t), durable)
	done := make(chan error, 1)
	go func() { done <- s.SetToken(ctx, "svc", fenced("a", 10, 1)) }()
	<-durable.entered
	if err := s.SetToken(ctx, "svc", fenced("b", 11, 2)); err != nil {
		t.Fatal(err)
	}
	close(durable.release)
	if err := <-done; err != nil && !errors.Is(err, core.ErrConflict) {
		t.Fatalf("the late write: %v", err)
	}
	if d, err := durable.GetToken(ctx, "svc"); err != nil || d.AccessToken != "b" || d.Fence != 11 {
		t.Fatalf("durable copy = %v, %v; want b at fence 11", d, err)
	}
	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetToken(ctx, "svc"); err != nil || got.AccessToken != "b" {
		t.Fatalf("after Redis lost its data, GetToken = %v, %v; want b", got, err)
	}
}

// A real server with an ACL user: a redis:// URL with the username and
// password reaches it, and the user may touch only keys under the prefix;
// a wrong password fails with an error that quotes no password.
func TestURLUsernamePassword(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	admin, _ := client(t, srv)
	if err := admin.Do(ctx, "ACL", "SETUSER", "alice", "on", ">s3cret-PW", "~omnitoken:*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	userURL := func(pw string) string {
		return strings.Replace(srv.URL(), "redis://", "redis://alice:"+pw+"@", 1)
	}
	c, err := redisstore.NewClient(userURL("s3cret-PW"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s := newStore(t, c, newKey(t), nil)
	l := newLocker(t, c, redisstore.LockerOptions{})
	f, unlock, err := l.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetToken(ctx, "svc", fenced("at", f, 1)); err != nil {
		t.Fatal(err)
	}
	unlock()
	if got, err := s.GetToken(ctx, "svc"); err != nil || got.AccessToken != "at" {
		t.Fatalf("GetToken as alice = %v, %v", got, err)
	}
	if n, err := admin.Exists(ctx, "omnitoken:{svc}:token").Result(); err != nil || n != 1 {
		t.Fatalf("the record under alice's key pattern: %d, %v", n, err)
	}

	bad, err := redisstore.NewClient(userURL("wr0ng-PW") + "?max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer bad.Close()
	_, err = newLocker(t, bad, redisstore.LockerOptions{}).Lock(ctx, "svc")
	if err == nil {
		t.Fatal("a wrong password took the lease")
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		if strings.Contains(text, "wr0ng-PW") || strings.Contains(text, "s3cret-PW") {
			t.Errorf("the error quotes a password: %s", text)
		}
	}
	if !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("err = %v, want it to say the password was refused", err)
	}
}

// A rediss:// URL speaks TLS to a real TLS-only server, verifying its
// certificate: the Locker and the Store work through it, and a client
// that does not trust the certificate fails.
func TestRedissURL(t *testing.T) {
	ctx := testContext(t)
	srv, roots := redistest.StartTLS(t)
	if !strings.HasPrefix(srv.URL(), "rediss://") {
		t.Fatalf("URL %s", srv.URL())
	}
	c, err := redisstore.NewClient(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Options().TLSConfig.RootCAs = roots // the system roots do not hold the test certificate
	f, unlock, err := newLocker(t, c, redisstore.LockerOptions{}).LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	s := newStore(t, c, newKey(t), nil)
	if err := s.SetToken(ctx, "svc", fenced("at", f, 1)); err != nil {
		t.Fatal(err)
	}
	unlock()
	if got, err := s.GetToken(ctx, "svc"); err != nil || got.AccessToken != "at" {
		t.Fatalf("GetToken over TLS = %v, %v", got, err)
	}

	untrusting, err := redisstore.NewClient(srv.URL() + "?max_retries=-1")
	if err != nil {
		t.Fatal(err)
	}
	defer untrusting.Close()
	if err := untrusting.Ping(ctx).Err(); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client without the certificate: err = %v, want a certificate error", err)
	}
}

// The vault's encryption keys (storage.Keys) seal the records too: a
// record reads back with them, holds no secret in the clear, and does not
// open with another key list.
func TestKeysCipher(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	keys := func() *storage.Keys {
		t.Helper()
		text, err := storage.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		k, err := storage.ParseKeys(text)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	open := func(k *storage.Keys) *redisstore.Store {
		t.Helper()
		ci, err := redisstore.NewKeysCipher(k)
		if err != nil {
			t.Fatal(err)
		}
		s, err := redisstore.NewStore(c, core.NewMemoryStore(), redisstore.StoreOptions{Cipher: ci})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	k := keys()
	s := open(k)
	if err := s.SetToken(ctx, "svc", tok("CANARY-KEYS-AT", "CANARY-KEYS-RT", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "CANARY-KEYS-AT" || got.RefreshToken != "CANARY-KEYS-RT" {
		t.Fatalf("GetToken = %v, %v", got, err)
	}
	if dump := dumpRedis(ctx, t, c); strings.Contains(dump, "CANARY") {
		t.Error("Redis holds a token in the clear")
	}
	_, err = open(keys()).GetToken(ctx, "svc")
	if !errors.Is(err, redisstore.ErrDecrypt) || !errors.Is(err, storage.ErrDecrypt) || !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("another key list: err = %v, want ErrDecrypt", err)
	}
	if _, err := redisstore.NewKeysCipher(nil); !errors.Is(err, core.ErrVaultNotConfigured) {
		t.Errorf("nil keys: err = %v", err)
	}
}
