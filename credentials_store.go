package omnitoken

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// CredentialsStore manages goauth Credentials in a vault.
type CredentialsStore struct {
	store  *storage.Store
	err    error         // from construction, returned by every method
	mgr    *core.Manager // when owned by a TokenManager: writes invalidate its cache
	logger *slog.Logger
}

// NewCredentialsStore creates a new CredentialsStore over v, keeping
// credentials under prefix (default "credentials/"). A nil vault gives a
// store whose every method fails with ErrVaultNotConfigured.
func NewCredentialsStore(v vault.Vault, prefix string, logger *slog.Logger) *CredentialsStore {
	if logger == nil {
		logger = slog.Default()
	}
	if prefix == "" {
		prefix = DefaultCredentialsPrefix
	}
	st, err := storage.New(v, storage.Options{CredentialsPrefix: prefix, Logger: logger})
	if err != nil {
		err = fmt.Errorf("omnitoken: %w", err)
	}
	return &CredentialsStore{store: st, err: err, logger: logger}
}

// Get retrieves credentials from the vault by name.
func (cs *CredentialsStore) Get(ctx context.Context, name string) (*goauth.Credentials, error) {
	if cs.err != nil {
		return nil, cs.err
	}
	c, err := cs.store.GetCredentials(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return fromCore(c)
}

// GetWithTimeout retrieves credentials with a timeout.
func (cs *CredentialsStore) GetWithTimeout(name string, timeout time.Duration) (*goauth.Credentials, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return cs.Get(ctx, name)
}

// Set stores credentials in the vault, as TokenManager.SetCredentials
// does: anything structurally sound. Nil credentials, an empty type, a
// missing section or one that is not a JSON object are refused with
// ErrInvalidCredentials.
func (cs *CredentialsStore) Set(ctx context.Context, name string, creds *goauth.Credentials) error {
	if cs.err != nil {
		return cs.err
	}
	c, err := toCore(creds)
	if err != nil {
		return err
	}
	if cs.mgr != nil {
		err = cs.mgr.SetCredentials(ctx, name, c)
	} else {
		if err := structural(c); err != nil {
			return fmt.Errorf("omnitoken: credentials %q: %w", name, err)
		}
		err = cs.store.SetCredentials(ctx, name, c)
	}
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	return nil
}

// Delete removes credentials from the vault.
func (cs *CredentialsStore) Delete(ctx context.Context, name string) error {
	if cs.err != nil {
		return cs.err
	}
	var err error
	if cs.mgr != nil {
		err = cs.mgr.DeleteCredentials(ctx, name)
	} else {
		err = cs.store.DeleteCredentials(ctx, name)
	}
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	return nil
}

// Exists reports whether credentials are stored under name.
func (cs *CredentialsStore) Exists(ctx context.Context, name string) (bool, error) {
	if cs.err != nil {
		return false, cs.err
	}
	_, err := cs.store.GetCredentials(ctx, name)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, ErrCredentialsNotFound):
		return false, nil
	}
	return false, fmt.Errorf("omnitoken: %w", err)
}

// List returns all credential names in the vault, sorted.
func (cs *CredentialsStore) List(ctx context.Context) ([]string, error) {
	if cs.err != nil {
		return nil, cs.err
	}
	names, err := cs.store.ListCredentials(ctx)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return names, nil
}

// LoadCredentialsSet loads a goauth.CredentialsSet from all vault entries.
func (cs *CredentialsStore) LoadCredentialsSet(ctx context.Context) (*goauth.CredentialsSet, error) {
	names, err := cs.List(ctx)
	if err != nil {
		return nil, err
	}
	set := &goauth.CredentialsSet{Credentials: make(map[string]goauth.Credentials, len(names))}
	for _, n := range names {
		c, err := cs.Get(ctx, n)
		if err != nil {
			return nil, err
		}
		set.Credentials[n] = *c
	}
	return set, nil
}

// SaveCredentialsSet saves a goauth.CredentialsSet to the vault, one entry
// per account key. It stops at the first failure.
func (cs *CredentialsStore) SaveCredentialsSet(ctx context.Context, set *goauth.CredentialsSet) error {
	if set == nil {
		return fmt.Errorf("omnitoken: %w: credentials set is nil", ErrInvalidCredentials)
	}
	for _, k := range set.Keys() {
		c := set.Credentials[k]
		if err := cs.Set(ctx, k, &c); err != nil {
			return err
		}
	}
	return nil
}
