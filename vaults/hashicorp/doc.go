// Package hashicorp is an omnivault provider for HashiCorp Vault and
// OpenBao, over the KV version 2 secrets engine.
//
// A blank import registers the URI schemes vault:// and openbao:// with
// omnivault, so that omnitoken.NewFromVaultURI accepts them:
//
//	import _ "github.com/plexusone/omnitoken/vaults/hashicorp"
//
//	mgr, err := omnitoken.NewFromVaultURI("vault://vault.example.com:8200/secret/omnitoken?auth=approle")
//
// # URIs
//
//	vault://HOST[:PORT]/MOUNT[/PREFIX][?OPTIONS]
//	openbao://HOST[:PORT]/MOUNT[/PREFIX][?OPTIONS]
//
// MOUNT is the KV v2 mount ("secret" on a dev server) and PREFIX, when
// present, is prepended to every path, so one mount can hold several
// omnitoken vaults. An empty HOST ("vault:///secret") takes the address
// from VAULT_ADDR (or BAO_ADDR for openbao://). Options:
//
//   - auth=token (default), approle or kubernetes;
//   - role=NAME, the Kubernetes auth role (default: VAULT_K8S_ROLE);
//   - authmount=PATH, the auth method's mount (default: approle or kubernetes);
//   - namespace=NS (default: VAULT_NAMESPACE);
//   - tls=false, plain http; accepted only for a loopback host.
//
// Secrets never travel in the URI. They come from the environment:
// VAULT_TOKEN (or BAO_TOKEN), VAULT_ROLE_ID and VAULT_SECRET_ID for
// AppRole, and for Kubernetes the projected service-account token at
// VAULT_K8S_JWT_PATH (default
// /var/run/secrets/kubernetes.io/serviceaccount/token).
//
// # One client for both servers
//
// OpenBao is a fork of Vault whose KV v2, token and auth HTTP APIs are
// the same as Vault's, header names included. This package therefore
// drives both with github.com/hashicorp/vault/api; openbao:// differs only
// in its environment variable names and in Name.
//
// # Semantics
//
// Each omnivault path is one KV v2 secret whose data holds the secret's
// Value under "value" and each of its Fields under "field:NAME". Any
// other key, as "vault kv put PATH type=basic …" writes, reads as a Field
// of its own name, so a credential kept as flat fields is read too.
//
//   - Get reports the KV version in Metadata.Version. Set writes a new
//     version whatever is there. SetIfVersion writes with KV v2
//     check-and-set (cas = the version read; cas=0, "must not exist", for
//     ""), so Vault implements storage.ConditionalVault: omnitoken writes
//     every token that way, and when another writer got there first the
//     write fails with an error matching core.ErrConflict, and the engine
//     re-reads and adopts the newer token instead of overwriting it.
//   - Delete removes the secret's metadata and every version.
//   - List walks the metadata tree under the prefix.
//   - The client's own token is renewed when two thirds of its lease have
//     passed, on the next request; when renewal fails or the token has
//     expired, AppRole and Kubernetes logins are made again. A renewal or
//     login that fails while the token still has time left does not fail
//     the request: the token is used, and renewal tried again halfway to
//     its expiry. After a 403, the token is looked up: if it lapsed, one
//     fresh login (shared by every request that met the same token) and
//     the request once more; if it holds, the 403 is the policy's answer
//     and no login is made. Logins use a client of their own, so the
//     token other requests use stays in place, and a request waiting for
//     another's login gives up when its context ends.
//   - 429 and 5xx answers are retried by the SDK with backoff, honouring
//     Retry-After.
//
// # Tested against a fake
//
// No Vault or OpenBao server can be run where this package is developed.
// Its tests drive the real SDK client against an in-process fake of the
// KV v2, token and auth HTTP APIs (internal/fakevault), which enforces
// versions, check-and-set, token TTLs and throttling. To run the same
// conformance tests against a real server:
//
//	VAULT_ADDR=https://vault.example.com:8200 VAULT_TOKEN=… \
//	OMNITOKEN_LIVE_VAULT_MOUNT=secret go test -run Live ./...
//
// The live test writes under a random prefix and deletes what it wrote.
package hashicorp
