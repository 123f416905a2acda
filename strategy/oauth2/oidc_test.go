package oauth2_test

// These tests run the strategy end to end, through core.Manager, against
// a real OpenID provider: zitadel/oidc v3.52.0's example OP, started
// in-process on 127.0.0.1. Its storage is process-global, so there is one
// instance for the package, started on first use and closed in TestMain.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gojwt "github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/example/server/storage"
	xoauth2 "golang.org/x/oauth2"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/oidctest"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// Clients registered with the example OP for these tests. The service
// user sid1/verysecret and the JWT-profile service "service" (key1) come
// with the example's storage.
const (
	opNativeClient = "omni-native"
	opWebClient    = "omni-web"
	opWebSecret    = "omni-web-secret"
	opDeviceClient = "omni-device"
	opDeviceSecret = "omni-device-secret"
	opPassword     = oidctest.Password
)

var (
	opOnce   sync.Once
	opServer *httptest.Server
)

// startOIDC starts the example OP once and returns its issuer URL.
func startOIDC(t testing.TB) string {
	t.Helper()
	opOnce.Do(func() {
		opServer = oidctest.Start(
			storage.NativeClient(opNativeClient, "http://127.0.0.1/callback"),
			storage.WebClient(opWebClient, opWebSecret),
			storage.DeviceClient(opDeviceClient, opDeviceSecret),
		)
	})
	return opServer.URL
}

func stopOIDC() {
	if opServer != nil {
		opServer.Close()
	}
}

func opEndpoint(issuer string) xoauth2.Endpoint {
	return xoauth2.Endpoint{
		AuthURL:       issuer + "/auth",
		TokenURL:      issuer + "/oauth/token",
		DeviceAuthURL: issuer + "/device_authorization",
	}
}

func TestOIDCClientCredentials(t *testing.T) {
	issuer := startOIDC(t)
	for _, method := range []string{oauth2.AuthClientSecretBasic, oauth2.AuthClientSecretPost} {
		t.Run(method, func(t *testing.T) {
			c := creds(t, oauth2.Section{
				ClientID: "sid1", ClientSecret: "verysecret", GrantType: "client_credentials",
				Endpoint: opEndpoint(issuer),
				Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: method},
			})
			m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "svc", c)
			tok, err := m.Token(context.Background(), "svc")
			if err != nil {
				t.Fatal(err)
			}
			if tok.AccessToken == "" || tok.Expiry.IsZero() {
				t.Fatalf("token = %v", tok)
			}
		})
	}
	// A wrong secret is a permanent invalid_client.
	c := creds(t, oauth2.Section{ClientID: "sid1", ClientSecret: "wrong", GrantType: "client_credentials", Endpoint: opEndpoint(issuer)})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "bad", c)
	_, err := m.Token(context.Background(), "bad")
	var oe *core.OAuthError
	if !errors.As(err, &oe) || !core.IsPermanent(err) {
		t.Fatalf("wrong secret: %v", err)
	}
}

// sentRefreshTokens records the refresh tokens sent to the token endpoint.
type sentRefreshTokens struct {
	mu  sync.Mutex
	rts []string
}

func (s *sentRefreshTokens) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && r.GetBody != nil {
		body, err := r.GetBody()
		if err == nil {
			b, _ := io.ReadAll(body)
			if v, err := url.ParseQuery(string(b)); err == nil && v.Get("grant_type") == "refresh_token" {
				s.mu.Lock()
				s.rts = append(s.rts, v.Get("refresh_token"))
				s.mu.Unlock()
			}
		}
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (s *sentRefreshTokens) list() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.rts...)
}

// loginAndApprove drives the example OP's login form the way a person
// would: open the authorization URL, post the credentials, and follow the
// redirects back to the loopback listener.
func loginAndApprove(t testing.TB, issuer string) func(string) error {
	return func(authURL string) error {
		b := oidctest.Browser(t, nil)
		resp, err := b.Get(authURL)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		id := resp.Request.URL.Query().Get("authRequestID")
		if resp.StatusCode != 200 || id == "" {
			return fmt.Errorf("login page: status %d at %s", resp.StatusCode, resp.Request.URL)
		}
		resp, err = b.PostForm(issuer+"/login/username", url.Values{"id": {id}, "username": {oidctest.User(issuer)}, "password": {opPassword}})
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 || !strings.Contains(string(body), "Authorization complete") {
			return fmt.Errorf("after login: status %d at %s: %.200s", resp.StatusCode, resp.Request.URL, body)
		}
		return nil
	}
}

// authorizeUser runs AuthorizeLocal for the native client (PKCE, public
// client) and returns the Manager, its store and the refresh-token spy.
func authorizeUser(t testing.TB, issuer string) (*core.Manager, *core.MemoryStore, *sentRefreshTokens) {
	t.Helper()
	spy := &sentRefreshTokens{}
	s := newStrategy(oauth2.Options{HTTPClient: &http.Client{Transport: spy}})
	c := creds(t, oauth2.Section{
		ClientID: opNativeClient, GrantType: "authorization_code", PKCE: true,
		RedirectURL: "http://127.0.0.1/callback", Scopes: []string{"openid", "offline_access"},
		Endpoint: opEndpoint(issuer),
	})
	m, store := newManager(t, s, core.Options{}, "user", c)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.AuthorizeLocal(ctx, m, "user", loginAndApprove(t, issuer)); err != nil {
		t.Fatal(err)
	}
	return m, store, spy
}

func TestOIDCAuthorizationCodePKCEAndRotation(t *testing.T) {
	issuer := startOIDC(t)
	m, store, spy := authorizeUser(t, issuer)
	ctx := context.Background()
	tok, err := m.Token(ctx, "user")
	if err != nil {
		t.Fatal(err)
	}
	if tok.RefreshToken == "" || tok.Extra["id_token"] == nil {
		t.Fatalf("token after the code exchange = %v (extra %v)", tok, tok.Extra)
	}
	if body := oidctest.UserInfo(t, issuer, tok.AccessToken); !strings.Contains(body, `"sub":"id1"`) {
		t.Fatalf("userinfo = %s", body)
	}

	rts := []string{tok.RefreshToken}
	for i := range 2 {
		next, err := m.Refresh(ctx, "user")
		if err != nil {
			t.Fatalf("refresh %d: %v", i, err)
		}
		stored, err := store.GetToken(ctx, "user")
		if err != nil {
			t.Fatal(err)
		}
		if next.RefreshToken == rts[len(rts)-1] || stored.RefreshToken != next.RefreshToken {
			t.Fatalf("refresh %d: not rotated, or not stored: token %q, stored %q", i, next.RefreshToken, stored.RefreshToken)
		}
		oidctest.UserInfo(t, issuer, next.AccessToken)
		rts = append(rts, next.RefreshToken)
	}
	// Each refresh token was sent exactly once, in order.
	if got, want := spy.list(), rts[:2]; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("refresh tokens sent = %v, want %v", got, want)
	}
	// The OP rejects the rotated-out one.
	resp, err := http.PostForm(issuer+"/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rts[0]}, "client_id": {opNativeClient}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "invalid_grant") {
		t.Fatalf("old refresh token: status %d: %s", resp.StatusCode, body)
	}
}

func TestOIDCDeviceFlow(t *testing.T) {
	issuer := startOIDC(t)
	clock := coretest.NewFakeClock(time.Now())
	c := creds(t, oauth2.Section{
		ClientID: opDeviceClient, ClientSecret: opDeviceSecret, GrantType: "urn:ietf:params:oauth:grant-type:device_code",
		Endpoint: opEndpoint(issuer),
	})
	// No "openid" scope: the example's device login stores the username as
	// the subject, and its ID token (and userinfo) lookup by user ID then
	// fails with "user not found". MaxAttempts 1: no retry sleeps on the
	// fake clock.
	m, store := newManager(t, newStrategy(oauth2.Options{Clock: clock}), core.Options{Clock: clock, MaxAttempts: 1}, "tv", c)
	ctx := context.Background()
	_, err := m.Token(ctx, "tv")
	var re *core.ReauthRequiredError
	if !errors.As(err, &re) || re.UserCode == "" || re.VerificationURI != issuer+"/device" {
		t.Fatalf("Token = %v, want a ReauthRequiredError with the user code", err)
	}
	clock.Advance(5 * time.Second)
	if _, err := m.Token(ctx, "tv"); !errors.As(err, &re) {
		t.Fatalf("Token before approval = %v, want still pending", err)
	}

	// The person approves on another device.
	oidctest.ApproveDevice(t, oidctest.Browser(t, nil), issuer, re.UserCode)

	clock.Advance(5 * time.Second)
	tok, err := m.Token(ctx, "tv")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token = %v", tok)
	}
	if stored, err := store.GetToken(ctx, "tv"); err != nil || stored.AccessToken != tok.AccessToken {
		t.Fatalf("stored = %v, %v", stored, err)
	}
}

// serviceKeyPEM reads the example's private key for its JWT-profile
// service user "service" (key id "key1") from the module cache.
func serviceKeyPEM(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/zitadel/oidc/v3").Output()
	if err != nil {
		t.Skipf("cannot locate the zitadel/oidc module: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "example", "server", "service-key1.pem"))
	if err != nil {
		t.Skipf("cannot read the example's service key: %v", err)
	}
	return string(b)
}

// TestOIDCJWTProfile runs the JWT bearer grant (RFC 7523 §2.1) with the
// example's service user. Its key is a 1024-bit RSA key, which the
// strategy refuses to sign with (RFC 7518 §3.3 asks for 2048 bits), so the
// assertion is signed here and given in the credential's "jwt" field, as
// goauth credentials carry it; signing from metadata.privateKey is covered
// by TestJWTBearer against a local server.
func TestOIDCJWTProfile(t *testing.T) {
	issuer := startOIDC(t)
	key, err := gojwt.ParseRSAPrivateKeyFromPEM([]byte(serviceKeyPEM(t)))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	at := gojwt.NewWithClaims(gojwt.SigningMethodRS256, gojwt.MapClaims{
		"iss": "service", "sub": "service", "aud": issuer,
		"iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
	})
	at.Header["kid"] = "key1"
	assertion, err := at.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	c := creds(t, oauth2.Section{
		GrantType: "urn:ietf:params:oauth:grant-type:jwt-bearer", Scopes: []string{"openid"},
		JWT: assertion, Endpoint: opEndpoint(issuer),
	})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "svc-jwt", c)
	tok, err := m.Token(context.Background(), "svc-jwt")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token = %v", tok)
	}

	// Signing from the credential's key refuses the example's weak key
	// with a clear error.
	weak := creds(t, oauth2.Section{GrantType: "jwt-bearer", Endpoint: opEndpoint(issuer),
		Metadata: map[string]string{oauth2.MetaPrivateKey: serviceKeyPEM(t), oauth2.MetaAssertionIssuer: "service"}})
	if err := newStrategy(oauth2.Options{}).Validate(weak); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "1024-bit") {
		t.Fatalf("Validate(1024-bit key) = %v", err)
	}
}

func TestOIDCTokenExchange(t *testing.T) {
	issuer := startOIDC(t)
	um, _, _ := authorizeUser(t, issuer)
	user, err := um.Token(context.Background(), "user")
	if err != nil {
		t.Fatal(err)
	}
	c := creds(t, oauth2.Section{
		ClientID: opWebClient, ClientSecret: opWebSecret, GrantType: "token-exchange",
		Scopes: []string{"openid"}, Endpoint: opEndpoint(issuer),
		Metadata: map[string]string{
			oauth2.MetaSubjectToken:     user.AccessToken,
			oauth2.MetaSubjectTokenType: oauth2.TokenTypeAccessToken,
		},
	})
	m, _ := newManager(t, newStrategy(oauth2.Options{}), core.Options{}, "exchanged", c)
	tok, err := m.Token(context.Background(), "exchanged")
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken == "" || tok.AccessToken == user.AccessToken || tok.Extra["issued_token_type"] != oauth2.TokenTypeRefreshToken {
		t.Fatalf("token = %v extra %v", tok, tok.Extra)
	}
	if body := oidctest.UserInfo(t, issuer, tok.AccessToken); !strings.Contains(body, `"sub":"id1"`) {
		t.Fatalf("userinfo = %s", body)
	}
	// The OP issued a refresh token with it; refreshing works through the
	// Manager too.
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token from the exchange")
	}
	if _, err := m.Refresh(context.Background(), "exchanged"); err != nil {
		t.Fatal(err)
	}
}
