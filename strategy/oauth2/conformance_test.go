package oauth2_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/plexusone/omnitoken/strategytest"
	xoauth2 "golang.org/x/oauth2"
)

const (
	confSecret   = "CANARY-conformance-client-secret"
	confPassword = "CANARY-conformance-password"
)

// confIdP issues tokens for the conformance suite and remembers them, so
// the suite's resource server accepts exactly those.
type confIdP struct {
	*idp
	mu     sync.Mutex
	n      int
	issued map[string]bool
	rts    map[string]bool
}

func newConfIdP(t testing.TB) *confIdP {
	p := &confIdP{issued: map[string]bool{}, rts: map[string]bool{}}
	p.idp = newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if id, secret, ok := r.BasicAuth(); !ok || id != "conf" || secret != confSecret {
			oauthError(w, 401, "invalid_client", "")
			return
		}
		withRT := false
		switch form.Get("grant_type") {
		case "client_credentials":
		case "password":
			if form.Get("username") != "alice" || form.Get("password") != confPassword {
				oauthError(w, 400, "invalid_grant", "")
				return
			}
			withRT = true
		case "refresh_token":
			if !p.rts[form.Get("refresh_token")] {
				oauthError(w, 400, "invalid_grant", "")
				return
			}
			withRT = true
		default:
			oauthError(w, 400, "unsupported_grant_type", "")
			return
		}
		p.n++
		resp := map[string]any{"access_token": fmt.Sprintf("conf-access-token-%d", p.n), "token_type": "Bearer", "expires_in": 3600}
		p.issued[resp["access_token"].(string)] = true
		if withRT {
			rt := fmt.Sprintf("conf-refresh-token-%d", p.n)
			p.rts[rt] = true
			resp["refresh_token"] = rt
		}
		writeJSON(w, 200, resp)
	})
	return p
}

func (p *confIdP) check(r *http.Request) error {
	at, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	p.mu.Lock()
	defer p.mu.Unlock()
	if !ok || !p.issued[at] {
		return errors.New("not a token the token server issued")
	}
	return nil
}

func TestConformance(t *testing.T) {
	p := newConfIdP(t)
	section := func(grant string) oauth2.Section {
		return oauth2.Section{ClientID: "conf", ClientSecret: confSecret, GrantType: grant,
			Username: "alice", Password: confPassword, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}}
	}
	invalid := func(t *testing.T) []*core.Credentials {
		noSecret := section("client_credentials")
		noSecret.ClientSecret = ""
		badGrant := section("implicit")
		insecureURL := section("client_credentials")
		insecureURL.Endpoint.TokenURL = "ftp://127.0.0.1/token"
		badKey := section("client_credentials")
		badKey.Metadata = map[string]string{oauth2.MetaTokenEndpointAuthMethod: "private_key_jwt", oauth2.MetaPrivateKey: confSecret}
		noPassword := section("password")
		noPassword.Password = ""
		return []*core.Credentials{creds(t, noSecret), creds(t, badGrant), creds(t, insecureURL), creds(t, badKey), creds(t, noPassword)}
	}
	for _, grant := range []string{"client_credentials", "password"} {
		t.Run(grant, func(t *testing.T) {
			strategytest.RunConformance(t, strategytest.Harness{
				NewStrategy:    func(*testing.T) core.Strategy { return newStrategy(oauth2.Options{}) },
				Credentials:    func(t *testing.T) *core.Credentials { return creds(t, section(grant)) },
				Invalid:        invalid,
				Secrets:        func(*testing.T) []string { return []string{confSecret, confPassword} },
				CheckRequest:   p.check,
				Expiring:       true,
				Refreshable:    grant == "password",
				HonoursContext: true,
			})
		})
	}
}
