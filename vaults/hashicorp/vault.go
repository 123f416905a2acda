package hashicorp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// Config configures a Vault. Address, Mount and Auth are required.
type Config struct {
	// Address is the server's base URL, such as
	// "https://vault.example.com:8200". Plain http is refused unless the
	// host is loopback.
	Address string
	// Mount is the KV version 2 mount, such as "secret".
	Mount string
	// Prefix, when set, is prepended to every path ("omnitoken" stores
	// "credentials/x" at "omnitoken/credentials/x").
	Prefix string
	// Namespace is the Vault Enterprise or OpenBao namespace, if any.
	Namespace string
	// Auth says how the client logs in.
	Auth Auth
	// Name is what Name reports: "vault" (the default) or "openbao".
	Name string
	// HTTPClient, when set, carries every request (a custom TLS
	// configuration, for example). Default: the SDK's.
	HTTPClient *http.Client
	// MaxRetries bounds the SDK's retries of 429 and 5xx answers, which
	// back off and honour Retry-After. Default 2; negative means none.
	MaxRetries int
	// MinRetryWait and MaxRetryWait bound the wait between retries.
	// Default: the SDK's (1 s and 1.5 s).
	MinRetryWait, MaxRetryWait time.Duration
	// Now is the source of time for token renewal. Default: time.Now.
	Now func() time.Time
}

// Auth methods.
const (
	AuthToken      = "token"
	AuthAppRole    = "approle"
	AuthKubernetes = "kubernetes"
)

// Auth holds how a Vault logs in. Its secrets never appear in an error or
// a log line.
type Auth struct {
	// Method is AuthToken (the default), AuthAppRole or AuthKubernetes.
	Method string
	// Token is the client token, for AuthToken.
	Token string
	// RoleID and SecretID are the AppRole credentials.
	RoleID, SecretID string
	// Role is the Kubernetes auth role.
	Role string
	// JWT returns the projected service-account token for Kubernetes auth.
	// It is called at each login, so a rotated token file is read afresh.
	JWT func() (string, error)
	// MountPath is the auth method's mount. Default: the method's name.
	MountPath string
}

// Vault is a vault.Vault over a KV version 2 mount of HashiCorp Vault or
// OpenBao. It is safe for concurrent use.
type Vault struct {
	cfg    Config
	client *api.Client
	kv     *api.KVv2

	loginClient *api.Client // logs in, with no token of its own

	// authSem is held by the call that logs in or renews; it guards
	// the fields below.
	authSem chan struct{}
	authed  bool
	token   string    // the client token in use
	renewAt time.Time // zero: never renew
	expires time.Time // zero: never, or not known
	renew   bool      // the token is renewable

	logins atomic.Int64
	closed atomic.Bool
}

var _ storage.ConditionalVault = (*Vault)(nil)

// New returns a Vault. It does not contact the server: the first request
// logs in.
func New(cfg Config) (*Vault, error) {
	if cfg.Mount == "" {
		return nil, fmt.Errorf("hashicorp: %w: no KV mount", vault.ErrInvalidPath)
	}
	if cfg.Name == "" {
		cfg.Name = "vault"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Auth.Method == "" {
		cfg.Auth.Method = AuthToken
	}
	switch cfg.Auth.Method {
	case AuthToken:
		if cfg.Auth.Token == "" {
			return nil, fmt.Errorf("hashicorp: %w: token auth without a token (set VAULT_TOKEN)", vault.ErrAuthenticationFailed)
		}
	case AuthAppRole:
		if cfg.Auth.RoleID == "" || cfg.Auth.SecretID == "" {
			return nil, fmt.Errorf("hashicorp: %w: approle auth needs a role ID and a secret ID (set VAULT_ROLE_ID and VAULT_SECRET_ID)", vault.ErrAuthenticationFailed)
		}
	case AuthKubernetes:
		if cfg.Auth.Role == "" || cfg.Auth.JWT == nil {
			return nil, fmt.Errorf("hashicorp: %w: kubernetes auth needs a role and a service-account token", vault.ErrAuthenticationFailed)
		}
	default:
		return nil, fmt.Errorf("hashicorp: unknown auth method %q (want token, approle or kubernetes)", cfg.Auth.Method)
	}
	if cfg.Auth.MountPath == "" {
		cfg.Auth.MountPath = cfg.Auth.Method
	}
	if err := checkAddress(cfg.Address); err != nil {
		return nil, err
	}

	ac := api.DefaultConfig()
	if ac.Error != nil {
		return nil, fmt.Errorf("hashicorp: client config: %w", ac.Error)
	}
	ac.Address = cfg.Address
	if cfg.HTTPClient != nil {
		ac.HttpClient = cfg.HTTPClient
	}
	switch {
	case cfg.MaxRetries < 0:
		ac.MaxRetries = 0
	case cfg.MaxRetries > 0:
		ac.MaxRetries = cfg.MaxRetries
	}
	if cfg.MinRetryWait > 0 {
		ac.MinRetryWait = cfg.MinRetryWait
	}
	if cfg.MaxRetryWait > 0 {
		ac.MaxRetryWait = cfg.MaxRetryWait
	}
	c, err := api.NewClient(ac)
	if err != nil {
		return nil, fmt.Errorf("hashicorp: client: %w", err)
	}
	// The SDK reads VAULT_TOKEN and VAULT_NAMESPACE by itself; only what
	// Config says is used.
	c.ClearToken()
	c.ClearNamespace()
	if cfg.Namespace != "" {
		c.SetNamespace(cfg.Namespace)
	}
	lc, err := c.CloneWithHeaders()
	if err != nil {
		return nil, fmt.Errorf("hashicorp: client: %w", err)
	}
	lc.ClearToken() // a clone reads VAULT_TOKEN too
	return &Vault{
		cfg:         cfg,
		client:      c,
		loginClient: lc,
		kv:          c.KVv2(cfg.Mount),
		authSem:     make(chan struct{}, 1),
	}, nil
}

// Name returns "vault" or "openbao", as configured.
func (v *Vault) Name() string { return v.cfg.Name }

// Capabilities reports read, write, delete, list, versioning and
// multi-field support.
func (v *Vault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true, Versioning: true, MultiField: true}
}

// Close marks the Vault closed. It holds no goroutine and no connection
// of its own.
func (v *Vault) Close() error {
	v.closed.Store(true)
	return nil
}

// Logins reports how many times the Vault has logged in: once at first
// use, and again after a lapsed or refused token.
func (v *Vault) Logins() int64 { return v.logins.Load() }

func (v *Vault) full(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "//") {
		return "", fmt.Errorf("hashicorp: %w: %q", vault.ErrInvalidPath, p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "." || seg == ".." {
			return "", fmt.Errorf("hashicorp: %w: %q", vault.ErrInvalidPath, p)
		}
	}
	if v.cfg.Prefix == "" {
		return p, nil
	}
	return v.cfg.Prefix + "/" + p, nil
}

// Get reads the latest version of the secret at p. A missing or deleted
// secret is an error matching vault.ErrSecretNotFound.
func (v *Vault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	fp, err := v.full(p)
	if err != nil {
		return nil, err
	}
	var s *api.KVSecret
	err = v.do(ctx, func() error {
		var err error
		s, err = v.kv.Get(ctx, fp)
		return err
	})
	if errors.Is(err, api.ErrSecretNotFound) {
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	if err != nil {
		return nil, v.fail("get", p, err)
	}
	if s.Data == nil { // the latest version was deleted
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	return decode(s, v.cfg.Name, p)
}

// Set writes sec as a new version of p, whatever is stored there.
func (v *Vault) Set(ctx context.Context, p string, sec *vault.Secret) error {
	_, err := v.put(ctx, "set", p, sec, nil)
	return err
}

// SetIfVersion writes sec as a new version of p with KV v2 check-and-set:
// only if p's current version is version (as Get reported it in
// Metadata.Version), or, for "", only if p holds nothing live (a
// soft-deleted or destroyed current version counts as nothing, as Get
// reports it missing). A refused write
// is an error matching core.ErrConflict. It returns the version written.
func (v *Vault) SetIfVersion(ctx context.Context, p string, sec *vault.Secret, version string) (string, error) {
	cas := 0
	if version != "" {
		n, err := strconv.Atoi(version)
		if err != nil {
			return "", fmt.Errorf("hashicorp: set %s: version %q is not a KV v2 version", p, version)
		}
		cas = n
	}
	nv, err := v.put(ctx, "set", p, sec, []api.KVOption{api.WithCheckAndSet(cas)})
	if cas != 0 || !errors.Is(err, core.ErrConflict) {
		return nv, err
	}
	// Vault compares cas with the current version even when that version
	// is soft-deleted or destroyed, which Get reports as missing: write
	// over such a version, on condition of its number.
	cur, ok := v.deadVersion(ctx, p)
	if !ok {
		return "", err
	}
	return v.put(ctx, "set", p, sec, []api.KVOption{api.WithCheckAndSet(cur)})
}

// deadVersion returns p's current version if it is soft-deleted or
// destroyed.
func (v *Vault) deadVersion(ctx context.Context, p string) (int, bool) {
	fp, err := v.full(p)
	if err != nil {
		return 0, false
	}
	var m *api.KVMetadata
	err = v.do(ctx, func() error {
		var err error
		m, err = v.kv.GetMetadata(ctx, fp)
		return err
	})
	if err != nil || m == nil || m.CurrentVersion == 0 {
		return 0, false
	}
	vm, ok := m.Versions[strconv.Itoa(m.CurrentVersion)]
	dead := !ok || vm.Destroyed || !vm.DeletionTime.IsZero() && !vm.DeletionTime.After(v.cfg.Now())
	return m.CurrentVersion, dead
}

func (v *Vault) put(ctx context.Context, op, p string, sec *vault.Secret, opts []api.KVOption) (string, error) {
	if sec == nil {
		return "", fmt.Errorf("hashicorp: %s %s: nil secret", op, p)
	}
	fp, err := v.full(p)
	if err != nil {
		return "", err
	}
	var out *api.KVSecret
	err = v.do(ctx, func() error {
		var err error
		out, err = v.kv.Put(ctx, fp, encode(sec), opts...)
		return err
	})
	if isCASMismatch(err) {
		return "", v.fail(op, p, fmt.Errorf("%w: another writer changed it since it was read", core.ErrConflict))
	}
	if err != nil {
		return "", v.fail(op, p, err)
	}
	if out == nil || out.VersionMetadata == nil {
		return "", nil
	}
	return strconv.Itoa(out.VersionMetadata.Version), nil
}

// Delete removes p with all its versions. Deleting a missing secret is not
// an error.
func (v *Vault) Delete(ctx context.Context, p string) error {
	fp, err := v.full(p)
	if err != nil {
		return err
	}
	err = v.do(ctx, func() error { return v.kv.DeleteMetadata(ctx, fp) })
	if err != nil && !isStatus(err, http.StatusNotFound) {
		return v.fail("delete", p, err)
	}
	return nil
}

// Exists reports whether a live secret is stored at p.
func (v *Vault) Exists(ctx context.Context, p string) (bool, error) {
	_, err := v.Get(ctx, p)
	if errors.Is(err, vault.ErrSecretNotFound) {
		return false, nil
	}
	return err == nil, err
}

// List returns every path under prefix, sorted. It walks the metadata tree
// from the deepest folder that prefix names.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	root := v.cfg.Prefix
	full := prefix
	if root != "" {
		full = root + "/" + prefix
	}
	dir := ""
	if i := strings.LastIndex(full, "/"); i >= 0 {
		dir = full[:i+1]
	}
	var out []string
	var walk func(d string) error
	walk = func(d string) error {
		var s *api.Secret
		err := v.do(ctx, func() error {
			var err error
			s, err = v.client.Logical().ListWithContext(ctx, path.Join(v.cfg.Mount, "metadata", d)+"/")
			return err
		})
		if err != nil {
			return err
		}
		if s == nil || s.Data == nil {
			return nil
		}
		keys, _ := s.Data["keys"].([]any)
		for _, k := range keys {
			name, _ := k.(string)
			if name == "" {
				continue
			}
			p := d + name
			if strings.HasSuffix(name, "/") {
				if strings.HasPrefix(p, full) || strings.HasPrefix(full, p) {
					if err := walk(p); err != nil {
						return err
					}
				}
				continue
			}
			if strings.HasPrefix(p, full) {
				if root != "" {
					p = strings.TrimPrefix(p, root+"/")
				}
				out = append(out, p)
			}
		}
		return nil
	}
	if err := walk(dir); err != nil {
		return nil, v.fail("list", prefix, err)
	}
	sort.Strings(out)
	if out == nil {
		out = []string{}
	}
	return out, nil
}

// fail wraps err as a *vault.VaultError whose message starts with the
// package name. The SDK's errors name the request URL and the server's
// error strings, never a secret's value.
func (v *Vault) fail(op, p string, err error) error {
	return fmt.Errorf("hashicorp: %w", vault.NewVaultError(op, p, v.cfg.Name, mapErr(err)))
}

// mapErr adds omnivault's sentinels to the SDK's errors.
func mapErr(err error) error {
	var re *api.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	switch re.StatusCode {
	case http.StatusForbidden, http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", vault.ErrAccessDenied, err)
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return fmt.Errorf("%w: %w", vault.ErrConnectionFailed, err)
	}
	return err
}

func isStatus(err error, code int) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

func isCASMismatch(err error) bool {
	var re *api.ResponseError
	if !errors.As(err, &re) || re.StatusCode != http.StatusBadRequest {
		return false
	}
	for _, e := range re.Errors {
		if strings.Contains(e, "check-and-set") {
			return true
		}
	}
	return false
}

const fieldPrefix = "field:"

func encode(s *vault.Secret) map[string]any {
	data := map[string]any{"value": s.String()}
	for k, val := range s.Fields {
		data[fieldPrefix+k] = val
	}
	return data
}

func decode(s *api.KVSecret, provider, p string) (*vault.Secret, error) {
	out := &vault.Secret{}
	for k, raw := range s.Data {
		str, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("hashicorp: %w", vault.NewVaultError("get", p, provider,
				fmt.Errorf("key %q holds a %T, not a string", k, raw)))
		}
		switch {
		case k == "value":
			out.Value = str
		case strings.HasPrefix(k, fieldPrefix):
			out.SetField(strings.TrimPrefix(k, fieldPrefix), str)
		}
	}
	// Keys written by hand ("vault kv put PATH type=basic …") are
	// Fields too, unless a "field:" key of the same name says otherwise.
	for k, raw := range s.Data {
		if k == "value" || strings.HasPrefix(k, fieldPrefix) {
			continue
		}
		if _, set := s.Data[fieldPrefix+k]; !set {
			out.SetField(k, raw.(string))
		}
	}
	out.Metadata.Provider = provider
	out.Metadata.Path = p
	if vm := s.VersionMetadata; vm != nil {
		out.Metadata.Version = fmt.Sprint(vm.Version)
		if !vm.CreatedTime.IsZero() {
			out.Metadata.ModifiedAt = vault.NewTimestamp(vm.CreatedTime)
		}
	}
	return out, nil
}
