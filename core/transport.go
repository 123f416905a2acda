package core

import (
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Transport is an http.RoundTripper that authorizes every request with the
// current token for one credential, so a client built on it never goes
// stale.
//
// When the API answers 401 Unauthorized and the request body can be sent
// again (no body, or GetBody is set), the Transport refreshes the token
// once, unless another request already did, and retries once. The second
// answer goes back to the caller, whatever it is.
//
// A redirect to another host is followed without the credential.
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
	if crossHostRedirect(req) {
		// A redirect to another host never receives the credential.
		return t.base().RoundTrip(req)
	}
	tok, err := t.m.Token(req.Context(), t.name)
	if err != nil {
		closeBody()
		return nil, fmt.Errorf("core: transport: %w", err)
	}
	r2 := authorized(req, tok)
	resp, err := t.base().RoundTrip(r2)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replayable(req) {
		return resp, err
	}
	tok2, err := t.m.refreshAfterReject(req.Context(), t.name, tok)
	if err != nil || tok2.Equal(tok) {
		// Nothing better to send: the caller gets the API's answer.
		return resp, nil
	}
	r3 := authorized(req, tok2)
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return resp, nil
		}
		r3.Body = body
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return t.base().RoundTrip(r3)
}

// crossHostRedirect reports whether req is a redirect hop (the http.Client
// sets Response on it) to a host other than the first request's.
func crossHostRedirect(req *http.Request) bool {
	first := req
	for first.Response != nil && first.Response.Request != nil {
		first = first.Response.Request
	}
	return first != req && !strings.EqualFold(first.URL.Host, req.URL.Host)
}

func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

func authorized(req *http.Request, tok *Token) *http.Request {
	r := req.Clone(req.Context())
	tok.SetAuth(r)
	return r
}
