// Package gcpsa is the strategy for goauth's "gcpsa" credential type: a
// Google Cloud service account key and the OAuth scopes to ask for. Tokens
// come from the two-legged JWT flow of golang.org/x/oauth2/google: a JWT
// assertion signed with the account's RSA key is exchanged at the
// account's token_uri for an access token.
//
// # The credential
//
// The "gcpsa" section is goauth's CredentialsGCP: the fields of the
// service account JSON key file under "gcpCredentials", and the scopes:
//
//	{"type":"gcpsa","gcpsa":{
//	  "gcpCredentials":{"type":"service_account","project_id":"p","private_key_id":"k1",
//	    "private_key":"-----BEGIN PRIVATE KEY-----\n…","client_email":"sa@p.iam.gserviceaccount.com",
//	    "client_id":"1","token_uri":"https://oauth2.googleapis.com/token"},
//	  "scopes":["https://www.googleapis.com/auth/cloud-platform"]}}
//
// CredentialsFromJSON builds such a credential from a downloaded key file.
//
// The account's token_uri is honoured; when empty it is Google's
// DefaultTokenURL. It must be https, or plain http to a loopback host
// (localhost, 127.0.0.0/8, ::1); plain http to any other host is refused
// unless Options.AllowInsecureHTTP is set.
// private_key must be a PEM RSA key of at least 2048 bits (PKCS#8 or
// PKCS#1), and client_email must be set. A credential that breaks these
// rules is refused with an error matching core.ErrInvalidCredentials, when
// it is stored (Validate) and when a token is asked for; the error never
// quotes the key.
//
// The optional "subject" value of the credential's top-level "additional"
// names a user to impersonate through domain-wide delegation; it becomes
// the assertion's sub claim.
//
// # Tokens and errors
//
// Each Token call signs a new assertion (iat a few seconds in the past,
// exp one hour later, aud the token_uri, scope the scopes joined by
// spaces) and posts it; the previous token is ignored, as a service account
// has no refresh token. The core.Manager caches the result. The token's
// Expiry is Options.Clock's now plus the response's expires_in: a missing
// one counts as one hour, none counts as more than 366 days, and a zero or
// negative one is refused with an error matching core.ErrTokenExpired,
// since the token is expired on arrival.
//
// Requests go through a client that requires TLS 1.2 or later and never
// follows a redirect, and are bounded by ctx and by a timeout. Token
// endpoint errors keep their RFC 6749 code in a *core.OAuthError and never
// carry the response body: invalid_grant and the other final codes match
// core.ErrRefreshFailed and are not retried; 429 and 5xx are temporary. An
// invalid_grant error adds a hint: Google refuses assertions whose iat or
// exp is off, which a skewed system clock causes, and keys that were
// deleted or disabled.
//
// This package imports golang.org/x/oauth2/google, which brings in
// cloud.google.com/go/compute/metadata; programs that do not use
// service accounts need not import it.
package gcpsa
