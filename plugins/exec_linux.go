package plugins

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// sealedCopy copies r into a memory file, seals it against any change and
// returns a read-only descriptor of it with the path under which it can be
// executed. The descriptor is close-on-exec: the kernel resolves
// /proc/self/fd/N before it closes such descriptors, so exec works and the
// plugin does not inherit it.
func sealedCopy(r io.Reader) (*os.File, string, error) {
	const mfdExec = 0x10 // MFD_EXEC, Linux 6.3+: executable even under vm.memfd_noexec=1
	fd, err := unix.MemfdCreate("omnitoken-plugin", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING|mfdExec)
	if errors.Is(err, unix.EINVAL) {
		fd, err = unix.MemfdCreate("omnitoken-plugin", unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	}
	if err != nil {
		return nil, "", err
	}
	rw := os.NewFile(uintptr(fd), "omnitoken-plugin")
	defer rw.Close()
	if _, err := io.Copy(rw, r); err != nil {
		return nil, "", err
	}
	seals := unix.F_SEAL_SEAL | unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_WRITE
	if _, err := unix.FcntlInt(rw.Fd(), unix.F_ADD_SEALS, seals); err != nil {
		return nil, "", err
	}
	// A file open for writing cannot be executed (ETXTBSY): keep only a
	// read-only descriptor.
	ro, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", rw.Fd()))
	if err != nil {
		return nil, "", err
	}
	return ro, fmt.Sprintf("/proc/self/fd/%d", ro.Fd()), nil
}
