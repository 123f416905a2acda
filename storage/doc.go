// Package storage keeps omnitoken credentials and tokens in an omnivault
// vault.Vault.
//
// Store implements core.Store over any vault. Credential names are mapped
// to vault paths by EscapeName, reversibly and without collisions, so no
// name escapes its prefix:
//
//	credentials/<escaped name>   goauth Credentials JSON
//	tokens/<escaped name>        core.Token JSON
//
// FileVault is a durable vault over a directory, with one file per secret
// (<dir>/credentials/github.json holds plain goauth JSON). Its writes are
// atomic and synced, its files 0600 and directories 0700, it refuses
// symlinks and path traversal, and it removes the temp files that writers
// killed mid-write leave behind once they are old. FileLocker serializes refreshes of one
// credential across the processes that share such a directory.
//
// V01FileVault reads and writes a directory in omnitoken v0.1.0's layout
// (names as given, omnivault's Secret JSON wrapper in each file), so that
// v0.1.0 processes can share it; OpenDirectory picks the layout a
// directory holds, and MigrateV01 moves a v0.1.0 directory to this one.
//
// EncryptVault wraps any vault so that every value is sealed with
// AES-256-GCM, bound to its path, under keys from OMNITOKEN_KEY or
// OMNITOKEN_KEY_FILE (KeysFromEnv) or any other source (ParseKeys); Rekey
// encrypts a plaintext vault in place and reseals values after a key
// rotation. A value that cannot be opened is an error matching ErrDecrypt,
// never plaintext.
//
// The package imports core, omnivault's vault interfaces and
// github.com/gofrs/flock, and nothing from goauth, Google or gRPC.
package storage
