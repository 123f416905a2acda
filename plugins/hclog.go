package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter sends go-plugin's log lines to a *slog.Logger. go-plugin
// logs paths, process ids, addresses and exit statuses: never a
// credential or a token. The lines a plugin writes to stderr go through
// stderrLog instead.
type hclogAdapter struct {
	l       *slog.Logger
	name    string
	implied []any
}

func newHCLogger(l *slog.Logger, name string) hclog.Logger {
	return &hclogAdapter{l: l, name: name}
}

func slogLevel(l hclog.Level) slog.Level {
	switch l {
	case hclog.Trace:
		return slog.LevelDebug - 4
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

func (a *hclogAdapter) enabled(l hclog.Level) bool {
	return a.l.Enabled(context.Background(), slogLevel(l))
}

// Log writes msg at level with the implied and given key-value pairs.
func (a *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off || !a.enabled(level) {
		return
	}
	all := make([]any, 0, 2+len(a.implied)+len(args))
	all = append(all, "logger", a.name)
	all = append(all, a.implied...)
	all = append(all, args...)
	a.l.Log(context.Background(), slogLevel(level), msg, all...)
}

// Trace logs at hclog.Trace, below slog.LevelDebug.
func (a *hclogAdapter) Trace(msg string, args ...any) { a.Log(hclog.Trace, msg, args...) }

// Debug logs at slog.LevelDebug.
func (a *hclogAdapter) Debug(msg string, args ...any) { a.Log(hclog.Debug, msg, args...) }

// Info logs at slog.LevelInfo.
func (a *hclogAdapter) Info(msg string, args ...any) { a.Log(hclog.Info, msg, args...) }

// Warn logs at slog.LevelWarn.
func (a *hclogAdapter) Warn(msg string, args ...any) { a.Log(hclog.Warn, msg, args...) }

// Error logs at slog.LevelError.
func (a *hclogAdapter) Error(msg string, args ...any) { a.Log(hclog.Error, msg, args...) }

// IsTrace reports whether the slog handler takes Trace lines.
func (a *hclogAdapter) IsTrace() bool { return a.enabled(hclog.Trace) }

// IsDebug reports whether the slog handler takes Debug lines.
func (a *hclogAdapter) IsDebug() bool { return a.enabled(hclog.Debug) }

// IsInfo reports whether the slog handler takes Info lines.
func (a *hclogAdapter) IsInfo() bool { return a.enabled(hclog.Info) }

// IsWarn reports whether the slog handler takes Warn lines.
func (a *hclogAdapter) IsWarn() bool { return a.enabled(hclog.Warn) }

// IsError reports whether the slog handler takes Error lines.
func (a *hclogAdapter) IsError() bool { return a.enabled(hclog.Error) }

// ImpliedArgs returns the key-value pairs added by With.
func (a *hclogAdapter) ImpliedArgs() []any { return a.implied }

// With returns a logger that adds args to every line.
func (a *hclogAdapter) With(args ...any) hclog.Logger {
	b := *a
	b.implied = append(append([]any(nil), a.implied...), args...)
	return &b
}

// Name returns the logger's name, logged as "logger".
func (a *hclogAdapter) Name() string { return a.name }

// Named returns a logger whose name has name appended.
func (a *hclogAdapter) Named(name string) hclog.Logger {
	b := *a
	if b.name != "" {
		b.name += "." + name
	} else {
		b.name = name
	}
	return &b
}

// ResetNamed returns a logger named name.
func (a *hclogAdapter) ResetNamed(name string) hclog.Logger {
	b := *a
	b.name = name
	return &b
}

// SetLevel does nothing: the slog handler decides.
func (a *hclogAdapter) SetLevel(hclog.Level) {}

// GetLevel reports hclog.Off, whatever the slog handler takes. go-plugin
// reads it only to decide whether to parse a plugin's stderr lines and log
// them itself, and its parser panics on some lines (a JSON object whose
// "@message" is not a string), which would crash the host. With Off it
// only copies the lines to ClientConfig.Stderr, where stderrLog reads
// them.
func (a *hclogAdapter) GetLevel() hclog.Level { return hclog.Off }

// StandardLogger returns a *log.Logger writing Info lines here.
func (a *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(a.StandardWriter(opts), "", 0)
}

// StandardWriter returns a writer whose each write is one Info line.
func (a *hclogAdapter) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return lineWriter{a}
}

// lineWriter turns writes into Info lines.
type lineWriter struct{ a *hclogAdapter }

// Write logs p, without its trailing newlines, as one Info line.
func (w lineWriter) Write(p []byte) (int, error) {
	w.a.Info(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}

// levelPrefixes are the prefixes of plain log lines that name a level.
var levelPrefixes = []struct {
	prefix string
	level  hclog.Level
}{
	{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info}, {"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error},
}

// maxLogLine caps one logged line of a plugin's output.
const maxLogLine = 64 << 10

// stderrLog logs what a plugin writes to stderr, one record per line. A
// line in hclog's JSON format ("@level", "@message" and key-value pairs)
// keeps its level and pairs; any other line is logged at Debug, except
// that "[ERROR]"-style prefixes set the level, and a Go panic or fatal
// error is logged at Error from its first line on.
type stderrLog struct {
	log *slog.Logger

	mu        sync.Mutex
	buf       []byte
	panicking bool
}

// Write logs each complete line of p and keeps the rest for the next
// Write. It never fails.
func (w *stderrLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			w.buf = append(w.buf, p...)
			if len(w.buf) >= maxLogLine {
				w.line(w.buf)
				w.buf = w.buf[:0]
			}
			break
		}
		w.buf = append(w.buf, p[:i]...)
		w.line(w.buf)
		w.buf = w.buf[:0]
		p = p[i+1:]
	}
	return n, nil
}

// line logs one line.
func (w *stderrLog) line(b []byte) {
	b = bytes.TrimRight(b, "\r")
	if len(bytes.TrimSpace(b)) == 0 {
		return
	}
	ctx := context.Background()
	var entry map[string]any
	if json.Unmarshal(b, &entry) == nil {
		msg, okMsg := entry["@message"].(string)
		lvl, okLvl := entry["@level"].(string)
		if okMsg && okLvl {
			keys := make([]string, 0, len(entry))
			for k := range entry {
				if !strings.HasPrefix(k, "@") {
					keys = append(keys, k)
				}
			}
			sort.Strings(keys)
			args := make([]any, 0, 2+2*len(keys))
			args = append(args, "logger", "stderr")
			for _, k := range keys {
				args = append(args, k, entry[k])
			}
			w.log.Log(ctx, slogLevel(hclog.LevelFromString(lvl)), msg, args...)
			return
		}
	}
	line := string(b)
	level := slog.LevelDebug
	switch {
	case strings.HasPrefix(line, "panic: "), strings.HasPrefix(line, "fatal error: "):
		w.panicking = true
		level = slog.LevelError
	case w.panicking:
		level = slog.LevelError
	default:
		for _, p := range levelPrefixes {
			if strings.HasPrefix(line, p.prefix) {
				level = slogLevel(p.level)
			}
		}
	}
	w.log.Log(ctx, level, line, "logger", "stderr")
}

var (
	_ hclog.Logger = (*hclogAdapter)(nil)
	_ io.Writer    = (*stderrLog)(nil)
)
