package core

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
)

// maxExpiryDelta is the most a token's expiry is brought forward to allow
// for clock skew and transit time.
const maxExpiryDelta = 5 * time.Second

// seal builds what the cached path reads for st: the Authorization header,
// the x/oauth2 form, and when to refresh and when the token counts as
// expired.
//
// The refresh window is the configured buffer plus four times the
// endpoint's observed latency (a slow endpoint is asked earlier), at most
// half the token's lifetime. The refresh point is spread with jitter over
// one more window (at most a third of the lifetime) before it, so
// credentials that expire together are not refreshed together.
func (m *Manager) seal(e *entry, st *StoredToken, now time.Time) *cached {
	c := &cached{st: *st}
	t := &c.st.Token
	c.authz = t.AuthorizationHeader()
	if n := len(t.AccessToken); n > 0 && strings.HasSuffix(c.authz, t.AccessToken) {
		// Share the header's bytes, so that a long access token (a JWT)
		// is held once, not twice, by each cached credential.
		t.AccessToken = c.authz[len(c.authz)-n:]
	}
	c.o2 = t.OAuth2()
	if t.Expiry.IsZero() {
		c.refreshAt, c.expireAt = math.MaxInt64, math.MaxInt64
		return c
	}
	exp := m.off(t.Expiry)
	life := time.Duration(exp - m.off(now))
	if life <= 0 {
		c.refreshAt, c.expireAt = exp, exp
		return c
	}
	c.expireAt = exp - int64(min(maxExpiryDelta, life/10))
	window := m.buffer + 4*time.Duration(e.latency.Load())
	window = min(window, life/2)
	jitter := time.Duration(0)
	if spread := min(window, life/3); spread > 1 {
		jitter = rand.N(spread)
	}
	c.refreshAt = exp - int64(window+jitter)
	return c
}

// observe folds one strategy latency into the entry's moving average,
// which widens the refresh window of a slow endpoint.
func (m *Manager) observe(e *entry, d time.Duration) {
	old := e.latency.Load()
	if old == 0 {
		e.latency.Store(int64(d))
		return
	}
	e.latency.Store(old + (int64(d)-old)/4)
}
