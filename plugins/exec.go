package plugins

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/go-plugin"
)

// executable is a plugin binary ready to be run.
type executable struct {
	// path is the binary as the caller named it.
	path string
	// execPath is what is executed: path, or on Linux, when checksums
	// are enforced, a sealed in-memory copy of the bytes that were hashed.
	execPath string
	// sum is the SHA-256 of the binary when checksums are enforced.
	sum []byte
	// copy is the sealed copy, closed by close.
	copy *os.File
}

// secureConfig asks go-plugin to hash execPath again right before it
// runs it; nil when checksums are not enforced.
func (x *executable) secureConfig() *plugin.SecureConfig {
	if x.sum == nil {
		return nil
	}
	return &plugin.SecureConfig{Checksum: x.sum, Hash: sha256.New()}
}

func (x *executable) close() {
	if x.copy != nil {
		_ = x.copy.Close()
		x.copy = nil
	}
}

// parseAllowlist normalises Options.AllowedSHA256.
func parseAllowlist(list []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	m := make(map[string]bool, len(list))
	for _, s := range list {
		h := strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "sha256:"))
		if b, err := hex.DecodeString(h); err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("plugins: AllowedSHA256 entry %q is not a SHA-256 in hex", s)
		}
		m[h] = true
	}
	return m, nil
}

// prepareExecutable checks path against allowed before anything runs.
// With no allowlist the binary is run from path. With one, the binary is
// read once and hashed; a digest not in the list is refused with
// ErrChecksumMismatch. On Linux the bytes read are copied into a sealed
// memory file and that copy is what runs, so a binary swapped or
// rewritten after the check is never executed. Elsewhere go-plugin hashes
// the file again immediately before running it.
func prepareExecutable(path string, allowed map[string]bool) (*executable, error) {
	x := &executable{path: path, execPath: path}
	if allowed == nil {
		return x, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("plugins: %s: %w", path, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("plugins: %s: not a regular file", path)
	}
	h := sha256.New()
	sealed, execPath, err := sealedCopy(io.TeeReader(f, h))
	if err != nil {
		// No sealed copy on this system: hash the file itself.
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return nil, fmt.Errorf("plugins: %s: %w", path, err)
		}
		h.Reset()
		if _, err := io.Copy(h, f); err != nil {
			return nil, fmt.Errorf("plugins: %s: read: %w", path, err)
		}
	}
	x.sum = h.Sum(nil)
	if got := hex.EncodeToString(x.sum); !allowed[got] {
		if sealed != nil {
			_ = sealed.Close()
		}
		return nil, fmt.Errorf("plugins: %s: %w: sha256 %s is not in AllowedSHA256; the binary was not executed", path, ErrChecksumMismatch, got)
	}
	if sealed != nil {
		x.copy, x.execPath = sealed, execPath
	}
	return x, nil
}
