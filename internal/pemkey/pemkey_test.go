package pemkey

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	enc := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }
	ecDER, _ := x509.MarshalECPrivateKey(ek)
	p8, _ := x509.MarshalPKCS8PrivateKey(dk)
	for name, in := range map[string]string{
		"pkcs1": enc("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)),
		"sec1":  enc("EC PRIVATE KEY", ecDER),
		"pkcs8": enc("PRIVATE KEY", p8),
	} {
		if _, err := Parse(in); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	// An X25519 key parses as PKCS#8 but cannot sign: refused, by kind.
	xk, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xDER, _ := x509.MarshalPKCS8PrivateKey(xk)
	if _, err := Parse(enc("PRIVATE KEY", xDER)); err == nil || !strings.Contains(err.Error(), "cannot sign") {
		t.Errorf("X25519: err = %v, want a refusal saying it cannot sign", err)
	}
	const canary = "CANARYkeybytes"
	for name, in := range map[string]string{
		"empty":     "  ",
		"not pem":   canary,
		"encrypted": enc("ENCRYPTED PRIVATE KEY", []byte(canary)),
		"public":    enc("PUBLIC KEY", []byte(canary)),
		"garbage":   enc("PRIVATE KEY", []byte(canary)),
		"odd type":  enc("WEIRD\x01TYPE", []byte(canary)),
	} {
		_, err := Parse(in)
		var pe *Error
		if !errors.As(err, &pe) || strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "\x01") {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}
