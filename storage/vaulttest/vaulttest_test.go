package vaulttest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"

	"github.com/plexusone/omnitoken/internal/mutanttest"
	"github.com/plexusone/omnitoken/storage/vaulttest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const mutantEnv = "VAULTTEST_MUTANT"

// omnivault's memory provider passes. It does no I/O and ignores its
// contexts.
func TestMemoryVault(t *testing.T) {
	vaulttest.Run(t, vaulttest.Options{
		New: func(t *testing.T) vault.Vault {
			v := memory.New()
			t.Cleanup(func() { _ = v.Close() })
			return v
		},
		IgnoresContext: true,
	})
}

// The reference backend passes, writable and read-only, with and without
// List, and under a prefix.
func TestReference(t *testing.T) {
	t.Run("Writable", func(t *testing.T) { vaulttest.Run(t, options("")) })
	t.Run("Prefixed", func(t *testing.T) {
		o := options("")
		o.Prefix = "some/tenant/"
		vaulttest.Run(t, o)
	})
	t.Run("ReadOnly", func(t *testing.T) {
		o := options("")
		o.ReadOnly = true
		o.Seed = seed
		o.New = func(*testing.T) vault.Vault { return &refVault{m: map[string]*vault.Secret{}, readOnly: true} }
		vaulttest.Run(t, o)
	})
	t.Run("NoList", func(t *testing.T) {
		o := options("")
		o.NoList = true
		o.New = func(*testing.T) vault.Vault { return &refVault{m: map[string]*vault.Secret{}, noList: true} }
		vaulttest.Run(t, o)
	})
}

// seed writes behind a refVault's back.
func seed(_ *testing.T, v vault.Vault, path, value string) {
	r := v.(*refVault)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.m[path] = &vault.Secret{Value: value}
}

// refVault is a sound vault.Vault over a map. Its mutant field names a
// defect to build in, so that the suite can be shown to catch it.
type refVault struct {
	mu       sync.RWMutex
	m        map[string]*vault.Secret
	readOnly bool
	noList   bool
	mutant   string
	writes   int // counted without the lock by the Racy mutant
}

func (v *refVault) live(ctx context.Context, op, path string) error {
	if v.mutant == "IgnoresContext" || v.mutant == "WritesDespiteCancel" {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return vault.NewVaultError(op, path, v.Name(), err)
	}
	return nil
}

func (v *refVault) key(path string) string {
	switch v.mutant {
	case "FoldsCase":
		return strings.ToLower(path)
	case "TrimsPaths":
		return strings.TrimSpace(path)
	}
	return path
}

func copySecret(s *vault.Secret) *vault.Secret {
	c := &vault.Secret{Value: s.Value, ValueBytes: slices.Clone(s.ValueBytes), Fields: maps.Clone(s.Fields)}
	return c
}

func (v *refVault) Get(ctx context.Context, path string) (*vault.Secret, error) {
	if err := v.live(ctx, "Get", path); err != nil {
		return nil, err
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	s, ok := v.m[v.key(path)]
	if !ok {
		switch v.mutant {
		case "NotFoundNil":
			return nil, nil
		case "WrongSentinel":
			return nil, errors.New("ref: no such secret")
		}
		return nil, vault.NewVaultError("Get", path, v.Name(), vault.ErrSecretNotFound)
	}
	if v.mutant == "SharesReturned" {
		return s, nil
	}
	return copySecret(s), nil
}

func (v *refVault) Set(ctx context.Context, path string, s *vault.Secret) error {
	if err := v.live(ctx, "Set", path); err != nil {
		if v.mutant == "LeaksSecret" {
			return fmt.Errorf("ref: set %s=%s: %w", path, s.Value, err)
		}
		return err
	}
	if v.readOnly {
		switch v.mutant {
		case "ReadOnlyWrites":
		case "WrongReadOnlyError":
			return vault.NewVaultError("Set", path, v.Name(), vault.ErrNotSupported)
		default:
			return vault.NewVaultError("Set", path, v.Name(), vault.ErrReadOnly)
		}
	}
	if v.mutant == "ShortPaths" && len(path) > 128 {
		return vault.NewVaultError("Set", path, v.Name(), vault.ErrInvalidPath)
	}
	c := copySecret(s)
	switch v.mutant {
	case "SharesGiven":
		c = s
	case "TruncatesValues":
		if len(c.Value) > 32<<10 {
			c.Value = c.Value[:32<<10]
		}
	}
	if v.mutant == "Racy" {
		v.writes++ // outside the lock
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m[v.key(path)] = c
	if v.mutant == "WritesDespiteCancel" && ctx.Err() != nil {
		return vault.NewVaultError("Set", path, v.Name(), ctx.Err())
	}
	return nil
}

func (v *refVault) Delete(ctx context.Context, path string) error {
	if err := v.live(ctx, "Delete", path); err != nil {
		return err
	}
	if v.readOnly {
		return vault.NewVaultError("Delete", path, v.Name(), vault.ErrReadOnly)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.m[v.key(path)]; !ok && v.mutant == "DeleteMissingErrors" {
		return vault.NewVaultError("Delete", path, v.Name(), vault.ErrSecretNotFound)
	}
	if v.mutant == "DeleteNoop" {
		return nil
	}
	delete(v.m, v.key(path))
	return nil
}

func (v *refVault) Exists(ctx context.Context, path string) (bool, error) {
	if err := v.live(ctx, "Exists", path); err != nil {
		return false, err
	}
	if v.mutant == "ExistsErrors" {
		return false, vault.NewVaultError("Exists", path, v.Name(), vault.ErrSecretNotFound)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	_, ok := v.m[v.key(path)]
	return ok, nil
}

func (v *refVault) List(ctx context.Context, prefix string) ([]string, error) {
	if err := v.live(ctx, "List", prefix); err != nil {
		return nil, err
	}
	if v.noList {
		if v.mutant == "ListsWhenNoList" {
			return nil, nil
		}
		return nil, vault.NewVaultError("List", prefix, v.Name(), vault.ErrNotSupported)
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	var out []string
	for p := range v.m {
		if strings.HasPrefix(p, prefix) || v.mutant == "ListIgnoresPrefix" {
			out = append(out, p)
		}
	}
	return out, nil
}

func (v *refVault) Name() string { return "ref" }

func (v *refVault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: !v.readOnly, Delete: !v.readOnly, List: !v.noList, MultiField: true, Binary: true}
}

func (v *refVault) Close() error { return nil }

var _ vault.Vault = (*refVault)(nil)

// options returns the suite's options for a refVault with the given
// mutant ("" for none).
func options(mutant string) vaulttest.Options {
	return vaulttest.Options{
		New: func(*testing.T) vault.Vault { return &refVault{m: map[string]*vault.Secret{}, mutant: mutant} },
	}
}

// mutants are defects the suite must catch, each with the subtests that
// must fail.
var mutants = []struct {
	name     string
	readOnly bool
	noList   bool
	fails    []string
	raceOnly bool
}{
	{name: "NotFoundNil", fails: []string{"NotFound", "RoundTrip"}},
	{name: "WrongSentinel", fails: []string{"NotFound", "RoundTrip"}},
	{name: "DeleteMissingErrors", fails: []string{"NotFound"}},
	{name: "DeleteNoop", fails: []string{"RoundTrip", "List"}},
	{name: "ExistsErrors", fails: []string{"NotFound", "RoundTrip"}},
	{name: "FoldsCase", fails: []string{"Paths"}},
	{name: "TrimsPaths", fails: []string{"Paths"}},
	{name: "ShortPaths", fails: []string{"MaxPathLen"}},
	{name: "TruncatesValues", fails: []string{"LargeValues"}},
	{name: "ListIgnoresPrefix", fails: []string{"List"}},
	{name: "SharesGiven", fails: []string{"PrivateCopies"}},
	{name: "SharesReturned", fails: []string{"PrivateCopies"}},
	{name: "IgnoresContext", fails: []string{"CancelledContext"}},
	{name: "WritesDespiteCancel", fails: []string{"CancelledContext"}},
	{name: "LeaksSecret", fails: []string{"CancelledContext"}},
	{name: "Racy", fails: []string{"ConcurrentWriters"}, raceOnly: true},
	{name: "ReadOnlyWrites", readOnly: true, fails: []string{"ReadOnly"}},
	{name: "WrongReadOnlyError", readOnly: true, fails: []string{"ReadOnly"}},
	{name: "ListsWhenNoList", noList: true, fails: []string{"List"}},
}

// TestMutantChild runs the suite against one mutant; TestMutants starts
// it in a child process, since the suite failing is the expected outcome.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestMutants")
	}
	for _, m := range mutants {
		if m.name != name {
			continue
		}
		o := options(m.name)
		o.New = func(*testing.T) vault.Vault {
			return &refVault{m: map[string]*vault.Secret{}, mutant: m.name, readOnly: m.readOnly, noList: m.noList}
		}
		if m.readOnly {
			o.ReadOnly, o.Seed = true, seed
		}
		o.NoList = m.noList
		vaulttest.Run(t, o)
		return
	}
	t.Fatalf("unknown mutant %q", name)
}

// The suite catches each defect: the child run fails in the expected
// subtests.
func TestMutants(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			mutanttest.RunChild(t, mutantEnv, m.name, m.raceOnly, m.fails)
		})
	}
}
