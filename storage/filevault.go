package storage

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/plexusone/omnivault/vault"
)

const (
	// fileExt is appended to a vault path to name its file.
	fileExt = ".json"
	// tempPrefix starts the name of a file being written. Vault paths never
	// have a segment starting with '.', so a temp file is never listed.
	tempPrefix = ".tmp-"
	// tempMaxAge is the age past which a temp file is taken for one left
	// by a writer that died; a live write holds its temp file for moments.
	tempMaxAge = 15 * time.Minute
	// sweepEvery is how often a FileVault looks for such temp files in a
	// directory it writes to.
	sweepEvery = time.Hour
	// maxFileSegment keeps a segment plus fileExt within 255 bytes.
	maxFileSegment = 255 - len(fileExt)
	// MaxFileSize is the largest secret the file vault reads, in bytes.
	MaxFileSize = 8 << 20

	fileMode os.FileMode = 0o600
	dirMode  os.FileMode = 0o700
)

// ErrUnsafeFile is matched by the file vault's errors for a symlink, or
// anything other than a regular file, at a secret's path, and for a
// symlink or file in place of one of its directories. The vault never
// follows such a link, and never reads, writes or deletes its target. The
// error also matches vault.ErrAccessDenied.
var ErrUnsafeFile = errors.New("not a regular file")

// FileVault is a durable vault.Vault over a directory. A secret at path
// "credentials/github" is the file <dir>/credentials/github.json, holding
// the secret's value bytes exactly, so credentials are plain goauth JSON
// files that an operator can read and edit.
//
// Writes are atomic and durable: the value goes to a temp file in the
// same directory, which is synced and renamed into place, and the
// directory is synced. A crash at any point leaves the old file or the new
// one, never a torn one. Files are created 0600 and directories 0700
// whatever the umask; an existing file with a wider mode is narrowed to
// 0600 when it is read or replaced.
//
// Paths are checked before any file system call: an empty path or
// segment, an absolute path, "." or "..", a segment starting with '.'
// (reserved for temp files and locks), a backslash or NUL, or a directory
// segment ending in ".json" is an error matching vault.ErrInvalidPath. All
// access goes through an os.Root, so nothing outside dir is ever created,
// read or written. A symlink at a secret's path, or in place of one of its
// directories, is refused with ErrUnsafeFile, so one path never reaches
// another path's file either.
//
// A writer killed mid-write leaves its temp file behind, holding the
// secret it was writing. Such files are never listed or read, and a write
// removes those in its directory that are older than 15 minutes. So that
// writes stay cheap in a directory of many thousand secrets, a FileVault
// looks at each directory on its first write there and then at most once
// an hour; opening a vault reads no directory. Were a live writer's temp
// file removed, by a sweep in another process misled by a skewed clock,
// that write would fail, never tear a file.
//
// A FileVault is safe for concurrent use. Several processes may share a
// directory: each write replaces a whole file, so readers see one version
// or the other. To serialize read-modify-write cycles across processes,
// use Locker.
type FileVault struct {
	dir string

	mu   sync.RWMutex
	root *os.Root // nil once closed

	sweepMu sync.Mutex
	swept   map[string]time.Time // directory → last look for old temp files
}

// NewFileVault opens the file vault in dir, creating the directory with
// mode 0700 if it does not exist. An existing directory keeps its mode.
func NewFileVault(dir string) (*FileVault, error) {
	abs, err := makeDir("file vault", dir)
	if err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("storage: file vault: %w", err)
	}
	return &FileVault{dir: abs, root: root, swept: map[string]time.Time{}}, nil
}

// makeDir returns dir as an absolute path, creating it with mode 0700 if
// it does not exist; an existing directory keeps its mode. Errors start
// with "storage: " and what.
func makeDir(what, dir string) (string, error) {
	switch {
	case dir == "":
		return "", fmt.Errorf("storage: %s: %w: empty directory name", what, vault.ErrInvalidPath)
	case strings.IndexByte(dir, 0) >= 0:
		return "", fmt.Errorf("storage: %s: %w: directory name contains NUL", what, vault.ErrInvalidPath)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("storage: %s: %w", what, err)
	}
	if _, err := os.Stat(abs); errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(abs, dirMode); err != nil {
			return "", fmt.Errorf("storage: %s: %w", what, err)
		}
		if err := os.Chmod(abs, dirMode); err != nil {
			return "", fmt.Errorf("storage: %s: %w", what, err)
		}
	}
	return abs, nil
}

// Dir returns the vault's directory as an absolute path.
func (v *FileVault) Dir() string { return v.dir }

// Locker returns a FileLocker whose lock files live in the vault's
// directory, under .locks/.
func (v *FileVault) Locker() *FileLocker { return &FileLocker{dir: v.dir} }

// acquire returns the open root, holding a read lock that Close waits for.
func (v *FileVault) acquire(ctx context.Context, op, p string) (*os.Root, func(), error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("storage: file vault: %s %q: %w", op, p, err)
	}
	v.mu.RLock()
	if v.root == nil {
		v.mu.RUnlock()
		return nil, nil, fmt.Errorf("storage: file vault: %s %q: %w", op, p, vault.ErrClosed)
	}
	return v.root, v.mu.RUnlock, nil
}

// Get implements vault.Vault. The secret's Value holds the file's bytes.
func (v *FileVault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	if err := checkPath(p); err != nil {
		return nil, err
	}
	root, done, err := v.acquire(ctx, "get", p)
	if err != nil {
		return nil, err
	}
	defer done()
	data, st, err := readSecret(root, p)
	if err != nil {
		return nil, err
	}
	return &vault.Secret{
		Value: string(data),
		Metadata: vault.Metadata{
			Provider:   v.Name(),
			Path:       p,
			ModifiedAt: vault.NewTimestamp(st.ModTime()),
		},
	}, nil
}

func readSecret(root *os.Root, p string) ([]byte, fs.FileInfo, error) {
	if err := checkDirs(root, path.Dir(p)); err != nil {
		return nil, nil, dirError("get", p, err)
	}
	// A writer's rename between the Lstat check and the open makes the two
	// differ; try again. A symlink swapped in is refused by the next check.
	for range 8 {
		data, st, retry, err := readOnce(root, p)
		if !retry {
			return data, st, err
		}
	}
	return nil, nil, fmt.Errorf("storage: file vault: get %q: %w (%w): file kept changing while it was opened", p, ErrUnsafeFile, vault.ErrAccessDenied)
}

func readOnce(root *os.Root, p string) (data []byte, st fs.FileInfo, retry bool, err error) {
	name := p + fileExt
	fi, err := root.Lstat(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, false, fmt.Errorf("storage: file vault: get %q: %w", p, vault.ErrSecretNotFound)
		}
		return nil, nil, false, fmt.Errorf("storage: file vault: get %q: %w", p, err)
	}
	if err := checkRegular(p, fi); err != nil {
		return nil, nil, false, err
	}
	f, err := root.OpenFile(name, openReadFlags, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, true, nil
		}
		return nil, nil, false, fmt.Errorf("storage: file vault: get %q: %w", p, err)
	}
	defer f.Close()
	st, err = f.Stat()
	if err != nil {
		return nil, nil, false, fmt.Errorf("storage: file vault: get %q: %w", p, err)
	}
	if !os.SameFile(fi, st) {
		return nil, nil, true, nil
	}
	if st.Mode().Perm() != fileMode {
		if err := f.Chmod(fileMode); err != nil {
			return nil, nil, false, fmt.Errorf("storage: file vault: get %q: narrowing mode to 0600: %w", p, err)
		}
	}
	data, err = io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, nil, false, fmt.Errorf("storage: file vault: get %q: %w", p, err)
	}
	if len(data) > MaxFileSize {
		return nil, nil, false, fmt.Errorf("storage: file vault: get %q: file is larger than %d bytes", p, MaxFileSize)
	}
	return data, st, false, nil
}

func checkRegular(p string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("storage: file vault: %q: %w (%w): refusing the symlink at %s", p, ErrUnsafeFile, vault.ErrAccessDenied, p+fileExt)
	case !fi.Mode().IsRegular():
		return fmt.Errorf("storage: file vault: %q: %w (%w): %s is a %s", p, ErrUnsafeFile, vault.ErrAccessDenied, p+fileExt, fileKind(fi.Mode()))
	}
	return nil
}

// dirError wraps an error from checkDirs for op on path p. A missing
// directory means a missing secret.
func dirError(op, p string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: file vault: %s %q: %w", op, p, vault.ErrSecretNotFound)
	}
	return fmt.Errorf("storage: file vault: %s %q: %w", op, p, err)
}

func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	}
	return "special file"
}

// Set implements vault.Vault. It writes the secret's value bytes
// (ValueBytes when set, else Value) atomically and durably; Fields and
// Metadata are not kept.
func (v *FileVault) Set(ctx context.Context, p string, secret *vault.Secret) error {
	if err := checkPath(p); err != nil {
		return err
	}
	if secret == nil {
		return fmt.Errorf("storage: file vault: set %q: nil secret", p)
	}
	root, done, err := v.acquire(ctx, "set", p)
	if err != nil {
		return err
	}
	defer done()
	if err := writeSecret(root, p, secret.Bytes()); err != nil {
		return err
	}
	v.sweepTemps(root, path.Dir(p+fileExt))
	return nil
}

// sweepTemps removes the temp files in dir older than tempMaxAge, unless
// dir was swept less than sweepEvery ago. Errors are ignored: the sweep
// only tidies, and the next one tries again.
func (v *FileVault) sweepTemps(root *os.Root, dir string) {
	now := time.Now()
	v.sweepMu.Lock()
	if last, ok := v.swept[dir]; ok && now.Sub(last) < sweepEvery {
		v.sweepMu.Unlock()
		return
	}
	v.swept[dir] = now
	v.sweepMu.Unlock()
	d, err := root.Open(dir)
	if err != nil {
		return
	}
	defer d.Close()
	for {
		// Names only: no stat of every secret in a large directory.
		names, err := d.Readdirnames(1024)
		for _, n := range names {
			if !strings.HasPrefix(n, tempPrefix) {
				continue
			}
			tmp := path.Join(dir, n)
			if fi, err := root.Lstat(tmp); err == nil && fi.Mode().IsRegular() && now.Sub(fi.ModTime()) > tempMaxAge {
				_ = root.Remove(tmp)
			}
		}
		if err != nil {
			return // io.EOF at the end
		}
	}
}

func writeSecret(root *os.Root, p string, data []byte) error {
	name := p + fileExt
	dir := path.Dir(name)
	if err := ensureDirs(root, dir); err != nil {
		return fmt.Errorf("storage: file vault: set %q: %w", p, err)
	}
	if fi, err := root.Lstat(name); err == nil {
		if err := checkRegular(p, fi); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: file vault: set %q: %w", p, err)
	}

	tmp := path.Join(dir, tempPrefix+randomHex())
	f, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("storage: file vault: set %q: create temp file: %w", p, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = f.Close()
			_ = root.Remove(tmp)
		}
	}()
	if err := f.Chmod(fileMode); err != nil {
		return fmt.Errorf("storage: file vault: set %q: %w", p, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("storage: file vault: set %q: write: %w", p, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("storage: file vault: set %q: sync: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("storage: file vault: set %q: close: %w", p, err)
	}
	// rename never follows a symlink at name: if one appeared since the
	// check above, the link itself is replaced and its target untouched.
	if err := root.Rename(tmp, name); err != nil {
		return fmt.Errorf("storage: file vault: set %q: rename: %w", p, err)
	}
	committed = true
	if err := syncDir(root, dir); err != nil {
		return fmt.Errorf("storage: file vault: set %q: sync directory: %w", p, err)
	}
	return nil
}

// ensureDirs creates each directory of dir (a checked, slash-separated
// path relative to the root) with mode 0700, and narrows an existing one
// to 0700. A symlink or file in the way is an error matching
// ErrUnsafeFile.
func ensureDirs(root *os.Root, dir string) error { return walkDirs(root, dir, true) }

// checkDirs checks that each directory of dir (a checked, slash-separated
// path relative to the root) is a real directory. A symlink or file in
// the way is an error matching ErrUnsafeFile: the root keeps a link
// inside the vault, but following one would let a vault path read, list
// or delete another path's file. A missing directory is an error matching
// fs.ErrNotExist.
func checkDirs(root *os.Root, dir string) error { return walkDirs(root, dir, false) }

func walkDirs(root *os.Root, dir string, create bool) error {
	if dir == "." {
		return nil
	}
	cur := ""
	for seg := range strings.SplitSeq(dir, "/") {
		cur = path.Join(cur, seg)
		fi, err := root.Lstat(cur)
		if create && errors.Is(err, fs.ErrNotExist) {
			if err := root.Mkdir(cur, dirMode); err != nil && !errors.Is(err, fs.ErrExist) {
				return err
			}
			fi, err = root.Lstat(cur)
		}
		if err != nil {
			return err
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w (%w): %s is not a directory", ErrUnsafeFile, vault.ErrAccessDenied, cur)
		}
		if create && fi.Mode().Perm() != dirMode {
			if err := root.Chmod(cur, dirMode); err != nil {
				return err
			}
		}
	}
	return nil
}

func randomHex() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Delete implements vault.Vault. Deleting a missing secret is not an
// error. A symlink at the path is removed itself; its target is never
// touched.
func (v *FileVault) Delete(ctx context.Context, p string) error {
	if err := checkPath(p); err != nil {
		return err
	}
	root, done, err := v.acquire(ctx, "delete", p)
	if err != nil {
		return err
	}
	defer done()
	if err := checkDirs(root, path.Dir(p)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return dirError("delete", p, err)
	}
	name := p + fileExt
	fi, err := root.Lstat(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: file vault: delete %q: %w", p, err)
	}
	if fi.IsDir() {
		return fmt.Errorf("storage: file vault: delete %q: %w (%w): %s is a directory", p, ErrUnsafeFile, vault.ErrAccessDenied, name)
	}
	if err := root.Remove(name); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("storage: file vault: delete %q: %w", p, err)
	}
	if err := syncDir(root, path.Dir(name)); err != nil {
		return fmt.Errorf("storage: file vault: delete %q: sync directory: %w", p, err)
	}
	return nil
}

// Exists implements vault.Vault. A symlink at the path is an error
// matching ErrUnsafeFile.
func (v *FileVault) Exists(ctx context.Context, p string) (bool, error) {
	if err := checkPath(p); err != nil {
		return false, err
	}
	root, done, err := v.acquire(ctx, "exists", p)
	if err != nil {
		return false, err
	}
	defer done()
	if err := checkDirs(root, path.Dir(p)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, dirError("exists", p, err)
	}
	fi, err := root.Lstat(p + fileExt)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("storage: file vault: exists %q: %w", p, err)
	}
	if err := checkRegular(p, fi); err != nil {
		return false, err
	}
	return true, nil
}

// List implements vault.Vault. It returns, sorted, the paths of the
// secrets whose path starts with prefix. Temp files, lock files, symlinks
// and files not named like a secret are never listed.
func (v *FileVault) List(ctx context.Context, prefix string) ([]string, error) {
	start, err := listStart(prefix)
	if err != nil {
		return nil, err
	}
	root, done, err := v.acquire(ctx, "list", prefix)
	if err != nil {
		return nil, err
	}
	defer done()
	out := []string{}
	if err := checkDirs(root, start); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return out, nil
		}
		return nil, dirError("list", prefix, err)
	}
	werr := fs.WalkDir(root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // removed while walking, or no such prefix
			}
			return err
		}
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if name != start && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !d.Type().IsRegular() || !strings.HasSuffix(name, fileExt) {
			return nil
		}
		p := strings.TrimSuffix(name, fileExt)
		if strings.HasPrefix(p, prefix) && checkPath(p) == nil {
			out = append(out, p)
		}
		return nil
	})
	if werr != nil {
		return nil, fmt.Errorf("storage: file vault: list %q: %w", prefix, werr)
	}
	sort.Strings(out)
	return out, nil
}

// listStart returns the directory to walk for prefix: the part up to its
// last '/', checked like a path, or ".".
func listStart(prefix string) (string, error) {
	if strings.ContainsAny(prefix, "\\\x00") || strings.HasPrefix(prefix, "/") {
		return "", fmt.Errorf("storage: file vault: %w: list prefix %q", vault.ErrInvalidPath, prefix)
	}
	i := strings.LastIndexByte(prefix, '/')
	if i < 0 {
		return ".", nil
	}
	dir := prefix[:i]
	if err := checkSegments(dir, true); err != nil {
		return "", fmt.Errorf("storage: file vault: %w: list prefix %q: %s", vault.ErrInvalidPath, prefix, err)
	}
	return dir, nil
}

// Name implements vault.Vault.
func (v *FileVault) Name() string { return "file" }

// Capabilities implements vault.Vault.
func (v *FileVault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true}
}

// Close implements vault.Vault. It waits for calls in progress; later
// calls fail with vault.ErrClosed. Closing again is a no-op.
func (v *FileVault) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.root == nil {
		return nil
	}
	err := v.root.Close()
	v.root = nil
	if err != nil {
		return fmt.Errorf("storage: file vault: close: %w", err)
	}
	return nil
}

// checkPath refuses a vault path that is not safe to map to a file.
func checkPath(p string) error {
	if err := checkSegments(p, false); err != nil {
		return fmt.Errorf("storage: file vault: %w: %q: %s", vault.ErrInvalidPath, p, err)
	}
	return nil
}

type pathError string

// Error returns the reason the path was refused.
func (e pathError) Error() string { return string(e) }

// checkSegments checks a slash-separated relative path. With allDirs, every
// segment names a directory; otherwise the last one names a secret.
func checkSegments(p string, allDirs bool) error {
	switch {
	case p == "":
		return pathError("empty path")
	case strings.IndexByte(p, 0) >= 0:
		return pathError("path contains NUL")
	case strings.IndexByte(p, '\\') >= 0:
		return pathError("path contains a backslash")
	case p[0] == '/':
		return pathError("path is absolute")
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		isDir := allDirs || i < len(segs)-1
		switch {
		case s == "":
			return pathError("path has an empty segment")
		case s == "." || s == "..":
			return pathError("path has a dot segment")
		case s[0] == '.':
			return pathError("path segment starts with '.'")
		case len(s) > maxFileSegment:
			return pathError("path segment is too long")
		case isDir && strings.HasSuffix(s, fileExt):
			return pathError("directory segment ends in " + fileExt)
		}
	}
	return nil
}

var _ vault.Vault = (*FileVault)(nil)
