//go:build !linux

package plugins

import (
	"errors"
	"io"
	"os"
)

// sealedCopy is not available on this platform.
func sealedCopy(io.Reader) (*os.File, string, error) {
	return nil, "", errors.New("plugins: no sealed memory files on this platform")
}
