package redisstore

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
)

// KeySize is the length in bytes of the key NewAESGCM takes.
const KeySize = 32

// Cipher encrypts and authenticates the token records a Store keeps in
// Redis. Seal and Open bind the ciphertext to additionalData (the
// credential name, the fence and the generation), so a record moved to
// another name or relabelled in Redis fails to open. Implementations must
// be safe for concurrent use.
type Cipher interface {
	Seal(plaintext, additionalData []byte) ([]byte, error)
	Open(ciphertext, additionalData []byte) ([]byte, error)
}

// ErrDecrypt matches a record that does not open with the Store's key:
// another key, or a record altered in Redis.
var ErrDecrypt = errors.New("record does not decrypt with this key")

type aesGCM struct{ aead cipher.AEAD }

// NewAESGCM returns a Cipher using AES-256-GCM with a random 96-bit
// nonce per record. key must be KeySize random bytes, the same on every
// replica; it never leaves the process.
func NewAESGCM(key []byte) (Cipher, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("redisstore: %w: the encryption key is %d bytes, want %d", core.ErrInvalidCredentials, len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return aesGCM{aead: aead}, nil
}

func (c aesGCM) Seal(plaintext, ad []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	out := make([]byte, ns, ns+len(plaintext)+c.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return nil, err
	}
	return c.aead.Seal(out, out, plaintext, ad), nil
}

func (c aesGCM) Open(ciphertext, ad []byte) ([]byte, error) {
	ns := c.aead.NonceSize()
	if len(ciphertext) < ns+c.aead.Overhead() {
		return nil, ErrDecrypt
	}
	pt, err := c.aead.Open(nil, ciphertext[:ns], ciphertext[ns:], ad)
	if err != nil {
		return nil, ErrDecrypt
	}
	return pt, nil
}

type keysCipher struct{ k *storage.Keys }

// NewKeysCipher returns a Cipher over the vault's encryption keys
// (storage.Keys, as storage.EncryptVault and Config.EncryptionKeys use
// them): the first key seals each record, any key opens one, so the
// replicas share one key list with their vault, and rotating it rotates
// both.
func NewKeysCipher(k *storage.Keys) (Cipher, error) {
	if k == nil {
		return nil, fmt.Errorf("redisstore: %w: no keys", core.ErrVaultNotConfigured)
	}
	return keysCipher{k: k}, nil
}

func (c keysCipher) Seal(plaintext, ad []byte) ([]byte, error) {
	s, err := c.k.Seal(string(ad), plaintext)
	return []byte(s), err
}

func (c keysCipher) Open(ciphertext, ad []byte) ([]byte, error) {
	pt, err := c.k.Open(string(ad), string(ciphertext))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return pt, nil
}
