package core

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
)

// SetCredentials validates c and stores it under name. The cached token
// and the stored token for name are dropped, and a refresh in flight for
// name is not kept: its waiters are served under the new credential. It
// takes the Locker when it can, so that a refresh of another process
// under the old credential cannot write its token after the drop. c's
// Type must name a section that is present; a strategy registered for the
// type that has a Validate(*Credentials) error method checks the rest. A
// type no strategy serves is stored as is. Malformed input is an error
// matching ErrInvalidCredentials.
func (m *Manager) SetCredentials(ctx context.Context, name string, c *Credentials) error {
	if err := m.open("set credentials", name); err != nil {
		return err
	}
	if err := m.validate(name, c); err != nil {
		return err
	}
	// Under the lease, as DeleteCredentials: a refresh of another process
	// under the old credential cannot write its token after this drop.
	// Unlike a delete, a change goes ahead without the lease when the
	// Locker fails (that is logged): a token left behind is bound to the
	// old credential and never served, and the next refresh replaces it.
	if unlock, err := m.lockName(ctx, name); err == nil {
		defer unlock()
	}
	e, _, err := m.kill(ctx, name, nil)
	if err != nil {
		return err
	}
	defer m.bury(e)
	if err := m.store.SetCredentials(ctx, name, c); err != nil {
		return fmt.Errorf("core: set credentials %q: %w", name, err)
	}
	if err := m.store.DeleteToken(ctx, name); err != nil && !errors.Is(err, ErrTokenNotFound) {
		m.log.Warn("core: dropping stored token failed", "name", name, "error", err)
	}
	return nil
}

func (m *Manager) validate(name string, c *Credentials) error {
	if err := checkName(name); err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("core: credentials %q: %w: nil", name, ErrInvalidCredentials)
	}
	if c.Type == "" {
		return fmt.Errorf("core: credentials %q: %w: no type", name, ErrInvalidCredentials)
	}
	if !c.HasSection(c.Type) {
		return fmt.Errorf("core: credentials %q: %w: type %q has no %q section", name, ErrInvalidCredentials, c.Type, c.Type)
	}
	if s, err := m.reg.Lookup(c.Type); err == nil {
		if v, ok := s.(validator); ok {
			if err := v.Validate(c); err != nil {
				// A strategy that could not answer (a crashed plugin) is
				// not a verdict on the credential.
				if !errors.Is(err, ErrInvalidCredentials) && !IsTemporary(err) {
					err = fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
				}
				return fmt.Errorf("core: credentials %q: %w", name, err)
			}
		}
	}
	return nil
}

// Credentials returns the stored credential.
func (m *Manager) Credentials(ctx context.Context, name string) (*Credentials, error) {
	if err := m.open("get credentials", name); err != nil {
		return nil, err
	}
	c, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("core: get credentials %q: %w", name, err)
	}
	return c, nil
}

// DeleteCredentials removes the credential and its token. A strategy with
// a Revoke method is asked, best effort, to revoke the token first.
//
// It first takes the Locker, so that a refresh of another process sharing
// it cannot write a token back after the delete: a refresh holding the
// lease (this process's included) ends first, and its token is revoked
// and deleted with the rest. When the Locker fails, nothing is deleted
// and the error says so. A refresh in flight that has not taken the lease
// is not kept: its token is revoked where the strategy can, and its
// waiters get an error matching ErrCredentialsNotFound.
//
// When DeleteCredentials returns nil, nothing of name remains in the
// store; when the token cannot be deleted, the error says so and the
// credential is kept, so that a second call finishes. A
// lease that expires while its holder still refreshes is the one way
// around this, which a FencingLocker and a store that checks fences
// narrow but do not close.
func (m *Manager) DeleteCredentials(ctx context.Context, name string) error {
	if err := m.open("delete credentials", name); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	c, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return fmt.Errorf("core: delete credentials %q: %w", name, err)
	}
	// Under the lease, a refresh of another process sharing the Locker
	// either ended before (its token is revoked and deleted here) or reads
	// the credential after, and finds it gone.
	unlock, err := m.lockName(ctx, name)
	if err != nil {
		return fmt.Errorf("core: delete credentials %q: %w", name, err)
	}
	defer unlock()
	gone := fmt.Errorf("core: token %q: %w: deleted", name, ErrCredentialsNotFound)
	e, last, err := m.kill(ctx, name, gone)
	if err != nil {
		return err
	}
	defer m.bury(e)
	if s, lerr := m.reg.Lookup(c.Type); lerr == nil {
		if r, ok := s.(revoker); ok {
			var revoked *Token
			if t, terr := m.store.GetToken(ctx, name); terr == nil && t != nil {
				revoked = &t.Token
				m.revoke(ctx, r, name, c, revoked)
			}
			if last != nil && !last.st.Token.Equal(revoked) {
				m.revoke(ctx, r, name, c, &last.st.Token)
			}
		}
	}
	if err := m.store.DeleteToken(ctx, name); err != nil && !errors.Is(err, ErrTokenNotFound) {
		// The credential is kept, so that calling DeleteCredentials again
		// finds it and finishes.
		return fmt.Errorf("core: delete credentials %q: deleting the stored token failed; the credential is kept, call again: %w", name, err)
	}
	if err := m.store.DeleteCredentials(ctx, name); err != nil {
		return fmt.Errorf("core: delete credentials %q: %w", name, err)
	}
	return nil
}

func (m *Manager) revoke(ctx context.Context, r revoker, name string, c *Credentials, t *Token) {
	if err := r.Revoke(ctx, c, t); err != nil {
		m.log.Warn("core: revoke failed", "name", name, "error", err)
	}
}

// ListCredentials returns the stored credential names, sorted.
func (m *Manager) ListCredentials(ctx context.Context) ([]string, error) {
	if err := m.open("list credentials", ""); err != nil {
		return nil, err
	}
	names, err := m.store.ListCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("core: list credentials: %w", err)
	}
	return names, nil
}

// PutToken stores a token obtained outside a strategy call, such as from
// an authorization-code exchange, under name: it is bound to the current
// credential, given the next generation, persisted, then cached. It wins
// over a refresh in flight, whose token is then not kept. A failed write
// is an error matching ErrPersistFailed and nothing is cached.
func (m *Manager) PutToken(ctx context.Context, name string, t *Token) error {
	if err := m.open("put token", name); err != nil {
		return err
	}
	if err := checkName(name); err != nil {
		return err
	}
	if t == nil || (t.AccessToken == "" && t.RefreshToken == "" && len(t.Header) == 0 && len(t.Query) == 0) {
		return fmt.Errorf("core: put token %q: %w: empty token", name, ErrInvalidCredentials)
	}
	e, err := m.entry(ctx, name)
	if err != nil {
		return err
	}
	fence, unlock, err := m.lock(ctx, e)
	if err != nil {
		return err
	}
	defer unlock()
	creds, err := m.store.GetCredentials(ctx, name)
	if err != nil {
		return fmt.Errorf("core: put token %q: %w", name, err)
	}
	fp := creds.Fingerprint()
	stored, err := m.store.GetToken(ctx, name)
	if err != nil {
		stored = nil
	}
	c, err := m.commit(ctx, e, pending{tok: t.Clone(), base: stored, fence: fence, digest: hex.EncodeToString(fp[:8]), explicit: true})
	if errors.Is(err, errDropped) {
		if e.dropErr != nil { // deleted meanwhile
			return fmt.Errorf("core: put token %q: %w", name, e.dropErr)
		}
		return fmt.Errorf("core: put token %q: %w: the credential was replaced meanwhile; the token was not stored", name, ErrConflict)
	}
	if err != nil {
		return err
	}
	// c, not e.cur: once writeMu is released, SetCredentials or
	// DeleteCredentials may have dropped it, or a refresh replaced it.
	m.emit(e, Event{Kind: EventTokenIssued, Generation: c.st.Generation})
	return nil
}

// open returns an error matching ErrClosed once Close has begun. A call
// that passed it while Close began runs to its end.
func (m *Manager) open(op, name string) error {
	m.life.RLock()
	closed := m.closed
	m.life.RUnlock()
	if !closed {
		return nil
	}
	if name == "" {
		return fmt.Errorf("core: %s: %w", op, ErrClosed)
	}
	return fmt.Errorf("core: %s %q: %w", op, name, ErrClosed)
}

// lockName takes the Locker for name, for an operation that replaces or
// removes the entry of name, before it does.
func (m *Manager) lockName(ctx context.Context, name string) (unlock func(), err error) {
	if m.locker == nil {
		return func() {}, nil
	}
	e, err := m.entry(ctx, name)
	if err != nil {
		return nil, err
	}
	_, unlock, err = m.lock(ctx, e)
	return unlock, err
}
