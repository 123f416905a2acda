package jwt

import (
	"fmt"
	"sort"
	"strings"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/pemkey"
)

// method is a supported signing method.
type method struct {
	name string // canonical JWS name
	sm   gojwt.SigningMethod
	hmac bool // the key is a shared secret, not a PEM key
}

var methods = map[string]method{}

func init() {
	for _, sm := range []gojwt.SigningMethod{gojwt.SigningMethodHS256, gojwt.SigningMethodHS384, gojwt.SigningMethodHS512} {
		methods[sm.Alg()] = method{name: sm.Alg(), sm: sm, hmac: true}
	}
	for _, sm := range []gojwt.SigningMethod{
		gojwt.SigningMethodRS256, gojwt.SigningMethodRS384, gojwt.SigningMethodRS512,
		gojwt.SigningMethodPS256, gojwt.SigningMethodPS384, gojwt.SigningMethodPS512,
		gojwt.SigningMethodES256, gojwt.SigningMethodES384, gojwt.SigningMethodES512,
		gojwt.SigningMethodEdDSA,
	} {
		methods[strings.ToUpper(sm.Alg())] = method{name: sm.Alg(), sm: sm}
	}
}

// SigningMethods returns the supported signing method names, sorted.
func SigningMethods() []string {
	out := make([]string, 0, len(methods))
	for _, m := range methods {
		out = append(out, m.name)
	}
	sort.Strings(out)
	return out
}

func lookupMethod(name string) (method, error) {
	n := strings.ToUpper(strings.TrimSpace(name))
	if n == "ED25519" {
		n = "EDDSA"
	}
	if n == "" {
		return method{}, fmt.Errorf("jwt: %w: signingMethod is empty (want one of %s)", core.ErrInvalidCredentials, strings.Join(SigningMethods(), ", "))
	}
	m, ok := methods[n]
	if !ok {
		// A short algorithm-like name is quoted to help; anything else
		// might be a misplaced secret and is not.
		if pemkey.LooksLikeAlg(name) {
			return method{}, fmt.Errorf("jwt: %w: signingMethod %q is not supported (want one of %s)", core.ErrInvalidCredentials, name, strings.Join(SigningMethods(), ", "))
		}
		return method{}, fmt.Errorf("jwt: %w: signingMethod is not supported (want one of %s)", core.ErrInvalidCredentials, strings.Join(SigningMethods(), ", "))
	}
	return m, nil
}

// parseKey turns the section's privateKey into the key m signs with: the
// raw bytes of an HMAC secret, or a PEM key that pemkey.SigningAlg accepts
// for m.
func (m method) parseKey(s string) (any, error) {
	if s == "" {
		return nil, errKey(m, "is empty")
	}
	if m.hmac {
		return []byte(s), nil
	}
	key, err := pemkey.Parse(s)
	if err != nil {
		return nil, errKey(m, "%s", err)
	}
	if _, err := pemkey.SigningAlg(key, m.name); err != nil {
		return nil, errKey(m, "%s", err)
	}
	return key, nil
}
