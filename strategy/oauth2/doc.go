// Package oauth2 is the strategy for goauth's "oauth2" credential type:
// OAuth 2.0 tokens from a token endpoint. It reuses golang.org/x/oauth2
// for the client credentials, password, authorization code (with PKCE)
// and refresh grants, and writes the token request itself only where
// x/oauth2 cannot: the JWT bearer grant (RFC 7523), token exchange
// (RFC 8693), goauth's account_credentials, the device grant's polling
// (so that its clock can be faked) and JWT client authentication.
//
// Like every strategy it neither caches nor stores tokens: a core.Manager
// does, and calls Token with the last token so that it can be refreshed.
//
// # The credential
//
// The "oauth2" section is goauth's CredentialsOAuth2 with its JSON names
// (see Section):
//
//	{"service":"github","type":"oauth2","oauth2":{
//	  "clientID":"…","clientSecret":"…","grantType":"client_credentials",
//	  "endpoint":{"TokenURL":"https://idp.example/oauth/token"},"scope":["read"]}}
//
// When every endpoint field is empty, the endpoint comes from the
// credential's service and subdomain through goauth's endpoints package,
// as goauth's Inflate does. Endpoints must be https, or plain http to a
// loopback host (localhost, 127.0.0.0/8, ::1) such as a local identity
// provider; plain http to any other host is refused before any request
// unless Options.AllowInsecureHTTP is set. A token endpoint that
// redirects is refused, and the credential is not sent on.
//
// # Grants
//
// grantType accepts goauth's spellings (its authutil constants), the RFC
// URNs and short forms:
//
//	client_credentials                         clientID plus client authentication
//	password                                   username, password
//	authorization_code (code)                  tokens come from AuthCodeURL + Exchange, or AuthorizeLocal
//	urn:ietf:params:oauth:grant-type:device_code (device_code, device)
//	                                           endpoint.DeviceAuthURL
//	urn:ietf:params:oauth:grant-type:jwt-bearer (jwt-bearer, jwt_bearer, anything with "jwt")
//	                                           the jwt field, or a key (below)
//	urn:ietf:params:oauth:grant-type:token-exchange (token_exchange, token-exchange)
//	                                           a subject token (below)
//	account_credentials                        goauth's (Zoom); TokenBodyOpts such as account_id
//	refresh_token                              the credential's token carries the refresh token
//	custom_static, or empty with a token       the credential's token is used as is
//
// Whatever the grant, a refresh token in the last token (or, for the first
// call, in the credential's own "token") is used first, with rotation: a
// new refresh token replaces the old one, and a response without one keeps
// the old one. The credential's own token, while unexpired, is returned
// as is, as goauth does.
//
// TokenBodyOpts are added to the token request of every grant but the
// code exchange (which takes AuthCodeExchangeOpts) and refresh; they never
// override grant_type, client authentication, username, password,
// assertion, refresh_token, code or device_code. AuthCodeOpts go into
// the authorization URL. OAuthEndpointID is sent as endpoint_id in the
// authorization URL and the code exchange.
//
// # Metadata keys
//
//	tokenEndpointAuthMethod   client_secret_basic, client_secret_post, private_key_jwt,
//	                          client_secret_jwt or none (see below)
//	privateKey                PEM private key (PKCS#1, SEC 1 or PKCS#8; RSA ≥ 2048 bits,
//	                          ECDSA P-256/384/521, Ed25519) for private_key_jwt and for
//	                          signing jwt-bearer assertions
//	keyID                     "kid" header of the JWTs signed with privateKey
//	signingMethod             RS256…PS512, ES256…ES512 or EdDSA; default by key type
//	                          (RS256, ES256/384/512 by curve, EdDSA)
//	clientAssertionAudience   aud of client assertions; default the token URL
//	assertionIssuer           iss of a jwt-bearer assertion; default clientID
//	assertionSubject          sub of a jwt-bearer assertion; default the issuer
//	assertionAudience         aud of a jwt-bearer assertion; default the token URL
//	                          (some servers, such as zitadel, want their issuer URL)
//	assertionLifetime         exp - iat of a jwt-bearer assertion, a Go duration;
//	                          default 5m, at most 1h
//	subjectToken, subjectTokenType, actorToken, actorTokenType,
//	requestedTokenType, audience, resource
//	                          token exchange parameters (below)
//
// # Client authentication
//
// metadata["tokenEndpointAuthMethod"] chooses; when it is absent,
// endpoint.AuthStyle does (1, in params: client_secret_post; 2, in header:
// client_secret_basic), then what the credential holds: a clientSecret
// means client_secret_basic (also for AuthStyle 0, auto-detect, which is
// not probed: probing sends the secret twice and doubles failing
// requests), a metadata["privateKey"] means private_key_jwt, and nothing
// means none (a public client: client_id only).
//
// private_key_jwt (RFC 7523 §2.2 and §3) sends a client assertion signed
// with metadata["privateKey"]: iss = sub = clientID, aud = the token URL,
// iat, exp one minute later and a unique jti. client_secret_jwt signs the
// same claims with HS256 and the client secret.
//
// # JWT bearer
//
// The assertion is the credential's "jwt" field, sent as is. When that is
// empty it is signed with metadata["privateKey"], with the claims named
// by the assertion* keys, a unique jti and the scopes as "scope". Client
// authentication is optional here: it is used when the credential has a
// clientSecret (or names a method).
//
// # Token exchange
//
// The RFC 8693 parameters are read from TokenBodyOpts under their RFC
// names (subject_token, subject_token_type, actor_token, actor_token_type,
// requested_token_type, audience, resource), and otherwise from the
// metadata keys of the same meaning (subjectToken, …). subject_token is
// required; subject_token_type defaults to
// urn:ietf:params:oauth:token-type:access_token, as does actor_token_type
// when there is an actor token.
//
// # Authorization code and device grants
//
// A person must act before these grants yield a first token. For the
// authorization code, AuthCodeURL builds the URL (with PKCE S256) for the
// credential stored under a name, and Exchange trades the code for tokens
// and stores them under that name through core.Manager.PutToken;
// AuthorizeLocal does both for a CLI, on a 127.0.0.1 redirect. Until then,
// Token returns an error matching core.ErrReauthRequired.
//
// For the device grant (RFC 8628), Token requests a device code and
// returns a *core.ReauthRequiredError carrying the verification URI and
// user code; later Token calls poll for the person's approval, no more
// often than the server's interval, 5 s longer after each slow_down. With
// Options.OnDeviceCode, Token shows the code through it and keeps polling
// until approval or the end of ctx.
//
// # Errors
//
// A token endpoint's error keeps the RFC 6749 §5.2 code and a redacted
// description as a *core.OAuthError (use errors.As), whatever the HTTP
// status, 200 included: the request's secrets (password, client secret,
// assertions, subject and actor tokens, refresh token) are cut from it.
// A token response whose expires_in is zero or negative is refused with
// an error matching core.ErrTokenExpired: the token is expired on
// arrival. invalid_grant and
// invalid_client are permanent and match core.ErrRefreshFailed; when
// refreshing they also match core.ErrTokenExpired. When a refresh token
// is rejected with invalid_grant, a grant that needs nobody
// (client_credentials, password, JWT bearer, token exchange,
// account_credentials) acquires a new token once; an authorization-code
// credential's error also matches core.ErrReauthRequired, and a device
// credential starts a new device authorization. Status 429 and 5xx give
// a temporary error carrying Retry-After (core.IsTemporary,
// core.RetryAfterOf): the Manager retries with backoff, and the strategy
// never retries by itself. A malformed credential is an error matching
// core.ErrInvalidCredentials. No error holds a secret or an unredacted
// response body.
package oauth2
