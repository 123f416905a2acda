package storage_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// Helper processes: the test binary runs itself with helperEnv naming a
// mode and helperDirEnv the vault directory.
const (
	helperEnv     = "OMNITOKEN_STORAGE_HELPER"
	helperDirEnv  = "OMNITOKEN_STORAGE_HELPER_DIR"
	helperNameEnv = "OMNITOKEN_STORAGE_HELPER_NAME"
)

// TestHelperProcess is not a test: it is the body of the helper
// processes started by other tests, and returns at once otherwise.
func TestHelperProcess(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	dir := os.Getenv(helperDirEnv)
	var err error
	switch mode {
	case "crashwriter":
		err = crashWriter(dir)
	case "lockholder":
		err = lockHolder(dir, os.Getenv(helperNameEnv))
	default:
		err = fmt.Errorf("unknown helper mode %q", mode)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	os.Exit(0)
}

// lockHolder takes the lock, says "locked", holds it until stdin closes,
// then releases it and says "released".
func lockHolder(dir, name string) error {
	l, err := storage.NewFileLocker(dir)
	if err != nil {
		return err
	}
	unlock, err := l.Lock(context.Background(), name)
	if err != nil {
		return err
	}
	fmt.Println("locked")
	_, _ = io.Copy(io.Discard, os.Stdin)
	unlock()
	fmt.Println("released")
	return nil
}

// helper is a running helper process.
type helper struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines *bufio.Scanner
}

// startHelper starts the test binary in the given helper mode. The process
// is killed at cleanup if it is still running.
func startHelper(t *testing.T, mode, dir string, env ...string) *helper {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperDirEnv+"="+dir)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helper{cmd: cmd, stdin: stdin, lines: bufio.NewScanner(stdout)}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return h
}

// await reads the helper's stdout until a line equal to want.
func (h *helper) await(t *testing.T, want string) {
	t.Helper()
	for h.lines.Scan() {
		if strings.TrimSpace(h.lines.Text()) == want {
			return
		}
	}
	t.Fatalf("helper exited before saying %q: %v", want, h.lines.Err())
}

// kill SIGKILLs the helper and reaps it.
func (h *helper) kill(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = h.cmd.Wait()
}

// deadline bounds a test step that waits on another process.
func deadline(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// newFileVault opens a FileVault in dir, closed when the test ends.
func newFileVault(t *testing.T, dir string) *storage.FileVault {
	t.Helper()
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fv.Close() })
	return fv
}
