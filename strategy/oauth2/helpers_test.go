package oauth2_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// idp is a loopback token server whose behaviour each test supplies.
type idp struct {
	srv  *httptest.Server
	hits atomic.Int64
}

// handlerFunc answers one token request; form is the parsed body.
type handlerFunc func(w http.ResponseWriter, r *http.Request, form url.Values)

func newIdP(t testing.TB, h handlerFunc) *idp {
	t.Helper()
	p := &idp{}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.hits.Add(1)
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		h(w, r, r.PostForm)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) tokenURL() string { return p.srv.URL + "/token" }

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

// creds builds an "oauth2" credential holding sec.
func creds(t testing.TB, sec oauth2.Section) *core.Credentials {
	t.Helper()
	c := &core.Credentials{Type: oauth2.Type}
	if err := c.SetSection(oauth2.Type, sec); err != nil {
		t.Fatal(err)
	}
	return c
}

// newStrategy returns a Strategy. It reaches the httptest servers on
// http://127.0.0.1 without AllowInsecureHTTP: plain http to a loopback
// host is allowed by default.
func newStrategy(opts oauth2.Options) *oauth2.Strategy {
	return oauth2.New(opts)
}

// newManager returns a Manager over a MemoryStore holding c under name.
func newManager(t testing.TB, s core.Strategy, opts core.Options, name string, c *core.Credentials) (*core.Manager, *core.MemoryStore) {
	t.Helper()
	store := core.NewMemoryStore()
	opts.Store = store
	opts.Strategies = []core.Strategy{s}
	m, err := core.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if c != nil {
		if err := m.SetCredentials(context.Background(), name, c); err != nil {
			t.Fatal(err)
		}
	}
	return m, store
}

// rotIdP is a token server that issues numbered tokens, rotates refresh
// tokens and detects the reuse of one (RFC 9700 §4.14.2).
type rotIdP struct {
	*idp
	ttl    int  // expires_in
	rotate bool // issue a new refresh token on refresh
	now    func() time.Time

	mu        sync.Mutex
	n         int
	live      map[string]bool      // refresh tokens that may be used
	used      map[string]bool      // refresh tokens already used
	access    map[string]time.Time // access token → expiry
	sentRTs   []string             // refresh tokens presented, in order
	reused    int
	challenge string // PKCE challenge of the last /authorize
}

func newRotIdP(t testing.TB, ttl int, rotate bool) *rotIdP {
	p := &rotIdP{ttl: ttl, rotate: rotate, now: time.Now, live: map[string]bool{}, used: map[string]bool{}, access: map[string]time.Time{}}
	p.idp = newIdP(t, p.handle)
	return p
}

func (p *rotIdP) issue(w http.ResponseWriter, withRT bool) {
	p.n++
	at := fmt.Sprintf("at-%d", p.n)
	p.access[at] = p.now().Add(time.Duration(p.ttl) * time.Second)
	resp := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": p.ttl}
	if withRT {
		rt := fmt.Sprintf("rt-%d", p.n)
		p.live[rt] = true
		resp["refresh_token"] = rt
	}
	writeJSON(w, http.StatusOK, resp)
}

func (p *rotIdP) handle(w http.ResponseWriter, r *http.Request, form url.Values) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch form.Get("grant_type") {
	case "authorization_code":
		if form.Get("code") != "good-code" {
			oauthError(w, 400, "invalid_grant", "bad code")
			return
		}
		if p.challenge != "" {
			sum := sha256.Sum256([]byte(form.Get("code_verifier")))
			if base64.RawURLEncoding.EncodeToString(sum[:]) != p.challenge {
				oauthError(w, 400, "invalid_grant", "PKCE verifier does not match")
				return
			}
		}
		p.issue(w, true)
	case "refresh_token":
		rt := form.Get("refresh_token")
		p.sentRTs = append(p.sentRTs, rt)
		if p.used[rt] {
			p.reused++
			oauthError(w, 400, "invalid_grant", "refresh token reused")
			return
		}
		if !p.live[rt] {
			oauthError(w, 400, "invalid_grant", "unknown refresh token")
			return
		}
		if p.rotate {
			delete(p.live, rt)
			p.used[rt] = true
		}
		p.issue(w, p.rotate)
	case "client_credentials":
		p.issue(w, false)
	default:
		oauthError(w, 400, "unsupported_grant_type", "")
	}
}

// valid reports whether an access token is known and unexpired.
func (p *rotIdP) valid(at string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	exp, ok := p.access[at]
	return ok && p.now().Before(exp)
}

func (p *rotIdP) snapshot() (sent []string, reused int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.sentRTs...), p.reused
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
