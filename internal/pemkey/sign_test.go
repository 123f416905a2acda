package pemkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
)

func TestSigningAlg(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p521, _ := ecdsa.GenerateKey(elliptic.P521(), rand.Reader)
	p224, _ := ecdsa.GenerateKey(elliptic.P224(), rand.Reader)
	_, ed, _ := ed25519.GenerateKey(rand.Reader)
	const canary = "CANARY-secret-in-the-wrong-field"
	for _, tc := range []struct {
		name string
		key  any
		alg  string
		want string // the algorithm, or a piece of the error
		ok   bool
	}{
		{"rsa default", rk, "", "RS256", true},
		{"rsa ps384 any case", rk, " ps384 ", "PS384", true},
		{"rsa small", small, "RS256", "is a 1024-bit RSA key; at least 2048 bits", false},
		{"rsa for ES256", rk, "ES256", "holds an RSA key, want an ECDSA P-256 key for ES256", false},
		{"rsa for HS256", rk, "HS256", `cannot sign with "HS256"`, false},
		{"p256 default", p256, "", "ES256", true},
		{"p384 default", p384, "", "ES384", true},
		{"p521 default", p521, "es512", "ES512", true},
		{"p384 for ES256", p384, "ES256", "holds an ECDSA P-384 key, want an ECDSA P-256 key", false},
		{"p224", p224, "", "want one on P-256, P-384 or P-521", false},
		{"ed default", ed, "", "EdDSA", true},
		{"ed alias", ed, "Ed25519", "EdDSA", true},
		{"ed for RS256", ed, "RS256", "want an RSA key", false},
		{"secret as alg", rk, canary, "the signing method given", false},
		{"not a key", []byte("k"), "", "cannot sign", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SigningAlg(tc.key, tc.alg)
			if tc.ok {
				if err != nil || got != tc.want {
					t.Fatalf("= %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			var pe *Error
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), canary) {
				t.Fatalf("err = %v; want an *Error containing %q", err, tc.want)
			}
		})
	}
}
