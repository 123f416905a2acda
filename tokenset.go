package omnitoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/grokify/goauth/multiservice/tokens"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
	"golang.org/x/oauth2"
)

// tokenSetTimeout bounds each vault call of a VaultTokenSet, whose methods
// take no context.
const tokenSetTimeout = 30 * time.Second

// VaultTokenSet implements goauth's tokens.TokenSet interface backed by an
// omnivault. This allows goauth's multi-service token management to use
// vault storage. It reads both its own entries and the tokens a
// TokenManager stores under the same prefix.
type VaultTokenSet struct {
	v      vault.Vault
	prefix string
	logger *slog.Logger
}

// NewVaultTokenSet creates a new VaultTokenSet over v, keeping tokens
// under prefix (default "tokens/").
func NewVaultTokenSet(v vault.Vault, prefix string, logger *slog.Logger) *VaultTokenSet {
	if prefix == "" {
		prefix = DefaultTokensPrefix
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &VaultTokenSet{v: v, prefix: prefix, logger: logger}
}

// path is where key's token lives: the path the TokenManager's store uses
// for the credential of that name. The key is taken as is, not trimmed as
// goauth's tokens.FormatKey would, so that names the TokenManager keeps
// apart (" a" and "a") stay apart here too.
func (ts *VaultTokenSet) path(key string) (string, error) {
	if ts.v == nil {
		return "", fmt.Errorf("omnitoken: %w", ErrVaultNotConfigured)
	}
	seg, err := storage.EscapeName(key)
	if err != nil {
		return "", fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	return ts.prefix + seg, nil
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), tokenSetTimeout)
}

// GetTokenInfo retrieves token info from the vault.
func (ts *VaultTokenSet) GetTokenInfo(key string) (*tokens.TokenInfo, error) {
	p, err := ts.path(key)
	if err != nil {
		return nil, err
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	sec, err := ts.v.Get(ctx, p)
	if err != nil {
		if errors.Is(err, vault.ErrSecretNotFound) {
			return nil, fmt.Errorf("omnitoken: token %q: %w", key, ErrTokenNotFound)
		}
		return nil, fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	data := sec.Bytes()
	info := &tokens.TokenInfo{}
	if err := json.Unmarshal(data, info); err == nil && info.Token != nil {
		return info, nil
	}
	t, err := core.ParseStoredToken(data)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	return &tokens.TokenInfo{ServiceKey: key, Token: t.OAuth2()}, nil
}

// GetToken retrieves just the OAuth2 token from the vault.
func (ts *VaultTokenSet) GetToken(key string) (*oauth2.Token, error) {
	info, err := ts.GetTokenInfo(key)
	if err != nil {
		return nil, err
	}
	if info.Token == nil {
		return nil, fmt.Errorf("omnitoken: token %q: %w", key, ErrTokenNotFound)
	}
	return info.Token, nil
}

// SetTokenInfo stores token info in the vault.
func (ts *VaultTokenSet) SetTokenInfo(key string, tokenInfo *tokens.TokenInfo) error {
	p, err := ts.path(key)
	if err != nil {
		return err
	}
	if tokenInfo == nil {
		return fmt.Errorf("omnitoken: token %q: %w: token info is nil", key, ErrInvalidCredentials)
	}
	b, err := json.Marshal(tokenInfo)
	if err != nil {
		return fmt.Errorf("omnitoken: token %q: encode: %w", key, err)
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	if err := ts.v.Set(ctx, p, &vault.Secret{Value: string(b)}); err != nil {
		return fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	return nil
}

// DeleteToken removes a token from the vault.
func (ts *VaultTokenSet) DeleteToken(key string) error {
	p, err := ts.path(key)
	if err != nil {
		return err
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	if err := ts.v.Delete(ctx, p); err != nil && !errors.Is(err, vault.ErrSecretNotFound) {
		return fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	return nil
}

// ExistsToken checks if a token exists in the vault.
func (ts *VaultTokenSet) ExistsToken(key string) (bool, error) {
	p, err := ts.path(key)
	if err != nil {
		return false, err
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	ok, err := ts.v.Exists(ctx, p)
	if err != nil {
		return false, fmt.Errorf("omnitoken: token %q: %w", key, err)
	}
	return ok, nil
}

// ListTokens returns all token keys in the vault, sorted.
func (ts *VaultTokenSet) ListTokens() ([]string, error) {
	if ts.v == nil {
		return nil, fmt.Errorf("omnitoken: %w", ErrVaultNotConfigured)
	}
	ctx, cancel := ctxTimeout()
	defer cancel()
	paths, err := ts.v.List(ctx, ts.prefix)
	if err != nil {
		return nil, fmt.Errorf("omnitoken: list tokens: %w", err)
	}
	var keys []string
	for _, p := range paths {
		seg, ok := strings.CutPrefix(p, ts.prefix)
		if !ok || strings.Contains(seg, "/") {
			continue
		}
		if k, err := storage.UnescapeName(seg); err == nil {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

var _ tokens.TokenSet = (*VaultTokenSet)(nil)
