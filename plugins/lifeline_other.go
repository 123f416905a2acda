//go:build !unix

package plugins

import (
	"os"
	"os/exec"
)

// attachLifeline is not available on this platform: a plugin is stopped
// by Close only.
func attachLifeline(*exec.Cmd) (w, r *os.File, err error) { return nil, nil, nil }

// watchHost does nothing on this platform.
func watchHost() {}
