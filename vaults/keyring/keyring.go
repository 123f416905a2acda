// Package keyring is an omnivault vault over the operating system's
// credential store: the macOS Keychain, the Secret Service on Linux and
// the BSDs (GNOME Keyring, KWallet, KeePassXC), and the Windows Credential
// Manager. A blank import registers it with omnivault under two URI
// schemes, so that omnitoken.NewFromVaultURI opens it:
//
//	import _ "github.com/plexusone/omnitoken/vaults/keyring"
//
//	tm, err := omnitoken.NewFromVaultURI("keyring://")          // service "omnitoken"
//	tm, err := omnitoken.NewFromVaultURI("keyring://my-agent")  // service "my-agent"
//	tm, err := omnitoken.NewFromVaultURI("keychain://my-agent") // the same, on macOS only
//
// Every secret is an item of the named service, its account being the
// vault path ("credentials/github").
//
// # Why github.com/zalando/go-keyring, and not omnivault-keyring
//
// github.com/plexusone/omnivault-keyring v0.2.0 is a thin vault over
// zalando/go-keyring. It was not used because it stores each value in one
// item, so a token with a large ID token or a service-account key fails on
// macOS (about 3 KB per item) and Windows (2,560 bytes); it swallows the
// errors of its List index (a failed index write loses the name silently);
// it ignores the context; and its JSON mode falls back to returning a
// stored value as is when it does not parse. This package uses
// zalando/go-keyring directly and adds what was missing:
//
//   - Size: a value is compressed (when that makes it smaller) and split
//     into items of at most ChunkSize bytes of text, which fits every
//     platform's limit. The item at the path holds the value itself when
//     it fits, or else a small head naming the chunks and the SHA-256 of
//     their concatenation. Chunks are written before the head that names
//     them, under a fresh random generation, and the old chunks are
//     removed after, so a reader sees the old value or the new one; a
//     reader that races a rewrite re-reads the head.
//   - Listing: OS keyrings cannot enumerate items portably, so the vault
//     keeps an index item (itself chunked as needed) of the paths it holds.
//     Its errors are returned, never dropped.
//   - Writers: the keyring offers no compare-and-swap, so writes (and the
//     index updates they make) are serialized by a lock file per service
//     (storage.FileLocker, see Options.LockDir), which every process of
//     the user on this machine shares; a process killed while holding it
//     releases it. Processes on other machines never share an OS keyring.
//   - The context is checked before each keyring call.
//
// The keyring can also hold the keys of omnitoken's encryption at rest
// (storage.EncryptVault) for another vault, such as a file vault:
// EncryptionKeys reads them, and AddEncryptionKey and
// DropOldEncryptionKeys rotate them.
//
// Paths starting with ".omnitoken/" are reserved for the index, the chunks
// and the encryption keys, and are refused with vault.ErrInvalidPath, as
// are empty paths and paths longer than MaxPathLen bytes.
//
// A value stored by another program (secret-tool, the Keychain app) under
// the same service and account is read back as is.
//
// # Testing
//
// The tests run against a real gnome-keyring-daemon on a private D-Bus
// session bus, started with a temporary home and unlocked with a password
// on its standard input; they are skipped, with a message saying what to
// install, only where dbus-daemon or gnome-keyring-daemon is missing.
package keyring

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
	zkeyring "github.com/zalando/go-keyring"
)

const (
	// DefaultService is the service name when none is given.
	DefaultService = "omnitoken"
	// ChunkSize is the most text one keyring item holds. go-keyring's
	// limits are 2,560 bytes on Windows and a 4,096-byte command line,
	// holding the base64 of the value and the names, on macOS.
	ChunkSize = 2000
	// MaxPathLen is the longest vault path, in bytes.
	MaxPathLen = 1024
	// maxServiceLen bounds the service name (the macOS command line).
	maxServiceLen = 256
	// maxChunks bounds a value at about 4 MB of stored text.
	maxChunks = 2048

	reserved = ".omnitoken/"
	indexKey = reserved + "index"
	// magic starts every value this package writes.
	magic = "omnitoken-keyring:1:"
	// readTries is how often a read that raced a rewrite starts over.
	readTries = 8
)

// Options configures a Vault.
type Options struct {
	// Service names the keyring service every item belongs to. Default
	// "omnitoken".
	Service string

	// LockDir is the directory of the lock file that serializes the
	// writes of every process on this machine using the same service, so
	// that no index update or chunk is lost to a concurrent writer.
	// Default: omnitoken/keyring under the user's cache directory
	// (os.UserCacheDir). It is created 0700 on the first write.
	LockDir string
}

// Vault is a vault.Vault over the OS credential store. It is safe for
// concurrent use, and for use by several processes on one machine.
type Vault struct {
	service  string
	lockDir  string
	lockName string

	mu       sync.Mutex // serializes writes within the process
	lockOnce sync.Once
	locker   *storage.FileLocker
	lockErr  error

	closed  bool
	closeMu sync.RWMutex
}

// New returns a Vault over the OS credential store. It does not contact the
// store; the first operation does.
func New(opts Options) (*Vault, error) {
	if opts.Service == "" {
		opts.Service = DefaultService
	}
	if len(opts.Service) > maxServiceLen || strings.ContainsAny(opts.Service, "\x00\n") {
		return nil, fmt.Errorf("keyring: service name is longer than %d bytes or holds a NUL or newline", maxServiceLen)
	}
	if opts.LockDir == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("keyring: no directory for the write lock (set Options.LockDir): %w", err)
		}
		opts.LockDir = filepath.Join(dir, "omnitoken", "keyring")
	}
	sum := sha256.Sum256([]byte(opts.Service))
	return &Vault{service: opts.Service, lockDir: opts.LockDir, lockName: "service-" + hex.EncodeToString(sum[:8])}, nil
}

// lockWrites takes the process's and the machine's write lock for the
// service. The returned func releases both.
func (v *Vault) lockWrites(ctx context.Context) (func(), error) {
	v.lockOnce.Do(func() { v.locker, v.lockErr = storage.NewFileLocker(v.lockDir) })
	if v.lockErr != nil {
		return nil, fmt.Errorf("write lock: %w", v.lockErr)
	}
	v.mu.Lock()
	unlock, err := v.locker.Lock(ctx, v.lockName)
	if err != nil {
		v.mu.Unlock()
		return nil, fmt.Errorf("write lock: %w", err)
	}
	return func() { unlock(); v.mu.Unlock() }, nil
}

// Schemes registered with omnivault by this package.
const (
	SchemeKeyring  = "keyring"
	SchemeKeychain = "keychain"
)

func init() {
	omnivault.RegisterProvider(SchemeKeyring, Open)
	omnivault.RegisterProvider(SchemeKeychain, Open)
}

// Open opens a Vault from a URI: keyring://SERVICE, or keychain://SERVICE
// on macOS. An empty SERVICE is DefaultService. A query or fragment, a
// path after the service, or keychain:// on another system is an error.
func Open(uri string) (vault.Vault, error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, fmt.Errorf("keyring: vault URI does not parse: %w", errors.Unwrap(err))
	}
	switch u.Scheme {
	case SchemeKeyring:
	case SchemeKeychain:
		if runtime.GOOS != "darwin" {
			return nil, fmt.Errorf("keyring: keychain:// is the macOS Keychain; on %s use keyring://", runtime.GOOS)
		}
	default:
		return nil, fmt.Errorf("keyring: vault URI scheme %q is not keyring:// or keychain://", u.Scheme)
	}
	if u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "" {
		return nil, fmt.Errorf("keyring: vault URI %s://… has more than a service name (want %s://SERVICE)", u.Scheme, u.Scheme)
	}
	return New(Options{Service: u.Host})
}

// Service returns the keyring service name.
func (v *Vault) Service() string { return v.service }

func (v *Vault) check(ctx context.Context, op, path string, needPath bool) error {
	v.closeMu.RLock()
	closed := v.closed
	v.closeMu.RUnlock()
	if closed {
		return v.err(op, path, vault.ErrClosed)
	}
	if err := ctx.Err(); err != nil {
		return v.err(op, path, err)
	}
	if !needPath {
		return nil
	}
	switch {
	case path == "":
		return v.err(op, path, fmt.Errorf("%w: empty path", vault.ErrInvalidPath))
	case len(path) > MaxPathLen:
		return v.err(op, path[:32]+"…", fmt.Errorf("%w: path is %d bytes, longer than %d", vault.ErrInvalidPath, len(path), MaxPathLen))
	case strings.HasPrefix(path, reserved):
		return v.err(op, path, fmt.Errorf("%w: paths under %q are reserved", vault.ErrInvalidPath, reserved))
	case strings.ContainsAny(path, "\x00\n"):
		return v.err(op, "", fmt.Errorf("%w: path holds a NUL or newline", vault.ErrInvalidPath))
	}
	return nil
}

func (v *Vault) err(op, path string, err error) error {
	return vault.NewVaultError(op, path, "keyring", err)
}

// mapErr turns go-keyring's errors into omnivault's.
func mapErr(err error) error {
	switch {
	case errors.Is(err, zkeyring.ErrNotFound):
		return vault.ErrSecretNotFound
	case errors.Is(err, zkeyring.ErrSetDataTooBig):
		return fmt.Errorf("%w: the keyring refused an item of %d bytes or less as too big", err, ChunkSize)
	}
	return fmt.Errorf("%w: %w", vault.ErrConnectionFailed, err)
}

// encodeBlob compresses b when that helps and returns it as base64 text
// with a one-letter mode: "z" deflate, "r" raw.
func encodeBlob(b []byte) string {
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression) // a valid level never fails
	_, _ = w.Write(b)                                  // a bytes.Buffer never fails
	_ = w.Close()
	if z.Len() < len(b) {
		return "z" + base64.StdEncoding.EncodeToString(z.Bytes())
	}
	return "r" + base64.StdEncoding.EncodeToString(b)
}

// maxValue bounds a decompressed value.
const maxValue = 16 << 20

func decodeBlob(s string) ([]byte, error) {
	if s == "" {
		return nil, errors.New("empty item")
	}
	raw, err := base64.StdEncoding.DecodeString(s[1:])
	if err != nil {
		return nil, errors.New("item is not valid base64")
	}
	switch s[0] {
	case 'r':
		return raw, nil
	case 'z':
		out, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(raw)), maxValue+1))
		if err != nil || len(out) > maxValue {
			return nil, errors.New("item does not decompress")
		}
		return out, nil
	}
	return nil, errors.New("item has an unknown encoding")
}

// head is a parsed head item: inline data, or a list of chunks.
type head struct {
	inline string
	gen    string
	n      int
	sum    string
}

// ErrDamaged is matched by the error of a read that finds a value's head
// but not the chunks it names, or chunks that do not match its checksum,
// after retrying for a concurrent rewrite. Writers remove a head before
// its chunks, so this is damage (an item deleted or altered by another
// tool), never absence: it does not match vault.ErrSecretNotFound, and a
// damaged index makes writes fail instead of rebuilding it from nothing.
var ErrDamaged = errors.New("keyring: stored item is damaged")

func chunkKey(gen string, i int) string { return reserved + gen + "/" + strconv.Itoa(i) }

// readItem reads the blob stored at account (a path or the index key).
// foreign reports a value not written by this package, returned as is.
func (v *Vault) readItem(ctx context.Context, account string) (blob string, foreign bool, err error) {
	for try := 0; ; try++ {
		if err := ctx.Err(); err != nil {
			return "", false, err
		}
		text, err := zkeyring.Get(v.service, account)
		if err != nil {
			// The Secret Service replaces an item by a new object, so a
			// read racing a rewrite can find the old one gone: retry.
			if errors.Is(err, zkeyring.ErrNotFound) || try+1 == readTries {
				return "", false, mapErr(err)
			}
			continue
		}
		h, ok, err := parseHead(text)
		if err != nil {
			return "", false, err
		}
		if !ok {
			return text, true, nil
		}
		if h.gen == "" {
			return h.inline, false, nil
		}
		var b strings.Builder
		raced := false
		for i := range h.n {
			if err := ctx.Err(); err != nil {
				return "", false, err
			}
			c, err := zkeyring.Get(v.service, chunkKey(h.gen, i))
			if errors.Is(err, zkeyring.ErrNotFound) {
				raced = true // rewritten meanwhile: its chunks were removed
				break
			}
			if err != nil {
				if try+1 == readTries {
					return "", false, mapErr(err)
				}
				raced = true
				break
			}
			b.WriteString(c)
		}
		if !raced {
			sum := sha256.Sum256([]byte(b.String()))
			if hex.EncodeToString(sum[:]) == h.sum {
				return b.String(), false, nil
			}
		}
		if try+1 == readTries {
			return "", false, fmt.Errorf("%w: the chunks of the item are missing or do not match its checksum", ErrDamaged)
		}
	}
}

// parseHead parses a head item. ok is false for a foreign value.
func parseHead(text string) (h head, ok bool, err error) {
	rest, ok := strings.CutPrefix(text, magic)
	if !ok {
		return head{}, false, nil
	}
	if inline, ok := strings.CutPrefix(rest, "i:"); ok {
		return head{inline: inline}, true, nil
	}
	f := strings.Split(rest, ":")
	if len(f) != 4 || f[0] != "c" {
		return head{}, true, errors.New("keyring item head does not parse")
	}
	n, err := strconv.Atoi(f[2])
	if err != nil || n < 1 || n > maxChunks || len(f[1]) != 16 || len(f[3]) != 64 {
		return head{}, true, errors.New("keyring item head does not parse")
	}
	return head{gen: f[1], n: n, sum: f[3]}, true, nil
}

// writeItem stores blob at account, chunked when needed, and removes the
// chunks of the value it replaces. Callers hold the write lock.
func (v *Vault) writeItem(ctx context.Context, account, blob string) error {
	if len(blob) > maxChunks*ChunkSize {
		return fmt.Errorf("%w: value is too large for the keyring (%d bytes stored)", vault.ErrNotSupported, len(blob))
	}
	old := v.oldChunks(account)
	var text string
	var gen string
	if len(magic)+2+len(blob) <= ChunkSize {
		text = magic + "i:" + blob
	} else {
		var g [8]byte
		if _, err := rand.Read(g[:]); err != nil {
			return err
		}
		gen = hex.EncodeToString(g[:])
		n := 0
		for off := 0; off < len(blob); off += ChunkSize {
			if err := ctx.Err(); err != nil {
				v.removeChunks(head{gen: gen, n: n})
				return err
			}
			if err := zkeyring.Set(v.service, chunkKey(gen, n), blob[off:min(off+ChunkSize, len(blob))]); err != nil {
				v.removeChunks(head{gen: gen, n: n})
				return mapErr(err)
			}
			n++
		}
		sum := sha256.Sum256([]byte(blob))
		text = magic + "c:" + gen + ":" + strconv.Itoa(n) + ":" + hex.EncodeToString(sum[:])
	}
	if err := zkeyring.Set(v.service, account, text); err != nil {
		if gen != "" {
			v.removeChunks(head{gen: gen, n: (len(blob) + ChunkSize - 1) / ChunkSize})
		}
		return mapErr(err)
	}
	if old.gen != "" && old.gen != gen {
		v.removeChunks(old)
	}
	return nil
}

// oldChunks returns the head of the chunked value at account, if any.
func (v *Vault) oldChunks(account string) head {
	text, err := zkeyring.Get(v.service, account)
	if err != nil {
		return head{}
	}
	h, ok, err := parseHead(text)
	if !ok || err != nil {
		return head{}
	}
	return h
}

// removeChunks deletes a value's chunks, best effort: a chunk left behind
// holds part of an old value, is never read again, and is removed with
// the service's other items by the keyring's own tools.
func (v *Vault) removeChunks(h head) {
	for i := range h.n {
		_ = zkeyring.Delete(v.service, chunkKey(h.gen, i))
	}
}

// Get implements vault.Vault. A missing path is an error matching
// vault.ErrSecretNotFound; a damaged one, ErrDamaged.
func (v *Vault) Get(ctx context.Context, path string) (*vault.Secret, error) {
	if err := v.check(ctx, "Get", path, true); err != nil {
		return nil, err
	}
	blob, foreign, err := v.readItem(ctx, path)
	if err != nil {
		return nil, v.err("Get", path, err)
	}
	if foreign {
		return &vault.Secret{Value: blob, Metadata: vault.Metadata{Provider: "keyring", Path: path}}, nil
	}
	b, err := decodeBlob(blob)
	if err != nil {
		return nil, v.err("Get", path, err)
	}
	return &vault.Secret{Value: string(b), Metadata: vault.Metadata{Provider: "keyring", Path: path}}, nil
}

// Set implements vault.Vault. The secret's value (ValueBytes when set) is
// stored; its Fields are not, since the vault reports no MultiField.
func (v *Vault) Set(ctx context.Context, path string, s *vault.Secret) error {
	if err := v.check(ctx, "Set", path, true); err != nil {
		return err
	}
	if s == nil {
		return v.err("Set", path, errors.New("nil secret"))
	}
	unlock, err := v.lockWrites(ctx)
	if err != nil {
		return v.err("Set", path, err)
	}
	defer unlock()
	if err := v.writeItem(ctx, path, encodeBlob(s.Bytes())); err != nil {
		return v.err("Set", path, err)
	}
	// The value is written: a cancellation now must not leave it out of
	// the index (unlisted, and so skipped by Rekey) with Set reporting
	// that it failed.
	if err := v.updateIndex(context.WithoutCancel(ctx), path, true); err != nil {
		return v.err("Set", path, err)
	}
	return nil
}

// Delete implements vault.Vault. Deleting a missing path is not an error.
func (v *Vault) Delete(ctx context.Context, path string) error {
	if err := v.check(ctx, "Delete", path, true); err != nil {
		return err
	}
	unlock, err := v.lockWrites(ctx)
	if err != nil {
		return v.err("Delete", path, err)
	}
	defer unlock()
	old := v.oldChunks(path)
	if err := zkeyring.Delete(v.service, path); err != nil && !errors.Is(err, zkeyring.ErrNotFound) {
		return v.err("Delete", path, mapErr(err))
	}
	if old.gen != "" {
		v.removeChunks(old)
	}
	// The value is gone: finish the index whatever the context says.
	if err := v.updateIndex(context.WithoutCancel(ctx), path, false); err != nil {
		return v.err("Delete", path, err)
	}
	return nil
}

// Exists implements vault.Vault.
func (v *Vault) Exists(ctx context.Context, path string) (bool, error) {
	if err := v.check(ctx, "Exists", path, true); err != nil {
		return false, err
	}
	_, err := zkeyring.Get(v.service, path)
	if errors.Is(err, zkeyring.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, v.err("Exists", path, mapErr(err))
	}
	return true, nil
}

// List implements vault.Vault from the vault's index: the sorted paths
// starting with prefix.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	if err := v.check(ctx, "List", prefix, false); err != nil {
		return nil, err
	}
	idx, err := v.loadIndex(ctx)
	if err != nil {
		return nil, v.err("List", prefix, err)
	}
	out := []string{}
	for _, p := range idx {
		if strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (v *Vault) loadIndex(ctx context.Context) ([]string, error) {
	blob, foreign, err := v.readItem(ctx, indexKey)
	if errors.Is(err, vault.ErrSecretNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	if foreign {
		return nil, errors.New("index item was not written by this package")
	}
	b, err := decodeBlob(blob)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	var idx []string
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, errors.New("index item is not a JSON list")
	}
	return idx, nil
}

// updateIndex adds or removes path. Callers hold the write lock.
func (v *Vault) updateIndex(ctx context.Context, path string, add bool) error {
	idx, err := v.loadIndex(ctx)
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(idx, path)
	switch {
	case add && found, !add && !found:
		return nil
	case add:
		idx = slices.Insert(idx, i, path)
	default:
		idx = slices.Delete(idx, i, i+1)
	}
	b, _ := json.Marshal(idx) // a []string always encodes
	if err := v.writeItem(ctx, indexKey, encodeBlob(b)); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// Name implements vault.Vault.
func (v *Vault) Name() string { return "keyring" }

// Capabilities implements vault.Vault.
func (v *Vault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true, Binary: true}
}

// Close implements vault.Vault; later calls fail with vault.ErrClosed.
// Items stay in the keyring.
func (v *Vault) Close() error {
	v.closeMu.Lock()
	v.closed = true
	v.closeMu.Unlock()
	return nil
}

var _ vault.Vault = (*Vault)(nil)
