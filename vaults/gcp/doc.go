// Package gcp is an omnivault provider for Google Cloud Secret Manager.
//
// A blank import registers the URI scheme gcp-sm:// with omnivault, so
// that omnitoken.NewFromVaultURI accepts it:
//
//	import _ "github.com/plexusone/omnitoken/vaults/gcp"
//
//	mgr, err := omnitoken.NewFromVaultURI("gcp-sm://my-project/omnitoken-prod")
//
// # URIs
//
//	gcp-sm://PROJECT[/PREFIX][?endpoint=HOST:PORT]
//
// PREFIX, followed by a '/', starts the ID of every secret this vault
// writes (before the mapping below), so prefixes "a" and "ab" never share
// an ID. Credentials are
// Application Default Credentials: GOOGLE_APPLICATION_CREDENTIALS, the
// gcloud user, or the metadata server of GCE, GKE and Cloud Run.
//
// # Names
//
// Secret IDs allow only A–Z, a–z, 0–9, '-' and '_', and at most 255
// characters, in one flat namespace. A vault path is mapped to PREFIX
// followed by the path with every other byte, and '_' itself, written as
// '_' and two hex digits ("credentials/a" is "credentials_2Fa"). The
// mapping is reversible, so List gives the paths back.
//
// # Semantics
//
// Each path is one secret; each write adds a version. Readers do not read
// "latest": they read the version that the secret's alias "current" names,
// and only a writer that has seen the secret's etag can move that alias.
//
//   - Get reads the secret (its etag and the alias), then the version,
//     and reports both in Metadata.Version as "N:ETAG". A missing secret, or
//     one with no "current" alias yet, is an error matching
//     vault.ErrSecretNotFound.
//   - Set adds a version and moves the alias to it, whatever is there.
//   - SetIfVersion adds a version, then moves the alias with UpdateSecret
//     conditioned on the etag that Get reported, so Vault implements
//     storage.ConditionalVault and omnitoken writes every token that way.
//     When another writer moved the alias first, the update is refused and
//     the write fails with an error matching core.ErrConflict, so the
//     engine re-reads and adopts the newer token; the version it added is
//     destroyed. For "" it makes the secret with CreateSecret, which fails
//     when another writer made it first.
//   - After a successful move, the version that was current is destroyed
//     (its payload erased, with its etag as condition), so an old refresh
//     token does not linger in the version history. Destroying is best
//     effort: a failure leaves the version, which holds no alias.
//   - Delete deletes the secret with every version.
//   - List pages through the project's secrets and keeps those under the
//     prefix.
//   - UNAVAILABLE and RESOURCE_EXHAUSTED answers are retried with
//     exponential backoff on every call. Reads are idempotent; a retried
//     AddSecretVersion can at worst leave an extra version that no alias
//     names.
//
// # Tested against a fake
//
// No Google endpoint can be reached where this package is developed. Its
// tests drive the real client (gRPC, over TLS with a per-call bearer
// token) against an in-process fake of the Secret Manager service
// (internal/fakesm) that enforces NOT_FOUND, ALREADY_EXISTS, etags on
// UpdateSecret and DestroySecretVersion, version aliases, and throttling.
// To run the same tests against a real project (it writes under a random
// prefix and deletes what it wrote):
//
//	GOOGLE_CLOUD_PROJECT=my-project OMNITOKEN_LIVE_GCP_SM=1 go test -run Live ./...
package gcp
