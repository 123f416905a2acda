package keyring_test

import (
	"context"
	"errors"
	"log"

	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/vaults/keyring"
)

// Keep credentials and tokens in the OS keyring.
func Example() {
	tm, err := omnitoken.NewFromVaultURI("keyring://my-agent")
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
}

// Encrypt a file vault with a key kept in the OS keyring, created on first
// use.
func ExampleVault_EncryptionKeys() {
	kr, err := keyring.New(keyring.Options{Service: "my-agent"})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	keys, err := kr.EncryptionKeys(ctx)
	if errors.Is(err, storage.ErrNoKey) {
		keys, err = kr.AddEncryptionKey(ctx)
	}
	if err != nil {
		log.Fatal(err)
	}
	fv, err := storage.NewFileVault("/var/lib/my-agent/credentials")
	if err != nil {
		log.Fatal(err)
	}
	tm, err := omnitoken.New(omnitoken.Config{Vault: fv, EncryptionKeys: keys})
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
}
