package gcpsa_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
	"github.com/plexusone/omnitoken/strategytest"
)

func TestConformance(t *testing.T) {
	ts := newTokenServer(t)
	strategytest.RunConformance(t, strategytest.Harness{
		NewStrategy: func(*testing.T) core.Strategy {
			return gcpsa.New(gcpsa.Options{HTTPClient: ts.Client()})
		},
		Credentials: func(t *testing.T) *core.Credentials { return newCreds(t, ts.tokenURL()) },
		Invalid: func(t *testing.T) []*core.Credentials {
			var out []*core.Credentials
			for _, edit := range []func(*gcpsa.ServiceAccount){
				func(sa *gcpsa.ServiceAccount) { sa.PrivateKey = canary },
				func(sa *gcpsa.ServiceAccount) { sa.ClientEmail = "" },
				func(sa *gcpsa.ServiceAccount) { sa.Type = "authorized_user" },
				func(sa *gcpsa.ServiceAccount) { sa.TokenURI = "ftp://example.com/token" },
			} {
				var sa gcpsa.ServiceAccount
				if err := json.Unmarshal(saJSON(t, ts.tokenURL()), &sa); err != nil {
					t.Fatal(err)
				}
				edit(&sa)
				c := &core.Credentials{Type: gcpsa.Type}
				if err := c.SetSection(gcpsa.Type, gcpsa.Section{GCPCredentials: sa, Scopes: []string{scopeA}}); err != nil {
					t.Fatal(err)
				}
				out = append(out, c)
			}
			return out
		},
		// The canary is in an invalid credential's key; a line of the real
		// key's PEM body is in every valid one.
		Secrets: func(t *testing.T) []string { return []string{canary, strings.Split(pkcs8PEM(t, key(t)), "\n")[2]} },
		// The resource server accepts exactly the tokens the token server issued.
		CheckRequest: func(r *http.Request) error {
			access, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if !ok || !ts.hasIssued(access) {
				return errors.New("not a token the token server issued")
			}
			return nil
		},
		Expiring:       true,
		HonoursContext: true,
	})
}
