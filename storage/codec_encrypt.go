package storage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"

	"github.com/plexusone/omnivault/vault"
)

// Encryption at rest.
//
// EncryptVault wraps any vault.Vault so that every value is sealed with
// AES-256-GCM before it reaches the vault, and opened after it is read.
// AES-256-GCM with key ids was chosen over age (X25519 recipients):
//
//   - The vault path is bound into each value as additional authenticated
//     data, so a sealed value copied from one credential to another (a
//     refresh token swapped between accounts) fails to open. age has no
//     associated data.
//   - The key id in each value names the key that opens it, so reading
//     during a rotation tries one key, not every identity in turn, and an
//     error says which key is missing.
//   - It is the standard library only: storage keeps its small dependency
//     set, and a read or write costs microseconds, where age does an
//     X25519 agreement per value and writes a header of about 200 bytes.
//   - What age adds, encrypting to a public key without holding the
//     private one, does not help here: the same process that writes a
//     token must read it back.
//
// A random 96-bit nonce is drawn for each write. With one key that stays
// safe well past 2^32 writes, far beyond a credential store's lifetime
// (a token refreshed every minute for a century is 5×10^7 writes);
// rotating the key resets the count.

// Environment variables read by KeysFromEnv.
const (
	EnvKey     = "OMNITOKEN_KEY"
	EnvKeyFile = "OMNITOKEN_KEY_FILE"
)

// sealedPrefix starts every sealed value. A stored value that lacks it is
// plaintext (a vault written before encryption was turned on).
const sealedPrefix = "omnitoken:aes256gcm:v1:"

// sealedEncoding writes and reads the body of a sealed value. It is strict:
// the unused low bits of the last character must be zero, so two stored
// texts never open to the same value and no altered character passes.
var sealedEncoding = base64.RawURLEncoding.Strict()

const (
	keySize   = 32
	keyIDSize = 8
	nonceSize = 12
)

// ErrDecrypt is matched by the errors of an encrypted vault for a value
// that cannot be opened: no configured key has its key id (a wrong or
// missing key), the value was altered or damaged (it fails
// authentication), or a plaintext value where plaintext is not allowed.
// The error names the vault path, and so the credential, and never holds
// any of the value.
var ErrDecrypt = errors.New("cannot decrypt stored value")

// ErrNoKey is matched by KeysFromEnv's error when neither OMNITOKEN_KEY nor
// OMNITOKEN_KEY_FILE is set.
var ErrNoKey = errors.New("no encryption key configured")

// aeadKey is one configured key.
type aeadKey struct {
	id   [keyIDSize]byte
	aead cipher.AEAD
}

// Keys is an ordered list of AES-256 keys. The first seals every write;
// any of them opens a read, chosen by the key id stored in the value. To
// rotate, put a new key first and keep the old ones after it until Rekey
// has rewritten every value.
//
// A Keys is immutable and safe for concurrent use. Its String and
// formatting never show key material, only key ids.
type Keys struct {
	keys []aeadKey
}

// GenerateKey returns a new random key in the text form that ParseKeys,
// OMNITOKEN_KEY and OMNITOKEN_KEY_FILE accept.
func GenerateKey() (string, error) {
	var k [keySize]byte
	if _, err := rand.Read(k[:]); err != nil {
		return "", fmt.Errorf("storage: generate key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(k[:]), nil
}

// ParseKeys reads a list of keys: each is 32 bytes in standard or URL-safe
// base64 (padded or not), as GenerateKey writes them. Keys are separated
// by commas, spaces or newlines; a line starting with '#' is a comment.
// The first key writes. An empty list, a key of another length, or the same
// key twice is an error that never quotes the text.
func ParseKeys(text string) (*Keys, error) {
	var ks Keys
	seen := map[[keyIDSize]byte]bool{}
	sc := bufio.NewScanner(strings.NewReader(text))
	n := 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			n++
			raw, err := decodeKey(f)
			if err != nil {
				return nil, fmt.Errorf("storage: key %d: %w", n, err)
			}
			k, err := newAEADKey(raw)
			if err != nil {
				return nil, fmt.Errorf("storage: key %d: %w", n, err)
			}
			if seen[k.id] {
				return nil, fmt.Errorf("storage: key %d repeats key id %s", n, hex.EncodeToString(k.id[:]))
			}
			seen[k.id] = true
			ks.keys = append(ks.keys, k)
		}
	}
	if len(ks.keys) == 0 {
		return nil, fmt.Errorf("storage: %w: the key list is empty", ErrNoKey)
	}
	return &ks, nil
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != keySize {
				return nil, fmt.Errorf("is %d bytes, want %d (generate one with storage.GenerateKey or `head -c 32 /dev/urandom | base64`)", len(b), keySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("is not base64")
}

func newAEADKey(raw []byte) (aeadKey, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return aeadKey{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return aeadKey{}, err
	}
	sum := sha256.Sum256(append([]byte("omnitoken key id\x00"), raw...))
	k := aeadKey{aead: aead}
	copy(k.id[:], sum[:keyIDSize])
	return k, nil
}

// KeysFromEnv reads keys from OMNITOKEN_KEY (the key list itself) or, when
// that is unset, from the file named by OMNITOKEN_KEY_FILE, which must not
// be readable by group or others (except on Windows). With neither set it
// returns an error matching ErrNoKey.
func KeysFromEnv() (*Keys, error) {
	if v := os.Getenv(EnvKey); v != "" {
		ks, err := ParseKeys(v)
		if err != nil {
			return nil, fmt.Errorf("%w (from %s)", err, EnvKey)
		}
		return ks, nil
	}
	if f := os.Getenv(EnvKeyFile); f != "" {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %w", EnvKeyFile, err)
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
			return nil, fmt.Errorf("storage: %s: the key file has mode %v, readable by others; chmod 600 it", EnvKeyFile, fi.Mode().Perm())
		}
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("storage: %s: %w", EnvKeyFile, err)
		}
		ks, err := ParseKeys(string(b))
		if err != nil {
			return nil, fmt.Errorf("%w (from %s)", err, EnvKeyFile)
		}
		return ks, nil
	}
	return nil, fmt.Errorf("storage: %w: set %s or %s", ErrNoKey, EnvKey, EnvKeyFile)
}

// IDs returns the key ids in order, in hex; the first is the writing key.
func (k *Keys) IDs() []string {
	out := make([]string, len(k.keys))
	for i, key := range k.keys {
		out[i] = hex.EncodeToString(key.id[:])
	}
	return out
}

// String lists the key ids, never key material.
func (k *Keys) String() string { return "storage.Keys" + fmt.Sprint(k.IDs()) }

// GoString is String, so %#v shows no key material either.
func (k *Keys) GoString() string { return k.String() }

func aad(path string) []byte { return append([]byte("omnitoken value\x00"), path...) }

// seal encrypts plaintext for path with the first key.
func (k *Keys) seal(path string, plaintext []byte) (string, error) {
	w := k.keys[0]
	buf := make([]byte, keyIDSize+nonceSize, keyIDSize+nonceSize+len(plaintext)+w.aead.Overhead())
	copy(buf, w.id[:])
	if _, err := rand.Read(buf[keyIDSize:]); err != nil {
		return "", err
	}
	buf = w.aead.Seal(buf, buf[keyIDSize:], plaintext, aad(path))
	return sealedPrefix + sealedEncoding.EncodeToString(buf), nil
}

// Seal encrypts plaintext with the first key, bound to context (what a
// vault path is to a vault value: where the value lives), in the sealed
// text form. A package that keeps values outside a vault, such as
// redisstore's token records, seals them with the vault's keys this way.
func (k *Keys) Seal(context string, plaintext []byte) (string, error) {
	return k.seal(context, plaintext)
}

// Open decrypts a value Seal returned for the same context. A value that
// is not sealed, was sealed with a key not among k, was altered, or was
// sealed for another context is an error matching ErrDecrypt that names
// context.
func (k *Keys) Open(context, sealed string) ([]byte, error) {
	body, ok := isSealed([]byte(sealed))
	if !ok {
		return nil, fmt.Errorf("storage: value at %q: %w: it is not sealed", context, ErrDecrypt)
	}
	pt, _, err := k.open(context, body)
	return pt, err
}

// isSealed reports whether a stored value is in sealed form, and its body.
func isSealed(data []byte) (string, bool) {
	s, ok := strings.CutPrefix(string(data), sealedPrefix)
	return s, ok
}

// checkNotSealed refuses a sealed value read without keys, saying how to
// configure them.
func checkNotSealed(s *vault.Secret) error {
	if _, ok := isSealed(s.Bytes()); !ok {
		return nil
	}
	for _, env := range []string{EnvKey, EnvKeyFile} {
		if os.Getenv(env) != "" {
			return fmt.Errorf("%w: the stored value is encrypted and this vault was opened without keys, though %s is set (omnitoken.NewAuto reads it; omnitoken.New takes Config.EncryptionKeys; storage.EncryptVault takes KeysFromEnv)", ErrDecrypt, env)
		}
	}
	return fmt.Errorf("%w: the stored value is encrypted and no key is configured (set %s or %s)", ErrDecrypt, EnvKey, EnvKeyFile)
}

// open decrypts a sealed body read from path, and returns the index of the
// key that opened it.
func (k *Keys) open(path, body string) ([]byte, int, error) {
	raw, err := sealedEncoding.DecodeString(strings.TrimSpace(body))
	if err != nil || len(raw) < keyIDSize+nonceSize {
		return nil, 0, fmt.Errorf("storage: value at %q: %w: it is damaged (not valid sealed data)", path, ErrDecrypt)
	}
	id := raw[:keyIDSize]
	for i, key := range k.keys {
		if !bytes.Equal(key.id[:], id) {
			continue
		}
		pt, err := key.aead.Open(nil, raw[keyIDSize:keyIDSize+nonceSize], raw[keyIDSize+nonceSize:], aad(path))
		if err != nil {
			return nil, 0, fmt.Errorf("storage: value at %q: %w: it fails authentication with key %s (altered, damaged, or moved from another path)", path, ErrDecrypt, hex.EncodeToString(id))
		}
		return pt, i, nil
	}
	return nil, 0, fmt.Errorf("storage: value at %q: %w: it was sealed with key %s, which is not among the configured keys %v (wrong or missing key)", path, ErrDecrypt, hex.EncodeToString(id), k.IDs())
}

// EncryptOptions configures EncryptVault. The zero value is strict.
type EncryptOptions struct {
	// AllowPlaintext lets reads return values stored before encryption
	// was turned on, so a vault is usable while Rekey migrates it. Only a
	// value that is a JSON object is taken for plaintext; anything else
	// that is not sealed is an error matching ErrDecrypt. Writes are always
	// sealed. Leave it off once the vault is migrated: with it on, someone
	// who can write to the vault can plant a plaintext value.
	AllowPlaintext bool
}

// EncryptedVault is a vault.Vault that seals each value with AES-256-GCM
// before writing it to the vault it wraps, and opens it after reading.
// Paths, the list of paths and existence are not hidden; values are. It
// reports MultiField false, so the Store writes only the sealed value and
// no field in the clear.
//
// A value that cannot be opened (wrong or missing key, a flipped byte, a
// value moved from another path, plaintext when plaintext is not allowed)
// is an error matching ErrDecrypt that names the path; the Store adds
// the credential's name. Nothing unauthenticated is ever returned.
//
// Closing an EncryptedVault closes the vault it wraps.
type EncryptedVault struct {
	v    vault.Vault
	keys *Keys
	opts EncryptOptions
}

// EncryptVault returns v with every value sealed with keys (see
// EncryptedVault). A nil v or keys is an error.
func EncryptVault(v vault.Vault, keys *Keys, opts EncryptOptions) (*EncryptedVault, error) {
	if v == nil {
		return nil, errors.New("storage: encrypt: nil vault")
	}
	if keys == nil || len(keys.keys) == 0 {
		return nil, fmt.Errorf("storage: encrypt: %w", ErrNoKey)
	}
	return &EncryptedVault{v: v, keys: keys, opts: opts}, nil
}

// Unwrap returns the vault that holds the sealed values.
func (e *EncryptedVault) Unwrap() vault.Vault { return e.v }

// Keys returns the keys the vault seals and opens with.
func (e *EncryptedVault) Keys() *Keys { return e.keys }

// Get implements vault.Vault.
func (e *EncryptedVault) Get(ctx context.Context, path string) (*vault.Secret, error) {
	s, err := e.v.Get(ctx, path)
	if err != nil || s == nil {
		return s, err
	}
	pt, _, sealed, err := e.openSecret(path, s, e.opts.AllowPlaintext)
	if err != nil {
		return nil, err
	}
	out := &vault.Secret{Value: string(pt), Metadata: s.Metadata}
	if !sealed {
		out.Fields = s.Fields
	}
	return out, nil
}

// openSecret opens a stored secret. sealed reports whether it was sealed;
// keyIndex is the key that opened it.
func (e *EncryptedVault) openSecret(path string, s *vault.Secret, allowPlain bool) (pt []byte, keyIndex int, sealed bool, err error) {
	data := s.Bytes()
	if body, ok := isSealed(data); ok {
		pt, i, err := e.keys.open(path, body)
		return pt, i, true, err
	}
	trimmed := bytes.TrimSpace(data)
	plainJSON := len(trimmed) > 0 && trimmed[0] == '{' || len(trimmed) == 0 && len(s.Fields) > 0
	switch {
	case !plainJSON:
		return nil, 0, false, fmt.Errorf("storage: value at %q: %w: it is neither sealed nor a plaintext JSON object (damaged?)", path, ErrDecrypt)
	case !allowPlain:
		return nil, 0, false, fmt.Errorf("storage: value at %q: %w: it is stored in plaintext; run Rekey to encrypt the vault (or allow plaintext reads while migrating)", path, ErrDecrypt)
	}
	return data, 0, false, nil
}

// Set implements vault.Vault: the secret's value is sealed; its Fields
// are not written.
func (e *EncryptedVault) Set(ctx context.Context, path string, s *vault.Secret) error {
	if s == nil {
		return fmt.Errorf("storage: value at %q: nil secret", path)
	}
	sealed, err := e.keys.seal(path, s.Bytes())
	if err != nil {
		return fmt.Errorf("storage: seal value at %q: %w", path, err)
	}
	return e.v.Set(ctx, path, &vault.Secret{Value: sealed, Metadata: s.Metadata})
}

// Delete implements vault.Vault.
func (e *EncryptedVault) Delete(ctx context.Context, path string) error {
	return e.v.Delete(ctx, path)
}

// Exists implements vault.Vault.
func (e *EncryptedVault) Exists(ctx context.Context, path string) (bool, error) {
	return e.v.Exists(ctx, path)
}

// List implements vault.Vault.
func (e *EncryptedVault) List(ctx context.Context, prefix string) ([]string, error) {
	return e.v.List(ctx, prefix)
}

// Name implements vault.Vault.
func (e *EncryptedVault) Name() string { return "encrypted(" + e.v.Name() + ")" }

// Capabilities implements vault.Vault: those of the wrapped vault, without
// MultiField and Binary (values are sealed text).
func (e *EncryptedVault) Capabilities() vault.Capabilities {
	c := e.v.Capabilities()
	c.MultiField = false
	c.Binary = false
	return c
}

// Close closes the wrapped vault.
func (e *EncryptedVault) Close() error { return e.v.Close() }

// RekeyResult counts what Rekey did.
type RekeyResult struct {
	// Rewritten values: plaintext ones sealed, and ones sealed with a key
	// other than the first resealed with it.
	Rewritten int
	// Current values, already sealed with the first key, left alone.
	Current int
}

// Rekey rewrites every value under the given path prefixes (every path
// when none is given) so that it is sealed with the first key: plaintext
// values are encrypted in place, values sealed with an older key are
// resealed. Values already sealed with the first key are not written. It
// reads plaintext whatever EncryptOptions.AllowPlaintext says, since
// migrating plaintext is its purpose.
//
// Rekey stops at the first value it cannot open (a key that is not
// configured, a damaged value) with an error matching ErrDecrypt naming
// its path; what it rewrote until then stays rewritten, and running it
// again resumes. A value another writer replaces while Rekey runs is
// resealed as replaced, not overwritten with what Rekey read before,
// unless the write lands in the instant between Rekey's second read and
// its write: prefer to run it while no process writes to the vault.
func Rekey(ctx context.Context, e *EncryptedVault, prefixes ...string) (RekeyResult, error) {
	var res RekeyResult
	if len(prefixes) == 0 {
		prefixes = []string{""}
	}
	for _, prefix := range prefixes {
		paths, err := e.v.List(ctx, prefix)
		if err != nil {
			return res, fmt.Errorf("storage: rekey: list %q: %w", prefix, err)
		}
		for _, p := range paths {
			n, err := e.rekeyPath(ctx, p)
			if err != nil {
				return res, fmt.Errorf("storage: rekey: %w", err)
			}
			switch n {
			case rekeyRewritten:
				res.Rewritten++
			case rekeyCurrent:
				res.Current++
			}
		}
	}
	return res, nil
}

// rekeyOutcome is what rekeyPath did with one path.
type rekeyOutcome int

const (
	rekeyGone      rekeyOutcome = iota + 1 // deleted meanwhile
	rekeyCurrent                           // already sealed with the first key
	rekeyRewritten                         // resealed
)

// rekeyTries bounds how often rekeyPath starts over because the value
// changed under it.
const rekeyTries = 8

// rekeyPath reseals the value at p with the first key unless it already
// is. Just before writing it reads the value again, and starts over if
// another writer replaced it meanwhile, so that a token refreshed while
// Rekey runs is not overwritten with the one it replaced. This narrows
// the window to the time between that read and the write; vaults offer
// no compare-and-swap to close it.
func (e *EncryptedVault) rekeyPath(ctx context.Context, p string) (rekeyOutcome, error) {
	for range rekeyTries {
		s, err := e.v.Get(ctx, p)
		if errors.Is(err, vault.ErrSecretNotFound) {
			return rekeyGone, nil // deleted meanwhile
		}
		if err != nil {
			return 0, err
		}
		pt, i, sealed, err := e.openSecret(p, s, true)
		if err != nil {
			return 0, err
		}
		if sealed && i == 0 {
			return rekeyCurrent, nil
		}
		if !sealed && len(bytes.TrimSpace(pt)) == 0 {
			return 0, fmt.Errorf("value at %q: %w: it has fields but no value, which an encrypted vault cannot keep", p, ErrDecrypt)
		}
		again, err := e.v.Get(ctx, p)
		if errors.Is(err, vault.ErrSecretNotFound) {
			return rekeyGone, nil
		}
		if err != nil {
			return 0, err
		}
		if !bytes.Equal(again.Bytes(), s.Bytes()) {
			continue // rewritten meanwhile: reseal what is there now
		}
		if err := e.Set(ctx, p, &vault.Secret{Value: string(pt), Metadata: s.Metadata}); err != nil {
			return 0, err
		}
		return rekeyRewritten, nil
	}
	return 0, fmt.Errorf("value at %q kept changing while Rekey read it (%d tries); run Rekey again", p, rekeyTries)
}

var _ vault.Vault = (*EncryptedVault)(nil)
