package core

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// refresh is the body of one flight: take the lock, read the credential,
// adopt a stored token that is fresh enough, else call the strategy and
// commit its token.
func (m *Manager) refresh(ctx context.Context, e *entry, f *flight) (*cached, error) {
	name, md := e.name, f.mode
	fence, unlock, err := m.lock(ctx, e)
	if err != nil {
		return m.serveOrFail(e, md, err)
	}
	defer unlock()
	// Read under the lease: another process may have deleted or replaced
	// the credential while this one waited for it.
	creds, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("core: token %q: %w", name, err)
	}
	typ := creds.Type
	e.typ.Store(&typ)
	e.typ.Store(&typ)
	fp := creds.Fingerprint()
	digest := hex.EncodeToString(fp[:8])
	strat, err := m.reg.Lookup(creds.Type)
	if err != nil {
		return nil, fmt.Errorf("core: token %q: %w", name, err)
	}

	cur := e.cur.Load()
	if cur != nil && cur.st.CredentialsDigest != "" && cur.st.CredentialsDigest != digest {
		cur = nil // the credential changed under us
	}
	if cur != nil && e.dirty.Load() {
		m.flush(ctx, e, true, fence)
		cur = e.cur.Load() // it may have adopted a newer stored token
	}
	prev := cur
	stored, serr := m.store.GetToken(ctx, name)
	switch {
	case serr != nil && !errors.Is(serr, ErrTokenNotFound):
		m.note(e, topicRead, "core: reading stored token failed", "error", serr)
		stored = nil
	case serr != nil: // none stored
		stored = nil
		m.clearState(e, topicRead)
	case stored != nil && matches(stored, digest) && (prev == nil || stored.newer(&prev.st)):
		prev = m.seal(e, stored, m.clock.Now())
	}
	if serr == nil {
		m.clearState(e, topicRead)
	}
	if prev != nil {
		n := m.nowNano()
		if (md == modeNormal && n < prev.refreshAt) || (md == modeStale && prev.st.Generation > f.staleGen && n < prev.expireAt) {
			if prev != cur {
				if c, ok := m.adopt(e, prev); ok {
					return c, nil
				}
				return nil, m.dropped(ctx, e, nil, nil, nil)
			}
			return prev, nil
		}
	}

	// A permanent failure, or a person needed, is not retried until the
	// credential changes; a newer stored token (another process authorized
	// again) was taken above.
	if pf := e.perm.Load(); pf != nil && pf.fp == fp && md != modeForce {
		if c, ok := m.adoptOther(e, stored, digest, prev); ok {
			return c, nil
		}
		return m.serveOrFail(e, md, pf.err)
	}
	if wait := time.Duration(e.notBefore.Load() - m.nowNano()); wait > 0 && md != modeForce {
		// The endpoint asked us to back off and no valid token is left.
		if err := m.clock.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("core: token %q: waiting for Retry-After: %w", name, err)
		}
	}
	var prevTok *Token
	if prev != nil {
		prevTok = &prev.st.Token
	}
	f.called.Store(true)
	tok, took, err := m.callWithRetry(ctx, e, strat, creds, prev)
	if err != nil {
		err = m.failed(e, creds, prevTok, err)
		if IsPermanent(err) || waitsForPerson(err) {
			e.perm.Store(&permFailure{fp: fp, err: err})
			if md != modeForce {
				if c, ok := m.adoptOther(e, stored, digest, prev); ok {
					return c, nil
				}
			}
		}
		m.emit(e, Event{Kind: EventRefreshFailed, Duration: took, Err: err})
		if prev != nil && prev != cur && m.nowNano() < prev.expireAt {
			m.adopt(e, prev)
		}
		return m.serveOrFail(e, md, err)
	}
	c, err := m.commit(ctx, e, pending{tok: tok, base: stored, fence: fence, digest: digest, puts: f.puts})
	switch {
	case errors.Is(err, errDropped):
		return nil, m.dropped(ctx, e, strat, creds, tok)
	case errors.Is(err, errSuperseded), errors.Is(err, errAdopted):
		return c, nil
	case err != nil:
		return m.serveOrFail(e, md, err)
	}
	m.emit(e, Event{Kind: EventTokenIssued, Generation: c.st.Generation, Duration: took})
	m.log.Debug("core: token issued", "name", name, "token", c.st)
	return c, nil
}

// waitsForPerson reports whether err says that a person must act and
// nothing changes until they do: the strategy is not asked again until
// the credential or the token changes. A pending device code is not such
// an error: the strategy polls for the person's approval, at its own
// pace, on each call.
func waitsForPerson(err error) bool {
	var re *ReauthRequiredError
	return errors.As(err, &re) && re.UserCode == ""
}

// adoptOther adopts stored, after the refresh of prev failed for good,
// when it is a valid token of the same credential other than prev: what
// another process obtained. It wins whatever its generation, since
// generations start again when a credential is deleted and added again
// elsewhere, and prev is then a revoked token of the earlier life.
func (m *Manager) adoptOther(e *entry, stored *StoredToken, digest string, prev *cached) (*cached, bool) {
	if stored == nil || !matches(stored, digest) || (prev != nil && stored.Token.Equal(&prev.st.Token)) {
		return nil, false
	}
	c := m.seal(e, stored, m.clock.Now())
	if m.nowNano() >= c.expireAt {
		return nil, false
	}
	return m.adopt(e, c)
}

// matches reports whether st belongs to the credential with digest.
func matches(st *StoredToken, digest string) bool {
	return st.CredentialsDigest == "" || st.CredentialsDigest == digest
}

// adopt publishes c, a token read from the store, unless e died.
func (m *Manager) adopt(e *entry, c *cached) (*cached, bool) {
	e.writeMu.Lock()
	defer e.writeMu.Unlock()
	if e.dead.Load() {
		return nil, false
	}
	return m.take(e, c), true
}

// dropped handles a flight whose entry died (SetCredentials or
// DeleteCredentials ran): its token, if any, is not kept; after a delete
// it is revoked where the strategy can, and waiters get the entry's
// dropErr.
func (m *Manager) dropped(ctx context.Context, e *entry, s Strategy, c *Credentials, tok *Token) error {
	if e.dropErr == nil {
		return errAskAgain
	}
	if r, ok := s.(revoker); ok && tok != nil {
		if err := r.Revoke(ctx, c, tok); err != nil {
			m.log.Warn("core: revoking a token obtained during delete failed", "name", e.name, "error", err)
		}
	}
	return e.dropErr
}

// serveOrFail returns the cached token if it is still valid, else err. A
// forced refresh (Refresh) always reports its failure.
func (m *Manager) serveOrFail(e *entry, md mode, err error) (*cached, error) {
	if c := e.cur.Load(); c != nil && md != modeForce && m.nowNano() < c.expireAt {
		m.emit(e, Event{Kind: EventServedStale, Generation: c.st.Generation, Err: err})
		if e.notBefore.Load() < c.expireAt && (IsPermanent(err) || waitsForPerson(err)) {
			e.notBefore.Store(c.expireAt)
		}
		return c, nil
	}
	return nil, err
}

// lock takes the Locker for e, preferring a fenced lease.
func (m *Manager) lock(ctx context.Context, e *entry) (fence uint64, unlock func(), err error) {
	switch l := m.locker.(type) {
	case nil:
		return 0, func() {}, nil
	case FencingLocker:
		fence, unlock, err = l.LockFenced(ctx, e.name)
	default:
		unlock, err = l.Lock(ctx, e.name)
	}
	if err != nil {
		err = fmt.Errorf("core: token %q: lock: %w", e.name, temporary{err})
		if e.typ.Load() == nil {
			// The credential is read under the lease, so its type is not
			// known yet; the event names it all the same.
			if c, cerr := m.store.GetCredentials(ctx, e.name); cerr == nil {
				e.typ.Store(&c.Type)
			}
		}
		m.emit(e, Event{Kind: EventLockFailed, Err: err})
		m.note(e, topicLock, "core: taking the lock failed", "error", err)
		return 0, nil, err
	}
	m.clearState(e, topicLock)
	return fence, unlock, nil
}

// temporary marks an error as worth retrying.
type temporary struct{ error }

func (t temporary) Temporary() bool { return true }
func (t temporary) Unwrap() error   { return t.error }
