package jwt

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"fmt"
	"sort"
	"strings"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/pemkey"
)

// minRSABits is the smallest RSA key accepted.
const minRSABits = 2048

type family int

const (
	familyHMAC family = iota
	familyRSA
	familyECDSA
	familyEd25519
)

// method is a supported signing method.
type method struct {
	name  string // canonical JWS name
	sm    gojwt.SigningMethod
	fam   family
	curve elliptic.Curve // familyECDSA only
}

var methods = map[string]method{}

func init() {
	add := func(sm gojwt.SigningMethod, fam family, curve elliptic.Curve) {
		methods[strings.ToUpper(sm.Alg())] = method{name: sm.Alg(), sm: sm, fam: fam, curve: curve}
	}
	add(gojwt.SigningMethodHS256, familyHMAC, nil)
	add(gojwt.SigningMethodHS384, familyHMAC, nil)
	add(gojwt.SigningMethodHS512, familyHMAC, nil)
	add(gojwt.SigningMethodRS256, familyRSA, nil)
	add(gojwt.SigningMethodRS384, familyRSA, nil)
	add(gojwt.SigningMethodRS512, familyRSA, nil)
	add(gojwt.SigningMethodPS256, familyRSA, nil)
	add(gojwt.SigningMethodPS384, familyRSA, nil)
	add(gojwt.SigningMethodPS512, familyRSA, nil)
	add(gojwt.SigningMethodES256, familyECDSA, elliptic.P256())
	add(gojwt.SigningMethodES384, familyECDSA, elliptic.P384())
	add(gojwt.SigningMethodES512, familyECDSA, elliptic.P521())
	add(gojwt.SigningMethodEdDSA, familyEd25519, nil)
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
		if looksLikeAlg(name) {
			return method{}, fmt.Errorf("jwt: %w: signingMethod %q is not supported (want one of %s)", core.ErrInvalidCredentials, name, strings.Join(SigningMethods(), ", "))
		}
		return method{}, fmt.Errorf("jwt: %w: signingMethod is not supported (want one of %s)", core.ErrInvalidCredentials, strings.Join(SigningMethods(), ", "))
	}
	return m, nil
}

// parseKey turns the section's privateKey into the key m signs with.
func (m method) parseKey(s string) (any, error) {
	if s == "" {
		return nil, errKey(m, "is empty")
	}
	if m.fam == familyHMAC {
		return []byte(s), nil
	}
	key, err := pemkey.Parse(s)
	if err != nil {
		return nil, errKey(m, "%s", err)
	}
	switch m.fam {
	case familyRSA:
		k, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, errKey(m, "holds %s, want an RSA key", keyKind(key))
		}
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, errKey(m, "is a %d-bit RSA key; at least %d bits are required", bits, minRSABits)
		}
		return k, nil
	case familyECDSA:
		k, ok := key.(*ecdsa.PrivateKey)
		if !ok {
			return nil, errKey(m, "holds %s, want an ECDSA %s key", keyKind(key), m.curve.Params().Name)
		}
		if k.Curve != m.curve {
			return nil, errKey(m, "holds %s, want an ECDSA %s key", keyKind(key), m.curve.Params().Name)
		}
		return k, nil
	case familyEd25519:
		k, ok := key.(ed25519.PrivateKey)
		if !ok {
			return nil, errKey(m, "holds %s, want an Ed25519 key", keyKind(key))
		}
		return k, nil
	}
	return nil, errKey(m, "cannot be used")
}

// keyKind names a parsed key's algorithm, never its value.
func keyKind(key any) string {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return "an RSA key"
	case *ecdsa.PrivateKey:
		return "an ECDSA " + k.Curve.Params().Name + " key"
	case ed25519.PrivateKey:
		return "an Ed25519 key"
	}
	return fmt.Sprintf("a %T key", key)
}

func looksLikeAlg(s string) bool {
	if len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
