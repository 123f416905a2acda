//go:build unix

package keyring

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/internal/sstest"
	zkeyring "github.com/zalando/go-keyring"
)

// daemonErr is why no Secret Service runs, when none does.
var daemonErr error

// TestMain starts a real gnome-keyring-daemon on a private session bus for
// the whole package, and stops it after.
func TestMain(m *testing.M) {
	d, err := sstest.Start()
	if err != nil {
		daemonErr = err
		if !errors.Is(err, sstest.ErrMissing) {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	} else if err := d.Setenv(); err != nil {
		d.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// godbus keeps one session-bus connection, and its reader, for the
	// life of the process.
	code := m.Run()
	if d != nil {
		d.Stop()
	}
	if code == 0 {
		if err := goleak.Find(goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).inWorker"),
			goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.(*Conn).outWorker"),
			goleak.IgnoreAnyFunction("github.com/godbus/dbus/v5.newConn.func1")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			code = 1
		}
	}
	os.Exit(code)
}

// needDaemon skips a test when the daemon's binaries are not installed.
func needDaemon(t *testing.T) {
	t.Helper()
	if daemonErr != nil {
		t.Skip(daemonErr)
	}
}

func deleteAll(service string) error { return zkeyring.DeleteAll(service) }
