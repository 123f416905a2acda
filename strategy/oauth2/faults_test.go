package oauth2_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

// TestEchoedCredentialsNeverLeak: a token endpoint that echoes
// what it was sent in its error (the client assertion, the Basic
// Authorization header, or the raw form body with the secret still
// URL-encoded) never gets any of it into the error, whichever grant and
// client authentication sent it, by x/oauth2 or by hand.
func TestEchoedCredentialsNeverLeak(t *testing.T) {
	// Characters that URL encoding changes, so the raw body holds the
	// secret only in escaped form.
	const secret = "CANARY/s3cr3t+with=chars&more"
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var sent []string // what the server echoed, one per request
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		echo := form.Get("client_assertion")
		if echo == "" {
			echo = strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
		}
		if form.Get("echo") == "raw" {
			echo = form.Encode() // as the client sent it: the secret URL-encoded
		}
		mu.Lock()
		sent = append(sent, echo)
		mu.Unlock()
		// The echo comes first, so the 256-byte cap on descriptions
		// cannot be what hides it.
		oauthError(w, 401, "invalid_client", echo)
	})
	expired := &core.Token{AccessToken: "x", RefreshToken: "rt-echo", Expiry: time.Now().Add(-time.Minute)}
	for _, tc := range []struct {
		name, grant, method, echo string
		prev                      *core.Token
	}{
		{"client_credentials private_key_jwt", "client_credentials", oauth2.AuthPrivateKeyJWT, "", nil},
		{"account_credentials private_key_jwt", "account_credentials", oauth2.AuthPrivateKeyJWT, "", nil},
		{"refresh private_key_jwt", "client_credentials", oauth2.AuthPrivateKeyJWT, "", expired},
		{"client_credentials client_secret_jwt", "client_credentials", oauth2.AuthClientSecretJWT, "", nil},
		{"client_credentials basic", "client_credentials", oauth2.AuthClientSecretBasic, "", nil},
		{"account_credentials basic", "account_credentials", oauth2.AuthClientSecretBasic, "", nil},
		{"refresh basic", "client_credentials", oauth2.AuthClientSecretBasic, "", expired},
		{"client_credentials post raw", "client_credentials", oauth2.AuthClientSecretPost, "raw", nil},
		{"account_credentials post raw", "account_credentials", oauth2.AuthClientSecretPost, "raw", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			sent = nil
			mu.Unlock()
			sec := oauth2.Section{
				ClientID: "echo-client", GrantType: tc.grant,
				Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()},
				Metadata: map[string]string{oauth2.MetaTokenEndpointAuthMethod: tc.method},
			}
			if tc.echo != "" {
				sec.TokenBodyOpts = url.Values{"echo": {tc.echo}}
			}
			if tc.method == oauth2.AuthPrivateKeyJWT {
				sec.Metadata[oauth2.MetaPrivateKey] = pemKey(t, ecKey)
			} else {
				sec.ClientSecret = secret
			}
			_, err := newStrategy(oauth2.Options{}).Token(context.Background(), creds(t, sec), tc.prev)
			if err == nil {
				t.Fatal("no error")
			}
			mu.Lock()
			echoed := append([]string(nil), sent...)
			mu.Unlock()
			if len(echoed) != 1 || len(echoed[0]) < 16 {
				t.Fatalf("the server echoed %q; want one request carrying a credential", echoed)
			}
			out := fmt.Sprintf("%v\n%+v\n%#v", err, err, err)
			leaks := []string{secret, url.QueryEscape(secret), "CANARY"}
			if tc.echo != "raw" {
				// All of the echo is a credential: an assertion or a
				// Basic header. Neither end of it may show.
				e := echoed[0]
				leaks = append(leaks, e, e[:16], e[len(e)-16:])
			}
			for _, leak := range leaks {
				if strings.Contains(out, leak) {
					t.Fatalf("the error holds %q of what was sent:\n%s", leak, out)
				}
			}
			if !strings.Contains(out, "invalid_client") {
				t.Fatalf("the error lost its code: %s", out)
			}
		})
	}
}

// TestCloseDropsIdleConnections: Close releases the keep-alive connections
// of the transport the Strategy made itself, so no connection (and no
// transport goroutine) outlives the Manager that closes it. It is safe to
// call twice, and on a Strategy never used.
func TestCloseDropsIdleConnections(t *testing.T) {
	closed := make(chan struct{}, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"access_token": "t", "expires_in": 60})
	}))
	srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateClosed {
			select {
			case closed <- struct{}{}:
			default:
			}
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	s := newStrategy(oauth2.Options{})
	c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: "client_credentials", Endpoint: xoauth2.Endpoint{TokenURL: srv.URL + "/token"}})
	if _, err := s.Token(context.Background(), c, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
		t.Fatal("the connection closed before Close: the test cannot tell")
	default:
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the idle connection is still open after Close")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := oauth2.New(oauth2.Options{}).Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDevicePollWaitHonoursContext: while one call polls a device
// authorization (here sleeping on the fake clock between polls), another
// call for the same credential waits for it only as long as its own ctx
// allows.
func TestDevicePollWaitHonoursContext(t *testing.T) {
	clock := coretest.NewFakeClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	d := newDeviceIdP(t, clock, "authorization_pending")
	prompted := make(chan struct{}, 1)
	s := newStrategy(oauth2.Options{Clock: clock, OnDeviceCode: func(context.Context, *core.ReauthRequiredError) error {
		prompted <- struct{}{}
		return nil
	}})
	c := d.creds(t)
	ctxA, cancelA := context.WithCancel(context.Background())
	defer cancelA()
	doneA := make(chan error, 1)
	go func() {
		_, err := s.Token(ctxA, c, nil)
		doneA <- err
	}()
	<-prompted
	waitFor(t, "the first call to sleep between polls", func() bool { return clock.Sleepers() == 1 })

	ctxB, cancelB := context.WithCancel(context.Background())
	cancelB()
	doneB := make(chan error, 1)
	go func() {
		_, err := s.Token(ctxB, c, nil)
		doneB <- err
	}()
	select {
	case err := <-doneB:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, core.ErrReauthRequired) {
			t.Fatalf("second call: err = %v, want ErrReauthRequired carrying context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the second call waited for the first one's poll, ignoring its own cancelled ctx")
	}
	cancelA()
	if err := <-doneA; !errors.Is(err, context.Canceled) {
		t.Fatalf("first call: err = %v, want context.Canceled", err)
	}
}

// TestLostResponseIsTemporary: when the connection closes before
// the answer arrives, the error is temporary (the Manager may retry once
// more), names no URL query, and the strategy itself sent one request.
func TestLostResponseIsTemporary(t *testing.T) {
	p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	for _, grant := range []string{"client_credentials", "account_credentials"} {
		t.Run(grant, func(t *testing.T) {
			p.hits.Store(0)
			c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "lost-secret", GrantType: grant, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL() + "?k=lost-secret"}})
			_, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, nil)
			var ne *tokenhttp.NetError
			if !errors.As(err, &ne) || !core.IsTemporary(err) || core.IsPermanent(err) {
				t.Fatalf("err = %v, want a temporary tokenhttp.NetError", err)
			}
			if strings.Contains(err.Error(), "lost-secret") {
				t.Fatalf("err quotes the URL: %v", err)
			}
			if n := p.hits.Load(); n != 1 {
				t.Fatalf("requests = %d, want 1", n)
			}
		})
	}
}

// TestMalformedResponses: a 2xx answer that is not a token
// response gives an error that says what is wrong, whether x/oauth2 or
// the strategy parsed it, and never quotes the body.
func TestMalformedResponses(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body, want string
	}{
		{"no access_token", "application/json", `{"token_type":"bearer","x":"body-secret-1"}`, "no access_token"},
		{"form without access_token", "application/x-www-form-urlencoded", `token_type=bearer&x=body-secret-1`, "no access_token"},
		{"html", "text/html", `<html>body-secret-1</html>`, "JSON"},
		{"array", "application/json", `["body-secret-1"]`, "JSON"},
		{"wrong type", "application/json", `{"access_token":["body-secret-1"]}`, "JSON"},
	} {
		p := newIdP(t, func(w http.ResponseWriter, r *http.Request, form url.Values) {
			w.Header().Set("Content-Type", tc.contentType)
			_, _ = io.WriteString(w, tc.body)
		})
		for _, grant := range []string{"client_credentials", "account_credentials"} {
			t.Run(tc.name+" "+grant, func(t *testing.T) {
				c := creds(t, oauth2.Section{ClientID: "c", ClientSecret: "s", GrantType: grant, Endpoint: xoauth2.Endpoint{TokenURL: p.tokenURL()}})
				_, err := newStrategy(oauth2.Options{}).Token(context.Background(), c, nil)
				if err == nil {
					t.Fatal("accepted")
				}
				if msg := err.Error(); !strings.HasPrefix(msg, "oauth2: ") || !strings.Contains(msg, tc.want) || strings.Contains(msg, "body-secret") {
					t.Fatalf("err = %q, want it to say %q without quoting the body", msg, tc.want)
				}
			})
		}
	}
}
