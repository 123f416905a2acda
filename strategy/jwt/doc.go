// Package jwt is the strategy for goauth's "jwt" credential type: bearer
// tokens that are JSON Web Tokens signed by the credential's own key, with
// no token endpoint involved. It is built on github.com/golang-jwt/jwt/v5.
//
// # The credential
//
// The "jwt" section is goauth's CredentialsJWT:
//
//	{"type":"jwt","jwt":{"issuer":"svc-a","signingMethod":"ES256","privateKey":"-----BEGIN EC PRIVATE KEY-----\n…"}}
//
// signingMethod (case-insensitive) chooses how privateKey is read:
//
//   - HS256, HS384, HS512: privateKey is the shared secret, taken as its
//     raw bytes, as goauth does. It must not be empty; RFC 7518 §3.2 asks
//     for at least as many bytes as the hash output (32, 48, 64).
//   - RS256, RS384, RS512, PS256, PS384, PS512: a PEM RSA private key,
//     PKCS#1 ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), of at least
//     2048 bits.
//   - ES256, ES384, ES512: a PEM ECDSA private key, SEC 1 ("EC PRIVATE
//     KEY") or PKCS#8, on the matching curve: P-256, P-384, P-521.
//   - EdDSA (alias Ed25519): a PEM PKCS#8 Ed25519 private key.
//
// Encrypted PEM keys are not supported. A credential that does not meet
// these rules is refused with an error matching core.ErrInvalidCredentials,
// when it is stored (Validate) and when a token is asked for. The error
// names what is wrong and never quotes the key.
//
// # Claims, and where each one lives
//
// Each token carries:
//
//   - iss: the section's issuer (omitted when empty).
//   - iat and nbf: the current time less the leeway (Options.Leeway,
//     DefaultLeeway when zero), so that a receiver whose clock runs a
//     little behind still accepts the token (clock skew).
//   - exp: the current time plus the lifetime. The token's Expiry is exp.
//   - jti: a fresh random identifier, unique for each token.
//   - sub, aud and further claims, configured as below.
//   - the header's kid, when a key id is configured.
//
// The current time comes from Options.Clock, so tests can pass the same
// coretest.FakeClock to the strategy and to the core.Manager.
//
// The lifetime, audience, subject, key id and extra claims are read from
// the credential's top-level "additional" values first, and fall back to
// the strategy's Options:
//
//	key in "additional"   meaning                              default
//	lifetime              token lifetime, a Go duration ("15m") Options.Lifetime, else DefaultLifetime
//	audience              aud; repeat the key for several       Options.Audience
//	subject               sub                                  Options.Subject
//	kid                   key id in the JWT header             Options.KeyID
//	claim.<name>          claim <name> as a string; repeated    Options.Claims[<name>]
//	                      values become an array of strings
//	claimjson.<name>      claim <name> as raw JSON (a number,   Options.Claims[<name>]
//	                      a boolean, an object, …)
//
// For example:
//
//	"additional":{"lifetime":["10m"],"audience":["https://api.example.com"],"claim.role":["reader"],"claimjson.admin":["false"]}
//
// The lifetime must be positive and at most MaxLifetime. The registered
// claims the strategy computes (iss, sub, aud, exp, nbf, iat, jti) cannot be
// set through claim.<name> or claimjson.<name>: such a credential is refused.
// Other keys in "additional" are ignored.
//
// # Minting
//
// Token signs a new JWT on every call and ignores the previous token: the
// core.Manager caches the token and asks for a new one as exp nears. The
// strategy itself caches and stores nothing.
package jwt
