//go:build unix

package keyring

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
)

// Keys kept in the OS keyring encrypt another vault, and rotate.
func TestEncryptionKeysInKeyring(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	if _, err := v.EncryptionKeys(ctx); !errors.Is(err, storage.ErrNoKey) {
		t.Fatalf("no key yet: %v", err)
	}
	k1, err := v.AddEncryptionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.EncryptionKeys(ctx)
	if err != nil || !slices.Equal(got.IDs(), k1.IDs()) {
		t.Fatalf("EncryptionKeys = %v, %v", got, err)
	}
	mem := memory.New()
	ev, err := storage.EncryptVault(mem, got, storage.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := storage.New(ev, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	storeToken(t, st, "svc")

	k2, err := v.AddEncryptionKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ids := k2.IDs(); len(ids) != 2 || ids[1] != k1.IDs()[0] {
		t.Fatalf("after AddEncryptionKey: %v", ids)
	}
	ev2, _ := storage.EncryptVault(mem, k2, storage.EncryptOptions{})
	if res, err := storage.Rekey(ctx, ev2); err != nil || res.Rewritten != 1 {
		t.Fatalf("Rekey = %+v, %v", res, err)
	}
	k3, err := v.DropOldEncryptionKeys(ctx)
	if err != nil || !slices.Equal(k3.IDs(), k2.IDs()[:1]) {
		t.Fatalf("DropOldEncryptionKeys = %v, %v", k3, err)
	}
	st3, _ := storage.New(must(storage.EncryptVault(mem, k3, storage.EncryptOptions{})), storage.Options{})
	if _, err := st3.GetToken(ctx, "svc"); err != nil {
		t.Fatalf("read with the remaining key: %v", err)
	}
	if _, err := st.GetToken(ctx, "svc"); !errors.Is(err, storage.ErrDecrypt) {
		t.Fatalf("the dropped key still opens the value: %v", err)
	}
	// The key item is not a vault path.
	if l, _ := v.List(ctx, ""); len(l) != 0 {
		t.Fatalf("List shows %q", l)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
