package jwt_test

import (
	"context"
	"fmt"
	"net/url"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/strategy/jwt"
)

// A strategy mints a token; the receiver verifies it with the shared
// secret and reads its claims.
func ExampleStrategy_Token() {
	clock := coretest.NewFakeClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	s := jwt.New(jwt.Options{Clock: clock, Leeway: 30 * time.Second})

	secret := "a shared secret of at least 32 bytes!"
	c, err := jwt.NewCredentials(jwt.Section{Issuer: "billing-worker", SigningMethod: "HS256", PrivateKey: secret})
	if err != nil {
		panic(err)
	}
	c.Additional = url.Values{
		"lifetime":   {"15m"},
		"audience":   {"https://api.example.com"},
		"claim.role": {"reader"},
	}

	tok, err := s.Token(context.Background(), c, nil)
	if err != nil {
		panic(err)
	}

	// The receiving side.
	claims := gojwt.MapClaims{}
	_, err = gojwt.ParseWithClaims(tok.AccessToken, claims,
		func(*gojwt.Token) (any, error) { return []byte(secret), nil },
		gojwt.WithValidMethods([]string{"HS256"}),
		gojwt.WithAudience("https://api.example.com"),
		gojwt.WithTimeFunc(clock.Now))
	fmt.Println("verified:", err == nil)
	iat, _ := claims.GetIssuedAt()
	exp, _ := claims.GetExpirationTime()
	fmt.Println("iss:", claims["iss"], "aud:", claims["aud"], "role:", claims["role"])
	fmt.Println("iat:", iat.UTC().Format(time.TimeOnly), "exp:", exp.UTC().Format(time.TimeOnly))
	fmt.Println("expiry matches exp:", tok.Expiry.Equal(exp.Time))
	fmt.Println(tok) // tokens never print their secret
	// Output:
	// verified: true
	// iss: billing-worker aud: https://api.example.com role: reader
	// iat: 11:59:30 exp: 12:15:00
	// expiry matches exp: true
	// Token{type=Bearer access=[REDACTED] expiry=2030-01-01T12:15:00Z}
}

// Through a Manager, the token is cached and a new one is minted as the
// old one nears expiry.
func ExampleNew_manager() {
	clock := coretest.NewFakeClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{jwt.New(jwt.Options{Clock: clock, Lifetime: 10 * time.Minute})},
		Clock:      clock,
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	ctx := context.Background()
	c, _ := jwt.NewCredentials(jwt.Section{Issuer: "svc", SigningMethod: "HS256", PrivateKey: "a shared secret of at least 32 bytes!"})
	if err := m.SetCredentials(ctx, "reports-api", c); err != nil {
		panic(err)
	}
	first, _ := m.Token(ctx, "reports-api")
	clock.Advance(time.Minute)
	cached, _ := m.Token(ctx, "reports-api")
	clock.Advance(10 * time.Minute)
	renewed, _ := m.Token(ctx, "reports-api")

	fmt.Println("cached:", cached == first)
	fmt.Println("renewed:", renewed.AccessToken != first.AccessToken, renewed.Expiry.Format(time.TimeOnly))
	// Output:
	// cached: true
	// renewed: true 12:21:00
}
