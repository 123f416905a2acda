// Package plugintest helps tests run real plugin processes: it builds a
// plugin's main package once per test binary and hands out the path.
//
//	var builder *plugintest.Builder
//
//	func TestMain(m *testing.M) {
//		b, run, err := plugintest.NewTempBuilder(m)
//		if err != nil {
//			log.Fatal(err)
//		}
//		builder = b
//		goleak.VerifyTestMain(run) // or os.Exit(run.Run())
//	}
//
//	func TestX(t *testing.T) {
//		bin := builder.Build(t, "github.com/plexusone/omnitoken/plugins/githubapp")
//		s, err := plugins.Open(bin, plugins.Options{})
//		…
//	}
package plugintest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Builder builds plugin binaries into one directory, each (package,
// ldflags) pair once. It is safe for concurrent use.
type Builder struct {
	dir string

	mu    sync.Mutex
	built map[string]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// NewBuilder returns a Builder that writes into dir, which must exist.
// The caller removes dir when done.
func NewBuilder(dir string) *Builder {
	return &Builder{dir: dir, built: map[string]*build{}}
}

// TestingM is what a TestMain runs: *testing.M, and what
// goleak.VerifyTestMain takes.
type TestingM interface{ Run() int }

// NewTempBuilder is for TestMain. It returns a Builder that writes into a
// new temporary directory, and m wrapped so that its Run removes the
// directory once the tests have run. Hand the wrapper to
// goleak.VerifyTestMain, which exits before deferred calls would run, or
// exit with the code its Run returns.
func NewTempBuilder(m TestingM) (*Builder, TestingM, error) {
	dir, err := os.MkdirTemp("", "omnitoken-plugintest-")
	if err != nil {
		return nil, nil, fmt.Errorf("plugintest: %w", err)
	}
	return NewBuilder(dir), removeAfter{m: m, dir: dir}, nil
}

// removeAfter runs the tests, then removes dir.
type removeAfter struct {
	m   TestingM
	dir string
}

// Run runs the tests, removes the directory and returns the tests' code.
func (r removeAfter) Run() int {
	code := r.m.Run()
	_ = os.RemoveAll(r.dir)
	return code
}

// Build compiles the main package pkg (an import path, or a directory
// such as ".") with `go build`, passing ldflags to -ldflags, and returns
// the binary's path. A failed build fails tb with the compiler's output.
func (b *Builder) Build(tb testing.TB, pkg string, ldflags ...string) string {
	tb.Helper()
	p, err := b.BuildErr(pkg, ldflags...)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BuildErr is Build returning its error, for use outside a test.
func (b *Builder) BuildErr(pkg string, ldflags ...string) (string, error) {
	flags := strings.Join(ldflags, " ")
	key := pkg + "\x00" + flags
	b.mu.Lock()
	bl, ok := b.built[key]
	if !ok {
		bl = &build{}
		b.built[key] = bl
	}
	b.mu.Unlock()
	bl.once.Do(func() {
		sum := sha256.Sum256([]byte(key))
		name := path.Base(filepath.ToSlash(pkg))
		if name == "." || name == "/" {
			if wd, err := os.Getwd(); err == nil {
				name = filepath.Base(wd)
			}
		}
		out := filepath.Join(b.dir, name+"-"+hex.EncodeToString(sum[:4]))
		if runtime.GOOS == "windows" {
			out += ".exe"
		}
		args := []string{"build", "-o", out}
		if flags != "" {
			args = append(args, "-ldflags", flags)
		}
		args = append(args, pkg)
		cmd := exec.Command(goTool(), args...)
		if msg, err := cmd.CombinedOutput(); err != nil {
			bl.err = fmt.Errorf("plugintest: go build %s: %v\n%s", pkg, err, msg)
			return
		}
		bl.path = out
	})
	return bl.path, bl.err
}

// goTool finds the go command. `go test` puts its own toolchain first on
// PATH.
func goTool() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	return "go"
}
