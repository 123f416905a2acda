package redisstore_test

import (
	"context"
	"errors"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/redistest"
	"github.com/plexusone/omnitoken/redisstore"
)

func newLocker(t *testing.T, c goredis.UniversalClient, o redisstore.LockerOptions) *redisstore.Locker {
	t.Helper()
	l, err := redisstore.NewLocker(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Two replicas (two clients) exclude each other, and each lease's fence
// is larger than the last.
func TestLockerExcludesAndFencesIncrease(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c1, rt := client(t, srv)
	c2, _ := client(t, srv)
	l1 := newLocker(t, c1, redisstore.LockerOptions{})
	l2 := newLocker(t, c2, redisstore.LockerOptions{})

	f1, unlock1, err := l1.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, _, err = l2.LockFenced(short, "svc")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second replica locked a held lease: err = %v", err)
	}
	// Another name is independent.
	_, unlockOther, err := l2.LockFenced(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	unlockOther()

	before := rt.Load()
	unlock1()
	unlock1() // harmless
	if n := rt.Load() - before; n != 1 {
		t.Errorf("unlock cost %d round trips, want 1", n)
	}
	var last = f1
	for range 5 {
		before := rt.Load()
		f, unlock, err := l1.LockFenced(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		if n := rt.Load() - before; n != 1 {
			t.Errorf("taking a free lease cost %d round trips, want 1", n)
		}
		unlock()
		if f <= last {
			t.Fatalf("fence %d after %d: not increasing", f, last)
		}
		last = f
	}
}

// A lease held longer than its TTL is renewed: nobody else gets it until
// unlock, and then the waiter does.
func TestLeaseRenewedWhileHeld(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c1, _ := client(t, srv)
	c2, _ := client(t, srv)
	const ttl = 600 * time.Millisecond
	l1 := newLocker(t, c1, redisstore.LockerOptions{TTL: ttl})
	l2 := newLocker(t, c2, redisstore.LockerOptions{TTL: ttl})
	_, unlock, err := l1.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 3*ttl)
	_, _, err = l2.LockFenced(wait, "svc")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the lease was taken while its holder renewed it: err = %v", err)
	}
	got := make(chan error, 1)
	go func() {
		_, u, err := l2.LockFenced(ctx, "svc")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}

// A lease whose holder stopped renewing it (it died) is taken over within
// its TTL plus one poll; and an unlock after the lease was lost never
// frees the new holder's lease.
func TestDeadHolderTakenOverAndStaleUnlockHarmless(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	const ttl = 300 * time.Millisecond
	l := newLocker(t, c, redisstore.LockerOptions{TTL: ttl})

	// A holder that died: its lease key, with its TTL, and no renewal.
	lease := "omnitoken:{svc}:lease"
	if err := c.Set(ctx, lease, "dead-owner", ttl).Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, unlock, err := l.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > ttl+time.Second {
		t.Errorf("took over after %s, want within TTL (%s) + 1 s", el, ttl)
	}
	unlock()

	// Holder A loses its lease (deleted behind its back), B takes it, and
	// A's late unlock leaves B's lease alone.
	_, unlockA, err := l.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Del(ctx, lease).Err(); err != nil {
		t.Fatal(err)
	}
	_, unlockB, err := l.LockFenced(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := c.Get(ctx, lease).Result()
	unlockA()
	if after, _ := c.Get(ctx, lease).Result(); after != owner || after == "" {
		t.Fatal("a holder's unlock freed a lease it no longer owned")
	}
	unlockB()
	if n, _ := c.Exists(ctx, lease).Result(); n != 0 {
		t.Fatal("unlock left the lease in place")
	}
}

// Fences keep increasing across a Redis restart, with its data or
// without.
func TestFenceSurvivesRestart(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	l := newLocker(t, c, redisstore.LockerOptions{})
	take := func() uint64 {
		t.Helper()
		f, unlock, err := l.LockFenced(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		unlock()
		return f
	}
	last := take()
	for _, keep := range []bool{true, false} {
		if err := srv.Restart(keep); err != nil {
			t.Fatal(err)
		}
		if f := take(); f <= last {
			t.Fatalf("after a restart (keep data: %v) the fence is %d, not above %d", keep, f, last)
		} else {
			last = f
		}
	}
}

// Redis down: Lock fails without waiting for a lease, with a temporary error matching
// ErrUnavailable, or, with AllowUncoordinated, succeeds with a fence of
// its own; and
// the same Locker works again once Redis is back.
func TestLockWhileRedisDown(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	strict := newLocker(t, c, redisstore.LockerOptions{})
	loose := newLocker(t, c, redisstore.LockerOptions{AllowUncoordinated: true})
	srv.Kill()

	start := time.Now()
	_, _, err := strict.LockFenced(ctx, "svc")
	if !errors.Is(err, redisstore.ErrUnavailable) || !core.IsTemporary(err) {
		t.Fatalf("err = %v, want a temporary error matching ErrUnavailable", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("failing took %s, want go-redis's retries only", el)
	}
	f, unlock, err := loose.LockFenced(ctx, "svc")
	if err != nil || f == 0 {
		t.Fatalf("AllowUncoordinated: fence %d, err %v; want a fence from the clock, nil", f, err)
	}
	unlock()

	if err := srv.Restart(false); err != nil {
		t.Fatal(err)
	}
	f, unlock, err = strict.LockFenced(ctx, "svc")
	if err != nil || f == 0 {
		t.Fatalf("after Redis came back: fence %d, err %v", f, err)
	}
	unlock()
}

func TestLockerRefusesBadInput(t *testing.T) {
	if _, err := redisstore.NewLocker(nil, redisstore.LockerOptions{}); !errors.Is(err, core.ErrVaultNotConfigured) {
		t.Errorf("nil client: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	if _, err := redisstore.NewLocker(c, redisstore.LockerOptions{Prefix: "a{b"}); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("prefix with a brace: %v", err)
	}
	l := newLocker(t, c, redisstore.LockerOptions{})
	if _, err := l.Lock(context.Background(), ""); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("empty name: %v", err)
	}
}

// With AllowUncoordinated, a refresh whose lease could not be taken (Redis
// did not answer) but whose write reaches Redis again must be stored:
// refusing it would make the Manager adopt the older stored token, whose
// refresh token the uncoordinated refresh has just spent. Its fence orders
// after every lease granted before, and the leases granted after it order
// after it.
func TestUncoordinatedWriteOrdersAfterEarlierLeases(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c, _ := client(t, srv)
	s := newStore(t, c, newKey(t), nil)
	live := newLocker(t, c, redisstore.LockerOptions{})
	dead, err := redisstore.NewClient("redis://127.0.0.1:1/?max_retries=-1&dial_timeout=200ms")
	if err != nil {
		t.Fatal(err)
	}
	defer dead.Close()
	loose := newLocker(t, dead, redisstore.LockerOptions{AllowUncoordinated: true})

	write := func(l *redisstore.Locker, at string, gen uint64) (uint64, error) {
		f, unlock, err := l.LockFenced(ctx, "svc")
		if err != nil {
			t.Fatal(err)
		}
		defer unlock()
		return f, s.SetToken(ctx, "svc", fenced(at, f, gen))
	}
	f1, err := write(live, "a", 1)
	if err != nil {
		t.Fatal(err)
	}
	f2, err := write(loose, "b", 2)
	if err != nil || f2 <= f1 {
		t.Fatalf("uncoordinated write: fence %d after %d, err %v; want a later fence, stored", f2, f1, err)
	}
	f3, err := write(live, "c", 3)
	if err != nil || f3 <= f2 {
		t.Fatalf("the next lease: fence %d after %d, err %v; want a later fence, stored", f3, f2, err)
	}
	if got, err := s.GetToken(ctx, "svc"); err != nil || got.AccessToken != "c" {
		t.Fatalf("GetToken = %v, %v; want c", got, err)
	}
}

// lostReply lets the first script it sees run on the server, then reports
// a timeout, as when the reply is lost or the caller's deadline passes
// while the script runs.
type lostReply struct{ done bool }

func (h *lostReply) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *lostReply) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if !h.done && (cmd.Name() == "evalsha" || cmd.Name() == "eval") {
			h.done = true
			return context.DeadlineExceeded
		}
		return err
	}
}
func (h *lostReply) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// A lease taken on the server whose reply never reached the caller is
// released at once, not left to block every replica for its TTL.
func TestLostLeaseReplyReleased(t *testing.T) {
	ctx := testContext(t)
	srv := redistest.Start(t)
	c1, _ := client(t, srv)
	c2, _ := client(t, srv)
	a := newLocker(t, c1, redisstore.LockerOptions{TTL: time.Minute})
	b := newLocker(t, c2, redisstore.LockerOptions{TTL: time.Minute})
	unlock, err := a.Lock(ctx, "other") // loads the scripts
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	c1.AddHook(&lostReply{})
	if _, err := a.Lock(ctx, "svc"); err == nil {
		t.Fatal("the lost reply was not reported")
	}
	bctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	unlock, err = b.Lock(bctx, "svc")
	if err != nil {
		t.Fatalf("another replica could not take the lease: %v", err)
	}
	unlock()
}
