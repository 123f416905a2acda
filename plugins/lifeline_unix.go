//go:build unix

package plugins

import (
	"os"
	"os/exec"
	"strconv"
	"syscall"
)

// lifelineEnv names the environment variable that tells a plugin which
// file descriptor is the read end of its lifeline: a pipe whose only
// write end the host holds. When the host exits, however it exits, the
// kernel closes that end and the plugin reads end-of-file.
const lifelineEnv = "OMNITOKEN_PLUGIN_LIFELINE_FD"

// attachLifeline gives cmd the read end of a new pipe. The caller keeps
// the write end until the plugin is stopped and closes the read end once
// the process has started.
func attachLifeline(cmd *exec.Cmd) (w, r *os.File, err error) {
	r, w, err = os.Pipe() // both ends close-on-exec: no other child inherits them
	if err != nil {
		return nil, nil, err
	}
	cmd.ExtraFiles = append(cmd.ExtraFiles, r)
	cmd.Env = append(cmd.Env, lifelineEnv+"="+strconv.Itoa(2+len(cmd.ExtraFiles)))
	return w, r, nil
}

// watchHost makes the plugin exit as soon as its host is gone. It does
// nothing when the host gave no lifeline.
func watchHost() {
	v := os.Getenv(lifelineEnv)
	if v == "" {
		return
	}
	_ = os.Unsetenv(lifelineEnv)
	fd, err := strconv.Atoi(v)
	if err != nil || fd < 3 {
		return
	}
	syscall.CloseOnExec(fd) // the plugin's own children must not hold it
	f := os.NewFile(uintptr(fd), "omnitoken-lifeline")
	if f == nil {
		return
	}
	go func() {
		var b [1]byte
		for {
			if _, err := f.Read(b[:]); err != nil {
				// The host is gone. Writing to the dead host's pipes would
				// raise SIGPIPE, so exit without a word.
				os.Exit(0)
			}
		}
	}()
}
