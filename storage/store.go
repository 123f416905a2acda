package storage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnivault/vault"
)

// Default path prefixes.
const (
	DefaultCredentialsPrefix = "credentials/"
	DefaultTokensPrefix      = "tokens/"
)

// Options configures a Store. The zero value is valid.
type Options struct {
	// CredentialsPrefix starts the path of every credential. Default
	// "credentials/".
	CredentialsPrefix string
	// TokensPrefix starts the path of every token. Default "tokens/".
	TokensPrefix string
	// Logger receives debug and warning messages; they never hold a
	// secret. Default: discard.
	Logger *slog.Logger
}

// Store is a core.Store over an omnivault vault.Vault.
//
// A credential named name lives at CredentialsPrefix+EscapeName(name) and
// its token at TokensPrefix+EscapeName(name). Credentials are written as
// goauth JSON in the secret's Value; on a vault whose capabilities report
// MultiField, the top-level keys are also written flattened into Fields
// ("service", "type" and "subdomain" as plain strings, every other key as
// its JSON text). Either form is read back, Value first. Tokens are written
// as core.Token JSON in Value.
//
// Read-only vaults: when the vault does not report Write, or a token write
// fails with vault.ErrReadOnly, tokens are kept in this Store's memory
// instead, for the life of the Store, and never read from the vault.
// Writing or deleting a credential on such a vault is an error matching
// vault.ErrReadOnly.
//
// A call whose context is done fails with an error matching the
// context's error before it touches the vault, whatever the vault does
// with contexts.
//
// Errors start with "storage: ", name the credential, never quote a
// secret, and match core's sentinels: core.ErrCredentialsNotFound,
// core.ErrTokenNotFound, and core.ErrInvalidCredentials for a bad name or
// a stored value that does not parse.
//
// A Store is safe for concurrent use. It does not close its vault.
type Store struct {
	v          vault.Vault
	credPrefix string
	tokPrefix  string
	log        *slog.Logger
	multiField bool
	canWrite   bool
	canDelete  bool

	memTokens atomic.Bool // tokens live in mem, not the vault
	mu        sync.RWMutex
	mem       map[string]*core.StoredToken

	cv       ConditionalVault  // v, when it can write conditionally
	versions map[string]string // token name → vault version last read or written; "": absent
}

// ConditionalVault is a vault.Vault that can write a path only if it still
// holds the version that was read. A Store over one writes every token
// with SetIfVersion, guarded by the version its GetToken (or its previous
// SetToken) saw for that name, so two processes that both refreshed a
// token cannot overwrite each other: the later write fails with an error
// matching core.ErrConflict, and the Manager re-reads and adopts the
// stored token. Credentials are written with Set, as an operator expects.
//
// The providers for HashiCorp Vault and OpenBao (KV v2 check-and-set), AWS
// Secrets Manager (version stages) and GCP Secret Manager (etags)
// implement it.
type ConditionalVault interface {
	vault.Vault
	// SetIfVersion writes s at path only if the path's current version is
	// version, the opaque Metadata.Version that Get reported, or, when
	// version is "", only if nothing is stored there. It returns the
	// version written. A refused write is an error matching
	// core.ErrConflict.
	SetIfVersion(ctx context.Context, path string, s *vault.Secret, version string) (string, error)
}

// New returns a Store over v. A nil v is an error matching
// core.ErrVaultNotConfigured. The two prefixes must differ and neither may
// start the other, so that a credential and a token never share a path.
func New(v vault.Vault, opts Options) (*Store, error) {
	if v == nil {
		return nil, fmt.Errorf("storage: %w", core.ErrVaultNotConfigured)
	}
	if opts.CredentialsPrefix == "" {
		opts.CredentialsPrefix = DefaultCredentialsPrefix
	}
	if opts.TokensPrefix == "" {
		opts.TokensPrefix = DefaultTokensPrefix
	}
	cp, tp := opts.CredentialsPrefix, opts.TokensPrefix
	if strings.HasPrefix(cp, tp) || strings.HasPrefix(tp, cp) {
		return nil, fmt.Errorf("storage: credentials prefix %q and tokens prefix %q overlap", cp, tp)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	caps := v.Capabilities()
	s := &Store{
		v:          v,
		credPrefix: cp,
		tokPrefix:  tp,
		log:        log,
		multiField: caps.MultiField,
		canWrite:   caps.Write,
		canDelete:  caps.Delete,
		mem:        map[string]*core.StoredToken{},
		versions:   map[string]string{},
	}
	s.cv = conditionalOf(v)
	if !caps.Write {
		s.memTokens.Store(true)
		log.Info("storage: vault is read-only; tokens are kept in memory", "vault", v.Name())
	}
	return s, nil
}

// Vault returns the vault the Store reads and writes.
func (s *Store) Vault() vault.Vault { return s.v }

// CredentialsPath returns the vault path of the named credential.
func (s *Store) CredentialsPath(name string) (string, error) {
	seg, err := EscapeName(name)
	if err != nil {
		return "", err
	}
	return s.credPrefix + seg, nil
}

// TokenPath returns the vault path of the named credential's token.
func (s *Store) TokenPath(name string) (string, error) {
	seg, err := EscapeName(name)
	if err != nil {
		return "", err
	}
	return s.tokPrefix + seg, nil
}

// GetCredentials implements core.Store.
func (s *Store) GetCredentials(ctx context.Context, name string) (*core.Credentials, error) {
	p, err := s.CredentialsPath(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: credential %q: %w", name, err)
	}
	sec, err := s.v.Get(ctx, p)
	if err != nil {
		if errors.Is(err, vault.ErrSecretNotFound) {
			return nil, fmt.Errorf("storage: credential %q: %w", name, core.ErrCredentialsNotFound)
		}
		return nil, fmt.Errorf("storage: credential %q: %w", name, err)
	}
	if sec == nil {
		return nil, fmt.Errorf("storage: credential %q: %w", name, core.ErrCredentialsNotFound)
	}
	c, err := decodeCredentials(sec)
	if err != nil {
		return nil, fmt.Errorf("storage: credential %q at %s: %w", name, p, err)
	}
	if c.Type == "" {
		return nil, fmt.Errorf("storage: credential %q at %s: %w", name, p, noType(c))
	}
	return c, nil
}

// SetCredentials implements core.Store. A nil c is an error matching
// core.ErrInvalidCredentials; on a read-only vault, one matching
// vault.ErrReadOnly.
func (s *Store) SetCredentials(ctx context.Context, name string, c *core.Credentials) error {
	p, err := s.CredentialsPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	if c == nil {
		return fmt.Errorf("storage: credential %q: %w: nil credentials", name, core.ErrInvalidCredentials)
	}
	if !s.canWrite {
		return fmt.Errorf("storage: credential %q: %w: vault %q does not accept writes", name, vault.ErrReadOnly, s.v.Name())
	}
	sec, err := encodeCredentials(c, s.multiField)
	if err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	if err := s.v.Set(ctx, p, sec); err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	return nil
}

// DeleteCredentials implements core.Store. Deleting a missing credential
// is an error matching core.ErrCredentialsNotFound.
func (s *Store) DeleteCredentials(ctx context.Context, name string) error {
	p, err := s.CredentialsPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	ok, err := s.v.Exists(ctx, p)
	if err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	if !ok {
		return fmt.Errorf("storage: credential %q: %w", name, core.ErrCredentialsNotFound)
	}
	if !s.canDelete {
		return fmt.Errorf("storage: credential %q: %w: vault %q does not accept deletes", name, vault.ErrReadOnly, s.v.Name())
	}
	if err := s.v.Delete(ctx, p); err != nil {
		return fmt.Errorf("storage: credential %q: %w", name, err)
	}
	return nil
}

// ListCredentials implements core.Store. It returns the sorted names of
// the stored credentials; entries under the prefix that EscapeName did
// not produce are skipped.
func (s *Store) ListCredentials(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: list credentials: %w", err)
	}
	paths, err := s.v.List(ctx, s.credPrefix)
	if err != nil {
		return nil, fmt.Errorf("storage: list credentials: %w", err)
	}
	seen := make(map[string]bool, len(paths))
	names := make([]string, 0, len(paths))
	for _, p := range paths {
		seg, ok := strings.CutPrefix(p, s.credPrefix)
		if !ok {
			continue
		}
		name, err := UnescapeName(seg)
		if err != nil {
			s.log.Debug("storage: skipping a vault entry that is not a stored credential name", "path", p)
			continue
		}
		if !seen[name] {
			seen[name] = true
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names, nil
}

// GetToken implements core.Store.
func (s *Store) GetToken(ctx context.Context, name string) (*core.StoredToken, error) {
	p, err := s.TokenPath(name)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage: token %q: %w", name, err)
	}
	if s.memTokens.Load() {
		s.mu.RLock()
		t, ok := s.mem[name]
		s.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("storage: token %q: %w", name, core.ErrTokenNotFound)
		}
		return t.Clone(), nil
	}
	sec, err := s.v.Get(ctx, p)
	if err != nil {
		if errors.Is(err, vault.ErrSecretNotFound) {
			s.sawVersion(name, "")
			return nil, fmt.Errorf("storage: token %q: %w", name, core.ErrTokenNotFound)
		}
		return nil, fmt.Errorf("storage: token %q: %w", name, err)
	}
	if sec == nil {
		s.sawVersion(name, "")
		return nil, fmt.Errorf("storage: token %q: %w", name, core.ErrTokenNotFound)
	}
	s.sawVersion(name, sec.Metadata.Version)
	t, err := decodeToken(sec)
	if err != nil {
		return nil, fmt.Errorf("storage: token %q at %s: %w", name, p, err)
	}
	if t.AccessToken == "" && t.RefreshToken == "" && len(t.Header) == 0 && len(t.Query) == 0 {
		return nil, fmt.Errorf("storage: token %q at %s: %w: the stored value holds no token%s", name, p, core.ErrInvalidCredentials, v01Hint(sec.Bytes()))
	}
	return t, nil
}

// SetToken implements core.Store. On a read-only vault the token is kept
// in memory.
func (s *Store) SetToken(ctx context.Context, name string, t *core.StoredToken) error {
	p, err := s.TokenPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: token %q: %w", name, err)
	}
	if t == nil {
		return fmt.Errorf("storage: token %q: %w: nil token", name, core.ErrInvalidCredentials)
	}
	if !s.memTokens.Load() {
		sec, err := encodeToken(t)
		if err != nil {
			return fmt.Errorf("storage: token %q: %w", name, err)
		}
		err = s.writeToken(ctx, name, p, sec)
		if err == nil {
			return nil
		}
		if !errors.Is(err, vault.ErrReadOnly) {
			return fmt.Errorf("storage: token %q: %w", name, err)
		}
		if s.memTokens.CompareAndSwap(false, true) {
			s.log.Warn("storage: vault refused a write; tokens are kept in memory from now on", "vault", s.v.Name(), "name", name)
		}
	}
	s.mu.Lock()
	s.mem[name] = t.Clone()
	s.mu.Unlock()
	return nil
}

// conditionalOf returns v as a ConditionalVault, or nil. An EncryptedVault
// over a conditional vault seals the value and writes it conditionally
// below, so encryption does not cost the compare-and-set.
func conditionalOf(v vault.Vault) ConditionalVault {
	if e, ok := v.(*EncryptedVault); ok {
		if inner := conditionalOf(e.v); inner != nil {
			return encryptedConditional{e, inner}
		}
		return nil
	}
	cv, _ := v.(ConditionalVault)
	return cv
}

type encryptedConditional struct {
	*EncryptedVault
	inner ConditionalVault
}

func (c encryptedConditional) SetIfVersion(ctx context.Context, path string, s *vault.Secret, version string) (string, error) {
	if s == nil {
		return "", fmt.Errorf("storage: value at %q: nil secret", path)
	}
	sealed, err := c.keys.seal(path, s.Bytes())
	if err != nil {
		return "", fmt.Errorf("storage: seal value at %q: %w", path, err)
	}
	return c.inner.SetIfVersion(ctx, path, &vault.Secret{Value: sealed, Metadata: s.Metadata}, version)
}

// writeToken writes a token's secret: conditionally on a ConditionalVault,
// with the version last seen for name (read first when none was seen).
func (s *Store) writeToken(ctx context.Context, name, p string, sec *vault.Secret) error {
	if s.cv == nil {
		return s.v.Set(ctx, p, sec)
	}
	s.mu.RLock()
	ver, seen := s.versions[name]
	s.mu.RUnlock()
	if !seen {
		// Only the version is wanted: a stored token that does not
		// decode is overwritten, as Set would.
		sec, err := s.v.Get(ctx, p)
		switch {
		case err == nil && sec != nil:
			ver = sec.Metadata.Version
		case err == nil || errors.Is(err, vault.ErrSecretNotFound):
			ver = ""
		default:
			return err
		}
	}
	nv, err := s.cv.SetIfVersion(ctx, p, sec, ver)
	if err != nil {
		s.forgetVersion(name)
		return err
	}
	s.sawVersion(name, nv)
	return nil
}

func (s *Store) sawVersion(name, ver string) {
	if s.cv == nil {
		return
	}
	s.mu.Lock()
	s.versions[name] = ver
	s.mu.Unlock()
}

func (s *Store) forgetVersion(name string) {
	if s.cv == nil {
		return
	}
	s.mu.Lock()
	delete(s.versions, name)
	s.mu.Unlock()
}

// DeleteToken implements core.Store. Deleting a missing token is not an
// error.
func (s *Store) DeleteToken(ctx context.Context, name string) error {
	p, err := s.TokenPath(name)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage: token %q: %w", name, err)
	}
	s.mu.Lock()
	delete(s.mem, name)
	delete(s.versions, name)
	s.mu.Unlock()
	if s.memTokens.Load() {
		return nil
	}
	if err := s.v.Delete(ctx, p); err != nil && !errors.Is(err, vault.ErrSecretNotFound) {
		return fmt.Errorf("storage: token %q: %w", name, err)
	}
	return nil
}

var _ core.Store = (*Store)(nil)
