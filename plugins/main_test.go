package plugins

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/plugins/plugintest"
	"go.uber.org/goleak"
)

// Environment of the helper host process that TestHostKilled starts from
// this test binary.
const (
	helperHostEnv = "OMNITOKEN_PLUGINS_TEST_HELPER_HOST" // path of the plugin to open
)

var builder *plugintest.Builder

// testMain runs the tests, then removes the built plugins before goleak
// looks for leaked goroutines.
type testMain struct {
	m     *testing.M
	after func()
}

func (t testMain) Run() int {
	code := t.m.Run()
	t.after()
	return code
}

func TestMain(m *testing.M) {
	if p := os.Getenv(helperHostEnv); p != "" {
		helperHost(p)
		return
	}
	dir, err := os.MkdirTemp("", "omnitoken-plugins-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builder = plugintest.NewBuilder(dir)
	goleak.VerifyTestMain(testMain{m: m, after: func() { _ = os.RemoveAll(dir) }})
}

// helperHost is a host process that opens a plugin, prints the plugin's
// process id and waits to be killed.
func helperHost(path string) {
	s, err := Open(path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper host:", err)
		os.Exit(1)
	}
	w := bufio.NewWriter(os.Stdout)
	_, _ = w.WriteString("pid=" + strconv.Itoa(s.PID()) + "\n")
	_ = w.Flush()
	time.Sleep(time.Hour)
}
