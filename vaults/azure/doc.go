// Package azure is an omnivault provider for Azure Key Vault secrets.
//
// A blank import registers the URI scheme azure-kv:// with omnivault, so
// that omnitoken.NewFromVaultURI accepts it:
//
//	import _ "github.com/plexusone/omnitoken/vaults/azure"
//
//	mgr, err := omnitoken.NewFromVaultURI("azure-kv://my-vault.vault.azure.net/omnitoken")
//
// # URIs
//
//	azure-kv://VAULT-HOST[/PREFIX]
//
// VAULT-HOST is the vault's DNS name (my-vault.vault.azure.net, or a
// sovereign cloud's). Credentials come from azidentity's
// DefaultAzureCredential: environment (AZURE_TENANT_ID, AZURE_CLIENT_ID
// and a secret or certificate), workload identity, managed identity, or
// the Azure CLI.
//
// # Names
//
// Key Vault allows only 0–9, a–z, A–Z and '-' in a secret's name, at most
// 127 characters, and compares names without regard to case. A vault path
// is mapped to PREFIX, '/' (none without a PREFIX), then the path, with
// only lower-case letters and digits kept; every other byte, upper-case letters and '-' included, is written
// as '-' and two lower-case hex digits ("credentials/GitHub" is
// "credentials-2f-47it-48ub"). The mapping is reversible, so List gives the
// paths back, and names that differ only in case stay apart.
//
// # Semantics
//
//   - Get reads the latest version. A missing secret, or one in the
//     deleted state, is an error matching vault.ErrSecretNotFound.
//   - Set adds a version. Key Vault has no conditional write, so two
//     writers of one secret are not kept apart here: the omnitoken engine's
//     Locker (the file lock on one host, Redis across hosts) is what keeps
//     refreshes of one credential from racing.
//   - Delete soft-deletes the secret and then purges it, so that the name
//     can be written again at once; purging is retried while Key Vault is
//     still deleting. When the vault has purge protection, the secret stays
//     soft-deleted, and a later Set recovers it before writing.
//   - List pages through the vault's secrets and keeps those under the
//     prefix.
//   - 429 and 5xx answers are retried by the SDK with exponential backoff,
//     honouring Retry-After.
//
// # Tested against a fake
//
// No Azure endpoint can be reached where this package is developed. Its
// tests drive the real azsecrets client, with its challenge-based bearer
// authentication over TLS, against an in-process fake of the Key Vault
// REST API (internal/fakekv) that enforces 404 SecretNotFound, soft-delete
// (409 for a deleted name, purge, recover) and throttling. To run the same
// tests against a real vault (it writes under a random prefix and purges
// what it wrote):
//
//	OMNITOKEN_LIVE_AZURE_KV=my-vault.vault.azure.net go test -run Live ./...
package azure
