package core

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/plexusone/omnitoken/internal/loopback"
)

// Transport is an http.RoundTripper that authorizes every request with the
// current token for one credential, so a client built on it never goes
// stale.
//
// When the API answers 401 Unauthorized and the request body can be sent
// again (no body, or GetBody is set), the Transport refreshes the token
// once, unless another request already did, and retries once. The second
// answer goes back to the caller, whatever it is. Refreshes forced by 401s
// are bounded per credential: while the API refuses fresh tokens, they
// back off from one second up to five minutes, and a 401 meanwhile goes
// back to the caller without a refresh. The bound is lifted when the API
// accepts a token that no forced refresh gave, such as the next one
// refreshed before expiry.
//
// A credential never travels over plain http to a host that is not
// loopback (localhost, 127.0.0.0/8, ::1): such a request is refused with
// an error. A redirect to another host, or to plain http on a host that is
// not loopback, is followed without the credential.
type Transport struct {
	m    *Manager
	name string
	// Base does the round trips. Nil means http.DefaultTransport.
	Base http.RoundTripper
}

// Transport returns a Transport for the named credential over base.
func (m *Manager) Transport(name string, base http.RoundTripper) *Transport {
	return &Transport{m: m, name: name, Base: base}
}

func (t *Transport) base() http.RoundTripper {
	if t.Base != nil {
		return t.Base
	}
	return http.DefaultTransport
}

// RoundTrip implements http.RoundTripper. It does not modify req.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	closeBody := func() {
		if req.Body != nil {
			_ = req.Body.Close()
		}
	}
	if redirect, ok := credentialAllowed(req); !ok {
		if redirect {
			// A redirect hop that may not have the credential is
			// followed without it.
			return t.base().RoundTrip(req)
		}
		closeBody()
		return nil, fmt.Errorf("core: transport %q: refusing to send a credential over plain http to %s: use https", t.name, req.URL.Hostname())
	}
	e, c, err := t.m.get(req.Context(), t.name)
	if err != nil {
		closeBody()
		return nil, fmt.Errorf("core: transport: %w", err)
	}
	resp, err := t.base().RoundTrip(authorized(req, c))
	if err != nil {
		return resp, err
	}
	if resp.StatusCode != http.StatusUnauthorized {
		e.accepted(c.st.Generation)
		return resp, nil
	}
	if !replayable(req) {
		return resp, nil
	}
	_, c2, err := t.m.fetch(req.Context(), t.name, modeStale, c.st.Generation)
	if err != nil || c2 == c || c2.st.Token.Equal(&c.st.Token) {
		// Nothing better to send: the caller gets the API's answer.
		return resp, nil
	}
	e.forcedGen.Store(c2.st.Generation)
	r3 := authorized(req, c2)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r3.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	resp, err = t.base().RoundTrip(r3)
	if err == nil && resp.StatusCode != http.StatusUnauthorized {
		e.accepted(c2.st.Generation)
	}
	return resp, err
}

// credentialAllowed reports whether req may carry the credential. It may
// not over plain http to a host that is not loopback, nor on a redirect hop
// (the http.Client sets Response on it) to a host other than the first
// request's. redirect reports whether req is such a hop.
func credentialAllowed(req *http.Request) (redirect, ok bool) {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	redirect = first != req
	if redirect && !strings.EqualFold(first.URL.Host, req.URL.Host) {
		return true, false
	}
	if strings.EqualFold(req.URL.Scheme, "http") && !loopback.Host(req.URL.Hostname()) {
		return redirect, false
	}
	return redirect, true
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// authorized is a copy of req that carries c's credential. It is shallow,
// as x/oauth2's Transport makes it, but for what setAuth changes: the
// header map is new, its value slices are shared but capped so that an
// append by a later RoundTripper cannot write into req's, and the URL is
// copied only when the token adds query parameters.
func authorized(req *http.Request, c *cached) *http.Request {
	r := new(http.Request)
	*r = *req
	r.Header = make(http.Header, len(req.Header)+1+len(c.st.Token.Header))
	for k, vs := range req.Header {
		r.Header[k] = vs[:len(vs):len(vs)]
	}
	if len(c.st.Token.Query) > 0 {
		u := *req.URL
		r.URL = &u
	}
	c.setAuth(r)
	return r
}
