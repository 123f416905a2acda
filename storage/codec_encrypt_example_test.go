package storage_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
)

// Encrypt every value of a vault at rest, then rotate the key.
func ExampleEncryptVault() {
	ctx := context.Background()
	oldKey, _ := storage.GenerateKey() // normally from OMNITOKEN_KEY: storage.KeysFromEnv()
	newKey, _ := storage.GenerateKey()

	raw := memory.New() // any vault: a FileVault, the OS keyring, …
	keys, err := storage.ParseKeys(oldKey)
	if err != nil {
		log.Fatal(err)
	}
	ev, err := storage.EncryptVault(raw, keys, storage.EncryptOptions{})
	if err != nil {
		log.Fatal(err)
	}
	st, _ := storage.New(ev, storage.Options{})
	c, _ := core.ParseCredentials([]byte(`{"service":"jira","type":"basic","basic":{"username":"u","password":"s3cret"}}`))
	if err := st.SetCredentials(ctx, "jira", c); err != nil {
		log.Fatal(err)
	}
	stored, _ := raw.Get(ctx, "credentials/jira")
	fmt.Println("stored sealed:", strings.HasPrefix(stored.Value, "omnitoken:aes256gcm:v1:"))

	// Rotate: the new key first writes, the old one still reads; Rekey
	// reseals everything, after which the old key can go.
	rotated, _ := storage.ParseKeys(newKey + "," + oldKey)
	ev2, _ := storage.EncryptVault(raw, rotated, storage.EncryptOptions{})
	res, err := storage.Rekey(ctx, ev2)
	fmt.Println("rewritten:", res.Rewritten, err)

	// The old key alone no longer opens it: an error, never garbage.
	_, err = st.GetCredentials(ctx, "jira")
	fmt.Println("old key:", errors.Is(err, storage.ErrDecrypt))
	// Output:
	// stored sealed: true
	// rewritten: 1 <nil>
	// old key: true
}
