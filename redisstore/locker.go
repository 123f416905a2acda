package redisstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"sync"
	"syscall"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plexusone/omnitoken/core"
)

// Defaults of LockerOptions.
const (
	DefaultLeaseTTL = 10 * time.Second
	DefaultPoll     = 10 * time.Millisecond
)

// releaseTimeout bounds the release of a lease at unlock.
const releaseTimeout = 2 * time.Second

// acquireScript takes the lease if it is free and, in the same atomic
// step, draws the next fence: one more than the last, and at least the
// server's clock in microseconds, so fences keep increasing even after
// Redis lost its data (a restart without persistence, a failover to a
// replica that missed the last write), as long as the server's clock does
// not step back. Returns {1, fence}, or {0, milliseconds the current
// lease has left}.
var acquireScript = goredis.NewScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local t = redis.call('TIME')
  local floor = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local f = redis.call('INCR', KEYS[2])
  if f < floor then
    f = floor
    redis.call('SET', KEYS[2], string.format('%d', f))
  end
  return {1, f}
end
return {0, redis.call('PTTL', KEYS[1])}
`)

// renewScript extends the lease if the caller still owns it.
var renewScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease if the caller still owns it, so one
// holder never frees another's lease.
var releaseScript = goredis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// LockerOptions configures a Locker. The zero value is valid.
type LockerOptions struct {
	// Prefix starts every key. Default DefaultPrefix. It must not contain
	// '{' or '}'.
	Prefix string
	// TTL is the lease's lifetime. The holder renews it every TTL/3 until
	// it unlocks; a holder that dies or stops stops renewing, and another
	// replica takes the lease at most TTL later. Default DefaultLeaseTTL.
	TTL time.Duration
	// Poll is the first pause, with jitter, between tries while another
	// replica holds the lease; each later pause doubles, up to 8×Poll.
	// Default DefaultPoll.
	Poll time.Duration
	// AllowUncoordinated makes Lock succeed, with a warning, when Redis is
	// unavailable, instead of failing. The fence is then this host's clock
	// in microseconds, the scale of the fences Redis grants, so the
	// token's write orders after those of earlier leases (a Store that
	// stores it raises the fencing counter, so later leases order after
	// it); with hosts' clocks apart, it may not. RISK: replicas then
	// refresh without coordination; with a rotating refresh token two of
	// them may present the same one, and an identity provider that
	// detects reuse revokes the whole token family, logging every replica
	// out until a person signs in again. Leave it off unless the
	// credentials do not rotate refresh tokens.
	AllowUncoordinated bool
	// Logger receives warnings (a lease lost, an uncoordinated lock); no
	// secret. Default: discard.
	Logger *slog.Logger
}

// Locker is a core.Locker on Redis: a lease per credential name with a
// TTL, renewed while held, and a fencing token that increases
// monotonically per name (see LockFenced). It is safe for concurrent use.
//
// A lease alone does not make a write safe: a holder paused past its TTL
// (a GC pause, SIGSTOP, a VM migration) wakes up believing it still holds
// it. The fence is what makes its late write harmless: Store refuses a
// token whose fence is older than the one it holds.
type Locker struct {
	c       goredis.UniversalClient
	prefix  string
	ttl     time.Duration
	poll    time.Duration
	uncoord bool
	log     *slog.Logger
}

// NewLocker returns a Locker over c. It does not close c.
func NewLocker(c goredis.UniversalClient, opts LockerOptions) (*Locker, error) {
	if c == nil {
		return nil, fmt.Errorf("redisstore: %w: nil Redis client", core.ErrVaultNotConfigured)
	}
	prefix, err := checkPrefix(opts.Prefix)
	if err != nil {
		return nil, err
	}
	l := &Locker{c: c, prefix: prefix, ttl: opts.TTL, poll: opts.Poll, uncoord: opts.AllowUncoordinated, log: opts.Logger}
	if l.ttl <= 0 {
		l.ttl = DefaultLeaseTTL
	}
	if l.ttl < 3*time.Millisecond {
		return nil, fmt.Errorf("redisstore: lease TTL %s is too short", l.ttl)
	}
	if l.poll <= 0 {
		l.poll = DefaultPoll
	}
	if l.log == nil {
		l.log = slog.New(slog.DiscardHandler)
	}
	return l, nil
}

// Lock implements core.Locker; it is LockFenced without the fence.
func (l *Locker) Lock(ctx context.Context, name string) (func(), error) {
	_, unlock, err := l.LockFenced(ctx, name)
	return unlock, err
}

// LockFenced takes the lease on name, waiting while another replica holds
// it, until ctx is done. It returns the lease's fence, larger than every
// fence returned before for name, and unlock, which stops the renewal and
// releases the lease (if this holder still owns it); unlock is safe to
// call more than once.
//
// Taking a free lease costs one round trip, and unlock one more. When
// Redis is unavailable, LockFenced does not wait for the lease: once
// go-redis's own retries are spent (max_retries and dial_timeout in the
// URL tune them) it fails with an error matching ErrUnavailable that is
// temporary (core.IsTemporary), unless AllowUncoordinated is set. A name
// that cannot be stored is an error matching core.ErrInvalidCredentials.
func (l *Locker) LockFenced(ctx context.Context, name string) (uint64, func(), error) {
	k, err := keysFor(l.prefix, name)
	if err != nil {
		return 0, nil, err
	}
	owner := newOwner()
	ttlMs := l.ttl.Milliseconds()
	for try := 0; ; try++ {
		res, err := acquireScript.Run(ctx, l.c, []string{k.lease, k.fence}, owner, ttlMs).Int64Slice()
		if err == nil && len(res) != 2 {
			err = errors.New("unexpected reply to the lease script")
		}
		if err != nil {
			l.releaseLost(k.lease, owner, name, err)
			if cerr := ctx.Err(); cerr != nil {
				return 0, nil, fmt.Errorf("redisstore: lease on %q: %w", name, cerr)
			}
			err = unavailable(err)
			if l.uncoord && errors.Is(err, ErrUnavailable) {
				l.log.Warn("redisstore: Redis unavailable; refreshing WITHOUT coordination across replicas", "name", name, "error", err)
				return uint64(time.Now().UnixMicro()), func() {}, nil
			}
			return 0, nil, fmt.Errorf("redisstore: lease on %q: %w", name, err)
		}
		if res[0] == 1 {
			return uint64(res[1]), l.hold(k.lease, owner, name), nil
		}
		step := l.poll << min(try, 3)
		wait := step/2 + mrand.N(step/2+1)
		if left := time.Duration(res[1]) * time.Millisecond; left > 0 && left < wait {
			wait = left
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return 0, nil, fmt.Errorf("redisstore: lease on %q: held by another replica: %w", name, ctx.Err())
		}
	}
}

// hold renews the lease every TTL/3 until the returned unlock is called.
func (l *Locker) hold(lease, owner, name string) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	ttlMs := l.ttl.Milliseconds()
	go func() {
		defer close(done)
		tick := time.NewTicker(l.ttl / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
			ok, err := renewScript.Run(ctx, l.c, []string{lease}, owner, ttlMs).Int()
			cancel()
			switch {
			case err != nil:
				l.log.Warn("redisstore: renewing a lease failed; will try again", "name", name, "error", unavailable(err))
			case ok == 0:
				l.log.Warn("redisstore: lease lost before unlock; a later write under it will be refused", "name", name)
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			ctx, cancel := context.WithTimeout(context.Background(), min(releaseTimeout, l.ttl))
			defer cancel()
			if err := releaseScript.Run(ctx, l.c, []string{lease}, owner).Err(); err != nil {
				l.log.Warn("redisstore: releasing a lease failed; it expires by itself", "name", name, "error", unavailable(err))
			}
		})
	}
}

// releaseLost releases a lease the acquire script may have taken although
// its reply did not arrive (a timeout, a cancelled context, a broken
// connection): left alone, it would hold off every replica for its TTL.
// When the error says the command never reached the server (no
// connection could be made), it does nothing, so a Redis that is down
// costs no second wait.
func (l *Locker) releaseLost(lease, owner, name string, err error) {
	var oe *net.OpError
	if errors.Is(err, syscall.ECONNREFUSED) || errors.As(err, &oe) && oe.Op == "dial" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), min(releaseTimeout, l.ttl))
	defer cancel()
	if rerr := releaseScript.Run(ctx, l.c, []string{lease}, owner).Err(); rerr != nil {
		l.log.Warn("redisstore: releasing a lease whose grant was not confirmed failed; it expires by itself", "name", name, "error", unavailable(rerr))
	}
}

func newOwner() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

var _ core.Locker = (*Locker)(nil)
