package core

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

const (
	backoffBase = 250 * time.Millisecond
	backoffMax  = 30 * time.Second
)

// callWithRetry calls the strategy, retrying temporary errors with capped,
// jittered exponential backoff that honours Retry-After. When a still-valid
// token exists it does not wait: it records when the endpoint may be asked
// again and returns the error, so the valid token keeps being served. took
// is the time spent in strategy calls.
func (m *Manager) callWithRetry(ctx context.Context, e *entry, s Strategy, c *Credentials, prev *cached) (tok *Token, took time.Duration, err error) {
	var prevTok *Token
	if prev != nil {
		prevTok = &prev.st.Token
	}
	for attempt := 1; ; attempt++ {
		start := time.Now()
		tok, err = callStrategy(ctx, s, c, prevTok)
		d := time.Since(start)
		took += d
		m.observe(e, d)
		if err == nil && !tok.Expiry.IsZero() && !tok.Expiry.After(m.clock.Now()) {
			// Caching it would send every caller back to the endpoint.
			err = fmt.Errorf("core: strategy %q returned a token that has already expired", s.Type())
		}
		if err == nil {
			return tok, took, nil
		}
		if IsPermanent(err) || ctx.Err() != nil || errors.Is(err, ErrReauthRequired) {
			// Waiting does not help: a person must act first.
			return nil, took, err
		}
		delay := jittered(backoffBase, backoffMax, attempt)
		if ra := RetryAfterOf(err); ra > delay {
			delay = ra
		}
		now := m.clock.Now()
		e.notBefore.Store(m.off(now.Add(delay)))
		valid := prev != nil && m.off(now) < prev.expireAt
		if !IsTemporary(err) || attempt >= m.attempts || valid {
			return nil, took, err
		}
		if serr := m.clock.Sleep(ctx, delay); serr != nil {
			return nil, took, err
		}
	}
}

// callStrategy calls s on private copies of c and prev, and turns a panic
// or an empty answer into an error.
func callStrategy(ctx context.Context, s Strategy, c *Credentials, prev *Token) (tok *Token, err error) {
	defer func() {
		if r := recover(); r != nil {
			// The panic value may hold a secret; it is not printed.
			tok, err = nil, fmt.Errorf("core: strategy %q panicked", s.Type())
		}
	}()
	tok, err = s.Token(ctx, c.Clone(), prev.Clone())
	if err == nil && tok == nil {
		err = fmt.Errorf("core: strategy %q returned no token and no error", s.Type())
	}
	if err == nil && tok.AccessToken == "" && len(tok.Header) == 0 && len(tok.Query) == 0 {
		err = fmt.Errorf("core: strategy %q returned an empty token", s.Type())
	}
	if err == nil {
		tok = tok.Clone() // the Manager's own copy, whatever the strategy keeps
	}
	return tok, err
}

// jittered is the delay before try n (from 1): base doubled per try,
// capped at max, drawn from [d/2, d].
func jittered(base, max time.Duration, n int) time.Duration {
	d := base << min(n-1, 30)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}
