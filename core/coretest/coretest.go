// Package coretest has helpers for testing code built on core: a fake
// clock and a counting strategy.
package coretest

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
)

// FakeClock is a core.Clock that moves only when told to. Sleep returns
// once Advance has moved the clock past the sleeper's deadline.
type FakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []waiter
	changed chan struct{} // closed and replaced whenever waiters grows
}

type waiter struct {
	until time.Time
	ch    chan struct{}
}

// NewFakeClock returns a FakeClock set to t.
func NewFakeClock(t time.Time) *FakeClock { return &FakeClock{now: t, changed: make(chan struct{})} }

// Now returns the fake time.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Sleep blocks until the clock has been advanced by d, or ctx is done.
func (c *FakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	if d <= 0 {
		c.mu.Unlock()
		return ctx.Err()
	}
	w := waiter{until: c.now.Add(d), ch: make(chan struct{})}
	c.waiters = append(c.waiters, w)
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Sleepers returns how many Sleep calls are waiting.
func (c *FakeClock) Sleepers() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.waiters)
}

// WaitForSleepers blocks until at least n Sleep calls are waiting, or ctx
// is done. Tests use it to know that a goroutine reached a backoff.
func (c *FakeClock) WaitForSleepers(ctx context.Context, n int) error {
	for {
		c.mu.Lock()
		have, ch := len(c.waiters), c.changed
		c.mu.Unlock()
		if have >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Advance moves the clock forward by d and wakes the sleepers whose time
// has come.
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !c.now.Before(w.until) {
			close(w.ch)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
}

// Set moves the clock to t, which may be in the past.
func (c *FakeClock) Set(t time.Time) {
	c.mu.Lock()
	d := t.Sub(c.now)
	c.mu.Unlock()
	c.Advance(d)
}

// CountingStrategy issues numbered bearer tokens and counts its calls. It
// serves the credential type in TypeName ("counting" when empty). Each
// token lives TTL (none when zero), measured by Clock (the system clock
// when nil). Started, when set, is sent to as each call starts, so a test
// knows a refresh is in flight. Gate, when set, is received from before
// each token is issued, so a test can hold a refresh in flight. An error
// set with SetErr is returned instead of a token.
type CountingStrategy struct {
	TypeName string
	TTL      time.Duration
	Clock    core.Clock
	Started  chan struct{}
	Gate     chan struct{}
	Calls    atomic.Int64

	mu  sync.Mutex
	err error
}

// SetErr makes later calls fail with err (nil to succeed again).
func (s *CountingStrategy) SetErr(err error) {
	s.mu.Lock()
	s.err = err
	s.mu.Unlock()
}

// Type implements core.Strategy.
func (s *CountingStrategy) Type() string {
	if s.TypeName == "" {
		return "counting"
	}
	return s.TypeName
}

// Token implements core.Strategy.
func (s *CountingStrategy) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	n := s.Calls.Add(1)
	if s.Started != nil {
		select {
		case s.Started <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if s.Gate != nil {
		select {
		case <-s.Gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	s.mu.Lock()
	err := s.err
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	t := &core.Token{AccessToken: fmt.Sprintf("access-%d", n), RefreshToken: fmt.Sprintf("refresh-%d", n)}
	if s.TTL > 0 {
		now := time.Now()
		if s.Clock != nil {
			now = s.Clock.Now()
		}
		t.Expiry = now.Add(s.TTL)
	}
	return t, nil
}

var _ core.Strategy = (*CountingStrategy)(nil)

// Credentials returns a credential of type typ with an empty section, as
// the Manager requires a section named by the type.
func Credentials(typ string) *core.Credentials {
	c := &core.Credentials{Type: typ}
	if err := c.SetSection(typ, map[string]string{}); err != nil {
		panic(err)
	}
	return c
}
