package jwt_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/strategy/jwt"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Keys are generated once per test binary; RSA generation is slow under -race.
var (
	keysOnce sync.Once
	rsaKey   *rsa.PrivateKey
	ecKeys   map[elliptic.Curve]*ecdsa.PrivateKey
	edKey    ed25519.PrivateKey
)

func keys(t testing.TB) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		ecKeys = map[elliptic.Curve]*ecdsa.PrivateKey{}
		for _, c := range []elliptic.Curve{elliptic.P256(), elliptic.P384(), elliptic.P521()} {
			k, err := ecdsa.GenerateKey(c, rand.Reader)
			if err != nil {
				panic(err)
			}
			ecKeys[c] = k
		}
		if _, edKey, err = ed25519.GenerateKey(rand.Reader); err != nil {
			panic(err)
		}
	})
}

func pemOf(t testing.TB, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs8(t testing.TB, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

func sec1(t testing.TB, k *ecdsa.PrivateKey) string {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "EC PRIVATE KEY", der)
}

func pkcs1(t testing.TB, k *rsa.PrivateKey) string {
	t.Helper()
	return pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
}

type family struct {
	method string
	key    func(t testing.TB) string // the privateKey field
	verify any                       // the verification key
}

func families(t testing.TB) []family {
	keys(t)
	secret := func(n int) func(testing.TB) string {
		return func(testing.TB) string { return strings.Repeat("s", n) }
	}
	hs := []byte(strings.Repeat("s", 64))
	return []family{
		{"HS256", secret(64), hs},
		{"HS384", secret(64), hs},
		{"HS512", secret(64), hs},
		{"RS256", func(t testing.TB) string { return pkcs1(t, rsaKey) }, &rsaKey.PublicKey},
		{"RS384", func(t testing.TB) string { return pkcs8(t, rsaKey) }, &rsaKey.PublicKey},
		{"RS512", func(t testing.TB) string { return pkcs1(t, rsaKey) }, &rsaKey.PublicKey},
		{"PS256", func(t testing.TB) string { return pkcs8(t, rsaKey) }, &rsaKey.PublicKey},
		{"PS384", func(t testing.TB) string { return pkcs1(t, rsaKey) }, &rsaKey.PublicKey},
		{"PS512", func(t testing.TB) string { return pkcs8(t, rsaKey) }, &rsaKey.PublicKey},
		{"ES256", func(t testing.TB) string { return sec1(t, ecKeys[elliptic.P256()]) }, &ecKeys[elliptic.P256()].PublicKey},
		{"ES384", func(t testing.TB) string { return pkcs8(t, ecKeys[elliptic.P384()]) }, &ecKeys[elliptic.P384()].PublicKey},
		{"ES512", func(t testing.TB) string { return sec1(t, ecKeys[elliptic.P521()]) }, &ecKeys[elliptic.P521()].PublicKey},
		{"EdDSA", func(t testing.TB) string { return pkcs8(t, edKey) }, edKey.Public().(ed25519.PublicKey)},
	}
}

func creds(t testing.TB, sec jwt.Section, add url.Values) *core.Credentials {
	t.Helper()
	c, err := jwt.NewCredentials(sec)
	if err != nil {
		t.Fatalf("NewCredentials: %v", err)
	}
	c.Additional = add
	return c
}

// verify parses tok with key, accepting only alg, at the given time.
func verify(t *testing.T, tok, alg string, key any, now time.Time) (*gojwt.Token, gojwt.MapClaims) {
	t.Helper()
	claims := gojwt.MapClaims{}
	parsed, err := gojwt.ParseWithClaims(tok, claims, func(*gojwt.Token) (any, error) { return key, nil },
		gojwt.WithValidMethods([]string{alg}),
		gojwt.WithTimeFunc(func() time.Time { return now }),
		gojwt.WithIssuedAt(),
		gojwt.WithExpirationRequired(),
		gojwt.WithAudience("https://api.example.com"),
		gojwt.WithIssuer("svc-a"),
		gojwt.WithSubject("robot@example.com"),
	)
	if err != nil {
		t.Fatalf("verify %s: %v", alg, err)
	}
	return parsed, claims
}

func TestFamilies(t *testing.T) {
	for _, f := range families(t) {
		t.Run(f.method, func(t *testing.T) {
			clock := coretest.NewFakeClock(t0)
			s := jwt.New(jwt.Options{Clock: clock, Leeway: 10 * time.Second})
			c := creds(t, jwt.Section{Issuer: "svc-a", SigningMethod: f.method, PrivateKey: f.key(t)}, url.Values{
				"lifetime":        {"15m"},
				"audience":        {"https://api.example.com"},
				"subject":         {"robot@example.com"},
				"kid":             {"key-7"},
				"claim.role":      {"reader"},
				"claimjson.level": {"3"},
			})
			if err := s.Validate(c); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tok, err := s.Token(context.Background(), c, nil)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if tok.Type() != "Bearer" {
				t.Errorf("type = %q, want Bearer", tok.Type())
			}
			if want := t0.Add(15 * time.Minute); !tok.Expiry.Equal(want) {
				t.Errorf("Expiry = %v, want %v", tok.Expiry, want)
			}
			parsed, cl := verify(t, tok.AccessToken, f.method, f.verify, t0)
			if parsed.Header["kid"] != "key-7" {
				t.Errorf("kid = %v", parsed.Header["kid"])
			}
			want := map[string]any{
				"iss":   "svc-a",
				"sub":   "robot@example.com",
				"aud":   "https://api.example.com",
				"iat":   float64(t0.Add(-10 * time.Second).Unix()),
				"nbf":   float64(t0.Add(-10 * time.Second).Unix()),
				"exp":   float64(t0.Add(15 * time.Minute).Unix()),
				"role":  "reader",
				"level": float64(3),
			}
			for k, v := range want {
				if cl[k] != v {
					t.Errorf("claim %s = %#v, want %#v", k, cl[k], v)
				}
			}
			if jti, _ := cl["jti"].(string); len(jti) < 16 {
				t.Errorf("jti = %q, want a random identifier", jti)
			}
			// The wrong key must not verify it: the signature is real.
			if _, err := gojwt.Parse(tok.AccessToken, func(*gojwt.Token) (any, error) { return wrongKey(t, f.method), nil },
				gojwt.WithTimeFunc(func() time.Time { return t0 })); err == nil {
				t.Error("token verified with an unrelated key")
			}
			// After exp it no longer verifies.
			if _, err := gojwt.Parse(tok.AccessToken, func(*gojwt.Token) (any, error) { return f.verify, nil },
				gojwt.WithTimeFunc(func() time.Time { return t0.Add(16 * time.Minute) })); !errors.Is(err, gojwt.ErrTokenExpired) {
				t.Errorf("after exp: err = %v, want ErrTokenExpired", err)
			}
		})
	}
}

func wrongKey(t *testing.T, method string) any {
	t.Helper()
	switch method[:2] {
	case "HS":
		return []byte("another secret that is long enough for any HMAC")
	case "RS", "PS":
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	case "ES":
		curve := map[string]elliptic.Curve{"ES256": elliptic.P256(), "ES384": elliptic.P384(), "ES512": elliptic.P521()}[method]
		k, err := ecdsa.GenerateKey(curve, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

func TestDefaultsAndPrecedence(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	s := jwt.New(jwt.Options{
		Clock:    clock,
		Lifetime: 5 * time.Minute,
		Audience: []string{"a1", "a2"},
		Subject:  "default-sub",
		KeyID:    "default-kid",
		Claims:   map[string]any{"tenant": "t1", "role": "default"},
	})
	secret := strings.Repeat("k", 32)
	c := creds(t, jwt.Section{SigningMethod: "hs256", PrivateKey: secret}, nil)
	tok, err := s.Token(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := gojwt.MapClaims{}
	p, err := gojwt.ParseWithClaims(tok.AccessToken, cl, func(*gojwt.Token) (any, error) { return []byte(secret), nil },
		gojwt.WithTimeFunc(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cl["iss"]; ok {
		t.Errorf("iss = %v, want omitted for an empty issuer", cl["iss"])
	}
	if got := fmt.Sprint(cl["aud"]); got != "[a1 a2]" {
		t.Errorf("aud = %s, want [a1 a2]", got)
	}
	if cl["sub"] != "default-sub" || p.Header["kid"] != "default-kid" || cl["tenant"] != "t1" || cl["role"] != "default" {
		t.Errorf("defaults not applied: %v %v", cl, p.Header)
	}
	if want := float64(t0.Add(-jwt.DefaultLeeway).Unix()); cl["iat"] != want {
		t.Errorf("iat = %v, want now - DefaultLeeway", cl["iat"])
	}
	if !tok.Expiry.Equal(t0.Add(5 * time.Minute)) {
		t.Errorf("Expiry = %v, want Options.Lifetime", tok.Expiry)
	}

	// The credential's additional values win over Options.
	c.Additional = url.Values{
		"lifetime":   {"2m"},
		"audience":   {"only"},
		"subject":    {"cred-sub"},
		"kid":        {"cred-kid"},
		"claim.role": {"r1", "r2"},
		"ignored":    {"x"},
	}
	tok, err = s.Token(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl = gojwt.MapClaims{}
	p, err = gojwt.ParseWithClaims(tok.AccessToken, cl, func(*gojwt.Token) (any, error) { return []byte(secret), nil },
		gojwt.WithTimeFunc(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if cl["aud"] != "only" || cl["sub"] != "cred-sub" || p.Header["kid"] != "cred-kid" || fmt.Sprint(cl["role"]) != "[r1 r2]" || cl["tenant"] != "t1" {
		t.Errorf("additional not applied: %v %v", cl, p.Header)
	}
	if _, ok := cl["ignored"]; ok {
		t.Error("an unknown additional key became a claim")
	}
	if !tok.Expiry.Equal(t0.Add(2 * time.Minute)) {
		t.Errorf("Expiry = %v, want the credential's lifetime", tok.Expiry)
	}
}

func TestNegativeLeeway(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	s := jwt.New(jwt.Options{Clock: clock, Leeway: -1})
	c := creds(t, jwt.Section{SigningMethod: "HS256", PrivateKey: strings.Repeat("k", 32)}, nil)
	tok, err := s.Token(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	cl := gojwt.MapClaims{}
	if _, _, err := gojwt.NewParser().ParseUnverified(tok.AccessToken, cl); err != nil {
		t.Fatal(err)
	}
	if cl["iat"] != float64(t0.Unix()) || cl["nbf"] != float64(t0.Unix()) {
		t.Errorf("iat, nbf = %v, %v; want now exactly", cl["iat"], cl["nbf"])
	}
}

func TestUniqueTokens(t *testing.T) {
	s := jwt.New(jwt.Options{Clock: coretest.NewFakeClock(t0)})
	c := creds(t, jwt.Section{SigningMethod: "HS256", PrivateKey: strings.Repeat("k", 32)}, nil)
	a, err := s.Token(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Token(context.Background(), c, a)
	if err != nil {
		t.Fatal(err)
	}
	if a.AccessToken == b.AccessToken {
		t.Error("two tokens minted at the same instant are identical; jti must differ")
	}
}

func TestManagerMintsAfterExpiry(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	var issuedN atomic.Int64
	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{jwt.New(jwt.Options{Clock: clock})},
		Clock:      clock,
		OnEvent: func(e core.Event) {
			if e.Kind == core.EventTokenIssued {
				issuedN.Add(1)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	keys(t)
	c := creds(t, jwt.Section{Issuer: "svc-a", SigningMethod: "ES256", PrivateKey: sec1(t, ecKeys[elliptic.P256()])},
		url.Values{"lifetime": {"10m"}})
	if err := m.SetCredentials(ctx, "api", c); err != nil {
		t.Fatal(err)
	}
	pub := &ecKeys[elliptic.P256()].PublicKey

	first, err := m.Token(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	cl := gojwt.MapClaims{}
	if _, err := gojwt.ParseWithClaims(first.AccessToken, cl, func(*gojwt.Token) (any, error) { return pub, nil },
		gojwt.WithTimeFunc(clock.Now)); err != nil {
		t.Fatalf("first token does not verify: %v", err)
	}
	if cl["exp"] != float64(t0.Add(10*time.Minute).Unix()) {
		t.Errorf("exp = %v, want FakeClock + 10m", cl["exp"])
	}

	// Well before expiry: the cached token, no new mint.
	clock.Advance(5 * time.Minute)
	var issued int64
	again, err := m.Token(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if issued = issuedN.Load(); again.AccessToken != first.AccessToken || issued != 1 {
		t.Fatalf("a new token was minted 5m into a 10m lifetime (issued=%d)", issued)
	}

	// Past expiry: a new token, valid from the new now.
	clock.Advance(5*time.Minute + time.Second)
	next, err := m.Token(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if issued = issuedN.Load(); next.AccessToken == first.AccessToken || issued != 2 {
		t.Fatalf("no new token after expiry (issued=%d)", issued)
	}
	if !next.Expiry.Equal(clock.Now().Add(10 * time.Minute)) {
		t.Errorf("new Expiry = %v, want now + 10m", next.Expiry)
	}
	if _, err := gojwt.Parse(next.AccessToken, func(*gojwt.Token) (any, error) { return pub, nil },
		gojwt.WithTimeFunc(clock.Now)); err != nil {
		t.Errorf("new token does not verify at the new time: %v", err)
	}
	if _, err := gojwt.Parse(first.AccessToken, func(*gojwt.Token) (any, error) { return pub, nil },
		gojwt.WithTimeFunc(clock.Now)); err == nil {
		t.Error("the first token still verifies after its exp; the test clock did not move")
	}
}

const canary = "CANARY-7f3a9c-SECRET"

// canaryPEM is a PEM block whose body holds the canary but is no key.
func canaryPEM(typ string) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: []byte(canary + canary)}))
}

func TestInvalidCredentials(t *testing.T) {
	keys(t)
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 building an encrypted PEM only to see it refused.
	enc, err := x509.EncryptPEMBlock(rand.Reader, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), []byte(canary), x509.PEMCipherAES256) //nolint:staticcheck
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		sec    jwt.Section
		add    url.Values
		reason string // a word the error must contain
	}{
		{"no method", jwt.Section{PrivateKey: canary}, nil, "signingMethod is empty"},
		{"unknown method", jwt.Section{SigningMethod: "none", PrivateKey: canary}, nil, "not supported"},
		{"method holding the key", jwt.Section{SigningMethod: canary, PrivateKey: canary}, nil, "not supported"},
		{"empty secret", jwt.Section{SigningMethod: "HS256"}, nil, "is empty"},
		{"not PEM", jwt.Section{SigningMethod: "RS256", PrivateKey: canary}, nil, "not a PEM"},
		{"garbage PEM", jwt.Section{SigningMethod: "RS256", PrivateKey: canaryPEM("RSA PRIVATE KEY")}, nil, "does not parse"},
		{"garbage PKCS8", jwt.Section{SigningMethod: "EdDSA", PrivateKey: canaryPEM("PRIVATE KEY")}, nil, "does not parse"},
		{"odd PEM type", jwt.Section{SigningMethod: "ES256", PrivateKey: canaryPEM("OPENSSH PRIVATE KEY")}, nil, "PEM type"},
		{"public key", jwt.Section{SigningMethod: "RS256", PrivateKey: pemOf(t, "PUBLIC KEY", pubDER)}, nil, "not a private key"},
		{"encrypted", jwt.Section{SigningMethod: "RS256", PrivateKey: string(pem.EncodeToMemory(enc))}, nil, "encrypted"},
		{"RSA too small", jwt.Section{SigningMethod: "RS256", PrivateKey: pkcs1(t, small)}, nil, "1024-bit"},
		{"EC for RS", jwt.Section{SigningMethod: "PS256", PrivateKey: sec1(t, ecKeys[elliptic.P256()])}, nil, "want an RSA key"},
		{"RSA for ES", jwt.Section{SigningMethod: "ES256", PrivateKey: pkcs8(t, rsaKey)}, nil, "want an ECDSA P-256"},
		{"wrong curve", jwt.Section{SigningMethod: "ES256", PrivateKey: sec1(t, ecKeys[elliptic.P384()])}, nil, "P-384"},
		{"RSA for EdDSA", jwt.Section{SigningMethod: "EdDSA", PrivateKey: pkcs8(t, rsaKey)}, nil, "want an Ed25519"},
		{"bad lifetime", jwt.Section{SigningMethod: "HS256", PrivateKey: canary}, url.Values{"lifetime": {canary}}, "Go duration"},
		{"zero lifetime", jwt.Section{SigningMethod: "HS256", PrivateKey: canary}, url.Values{"lifetime": {"0s"}}, "outside"},
		{"long lifetime", jwt.Section{SigningMethod: "HS256", PrivateKey: canary}, url.Values{"lifetime": {"25h"}}, "outside"},
		{"registered claim", jwt.Section{SigningMethod: "HS256", PrivateKey: canary}, url.Values{"claim.exp": {"1"}}, "registered claim"},
		{"bad JSON claim", jwt.Section{SigningMethod: "HS256", PrivateKey: canary}, url.Values{"claimjson.x": {"{" + canary}}, "JSON value"},
	}
	ctx := context.Background()
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{jwt.New(jwt.Options{})}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	s := jwt.New(jwt.Options{})
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := &core.Credentials{Type: jwt.Type, Additional: tc.add}
			if err := c.SetSection(jwt.Type, tc.sec); err != nil {
				t.Fatal(err)
			}
			errs := map[string]error{"Validate": s.Validate(c)}
			_, errs["Token"] = s.Token(ctx, c, nil)
			errs["SetCredentials"] = m.SetCredentials(ctx, "x", c)
			_, errs["NewCredentials"] = jwt.NewCredentials(tc.sec)
			if tc.add != nil {
				delete(errs, "NewCredentials") // it has no additional values
			}
			for where, err := range errs {
				if !errors.Is(err, core.ErrInvalidCredentials) {
					t.Fatalf("%s: err = %v, want ErrInvalidCredentials", where, err)
				}
				if !strings.Contains(err.Error(), tc.reason) {
					t.Errorf("%s: err = %q, want it to say %q", where, err, tc.reason)
				}
				for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
					if s := fmt.Sprintf(f, err); strings.Contains(s, canary) || strings.Contains(s, "BEGIN") {
						t.Errorf("%s: %s of the error leaks key material: %s", where, f, s)
					}
				}
			}
		})
	}
}

func TestMissingSection(t *testing.T) {
	s := jwt.New(jwt.Options{})
	for _, c := range []*core.Credentials{nil, {Type: jwt.Type}} {
		if err := s.Validate(c); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("Validate(%v) = %v, want ErrInvalidCredentials", c, err)
		}
	}
	c := &core.Credentials{Type: jwt.Type}
	if err := c.SetSection(jwt.Type, []int{1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("Token with a malformed section: %v, want ErrInvalidCredentials", err)
	}
}

func TestNoSecretInOutput(t *testing.T) {
	sec := jwt.Section{Issuer: "svc", SigningMethod: "HS256", PrivateKey: canary}
	c := creds(t, sec, nil)
	tok, err := jwt.New(jwt.Options{}).Token(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	log.Info("x", "section", sec, "credentials", c, "token", tok)
	log.Info("y", "sectionptr", &sec)
	var out []string
	for _, v := range []any{sec, &sec, c, tok} {
		for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			out = append(out, fmt.Sprintf(f, v))
		}
	}
	out = append(out, logs.String(), fmt.Sprint([]any{sec}), fmt.Sprintf("%+v", struct{ S jwt.Section }{sec}))
	for _, s := range out {
		if strings.Contains(s, canary) {
			t.Errorf("canary leaked: %s", s)
		}
		if strings.Contains(s, tok.AccessToken) {
			t.Errorf("access token leaked: %s", s)
		}
	}
	if !strings.Contains(sec.String(), "[REDACTED]") || !strings.Contains(sec.String(), "HS256") {
		t.Errorf("String() = %s; want the method shown and the key redacted", sec)
	}
}

func TestCancelledContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := creds(t, jwt.Section{SigningMethod: "HS256", PrivateKey: strings.Repeat("k", 32)}, nil)
	if _, err := jwt.New(jwt.Options{}).Token(ctx, c, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestNewPanics(t *testing.T) {
	for name, o := range map[string]jwt.Options{
		"negative lifetime": {Lifetime: -time.Second},
		"long lifetime":     {Lifetime: jwt.MaxLifetime + 1},
		"registered claim":  {Claims: map[string]any{"exp": 1}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("New did not panic")
				}
			}()
			jwt.New(o)
		})
	}
}

func TestSigningMethods(t *testing.T) {
	got := strings.Join(jwt.SigningMethods(), ",")
	if want := "ES256,ES384,ES512,EdDSA,HS256,HS384,HS512,PS256,PS384,PS512,RS256,RS384,RS512"; got != want {
		t.Errorf("SigningMethods = %s, want %s", got, want)
	}
	// Ed25519 is an alias of EdDSA; names are case-insensitive.
	keys(t)
	for _, m := range []string{"ed25519", "eddsa", " EdDSA "} {
		if _, err := jwt.NewCredentials(jwt.Section{SigningMethod: m, PrivateKey: pkcs8(t, edKey)}); err != nil {
			t.Errorf("%q: %v", m, err)
		}
	}
}

func BenchmarkToken(b *testing.B) {
	keys(b)
	for _, f := range families(b) {
		if f.method != "HS256" && f.method != "RS256" && f.method != "ES256" && f.method != "EdDSA" {
			continue
		}
		b.Run(f.method, func(b *testing.B) {
			s := jwt.New(jwt.Options{})
			c := creds(b, jwt.Section{Issuer: "svc", SigningMethod: f.method, PrivateKey: f.key(b)}, nil)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Token(ctx, c, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestMintedBeforeExpiry: through a Manager, a new token is minted while
// the current one is still valid (inside the refresh window), so callers
// never hold an expired one.
func TestMintedBeforeExpiry(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{jwt.New(jwt.Options{Clock: clock})},
		Clock:      clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	secret := strings.Repeat("k", 32)
	if err := m.SetCredentials(ctx, "api", creds(t, jwt.Section{SigningMethod: "HS256", PrivateKey: secret}, url.Values{"lifetime": {"10m"}})); err != nil {
		t.Fatal(err)
	}
	first, err := m.Token(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(10*time.Minute - 30*time.Second) // inside the default 60 s refresh window
	next, err := m.Token(ctx, "api")
	if err != nil {
		t.Fatal(err)
	}
	if next.AccessToken == first.AccessToken {
		t.Fatal("no new token 30 s before expiry")
	}
	key := func(*gojwt.Token) (any, error) { return []byte(secret), nil }
	if _, err := gojwt.Parse(first.AccessToken, key, gojwt.WithTimeFunc(clock.Now)); err != nil {
		t.Fatalf("the first token had already expired, so this shows nothing: %v", err)
	}
	if !next.Expiry.Equal(clock.Now().Add(10 * time.Minute)) {
		t.Errorf("new Expiry = %v, want now + 10m", next.Expiry)
	}
}
