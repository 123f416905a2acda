// Package omnitoken provides a token management SDK that bridges goauth
// credentials with vault-based storage via omnivault.
//
// omnitoken keeps service credentials in a secret vault and hands callers
// valid tokens and authenticated *http.Client values. It acquires, caches,
// refreshes and persists tokens so that a caller never holds a stale one:
//
//   - Store and retrieve goauth Credentials in any omnivault backend
//     (memory, file, env, and any provider registered by URI scheme).
//   - Automatic token lifecycle: acquisition, refresh ahead of expiry,
//     caching, and persistence across restarts.
//   - goauth's TokenSet interface via VaultTokenSet.
//   - Credential types: OAuth 2.0 (every grant), JWT, Basic, API keys in
//     headers or query parameters, Google service accounts, and third-party
//     types loaded as plugins.
//
// # Basic usage
//
//	vault := memory.New() // use a real vault in production
//	mgr, err := omnitoken.New(omnitoken.Config{Vault: vault})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer mgr.Close()
//
//	creds := &goauth.Credentials{
//		Service: "github",
//		Type:    goauth.TypeOAuth2,
//		OAuth2: &goauth.CredentialsOAuth2{
//			ClientID:     "...",
//			ClientSecret: "...",
//			GrantType:    "client_credentials",
//		},
//	}
//	_ = mgr.SetCredentials(ctx, "my-github-app", creds)
//	client, err := mgr.GetClient(ctx, "my-github-app")
//
// Every request of a client from GetClient takes the current token, so the
// client keeps working across token expiry.
//
// # Architecture
//
// This package is the seed-compatible API over a small engine:
// package core holds the Manager (caching, one refresh per credential,
// persistence), the Strategy interface and the credential envelope;
// package storage maps credentials and tokens onto vault paths; each
// credential type is a strategy under strategy/; plugins/ runs
// strategies out of process. Programs that want few dependencies can use
// core, storage and the strategies they need directly.
//
// # Token lifecycle
//
// The TokenManager:
//   - retrieves credentials from the vault,
//   - serves a cached token without a lock, an allocation or a vault read,
//   - refreshes before expiry (in the background when AutoRefresh is on),
//     with one refresh per credential however many goroutines ask,
//   - re-reads the stored token before refreshing, so processes sharing a
//     vault do not refresh twice,
//   - persists a new token before any caller receives it.
//
// Secrets never appear in logs, errors or printed values.
package omnitoken
