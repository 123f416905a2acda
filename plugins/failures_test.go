package plugins_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

// proc is what the tests read of a process in /proc.
type proc struct {
	state byte   // R, S, D, Z (zombie), …
	ppid  int    // parent
	start string // start time in clock ticks: tells a reused pid apart
}

// procStat reads /proc/pid/stat, or reports ok false when there is no
// such process.
func procStat(t *testing.T, pid int) (p proc, ok bool) {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return proc{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 || i+2 >= len(s) {
		return proc{}, false
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state), f[1] field 4 (ppid), f[19] field 22 (starttime)
	if len(f) < 20 {
		return proc{}, false
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return proc{}, false
	}
	return proc{state: f[0][0], ppid: ppid, start: f[19]}, true
}

// needProc skips the test where there is no /proc.
func needProc(t *testing.T) {
	t.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc on this system")
	}
}

// processRunning reports whether pid runs (a zombie has exited). A start
// time, when given, guards against a reused pid.
func processRunning(t *testing.T, pid int, start string) bool {
	t.Helper()
	needProc(t)
	p, ok := procStat(t, pid)
	if !ok || p.state == 'Z' || p.state == 'X' {
		return false
	}
	return start == "" || p.start == start
}

// noChildren fails t if a child process of this test binary is still
// running: a plugin that was refused, failed or closed must leave no
// process behind. (A plugin would exit when the test binary does, so only
// a check while the host lives finds such a leak.) The tests do not run
// in parallel and wait for what else they start, so any child is a
// leaked plugin.
func noChildren(t *testing.T) {
	t.Helper()
	needProc(t)
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	self := os.Getpid()
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if p, ok := procStat(t, pid); ok && p.ppid == self && p.state != 'Z' && p.state != 'X' {
			cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
			t.Errorf("child process %d (%s) is still running", pid, strings.ReplaceAll(string(cmd), "\x00", " "))
		}
	}
}

// kill sends SIGKILL to pid.
func kill(t *testing.T, pid int) {
	t.Helper()
	p, err := os.FindProcess(pid)
	if err == nil {
		err = p.Kill()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func sha256File(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// TestChecksumMismatchNeverRuns: a binary with one
// byte flipped is refused and never executed.
func TestChecksumMismatchNeverRuns(t *testing.T) {
	orig := plugins.BuildTestPlugin(t, 0)
	dir := t.TempDir()
	tampered := filepath.Join(dir, "tampered")
	b, err := os.ReadFile(orig)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 0x01 // the section header table: the binary still runs
	if err := os.WriteFile(tampered, b, 0o755); err != nil {
		t.Fatal(err)
	}

	marker := filepath.Join(dir, "ran")
	_, err = plugins.Open(tampered, plugins.Options{
		AllowedSHA256: []string{sha256File(t, orig)},
		Env:           []string{"OMNITOKEN_TESTPLUGIN_MARKER=" + marker},
	})
	if !errors.Is(err, plugins.ErrChecksumMismatch) || !strings.Contains(err.Error(), tampered) {
		t.Fatalf("Open(tampered) = %v, want ErrChecksumMismatch naming the file", err)
	}
	if _, serr := os.Stat(marker); !errors.Is(serr, os.ErrNotExist) {
		t.Fatalf("the refused binary ran: marker %v", serr)
	}
	noChildren(t)

	// Control: allowed, the same tampered binary runs and writes its marker,
	// so the absence above means something.
	s, err := plugins.Open(tampered, plugins.Options{
		AllowedSHA256: []string{"sha256:" + strings.ToUpper(sha256File(t, tampered))},
		Env:           []string{"OMNITOKEN_TESTPLUGIN_MARKER=" + marker},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the allowed binary did not write its marker: %v", err)
	}
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil); err != nil {
		t.Fatal(err)
	}

	if _, err := plugins.Open(orig, plugins.Options{AllowedSHA256: []string{"abc"}}); err == nil || !strings.Contains(err.Error(), "AllowedSHA256") {
		t.Errorf("malformed allowlist entry: %v", err)
	}
}

// TestChecksumPinsBytes: with an allowlist, the bytes that were checked
// are the bytes that run, even when the file is replaced afterwards and
// the plugin is restarted.
func TestChecksumPinsBytes(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("sealed copies are Linux only; elsewhere go-plugin re-hashes before exec")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "plugin")
	copyFile(t, plugins.BuildTestPlugin(t, 0), bin, 0o755)
	s, err := plugins.Open(bin, plugins.Options{AllowedSHA256: []string{sha256File(t, bin)}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	pid := s.PID()

	marker := filepath.Join(dir, "impostor-ran")
	if err := os.Remove(bin); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho ran > "+marker+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kill(t, pid)
	ctx := ctxT(t)
	var tok *core.Token
	for range 3 { // the first call may see the dead connection
		if tok, err = s.Token(ctx, creds(t, teststrategy.Section{}), nil); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("restart from the sealed copy: %v", err)
	}
	if s.PID() == pid || s.Starts() != 2 {
		t.Errorf("pid %d → %d after %d starts, want a new process", pid, s.PID(), s.Starts())
	}
	if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the replacement binary ran")
	}
	_ = tok
}

// callNotifier is where the test strategy dials (Section.Notify) when a
// Token call begins, so a test knows the call is inside the plugin.
type callNotifier struct{ ln *net.TCPListener }

func newCallNotifier(t *testing.T) *callNotifier {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	tl := ln.(*net.TCPListener)
	_ = tl.SetDeadline(time.Now().Add(30 * time.Second))
	return &callNotifier{ln: tl}
}

// addr is the address for Section.Notify.
func (n *callNotifier) addr() string { return n.ln.Addr().String() }

// inCall waits until a Token call is inside the plugin.
func (n *callNotifier) inCall(t *testing.T) {
	t.Helper()
	conn, err := n.ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
}

// wantUnavailableWithin2s fails t unless errc yields, within 2 s, a
// temporary error matching ErrUnavailable: the bound for a call
// whose plugin died.
func wantUnavailableWithin2s(t *testing.T, errc <-chan error) {
	t.Helper()
	select {
	case err := <-errc:
		if !errors.Is(err, plugins.ErrUnavailable) || !core.IsTemporary(err) {
			t.Errorf("err = %v, want a temporary error matching ErrUnavailable", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no error within 2 s of the plugin's death")
	}
}

// TestPluginKilledMidCall: SIGKILL during a call fails that call
// within 2 s with a temporary error, and the next call starts the plugin
// again.
func TestPluginKilledMidCall(t *testing.T) {
	s := open(t, plugins.Options{})
	n := newCallNotifier(t)
	pid := s.PID()
	errc := make(chan error, 1)
	go func() {
		_, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Block: true, Notify: n.addr()}), nil)
		errc <- err
	}()
	n.inCall(t)
	kill(t, pid)
	wantUnavailableWithin2s(t, errc)

	tok, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil)
	if err != nil {
		t.Fatalf("next call: %v", err)
	}
	if newPID := s.PID(); newPID == pid || newPID == 0 || s.Starts() != 2 {
		t.Errorf("pid %d → %d, %d starts; want a second process", pid, newPID, s.Starts())
	}
	if tok.AccessToken != "access-1" {
		t.Errorf("token %q, want the new process's first", tok.AccessToken)
	}
}

// TestManagerPluginKilledMidCall: the plugin
// is killed while the Manager waits on it for a new token. The caller
// gets a temporary error within 2 s, and the stored token is exactly what
// it was: nothing is half written.
func TestManagerPluginKilledMidCall(t *testing.T) {
	s := open(t, plugins.Options{})
	n := newCallNotifier(t)
	store := core.NewMemoryStore()
	// One attempt: the error reaches the caller instead of a retry, which
	// would start the plugin again and block in it once more.
	m, err := core.New(core.Options{Store: store, Strategies: []core.Strategy{s}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := ctxT(t)
	if err := m.SetCredentials(ctx, "svc", creds(t, teststrategy.Section{Block: true, Notify: n.addr()})); err != nil {
		t.Fatal(err)
	}
	// An expired token with a refresh token: the Manager must call the
	// plugin, with this token as prev.
	old := &core.StoredToken{Token: core.Token{AccessToken: "old-access", RefreshToken: "old-refresh", TokenType: "Bearer",
		Expiry: time.Now().Add(-time.Hour).Truncate(time.Second)}, Generation: 1}
	if err := store.SetToken(ctx, "svc", old); err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(old)

	pid := s.PID()
	errc := make(chan error, 1)
	go func() {
		_, err := m.Token(ctx, "svc")
		errc <- err
	}()
	n.inCall(t)
	kill(t, pid)
	wantUnavailableWithin2s(t, errc)
	stored, err := store.GetToken(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(stored); string(got) != string(want) {
		t.Errorf("stored token after the failed call\n%s\nwant it unchanged\n%s", got, want)
	}
}

// TestPluginExitsMidCall: a plugin that dies by itself during a call.
func TestPluginExitsMidCall(t *testing.T) {
	s := open(t, plugins.Options{})
	_, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Exit: true}), nil)
	if !errors.Is(err, plugins.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil); err != nil {
		t.Fatalf("next call: %v", err)
	}
}

// TestManagerRidesOutACrash: after the plugin process died, a Manager
// that must get a new token gets it from a restarted plugin: the
// temporary error of the dead process is retried, and the retry starts it
// again. The caller sees a token.
func TestManagerRidesOutACrash(t *testing.T) {
	s := open(t, plugins.Options{})
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := ctxT(t)
	// "first" starts the plugin; "second" has no token yet, so the
	// Manager has nothing to fall back on and must call the plugin after
	// it died.
	for _, name := range []string{"first", "second"} {
		if err := m.SetCredentials(ctx, name, creds(t, teststrategy.Section{})); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := m.Token(ctx, "first"); err != nil {
		t.Fatal(err)
	}
	pid := s.PID()
	kill(t, pid)
	tok, err := m.Token(ctx, "second")
	if err != nil {
		t.Fatalf("Token after the plugin died: %v", err)
	}
	issuer, _ := tok.Extra["pid"].(float64)
	if s.Starts() != 2 || int(issuer) == pid || int(issuer) != s.PID() {
		t.Errorf("token issued by pid %v after %d starts; want the second process %d, not the dead %d", tok.Extra["pid"], s.Starts(), s.PID(), pid)
	}
	if tok.AccessToken != "access-1" {
		t.Errorf("token %q, want the new process's first", tok.AccessToken)
	}
}

// TestHostKilled: when the host dies from SIGKILL, its plugin
// exits within 5 s.
func TestHostKilled(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no SIGKILL")
	}
	bin := plugins.BuildTestPlugin(t, 0)
	host := exec.Command(os.Args[0], "-test.run=^$")
	host.Env = append(os.Environ(), plugins.HelperHostEnv+"="+bin)
	host.Stderr = os.Stderr
	out, err := host.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := host.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = host.Process.Kill(); _ = host.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("helper host: %v", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "pid=")))
	if err != nil || pid <= 0 {
		t.Fatalf("helper host said %q", line)
	}
	p, ok := procStat(t, pid)
	start := p.start
	if !ok || !processRunning(t, pid, start) {
		t.Fatalf("plugin %d is not running before the host is killed", pid)
	}
	t.Cleanup(func() {
		if processRunning(t, pid, start) {
			kill(t, pid)
		}
	})

	if err := host.Process.Kill(); err != nil { // SIGKILL
		t.Fatal(err)
	}
	_ = host.Wait()
	deadline := time.Now().Add(5 * time.Second)
	for processRunning(t, pid, start) {
		if time.Now().After(deadline) {
			t.Fatalf("plugin %d still runs 5 s after its host was killed", pid)
		}
		time.Sleep(20 * time.Millisecond) // another process: nothing to wait on but /proc
	}
}

// TestWrongProtocolVersion: a plugin built for another protocol
// version is refused, naming both versions.
func TestWrongProtocolVersion(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 99)
	_, err := plugins.Open(bin, plugins.Options{})
	if !errors.Is(err, plugins.ErrIncompatibleVersion) {
		t.Fatalf("Open = %v, want ErrIncompatibleVersion", err)
	}
	for _, want := range []string{"plugin speaks version 99", "host speaks version " + strconv.Itoa(plugins.ProtocolVersion), bin} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	noChildren(t)
}

// TestStdoutNoise: a plugin that prints before the handshake gets
// a clear error at once, not a timeout, and its output is not quoted,
// whatever it printed: prose, or a line that looks like a handshake but
// is malformed in any of its fields.
func TestStdoutNoise(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 0)
	v := strconv.Itoa(plugins.ProtocolVersion)
	for name, env := range map[string]string{
		"prose":               "OMNITOKEN_TESTPLUGIN_MODE=noise", // "hello from a chatty plugin"
		"empty line":          "OMNITOKEN_TESTPLUGIN_STDOUT=",
		"core version":        "OMNITOKEN_TESTPLUGIN_STDOUT=chatty|" + v + "|unix|/x|grpc",
		"other core version":  "OMNITOKEN_TESTPLUGIN_STDOUT=2|" + v + "|unix|/x|grpc",
		"protocol version":    "OMNITOKEN_TESTPLUGIN_STDOUT=1|chatty|unix|/x|grpc",
		"network":             "OMNITOKEN_TESTPLUGIN_STDOUT=1|" + v + "|chatty|chatty-addr|grpc",
		"tcp address":         "OMNITOKEN_TESTPLUGIN_STDOUT=1|" + v + "|tcp|chatty|grpc",
		"tcp address literal": "OMNITOKEN_TESTPLUGIN_STDOUT=1|" + v + "|tcp|chatty:chatty|grpc",
		"protocol":            "OMNITOKEN_TESTPLUGIN_STDOUT=1|" + v + "|unix|/chatty|chatty",
		"server certificate":  "OMNITOKEN_TESTPLUGIN_STDOUT=1|" + v + "|unix|/chatty|grpc|" + strings.Repeat("chatty", 10),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := plugins.Open(bin, plugins.Options{
				Env:          []string{env},
				StartTimeout: time.Minute,
			})
			if !errors.Is(err, plugins.ErrHandshake) || !strings.Contains(err.Error(), "stdout") {
				t.Fatalf("Open = %v, want ErrHandshake about stdout", err)
			}
			if strings.Contains(err.Error(), "no handshake within") {
				t.Errorf("Open waited for the start timeout: %v", err)
			}
			if strings.Contains(err.Error(), "chatty") {
				t.Errorf("the error quotes the plugin's output: %v", err)
			}
			noChildren(t)
		})
	}
}

// TestNetRPCPluginRefused: a go-plugin plugin that offers net/rpc instead
// of gRPC is refused at once, saying so.
func TestNetRPCPluginRefused(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 0)
	_, err := plugins.Open(bin, plugins.Options{
		Env:          []string{"OMNITOKEN_TESTPLUGIN_STDOUT=1|" + strconv.Itoa(plugins.ProtocolVersion) + "|unix|/nonexistent|netrpc"},
		StartTimeout: time.Minute,
	})
	if !errors.Is(err, plugins.ErrHandshake) || !strings.Contains(err.Error(), "net/rpc") {
		t.Fatalf("Open = %v, want ErrHandshake naming net/rpc", err)
	}
	noChildren(t)
}

// TestPluginExitsBeforeHandshake: a program that exits without a
// handshake is refused at once, and the error says it exited rather than
// blaming stdout.
func TestPluginExitsBeforeHandshake(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("a shell script")
	}
	bin := filepath.Join(t.TempDir(), "not-a-plugin")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho 'not a plugin' >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for range 5 { // go-plugin sees the exit and the closed stdout in either order
		_, err := plugins.Open(bin, plugins.Options{StartTimeout: time.Minute})
		if !errors.Is(err, plugins.ErrHandshake) || !strings.Contains(err.Error(), "exited before the handshake") {
			t.Fatalf("Open = %v, want ErrHandshake saying the plugin exited", err)
		}
		if strings.Contains(err.Error(), "stdout") {
			t.Errorf("the error blames stdout: %v", err)
		}
		noChildren(t)
	}
}

// TestSilentPluginTimesOut: a plugin that never completes the
// handshake is refused after StartTimeout.
func TestSilentPluginTimesOut(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := plugins.Open(bin, plugins.Options{
			Env:          []string{"OMNITOKEN_TESTPLUGIN_MODE=hang"},
			StartTimeout: 300 * time.Millisecond,
		})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, plugins.ErrHandshake) || !strings.Contains(err.Error(), "no handshake within 300ms") {
			t.Fatalf("Open = %v, want ErrHandshake after the start timeout", err)
		}
		noChildren(t)
	case <-ctx.Done():
		t.Fatal("Open hangs past its start timeout")
	}
}
