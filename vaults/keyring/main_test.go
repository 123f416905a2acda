//go:build unix

package keyring

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/internal/sstest"
	"github.com/plexusone/omnivault/vault"
	zkeyring "github.com/zalando/go-keyring"
)

// daemonErr is why no Secret Service runs, when none does.
var daemonErr error

// TestMain starts a real gnome-keyring-daemon on a private session bus for
// the whole package, and stops it after.
func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(helperMain())
	}
	// The write lock lives under the user's cache directory: keep it in
	// a directory of the test run's own, shared with helper processes.
	cache, err := os.MkdirTemp("", "keyring-cache-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := os.Setenv("XDG_CACHE_HOME", cache); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
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
	_ = os.RemoveAll(cache)
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

// Helper processes: the test binary runs itself with helperEnv set.
const (
	helperEnv        = "OMNITOKEN_KEYRING_HELPER"
	helperServiceEnv = "OMNITOKEN_KEYRING_HELPER_SERVICE"
	helperIDEnv      = "OMNITOKEN_KEYRING_HELPER_ID"
)

// helperMain is a writer process: it stores helperPaths new paths with
// chunked values under the service, then exits 0.
func helperMain() int {
	v, err := New(Options{Service: os.Getenv(helperServiceEnv)})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx := context.Background()
	for i := range helperPaths {
		p := fmt.Sprintf("p/%s/%d", os.Getenv(helperIDEnv), i)
		if err := v.Set(ctx, p, &vault.Secret{Value: strings.Repeat(p+"|", 1500)}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
	}
	return 0
}
