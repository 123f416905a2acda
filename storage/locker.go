package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnivault/vault"
)

// lockDir is the directory, inside a file vault's directory, that holds
// the lock files. Its leading '.' keeps it apart from every vault path.
const lockDir = ".locks"

// lockPoll is how often a waiting Lock tries the lock again.
const lockPoll = 10 * time.Millisecond

// FileLocker is a core.Locker over advisory file locks (flock(2) on Unix),
// for processes sharing one file vault. Each credential has its own lock
// file, <dir>/.locks/<escaped name>.lock, created 0600 in a 0700
// directory. Lock files are left in place when released.
//
// The operating system releases a lock when its holder exits, however it
// exits, so a process killed while holding a lock never blocks the
// others. Locks on the same name also exclude each other within one
// process.
type FileLocker struct {
	dir string
}

// NewFileLocker returns a FileLocker keeping its lock files under
// <dir>/.locks. dir is usually a FileVault's directory (see
// FileVault.Locker); it is created 0700 if missing.
func NewFileLocker(dir string) (*FileLocker, error) {
	abs, err := makeDir("file locker", dir)
	if err != nil {
		return nil, err
	}
	return &FileLocker{dir: abs}, nil
}

// Lock implements core.Locker. It blocks until the lock for name is held
// or ctx is done, trying again every few milliseconds. The returned unlock
// releases the lock; calling it more than once is harmless. A name that
// cannot be stored is an error matching core.ErrInvalidCredentials.
func (l *FileLocker) Lock(ctx context.Context, name string) (func(), error) {
	seg, err := EscapeName(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: lock %q: %w", name, err)
	}
	file := lockDir + "/" + seg + ".lock"
	if err := l.prepare(file); err != nil {
		return nil, fmt.Errorf("storage: lock %q: %w", name, err)
	}
	fl := flock.New(filepath.Join(l.dir, lockDir, seg+".lock"), flock.SetFlag(lockOpenFlags), flock.SetPermissions(fileMode))
	ok, err := fl.TryLockContext(ctx, lockPoll)
	if err != nil {
		return nil, fmt.Errorf("storage: lock %q: %w", name, err)
	}
	if !ok {
		return nil, fmt.Errorf("storage: lock %q: not acquired", name)
	}
	var once sync.Once
	return func() { once.Do(func() { _ = fl.Unlock() }) }, nil
}

// prepare creates the lock directory and file with the right modes,
// inside the root, refusing a symlink at either.
func (l *FileLocker) prepare(file string) error {
	root, err := os.OpenRoot(l.dir)
	if err != nil {
		return err
	}
	defer root.Close()
	if err := ensureDirs(root, lockDir); err != nil {
		return err
	}
	fi, err := root.Lstat(file)
	if err == nil {
		if fi.Mode()&fs.ModeSymlink != 0 || !fi.Mode().IsRegular() {
			return fmt.Errorf("%w (%w): %s", ErrUnsafeFile, vault.ErrAccessDenied, file)
		}
		if fi.Mode().Perm() != fileMode {
			return root.Chmod(file, fileMode)
		}
		return nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := root.OpenFile(file, os.O_RDONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if errors.Is(err, fs.ErrExist) {
		return nil // created by a concurrent Lock
	}
	if err != nil {
		return err
	}
	cerr := f.Chmod(fileMode)
	if err := f.Close(); cerr == nil {
		cerr = err
	}
	return cerr
}

var _ core.Locker = (*FileLocker)(nil)
