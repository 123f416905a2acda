// Package pemkey parses PEM private keys for the strategies that sign
// (jwt, oauth2's private_key_jwt, gcpsa), with errors that say what is
// wrong and never quote the key.
package pemkey

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"unicode"
)

// Error says why a key was refused. Its text is a predicate to follow the
// field's name, such as "is not a PEM-encoded private key".
type Error struct {
	// Reason is the predicate, never a piece of the key.
	Reason string
}

// Error returns the reason.
func (e *Error) Error() string { return e.Reason }

func fail(format string, args ...any) error { return &Error{Reason: fmt.Sprintf(format, args...)} }

// Parse decodes a PEM private key: PKCS#1 RSA ("RSA PRIVATE KEY"), SEC 1
// EC ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY": RSA, ECDSA or Ed25519).
// It returns *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey.
// Encrypted keys, public keys and certificates are refused.
func Parse(s string) (any, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fail("is empty")
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, fail("is not a PEM-encoded private key")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fail("is an encrypted PEM key, which is not supported")
	}
	var (
		key any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fail("holds a PEM %s, not a private key", block.Type)
	default:
		return nil, fail("has PEM type %q, want a private key (PKCS#1, PKCS#8 or SEC 1)", printable(block.Type))
	}
	if err != nil {
		// x509's messages describe structure only, but the key's own bytes
		// are not worth the risk: say which form failed.
		return nil, fail("is a PEM %q block that does not parse", block.Type)
	}
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return key, nil
	}
	// PKCS#8 also holds X25519 and X448 keys (*ecdh.PrivateKey), which
	// agree on keys but cannot sign.
	return nil, fail("holds a %T, which cannot sign", key)
}

// printable caps a PEM type for an error message and drops anything that
// is not a printable character.
func printable(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return -1
	}, s)
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return s
}
