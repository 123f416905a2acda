package oauth2

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loopback"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
	xoauth2 "golang.org/x/oauth2"
)

// AuthCodeURL returns the authorization URL (RFC 6749 §4.1.1) for m's
// credential stored under name: its client ID, redirect URL, scopes,
// AuthCodeOpts and OAuthEndpointID, the given state, and, when verifier is
// not empty, the PKCE S256 challenge (RFC 7636) for it. A credential with
// "pkce": true requires a verifier; make one with
// golang.org/x/oauth2.GenerateVerifier and keep it, with the state, for
// Exchange. opts are added last and win, for example
// oauth2.SetAuthURLParam("redirect_uri", …).
func (s *Strategy) AuthCodeURL(ctx context.Context, m *core.Manager, name, state, verifier string, opts ...xoauth2.AuthCodeOption) (string, error) {
	c, err := m.Credentials(ctx, name)
	if err != nil {
		return "", fmt.Errorf("oauth2: AuthCodeURL: %w", err)
	}
	return s.authCodeURL(c, state, verifier, opts...)
}

func (s *Strategy) authCodeURL(c *core.Credentials, state, verifier string, opts ...xoauth2.AuthCodeOption) (string, error) {
	cfg, err := s.load(c)
	if err != nil {
		return "", err
	}
	if cfg.sec.Endpoint.AuthURL == "" {
		return "", fmt.Errorf("oauth2: %w: endpoint.AuthURL is empty", core.ErrInvalidCredentials)
	}
	if state == "" {
		return "", errors.New("oauth2: AuthCodeURL: state is empty; it protects the redirect against CSRF")
	}
	if cfg.sec.PKCE && verifier == "" {
		return "", errors.New("oauth2: AuthCodeURL: the credential requires PKCE and verifier is empty")
	}
	all := cfg.authParams(cfg.sec.AuthCodeOpts)
	if verifier != "" {
		all = append(all, xoauth2.S256ChallengeOption(verifier))
	}
	all = append(all, opts...)
	return cfg.xconfig().AuthCodeURL(state, all...), nil
}

// Exchange trades an authorization code for tokens (RFC 6749 §4.1.3, with
// the PKCE verifier when not empty) and stores them in m under name with
// core.Manager.PutToken, so the next m.Token(name) returns them and later
// ones refresh them. The credential is m's credential for name; the
// redirect URI sent is its RedirectURL unless opts set "redirect_uri".
func (s *Strategy) Exchange(ctx context.Context, m *core.Manager, name, code, verifier string, opts ...xoauth2.AuthCodeOption) error {
	c, err := m.Credentials(ctx, name)
	if err != nil {
		return fmt.Errorf("oauth2: exchange: %w", err)
	}
	tok, err := s.exchange(ctx, c, code, verifier, opts...)
	if err != nil {
		return err
	}
	if err := m.PutToken(ctx, name, tok); err != nil {
		return fmt.Errorf("oauth2: exchange: %w", err)
	}
	return nil
}

func (s *Strategy) exchange(ctx context.Context, c *core.Credentials, code, verifier string, opts ...xoauth2.AuthCodeOption) (*core.Token, error) {
	cfg, err := s.load(c)
	if err != nil {
		return nil, err
	}
	if code == "" {
		return nil, errors.New("oauth2: exchange: code is empty")
	}
	all := cfg.authParams(cfg.sec.AuthCodeExchangeOpts)
	if verifier != "" {
		all = append(all, xoauth2.VerifierOption(verifier))
	}
	var assertion string
	if !cfg.xAuth() {
		params := url.Values{}
		if _, err := s.clientAuth(cfg, params); err != nil {
			return nil, err
		}
		assertion = params.Get("client_assertion")
		for k := range params {
			all = append(all, xoauth2.SetAuthURLParam(k, params.Get(k)))
		}
	}
	all = append(all, opts...)
	t, err := cfg.xconfig().Exchange(s.xctx(ctx), code, all...)
	if err != nil {
		return nil, fmt.Errorf("oauth2: exchange: %w", tokenhttp.FromRetrieveError(err, cfg.secrets(code, verifier, assertion)...))
	}
	tok, err := s.fromX(t)
	if err != nil {
		return nil, fmt.Errorf("oauth2: exchange: %w", err)
	}
	return tok, nil
}

// authParams turns extra parameters (AuthCodeOpts or
// AuthCodeExchangeOpts) and OAuthEndpointID into x/oauth2 options. Each
// value of a repeated key is set in turn, so the last one is sent, as
// x/oauth2 does.
func (cfg *config) authParams(extra map[string][]string) []xoauth2.AuthCodeOption {
	var out []xoauth2.AuthCodeOption
	for k, vs := range extra {
		for _, v := range vs {
			out = append(out, xoauth2.SetAuthURLParam(k, v))
		}
	}
	if cfg.sec.OAuthEndpointID != "" {
		out = append(out, xoauth2.SetAuthURLParam("endpoint_id", cfg.sec.OAuthEndpointID))
	}
	return out
}

// callbackTimeout bounds reading one redirect request.
const callbackTimeout = 10 * time.Second

// AuthorizeLocal runs the authorization-code flow with PKCE for a CLI, as
// RFC 8252 describes for native apps: it listens on a 127.0.0.1 loopback
// redirect, calls openURL with the authorization URL (open a browser, or
// print it), waits for the redirect carrying the code and a matching
// state, exchanges the code and stores the tokens in m under name.
//
// The redirect URI is the credential's RedirectURL when it is an http
// loopback URL (its port, or a free one when it has none), else
// http://127.0.0.1:<free port>/callback. It returns when the tokens are
// stored, the server answers with an error, or ctx ends; the listener is
// closed before it returns.
func (s *Strategy) AuthorizeLocal(ctx context.Context, m *core.Manager, name string, openURL func(string) error) error {
	c, err := m.Credentials(ctx, name)
	if err != nil {
		return fmt.Errorf("oauth2: authorize: %w", err)
	}
	cfg, err := s.load(c)
	if err != nil {
		return err
	}
	host, port, path := "127.0.0.1", "0", "/callback"
	redirectHost := host
	if u, err := url.Parse(cfg.sec.RedirectURL); err == nil && u.Scheme == "http" && loopback.Host(u.Hostname()) {
		host, redirectHost = u.Hostname(), u.Hostname()
		if host == "localhost" {
			host = "127.0.0.1"
		}
		if u.Port() != "" {
			port = u.Port()
		}
		if u.Path != "" {
			path = u.Path
		}
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		return fmt.Errorf("oauth2: authorize: listen for the redirect: %w", err)
	}
	_, lport, _ := net.SplitHostPort(ln.Addr().String())
	redirect := (&url.URL{Scheme: "http", Host: net.JoinHostPort(redirectHost, lport), Path: path}).String()
	state, verifier := rand.Text(), xoauth2.GenerateVerifier() // 128 random bits each

	type result struct {
		code string
		err  error
	}
	results := make(chan result, 1)
	deliver := func(r result) {
		select {
		case results <- r:
		default:
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if q.Get("state") != state {
			http.Error(w, "state does not match", http.StatusBadRequest)
			return
		}
		if e := q.Get("error"); e != "" {
			oe := &core.OAuthError{Code: tokenhttp.Redact(e), Description: tokenhttp.Redact(q.Get("error_description"), cfg.secrets()...)}
			deliver(result{err: fmt.Errorf("oauth2: authorize: the authorization server refused: %w", oe)})
			fmt.Fprintf(w, "<!doctype html><p>Authorization failed: %s. You may close this window.</p>", html.EscapeString(oe.Code))
			return
		}
		code := q.Get("code")
		if code == "" {
			http.Error(w, "no code", http.StatusBadRequest)
			return
		}
		deliver(result{code: code})
		fmt.Fprint(w, "<!doctype html><p>Authorization complete. You may close this window.</p>")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: callbackTimeout, ReadTimeout: callbackTimeout, WriteTimeout: callbackTimeout}
	served := make(chan struct{})
	go func() {
		defer close(served)
		_ = srv.Serve(ln)
	}()
	defer func() {
		_ = srv.Close()
		<-served
	}()

	authURL, err := s.authCodeURL(c, state, verifier, xoauth2.SetAuthURLParam("redirect_uri", redirect))
	if err != nil {
		return err
	}
	if err := openURL(authURL); err != nil {
		return fmt.Errorf("oauth2: authorize: open URL: %w", err)
	}
	var res result
	select {
	case res = <-results:
	case <-ctx.Done():
		return fmt.Errorf("oauth2: authorize: waiting for the redirect: %w", ctx.Err())
	}
	if res.err != nil {
		return res.err
	}
	tok, err := s.exchange(ctx, c, res.code, verifier, xoauth2.SetAuthURLParam("redirect_uri", redirect))
	if err != nil {
		return err
	}
	if err := m.PutToken(ctx, name, tok); err != nil {
		return fmt.Errorf("oauth2: authorize: %w", err)
	}
	return nil
}
