// Package cloudvault holds what the cloud secret-manager vaults (aws, gcp
// and azure) have in common: the closed flag and the check that starts
// every call, the mapping of vault paths to secret names under a prefix,
// and Exists in terms of Get. Secret is the start of every call on one
// path: the check, then the name.
//
// A provider keeps a Base in an unexported field, so that none of its
// methods become part of the provider's exported API.
package cloudvault

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/plexusone/omnitoken/internal/safename"
	"github.com/plexusone/omnivault/vault"
)

// Base is the state a cloud vault shares with the others: the provider's
// name that starts its errors, its name mapping, the prefix every secret
// name starts with, and whether it is closed. Set it up with Init. It is
// safe for concurrent use once set up.
type Base struct {
	provider string
	names    safename.Mapping
	prefix   string
	closed   atomic.Bool
}

// Init sets b up for provider (such as "aws", which starts its error
// messages), names and prefix. It fails if names cannot encode prefix.
func (b *Base) Init(provider string, names safename.Mapping, prefix string) error {
	if _, err := names.Encode(prefix); err != nil {
		return fmt.Errorf("%s: prefix: %w", provider, err)
	}
	b.provider, b.names, b.prefix = provider, names, prefix
	return nil
}

// Prefix returns the prefix every secret name starts with.
func (b *Base) Prefix() string { return b.prefix }

// Close marks b closed: Check fails from then on.
func (b *Base) Close() { b.closed.Store(true) }

// Check returns vault.ErrClosed once b is closed, and ctx.Err() before.
func (b *Base) Check(ctx context.Context) error {
	if b.closed.Load() {
		return vault.ErrClosed
	}
	return ctx.Err()
}

// Secret starts a call on path p: it returns p's secret name (Encode)
// once Check passes.
func (b *Base) Secret(ctx context.Context, p string) (string, error) {
	if err := b.Check(ctx); err != nil {
		return "", err
	}
	return b.Encode(p)
}

// Encode returns the secret name of path p: the prefix and p, encoded.
// An empty path, or one the mapping cannot encode, is an error matching
// vault.ErrInvalidPath.
func (b *Base) Encode(p string) (string, error) {
	if p == "" {
		return "", fmt.Errorf("%s: %w: empty path", b.provider, vault.ErrInvalidPath)
	}
	n, err := b.names.Encode(b.prefix + p)
	if err != nil {
		return "", fmt.Errorf("%s: %w: %w", b.provider, vault.ErrInvalidPath, err)
	}
	return n, nil
}

// Path returns the vault path of secret name n, and whether n is a name
// this mapping writes for a path that starts with under. Names that do
// not decode, or lie outside the prefix, report false.
func (b *Base) Path(n, under string) (string, bool) {
	p, err := b.names.Decode(n)
	if err != nil || !strings.HasPrefix(p, b.prefix+under) {
		return "", false
	}
	return strings.TrimPrefix(p, b.prefix), true
}

// Exists turns what a vault's Get returned into what its Exists returns:
// false without an error for vault.ErrSecretNotFound, else whether Get
// succeeded, with its error.
func Exists(_ *vault.Secret, err error) (bool, error) {
	if errors.Is(err, vault.ErrSecretNotFound) {
		return false, nil
	}
	return err == nil, err
}
