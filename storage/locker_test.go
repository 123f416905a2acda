package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// TestFileLockerGoroutines: lockers on one directory serialize a
// read-modify-write of a file vault secret; without the lock, updates
// would be lost.
func TestFileLockerGoroutines(t *testing.T) {
	dir := t.TempDir()
	fv := newFileVault(t, dir)
	other, err := storage.NewFileLocker(dir)
	if err != nil {
		t.Fatal(err)
	}
	lockers := []*storage.FileLocker{fv.Locker(), other}
	ctx := context.Background()
	if err := fv.Set(ctx, "counter", &vault.Secret{Value: "0"}); err != nil {
		t.Fatal(err)
	}
	const workers, rounds = 4, 15
	var inside atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			l := lockers[w%2]
			for range rounds {
				unlock, err := l.Lock(ctx, "counter")
				if err != nil {
					errs <- err
					return
				}
				if n := inside.Add(1); n != 1 {
					errs <- errors.New("two holders at once")
				}
				s, err := fv.Get(ctx, "counter")
				if err == nil {
					n, _ := strconv.Atoi(s.Value)
					err = fv.Set(ctx, "counter", &vault.Secret{Value: strconv.Itoa(n + 1)})
				}
				inside.Add(-1)
				unlock()
				unlock() // harmless
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	s, err := fv.Get(ctx, "counter")
	if err != nil || s.Value != strconv.Itoa(workers*rounds) {
		t.Fatalf("counter = %v, %v; want %d", s, err, workers*rounds)
	}

	// Other names are independent.
	u1, err := fv.Locker().Lock(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := fv.Locker().Lock(deadline(t, 5*time.Second), "b")
	if err != nil {
		t.Fatalf("lock b while a is held: %v", err)
	}
	u2()
	u1()

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := fv.Locker().Lock(cancelled, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock(cancelled) = %v", err)
	}
}

// TestFileLockerKilledHolder: a process holding the lock excludes this
// one; once SIGKILLed, the OS releases its lock and the next Lock
// succeeds.
func TestFileLockerKilledHolder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vault")
	l, err := storage.NewFileLocker(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "lockholder", dir, helperNameEnv+"=svc/a")
	h.await(t, "locked")

	// Held elsewhere: a Lock bounded by a short deadline gives up.
	short, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := l.Lock(short, "svc/a"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Lock while held by another process = %v", err)
	}

	h.kill(t)
	unlock, err := l.Lock(deadline(t, 10*time.Second), "svc/a")
	if err != nil {
		t.Fatalf("Lock after the holder was killed: %v", err)
	}
	unlock()
}

// TestFileLockerProcessHandoff: a Lock waiting on another process's lock
// gets it when that process releases it.
func TestFileLockerProcessHandoff(t *testing.T) {
	dir := t.TempDir()
	l, err := storage.NewFileLocker(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := startHelper(t, "lockholder", dir, helperNameEnv+"=svc")
	h.await(t, "locked")
	got := make(chan error, 1)
	go func() {
		unlock, err := l.Lock(deadline(t, 10*time.Second), "svc")
		if err == nil {
			unlock()
		}
		got <- err
	}()
	_ = h.stdin.Close() // the helper unlocks and exits
	h.await(t, "released")
	if err := <-got; err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	if err := h.cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
}

// TestBadDirectory: an empty directory name, or one holding NUL, is
// refused by NewFileVault and NewFileLocker with vault.ErrInvalidPath.
func TestBadDirectory(t *testing.T) {
	for _, dir := range []string{"", "a\x00b"} {
		if _, err := storage.NewFileVault(dir); !errors.Is(err, vault.ErrInvalidPath) || !strings.HasPrefix(err.Error(), "storage: file vault: ") {
			t.Errorf("NewFileVault(%q) = %v", dir, err)
		}
		if _, err := storage.NewFileLocker(dir); !errors.Is(err, vault.ErrInvalidPath) || !strings.HasPrefix(err.Error(), "storage: file locker: ") {
			t.Errorf("NewFileLocker(%q) = %v", dir, err)
		}
	}
}
