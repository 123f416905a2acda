// Package omnitoken is the seed API (v0.1.0), as its documentation lists
// it, with bodies left out. It exists to be compared with apidiff.
//
//lint:file-ignore U1000 This stub declares the seed API's shape for apidiff; its unexported fields are never used.
package omnitoken

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/grokify/goauth"
	"github.com/grokify/goauth/multiservice/tokens"
	"github.com/plexusone/omnivault/vault"
	"golang.org/x/oauth2"
)

var (
	ErrCredentialsNotFound       = errors.New("credentials not found")
	ErrTokenNotFound             = errors.New("token not found")
	ErrTokenExpired              = errors.New("token expired")
	ErrRefreshFailed             = errors.New("token refresh failed")
	ErrInvalidCredentials        = errors.New("invalid credentials")
	ErrVaultNotConfigured        = errors.New("vault not configured")
	ErrUnsupportedCredentialType = errors.New("unsupported credential type")
)

func CredentialsDir() (string, error) { panic("seed") }

type Config struct {
	Vault             vault.Vault
	CredentialsPrefix string
	TokensPrefix      string
	RefreshBuffer     time.Duration
	AutoRefresh       bool
	Logger            *slog.Logger
}

func DefaultConfig() Config { panic("seed") }

// Validate is in v0.1.0's source (TokenManager.New calls it), though its
// documentation does not list it.
func (c *Config) Validate() error { panic("seed") }

type CredentialsStore struct {
	v      vault.Vault
	prefix string
	logger *slog.Logger
}

func NewCredentialsStore(v vault.Vault, prefix string, logger *slog.Logger) *CredentialsStore {
	panic("seed")
}
func (cs *CredentialsStore) Delete(ctx context.Context, name string) error         { panic("seed") }
func (cs *CredentialsStore) Exists(ctx context.Context, name string) (bool, error) { panic("seed") }
func (cs *CredentialsStore) Get(ctx context.Context, name string) (*goauth.Credentials, error) {
	panic("seed")
}
func (cs *CredentialsStore) GetWithTimeout(name string, timeout time.Duration) (*goauth.Credentials, error) {
	panic("seed")
}
func (cs *CredentialsStore) List(ctx context.Context) ([]string, error) { panic("seed") }
func (cs *CredentialsStore) LoadCredentialsSet(ctx context.Context) (*goauth.CredentialsSet, error) {
	panic("seed")
}
func (cs *CredentialsStore) SaveCredentialsSet(ctx context.Context, set *goauth.CredentialsSet) error {
	panic("seed")
}
func (cs *CredentialsStore) Set(ctx context.Context, name string, creds *goauth.Credentials) error {
	panic("seed")
}

type TokenManager struct {
	cfg Config
}

func New(cfg Config) (*TokenManager, error)                                            { panic("seed") }
func NewAuto() (*TokenManager, error)                                                  { panic("seed") }
func NewFromCredentials(name string, creds *goauth.Credentials) (*TokenManager, error) { panic("seed") }
func NewFromCredentialsFile(credentialsFile string) (*TokenManager, error)             { panic("seed") }
func NewFromCredentialsSet(set *goauth.CredentialsSet) (*TokenManager, error)          { panic("seed") }
func NewFromDirectory(directory string) (*TokenManager, error)                         { panic("seed") }
func NewFromEnv(prefix string) (*TokenManager, error)                                  { panic("seed") }
func NewFromVaultURI(uri string) (*TokenManager, error)                                { panic("seed") }
func NewWithVault(v vault.Vault) (*TokenManager, error)                                { panic("seed") }
func (tm *TokenManager) Close() error                                                  { panic("seed") }
func (tm *TokenManager) CredentialsStore() *CredentialsStore                           { panic("seed") }
func (tm *TokenManager) DeleteCredentials(ctx context.Context, name string) error      { panic("seed") }
func (tm *TokenManager) GetClient(ctx context.Context, name string) (*http.Client, error) {
	panic("seed")
}
func (tm *TokenManager) GetCredentials(ctx context.Context, name string) (*goauth.Credentials, error) {
	panic("seed")
}
func (tm *TokenManager) GetToken(ctx context.Context, name string) (*oauth2.Token, error) {
	panic("seed")
}
func (tm *TokenManager) ListCredentials(ctx context.Context) ([]string, error) { panic("seed") }
func (tm *TokenManager) LoadGoauthCredentials(ctx context.Context, name, credentialsFile, accountKey string) error {
	panic("seed")
}
func (tm *TokenManager) LoadGoogleServiceAccount(ctx context.Context, name, serviceAccountFile string, scopes []string) error {
	panic("seed")
}
func (tm *TokenManager) RefreshToken(ctx context.Context, name string) (*oauth2.Token, error) {
	panic("seed")
}
func (tm *TokenManager) SetCredentials(ctx context.Context, name string, creds *goauth.Credentials) error {
	panic("seed")
}
func (tm *TokenManager) TokenSet() tokens.TokenSet { panic("seed") }

type VaultTokenSet struct {
	v      vault.Vault
	prefix string
	logger *slog.Logger
}

func NewVaultTokenSet(v vault.Vault, prefix string, logger *slog.Logger) *VaultTokenSet {
	panic("seed")
}
func (ts *VaultTokenSet) DeleteToken(key string) error                               { panic("seed") }
func (ts *VaultTokenSet) ExistsToken(key string) (bool, error)                       { panic("seed") }
func (ts *VaultTokenSet) GetToken(key string) (*oauth2.Token, error)                 { panic("seed") }
func (ts *VaultTokenSet) GetTokenInfo(key string) (*tokens.TokenInfo, error)         { panic("seed") }
func (ts *VaultTokenSet) ListTokens() ([]string, error)                              { panic("seed") }
func (ts *VaultTokenSet) SetTokenInfo(key string, tokenInfo *tokens.TokenInfo) error { panic("seed") }
