//go:build !unix

package storage

import "os"

// openReadFlags opens a secret for reading.
const openReadFlags = os.O_RDONLY

// lockOpenFlags opens a lock file. The Lstat check before it refuses a
// symlink; this platform has no O_NOFOLLOW.
const lockOpenFlags = os.O_CREATE | os.O_RDWR

// syncDir is a no-op where directories cannot be synced.
func syncDir(*os.Root, string) error { return nil }
