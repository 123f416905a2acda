package keyring

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// keysKey is the item holding the encryption key list.
const keysKey = reserved + "encryption-keys"

// EncryptionKeys returns the encryption keys kept in this keyring service,
// for storage.EncryptVault or omnitoken's Config.EncryptionKeys: a way to
// encrypt a file (or any other) vault without a key in the environment
// or on disk. With no key stored it returns an error matching
// storage.ErrNoKey; AddEncryptionKey creates one.
func (v *Vault) EncryptionKeys(ctx context.Context) (*storage.Keys, error) {
	text, err := v.keyText(ctx)
	if err != nil {
		return nil, err
	}
	if text == "" {
		return nil, v.err("EncryptionKeys", "", fmt.Errorf("%w: the keyring service %q holds no encryption key (add one with AddEncryptionKey)", storage.ErrNoKey, v.service))
	}
	ks, err := storage.ParseKeys(text)
	if err != nil {
		return nil, v.err("EncryptionKeys", "", err)
	}
	return ks, nil
}

func (v *Vault) keyText(ctx context.Context) (string, error) {
	if err := v.check(ctx, "EncryptionKeys", "", false); err != nil {
		return "", err
	}
	blob, foreign, err := v.readItem(ctx, keysKey)
	if errors.Is(err, vault.ErrSecretNotFound) {
		return "", nil
	}
	if err != nil {
		return "", v.err("EncryptionKeys", "", err)
	}
	if foreign {
		return "", v.err("EncryptionKeys", "", errors.New("the key item was not written by this package"))
	}
	b, err := decodeBlob(blob)
	if err != nil {
		return "", v.err("EncryptionKeys", "", err)
	}
	return string(b), nil
}

// AddEncryptionKey generates a new key and stores it first in the list,
// so that it seals every later write while the older keys still open what
// they sealed: the first step of a rotation. Run storage.Rekey (or
// omnitoken's TokenManager.Rekey) next, then DropOldEncryptionKeys.
func (v *Vault) AddEncryptionKey(ctx context.Context) (*storage.Keys, error) {
	return v.updateKeys(ctx, "AddEncryptionKey", func(text string) (string, error) {
		k, err := storage.GenerateKey()
		if err != nil {
			return "", err
		}
		return strings.TrimSpace(k + "\n" + text), nil
	})
}

// DropOldEncryptionKeys keeps only the first (newest) key: the last step of
// a rotation, once Rekey has resealed every value with it.
func (v *Vault) DropOldEncryptionKeys(ctx context.Context) (*storage.Keys, error) {
	return v.updateKeys(ctx, "DropOldEncryptionKeys", func(text string) (string, error) {
		first, _, _ := strings.Cut(strings.TrimSpace(text), "\n")
		if first == "" {
			return "", storage.ErrNoKey
		}
		return first, nil
	})
}

// updateKeys rewrites the key list as change says, under the write lock.
func (v *Vault) updateKeys(ctx context.Context, op string, change func(text string) (string, error)) (*storage.Keys, error) {
	unlock, err := v.lockWrites(ctx)
	if err != nil {
		return nil, v.err(op, "", err)
	}
	defer unlock()
	text, err := v.keyText(ctx)
	if err != nil {
		return nil, err
	}
	text, err = change(text)
	if err != nil {
		return nil, v.err(op, "", err)
	}
	return v.writeKeys(ctx, text)
}

func (v *Vault) writeKeys(ctx context.Context, text string) (*storage.Keys, error) {
	ks, err := storage.ParseKeys(text)
	if err != nil {
		return nil, v.err("EncryptionKeys", "", err)
	}
	if err := v.writeItem(ctx, keysKey, encodeBlob([]byte(text))); err != nil {
		return nil, v.err("EncryptionKeys", "", err)
	}
	return ks, nil
}
