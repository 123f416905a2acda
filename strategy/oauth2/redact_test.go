package oauth2_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

// TestErrorDescriptionRedactedOnEveryStatus: a token endpoint that echoes
// a secret of the request in its OAuth error never gets it into the
// returned error or into any log line of the Manager, whatever the HTTP
// status (an OAuth error sent with 200 included), the body's encoding,
// the grant, or the client authentication. Every grant that posts a
// secret is covered: password, jwt-bearer (a static assertion and one
// signed from a key), token exchange (subject and actor tokens),
// account_credentials, client_credentials, refresh, and the client
// assertion of private_key_jwt.
func TestErrorDescriptionRedactedOnEveryStatus(t *testing.T) {
	const (
		password = "CANARY-pw/with+escapes=1"
		secret   = "CANARY-client-secret-9d1e"
		jwtField = "CANARY-static.jwt-assertion.sig"
		subject  = "CANARY-subject-token-51aa"
		actor    = "CANARY-actor-token-77c0"
		refresh  = "CANARY-refresh-token-a3f4"
	)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := pemKey(t, ecKey)

	// The token URL's path says what to answer: /token/STATUS/FORMAT/FIELD
	// echoes the request's FIELD (a form parameter, or "authorization")
	// at the start of error_description, with STATUS, as JSON or as a
	// form-encoded body.
	var mu sync.Mutex
	var echoed []string
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/token/"), "/")
		if len(parts) != 3 {
			http.Error(w, "bad path", http.StatusNotFound)
			return
		}
		status, format, field := parts[0], parts[1], parts[2]
		v := form.Get(field)
		if field == "authorization" {
			v = strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
		}
		mu.Lock()
		echoed = append(echoed, v)
		mu.Unlock()
		code := 400
		_, _ = fmt.Sscan(status, &code)
		body := url.Values{"error": {"invalid_grant"}, "error_description": {"bad " + field + " " + v}}
		if format == "form" {
			w.Header().Set("Content-Type", "application/x-www-form-urlencoded")
			w.WriteHeader(code)
			_, _ = io.WriteString(w, body.Encode())
			return
		}
		writeJSON(w, code, map[string]string{"error": body.Get("error"), "error_description": body.Get("error_description")})
	})

	expired := func() *core.Token {
		return &core.Token{AccessToken: "old", RefreshToken: refresh, Expiry: time.Now().Add(-time.Minute)}
	}
	for _, tc := range []struct {
		name  string
		field string // what the server echoes
		sec   oauth2.Section
		prev  *core.Token
	}{
		{"password basic", "password", oauth2.Section{GrantType: "password", ClientID: "c", ClientSecret: secret, Username: "bob", Password: password}, nil},
		{"password post", "password", oauth2.Section{GrantType: "password", ClientID: "c", ClientSecret: secret, Username: "bob", Password: password,
			Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretPost}}, nil},
		{"password public client", "password", oauth2.Section{GrantType: "password", ClientID: "c", Username: "bob", Password: password}, nil},
		{"password private_key_jwt", "client_assertion", oauth2.Section{GrantType: "password", ClientID: "c", Username: "bob", Password: password,
			Metadata: map[string]string{oauth2.MetaPrivateKey: key}}, nil},
		{"jwt-bearer static assertion", "assertion", oauth2.Section{GrantType: "jwt-bearer", ClientID: "c", JWT: jwtField}, nil},
		{"jwt-bearer signed assertion", "assertion", oauth2.Section{GrantType: "jwt-bearer", ClientID: "c",
			Metadata: map[string]string{oauth2.MetaPrivateKey: key, oauth2.MetaAssertionIssuer: "svc"}}, nil},
		{"token exchange subject", "subject_token", oauth2.Section{GrantType: "token-exchange", ClientID: "c", ClientSecret: secret,
			Metadata: map[string]string{oauth2.MetaSubjectToken: subject, oauth2.MetaActorToken: actor}}, nil},
		{"token exchange actor", "actor_token", oauth2.Section{GrantType: "token-exchange", ClientID: "c", ClientSecret: secret,
			TokenBodyOpts: url.Values{"subject_token": {subject}, "actor_token": {actor}}}, nil},
		{"account_credentials post", "client_secret", oauth2.Section{GrantType: "account_credentials", ClientID: "c", ClientSecret: secret,
			TokenBodyOpts: url.Values{"account_id": {"acct"}}, Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretPost}}, nil},
		{"account_credentials basic", "authorization", oauth2.Section{GrantType: "account_credentials", ClientID: "c", ClientSecret: secret}, nil},
		{"client_credentials basic", "authorization", oauth2.Section{GrantType: "client_credentials", ClientID: "c", ClientSecret: secret}, nil},
		{"client_credentials post", "client_secret", oauth2.Section{GrantType: "client_credentials", ClientID: "c", ClientSecret: secret,
			Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretPost}}, nil},
		{"client_credentials private_key_jwt", "client_assertion", oauth2.Section{GrantType: "client_credentials", ClientID: "c",
			Metadata: map[string]string{oauth2.MetaPrivateKey: key}}, nil},
		{"client_credentials client_secret_jwt", "client_assertion", oauth2.Section{GrantType: "client_credentials", ClientID: "c", ClientSecret: secret,
			Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretJWT}}, nil},
		{"refresh basic", "refresh_token", oauth2.Section{GrantType: "authorization_code", ClientID: "c", ClientSecret: secret}, expired()},
		{"refresh public client", "refresh_token", oauth2.Section{GrantType: "authorization_code", ClientID: "c"}, expired()},
		{"refresh private_key_jwt", "client_assertion", oauth2.Section{GrantType: "authorization_code", ClientID: "c",
			Metadata: map[string]string{oauth2.MetaPrivateKey: key}}, expired()},
	} {
		for _, status := range []int{200, 400, 401, 500} {
			for _, format := range []string{"json", "form"} {
				t.Run(fmt.Sprintf("%s %d %s", tc.name, status, format), func(t *testing.T) {
					mu.Lock()
					echoed = nil
					mu.Unlock()
					sec := tc.sec
					sec.Endpoint = xoauth2.Endpoint{TokenURL: fmt.Sprintf("%s/token/%d/%s/%s", p.srv.URL, status, format, tc.field)}
					log, buf := coretest.DebugLogger()
					m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{Logger: log, MaxAttempts: 1}, "leak", creds(t, sec))
					ctx := context.Background()
					if tc.prev != nil {
						if err := m.PutToken(ctx, "leak", tc.prev); err != nil {
							t.Fatal(err)
						}
					}
					_, err := m.Token(ctx, "leak")
					if err == nil {
						t.Fatal("no error")
					}
					mu.Lock()
					sent := append([]string(nil), echoed...)
					mu.Unlock()
					if len(sent) == 0 || len(sent[0]) < 16 {
						t.Fatalf("the server echoed %q; want a request carrying the secret in %s", sent, tc.field)
					}
					out := strings.Join([]string{err.Error(), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), buf.String()}, "\n")
					var oe *core.OAuthError
					if !errors.As(err, &oe) {
						t.Fatalf("err = %v, want a *core.OAuthError", err)
					}
					out += fmt.Sprintf("\n%#v", *oe)
					if oe.StatusCode != status || oe.Code != "invalid_grant" {
						t.Fatalf("OAuthError status %d code %q, want %d invalid_grant", oe.StatusCode, oe.Code, status)
					}
					if !strings.Contains(oe.Description, "bad "+tc.field) {
						t.Fatalf("the description lost its text: %q", oe.Description)
					}
					leaks := []string{"CANARY", url.QueryEscape(password)}
					for _, s := range sent {
						leaks = append(leaks, s, s[:16], s[len(s)-16:])
					}
					for _, leak := range leaks {
						if strings.Contains(out, leak) {
							t.Fatalf("%q of what was sent leaked:\n%s", leak, out)
						}
					}
					if !strings.Contains(buf.String(), "[REDACTED]") {
						t.Fatalf("the log did not record the failure with the secret redacted:\n%s", buf.String())
					}
				})
			}
		}
	}
}

// TestPasswordAndRefreshOnePath: the password and refresh grants send one
// request shape whatever the client authentication (Basic, form, none or
// a client assertion) and whatever TokenBodyOpts holds: it asks for JSON,
// keeps or rotates the refresh token, and maps an error to
// *core.OAuthError with its Retry-After.
func TestPasswordAndRefreshOnePath(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	key := pemKey(t, ecKey)
	var mu sync.Mutex
	var accept []string
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		mu.Lock()
		accept = append(accept, r.Header.Get("Accept"))
		mu.Unlock()
		switch {
		case strings.HasSuffix(r.URL.Path, "/busy"):
			w.Header().Set("Retry-After", "7")
			oauthError(w, http.StatusTooManyRequests, "slow_down", "busy")
		case form.Get("grant_type") == "password" && form.Get("password") == "pw":
			writeJSON(w, 200, map[string]any{"access_token": "at-pw", "refresh_token": "rt-1", "expires_in": 60})
		case form.Get("grant_type") == "refresh_token" && form.Get("refresh_token") == "rt-1":
			writeJSON(w, 200, map[string]any{"access_token": "at-kept", "expires_in": 60})
		case form.Get("grant_type") == "refresh_token" && form.Get("refresh_token") == "rt-rotate":
			writeJSON(w, 200, map[string]any{"access_token": "at-rotated", "refresh_token": "rt-2", "expires_in": 60})
		default:
			oauthError(w, 400, "invalid_request", "unexpected request")
		}
	})
	methods := map[string]oauth2.Section{
		"basic":           {ClientID: "c", ClientSecret: "cs"},
		"post":            {ClientID: "c", ClientSecret: "cs", Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretPost}},
		"none":            {ClientID: "c"},
		"private_key_jwt": {ClientID: "c", Metadata: map[string]string{oauth2.MetaPrivateKey: key}},
		"basic with opts": {ClientID: "c", ClientSecret: "cs", TokenBodyOpts: url.Values{"resource": {"api"}}},
	}
	for name, base := range methods {
		t.Run(name, func(t *testing.T) {
			mu.Lock()
			accept = nil
			mu.Unlock()
			s := newStrategy(oauth2.Options{})
			ctx := context.Background()
			pw := base
			pw.GrantType, pw.Username, pw.Password = "password", "bob", "pw"
			pw.Endpoint = xoauth2.Endpoint{TokenURL: p.tokenURL()}
			tok, err := s.Token(ctx, creds(t, pw), nil)
			if err != nil || tok.AccessToken != "at-pw" {
				t.Fatalf("password: %v, %v", tok, err)
			}
			tok, err = s.Token(ctx, creds(t, pw), &core.Token{RefreshToken: "rt-1"})
			if err != nil || tok.AccessToken != "at-kept" || tok.RefreshToken != "rt-1" {
				t.Fatalf("refresh without rotation: %+v, %v", tok, err)
			}
			tok, err = s.Token(ctx, creds(t, pw), &core.Token{RefreshToken: "rt-rotate"})
			if err != nil || tok.AccessToken != "at-rotated" || tok.RefreshToken != "rt-2" {
				t.Fatalf("refresh with rotation: %+v, %v", tok, err)
			}
			busy := pw
			busy.Endpoint = xoauth2.Endpoint{TokenURL: p.srv.URL + "/busy"}
			for _, prev := range []*core.Token{nil, {RefreshToken: "rt-1"}} {
				_, err = s.Token(ctx, creds(t, busy), prev)
				var oe *core.OAuthError
				if !errors.As(err, &oe) || oe.Code != "slow_down" || oe.Retry != 7*time.Second {
					t.Fatalf("429 (prev %v): %v, want OAuthError slow_down with Retry-After 7s", prev, err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			for i, a := range accept {
				if a != "application/json" {
					t.Fatalf("request %d of 5 sent Accept %q; every request takes one path, which asks for JSON", i+1, a)
				}
			}
		})
	}
}
