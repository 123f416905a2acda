package redisstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// ErrUnavailable matches every error caused by Redis not answering: a
// refused or broken connection, a timeout, a server that is loading or
// read-only. Such errors are temporary (core.IsTemporary reports true).
var ErrUnavailable = errors.New("redis unavailable")

// NewClient connects to the Redis server named by rawURL:
//
//	redis://[[username]:password@]host[:port][/db][?options]
//	rediss://… (TLS, verified against the system roots)
//
// The options are go-redis's (dial_timeout, read_timeout, pool_size, …).
// No command is sent until the client is used. Errors never quote the
// password.
func NewClient(rawURL string) (*goredis.Client, error) {
	if !strings.HasPrefix(rawURL, "redis://") && !strings.HasPrefix(rawURL, "rediss://") {
		// Not quoted: a mistyped value may be a password.
		return nil, fmt.Errorf("redisstore: %w: the Redis URL must start with redis:// or rediss://", core.ErrInvalidCredentials)
	}
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		// go-redis errors may quote the URL; name only the redacted one.
		return nil, fmt.Errorf("redisstore: %q: %w: not a valid Redis URL", driver.RedactURL(rawURL), core.ErrInvalidCredentials)
	}
	opts.DisableIdentity = true // no CLIENT SETINFO round trips per connection
	return goredis.NewClient(opts), nil
}

// unavailable wraps a Redis error as temporary and matching
// ErrUnavailable when it says the server did not answer, or answered that
// it cannot serve now; other errors are returned as they are.
func unavailable(err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	var re goredis.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE),
		errors.Is(err, goredis.ErrClosed), errors.Is(err, goredis.ErrPoolTimeout), errors.Is(err, context.DeadlineExceeded):
		return &unavailableError{err: err}
	case errors.As(err, &re):
		for _, p := range []string{"LOADING", "READONLY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "BUSY"} {
			if strings.HasPrefix(re.Error(), p) {
				return &unavailableError{err: err}
			}
		}
	}
	return err
}

type unavailableError struct{ err error }

func (e *unavailableError) Error() string        { return ErrUnavailable.Error() + ": " + e.err.Error() }
func (e *unavailableError) Unwrap() []error      { return []error{ErrUnavailable, e.err} }
func (e *unavailableError) Temporary() bool      { return true }
func (e *unavailableError) Is(target error) bool { return target == ErrUnavailable }

// RoundTrips counts the commands and pipelines a go-redis client sends:
// each is one round trip to the server. Add it with client.AddHook.
type RoundTrips struct{ n atomic.Int64 }

// Load returns the round trips counted so far.
func (r *RoundTrips) Load() int64 { return r.n.Load() }

// DialHook implements goredis.Hook; dials are not counted.
func (r *RoundTrips) DialHook(next goredis.DialHook) goredis.DialHook { return next }

// ProcessHook implements goredis.Hook: one command, one round trip.
func (r *RoundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmd)
	}
}

// ProcessPipelineHook implements goredis.Hook: one pipeline, one round
// trip.
func (r *RoundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.n.Add(1)
		return next(ctx, cmds)
	}
}

var _ goredis.Hook = (*RoundTrips)(nil)
