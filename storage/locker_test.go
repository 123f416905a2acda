package storage_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

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
