//go:build unix

// Package sstest starts a real Secret Service for tests: a private D-Bus
// session bus (dbus-daemon) and gnome-keyring-daemon on it, with a
// temporary home whose login keyring is created and unlocked with a
// password written to the daemon's standard input.
//
// It is meant for TestMain, before anything opens the session bus:
// godbus connects to the bus named by DBUS_SESSION_BUS_ADDRESS once per
// process.
package sstest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// ErrMissing is matched by Start's error when dbus-daemon or
// gnome-keyring-daemon is not installed and the run is not CI (the CI
// environment variable is empty), so that tests may skip. Under CI a
// missing binary is an error that does not match ErrMissing: CI installs
// both, and a run that skipped the keyring tests would pass unseen.
var ErrMissing = errors.New("sstest: dbus-daemon or gnome-keyring-daemon not installed (Debian: apt-get install dbus gnome-keyring)")

// missing is Start's error when a binary is not found.
func missing(lookErr error) error {
	if os.Getenv("CI") != "" {
		return fmt.Errorf("sstest: CI is set, so the real Secret Service is required: %w (Debian: apt-get install dbus gnome-keyring)", lookErr)
	}
	return ErrMissing
}

// Daemon is a running session bus with a Secret Service on it.
type Daemon struct {
	// Address is the bus address, as DBUS_SESSION_BUS_ADDRESS wants it.
	Address string
	dir     string
	bus     *exec.Cmd
	keyring *exec.Cmd
}

// Start starts the bus and the keyring daemon under a new temporary
// directory, and waits (at most 20 s) until the Secret Service answers.
// It does not change the environment; see Setenv.
func Start() (*Daemon, error) {
	busBin, err1 := exec.LookPath("dbus-daemon")
	krBin, err2 := exec.LookPath("gnome-keyring-daemon")
	if err := errors.Join(err1, err2); err != nil {
		return nil, missing(err)
	}
	dir, err := os.MkdirTemp("", "sstest-")
	if err != nil {
		return nil, err
	}
	d := &Daemon{dir: dir}
	ok := false
	defer func() {
		if !ok {
			d.Stop()
		}
	}()
	home := filepath.Join(dir, "home")
	if err := os.MkdirAll(home, 0o700); err != nil {
		return nil, err
	}
	env := append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+dir, "XDG_DATA_HOME="+filepath.Join(home, ".local/share"))

	d.Address = "unix:path=" + filepath.Join(dir, "bus")
	d.bus = exec.Command(busBin, "--session", "--nofork", "--nosyslog", "--address="+d.Address, "--print-address=1")
	d.bus.Env = env
	d.bus.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := d.bus.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var busErr bytes.Buffer
	d.bus.Stderr = &busErr
	if err := d.bus.Start(); err != nil {
		return nil, fmt.Errorf("sstest: start dbus-daemon: %w", err)
	}
	// dbus-daemon prints its address once it listens.
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(out).ReadString('\n')
		line <- s
	}()
	select {
	case s := <-line:
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("sstest: dbus-daemon exited: %s", busErr.String())
		}
	case <-time.After(10 * time.Second):
		return nil, errors.New("sstest: dbus-daemon did not print its address in 10 s")
	}

	env = append(env, "DBUS_SESSION_BUS_ADDRESS="+d.Address)
	d.keyring = exec.Command(krBin, "--foreground", "--unlock", "--components=secrets")
	d.keyring.Env = env
	d.keyring.Stdin = strings.NewReader("test-password") // EOF ends the password
	var krOut bytes.Buffer
	d.keyring.Stdout, d.keyring.Stderr = &krOut, &krOut
	d.keyring.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := d.keyring.Start(); err != nil {
		return nil, fmt.Errorf("sstest: start gnome-keyring-daemon: %w", err)
	}
	// Ready once the bus knows org.freedesktop.secrets.
	deadline := time.Now().Add(20 * time.Second)
	for {
		q := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus",
			"/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.secrets")
		q.Env = env
		if b, err := q.Output(); err == nil && bytes.Contains(b, []byte("boolean true")) {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("sstest: gnome-keyring-daemon did not take org.freedesktop.secrets in 20 s: %s", krOut.String())
		}
		time.Sleep(50 * time.Millisecond) // polling an external daemon, under the deadline above
	}
	ok = true
	return d, nil
}

// Setenv points this process's session bus at the daemon.
func (d *Daemon) Setenv() error {
	return os.Setenv("DBUS_SESSION_BUS_ADDRESS", d.Address)
}

// Stop ends both daemons and removes the temporary directory.
func (d *Daemon) Stop() {
	for _, c := range []*exec.Cmd{d.keyring, d.bus} {
		if c != nil && c.Process != nil {
			_ = syscall.Kill(-c.Process.Pid, syscall.SIGTERM)
			_ = c.Wait()
		}
	}
	if d.dir != "" {
		_ = os.RemoveAll(d.dir)
	}
}
