package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/plexusone/omnitoken/internal/safename"
	"github.com/plexusone/omnitoken/vaults/internal/cloudvault"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// names maps vault paths to secret names: see the package documentation.
var names = safename.Mapping{
	Keep:     func(b byte) bool { return 'a' <= b && b <= 'z' || '0' <= b && b <= '9' },
	Escape:   '-',
	LowerHex: true,
	MaxLen:   127,
}

func init() {
	omnivault.RegisterProvider("azure-kv", func(uri string) (vault.Vault, error) { return FromURI(uri) })
}

// Config configures a Vault.
type Config struct {
	// Client is the Key Vault secrets client. Required.
	Client *azsecrets.Client
	// Prefix starts every secret name.
	Prefix string
	// PurgeWait is the first wait between purge attempts while Key Vault
	// is still deleting; it doubles up to 16 times. Default 250 ms.
	PurgeWait time.Duration
}

// Vault is a vault.Vault over Azure Key Vault secrets. It is safe for
// concurrent use.
type Vault struct {
	c         *azsecrets.Client
	cv        cloudvault.Base
	purgeWait time.Duration
}

var _ vault.Vault = (*Vault)(nil)

// New returns a Vault over cfg.Client.
func New(cfg Config) (*Vault, error) {
	if cfg.Client == nil {
		return nil, errors.New("azure: Config.Client is nil")
	}
	v := &Vault{c: cfg.Client, purgeWait: cfg.PurgeWait}
	if err := v.cv.Init("azure", names, cfg.Prefix); err != nil {
		return nil, err
	}
	if v.purgeWait <= 0 {
		v.purgeWait = 250 * time.Millisecond
	}
	return v, nil
}

// FromURI returns a Vault for an azure-kv:// URI (see the package
// documentation), with DefaultAzureCredential.
func FromURI(uri string) (*Vault, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "azure-kv" || u.Host == "" {
		return nil, fmt.Errorf("azure: %w: want azure-kv://VAULT-HOST[/PREFIX]", vault.ErrInvalidPath)
	}
	if u.User != nil {
		return nil, fmt.Errorf("azure: %w: credentials in the URI; use DefaultAzureCredential", vault.ErrInvalidPath)
	}
	cred, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		return nil, fmt.Errorf("azure: credential: %w", err)
	}
	c, err := azsecrets.NewClient("https://"+u.Host, cred, nil)
	if err != nil {
		return nil, fmt.Errorf("azure: client: %w", err)
	}
	return New(Config{Client: c, Prefix: uriPrefix(u.Path)})
}

// Name returns "azure-kv".
func (v *Vault) Name() string { return "azure-kv" }

// Capabilities reports read, write, delete, list and versioning.
func (v *Vault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true, Versioning: true}
}

// Close marks the Vault closed.
func (v *Vault) Close() error {
	v.cv.Close()
	return nil
}

// Get reads the latest version of p.
func (v *Vault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	n, err := v.cv.Secret(ctx, p)
	if err != nil {
		return nil, err
	}
	r, err := v.c.GetSecret(ctx, n, "", nil)
	if isCode(err, http.StatusNotFound) {
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	if err != nil {
		return nil, v.fail("get", p, err)
	}
	s := &vault.Secret{}
	if r.Value != nil {
		s.Value = *r.Value
	}
	s.Metadata.Provider, s.Metadata.Path = "azure-kv", p
	if r.ID != nil {
		s.Metadata.Version = r.ID.Version()
	}
	if a := r.Attributes; a != nil && a.Updated != nil {
		s.Metadata.ModifiedAt = vault.NewTimestamp(*a.Updated)
	}
	return s, nil
}

// Set writes sec as a new version of p, recovering p first if it is
// soft-deleted.
func (v *Vault) Set(ctx context.Context, p string, sec *vault.Secret) error {
	if sec == nil {
		return fmt.Errorf("azure: set %s: nil secret", p)
	}
	n, err := v.cv.Secret(ctx, p)
	if err != nil {
		return err
	}
	val := sec.String()
	_, err = v.c.SetSecret(ctx, n, azsecrets.SetSecretParameters{Value: &val}, nil)
	if isCode(err, http.StatusConflict) {
		// Deleted but recoverable (purge protection kept it): recover it,
		// wait until it answers, and write again. A 404 from recover
		// means a purge is still finishing: the writes wait it out.
		if _, rerr := v.c.RecoverDeletedSecret(ctx, n, nil); rerr != nil && !isCode(rerr, http.StatusConflict) && !isCode(rerr, http.StatusNotFound) {
			return v.fail("set", p, errors.Join(err, rerr))
		}
		err = v.retry(ctx, func() error {
			_, err := v.c.SetSecret(ctx, n, azsecrets.SetSecretParameters{Value: &val}, nil)
			return err
		})
	}
	if err != nil {
		return v.fail("set", p, err)
	}
	return nil
}

// Delete soft-deletes p and purges it. A missing secret is not an error.
func (v *Vault) Delete(ctx context.Context, p string) error {
	n, err := v.cv.Secret(ctx, p)
	if err != nil {
		return err
	}
	_, err = v.c.DeleteSecret(ctx, n, nil)
	if isCode(err, http.StatusNotFound) {
		// Not live; it may still be soft-deleted from an earlier attempt.
		if _, gerr := v.c.GetDeletedSecret(ctx, n, nil); gerr != nil {
			return nil
		}
	} else if err != nil {
		return v.fail("delete", p, err)
	}
	err = v.retry(ctx, func() error {
		_, err := v.c.PurgeDeletedSecret(ctx, n, nil)
		return err
	})
	switch {
	case err == nil, isCode(err, http.StatusNotFound):
		return nil
	case isCode(err, http.StatusForbidden):
		// Purge protection, or no purge permission: the secret stays
		// soft-deleted and invisible to Get and List.
		return nil
	}
	return v.fail("delete", p, err)
}

// retry repeats op while Key Vault answers 409, as it does while a delete
// or a recovery is still in progress, doubling the wait from purgeWait.
func (v *Vault) retry(ctx context.Context, op func() error) error {
	wait := v.purgeWait
	var err error
	for range 16 {
		if err = op(); !isCode(err, http.StatusConflict) {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait = min(2*wait, 10*time.Second)
	}
	return err
}

// Exists reports whether p is live.
func (v *Vault) Exists(ctx context.Context, p string) (bool, error) {
	return cloudvault.Exists(v.Get(ctx, p))
}

// List returns the paths that start with prefix, sorted.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	if err := v.cv.Check(ctx); err != nil {
		return nil, err
	}
	out := []string{}
	pg := v.c.NewListSecretPropertiesPager(nil)
	for pg.More() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, v.fail("list", prefix, err)
		}
		for _, sp := range page.Value {
			if sp == nil || sp.ID == nil {
				continue
			}
			if p, ok := v.cv.Path(strings.ToLower(sp.ID.Name()), prefix); ok {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (v *Vault) fail(op, p string, err error) error {
	return fmt.Errorf("azure: %w", vault.NewVaultError(op, p, "azure-kv", mapErr(err)))
}

// mapErr adds omnivault's sentinels to the SDK's errors, which name the
// request and the service's error code, never a secret's value.
func mapErr(err error) error {
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		return err
	}
	switch re.StatusCode {
	case http.StatusUnauthorized, http.StatusForbidden:
		return fmt.Errorf("%w: %w", vault.ErrAccessDenied, err)
	case http.StatusTooManyRequests, http.StatusServiceUnavailable, http.StatusBadGateway, http.StatusGatewayTimeout:
		return fmt.Errorf("%w: %w", vault.ErrConnectionFailed, err)
	}
	return err
}

func isCode(err error, code int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == code
}

// uriPrefix turns a URI's path into the start of every name: PREFIX and a
// '/', so that the vaults of prefixes "a" and "ab" never share a name.
func uriPrefix(path string) string {
	if p := strings.Trim(path, "/"); p != "" {
		return p + "/"
	}
	return ""
}
