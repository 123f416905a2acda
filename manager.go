package omnitoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/grokify/goauth"
	"github.com/grokify/goauth/multiservice/tokens"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/storage"
	"golang.org/x/oauth2"
)

// TokenManager manages credentials and tokens using vault storage. It
// provides a unified interface for obtaining authenticated HTTP clients
// from stored credentials, with automatic token refresh and caching.
//
// A TokenManager is safe for concurrent use. Close it when done: Close
// stops its background work and any plugin processes it started.
type TokenManager struct {
	cfg      Config
	store    *storage.Store
	mgr      *core.Manager
	creds    *CredentialsStore
	tokenSet *VaultTokenSet
	res      *resources     // behind a pointer, so that TokenManager stays comparable
	ownVault bool           // the vault was opened by a constructor, so Close closes it
	strict   *core.Registry // the strategies themselves, for ValidateCredentials
	// encrypted is the sealing view of the vault when Config.EncryptionKeys
	// is set, else nil.
	encrypted *storage.EncryptedVault
}

// resources are what a TokenManager started and stops in Close.
type resources struct {
	closers []func() error
}

// New creates a new TokenManager with the given configuration.
func New(cfg Config) (*TokenManager, error) {
	if err := cfg.Validate(); err != nil {
		if errors.Is(err, ErrVaultNotConfigured) {
			return nil, fmt.Errorf("omnitoken: %w", err)
		}
		return nil, err
	}
	cfg = cfg.withDefaults()
	enc, err := storeVault(cfg)
	if err != nil {
		return nil, err
	}
	sv := cfg.Vault
	if enc != nil {
		sv = enc
	}
	st, err := storage.New(sv, storage.Options{
		CredentialsPrefix: cfg.CredentialsPrefix,
		TokensPrefix:      cfg.TokensPrefix,
		Logger:            cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	tm := &TokenManager{cfg: cfg, store: st, res: &resources{}, encrypted: enc}
	reg, closers, err := buildRegistry(cfg)
	if err != nil {
		return nil, err
	}
	tm.res.closers = closers
	tm.strict = reg
	opts := core.Options{
		Store:             st,
		Registry:          lenientRegistry(reg),
		RefreshBuffer:     cfg.RefreshBuffer,
		BackgroundRefresh: cfg.AutoRefresh,
		Logger:            cfg.Logger,
		OnEvent:           cfg.ext().OnEvent,
		Clock:             cfg.Clock,
	}
	if dv, ok := cfg.Vault.(storage.DirVault); ok {
		// Processes sharing the directory refresh each credential once.
		opts.Locker = dv.Locker()
	}
	if cfg.RedisURL != "" {
		if err := tm.useRedis(&opts); err != nil {
			_ = tm.closeStrategies()
			return nil, err
		}
	}
	tm.mgr, err = core.New(opts)
	if err != nil {
		_ = tm.closeStrategies()
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	tm.creds = &CredentialsStore{store: st, mgr: tm.mgr, logger: cfg.Logger}
	tm.tokenSet = NewVaultTokenSet(sv, cfg.TokensPrefix, cfg.Logger)
	return tm, nil
}

// Core returns the engine under the TokenManager, for APIs that take a
// *core.Manager (such as the OAuth 2.0 authorization-code exchange).
func (tm *TokenManager) Core() *core.Manager { return tm.mgr }

// Close releases resources held by the token manager: background
// refreshes stop, a token whose write had failed is written once more,
// and plugin processes are stopped. A vault the TokenManager opened itself
// (NewFromDirectory, NewFromVaultURI, NewAuto, …) is closed too; a vault
// passed in through Config or NewWithVault is left to its owner. Close is
// safe to call more than once.
func (tm *TokenManager) Close() error {
	err := errors.Join(tm.mgr.Close(), tm.closeStrategies())
	if tm.ownVault {
		tm.ownVault = false
		if cerr := tm.cfg.Vault.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("omnitoken: close vault: %w", cerr))
		}
	}
	return err
}

func (tm *TokenManager) closeStrategies() error {
	var errs []error
	for _, c := range tm.res.closers {
		errs = append(errs, c())
	}
	tm.res.closers = nil
	return errors.Join(errs...)
}

// CredentialsStore returns the underlying credentials store.
func (tm *TokenManager) CredentialsStore() *CredentialsStore { return tm.creds }

// TokenSet returns the underlying goauth TokenSet implementation. This
// allows integration with goauth's multi-service token management. It
// reads the tokens the TokenManager stores.
func (tm *TokenManager) TokenSet() tokens.TokenSet { return tm.tokenSet }

// SetCredentials stores credentials in the vault, as v0.1.0 did: anything
// structurally sound is stored. Only nil credentials, an empty type, a
// type whose section is missing, or a section that is not a JSON object
// are refused, with ErrInvalidCredentials. What a credential still lacks
// (an OAuth 2.0 endpoint for a service with no known one, a client
// secret, …) is reported by GetToken, with an error matching
// ErrInvalidCredentials that names the missing field, and by
// ValidateCredentials, which a caller can run first. Credentials of a type
// no strategy serves fail at GetToken with ErrUnsupportedCredentialType.
func (tm *TokenManager) SetCredentials(ctx context.Context, name string, creds *goauth.Credentials) error {
	c, err := toCore(creds)
	if err != nil {
		return err
	}
	if err := tm.mgr.SetCredentials(ctx, name, c); err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	return nil
}

// ValidateCredentials checks the stored credentials named name as
// GetToken would, without a network call: the strategy serving their type
// checks every field it needs (endpoints, grant, keys, https). It returns
// nil for credentials a token can be obtained with, an error matching
// ErrInvalidCredentials that names what is missing or wrong, one matching
// ErrUnsupportedCredentialType when no strategy serves the type, or one
// matching ErrCredentialsNotFound.
func (tm *TokenManager) ValidateCredentials(ctx context.Context, name string) error {
	c, err := tm.mgr.Credentials(ctx, name)
	if err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	if err := tm.validate(c); err != nil {
		return fmt.Errorf("omnitoken: credentials %q: %w", name, err)
	}
	return nil
}

// Validate checks creds as ValidateCredentials checks stored credentials,
// before they are stored.
func (tm *TokenManager) Validate(creds *goauth.Credentials) error {
	c, err := toCore(creds)
	if err != nil {
		return err
	}
	if err := tm.validate(c); err != nil {
		return fmt.Errorf("omnitoken: credentials: %w", err)
	}
	return nil
}

func (tm *TokenManager) validate(c *core.Credentials) error {
	if err := structural(c); err != nil {
		return err
	}
	s, err := tm.strict.Lookup(c.Type)
	if err != nil {
		return err
	}
	v, ok := s.(driver.Validator)
	if !ok {
		return nil
	}
	if err := v.Validate(c); err != nil {
		if !errors.Is(err, ErrInvalidCredentials) && !core.IsTemporary(err) {
			err = fmt.Errorf("%w: %w", ErrInvalidCredentials, err)
		}
		return err
	}
	return nil
}

// GetCredentials retrieves credentials from the vault by name.
func (tm *TokenManager) GetCredentials(ctx context.Context, name string) (*goauth.Credentials, error) {
	return tm.creds.Get(ctx, name)
}

// DeleteCredentials removes credentials, and the token obtained with them,
// from the vault.
func (tm *TokenManager) DeleteCredentials(ctx context.Context, name string) error {
	if err := tm.mgr.DeleteCredentials(ctx, name); err != nil {
		return fmt.Errorf("omnitoken: %w", err)
	}
	return nil
}

// ListCredentials returns all credential names in the vault, sorted.
func (tm *TokenManager) ListCredentials(ctx context.Context) ([]string, error) {
	return tm.creds.List(ctx)
}

// GetToken returns a valid OAuth2 token for the named credentials. It
// retrieves from cache/vault if valid, or obtains a new token if needed.
// The returned token is shared: do not modify it.
func (tm *TokenManager) GetToken(ctx context.Context, name string) (*oauth2.Token, error) {
	t, err := tm.mgr.OAuth2Token(ctx, name)
	if err != nil {
		return nil, &wrapError{err}
	}
	return t, nil
}

// wrapError is fmt.Errorf("omnitoken: %w", err) as a type. GetToken, the
// cached path, builds it instead of calling fmt.Errorf, whose inlined
// body would make GetToken's frame larger than core's: the root API
// costs nothing over core for a cached token.
type wrapError struct{ err error }

func (e *wrapError) Error() string { return "omnitoken: " + e.err.Error() }
func (e *wrapError) Unwrap() error { return e.err }

// RefreshToken forces a token refresh for the named credentials.
func (tm *TokenManager) RefreshToken(ctx context.Context, name string) (*oauth2.Token, error) {
	t, err := tm.mgr.Refresh(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return t.OAuth2(), nil
}

// GetClient returns an authenticated HTTP client for the named
// credentials. It obtains a token first, so a missing or unusable
// credential fails here. Unlike a client holding one fixed token, every
// request of the returned client takes the current token, so the client
// keeps working across token expiry; a 401 answer to a replayable request
// triggers one refresh and one retry.
func (tm *TokenManager) GetClient(ctx context.Context, name string) (*http.Client, error) {
	if _, err := tm.mgr.Token(ctx, name); err != nil {
		return nil, fmt.Errorf("omnitoken: %w", err)
	}
	return tm.mgr.Client(name, nil), nil
}
