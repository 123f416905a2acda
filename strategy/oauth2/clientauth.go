package oauth2

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/pemkey"
)

// clientAssertionType is RFC 7523 §2.2's client_assertion_type.
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// Assertion lifetimes: a client assertion is used once, right away; a
// grant assertion made from a key lives DefaultAssertionLifetime unless
// metadata["assertionLifetime"] says otherwise, up to MaxAssertionLifetime.
const (
	clientAssertionLifetime = time.Minute
	// DefaultAssertionLifetime is exp - iat of a jwt-bearer assertion
	// signed from the credential's key.
	DefaultAssertionLifetime = 5 * time.Minute
	// MaxAssertionLifetime is the longest metadata["assertionLifetime"]
	// accepted.
	MaxAssertionLifetime = time.Hour
)

// signer signs assertions with the credential's private key.
type signer struct {
	key    any
	method gojwt.SigningMethod
	kid    string
}

// parseSigner reads metadata["privateKey"] (PEM) and the signing method.
// Errors match core.ErrInvalidCredentials and never quote the key.
func parseSigner(sec *Section) (*signer, error) {
	raw := sec.meta(MetaPrivateKey)
	if raw == "" {
		return nil, fmt.Errorf("oauth2: %w: metadata.%s is empty", core.ErrInvalidCredentials, MetaPrivateKey)
	}
	key, err := pemkey.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("oauth2: %w: metadata.%s %s", core.ErrInvalidCredentials, MetaPrivateKey, err)
	}
	m, err := signingMethod(sec.meta(MetaSigningMethod), key)
	if err != nil {
		return nil, err
	}
	return &signer{key: key, method: m, kid: sec.meta(MetaKeyID)}, nil
}

// signingMethod picks the JWS algorithm: the one named, checked against
// the key, or the key type's usual one (see pemkey.SigningAlg).
func signingMethod(name string, key any) (gojwt.SigningMethod, error) {
	alg, err := pemkey.SigningAlg(key, name)
	if err != nil {
		return nil, fmt.Errorf("oauth2: %w: metadata.%s %s", core.ErrInvalidCredentials, MetaPrivateKey, err)
	}
	return gojwt.GetSigningMethod(alg), nil
}

// sign signs claims, adding the key id to the header when there is one.
func (sg *signer) sign(claims gojwt.MapClaims) (string, error) {
	t := gojwt.NewWithClaims(sg.method, claims)
	if sg.kid != "" {
		t.Header["kid"] = sg.kid
	}
	s, err := t.SignedString(sg.key)
	if err != nil {
		return "", fmt.Errorf("oauth2: signing assertion with %s failed", sg.method.Alg())
	}
	return s, nil
}

// clientAssertion builds the RFC 7523 §2.2 / §3 client assertion:
// iss = sub = client_id, aud = the token endpoint (or
// metadata["clientAssertionAudience"]), a short exp and a unique jti.
func (s *Strategy) clientAssertion(cfg *config) (string, error) {
	now := s.clock.Now()
	aud := cfg.sec.meta(MetaClientAssertionAudience)
	if aud == "" {
		aud = cfg.tokenURL
	}
	claims := gojwt.MapClaims{
		"iss": cfg.sec.ClientID,
		"sub": cfg.sec.ClientID,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(clientAssertionLifetime).Unix(),
		"jti": rand.Text(),
	}
	switch cfg.method {
	case AuthClientSecretJWT:
		sg := &signer{key: []byte(cfg.sec.ClientSecret), method: gojwt.SigningMethodHS256, kid: cfg.sec.meta(MetaKeyID)}
		return sg.sign(claims)
	default:
		return cfg.signer.sign(claims)
	}
}

// grantAssertion builds the RFC 7523 §2.1 authorization grant assertion
// from the credential's key when its "jwt" field is empty.
func (s *Strategy) grantAssertion(cfg *config) (string, error) {
	if cfg.sec.JWT != "" {
		return cfg.sec.JWT, nil
	}
	now := s.clock.Now()
	iss := cfg.sec.meta(MetaAssertionIssuer)
	if iss == "" {
		iss = cfg.sec.ClientID
	}
	sub := cfg.sec.meta(MetaAssertionSubject)
	if sub == "" {
		sub = iss
	}
	aud := cfg.sec.meta(MetaAssertionAudience)
	if aud == "" {
		aud = cfg.tokenURL
	}
	claims := gojwt.MapClaims{
		"iss": iss,
		"sub": sub,
		"aud": aud,
		"iat": now.Unix(),
		"exp": now.Add(cfg.assertionLifetime).Unix(),
		"jti": rand.Text(),
	}
	if len(cfg.sec.Scopes) > 0 {
		claims["scope"] = strings.Join(cfg.sec.Scopes, " ")
	}
	return cfg.signer.sign(claims)
}

// clientAuth adds client authentication to a hand-written token request:
// a Basic header, form parameters, or a client assertion.
func (s *Strategy) clientAuth(cfg *config, form url.Values) (http.Header, error) {
	h := http.Header{}
	id, secret := cfg.sec.ClientID, cfg.sec.ClientSecret
	switch cfg.method {
	case AuthClientSecretBasic:
		h.Set("Authorization", "Basic "+basicCredentials(id, secret))
	case AuthClientSecretPost:
		form.Set("client_id", id)
		form.Set("client_secret", secret)
	case AuthPrivateKeyJWT, AuthClientSecretJWT:
		a, err := s.clientAssertion(cfg)
		if err != nil {
			return nil, err
		}
		if id != "" {
			form.Set("client_id", id)
		}
		form.Set("client_assertion_type", clientAssertionType)
		form.Set("client_assertion", a)
	default: // none
		if id != "" {
			form.Set("client_id", id)
		}
	}
	return h, nil
}

// basicCredentials is the client_secret_basic credential as x/oauth2 and
// clientAuth send it: RFC 6749 §2.3.1 form-encodes both parts first.
func basicCredentials(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

// printable returns s if it is a short plain token, safe to quote in an
// error; otherwise a placeholder, since it might be a misplaced secret.
func printable(s string) string {
	if len(s) > 40 {
		return "(value not shown)"
	}
	for _, r := range s {
		if !(r == '_' || r == '-' || r == '.' || r == ':' || r == ' ' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return "(value not shown)"
		}
	}
	return s
}
