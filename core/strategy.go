package core

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// Strategy obtains tokens for one credential type. It is the whole
// contract a credential type must meet, in-process or as a plugin.
//
// A Strategy never caches and never stores anything: caching, refresh,
// locking and persistence live once, in the Manager. Token must be safe
// for concurrent use and must honour ctx's deadline on every network call.
type Strategy interface {
	// Type is the credential type served, such as "oauth2", or a plugin's
	// own type. It matches Credentials.Type.
	Type() string
	// Token returns a new token for c. prev is the last token, or nil; it
	// carries the refresh token when there is one, so the strategy can
	// choose between refreshing and acquiring anew. Token must not modify
	// c or prev.
	Token(ctx context.Context, c *Credentials, prev *Token) (*Token, error)
}

// The optional abilities of a Strategy, found by type assertion. Authors
// implement them as driver.Validator, driver.Revoker and driver.Closer.
type (
	validator interface {
		Validate(c *Credentials) error
	}
	revoker interface {
		Revoke(ctx context.Context, c *Credentials, t *Token) error
	}
	closer interface {
		Close() error
	}
)

// Registry maps credential types to strategies. Its zero value is not
// usable; call NewRegistry. A Registry is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Strategy
}

// NewRegistry returns a Registry holding the given strategies. It panics
// as Registry.Register does.
func NewRegistry(strategies ...Strategy) *Registry {
	r := &Registry{m: make(map[string]Strategy)}
	for _, s := range strategies {
		r.Register(s)
	}
	return r
}

// Register adds s under s.Type(). It panics if s is nil, its type is
// empty, or the type is already registered, as database/sql does: each is
// a programming error found at start-up.
func (r *Registry) Register(s Strategy) {
	if s == nil {
		panic("core: Register strategy is nil")
	}
	t := s.Type()
	if t == "" {
		panic("core: Register strategy with empty type")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[t]; dup {
		panic("core: Register called twice for type " + t)
	}
	r.m[t] = s
}

// Lookup returns the strategy for a credential type. An unknown type is an
// error matching ErrUnsupportedCredentialType that names the type and
// lists the registered ones.
func (r *Registry) Lookup(typ string) (Strategy, error) {
	r.mu.RLock()
	s, ok := r.m[typ]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("core: %w %q (registered: %s; forgotten import or plugin?)",
			ErrUnsupportedCredentialType, typ, strings.Join(r.Types(), ", "))
	}
	return s, nil
}

// Types returns the registered types, sorted.
func (r *Registry) Types() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.m))
	for t := range r.m {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
