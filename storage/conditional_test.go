package storage_test

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

// condVault adds versioned conditional writes to omnivault's memory
// provider, as the cloud providers do with their own mechanisms.
type condVault struct {
	vault.Vault
	mu       sync.Mutex
	versions map[string]int
	setIfs   int
}

func newCondVault() *condVault {
	return &condVault{Vault: memory.New(), versions: map[string]int{}}
}

func (c *condVault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	s, err := c.Vault.Get(ctx, p)
	if err == nil {
		c.mu.Lock()
		s.Metadata.Version = strconv.Itoa(c.versions[p])
		c.mu.Unlock()
	}
	return s, err
}

func (c *condVault) Set(ctx context.Context, p string, s *vault.Secret) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.versions[p]++
	return c.Vault.Set(ctx, p, s)
}

func (c *condVault) SetIfVersion(ctx context.Context, p string, s *vault.Secret, ver string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.setIfs++
	cur := ""
	if n := c.versions[p]; n > 0 {
		cur = strconv.Itoa(n)
	}
	if ver != cur {
		return "", core.ErrConflict
	}
	c.versions[p]++
	return strconv.Itoa(c.versions[p]), c.Vault.Set(ctx, p, s)
}

// Two Stores that both read a token and both write one: the second write
// is refused with core.ErrConflict, and goes through after a re-read.
func TestConditionalVaultTokenWrites(t *testing.T) {
	testConditionalTokenWrites(t, func(v *condVault) vault.Vault { return v })
}

// Encryption keeps the conditional write: values are sealed, then written
// with the compare-and-set of the vault below.
func TestEncryptedConditionalVaultTokenWrites(t *testing.T) {
	keys, err := storage.ParseKeys(base64.StdEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	testConditionalTokenWrites(t, func(v *condVault) vault.Vault {
		e, err := storage.EncryptVault(v, keys, storage.EncryptOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return e
	})
}

func testConditionalTokenWrites(t *testing.T, wrap func(*condVault) vault.Vault) {
	ctx := context.Background()
	v := newCondVault()
	a, err := storage.New(wrap(v), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := storage.New(wrap(v), storage.Options{})
	tok := func(access string, gen uint64) *core.StoredToken {
		return &core.StoredToken{Token: core.Token{AccessToken: access}, Generation: gen}
	}
	for _, s := range []*storage.Store{a, b} {
		if _, err := s.GetToken(ctx, "svc"); !errors.Is(err, core.ErrTokenNotFound) {
			t.Fatal(err)
		}
	}
	if err := a.SetToken(ctx, "svc", tok("a1", 1)); err != nil {
		t.Fatal(err)
	}
	if err := b.SetToken(ctx, "svc", tok("b1", 1)); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("second writer: %v, want ErrConflict", err)
	}
	got, err := b.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "a1" {
		t.Fatalf("re-read: %v, %v", got, err)
	}
	if err := b.SetToken(ctx, "svc", tok("b2", 2)); err != nil {
		t.Fatalf("write after re-read: %v", err)
	}
	// A's next write follows its own earlier one, not b's: refused.
	if err := a.SetToken(ctx, "svc", tok("a2", 2)); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("write over an unseen version: %v, want ErrConflict", err)
	}
	// A Store that never read the token reads it first, then writes.
	c, _ := storage.New(wrap(v), storage.Options{})
	if err := c.SetToken(ctx, "svc", tok("c3", 3)); err != nil {
		t.Fatalf("first write of a fresh Store: %v", err)
	}
	// Credentials are written plainly, whatever their version.
	cred, _ := core.ParseCredentials([]byte(`{"type":"basic","basic":{"username":"u"}}`))
	if err := a.SetCredentials(ctx, "svc", cred); err != nil {
		t.Fatal(err)
	}
	if err := b.SetCredentials(ctx, "svc", cred); err != nil {
		t.Fatalf("credentials write: %v", err)
	}
	if v.setIfs != 5 {
		t.Fatalf("%d conditional writes, want 5 (tokens only)", v.setIfs)
	}
}

// A token that does not decode (written by hand, or by another program)
// is overwritten by the next token written, as it is on a vault without
// conditional writes; before, a Store that had not read it yet refused
// every write with the decode error, so the token could never be stored.
func TestConditionalVaultOverwritesUndecodableToken(t *testing.T) {
	ctx := context.Background()
	v := newCondVault()
	s, err := storage.New(v, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.TokenPath("svc")
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set(ctx, p, &vault.Secret{Value: "not a token"}); err != nil {
		t.Fatal(err)
	}
	tok := &core.StoredToken{Token: core.Token{AccessToken: "fresh"}, Generation: 1}
	if err := s.SetToken(ctx, "svc", tok); err != nil {
		t.Fatalf("SetToken over an undecodable token: %v", err)
	}
	got, err := s.GetToken(ctx, "svc")
	if err != nil || got.AccessToken != "fresh" {
		t.Fatalf("GetToken = %v, %v; want fresh", got, err)
	}
}
