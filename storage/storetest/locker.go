package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
)

// heldFor is how long the suite waits to see that a Lock blocks while
// another holder has the lock. A Lock that returns sooner fails the check;
// one that is merely slow cannot make it pass.
const heldFor = 100 * time.Millisecond

// freeLockWait bounds how long a Lock on a free name may take.
const freeLockWait = 10 * time.Second

// LockerOptions describes the core.Locker under test to TestLocker.
type LockerOptions struct {
	// New returns a locker with no lock held. Required. It is called once
	// or more per subtest; release what it opens with t.Cleanup.
	New func(t *testing.T) core.Locker

	// Peer returns a second locker sharing l's locks, as another process
	// would open it: a FileLocker on the same directory, or a client of
	// the same Redis server. Optional. When set, mutual exclusion is
	// checked between the two as well.
	Peer func(t *testing.T, l core.Locker) core.Locker

	// Abandon takes the lock on name for a holder that then dies without
	// unlocking: a helper process that is killed, or a lease that is
	// never released nor renewed. It returns once the holder is gone.
	// Optional, but core.Locker requires that a dead holder does not block
	// others forever, and the suite can check that only with this hook.
	Abandon func(t *testing.T, l core.Locker, name string)

	// DeadHolderTimeout bounds how long a Lock may wait after Abandon:
	// the lease TTL plus a margin. Default 10 s.
	DeadHolderTimeout time.Duration
}

// TestLocker runs the conformance suite for a core.Locker as subtests of
// t. See the package documentation for what each subtest checks.
func TestLocker(t *testing.T, opts LockerOptions) {
	t.Helper()
	if opts.New == nil {
		t.Fatal("storetest: LockerOptions.New is required")
	}
	if opts.DeadHolderTimeout == 0 {
		opts.DeadHolderTimeout = 10 * time.Second
	}
	s := &lockerSuite{opts: opts}
	t.Run("MutualExclusion", s.testMutualExclusion)
	t.Run("BlocksWhileHeld", s.testBlocks)
	t.Run("Handoff", s.testHandoff)
	t.Run("CancelWhileWaiting", s.testCancelWhileWaiting)
	t.Run("DoneContext", s.testDoneContext)
	t.Run("UnlockIdempotent", s.testUnlockIdempotent)
	t.Run("NamesIndependent", s.testNamesIndependent)
	t.Run("InvalidNames", s.testInvalidNames)
	t.Run("DeadHolder", s.testDeadHolder)
	t.Run("Fences", s.testFences)
}

type lockerSuite struct {
	opts LockerOptions
}

// lockers returns the locker under test and, with Peer, a second one.
func (s *lockerSuite) lockers(t *testing.T) []core.Locker {
	l := s.opts.New(t)
	out := []core.Locker{l}
	if s.opts.Peer != nil {
		out = append(out, s.opts.Peer(t, l))
	}
	return out
}

// lock takes the lock on name or fails t.
func lock(t *testing.T, l core.Locker, name string) func() {
	t.Helper()
	unlock, err := l.Lock(ctx(t), name)
	if err != nil {
		t.Fatalf("Lock(%q): %v", name, err)
	}
	if unlock == nil {
		t.Fatalf("Lock(%q) returned a nil unlock and no error", name)
	}
	return unlock
}

// expectHeld fails t unless Lock(name) on l keeps waiting for heldFor,
// then gives up with the context's error.
func expectHeld(t *testing.T, l core.Locker, name, why string) {
	t.Helper()
	c, cancel := context.WithTimeout(t.Context(), heldFor)
	defer cancel()
	unlock, err := l.Lock(c, name)
	switch {
	case err == nil:
		unlock()
		t.Errorf("Lock(%q) succeeded %s", name, why)
	case !errors.Is(err, context.DeadlineExceeded):
		t.Errorf("Lock(%q) %s = %v; want an error matching context.DeadlineExceeded", name, why, err)
	}
}

// lockers is how many goroutines the MutualExclusion subtest runs, and
// lockRounds how many times each takes the lock: few enough for a locker
// that polls with backoff, as Redis leases do.
const lockers, lockRounds = 8, 5

// testMutualExclusion: goroutines over the locker and its peer each
// increment a counter under the lock. At most one is ever inside, and no
// increment is lost (the counter is not atomic: under -race, a second
// holder is also a reported race).
func (s *lockerSuite) testMutualExclusion(t *testing.T) {
	ls := s.lockers(t)
	const rounds = lockRounds
	var (
		inside  atomic.Int32
		overlap atomic.Int32
		counter int
		wg      sync.WaitGroup
	)
	errs := make(chan error, lockers)
	c := ctx(t)
	for w := range lockers {
		l := ls[w%len(ls)]
		wg.Go(func() {
			for range rounds {
				unlock, err := l.Lock(c, "counter")
				if err != nil {
					errs <- fmt.Errorf("lock: %w", err)
					return
				}
				if inside.Add(1) != 1 {
					overlap.Add(1)
				}
				n := counter
				counter = n + 1
				inside.Add(-1)
				unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := overlap.Load(); n > 0 {
		t.Errorf("two holders of the lock at once, %d times", n)
	}
	if want := lockers * rounds; counter != want && !t.Failed() {
		t.Errorf("counter = %d after %d increments under the lock", counter, want)
	}
}

// testBlocks: while one holder has the lock, Lock on the same name, from
// the same locker or its peer, waits.
func (s *lockerSuite) testBlocks(t *testing.T) {
	ls := s.lockers(t)
	for _, holder := range ls {
		unlock := lock(t, holder, "svc/a")
		for _, waiter := range ls {
			expectHeld(t, waiter, "svc/a", "while another holder has the lock")
		}
		unlock()
		lock(t, holder, "svc/a")()
	}
}

// testHandoff: a Lock waiting for the lock gets it once the holder
// unlocks.
func (s *lockerSuite) testHandoff(t *testing.T) {
	ls := s.lockers(t)
	unlock := lock(t, ls[0], "svc")
	got := make(chan error, 1)
	waiting, c := ls[len(ls)-1], ctx(t)
	go func() {
		u, err := waiting.Lock(c, "svc")
		if err == nil {
			u()
		}
		got <- err
	}()
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Errorf("Lock waiting for the holder to unlock: %v", err)
		}
	case <-time.After(hangGuard):
		t.Errorf("Lock still waiting %s after the holder unlocked", hangGuard)
	}
}

// testCancelWhileWaiting: a Lock waiting for a held lock returns the
// context's error when its context is cancelled, and the lock stays
// usable afterwards.
func (s *lockerSuite) testCancelWhileWaiting(t *testing.T) {
	l := s.opts.New(t)
	unlock := lock(t, l, "svc")
	c, cancel := context.WithCancel(t.Context())
	got := make(chan error, 1)
	go func() {
		u, err := l.Lock(c, "svc")
		if err == nil {
			u()
		}
		got <- err
	}()
	// Cancel while the goroutine waits (or, if it is slow to start,
	// before it calls Lock: either way Lock must fail with Canceled).
	stop := time.AfterFunc(heldFor/2, cancel)
	defer stop.Stop()
	select {
	case err := <-got:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Lock whose context was cancelled while waiting = %v; want an error matching context.Canceled", err)
		}
	case <-time.After(hangGuard):
		t.Fatalf("Lock still waiting %s after its context was cancelled", hangGuard)
	}
	unlock()
	lock(t, l, "svc")()
}

// testDoneContext: Lock with a context already done fails with the
// context's error, even when the lock is free, and takes nothing.
func (s *lockerSuite) testDoneContext(t *testing.T) {
	l := s.opts.New(t)
	u, err := l.Lock(cancelled(), "svc")
	if !errors.Is(err, context.Canceled) {
		if err == nil {
			u()
		}
		t.Errorf("Lock with a cancelled context = %v; want an error matching context.Canceled", err)
	}
	expired, cancel := context.WithDeadline(t.Context(), time.Unix(1, 0))
	defer cancel()
	u, err = l.Lock(expired, "svc")
	if !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			u()
		}
		t.Errorf("Lock with an expired context = %v; want an error matching context.DeadlineExceeded", err)
	}
	lock(t, l, "svc")()
}

// testUnlockIdempotent: calling unlock again does nothing, and above all
// never releases a lock that another holder took since.
func (s *lockerSuite) testUnlockIdempotent(t *testing.T) {
	ls := s.lockers(t)
	first := lock(t, ls[0], "svc")
	first()
	first()
	second := lock(t, ls[len(ls)-1], "svc")
	first()
	expectHeld(t, ls[0], "svc", "after a stale unlock, while a second holder has the lock")
	second()
	second()
	lock(t, ls[0], "svc")()
}

// testNamesIndependent: holding one name never blocks another, including
// names that differ only in case, escaping or a separator.
func (s *lockerSuite) testNamesIndependent(t *testing.T) {
	l := s.opts.New(t)
	pairs := [][2]string{{"a", "b"}, {"a", "A"}, {"a/b", "a%2Fb"}, {"a/b", "a_b"}, {"a b", "a_b"}, {"ünï", "uni"}, {"x", "x "}}
	for _, p := range pairs {
		u1 := lock(t, l, p[0])
		c, cancel := context.WithTimeout(t.Context(), freeLockWait)
		u2, err := l.Lock(c, p[1])
		cancel()
		if err != nil {
			t.Errorf("Lock(%q) while %q is held: %v", p[1], p[0], err)
		} else {
			u2()
		}
		u1()
	}
}

// testInvalidNames: a name driver.CheckName refuses is refused with an
// error matching core.ErrInvalidCredentials.
func (s *lockerSuite) testInvalidNames(t *testing.T) {
	l := s.opts.New(t)
	for what, n := range invalidNames {
		u, err := l.Lock(ctx(t), n)
		if !errors.Is(err, core.ErrInvalidCredentials) {
			if err == nil {
				u()
			}
			t.Errorf("Lock of the %s name = %v; want an error matching core.ErrInvalidCredentials", what, err)
		}
	}
}

// testDeadHolder: a holder that dies without unlocking does not block
// the next Lock beyond DeadHolderTimeout.
func (s *lockerSuite) testDeadHolder(t *testing.T) {
	if s.opts.Abandon == nil {
		t.Skip("LockerOptions.Abandon is not set")
	}
	l := s.opts.New(t)
	s.opts.Abandon(t, l, "svc")
	c, cancel := context.WithTimeout(t.Context(), s.opts.DeadHolderTimeout)
	defer cancel()
	u, err := l.Lock(c, "svc")
	if err != nil {
		t.Fatalf("Lock after the holder died: %v (waited at most %s)", err, s.opts.DeadHolderTimeout)
	}
	u()
}

// testFences: a core.FencingLocker hands out fences that increase with
// every lease on a name, from the locker and its peer alike, and
// LockFenced excludes as Lock does.
func (s *lockerSuite) testFences(t *testing.T) {
	ls := s.lockers(t)
	var fls []core.FencingLocker
	for _, l := range ls {
		fl, ok := l.(core.FencingLocker)
		if !ok {
			t.Skip("the locker is not a core.FencingLocker")
		}
		fls = append(fls, fl)
	}
	var last uint64
	for i := range 4 {
		fl := fls[i%len(fls)]
		fence, unlock, err := fl.LockFenced(ctx(t), "svc")
		if err != nil {
			t.Fatalf("LockFenced: %v", err)
		}
		if i == 0 || fence > last {
			last = fence
		} else {
			t.Errorf("LockFenced gave fence %d after fence %d", fence, last)
		}
		expectHeld(t, ls[(i+1)%len(ls)], "svc", "while LockFenced holds the lock")
		unlock()
		unlock()
	}
}
