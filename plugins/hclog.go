package plugins

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"

	"github.com/hashicorp/go-hclog"
)

// hclogAdapter sends go-plugin's log lines, and the lines a plugin writes
// to stderr, to a *slog.Logger. go-plugin logs paths, process ids,
// addresses and exit statuses: never a credential or a token.
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

// GetLevel returns the lowest level the slog handler takes, or hclog.Off.
func (a *hclogAdapter) GetLevel() hclog.Level {
	for _, l := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if a.enabled(l) {
			return l
		}
	}
	return hclog.Off
}

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

var _ hclog.Logger = (*hclogAdapter)(nil)
