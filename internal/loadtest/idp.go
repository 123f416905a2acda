package loadtest

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	xoauth2 "golang.org/x/oauth2"
)

// Test client credentials the IdP accepts.
const (
	ClientID     = "loadtest-client"
	ClientSecret = "loadtest-secret"
)

// IdPOptions configures an IdP.
type IdPOptions struct {
	// TTL is the access-token lifetime sent as expires_in, in whole
	// seconds. Default: one hour. Less than a second is sent as 1.
	TTL time.Duration
	// Latency delays every answer by this much real time, or until the
	// client goes away.
	Latency time.Duration
	// NoRefreshTokens makes the client_credentials grant issue no refresh
	// token, so every token is a new grant.
	NoRefreshTokens bool
}

// IdPStats counts what an IdP saw.
type IdPStats struct {
	// Requests is every token request received, counted on arrival.
	Requests int
	// Grants is client_credentials tokens issued; each starts a family.
	Grants int
	// Refreshes is refresh_token grants answered with a new token.
	Refreshes int
	// InvalidGrants is refresh_token grants refused with invalid_grant.
	InvalidGrants int
	// Reuses is refresh tokens presented again after they were rotated;
	// each revoked its family.
	Reuses int
	// RevokedFamilies is token families revoked for reuse.
	RevokedFamilies int
	// Aborted is requests the client abandoned while they were held or
	// delayed; they changed nothing.
	Aborted int
	// Processing is requests received and not yet answered or aborted,
	// Held included.
	Processing int
	// Held is requests inside the function set by SetHold.
	Held int
	// MaxPresented is the most times one refresh token was presented.
	MaxPresented int
}

// Issued is the number of tokens issued: grants plus refreshes.
func (s IdPStats) Issued() int { return s.Grants + s.Refreshes }

type rtState struct {
	family    int
	used      bool
	presented int
}

// IdP is a fake OAuth 2.0 token endpoint on a loopback httptest server.
// It serves the client_credentials and refresh_token grants for
// ClientID/ClientSecret (HTTP Basic or form). Each refresh rotates the
// refresh token; presenting a rotated one again revokes its whole family
// (RFC 9700 §4.14.2), so every later refresh in it fails with
// invalid_grant. It is safe for concurrent use.
type IdP struct {
	srv     *httptest.Server
	opts    IdPOptions
	expires string
	busy    atomic.Int32 // requests being processed

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced on every change of stats
	stats    IdPStats
	seq      int
	families int
	revoked  map[int]bool
	rts      map[string]*rtState
	latestRT string
	issuedAT []string
	hold     func(ctx context.Context) error
}

// NewIdP starts an IdP. Close it when done.
func NewIdP(opts IdPOptions) *IdP {
	if opts.TTL <= 0 {
		opts.TTL = time.Hour
	}
	secs := int64(opts.TTL / time.Second)
	if secs < 1 {
		secs = 1
	}
	p := &IdP{
		opts:    opts,
		expires: strconv.FormatInt(secs, 10),
		changed: make(chan struct{}),
		revoked: map[int]bool{},
		rts:     map[string]*rtState{},
	}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	return p
}

// TokenURL returns the token endpoint's URL (plain http on 127.0.0.1).
func (p *IdP) TokenURL() string { return p.srv.URL + "/token" }

// Close shuts the server down, waiting for requests in progress.
func (p *IdP) Close() { p.srv.Close() }

// CloseClientConnections closes every client connection, which ends the
// requests held by SetHold.
func (p *IdP) CloseClientConnections() { p.srv.CloseClientConnections() }

// SetHold installs a function called with each request's context after
// it is counted and before it is processed, such as one that waits on a
// channel. When it returns an error the request is abandoned unprocessed:
// no token is issued and no refresh token is consumed. Nil removes it.
// A request already inside the previous function stays there.
func (p *IdP) SetHold(hold func(ctx context.Context) error) {
	p.mu.Lock()
	p.hold = hold
	p.mu.Unlock()
}

// Busy reports whether a request is being processed, held or delayed. It
// costs one atomic load.
func (p *IdP) Busy() bool { return p.busy.Load() > 0 }

// Stats returns the counts so far.
func (p *IdP) Stats() IdPStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// LatestRefreshToken returns the refresh token issued last, or "".
func (p *IdP) LatestRefreshToken() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.latestRT
}

// AccessTokens returns the access tokens issued so far, oldest first.
func (p *IdP) AccessTokens() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.issuedAT...)
}

// WaitFor blocks until cond holds for the stats, or ctx is done.
func (p *IdP) WaitFor(ctx context.Context, cond func(IdPStats) bool) error {
	for {
		p.mu.Lock()
		ok, ch := cond(p.stats), p.changed
		p.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("loadtest: waiting on the IdP (%+v): %w", p.Stats(), ctx.Err())
		}
	}
}

// update changes the stats under p.mu and wakes WaitFor.
func (p *IdP) update(f func(s *IdPStats)) {
	p.mu.Lock()
	p.updateLocked(f)
	p.mu.Unlock()
}

func (p *IdP) updateLocked(f func(s *IdPStats)) {
	f(&p.stats)
	close(p.changed)
	p.changed = make(chan struct{})
}

// Credentials returns an "oauth2" client_credentials credential for this
// IdP, for a strategy/oauth2 Strategy with AllowInsecureHTTP.
func (p *IdP) Credentials() *core.Credentials {
	c := &core.Credentials{Type: oauth2.Type}
	err := c.SetSection(oauth2.Type, oauth2.Section{
		ClientID:     ClientID,
		ClientSecret: ClientSecret,
		Endpoint:     xoauth2.Endpoint{TokenURL: p.TokenURL(), AuthStyle: xoauth2.AuthStyleInHeader},
		GrantType:    "client_credentials",
	})
	if err != nil {
		panic(err) // a fixed, valid section always encodes
	}
	return c
}

func (p *IdP) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/token" {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request")
		return
	}
	if !clientAuthenticated(r) {
		oauthError(w, http.StatusUnauthorized, "invalid_client")
		return
	}
	p.busy.Add(1)
	defer p.busy.Add(-1)
	p.mu.Lock()
	hold := p.hold
	p.updateLocked(func(s *IdPStats) {
		s.Requests++
		s.Processing++
		if hold != nil {
			s.Held++
		}
	})
	p.mu.Unlock()
	defer p.update(func(s *IdPStats) { s.Processing-- })

	if hold != nil {
		err := hold(r.Context())
		p.update(func(s *IdPStats) {
			s.Held--
			if err != nil {
				s.Aborted++
			}
		})
		if err != nil {
			oauthError(w, http.StatusServiceUnavailable, "temporarily_unavailable")
			return
		}
	}
	if p.opts.Latency > 0 {
		t := time.NewTimer(p.opts.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			p.update(func(s *IdPStats) { s.Aborted++ })
			return
		}
	}

	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		p.mu.Lock()
		p.families++
		at, rt := p.issueLocked(p.families, !p.opts.NoRefreshTokens)
		p.updateLocked(func(s *IdPStats) { s.Grants++ })
		p.mu.Unlock()
		p.answer(w, at, rt)
	case "refresh_token":
		p.mu.Lock()
		at, rt, code := p.refreshLocked(r.PostForm.Get("refresh_token"))
		p.mu.Unlock()
		if code != "" {
			oauthError(w, http.StatusBadRequest, code)
			return
		}
		p.answer(w, at, rt)
	default:
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type")
	}
}

// refreshLocked rotates rt, or returns an OAuth error code.
func (p *IdP) refreshLocked(rt string) (at, newRT, code string) {
	st, ok := p.rts[rt]
	if ok {
		st.presented++
		if st.presented > p.stats.MaxPresented {
			p.stats.MaxPresented = st.presented
		}
	}
	switch {
	case !ok || p.revoked[st.family]:
		p.updateLocked(func(s *IdPStats) { s.InvalidGrants++ })
		return "", "", "invalid_grant"
	case st.used:
		p.revoked[st.family] = true
		p.updateLocked(func(s *IdPStats) { s.InvalidGrants++; s.Reuses++; s.RevokedFamilies++ })
		return "", "", "invalid_grant"
	}
	st.used = true
	at, newRT = p.issueLocked(st.family, true)
	p.updateLocked(func(s *IdPStats) { s.Refreshes++ })
	return at, newRT, ""
}

func (p *IdP) issueLocked(family int, withRT bool) (at, rt string) {
	p.seq++
	at = fmt.Sprintf("at-%d-%d", family, p.seq)
	p.issuedAT = append(p.issuedAT, at)
	if withRT {
		rt = fmt.Sprintf("rt-%d-%d", family, p.seq)
		p.rts[rt] = &rtState{family: family}
		p.latestRT = rt
	}
	return at, rt
}

func (p *IdP) answer(w http.ResponseWriter, at, rt string) {
	body := map[string]any{"access_token": at, "token_type": "Bearer", "expires_in": json.Number(p.expires)}
	if rt != "" {
		body["refresh_token"] = rt
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(body)
}

func oauthError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
}

// clientAuthenticated checks HTTP Basic (form-encoded parts, RFC 6749
// §2.3.1) or client_id and client_secret in the form.
func clientAuthenticated(r *http.Request) bool {
	id, secret, ok := r.BasicAuth()
	if ok {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return false
		}
	} else {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	}
	return subtle.ConstantTimeCompare([]byte(id), []byte(ClientID)) == 1 &&
		subtle.ConstantTimeCompare([]byte(secret), []byte(ClientSecret)) == 1
}
