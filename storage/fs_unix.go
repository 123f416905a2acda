//go:build unix

package storage

import (
	"os"
	"syscall"
)

// openReadFlags opens a secret for reading. O_NONBLOCK keeps a FIFO
// swapped in after the Lstat check from blocking the read.
const openReadFlags = os.O_RDONLY | syscall.O_NONBLOCK

// lockOpenFlags opens a lock file without following a symlink at its path.
const lockOpenFlags = os.O_CREATE | os.O_RDONLY | syscall.O_NOFOLLOW

// syncDir makes a rename or removal in dir durable.
func syncDir(root *os.Root, dir string) error {
	d, err := root.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
