package plugins_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

// logSink keeps every record logged through its handlers and signals
// each new one, so a test waits for a line on a channel.
type logSink struct {
	mu      sync.Mutex
	records []slog.Record
	changed chan struct{}
}

func newLogSink() *logSink { return &logSink{changed: make(chan struct{}, 1)} }

func (s *logSink) logger() *slog.Logger { return slog.New(sinkHandler{s: s}) }

// wait returns the first record whose message is msg. It fails t when
// none arrives within 10 s, a bound far above what delivery takes.
func (s *logSink) wait(t *testing.T, msg string) slog.Record {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		s.mu.Lock()
		for _, r := range s.records {
			if r.Message == msg {
				s.mu.Unlock()
				return r
			}
		}
		s.mu.Unlock()
		select {
		case <-s.changed:
		case <-timeout:
			t.Fatalf("no log record %q", msg)
		}
	}
}

type sinkHandler struct {
	s     *logSink
	attrs []slog.Attr
}

func (h sinkHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h sinkHandler) Handle(_ context.Context, r slog.Record) error {
	r = r.Clone()
	r.AddAttrs(h.attrs...)
	h.s.mu.Lock()
	h.s.records = append(h.s.records, r)
	h.s.mu.Unlock()
	select {
	case h.s.changed <- struct{}{}:
	default:
	}
	return nil
}

func (h sinkHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return sinkHandler{s: h.s, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

func (h sinkHandler) WithGroup(string) slog.Handler { return h }

func attr(r slog.Record, key string) any {
	var v any
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.Any()
			return false
		}
		return true
	})
	return v
}

// TestPluginStderrLogged: what a plugin writes to stderr reaches the
// host's logger, one record per line, naming the plugin: before Serve on
// its file descriptor 2, and during a call through os.Stderr, which
// go-plugin carries over gRPC. hclog JSON lines and "[LEVEL]" prefixes
// keep their level.
func TestPluginStderrLogged(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 0)
	sink := newLogSink()
	before := strings.Join([]string{
		"plain line before serve",
		"[WARN] prefixed line",
		`{"@level":"error","@message":"structured line","@timestamp":"2026-01-02T03:04:05.000000Z","k":"v"}`,
	}, "\n")
	s, err := plugins.Open(bin, plugins.Options{Logger: sink.logger(), Env: []string{"OMNITOKEN_TESTPLUGIN_STDERR=" + before}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Stderr: "line during a call"}), nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct {
		msg   string
		level slog.Level
	}{
		{"plain line before serve", slog.LevelDebug},
		{"[WARN] prefixed line", slog.LevelWarn},
		{"structured line", slog.LevelError},
		{"line during a call", slog.LevelDebug},
	} {
		r := sink.wait(t, want.msg)
		if r.Level != want.level {
			t.Errorf("%q logged at %s, want %s", want.msg, r.Level, want.level)
		}
		if got := attr(r, "plugin"); got != bin {
			t.Errorf("%q logged with plugin=%v, want %s", want.msg, got, bin)
		}
	}
	if got := attr(sink.wait(t, "structured line"), "k"); got != "v" {
		t.Errorf("structured line: k=%v, want v", got)
	}
}

// TestPluginStderrCannotCrashHost: go-plugin's own parser of stderr lines
// panics on a JSON "@message" or "@level" that is not a string, in a
// goroutine of the host. Such lines are logged as plain lines instead, and
// the plugin keeps working.
func TestPluginStderrCannotCrashHost(t *testing.T) {
	sink := newLogSink()
	lines := `{"@message":1,"@level":"info"}` + "\n" + `{"@level":2,"@message":"x"}`
	s, err := plugins.Open(plugins.BuildTestPlugin(t, 0), plugins.Options{
		Logger: sink.logger(),
		Env:    []string{"OMNITOKEN_TESTPLUGIN_STDERR=" + lines},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, line := range strings.Split(lines, "\n") {
		if r := sink.wait(t, line); r.Level != slog.LevelDebug {
			t.Errorf("%s logged at %s, want a plain Debug line", line, r.Level)
		}
	}
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil); err != nil {
		t.Fatal(err)
	}
}
