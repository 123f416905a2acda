package jwt_test

import (
	"crypto/elliptic"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/strategy/jwt"
	"github.com/plexusone/omnitoken/strategytest"
)

func TestConformance(t *testing.T) {
	keys(t)
	clock := coretest.NewFakeClock(t0)
	for _, tc := range []struct {
		method string
		key    string // the privateKey field
		verify any
	}{
		{"HS256", canary + strings.Repeat("s", 32), []byte(canary + strings.Repeat("s", 32))},
		{"ES256", sec1(t, ecKeys[elliptic.P256()]), &ecKeys[elliptic.P256()].PublicKey},
	} {
		t.Run(tc.method, func(t *testing.T) {
			strategytest.RunConformance(t, strategytest.Harness{
				NewStrategy: func(*testing.T) core.Strategy { return jwt.New(jwt.Options{Clock: clock}) },
				Credentials: func(t *testing.T) *core.Credentials {
					return creds(t, jwt.Section{Issuer: "svc-a", SigningMethod: tc.method, PrivateKey: tc.key},
						url.Values{"audience": {"https://api.example.com"}, "claim.role": {"reader"}})
				},
				Invalid: func(t *testing.T) []*core.Credentials {
					var out []*core.Credentials
					for _, sec := range []jwt.Section{
						{SigningMethod: "RS256", PrivateKey: canary},
						{SigningMethod: "ES256", PrivateKey: canaryPEM("EC PRIVATE KEY")},
						{SigningMethod: "none", PrivateKey: canary},
						{PrivateKey: canary},
					} {
						c := &core.Credentials{Type: jwt.Type}
						if err := c.SetSection(jwt.Type, sec); err != nil {
							t.Fatal(err)
						}
						out = append(out, c)
					}
					return out
				},
				Secrets: func(*testing.T) []string { return []string{canary} },
				CheckRequest: func(r *http.Request) error {
					raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
					if !ok {
						return errors.New("no bearer token")
					}
					claims := gojwt.MapClaims{}
					_, err := gojwt.ParseWithClaims(raw, claims, func(*gojwt.Token) (any, error) { return tc.verify, nil },
						gojwt.WithValidMethods([]string{tc.method}),
						gojwt.WithTimeFunc(clock.Now),
						gojwt.WithIssuer("svc-a"),
						gojwt.WithAudience("https://api.example.com"),
						gojwt.WithExpirationRequired())
					if err != nil {
						return err
					}
					if claims["role"] != "reader" {
						return errors.New("role claim missing")
					}
					return nil
				},
				Expiring:       true,
				HonoursContext: true,
				Clock:          clock,
			})
		})
	}
}
