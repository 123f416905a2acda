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

func TestMain(m *testing.M) {
	if p := os.Getenv(helperHostEnv); p != "" {
		helperHost(p)
		return
	}
	b, run, err := plugintest.NewTempBuilder(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builder = b
	goleak.VerifyTestMain(run)
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
