package pemkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"fmt"
	"strings"
)

// MinRSABits is the smallest RSA key accepted for signing (RFC 7518 §3.3).
const MinRSABits = 2048

// SigningAlg returns the JWS algorithm key signs with: alg in its canonical
// spelling when key can sign with it, or, when alg is empty, the key type's
// usual one (RS256; ES256, ES384 or ES512 by curve; EdDSA). alg is
// case-insensitive, and "Ed25519" names EdDSA. HMAC algorithms take a
// secret, not a key, and are refused. An RSA key must have at least
// MinRSABits. Errors are *Error, worded to follow a field name as Parse's
// are; alg is quoted only when it looks like an algorithm name.
func SigningAlg(key any, alg string) (string, error) {
	want := strings.ToUpper(strings.TrimSpace(alg))
	switch want {
	case "ED25519", "EDDSA":
		want = "EdDSA"
	}
	switch k := key.(type) {
	case *rsa.PrivateKey:
		if bits := k.N.BitLen(); bits < MinRSABits {
			return "", fail("is a %d-bit RSA key; at least %d bits are required", bits, MinRSABits)
		}
		switch want {
		case "":
			return "RS256", nil
		case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
			return want, nil
		}
	case *ecdsa.PrivateKey:
		usual := ecdsaAlg[k.Curve.Params().Name]
		if usual == "" {
			return "", fail("holds %s; want one on P-256, P-384 or P-521", Kind(key))
		}
		if want == "" || want == usual {
			return usual, nil
		}
	case ed25519.PrivateKey:
		if want == "" || want == "EdDSA" {
			return "EdDSA", nil
		}
	default:
		return "", fail("holds %s, which cannot sign", Kind(key))
	}
	if k := keyFor(want); k != "" {
		return "", fail("holds %s, want %s for %s", Kind(key), k, want)
	}
	if LooksLikeAlg(alg) {
		return "", fail("holds %s, which cannot sign with %q", Kind(key), alg)
	}
	return "", fail("holds %s, which cannot sign with the signing method given", Kind(key))
}

var ecdsaAlg = map[string]string{"P-256": "ES256", "P-384": "ES384", "P-521": "ES512"}

// keyFor names the key an algorithm needs, or "" for one SigningAlg does
// not know.
func keyFor(alg string) string {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
		return "an RSA key"
	case "ES256":
		return "an ECDSA P-256 key"
	case "ES384":
		return "an ECDSA P-384 key"
	case "ES512":
		return "an ECDSA P-521 key"
	case "EdDSA":
		return "an Ed25519 key"
	}
	return ""
}

// Kind names a parsed key's algorithm (and curve), never its value.
func Kind(key any) string {
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

// LooksLikeAlg reports whether s is short and plain enough to be an
// algorithm name, and so safe to quote in an error: anything else might
// be a misplaced secret.
func LooksLikeAlg(s string) bool {
	if s == "" || len(s) > 10 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
