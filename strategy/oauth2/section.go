package oauth2

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/plexusone/omnitoken/core/driver"
	xoauth2 "golang.org/x/oauth2"
)

// Section is the "oauth2" section of a credential: goauth's
// CredentialsOAuth2, field for field and with the same JSON names, so that
// a goauth credentials file decodes unchanged. It is declared here so that
// this package does not link the goauth root package.
//
// A Section never prints its secrets: String, GoString, Format and
// LogValue redact them.
type Section struct {
	// ServerURL is the API's base URL. It is not used to get a token; when
	// empty it is filled from the service, as goauth's Inflate does.
	ServerURL string `json:"serverURL,omitempty"`
	// ApplicationID identifies the application at providers that have one
	// (Zoom). It is not sent; put provider parameters in TokenBodyOpts.
	ApplicationID string `json:"applicationID,omitempty"`
	// ClientID is the OAuth client identifier.
	ClientID string `json:"clientID,omitempty"`
	// ClientSecret is the client secret (secret).
	ClientSecret string `json:"clientSecret,omitempty"`
	// Endpoint holds the authorization, device authorization and token
	// URLs and the client authentication style. When all of it is empty,
	// it comes from the credential's service (and subdomain) through
	// goauth's endpoints package.
	Endpoint xoauth2.Endpoint `json:"endpoint,omitempty"`
	// RedirectURL is the authorization-code redirect URI.
	RedirectURL string `json:"redirectURL,omitempty"`
	// OAuthEndpointID, when set, is sent as the "endpoint_id" parameter of
	// the authorization request and of the code exchange (RingCentral).
	OAuthEndpointID string `json:"oauthEndpointID,omitempty"`
	// Scopes are the requested scopes, sent space-separated.
	Scopes []string `json:"scope,omitempty"`
	// GrantType selects the grant. See the package documentation for the
	// accepted spellings.
	GrantType string `json:"grantType,omitempty"`
	// PKCE requires a PKCE (S256) verifier for the authorization-code grant.
	PKCE bool `json:"pkce"`
	// Username is the resource owner's name for the password grant.
	Username string `json:"username,omitempty"`
	// Password is the resource owner's password (secret).
	Password string `json:"password,omitempty"`
	// JWT is a ready-made assertion for the JWT bearer grant (secret).
	JWT string `json:"jwt,omitempty"`
	// Token is a token issued earlier, used until it expires and refreshed
	// with its refresh token when it has one (secret).
	Token *xoauth2.Token `json:"token,omitempty"`
	// AuthCodeOpts are extra parameters of the authorization URL.
	AuthCodeOpts map[string][]string `json:"authCodeOpts,omitempty"`
	// AuthCodeExchangeOpts are extra parameters of the code exchange.
	AuthCodeExchangeOpts map[string][]string `json:"authCodeExchangeOpts,omitempty"`
	// TokenBodyOpts are extra parameters of the token request of the
	// client_credentials, password, JWT bearer, token exchange, device and
	// account_credentials grants. Parameters the strategy sets itself
	// (grant_type, client authentication, username, password, assertion,
	// device_code) are not overridden.
	TokenBodyOpts url.Values `json:"tokenBodyOpts,omitempty"`
	// Metadata holds settings goauth has no field for; the keys this
	// strategy reads are listed in the package documentation.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// String describes the section without any secret.
func (s Section) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "oauth2.Section{grantType=%q clientID=%q tokenURL=%q", s.GrantType, s.ClientID, s.Endpoint.TokenURL)
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"clientSecret", s.ClientSecret != ""},
		{"password", s.Password != ""},
		{"jwt", s.JWT != ""},
		{"token", s.Token != nil},
		{"tokenBodyOpts", len(s.TokenBodyOpts) > 0},
		{"metadata", len(s.Metadata) > 0},
	} {
		if f.set {
			b.WriteString(" ")
			b.WriteString(f.name)
			b.WriteString("=[REDACTED]")
		}
	}
	b.WriteString("}")
	return b.String()
}

// GoString redacts like String, so %#v is safe.
func (s Section) GoString() string { return s.String() }

// Format redacts for every verb.
func (s Section) Format(f fmt.State, verb rune) { driver.FormatRedacted(f, verb, s.String()) }

// LogValue redacts for log/slog.
func (s Section) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("grantType", s.GrantType),
		slog.String("clientID", s.ClientID),
		slog.String("tokenURL", s.Endpoint.TokenURL),
		slog.Bool("clientSecret", s.ClientSecret != ""),
	)
}

// meta returns a metadata value, trimmed.
func (s *Section) meta(key string) string { return strings.TrimSpace(s.Metadata[key]) }

// Metadata keys read by the strategy. See the package documentation.
const (
	MetaTokenEndpointAuthMethod = "tokenEndpointAuthMethod" // client authentication method, one of the Auth* constants
	MetaPrivateKey              = "privateKey"              // PEM private key for private_key_jwt and jwt-bearer assertions (secret)
	MetaKeyID                   = "keyID"                   // kid header of the JWTs signed with privateKey
	MetaSigningMethod           = "signingMethod"           // JWS algorithm for privateKey; default by key type
	MetaClientAssertionAudience = "clientAssertionAudience" // aud of client assertions; default the token URL
	MetaAssertionIssuer         = "assertionIssuer"         // iss of a jwt-bearer assertion; default clientID
	MetaAssertionSubject        = "assertionSubject"        // sub of a jwt-bearer assertion; default the issuer
	MetaAssertionAudience       = "assertionAudience"       // aud of a jwt-bearer assertion; default the token URL
	MetaAssertionLifetime       = "assertionLifetime"       // exp - iat of a jwt-bearer assertion, a Go duration
	MetaSubjectToken            = "subjectToken"            // RFC 8693 subject_token (secret)
	MetaSubjectTokenType        = "subjectTokenType"        // RFC 8693 subject_token_type
	MetaActorToken              = "actorToken"              // RFC 8693 actor_token (secret)
	MetaActorTokenType          = "actorTokenType"          // RFC 8693 actor_token_type
	MetaRequestedTokenType      = "requestedTokenType"      // RFC 8693 requested_token_type
	MetaAudience                = "audience"                // RFC 8693 audience
	MetaResource                = "resource"                // RFC 8693 resource
)

// Client authentication methods (RFC 7591 token_endpoint_auth_method).
const (
	AuthClientSecretBasic = "client_secret_basic" // client ID and secret in a Basic header (RFC 6749 §2.3.1)
	AuthClientSecretPost  = "client_secret_post"  // client ID and secret in the form body
	AuthClientSecretJWT   = "client_secret_jwt"   // a client assertion signed with the secret (HS256)
	AuthPrivateKeyJWT     = "private_key_jwt"     // a client assertion signed with metadata privateKey (RFC 7523 §2.2)
	AuthNone              = "none"                // a public client: client_id only
)

// Grant type names as sent on the wire.
const (
	GrantClientCredentials  = "client_credentials"                              // RFC 6749 §4.4
	GrantPassword           = "password"                                        // RFC 6749 §4.3
	GrantAuthorizationCode  = "authorization_code"                              // RFC 6749 §4.1
	GrantRefreshToken       = "refresh_token"                                   // RFC 6749 §6
	GrantDeviceCode         = "urn:ietf:params:oauth:grant-type:device_code"    // RFC 8628
	GrantJWTBearer          = "urn:ietf:params:oauth:grant-type:jwt-bearer"     // RFC 7523 §2.1
	GrantTokenExchange      = "urn:ietf:params:oauth:grant-type:token-exchange" // RFC 8693
	GrantAccountCredentials = "account_credentials"                             // goauth's, as Zoom uses it
	// grantStatic is goauth's "custom_static" and an empty grant type with
	// a token: the credential's own token is used.
	grantStatic = "custom_static"
)

// Token types of RFC 8693 §3.
const (
	TokenTypeAccessToken  = "urn:ietf:params:oauth:token-type:access_token"  // an OAuth 2.0 access token
	TokenTypeRefreshToken = "urn:ietf:params:oauth:token-type:refresh_token" // an OAuth 2.0 refresh token
	TokenTypeIDToken      = "urn:ietf:params:oauth:token-type:id_token"      // an OpenID Connect ID token
	TokenTypeJWT          = "urn:ietf:params:oauth:token-type:jwt"           // a JWT
)

// NormalizeGrantType maps a grant type as written in a credential to its
// wire name: goauth's spellings (authutil constants), the RFC URNs and
// common short forms. It returns "" for an unknown grant type.
func NormalizeGrantType(g string) string {
	n := strings.ToLower(strings.TrimSpace(g))
	switch n {
	case "client_credentials", "client-credentials", "clientcredentials":
		return GrantClientCredentials
	case "password", "resource_owner_password", "ropc":
		return GrantPassword
	case "authorization_code", "authorization-code", "authorizationcode", "code", "auth_code":
		return GrantAuthorizationCode
	case "refresh_token", "refresh-token":
		return GrantRefreshToken
	case GrantDeviceCode, "device_code", "device-code", "device", "device_authorization":
		return GrantDeviceCode
	case GrantTokenExchange, "token_exchange", "token-exchange", "tokenexchange":
		return GrantTokenExchange
	case "account_credentials", "account-credentials":
		return GrantAccountCredentials
	case "custom_static", "static":
		return grantStatic
	case GrantJWTBearer, "jwt_bearer", "jwt-bearer", "jwtbearer", "jwt":
		return GrantJWTBearer
	}
	// goauth treats any grant type containing "jwt" as the JWT bearer grant.
	if strings.Contains(n, "jwt") {
		return GrantJWTBearer
	}
	return ""
}

// unattended reports whether a grant obtains a token without a person.
func unattended(grant string) bool {
	switch grant {
	case GrantClientCredentials, GrantPassword, GrantJWTBearer, GrantTokenExchange, GrantAccountCredentials:
		return true
	}
	return false
}
