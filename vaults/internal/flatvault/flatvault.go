// Package flatvault adapts a password manager's vault, whose paths are
// "CONTAINER/ITEM" with no '/' inside ITEM, to omnitoken's paths
// ("credentials/github", "tokens/github"): each path becomes one item,
// named PREFIX + ":" + the path with '/' written as ':' (and '%' and ':'
// escaped as %25 and %3A), so "credentials/github" is the item
// "omnitoken:credentials:github" in the container. The mapping is
// reversible and keeps prefixes, so List maps back.
//
// The wrapped vault stores the value alone (it reports MultiField false),
// which the 1Password provider keeps in an item's "password" field and the
// Bitwarden provider in a secret's value.
package flatvault

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexusone/omnivault/vault"
)

// Vault is the adapter. It is safe for concurrent use when the wrapped
// vault is.
type Vault struct {
	up        vault.Vault
	name      string
	container string
	prefix    string
	onSet     func(*vault.Secret)
}

// New wraps up. name prefixes errors and is the vault's Name; container
// is the first path segment of every item (a 1Password vault name, a
// Bitwarden organization id); itemPrefix starts every item name. onSet, if
// not nil, may add provider metadata to each secret before it is written.
func New(up vault.Vault, name, container, itemPrefix string, onSet func(*vault.Secret)) (*Vault, error) {
	if container == "" || strings.Contains(container, "/") {
		return nil, fmt.Errorf("%s: the container name is empty or holds '/'", name)
	}
	if itemPrefix == "" || strings.ContainsAny(itemPrefix, "/:") {
		return nil, fmt.Errorf("%s: the item prefix is empty or holds '/' or ':'", name)
	}
	return &Vault{up: up, name: name, container: container, prefix: itemPrefix + ":", onSet: onSet}, nil
}

var enc = strings.NewReplacer("%", "%25", ":", "%3A", "/", ":")
var dec = strings.NewReplacer("%25", "%", "%3A", ":", ":", "/")

// Item returns the item name of path.
func (v *Vault) Item(path string) string { return v.prefix + enc.Replace(path) }

func (v *Vault) upPath(path string) (string, error) {
	if path == "" {
		return "", vault.NewVaultError("", path, v.name, fmt.Errorf("%w: empty path", vault.ErrInvalidPath))
	}
	return v.container + "/" + v.Item(path), nil
}

// Get implements vault.Vault.
func (v *Vault) Get(ctx context.Context, path string) (*vault.Secret, error) {
	p, err := v.upPath(path)
	if err != nil {
		return nil, err
	}
	s, err := v.up.Get(ctx, p)
	if err != nil {
		return nil, err
	}
	return &vault.Secret{Value: s.Value, Metadata: s.Metadata}, nil
}

// Set implements vault.Vault: only the value is written.
func (v *Vault) Set(ctx context.Context, path string, s *vault.Secret) error {
	p, err := v.upPath(path)
	if err != nil {
		return err
	}
	if s == nil {
		return vault.NewVaultError("Set", path, v.name, errors.New("nil secret"))
	}
	out := &vault.Secret{Value: s.String()}
	if v.onSet != nil {
		v.onSet(out)
	}
	return v.up.Set(ctx, p, out)
}

// Delete implements vault.Vault.
func (v *Vault) Delete(ctx context.Context, path string) error {
	p, err := v.upPath(path)
	if err != nil {
		return err
	}
	return v.up.Delete(ctx, p)
}

// Exists implements vault.Vault.
func (v *Vault) Exists(ctx context.Context, path string) (bool, error) {
	p, err := v.upPath(path)
	if err != nil {
		return false, err
	}
	return v.up.Exists(ctx, p)
}

// List implements vault.Vault. Items that do not start with the item
// prefix are not listed.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	base := v.container + "/" + v.prefix
	got, err := v.up.List(ctx, base+enc.Replace(prefix))
	if err != nil {
		return nil, err
	}
	out := []string{}
	for _, p := range got {
		item, ok := strings.CutPrefix(p, base)
		if !ok {
			continue
		}
		if path := dec.Replace(item); strings.HasPrefix(path, prefix) {
			out = append(out, path)
		}
	}
	return out, nil
}

// Name implements vault.Vault.
func (v *Vault) Name() string { return v.name }

// Capabilities implements vault.Vault: the wrapped vault's, without
// MultiField.
func (v *Vault) Capabilities() vault.Capabilities {
	c := v.up.Capabilities()
	c.MultiField = false
	return c
}

// Close closes the wrapped vault.
func (v *Vault) Close() error { return v.up.Close() }

var _ vault.Vault = (*Vault)(nil)
