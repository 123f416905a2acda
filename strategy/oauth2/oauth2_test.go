package oauth2_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/grokify/goauth/endpoints"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

func TestClientCredentialsBasicAndPost(t *testing.T) {
	for _, tc := range []struct {
		name   string
		method string
		style  xoauth2.AuthStyle
	}{
		{"basic by metadata", oauth2.AuthClientSecretBasic, 0},
		{"basic by default", "", 0},
		{"basic by AuthStyle", "", xoauth2.AuthStyleInHeader},
		{"post by metadata", oauth2.AuthClientSecretPost, 0},
		{"post by AuthStyle", "", xoauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantPost := tc.method == oauth2.AuthClientSecretPost || tc.style == xoauth2.AuthStyleInParams
			p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				id, secret, basic := r.BasicAuth()
				switch {
				case form.Get("grant_type") != "client_credentials":
					oauthError(w, 400, "unsupported_grant_type", "")
				case form.Get("scope") != "read write" || form.Get("extra") != "x":
					oauthError(w, 400, "invalid_request", "scope or extra param missing")
				case wantPost && (basic || form.Get("client_id") != "cid" || form.Get("client_secret") != "csecret"):
					oauthError(w, 401, "invalid_client", "want client_secret_post")
				case !wantPost && (!basic || id != "cid" || secret != "csecret" || form.Has("client_secret")):
					oauthError(w, 401, "invalid_client", "want client_secret_basic")
				default:
					writeJSON(w, 200, map[string]any{"access_token": "cc-token", "token_type": "bearer", "expires_in": 3600})
				}
			})
			sec := oauth2.Section{
				ClientID: "cid", ClientSecret: "csecret", GrantType: "client_credentials",
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL(), AuthStyle: tc.style},
				Scopes:   []string{"read", "write"}, TokenBodyOpts: url.Values{"extra": {"x"}},
			}
			if tc.method != "" {
				sec.Metadata = map[string]string{oauth2.MetaTokenEndpointAuthMethod: tc.method}
			}
			m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "cc", creds(t, sec))
			tok, err := m.Token(context.Background(), "cc")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "cc-token" || tok.Type() != "Bearer" || tok.Expiry.IsZero() {
				t.Fatalf("token = %v", tok)
			}
			if got := p.hits.Load(); got != 1 {
				t.Fatalf("token requests = %d, want 1", got)
			}
		})
	}
}

func pemKey(t testing.TB, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// assertionChecker verifies RFC 7523 client assertions like a server.
type assertionChecker struct {
	pub      crypto.PublicKey
	alg      string
	clientID string
	aud      string
	now      func() time.Time

	mu   sync.Mutex
	jtis map[string]bool
}

func (a *assertionChecker) check(form url.Values) error {
	if form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return errors.New("wrong client_assertion_type")
	}
	if form.Has("client_secret") {
		return errors.New("client_secret sent with private_key_jwt")
	}
	claims := gojwt.MapClaims{}
	_, err := gojwt.ParseWithClaims(form.Get("client_assertion"), claims, func(tk *gojwt.Token) (any, error) {
		if tk.Header["kid"] != "k1" {
			return nil, errors.New("wrong kid")
		}
		return a.pub, nil
	}, gojwt.WithValidMethods([]string{a.alg}), gojwt.WithTimeFunc(a.now), gojwt.WithExpirationRequired(),
		gojwt.WithIssuer(a.clientID), gojwt.WithSubject(a.clientID), gojwt.WithAudience(a.aud), gojwt.WithIssuedAt())
	if err != nil {
		return fmt.Errorf("assertion rejected: %w", err)
	}
	exp, _ := claims.GetExpirationTime()
	iat, _ := claims.GetIssuedAt()
	if exp.Sub(iat.Time) > 5*time.Minute {
		return errors.New("assertion lives too long")
	}
	jti, _ := claims["jti"].(string)
	a.mu.Lock()
	defer a.mu.Unlock()
	if jti == "" || a.jtis[jti] {
		return errors.New("jti missing or reused")
	}
	a.jtis[jti] = true
	return nil
}

func TestPrivateKeyJWT(t *testing.T) {
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		alg string
		key crypto.Signer
	}{{"RS256", rsaKey}, {"ES256", ecKey}} {
		t.Run(tc.alg, func(t *testing.T) {
			clock := coretest.NewFakeClock(time.Now())
			chk := &assertionChecker{pub: tc.key.Public(), alg: tc.alg, clientID: "pkj-client", now: clock.Now, jtis: map[string]bool{}}
			var n atomic.Int64
			p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				if _, _, ok := r.BasicAuth(); ok {
					oauthError(w, 400, "invalid_request", "basic auth sent")
					return
				}
				if err := chk.check(form); err != nil {
					oauthError(w, 401, "invalid_client", err.Error())
					return
				}
				i := n.Add(1)
				switch form.Get("grant_type") {
				case "client_credentials":
				case "refresh_token":
					if form.Get("refresh_token") != fmt.Sprintf("rt-%d", i-1) {
						oauthError(w, 400, "invalid_grant", "wrong refresh token")
						return
					}
				default:
					oauthError(w, 400, "unsupported_grant_type", "")
					return
				}
				writeJSON(w, 200, map[string]any{"access_token": fmt.Sprintf("at-%d", i), "refresh_token": fmt.Sprintf("rt-%d", i), "expires_in": 60})
			})
			chk.aud = p.tokenURL()
			c := creds(t, oauth2.Section{
				ClientID: "pkj-client", GrantType: "client_credentials",
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()},
				Metadata: map[string]string{
					oauth2.MetaTokenEndpointAuthMethod: "private_key_jwt",
					oauth2.MetaPrivateKey:              pemKey(t, tc.key),
					oauth2.MetaKeyID:                   "k1",
				},
			})
			m, _ := newManager(t, newStrategy(oauth2.Options{Clock: clock}), core.Options{Clock: clock}, "pkj", c)
			ctx := context.Background()
			tok, err := m.Token(ctx, "pkj") // client_credentials through x/oauth2
			if err != nil {
				t.Fatal(err)
			}
			tok2, err := m.Refresh(ctx, "pkj") // refresh, written by hand
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "at-1" || tok2.AccessToken != "at-2" || tok2.RefreshToken != "rt-2" {
				t.Fatalf("tokens = %v, %v", tok, tok2)
			}
			if len(chk.jtis) != 2 {
				t.Fatalf("distinct jtis = %d, want 2", len(chk.jtis))
			}
		})
	}
}

func TestPasswordGrant(t *testing.T) {
	for _, extra := range []url.Values{nil, {"tenant": {"t1"}}} {
		t.Run(fmt.Sprintf("bodyOpts=%d", len(extra)), func(t *testing.T) {
			p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
				id, secret, ok := r.BasicAuth()
				switch {
				case !ok || id != "app" || secret != "app-secret":
					oauthError(w, 401, "invalid_client", "")
				case form.Get("grant_type") != "password" || form.Get("username") != "alice" || form.Get("password") != "pw":
					oauthError(w, 400, "invalid_grant", "bad user")
				case form.Get("tenant") != extra.Get("tenant"):
					oauthError(w, 400, "invalid_request", "tenant")
				default:
					writeJSON(w, 200, map[string]any{"access_token": "pw-token", "refresh_token": "pw-rt", "expires_in": 60})
				}
			})
			c := creds(t, oauth2.Section{
				ClientID: "app", ClientSecret: "app-secret", GrantType: "password",
				Username: "alice", Password: "pw", TokenBodyOpts: extra,
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()},
			})
			tok, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "pw-token" || tok.RefreshToken != "pw-rt" {
				t.Fatalf("token = %v", tok)
			}
		})
	}
}

func TestAccountCredentials(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		id, secret, ok := r.BasicAuth()
		switch {
		case !ok || id != "zoom-id" || secret != "zoom-secret":
			oauthError(w, 401, "invalid_client", "")
		case form.Get("grant_type") != "account_credentials" || form.Get("account_id") != "acct-7":
			oauthError(w, 400, "invalid_request", "")
		default:
			writeJSON(w, 200, map[string]any{"access_token": "zoom-token", "token_type": "bearer", "expires_in": 3599})
		}
	})
	c := creds(t, oauth2.Section{
		ClientID: "zoom-id", ClientSecret: "zoom-secret", GrantType: "account_credentials",
		TokenBodyOpts: url.Values{"account_id": {"acct-7"}, "grant_type": {"hijack"}},
		Endpoint:      xoauth2.Endpoint{TokenURL: p.tokenURL()},
	})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "zoom", c)
	tok, err := m.Token(context.Background(), "zoom")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "zoom-token" {
		t.Fatalf("token = %v", tok)
	}
}

func TestRefreshRotation(t *testing.T) {
	clock := coretest.NewFakeClock(time.Now())
	p := newRotIdP(t, 60, true)
	p.now = clock.Now
	c := creds(t, oauth2.Section{
		ClientID: "web", ClientSecret: "web-secret", GrantType: "authorization_code", PKCE: true,
		RedirectURL: "https://app.example/cb",
		Endpoint:    xoauth2.Endpoint{AuthURL: p.srv.URL + "/authorize", TokenURL: p.tokenURL()},
	})
	s := newStrategy(oauth2.Options{Clock: clock})
	m, store := newManager(t, s, core.Options{Clock: clock}, "web", c)
	ctx := context.Background()

	// No token yet: a person must authorize.
	if _, err := m.Token(ctx, "web"); !errors.Is(err, core.ErrReauthRequired) {
		t.Fatalf("Token before authorization = %v, want ErrReauthRequired", err)
	}
	verifier := xoauth2.GenerateVerifier()
	authURL, err := s.AuthCodeURL(ctx, m, "web", "st", verifier)
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(authURL)
	if u.Query().Get("code_challenge_method") != "S256" || u.Query().Get("state") != "st" {
		t.Fatalf("auth URL lacks PKCE or state: %s", authURL)
	}
	p.challenge = u.Query().Get("code_challenge")
	if err := s.Exchange(ctx, m, "web", "good-code", "wrong-verifier-wrong-verifier-wrong-verifier"); err == nil {
		t.Fatal("exchange with a wrong PKCE verifier succeeded")
	}
	if err := s.Exchange(ctx, m, "web", "good-code", verifier); err != nil {
		t.Fatal(err)
	}
	stored := func() *core.StoredToken {
		t.Helper()
		tok, err := store.GetToken(ctx, "web")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if rt := stored().RefreshToken; rt != "rt-1" {
		t.Fatalf("stored refresh token after exchange = %q", rt)
	}
	for i, want := range []string{"rt-2", "rt-3", "rt-4"} {
		clock.Advance(61 * time.Second)
		tok, err := m.Token(ctx, "web")
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		if tok.RefreshToken != want || stored().RefreshToken != want {
			t.Fatalf("refresh %d: token has %q, store has %q, want %q", i, tok.RefreshToken, stored().RefreshToken, want)
		}
		if !p.valid(tok.AccessToken) {
			t.Fatalf("refresh %d: access token not valid at the IdP", i)
		}
	}
	sent, reused := p.snapshot()
	if reused != 0 || strings.Join(sent, ",") != "rt-1,rt-2,rt-3" {
		t.Fatalf("refresh tokens sent = %v (reused %d), want each once: rt-1,rt-2,rt-3", sent, reused)
	}
}

func TestRefreshWithoutNewRefreshTokenKeepsOld(t *testing.T) {
	clock := coretest.NewFakeClock(time.Now())
	p := newRotIdP(t, 60, false)
	p.now = clock.Now
	p.live["rt-0"] = true
	c := creds(t, oauth2.Section{
		ClientID: "web", ClientSecret: "web-secret", GrantType: "authorization_code",
		Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()},
	})
	m, store := newManager(t, newStrategy(oauth2.Options{Clock: clock}), core.Options{Clock: clock}, "web", c)
	ctx := context.Background()
	if err := m.PutToken(ctx, "web", &core.Token{AccessToken: "old", RefreshToken: "rt-0", Expiry: clock.Now().Add(-time.Second)}); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		tok, err := m.Token(ctx, "web")
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		st, _ := store.GetToken(ctx, "web")
		if tok.RefreshToken != "rt-0" || st.RefreshToken != "rt-0" {
			t.Fatalf("refresh %d: refresh token %q, stored %q; want rt-0 kept", i, tok.RefreshToken, st.RefreshToken)
		}
		clock.Advance(61 * time.Second)
	}
	if sent, _ := p.snapshot(); strings.Join(sent, ",") != "rt-0,rt-0" {
		t.Fatalf("sent = %v", sent)
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	clock := coretest.NewFakeClock(time.Now())
	var first atomic.Bool // set once the 503 has been served
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if first.CompareAndSwap(false, true) {
			w.Header().Set("Retry-After", "7")
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "busy")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "late-token", "expires_in": 60})
	})
	c := creds(t, oauth2.Section{ClientID: "cid", ClientSecret: "cs", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	s := newStrategy(oauth2.Options{Clock: clock})

	// The strategy itself reports a temporary error with Retry-After and
	// does not retry.
	_, err := s.Token(context.Background(), c, nil)
	if !core.IsTemporary(err) || core.RetryAfterOf(err) != 7*time.Second {
		t.Fatalf("err = %v: temporary %v, retry after %v; want temporary, 7s", err, core.IsTemporary(err), core.RetryAfterOf(err))
	}
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "temporarily_unavailable" || oe.StatusCode != 503 {
		t.Fatalf("err = %v, want OAuthError 503 temporarily_unavailable", err)
	}
	if p.hits.Load() != 1 {
		t.Fatalf("strategy made %d requests, want 1", p.hits.Load())
	}

	// Through the Manager: the next attempt waits 7 s of fake time.
	first.Store(false)
	p.hits.Store(0)
	m, _ := newManager(t, s, core.Options{Clock: clock}, "ra", c)
	done := make(chan error, 1)
	go func() {
		tok, err := m.Token(context.Background(), "ra")
		if err == nil && tok.AccessToken != "late-token" {
			err = fmt.Errorf("token = %v", tok)
		}
		done <- err
	}()
	waitFor(t, "the Manager to back off", func() bool { return p.hits.Load() == 1 && clock.Sleepers() == 1 })
	clock.Advance(6900 * time.Millisecond)
	if clock.Sleepers() != 1 || p.hits.Load() != 1 {
		t.Fatalf("after 6.9 s: sleepers %d, requests %d; want the retry still waiting", clock.Sleepers(), p.hits.Load())
	}
	clock.Advance(100 * time.Millisecond)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if p.hits.Load() != 2 {
		t.Fatalf("requests = %d, want 2", p.hits.Load())
	}
}

func TestInvalidGrantIsFinal(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		oauthError(w, 400, "invalid_grant", "refresh token revoked")
	})
	c := creds(t, oauth2.Section{
		ClientID: "web", ClientSecret: "ws", GrantType: "authorization_code",
		Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()},
	})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "ig", c)
	ctx := context.Background()
	if err := m.PutToken(ctx, "ig", &core.Token{AccessToken: "a", RefreshToken: "dead-rt", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	_, err := m.Token(ctx, "ig")
	for _, target := range []error{core.ErrRefreshFailed, core.ErrTokenExpired, core.ErrReauthRequired} {
		if !errors.Is(err, target) {
			t.Errorf("err = %v; does not match %v", err, target)
		}
	}
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "invalid_grant" || oe.Description != "refresh token revoked" {
		t.Fatalf("err = %v, want OAuthError invalid_grant with description", err)
	}
	if !core.IsPermanent(err) || core.IsTemporary(err) {
		t.Fatalf("err = %v: permanent %v, temporary %v", err, core.IsPermanent(err), core.IsTemporary(err))
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("token requests = %d, want exactly 1", n)
	}
	if _, err := m.Token(ctx, "ig"); !errors.Is(err, core.ErrRefreshFailed) {
		t.Fatalf("second Token = %v", err)
	}
	if n := p.hits.Load(); n != 1 {
		t.Fatalf("token requests after a second Token = %d, want still 1", n)
	}
}

func TestInvalidClientOnRefresh(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		oauthError(w, 401, "invalid_client", "client disabled")
	})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	_, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, &core.Token{AccessToken: "a", RefreshToken: "rt"})
	if !errors.Is(err, core.ErrRefreshFailed) || !errors.Is(err, core.ErrTokenExpired) {
		t.Fatalf("err = %v, want ErrRefreshFailed and ErrTokenExpired", err)
	}
	if p.hits.Load() != 1 {
		t.Fatalf("requests = %d, want 1 (invalid_client is not retried by acquiring anew)", p.hits.Load())
	}
}

func TestInvalidGrantAcquiresAnewForUnattendedGrant(t *testing.T) {
	var grants []string
	var mu sync.Mutex
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		mu.Lock()
		grants = append(grants, form.Get("grant_type"))
		mu.Unlock()
		if form.Get("grant_type") == "refresh_token" {
			oauthError(w, 400, "invalid_grant", "")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "fresh", "expires_in": 60})
	})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "cc", c)
	ctx := context.Background()
	if err := m.PutToken(ctx, "cc", &core.Token{AccessToken: "a", RefreshToken: "dead", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctx, "cc")
	if err != nil || tok.AccessToken != "fresh" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if strings.Join(grants, ",") != "refresh_token,client_credentials" {
		t.Fatalf("grants = %v", grants)
	}
}

func TestCanaryNeverLeaks(t *testing.T) {
	const (
		secretCanary   = "CANARY-client-secret-7f3a9"
		passwordCanary = "CANARY-password-2b8e1"
		refreshCanary  = "CANARY-refresh-token-c4d2"
		keyID          = "canary-kid"
	)
	echo := func(w http.ResponseWriter, r *http.Request, form url.Values) {
		all := strings.Join([]string{form.Get("client_secret"), form.Get("password"), form.Get("refresh_token"), r.Header.Get("Authorization")}, " ")
		switch form.Get("mode") {
		case "text":
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(500)
			_, _ = io.WriteString(w, "internal error while handling "+all)
		case "code":
			writeJSON(w, 400, map[string]string{"error": secretCanary, "error_description": all, "error_uri": "https://idp/" + all})
		default:
			oauthError(w, 401, "invalid_client", "you sent "+all)
		}
	}
	p := newIdP(t, echo)
	for _, tc := range []struct {
		name  string
		grant string
		mode  string
		prev  *core.Token
	}{
		{"client_credentials json", "client_credentials", "json", nil},
		{"client_credentials text", "client_credentials", "text", nil},
		{"client_credentials code", "client_credentials", "code", nil},
		{"password by hand", "password", "json", nil},
		{"refresh", "client_credentials", "json", &core.Token{AccessToken: "x", RefreshToken: refreshCanary, Expiry: time.Now().Add(-time.Minute)}},
		{"refresh text", "client_credentials", "text", &core.Token{AccessToken: "x", RefreshToken: refreshCanary, Expiry: time.Now().Add(-time.Minute)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log, buf := coretest.DebugLogger()
			c := creds(t, oauth2.Section{
				ClientID: "cid", ClientSecret: secretCanary, GrantType: tc.grant,
				Username: "bob", Password: passwordCanary,
				TokenBodyOpts: url.Values{"mode": {tc.mode}},
				Endpoint:      xoauth2.Endpoint{TokenURL: p.tokenURL()},
				Metadata:      map[string]string{oauth2.MetaTokenEndpointAuthMethod: oauth2.AuthClientSecretPost},
			})
			m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{Logger: log, MaxAttempts: 1}, "leak", c)
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
			out := strings.Join([]string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err), buf.String()}, "\n")
			var oe *core.OAuthError
			if errors.As(err, &oe) {
				out += fmt.Sprintf("\n%#v", *oe)
			}
			for _, canary := range []string{secretCanary, passwordCanary, refreshCanary, "CANARY"} {
				if strings.Contains(out, canary) {
					t.Fatalf("canary %q leaked:\n%s", canary, out)
				}
			}
			if !strings.Contains(buf.String(), "refresh failed") {
				t.Fatalf("the debug log did not record the failure:\n%s", buf.String())
			}
		})
	}
}

func TestHugeBodyRefused(t *testing.T) {
	big := func(w http.ResponseWriter, r *http.Request, form url.Values) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"`)
		chunk := strings.Repeat("a", 64<<10)
		for range (10 << 20) / len(chunk) {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
		_, _ = io.WriteString(w, `"}`)
	}
	p := newIdP(t, big)
	for _, grant := range []string{"client_credentials", "account_credentials", "password", "refresh"} {
		t.Run(grant, func(t *testing.T) {
			ct := &coretest.BodyCountingTransport{}
			s := newStrategy(oauth2.Options{HTTPClient: &http.Client{Transport: ct}})
			var prev *core.Token
			sec := oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: grant, Username: "u", Password: "p", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}}
			if grant == "refresh" {
				sec.GrantType, prev = "authorization_code", &core.Token{RefreshToken: "rt"}
			}
			_, err := s.Token(context.Background(), creds(t, sec), prev)
			if err == nil {
				t.Fatal("a 10 MB token response was accepted")
			}
			if n := ct.Read(); n > tokenhttp.MaxBody+1 {
				t.Fatalf("read %d bytes, more than 1 MiB", n)
			}
			if strings.Contains(err.Error(), "aaaa") {
				t.Fatalf("error quotes the body: %.200v", err)
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token": "secret-at-123", "expires_in": `)
	})
	for _, grant := range []string{"client_credentials", "account_credentials"} {
		t.Run(grant, func(t *testing.T) {
			c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: grant, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
			_, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, nil)
			if err == nil {
				t.Fatal("malformed JSON accepted")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "oauth2: ") || !(strings.Contains(msg, "JSON") || strings.Contains(msg, "parsed")) {
				t.Fatalf("unclear error: %v", err)
			}
			if strings.Contains(msg, "secret-at-123") {
				t.Fatalf("error quotes the body: %v", err)
			}
		})
	}
}

func TestExpiresInClamped(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		raw  string
		want time.Duration // 0: no expiry
	}{
		{`"expires_in":3600`, time.Hour},
		{`"expires_in":"120"`, 2 * time.Minute},
		{`"expires_in":1000000000000`, tokenhttp.MaxTTL},
		{`"x":1`, 0},
	} {
		for _, grant := range []string{"client_credentials", "account_credentials"} {
			t.Run(grant+" "+tc.raw, func(t *testing.T) {
				p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
					w.Header().Set("Content-Type", "application/json")
					_, _ = io.WriteString(w, `{"access_token":"t",`+tc.raw+`}`)
				})
				c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: grant, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
				tok, err := newStrategy(oauth2.Options{Clock: coretest.NewFakeClock(now)}).Token(context.Background(), c, nil)
				if err != nil {
					t.Fatal(err)
				}
				var want time.Time
				if tc.want != 0 {
					want = now.Add(tc.want)
				}
				if !tok.Expiry.Equal(want) {
					t.Fatalf("expiry = %v, want %v", tok.Expiry, want)
				}
			})
		}
	}
}

// TestExpiredOnArrivalRefused: a token response whose expires_in is zero
// or negative carries a token that is expired on arrival. Every path to
// the token endpoint refuses it with tokenhttp.ErrExpiredOnArrival (which
// matches core.ErrTokenExpired) rather than serving it as valid for an
// hour: client_credentials and the code exchange by x/oauth2, and the
// hand-written password, refresh, jwt-bearer, token exchange,
// account_credentials and device grants. Through a Manager the error
// reaches the caller and no token is stored.
func TestExpiredOnArrivalRefused(t *testing.T) {
	for _, ei := range []string{`-100`, `0`, `"-100"`} {
		p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
			if strings.HasSuffix(r.URL.Path, "/device") {
				writeJSON(w, 200, map[string]any{"device_code": "dc", "user_code": "UC", "verification_uri": "https://idp.example/device", "interval": 1, "expires_in": 600})
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"access_token":"at-expired","refresh_token":"rt","expires_in":`+ei+`}`)
		})
		ep := xoauth2.Endpoint{TokenURL: p.tokenURL(), DeviceAuthURL: p.srv.URL + "/device"}
		for _, tc := range []struct {
			name string
			sec  oauth2.Section
			prev *core.Token
		}{
			{"client_credentials", oauth2.Section{GrantType: "client_credentials", ClientID: "c", ClientSecret: "s"}, nil},
			{"password", oauth2.Section{GrantType: "password", ClientID: "c", Username: "u", Password: "p"}, nil},
			{"refresh", oauth2.Section{GrantType: "authorization_code", ClientID: "c"}, &core.Token{RefreshToken: "rt"}},
			{"jwt-bearer", oauth2.Section{GrantType: "jwt-bearer", JWT: "a.b.c"}, nil},
			{"token exchange", oauth2.Section{GrantType: "token-exchange", Metadata: map[string]string{oauth2.MetaSubjectToken: "st"}}, nil},
			{"account_credentials", oauth2.Section{GrantType: "account_credentials", ClientID: "c", ClientSecret: "s"}, nil},
		} {
			t.Run(tc.name+" "+ei, func(t *testing.T) {
				sec := tc.sec
				sec.Endpoint = ep
				_, err := newStrategy(oauth2.Options{}).Token(context.Background(), creds(t, sec), tc.prev)
				if !errors.Is(err, tokenhttp.ErrExpiredOnArrival) || !errors.Is(err, core.ErrTokenExpired) {
					t.Fatalf("err = %v, want ErrExpiredOnArrival", err)
				}
				if tc.prev != nil {
					return
				}
				m, store := newManager(t, newStrategy(oauth2.Options{}), core.Options{MaxAttempts: 1}, "n", creds(t, sec))
				if _, err := m.Token(context.Background(), "n"); !errors.Is(err, tokenhttp.ErrExpiredOnArrival) {
					t.Fatalf("Manager.Token: %v, want ErrExpiredOnArrival", err)
				}
				if _, err := store.GetToken(context.Background(), "n"); !errors.Is(err, core.ErrTokenNotFound) {
					t.Fatalf("a token was stored: %v", err)
				}
			})
		}
		t.Run("code exchange "+ei, func(t *testing.T) {
			s := newStrategy(oauth2.Options{})
			c := creds(t, oauth2.Section{GrantType: "authorization_code", ClientID: "c", Endpoint: ep, RedirectURL: "http://127.0.0.1/cb"})
			m, _ := newManager(t, s, core.Options{}, "n", c)
			if err := s.Exchange(context.Background(), m, "n", "code", ""); !errors.Is(err, tokenhttp.ErrExpiredOnArrival) {
				t.Fatalf("Exchange = %v, want ErrExpiredOnArrival", err)
			}
		})
		t.Run("device "+ei, func(t *testing.T) {
			s := newStrategy(oauth2.Options{OnDeviceCode: func(context.Context, *core.ReauthRequiredError) error { return nil }})
			c := creds(t, oauth2.Section{GrantType: "device_code", ClientID: "c", Endpoint: ep})
			if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, tokenhttp.ErrExpiredOnArrival) {
				t.Fatalf("err = %v, want ErrExpiredOnArrival", err)
			}
		})
	}
}

func TestStampede(t *testing.T) {
	p := newRotIdP(t, 3600, true)
	p.live["rt-0"] = true
	var apiSeen sync.Map
	var rejected atomic.Int64
	api := newIdP(t, func(w http.ResponseWriter, r *http.Request, _ url.Values) {
		at := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		apiSeen.Store(at, true)
		if !p.valid(at) {
			rejected.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, "ok")
	})
	c := creds(t, oauth2.Section{ClientID: "web", ClientSecret: "ws", GrantType: "authorization_code", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	m, store := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "st", c)
	ctx := context.Background()
	if err := m.PutToken(ctx, "st", &core.Token{AccessToken: "expired", RefreshToken: "rt-0", Expiry: time.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	client := m.Client("st", nil)
	const n = 500
	start := make(chan struct{})
	var wg sync.WaitGroup
	var failures atomic.Int64
	for range n {
		wg.Go(func() {
			<-start
			resp, err := client.Get(api.srv.URL)
			if err != nil {
				failures.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != 200 {
				failures.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if f := failures.Load(); f != 0 {
		t.Fatalf("%d of %d requests failed", f, n)
	}
	if h := p.hits.Load(); h != 1 {
		t.Fatalf("token requests = %d, want exactly 1", h)
	}
	distinct := 0
	apiSeen.Range(func(k, _ any) bool { distinct++; return true })
	if distinct != 1 || rejected.Load() != 0 {
		t.Fatalf("API saw %d distinct tokens (%d rejected), want 1", distinct, rejected.Load())
	}
	if st, _ := store.GetToken(ctx, "st"); st.RefreshToken != "rt-1" {
		t.Fatalf("stored refresh token = %q, want rt-1", st.RefreshToken)
	}
}

func TestLongLivedClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 10 s")
	}
	p := newRotIdP(t, 2, false)
	var ok, rejected atomic.Int64
	api := newIdP(t, func(w http.ResponseWriter, r *http.Request, _ url.Values) {
		if !p.valid(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")) {
			rejected.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		ok.Add(1)
	})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "ll", c)
	client := m.Client("ll", nil)
	var failures int
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); {
		resp, err := client.Get(api.srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			failures++
		}
		time.Sleep(20 * time.Millisecond) // the scenario: a steady request rate
	}
	if failures != 0 || rejected.Load() != 0 {
		t.Fatalf("%d failed requests, %d rejected by the API (of %d ok)", failures, rejected.Load(), ok.Load())
	}
	if h := p.hits.Load(); h < 5 || h > 30 {
		t.Fatalf("token requests = %d over 10 s of 2 s tokens", h)
	}
	t.Logf("%d requests, %d token requests", ok.Load(), p.hits.Load())
}

// deviceIdP serves a device authorization endpoint and a token endpoint
// that answers the polls from a script, recording when each came.
type deviceIdP struct {
	*idp
	clock  core.Clock
	mu     sync.Mutex
	script []string // error codes, then "" for the token
	polls  []time.Time
	auths  int
}

func newDeviceIdP(t testing.TB, clock core.Clock, script ...string) *deviceIdP {
	d := &deviceIdP{clock: clock, script: script}
	d.idp = newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if id, secret, ok := r.BasicAuth(); !ok || id != "tv" || secret != "tv-secret" {
			oauthError(w, 401, "invalid_client", "")
			return
		}
		if r.URL.Path == "/device" {
			d.auths++
			writeJSON(w, 200, map[string]any{"device_code": "dev-code-secret", "user_code": "WDJB-MJHT",
				"verification_uri": "https://idp.example/device", "expires_in": 600, "interval": 5})
			return
		}
		if form.Get("grant_type") != oauth2.GrantDeviceCode || form.Get("device_code") != "dev-code-secret" {
			oauthError(w, 400, "invalid_request", "")
			return
		}
		d.polls = append(d.polls, d.clock.Now())
		if len(d.script) == 0 {
			oauthError(w, 400, "expired_token", "")
			return
		}
		step := d.script[0]
		d.script = d.script[1:]
		if step != "" {
			oauthError(w, 400, step, "")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "device-at", "refresh_token": "device-rt", "expires_in": 3600})
	})
	return d
}

func (d *deviceIdP) creds(t testing.TB) *core.Credentials {
	return creds(t, oauth2.Section{
		ClientID: "tv", ClientSecret: "tv-secret", GrantType: "device_code", Scopes: []string{"profile"},
		Endpoint: xoauth2.Endpoint{DeviceAuthURL: d.srv.URL + "/device", TokenURL: d.tokenURL()},
	})
}

func (d *deviceIdP) offsets(start time.Time) []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []time.Duration
	for _, p := range d.polls {
		out = append(out, p.Sub(start))
	}
	return out
}

func TestDeviceFlowSlowDownWithCallback(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := coretest.NewFakeClock(start)
	d := newDeviceIdP(t, clock, "authorization_pending", "slow_down", "authorization_pending", "")
	prompts := make(chan core.ReauthRequiredError, 1)
	s := newStrategy(oauth2.Options{Clock: clock, OnDeviceCode: func(_ context.Context, p *core.ReauthRequiredError) error {
		prompts <- *p
		return nil
	}})
	type result struct {
		tok *core.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := s.Token(context.Background(), d.creds(t), nil)
		done <- result{tok, err}
	}()
	p := <-prompts
	if p.UserCode != "WDJB-MJHT" || p.VerificationURI != "https://idp.example/device" {
		t.Fatalf("prompt = %+v", p)
	}
	var res result
	for finished := false; !finished; {
		waitFor(t, "the poller to sleep", func() bool {
			select {
			case res = <-done:
				finished = true
				return true
			default:
				return clock.Sleepers() == 1
			}
		})
		if !finished {
			clock.Advance(time.Second)
		}
	}
	if res.err != nil || res.tok.AccessToken != "device-at" {
		t.Fatalf("Token = %v, %v", res.tok, res.err)
	}
	want := []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second, 30 * time.Second}
	if got := d.offsets(start); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("polls at %v, want %v (interval 5 s, +5 s after slow_down)", got, want)
	}
}

func TestDeviceFlowThroughManager(t *testing.T) {
	start := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := coretest.NewFakeClock(start)
	d := newDeviceIdP(t, clock, "authorization_pending", "slow_down", "")
	m, store := newManager(t, newStrategy(oauth2.Options{Clock: clock}), core.Options{Clock: clock}, "tv", d.creds(t))
	ctx := context.Background()
	expectPending := func(polls int) {
		t.Helper()
		_, err := m.Token(ctx, "tv")
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) || !errors.Is(err, core.ErrReauthRequired) || re.UserCode != "WDJB-MJHT" || re.VerificationURI == "" {
			t.Fatalf("Token = %v, want a ReauthRequiredError with the user code", err)
		}
		if strings.Contains(err.Error(), "dev-code-secret") {
			t.Fatalf("error holds the device code: %v", err)
		}
		if got := len(d.offsets(start)); got != polls {
			t.Fatalf("polls = %d, want %d", got, polls)
		}
	}
	expectPending(0) // device code requested, nothing polled yet
	clock.Advance(3 * time.Second)
	expectPending(0) // before the interval: no request
	clock.Advance(2 * time.Second)
	expectPending(1) // t=5: authorization_pending
	clock.Advance(5 * time.Second)
	expectPending(2) // t=10: slow_down, interval now 10 s
	clock.Advance(5 * time.Second)
	expectPending(2) // t=15: too early
	clock.Advance(5 * time.Second)
	tok, err := m.Token(ctx, "tv") // t=20: approved
	if err != nil || tok.AccessToken != "device-at" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if st, _ := store.GetToken(ctx, "tv"); st.RefreshToken != "device-rt" {
		t.Fatalf("stored = %v", st)
	}
	if d.auths != 1 {
		t.Fatalf("device authorizations = %d, want 1", d.auths)
	}
}

func TestDeviceAccessDenied(t *testing.T) {
	clock := coretest.NewFakeClock(time.Now())
	d := newDeviceIdP(t, clock, "access_denied")
	s := newStrategy(oauth2.Options{Clock: clock})
	c := d.creds(t)
	if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, core.ErrReauthRequired) {
		t.Fatal(err)
	}
	clock.Advance(5 * time.Second)
	_, err := s.Token(context.Background(), c, nil)
	var oe *core.OAuthError
	if !errors.As(err, &oe) || oe.Code != "access_denied" || !core.IsPermanent(err) {
		t.Fatalf("err = %v, want permanent access_denied", err)
	}
}

func TestTokenEndpointRedirectRefused(t *testing.T) {
	var leaked atomic.Int64
	target := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if strings.Contains(form.Encode()+r.Header.Get("Authorization"), "s3cret") || form.Get("client_secret") != "" || r.Header.Get("Authorization") != "" {
			leaked.Add(1)
		}
		writeJSON(w, 200, map[string]any{"access_token": "stolen"})
	})
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		http.Redirect(w, r, target.tokenURL(), http.StatusTemporaryRedirect)
	})
	for _, tc := range []struct {
		grant, method string
		prev          *core.Token
	}{
		{"client_credentials", oauth2.AuthClientSecretBasic, nil},
		{"client_credentials", oauth2.AuthClientSecretPost, nil},
		{"account_credentials", oauth2.AuthClientSecretPost, nil},
		{"password", oauth2.AuthClientSecretBasic, nil},
		{"password", oauth2.AuthClientSecretPost, nil},
		{"refresh", oauth2.AuthClientSecretBasic, &core.Token{RefreshToken: "rt"}},
	} {
		t.Run(tc.grant+" "+tc.method, func(t *testing.T) {
			grant := tc.grant
			if tc.prev != nil {
				grant = "authorization_code"
			}
			c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s3cret", GrantType: grant, Username: "u", Password: "s3cret-pw",
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}, Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: tc.method}})
			_, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, tc.prev)
			if !errors.Is(err, tokenhttp.ErrRedirect) {
				t.Fatalf("err = %v, want ErrRedirect", err)
			}
			if target.hits.Load() != 0 || leaked.Load() != 0 {
				t.Fatalf("the redirect target got %d requests", target.hits.Load())
			}
		})
	}
}

// TestPlainHTTPLoopbackOnly: plain http endpoints are used on loopback
// hosts (127.0.0.1, localhost) without AllowInsecureHTTP, and refused on
// any other host before a request is made.
func TestPlainHTTPLoopbackOnly(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		writeJSON(w, 200, map[string]any{"access_token": "t"})
	})
	s := oauth2.New(oauth2.Options{})
	for _, u := range []string{p.tokenURL(), strings.Replace(p.tokenURL(), "127.0.0.1", "localhost", 1)} {
		c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: u}})
		if tok, err := s.Token(context.Background(), c, nil); err != nil || tok.AccessToken != "t" {
			t.Fatalf("%s: %v, %v", u, tok, err)
		}
	}
	var sent atomic.Int64
	rec := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent.Add(1)
		return nil, errors.New("no network in this test")
	})}
	s = oauth2.New(oauth2.Options{HTTPClient: rec})
	for _, ep := range []xoauth2.Endpoint{
		{TokenURL: "http://idp.example.test/token"},
		{TokenURL: p.tokenURL(), AuthURL: "http://idp.example.test/authorize"},
		{TokenURL: p.tokenURL(), DeviceAuthURL: "http://idp.example.test/device"},
	} {
		c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: ep})
		if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Fatalf("Token = %v, want ErrInvalidCredentials", err)
		}
		if err := s.Validate(c); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "plain http") {
			t.Fatalf("Validate = %v", err)
		}
		m, _ := newManager(t, s, core.Options{}, "", nil)
		if err := m.SetCredentials(context.Background(), "x", c); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Fatalf("SetCredentials = %v", err)
		}
	}
	if sent.Load() != 0 {
		t.Fatalf("%d requests were sent over plain http to a host that is not loopback", sent.Load())
	}
}

func TestHangingEndpoint(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		<-r.Context().Done() // hang until the client gives up
	})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
	for _, grant := range []string{"client_credentials", "account_credentials"} {
		t.Run(grant, func(t *testing.T) {
			c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: grant, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
			const deadline = 300 * time.Millisecond
			ctx, cancel := context.WithTimeout(context.Background(), deadline)
			defer cancel()
			start := time.Now()
			_, err := newStrategy(oauth2.Options{}).Token(ctx, c, nil)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want DeadlineExceeded", err)
			}
			// Generous under -race on shared cores; without the deadline it
			// would wait for the 30 s client timeout.
			if el := time.Since(start); el > deadline+time.Second {
				t.Fatalf("returned after %v", el)
			}
		})
	}
	_ = c
}

func TestTokenExchange(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		id, secret, _ := r.BasicAuth()
		want := url.Values{
			"grant_type":           {oauth2.GrantTokenExchange},
			"subject_token":        {"subj-tok"},
			"subject_token_type":   {oauth2.TokenTypeIDToken},
			"actor_token":          {"actor-tok"},
			"actor_token_type":     {oauth2.TokenTypeAccessToken},
			"requested_token_type": {oauth2.TokenTypeAccessToken},
			"audience":             {"api://b"},
		}
		for k := range want {
			if form.Get(k) != want.Get(k) {
				oauthError(w, 400, "invalid_request", k)
				return
			}
		}
		if id != "te" || secret != "te-secret" {
			oauthError(w, 401, "invalid_client", "")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "exchanged", "issued_token_type": oauth2.TokenTypeAccessToken, "token_type": "Bearer", "expires_in": 300})
	})
	base := oauth2.Section{ClientID: "te", ClientSecret: "te-secret", GrantType: "token-exchange", Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}}
	byOpts := base
	byOpts.TokenBodyOpts = url.Values{"subject_token": {"subj-tok"}, "subject_token_type": {oauth2.TokenTypeIDToken},
		"actor_token": {"actor-tok"}, "requested_token_type": {oauth2.TokenTypeAccessToken}, "audience": {"api://b"}}
	byMeta := base
	byMeta.GrantType = oauth2.GrantTokenExchange
	byMeta.Metadata = map[string]string{oauth2.MetaSubjectToken: "subj-tok", oauth2.MetaSubjectTokenType: oauth2.TokenTypeIDToken,
		oauth2.MetaActorToken: "actor-tok", oauth2.MetaRequestedTokenType: oauth2.TokenTypeAccessToken, oauth2.MetaAudience: "api://b"}
	for name, sec := range map[string]oauth2.Section{"tokenBodyOpts": byOpts, "metadata": byMeta} {
		t.Run(name, func(t *testing.T) {
			tok, err := newStrategy(oauth2.Options{}).Token(context.Background(), creds(t, sec), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != "exchanged" || tok.Extra["issued_token_type"] != oauth2.TokenTypeAccessToken {
				t.Fatalf("token = %v extra %v", tok, tok.Extra)
			}
		})
	}
}

func TestJWTBearer(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	clock := coretest.NewFakeClock(time.Now())
	var tokenURL string
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		if form.Get("grant_type") != oauth2.GrantJWTBearer {
			oauthError(w, 400, "unsupported_grant_type", "")
			return
		}
		a := form.Get("assertion")
		if a == "preissued.jwt.value" {
			if id, secret, ok := r.BasicAuth(); !ok || id != "jb" || secret != "jb-secret" {
				oauthError(w, 401, "invalid_client", "")
				return
			}
			writeJSON(w, 200, map[string]any{"access_token": "from-jwt-field", "expires_in": 60})
			return
		}
		if _, _, ok := r.BasicAuth(); ok || form.Has("client_assertion") {
			oauthError(w, 400, "invalid_request", "unexpected client authentication")
			return
		}
		claims := gojwt.MapClaims{}
		_, err := gojwt.ParseWithClaims(a, claims, func(*gojwt.Token) (any, error) { return ecKey.Public(), nil },
			gojwt.WithValidMethods([]string{"ES256"}), gojwt.WithTimeFunc(clock.Now), gojwt.WithExpirationRequired(),
			gojwt.WithIssuer("svc@example"), gojwt.WithSubject("user-42"), gojwt.WithAudience(tokenURL), gojwt.WithIssuedAt())
		if err != nil || claims["scope"] != "read" || claims["jti"] == nil {
			oauthError(w, 400, "invalid_grant", "assertion rejected")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "from-key", "expires_in": 60})
	})
	tokenURL = p.tokenURL()
	for _, tc := range []struct {
		name string
		sec  oauth2.Section
		want string
	}{
		{"jwt field", oauth2.Section{ClientID: "jb", ClientSecret: "jb-secret", GrantType: "urn:ietf:params:oauth:grant-type:jwt-bearer", JWT: "preissued.jwt.value"}, "from-jwt-field"},
		{"signed", oauth2.Section{GrantType: "jwt_bearer", Scopes: []string{"read"}, Metadata: map[string]string{
			oauth2.MetaPrivateKey: pemKey(t, ecKey), oauth2.MetaAssertionIssuer: "svc@example", oauth2.MetaAssertionSubject: "user-42"}}, "from-key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.sec.Endpoint = xoauth2.Endpoint{TokenURL: tokenURL}
			tok, err := newStrategy(oauth2.Options{Clock: clock}).Token(context.Background(), creds(t, tc.sec), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken != tc.want {
				t.Fatalf("token = %v", tok)
			}
		})
	}
	// An assertion from a host whose clock is 10 minutes fast is refused,
	// and the error says where to look.
	skewed := coretest.NewFakeClock(clock.Now().Add(10 * time.Minute))
	sec := oauth2.Section{GrantType: "jwt-bearer", Scopes: []string{"read"}, Endpoint: xoauth2.Endpoint{TokenURL: tokenURL},
		Metadata: map[string]string{oauth2.MetaPrivateKey: pemKey(t, ecKey), oauth2.MetaAssertionIssuer: "svc@example", oauth2.MetaAssertionSubject: "user-42"}}
	_, err = newStrategy(oauth2.Options{Clock: skewed}).Token(context.Background(), creds(t, sec), nil)
	if !errors.Is(err, core.ErrRefreshFailed) || !strings.Contains(err.Error(), "clock") {
		t.Fatalf("skewed assertion: %v", err)
	}
}

func TestAuthorizeLocal(t *testing.T) {
	p := newRotIdP(t, 60, true)
	var authorizeHits atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", func(w http.ResponseWriter, r *http.Request) {
		authorizeHits.Add(1)
		q := r.URL.Query()
		if q.Get("code_challenge_method") != "S256" || q.Get("client_id") != "native" || q.Get("endpoint_id") != "ep-1" || q.Get("prompt") != "consent" {
			http.Error(w, "bad authorization request", 400)
			return
		}
		p.mu.Lock()
		p.challenge = q.Get("code_challenge")
		p.mu.Unlock()
		redirect, _ := url.Parse(q.Get("redirect_uri"))
		if redirect.Hostname() != "127.0.0.1" {
			http.Error(w, "redirect is not loopback", 400)
			return
		}
		redirect.RawQuery = url.Values{"code": {"good-code"}, "state": {q.Get("state")}}.Encode()
		http.Redirect(w, r, redirect.String(), http.StatusFound)
	})
	mux.Handle("/token", p.srv.Config.Handler)
	p.srv.Config.Handler = mux
	c := creds(t, oauth2.Section{
		ClientID: "native", GrantType: "authorization_code", PKCE: true, OAuthEndpointID: "ep-1",
		AuthCodeOpts: map[string][]string{"prompt": {"consent"}},
		Endpoint:     xoauth2.Endpoint{AuthURL: p.srv.URL + "/authorize", TokenURL: p.tokenURL()},
	})
	s := newStrategy(oauth2.Options{})
	m, store := newManager(t, s, core.Options{}, "cli", c)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.AuthorizeLocal(ctx, m, "cli", func(u string) error {
		resp, err := http.Get(u) // the "browser": follows the redirect to the loopback listener
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			return fmt.Errorf("browser got %d: %s", resp.StatusCode, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.GetToken(ctx, "cli")
	if err != nil || st.AccessToken != "at-1" || st.RefreshToken != "rt-1" {
		t.Fatalf("stored = %v, %v", st, err)
	}
	tok, err := m.Token(ctx, "cli")
	if err != nil || tok.AccessToken != "at-1" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
}

func TestAuthorizeLocalCancelled(t *testing.T) {
	c := creds(t, oauth2.Section{ClientID: "native", GrantType: "authorization_code",
		Endpoint: xoauth2.Endpoint{AuthURL: "https://idp.example/auth", TokenURL: "https://idp.example/token"}})
	s := oauth2.New(oauth2.Options{})
	m, _ := newManager(t, s, core.Options{}, "cli", c)
	ctx, cancel := context.WithCancel(context.Background())
	err := s.AuthorizeLocal(ctx, m, "cli", func(string) error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want Canceled", err)
	}
}

func TestEndpointFromService(t *testing.T) {
	var got atomic.Value
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got.Store(r.URL.String())
		body := `{"access_token":"gh","token_type":"bearer"}`
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials"})
	c.Service = "github"
	s := oauth2.New(oauth2.Options{HTTPClient: &http.Client{Transport: rt}})
	if err := s.Validate(c); err != nil {
		t.Fatal(err)
	}
	tok, err := s.Token(context.Background(), c, nil)
	if err != nil || tok.AccessToken != "gh" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	if got.Load() != endpoints.GithubTokenURL {
		t.Fatalf("token request went to %v, want %s", got.Load(), endpoints.GithubTokenURL)
	}
	c.Service = "no-such-service"
	if err := s.Validate(c); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("Validate(unknown service) = %v", err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestStaticToken(t *testing.T) {
	clock := coretest.NewFakeClock(time.Now())
	c := creds(t, oauth2.Section{Token: &xoauth2.Token{AccessToken: "static-at", Expiry: clock.Now().Add(time.Hour)}})
	s := oauth2.New(oauth2.Options{Clock: clock})
	tok, err := s.Token(context.Background(), c, nil)
	if err != nil || tok.AccessToken != "static-at" {
		t.Fatalf("Token = %v, %v", tok, err)
	}
	clock.Advance(2 * time.Hour)
	if _, err := s.Token(context.Background(), c, nil); !errors.Is(err, core.ErrTokenExpired) {
		t.Fatalf("expired static token: %v", err)
	}
}

func TestValidate(t *testing.T) {
	rsaSmall, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	const keyCanary = "CANARY-not-a-pem-key"
	https := xoauth2.Endpoint{TokenURL: "https://idp.example/token"}
	withKey := func(alg string) map[string]string {
		return map[string]string{oauth2.MetaPrivateKey: pemKey(t, ecKey), oauth2.MetaSigningMethod: alg}
	}
	for _, tc := range []struct {
		name string
		sec  oauth2.Section
		want string // substring of the error; "" = valid
	}{
		{"client_credentials ok", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: https}, ""},
		{"goauth spelling", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "CLIENT_CREDENTIALS", Endpoint: https}, ""},
		{"unknown grant", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "implicit", Endpoint: https}, `grantType "implicit" is not supported`},
		{"saml unsupported", oauth2.Section{ClientID: "c", GrantType: "urn:ietf:params:oauth:grant-type:saml2-bearer", Endpoint: https}, "not supported"},
		{"no grant no token", oauth2.Section{ClientID: "c", Endpoint: https}, "grantType is empty"},
		{"no client id", oauth2.Section{ClientSecret: "s", GrantType: "client_credentials", Endpoint: https}, "needs clientID"},
		{"public client_credentials", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https}, "needs client authentication"},
		{"no token url", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{AuthURL: "https://a"}}, "TokenURL is empty"},
		{"ftp token url", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: "ftp://x/t"}}, "want https"},
		{"http auth url", oauth2.Section{ClientID: "c", GrantType: "authorization_code", Endpoint: xoauth2.Endpoint{AuthURL: "http://x/a", TokenURL: "https://x/t"}}, "AuthURL uses plain http"},
		{"password no user", oauth2.Section{ClientID: "c", GrantType: "password", Password: "p", Endpoint: https}, "needs username and password"},
		{"device no url", oauth2.Section{ClientID: "c", GrantType: "device", Endpoint: https}, "DeviceAuthURL is empty"},
		{"bad auth method", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: https, Metadata: map[string]string{"tokenEndpointAuthMethod": "tls_client_auth"}}, "is not one of"},
		{"private_key_jwt no key", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: map[string]string{"tokenEndpointAuthMethod": "private_key_jwt"}}, "privateKey is empty"},
		{"garbage key", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: map[string]string{"privateKey": keyCanary}}, "not a PEM-encoded private key"},
		{"small rsa key", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: map[string]string{"privateKey": pemKey(t, rsaSmall)}}, "1024-bit"},
		{"signingMethod fits", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: withKey("es256")}, ""},
		{"signingMethod does not fit", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: withKey("PS256")}, "holds an ECDSA P-256 key, want an RSA key"},
		{"signingMethod holding a secret", oauth2.Section{ClientID: "c", GrantType: "client_credentials", Endpoint: https, Metadata: withKey(keyCanary)}, "cannot sign with the signing method given"},
		{"jwt bearer nothing", oauth2.Section{GrantType: "jwt-bearer", Endpoint: https}, "privateKey is empty"},
		{"token exchange no subject", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "token_exchange", Endpoint: https}, "needs a subject token"},
		{"refresh_token grant without token", oauth2.Section{ClientID: "c", GrantType: "refresh_token", Endpoint: https}, "needs a token"},
		{"refresh_token grant", oauth2.Section{ClientID: "c", GrantType: "refresh_token", Endpoint: https, Token: &xoauth2.Token{RefreshToken: "r"}}, ""},
		{"account_credentials ok", oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "account_credentials", Endpoint: https}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := oauth2.New(oauth2.Options{}).Validate(creds(t, tc.sec))
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrInvalidCredentials containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), keyCanary) || strings.Contains(err.Error(), "BEGIN") {
				t.Fatalf("error quotes the key: %v", err)
			}
		})
	}
	c := &core.Credentials{Type: oauth2.Type}
	if err := c.SetSection(oauth2.Type, json.RawMessage(`{"clientID": 5}`)); err != nil {
		t.Fatal(err)
	}
	if err := oauth2.New(oauth2.Options{}).Validate(c); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("undecodable section: %v", err)
	}
}

func TestNormalizeGrantType(t *testing.T) {
	for in, want := range map[string]string{
		"client_credentials": oauth2.GrantClientCredentials,
		" Password ":         oauth2.GrantPassword,
		"authorization_code": oauth2.GrantAuthorizationCode,
		"refresh_token":      oauth2.GrantRefreshToken,
		"urn:ietf:params:oauth:grant-type:device_code": oauth2.GrantDeviceCode,
		"device_code": oauth2.GrantDeviceCode,
		"urn:ietf:params:oauth:grant-type:jwt-bearer": oauth2.GrantJWTBearer,
		"jwt": oauth2.GrantJWTBearer,
		"urn:ietf:params:oauth:grant-type:token-exchange": oauth2.GrantTokenExchange,
		"token_exchange":      oauth2.GrantTokenExchange,
		"account_credentials": oauth2.GrantAccountCredentials,
		"implicit":            "",
		"urn:ietf:params:oauth:grant-type:saml2-bearer": "",
	} {
		if got := oauth2.NormalizeGrantType(in); got != want {
			t.Errorf("NormalizeGrantType(%q) = %q, want %q", in, got, want)
		}
	}
}

// goauthJSON is a CredentialsOAuth2 as goauth's json.Marshal writes it,
// with every field set.
const goauthJSON = `{"serverURL":"https://api.example","applicationID":"app-1","clientID":"cid","clientSecret":"cs",` +
	`"endpoint":{"AuthURL":"https://idp.example/auth","DeviceAuthURL":"https://idp.example/device","TokenURL":"https://idp.example/token","AuthStyle":2},` +
	`"redirectURL":"https://app.example/cb","oauthEndpointID":"ep","scope":["a","b"],"grantType":"authorization_code","pkce":true,` +
	`"username":"u","password":"p","jwt":"j.w.t","token":{"access_token":"at","token_type":"Bearer","refresh_token":"rt","expiry":"2030-01-01T00:00:00Z"},` +
	`"authCodeOpts":{"prompt":["consent"]},"authCodeExchangeOpts":{"x":["1"]},"tokenBodyOpts":{"account_id":["42"]},"metadata":{"k":"v"}}`

func TestSectionDecodesEveryGoauthField(t *testing.T) {
	var s oauth2.Section
	if err := json.Unmarshal([]byte(goauthJSON), &s); err != nil {
		t.Fatal(err)
	}
	want := oauth2.Section{
		ServerURL: "https://api.example", ApplicationID: "app-1", ClientID: "cid", ClientSecret: "cs",
		Endpoint: xoauth2.Endpoint{AuthURL: "https://idp.example/auth", DeviceAuthURL: "https://idp.example/device",
			TokenURL: "https://idp.example/token", AuthStyle: xoauth2.AuthStyleInHeader},
		RedirectURL: "https://app.example/cb", OAuthEndpointID: "ep", Scopes: []string{"a", "b"}, GrantType: "authorization_code",
		PKCE: true, Username: "u", Password: "p", JWT: "j.w.t",
		AuthCodeOpts: map[string][]string{"prompt": {"consent"}}, AuthCodeExchangeOpts: map[string][]string{"x": {"1"}},
		TokenBodyOpts: url.Values{"account_id": {"42"}}, Metadata: map[string]string{"k": "v"},
	}
	if s.Token == nil || s.Token.AccessToken != "at" || s.Token.RefreshToken != "rt" || s.Token.Expiry.Year() != 2030 {
		t.Fatalf("token = %+v", s.Token)
	}
	s.Token = nil
	a, _ := json.Marshal(s)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Fatalf("decoded\n%s\nwant\n%s", a, b)
	}
	if err := oauth2.New(oauth2.Options{}).Validate(creds(t, s)); err != nil {
		t.Fatal(err)
	}
}

func TestSectionRedacts(t *testing.T) {
	s := oauth2.Section{ClientID: "cid", ClientSecret: "CANARY-1", Password: "CANARY-2", JWT: "CANARY-3",
		Token: &xoauth2.Token{AccessToken: "CANARY-4"}, Metadata: map[string]string{"privateKey": "CANARY-5"}}
	log, buf := coretest.DebugLogger()
	log.Info("section", "s", s)
	out := fmt.Sprintf("%v %+v %#v %s %q", s, s, s, s, s) + buf.String()
	if strings.Contains(out, "CANARY") {
		t.Fatalf("leak: %s", out)
	}
}

// TestExchangeSendsEveryField: the code exchange carries the credential's
// RedirectURL, AuthCodeExchangeOpts, OAuthEndpointID and the PKCE
// verifier, with client authentication, and the tokens it returns are
// stored for the name.
func TestExchangeSendsEveryField(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		id, secret, _ := r.BasicAuth()
		want := url.Values{
			"grant_type":    {"authorization_code"},
			"code":          {"the-code"},
			"redirect_uri":  {"https://app.example/cb"},
			"code_verifier": {"verifier-verifier-verifier-verifier-verifier"},
			"x":             {"1"},
			"endpoint_id":   {"ep-9"},
		}
		for k := range want {
			if form.Get(k) != want.Get(k) {
				oauthError(w, 400, "invalid_request", k)
				return
			}
		}
		if id != "web" || secret != "web-secret" {
			oauthError(w, 401, "invalid_client", "")
			return
		}
		writeJSON(w, 200, map[string]any{"access_token": "code-at", "refresh_token": "code-rt", "expires_in": 60})
	})
	c := creds(t, oauth2.Section{
		ClientID: "web", ClientSecret: "web-secret", GrantType: "authorization_code", PKCE: true,
		RedirectURL: "https://app.example/cb", OAuthEndpointID: "ep-9",
		AuthCodeExchangeOpts: map[string][]string{"x": {"1"}},
		Endpoint:             xoauth2.Endpoint{TokenURL: p.tokenURL()},
	})
	s := newStrategy(oauth2.Options{})
	m, store := newManager(t, s, core.Options{}, "web", c)
	ctx := context.Background()
	if err := s.Exchange(ctx, m, "web", "the-code", "verifier-verifier-verifier-verifier-verifier"); err != nil {
		t.Fatal(err)
	}
	if st, err := store.GetToken(ctx, "web"); err != nil || st.AccessToken != "code-at" || st.RefreshToken != "code-rt" {
		t.Fatalf("stored = %v, %v", st, err)
	}
}
