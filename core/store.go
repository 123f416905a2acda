package core

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/plexusone/omnitoken/core/internal/shared"
)

// Store persists credentials and tokens by credential name. The storage
// package implements it over any omnivault vault; MemoryStore keeps
// everything in memory.
//
// Missing entries are errors matching ErrCredentialsNotFound and
// ErrTokenNotFound. A name that cannot be stored safely is an error
// matching ErrInvalidCredentials. A SetToken that refuses to overwrite a
// newer token (see ErrConflict) returns an error matching ErrConflict.
//
// Every method must be safe for concurrent use, and what a Store returns
// must not share memory with what it keeps.
type Store interface {
	GetCredentials(ctx context.Context, name string) (*Credentials, error)
	SetCredentials(ctx context.Context, name string, c *Credentials) error
	DeleteCredentials(ctx context.Context, name string) error
	ListCredentials(ctx context.Context) ([]string, error)

	GetToken(ctx context.Context, name string) (*StoredToken, error)
	SetToken(ctx context.Context, name string, t *StoredToken) error
	DeleteToken(ctx context.Context, name string) error
}

// Locker serializes refreshes of one credential beyond one process: across
// OS processes sharing a file vault, or across hosts. The Manager already
// runs one refresh per name within a process; a Locker extends that.
//
// Lock blocks until the lock for name is held or ctx is done. The
// returned unlock releases it and is safe to call once. A lock whose
// holder dies must not block others forever.
type Locker interface {
	Lock(ctx context.Context, name string) (unlock func(), err error)
}

// FencingLocker is a Locker whose leases carry a fencing token that
// increases with each lease granted for a name. The Manager prefers
// LockFenced when its Locker has it and stamps StoredToken.Fence with the
// fence before SetToken, so a Store can refuse, with ErrConflict, a write
// from a holder whose lease has lapsed and been granted to another.
type FencingLocker interface {
	Locker
	LockFenced(ctx context.Context, name string) (fence uint64, unlock func(), err error)
}

// MemoryStore is a Store in process memory. It is safe for concurrent use
// and keeps private copies of what it is given. Every method refuses a
// name driver.CheckName refuses, and a nil credential or token, with an error
// matching ErrInvalidCredentials. It does no I/O and does not look at
// its contexts.
type MemoryStore struct {
	mu    sync.RWMutex
	creds map[string]*Credentials
	toks  map[string]*StoredToken
}

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	return &MemoryStore{creds: map[string]*Credentials{}, toks: map[string]*StoredToken{}}
}

// GetCredentials implements Store.
func (s *MemoryStore) GetCredentials(_ context.Context, name string) (*Credentials, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.creds[name]
	if !ok {
		return nil, notFound(ErrCredentialsNotFound, name)
	}
	return c.Clone(), nil
}

// SetCredentials implements Store.
func (s *MemoryStore) SetCredentials(_ context.Context, name string, c *Credentials) error {
	if err := checkName(name); err != nil {
		return err
	}
	if c == nil {
		return fmt.Errorf("core: credential %q: %w: nil credentials", name, ErrInvalidCredentials)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.creds[name] = c.Clone()
	return nil
}

// DeleteCredentials implements Store.
func (s *MemoryStore) DeleteCredentials(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.creds[name]; !ok {
		return notFound(ErrCredentialsNotFound, name)
	}
	delete(s.creds, name)
	return nil
}

// ListCredentials implements Store. Names are sorted.
func (s *MemoryStore) ListCredentials(context.Context) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.creds))
	for k := range s.creds {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

// GetToken implements Store.
func (s *MemoryStore) GetToken(_ context.Context, name string) (*StoredToken, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	t, ok := s.toks[name]
	if !ok {
		return nil, notFound(ErrTokenNotFound, name)
	}
	return t.Clone(), nil
}

// SetToken implements Store.
func (s *MemoryStore) SetToken(_ context.Context, name string, t *StoredToken) error {
	if err := checkName(name); err != nil {
		return err
	}
	if t == nil {
		return fmt.Errorf("core: token %q: %w: nil token", name, ErrInvalidCredentials)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.toks[name] = t.Clone()
	return nil
}

// DeleteToken implements Store. Deleting a missing token is not an error.
func (s *MemoryStore) DeleteToken(_ context.Context, name string) error {
	if err := checkName(name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.toks, name)
	return nil
}

var _ Store = (*MemoryStore)(nil)

func checkName(name string) error { return shared.CheckName(name, ErrInvalidCredentials) }

func notFound(sentinel error, name string) error {
	return fmt.Errorf("core: %q: %w", name, sentinel)
}
