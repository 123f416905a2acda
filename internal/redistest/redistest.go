// Package redistest starts a real redis-server (Debian's redis-server
// package) for tests and benchmarks: on a free loopback port, in a
// temporary directory, stopped when the test ends. It can kill the server
// and start it again on the same port, with its data (an fsynced
// append-only file) or without. Backend opens the Store and Locker of a
// replica on such a server, for loadtest's worker processes.
package redistest

import (
	"bufio"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startTimeout bounds how long a server may take to accept connections.
const startTimeout = 10 * time.Second

// Server is a redis-server process owned by a test or a program.
type Server struct {
	mode
	bin  string
	dir  string
	port int

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
}

// Start starts redis-server on a free 127.0.0.1 port with an fsynced
// append-only file in a temporary directory, and stops it when the test
// ends. It skips the test when redis-server is not installed and the
// environment does not ask for it (CI sets OMNITOKEN_REQUIRE_REDIS=1, and
// then a missing server fails the test).
func Start(t testing.TB) *Server {
	t.Helper()
	return startFor(t, mode{})
}

// StartCluster is Start with cluster mode on: one node that serves all
// 16384 slots once the caller has assigned them (CLUSTER ADDSLOTSRANGE
// 0 16383). A one-node cluster refuses, as every cluster does, a command
// or script whose keys hash to different slots (CROSSSLOT).
func StartCluster(t testing.TB) *Server {
	t.Helper()
	return startFor(t, mode{cluster: true})
}

// StartTLS is Start with TLS only: the server listens for TLS on its port
// with a self-signed certificate for 127.0.0.1, and URL returns a
// rediss:// URL. The returned pool holds the certificate, for the
// client's RootCAs.
func StartTLS(t testing.TB) (*Server, *x509.CertPool) {
	t.Helper()
	dir := t.TempDir()
	pool, err := selfSigned(dir)
	if err != nil {
		t.Fatal(err)
	}
	return startFor(t, mode{tlsDir: dir}), pool
}

// mode is how a server listens.
type mode struct {
	cluster bool
	tlsDir  string // holding cert.pem and key.pem; "" for plain TCP
}

func startFor(t testing.TB, m mode) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("OMNITOKEN_REQUIRE_REDIS") == "1" {
			t.Fatal("redistest: redis-server is not installed (apt-get install redis-server)")
		}
		t.Skip("redistest: redis-server is not installed (apt-get install redis-server)")
	}
	s, err := run(t.TempDir(), m)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Kill)
	return s
}

// Run starts a server as Start does, for a program: Close stops it and
// removes its directory.
func Run() (*Server, error) {
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	s, err := run(dir, mode{})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return s, nil
}

// Close stops a server started by Run and removes its directory.
func (s *Server) Close() {
	s.Kill()
	_ = os.RemoveAll(s.dir)
}

func run(dir string, m mode) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redistest: redis-server is not installed (apt-get install redis-server): %w", err)
	}
	s := &Server{bin: bin, dir: dir, mode: m}
	var lastErr error
	for range 5 { // a free port may be taken between probe and bind
		if s.port, err = freePort(); err != nil {
			return nil, err
		}
		if lastErr = s.start(); lastErr == nil {
			return s, nil
		}
	}
	return nil, fmt.Errorf("redistest: starting redis-server: %w", lastErr)
}

// URL returns the server's redis:// URL, or rediss:// with StartTLS.
func (s *Server) URL() string {
	if s.tlsDir != "" {
		return "rediss://" + s.Addr()
	}
	return "redis://" + s.Addr()
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Kill stops the server with SIGKILL and waits for it to exit. Killing a
// stopped server does nothing.
func (s *Server) Kill() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	<-done
}

// Restart kills the server if it runs and starts it again on the same
// port. With keepData false its data files are removed first, as after a
// restart of a server without persistence.
func (s *Server) Restart(keepData bool) error {
	s.Kill()
	if !keepData {
		entries, err := os.ReadDir(s.dir)
		if err != nil {
			return err
		}
		for _, e := range entries {
			if err := os.RemoveAll(filepath.Join(s.dir, e.Name())); err != nil {
				return err
			}
		}
	}
	if err := s.start(); err != nil {
		return fmt.Errorf("redistest: restarting redis-server: %w", err)
	}
	return nil
}

// start runs redis-server and waits for its "Ready to accept connections"
// line.
func (s *Server) start() error {
	port := []string{"--port", strconv.Itoa(s.port)}
	if s.tlsDir != "" {
		port = []string{"--port", "0", "--tls-port", strconv.Itoa(s.port),
			"--tls-cert-file", filepath.Join(s.tlsDir, "cert.pem"), "--tls-key-file", filepath.Join(s.tlsDir, "key.pem"),
			"--tls-auth-clients", "no"}
	}
	args := append(port,
		"--bind", "127.0.0.1",
		"--dir", s.dir,
		"--save", "",
		"--appendonly", "yes",
		"--appendfsync", "always",
		"--logfile", "",
		"--daemonize", "no",
		"--protected-mode", "yes",
	)
	if s.cluster {
		args = append(args, "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf")
	}
	cmd := exec.Command(s.bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	ready := make(chan struct{})
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			line := sc.Text()
			logMu.Lock()
			if log.Len() < 16<<10 {
				log.WriteString(line + "\n")
			}
			logMu.Unlock()
			if !signalled && strings.Contains(line, "Ready to accept connections") {
				signalled = true
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
		_ = cmd.Wait()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	select {
	case <-ready:
		s.mu.Lock()
		s.cmd, s.done = cmd, done
		s.mu.Unlock()
		return nil
	case <-done:
	case <-ctx.Done():
		_ = cmd.Process.Kill()
		<-done
	}
	logMu.Lock()
	defer logMu.Unlock()
	return fmt.Errorf("redis-server on port %d exited or did not start within %s:\n%s", s.port, startTimeout, log.String())
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
