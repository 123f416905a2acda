package oauth2_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

// TestExchangeAndDeviceErrorsRedacted: the grants outside the table of
// TestErrorDescriptionRedactedOnEveryStatus, the authorization-code
// exchange (code, PKCE verifier, client secret) and the device flow
// (client secret, device code), never carry an echoed secret into the
// error or the log either, with the OAuth error sent with 200 or 400.
func TestExchangeAndDeviceErrorsRedacted(t *testing.T) {
	const (
		secret   = "CANARY-client-secret-77aa"
		code     = "CANARY-auth-code-0b1c"
		verifier = "CANARY-verifier-verifier-verifier-verifier-9f"
		devCode  = "CANARY-device-code-5e6f"
	)
	for _, status := range []int{200, 400} {
		p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
			if strings.HasSuffix(r.URL.Path, "/device") {
				writeJSON(w, 200, map[string]any{"device_code": devCode, "user_code": "ABCD", "verification_uri": "https://idp.example/d", "interval": 1})
				return
			}
			echo := strings.Join([]string{form.Get("code"), form.Get("code_verifier"), form.Get("client_secret"), form.Get("device_code"), r.Header.Get("Authorization")}, " ")
			writeJSON(w, status, map[string]string{"error": "invalid_grant", "error_description": "bad " + echo})
		})
		clock := coretest.NewFakeClock(time.Now())
		log, buf := coretest.DebugLogger()
		for _, post := range []bool{false, true} {
			meta := map[string]string{}
			if post {
				meta[oauth2.MetaTokenEndpointAuthMethod] = oauth2.AuthClientSecretPost
			}
			s := newStrategy(oauth2.Options{Clock: clock})
			web := creds(t, oauth2.Section{ClientID: "web", ClientSecret: secret, GrantType: "authorization_code", PKCE: true,
				RedirectURL: "https://app.example/cb", Metadata: meta, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL(), AuthURL: p.srv.URL + "/auth"}})
			m, _ := newManager(t, s, core.Options{Logger: log, MaxAttempts: 1, Clock: clock}, "web", web)
			err := s.Exchange(context.Background(), m, "web", code, verifier)
			if err == nil {
				t.Fatal("Exchange: no error")
			}
			dev := creds(t, oauth2.Section{ClientID: "tv", ClientSecret: secret, GrantType: "device_code", Metadata: meta,
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL(), DeviceAuthURL: p.srv.URL + "/device"}})
			md, _ := newManager(t, s, core.Options{Logger: log, MaxAttempts: 1, Clock: clock}, "tv", dev)
			_, derr := md.Token(context.Background(), "tv") // the device code is pending
			clock.Advance(2 * time.Second)
			_, derr2 := md.Token(context.Background(), "tv") // the poll fails
			if derr2 == nil {
				t.Fatal("device poll: no error")
			}
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%#v", err), fmt.Sprint(derr), fmt.Sprint(derr2), fmt.Sprintf("%#v", derr2), buf.String()}, "\n")
			if !strings.Contains(err.Error(), "bad [REDACTED] [REDACTED]") || !strings.Contains(derr2.Error(), "bad ") || !strings.Contains(derr2.Error(), "[REDACTED]") {
				t.Fatalf("status %d, post %v: the echo did not come back redacted: %v; %v", status, post, err, derr2)
			}
			for _, leak := range []string{"CANARY", url.QueryEscape(verifier)} {
				if strings.Contains(out, leak) {
					t.Fatalf("status %d, post %v: %q leaked:\n%s", status, post, leak, out)
				}
			}
		}
	}
}
