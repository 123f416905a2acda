package oauth2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/grokify/goauth/endpoints"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
	xoauth2 "golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// Type is the credential type served: goauth's "oauth2".
const Type = "oauth2"

// Options configures a Strategy. The zero value is usable.
type Options struct {
	// HTTPClient provides the Transport (and its TLS settings) and the
	// per-request timeout for token requests. Redirects are never followed
	// whatever its CheckRedirect says. Nil means a client that requires
	// TLS 1.2 or later.
	HTTPClient *http.Client
	// AllowInsecureHTTP allows plain http endpoints on any host. Plain
	// http to a loopback host (localhost, 127.0.0.0/8, ::1) is allowed
	// without it; to any other host it is refused, with an error matching
	// core.ErrInvalidCredentials, before any request. With it, client
	// secrets, passwords and tokens cross the network in the clear.
	AllowInsecureHTTP bool
	// Clock is the source of time for token expiry, assertions and device
	// polling. Default: core.SystemClock. Tests pass the same
	// coretest.FakeClock here and to the core.Manager.
	Clock core.Clock
	// OnDeviceCode, when set, is called once for each new device
	// authorization (RFC 8628) with the verification URI and user code to
	// show a person; Token then keeps polling until the person approves,
	// denies, the code expires or ctx ends. When nil, Token returns a
	// *core.ReauthRequiredError carrying the code at once, and each later
	// Token call polls the same device code at most once per interval.
	// An error from OnDeviceCode abandons the authorization.
	OnDeviceCode func(ctx context.Context, prompt *core.ReauthRequiredError) error
}

// Strategy obtains OAuth 2.0 tokens for "oauth2" credentials. It is safe
// for concurrent use. Like every strategy it never caches a token: the
// core.Manager does. The only state it keeps is the in-progress device
// authorizations, so that a person's approval is picked up by a later call.
type Strategy struct {
	hc       *http.Client
	insecure bool
	clock    core.Clock
	onDevice func(context.Context, *core.ReauthRequiredError) error

	mu      sync.Mutex
	devices map[[32]byte]*deviceState
}

// New returns a Strategy.
func New(opts Options) *Strategy {
	s := &Strategy{
		hc:       tokenhttp.NewClient(opts.HTTPClient),
		insecure: opts.AllowInsecureHTTP,
		clock:    opts.Clock,
		onDevice: opts.OnDeviceCode,
		devices:  map[[32]byte]*deviceState{},
	}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	return s
}

// Type returns "oauth2".
func (s *Strategy) Type() string { return Type }

// Close implements driver.Closer: it releases the idle connections of the
// transport the Strategy made itself; a transport given in
// Options.HTTPClient is the caller's and is left alone. It is safe to call
// more than once, and on a Strategy never used.
func (s *Strategy) Close() error {
	tokenhttp.Release(s.hc)
	return nil
}

// config is a credential resolved for use.
type config struct {
	sec               Section
	grant             string
	method            string
	tokenURL          string
	signer            *signer
	seed              *xoauth2.Token
	assertionLifetime time.Duration
	fp                [32]byte
}

// load decodes and checks a credential. Every error matches
// core.ErrInvalidCredentials and quotes no secret.
func (s *Strategy) load(c *core.Credentials) (*config, error) {
	if c == nil {
		return nil, fmt.Errorf("oauth2: %w: credentials are nil", core.ErrInvalidCredentials)
	}
	cfg := &config{fp: c.Fingerprint()}
	if err := c.DecodeNamedSection(Type, &cfg.sec); err != nil {
		return nil, fmt.Errorf("oauth2: %w", err)
	}
	sec := &cfg.sec
	invalid := func(format string, a ...any) error {
		return fmt.Errorf("oauth2: %w: "+format, append([]any{core.ErrInvalidCredentials}, a...)...)
	}

	if sec.Endpoint == (xoauth2.Endpoint{}) && strings.TrimSpace(c.Service) != "" {
		ep, serverURL, err := endpoints.NewEndpoint(c.Service, c.Subdomain)
		if err != nil {
			return nil, invalid("endpoint is empty and service %q has no known endpoint", printable(c.Service))
		}
		sec.Endpoint = ep
		if strings.TrimSpace(sec.ServerURL) == "" {
			sec.ServerURL = serverURL
		}
	}
	cfg.tokenURL = strings.TrimSpace(sec.Endpoint.TokenURL)

	switch {
	case sec.Token != nil && (sec.Token.AccessToken != "" || sec.Token.RefreshToken != ""):
		cfg.seed = sec.Token
	case c.Token != nil && (c.Token.AccessToken != "" || c.Token.RefreshToken != ""):
		cfg.seed = c.Token
	}

	cfg.grant = NormalizeGrantType(sec.GrantType)
	if strings.TrimSpace(sec.GrantType) == "" {
		if cfg.seed == nil {
			return nil, invalid("grantType is empty and the credential holds no token")
		}
		cfg.grant = grantStatic
	}
	if cfg.grant == "" {
		return nil, invalid("grantType %q is not supported", printable(sec.GrantType))
	}

	method, err := authMethod(cfg)
	if err != nil {
		return nil, err
	}
	cfg.method = method

	needsTokenURL := cfg.grant != grantStatic || (cfg.seed != nil && cfg.seed.RefreshToken != "")
	if needsTokenURL {
		if err := tokenhttp.CheckEndpoint("endpoint.TokenURL", cfg.tokenURL, s.insecure); err != nil {
			return nil, fmt.Errorf("oauth2: %w", err)
		}
	}
	if sec.Endpoint.AuthURL != "" {
		if err := tokenhttp.CheckEndpoint("endpoint.AuthURL", sec.Endpoint.AuthURL, s.insecure); err != nil {
			return nil, fmt.Errorf("oauth2: %w", err)
		}
	}
	if sec.Endpoint.DeviceAuthURL != "" || cfg.grant == GrantDeviceCode {
		if err := tokenhttp.CheckEndpoint("endpoint.DeviceAuthURL", sec.Endpoint.DeviceAuthURL, s.insecure); err != nil {
			return nil, fmt.Errorf("oauth2: %w", err)
		}
	}

	switch cfg.method {
	case AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT:
		if sec.ClientID == "" || sec.ClientSecret == "" {
			return nil, invalid("client authentication %s needs clientID and clientSecret", cfg.method)
		}
	case AuthPrivateKeyJWT:
		if sec.ClientID == "" {
			return nil, invalid("client authentication %s needs clientID", cfg.method)
		}
	}
	needKey := cfg.method == AuthPrivateKeyJWT || (cfg.grant == GrantJWTBearer && sec.JWT == "")
	if needKey || sec.meta(MetaPrivateKey) != "" {
		if cfg.signer, err = parseSigner(sec); err != nil {
			return nil, err
		}
	}

	switch cfg.grant {
	case GrantClientCredentials:
		if sec.ClientID == "" {
			return nil, invalid("grant client_credentials needs clientID")
		}
		if cfg.method == AuthNone {
			return nil, invalid("grant client_credentials needs client authentication (clientSecret or metadata.privateKey)")
		}
	case GrantPassword:
		if sec.Username == "" || sec.Password == "" {
			return nil, invalid("grant password needs username and password")
		}
	case GrantAuthorizationCode, GrantDeviceCode:
		if sec.ClientID == "" {
			return nil, invalid("grant %s needs clientID", grantLabel(cfg.grant))
		}
	case GrantJWTBearer:
		if sec.JWT == "" {
			if sec.meta(MetaAssertionIssuer) == "" && sec.ClientID == "" {
				return nil, invalid("grant jwt-bearer needs jwt, or metadata.privateKey with metadata.assertionIssuer or clientID")
			}
			lt := DefaultAssertionLifetime
			if v := sec.meta(MetaAssertionLifetime); v != "" {
				d, err := time.ParseDuration(v)
				if err != nil || d <= 0 || d > MaxAssertionLifetime {
					return nil, invalid("metadata.%s must be a duration in (0, %s]", MetaAssertionLifetime, MaxAssertionLifetime)
				}
				lt = d
			}
			cfg.assertionLifetime = lt
		}
	case GrantTokenExchange:
		if subjectToken(sec) == "" {
			return nil, invalid("grant token-exchange needs a subject token: tokenBodyOpts.subject_token or metadata.%s", MetaSubjectToken)
		}
	case GrantAccountCredentials:
		if sec.ClientID == "" || cfg.method == AuthNone {
			return nil, invalid("grant account_credentials needs clientID and clientSecret")
		}
	case GrantRefreshToken:
		if cfg.seed == nil || cfg.seed.RefreshToken == "" {
			return nil, invalid("grant refresh_token needs a token with a refresh_token")
		}
	case grantStatic:
		if cfg.seed == nil {
			return nil, invalid("grant custom_static needs a token")
		}
	}
	return cfg, nil
}

// authMethod resolves the client authentication method: metadata
// ["tokenEndpointAuthMethod"], else endpoint.AuthStyle, else by what the
// credential holds.
func authMethod(cfg *config) (string, error) {
	sec := &cfg.sec
	if m := strings.ToLower(sec.meta(MetaTokenEndpointAuthMethod)); m != "" {
		switch m {
		case AuthClientSecretBasic, AuthClientSecretPost, AuthClientSecretJWT, AuthPrivateKeyJWT, AuthNone:
			return m, nil
		}
		return "", fmt.Errorf("oauth2: %w: metadata.%s %q is not one of %s, %s, %s, %s, %s", core.ErrInvalidCredentials,
			MetaTokenEndpointAuthMethod, printable(m), AuthClientSecretBasic, AuthClientSecretPost, AuthPrivateKeyJWT, AuthClientSecretJWT, AuthNone)
	}
	switch {
	case sec.ClientSecret != "" && sec.Endpoint.AuthStyle == xoauth2.AuthStyleInParams:
		return AuthClientSecretPost, nil
	case sec.ClientSecret != "":
		// AuthStyleInHeader, and AuthStyleAutoDetect too: RFC 6749 §2.3.1
		// says servers must support Basic, and probing would send the
		// secret twice and double every failing request.
		return AuthClientSecretBasic, nil
	case sec.meta(MetaPrivateKey) != "" && cfg.grant != GrantJWTBearer:
		return AuthPrivateKeyJWT, nil
	}
	return AuthNone, nil
}

// subjectToken returns the token exchange subject token.
func subjectToken(sec *Section) string {
	if v := sec.TokenBodyOpts.Get("subject_token"); v != "" {
		return v
	}
	return sec.meta(MetaSubjectToken)
}

// grantLabel is a grant's short name for messages.
func grantLabel(g string) string {
	switch g {
	case GrantDeviceCode:
		return "device_code"
	case GrantJWTBearer:
		return "jwt-bearer"
	case GrantTokenExchange:
		return "token-exchange"
	}
	return g
}

// secrets lists what must never appear in an error, plus extra: the
// credential's secrets, and the Basic header value that carries the client
// secret (a server may echo the header).
func (cfg *config) secrets(extra ...string) []string {
	out := []string{cfg.sec.ClientSecret, cfg.sec.Password, cfg.sec.JWT,
		cfg.sec.meta(MetaSubjectToken), cfg.sec.meta(MetaActorToken),
		cfg.sec.TokenBodyOpts.Get("subject_token"), cfg.sec.TokenBodyOpts.Get("actor_token")}
	if cfg.sec.ClientSecret != "" {
		out = append(out, basicCredentials(cfg.sec.ClientID, cfg.sec.ClientSecret))
	}
	if cfg.seed != nil {
		out = append(out, cfg.seed.AccessToken, cfg.seed.RefreshToken)
	}
	return append(out, extra...)
}

// xconfig returns the x/oauth2 configuration for the client
// authentication methods x/oauth2 implements itself.
func (cfg *config) xconfig() *xoauth2.Config {
	c := &xoauth2.Config{
		ClientID: cfg.sec.ClientID,
		Endpoint: xoauth2.Endpoint{
			AuthURL:       cfg.sec.Endpoint.AuthURL,
			DeviceAuthURL: cfg.sec.Endpoint.DeviceAuthURL,
			TokenURL:      cfg.tokenURL,
			AuthStyle:     xoauth2.AuthStyleInParams,
		},
		RedirectURL: cfg.sec.RedirectURL,
		Scopes:      cfg.sec.Scopes,
	}
	switch cfg.method {
	case AuthClientSecretBasic:
		c.ClientSecret = cfg.sec.ClientSecret
		c.Endpoint.AuthStyle = xoauth2.AuthStyleInHeader
	case AuthClientSecretPost:
		c.ClientSecret = cfg.sec.ClientSecret
	}
	return c
}

// xAuth reports whether x/oauth2 can authenticate the client by itself.
func (cfg *config) xAuth() bool {
	return cfg.method == AuthClientSecretBasic || cfg.method == AuthClientSecretPost || cfg.method == AuthNone
}

// xctx passes the strategy's HTTP client to x/oauth2 for one call.
func (s *Strategy) xctx(ctx context.Context) context.Context {
	return context.WithValue(ctx, xoauth2.HTTPClient, s.hc)
}

// Validate implements driver.Validator: the section decodes, the grant type
// is supported, the fields the grant needs are present, the private key
// (if any) parses, and the endpoints are https (or plain http to a
// loopback host, or to any host with AllowInsecureHTTP).
func (s *Strategy) Validate(c *core.Credentials) error {
	_, err := s.load(c)
	return err
}

// Token implements core.Strategy. With a refresh token in prev (or in the
// credential's own token when prev is nil) it refreshes; otherwise it
// runs the credential's grant. See the package documentation for what
// each error means.
func (s *Strategy) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	cfg, err := s.load(c)
	if err != nil {
		return nil, err
	}
	if cfg.grant == GrantDeviceCode {
		if st := s.pendingDevice(cfg.fp); st != nil {
			return s.pollDevice(ctx, cfg, st)
		}
	}
	var rt string
	switch {
	case prev != nil:
		rt = prev.RefreshToken
	case cfg.seed != nil:
		if cfg.seed.AccessToken != "" && (cfg.seed.Expiry.IsZero() || s.clock.Now().Before(cfg.seed.Expiry)) {
			return s.seedToken(cfg.seed), nil
		}
		rt = cfg.seed.RefreshToken
	}
	if rt == "" {
		return s.acquire(ctx, cfg)
	}
	tok, err := s.refresh(ctx, cfg, rt)
	if err == nil {
		return tok, nil
	}
	var oe *core.OAuthError
	if !errors.As(err, &oe) || !oe.Permanent() {
		return nil, fmt.Errorf("oauth2: refresh: %w", err)
	}
	if oe.Code == "invalid_grant" {
		switch {
		case unattended(cfg.grant):
			// The refresh token is dead but the grant needs nobody:
			// acquire anew, once.
			return s.acquire(ctx, cfg)
		case cfg.grant == GrantDeviceCode:
			return s.startDevice(ctx, cfg, fmt.Errorf("oauth2: refresh token rejected (invalid_grant): %w", core.ErrTokenExpired))
		case cfg.grant == GrantAuthorizationCode:
			return nil, fmt.Errorf("oauth2: refresh: %w: %w", core.ErrTokenExpired,
				&core.ReauthRequiredError{Err: fmt.Errorf("oauth2: authorize again (AuthorizeLocal, or AuthCodeURL and Exchange): %w", err)})
		}
	}
	return nil, fmt.Errorf("oauth2: refresh: %w: %w", core.ErrTokenExpired, err)
}

// seedToken converts the credential's own token.
func (s *Strategy) seedToken(t *xoauth2.Token) *core.Token {
	return &core.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken, Expiry: t.Expiry}
}

// acquire runs the credential's grant.
func (s *Strategy) acquire(ctx context.Context, cfg *config) (*core.Token, error) {
	var tok *core.Token
	var err error
	switch cfg.grant {
	case GrantClientCredentials:
		tok, err = s.clientCredentials(ctx, cfg)
	case GrantPassword:
		tok, err = s.password(ctx, cfg)
	case GrantJWTBearer:
		tok, err = s.jwtBearer(ctx, cfg)
	case GrantTokenExchange:
		tok, err = s.tokenExchange(ctx, cfg)
	case GrantAccountCredentials:
		tok, err = s.accountCredentials(ctx, cfg)
	case GrantDeviceCode:
		return s.startDevice(ctx, cfg, nil)
	case GrantAuthorizationCode:
		return nil, fmt.Errorf("oauth2: authorization_code: %w", &core.ReauthRequiredError{
			Err: errors.New("oauth2: the credential holds no token yet; authorize with AuthorizeLocal, or AuthCodeURL and Exchange"),
		})
	default: // static, refresh_token: the credential's token has expired
		return nil, fmt.Errorf("oauth2: %w: the credential's token has expired and it has no refresh token", core.ErrTokenExpired)
	}
	if err != nil {
		var oe *core.OAuthError
		if cfg.grant == GrantJWTBearer && cfg.sec.JWT == "" && errors.As(err, &oe) && oe.Code == "invalid_grant" {
			// RFC 7523 §3.1: a rejected assertion is invalid_grant; the
			// usual causes are the claims and this host's clock.
			return nil, fmt.Errorf("oauth2: jwt-bearer: assertion rejected; check metadata.assertionIssuer, assertionSubject, assertionAudience and this host's clock (iat/exp): %w", err)
		}
		return nil, fmt.Errorf("oauth2: %s: %w", grantLabel(cfg.grant), err)
	}
	return tok, nil
}

// fromX converts an x/oauth2 token, computing the expiry by the
// strategy's clock from the clamped expires_in. A zero or negative
// expires_in is tokenhttp.ErrExpiredOnArrival.
func (s *Strategy) fromX(t *xoauth2.Token) (*core.Token, error) {
	tok := &core.Token{AccessToken: t.AccessToken, TokenType: t.TokenType, RefreshToken: t.RefreshToken}
	if err := s.setExpiry(tok, t.Extra("expires_in")); err != nil {
		return nil, err
	}
	for _, k := range []string{"id_token", "scope", "issued_token_type", "refresh_token_expires_in"} {
		if v := t.Extra(k); v != nil && v != "" {
			if tok.Extra == nil {
				tok.Extra = map[string]any{}
			}
			tok.Extra[k] = v
		}
	}
	return tok, nil
}

// setExpiry sets tok's expiry by the strategy's clock from a raw
// expires_in, bounded by tokenhttp.ExpiresIn; no expires_in, no expiry.
func (s *Strategy) setExpiry(tok *core.Token, expiresIn any) error {
	tok.Expiry = time.Time{}
	ttl, ok, err := tokenhttp.ExpiresIn(expiresIn)
	if err != nil {
		return err
	}
	if ok {
		tok.Expiry = s.clock.Now().Add(ttl)
	}
	return nil
}

// post sends a hand-written token request with client authentication.
func (s *Strategy) post(ctx context.Context, cfg *config, form url.Values, secrets ...string) (*core.Token, error) {
	h, err := s.clientAuth(cfg, form)
	if err != nil {
		return nil, err
	}
	secrets = append(secrets, form.Get("client_assertion"))
	resp, err := tokenhttp.Post(ctx, s.hc, cfg.tokenURL, form, h, cfg.secrets(secrets...)...)
	if err != nil {
		return nil, err
	}
	tok := resp.Token
	if err := s.setExpiry(tok, resp.Raw["expires_in"]); err != nil {
		return nil, err
	}
	return tok, nil
}

// bodyOpts returns a copy of TokenBodyOpts without the keys in drop.
func (cfg *config) bodyOpts(drop ...string) url.Values {
	v := url.Values{}
	for k, vs := range cfg.sec.TokenBodyOpts {
		v[k] = append([]string(nil), vs...)
	}
	for _, k := range drop {
		delete(v, k)
	}
	return v
}

// reserved are parameters the strategy sets; TokenBodyOpts never override them.
var reserved = []string{"grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
	"username", "password", "assertion", "refresh_token", "code", "device_code"}

func (cfg *config) form(grant string) url.Values {
	f := cfg.bodyOpts(reserved...)
	f.Set("grant_type", grant)
	if len(cfg.sec.Scopes) > 0 {
		f.Set("scope", strings.Join(cfg.sec.Scopes, " "))
	}
	return f
}

func (s *Strategy) clientCredentials(ctx context.Context, cfg *config) (*core.Token, error) {
	params := cfg.bodyOpts(reserved...)
	if len(cfg.sec.Scopes) > 0 {
		params.Del("scope")
	}
	if !cfg.xAuth() {
		if _, err := s.clientAuth(cfg, params); err != nil {
			return nil, err
		}
	}
	x := cfg.xconfig()
	cc := &clientcredentials.Config{
		ClientID:       x.ClientID,
		ClientSecret:   x.ClientSecret,
		TokenURL:       x.Endpoint.TokenURL,
		Scopes:         x.Scopes,
		EndpointParams: params,
		AuthStyle:      x.Endpoint.AuthStyle,
	}
	t, err := cc.Token(s.xctx(ctx))
	if err != nil {
		return nil, tokenhttp.FromRetrieveError(err, cfg.secrets(params.Get("client_assertion"))...)
	}
	return s.fromX(t)
}

// password sends the RFC 6749 §4.3 request, and refresh the §6 request,
// by hand through internal/tokenhttp, for every client authentication.
// x/oauth2's PasswordCredentialsToken and refreshing TokenSource take no
// extra form parameters, so they cannot carry a client assertion
// (private_key_jwt, client_secret_jwt) or TokenBodyOpts; using them for
// the other methods would give each grant two paths to the token
// endpoint, with two ways of reading answers and redacting errors.
// tokenhttp keeps, on this one path, what both had: the RFC 6749 error
// code in core.OAuthError, Retry-After, the 1 MiB cap on the answer, no
// redirects, and secrets redacted from errors on every status.
func (s *Strategy) password(ctx context.Context, cfg *config) (*core.Token, error) {
	f := cfg.form(GrantPassword)
	f.Set("username", cfg.sec.Username)
	f.Set("password", cfg.sec.Password)
	return s.post(ctx, cfg, f)
}

// refresh uses rt; a response without a refresh token keeps rt (the
// server did not rotate it). See password for why it is hand-written.
func (s *Strategy) refresh(ctx context.Context, cfg *config, rt string) (*core.Token, error) {
	f := url.Values{"grant_type": {GrantRefreshToken}, "refresh_token": {rt}}
	tok, err := s.post(ctx, cfg, f, rt)
	if err != nil {
		return nil, err
	}
	if tok.RefreshToken == "" {
		tok.RefreshToken = rt
	}
	return tok, nil
}

func (s *Strategy) jwtBearer(ctx context.Context, cfg *config) (*core.Token, error) {
	a, err := s.grantAssertion(cfg)
	if err != nil {
		return nil, err
	}
	f := cfg.form(GrantJWTBearer)
	f.Set("assertion", a)
	return s.post(ctx, cfg, f, a)
}

// tokenExchange sends an RFC 8693 request. The RFC's parameters come from
// TokenBodyOpts under their own names, or from the metadata keys.
func (s *Strategy) tokenExchange(ctx context.Context, cfg *config) (*core.Token, error) {
	f := cfg.form(GrantTokenExchange)
	set := func(param, metaKey, def string) {
		if f.Get(param) != "" {
			return
		}
		if v := cfg.sec.meta(metaKey); v != "" {
			f.Set(param, v)
		} else if def != "" {
			f.Set(param, def)
		}
	}
	set("subject_token", MetaSubjectToken, "")
	set("subject_token_type", MetaSubjectTokenType, TokenTypeAccessToken)
	set("actor_token", MetaActorToken, "")
	if f.Get("actor_token") != "" {
		set("actor_token_type", MetaActorTokenType, TokenTypeAccessToken)
	}
	set("requested_token_type", MetaRequestedTokenType, "")
	set("audience", MetaAudience, "")
	set("resource", MetaResource, "")
	return s.post(ctx, cfg, f)
}

// accountCredentials sends goauth's account_credentials request (Zoom's
// server-to-server OAuth): grant_type=account_credentials plus
// TokenBodyOpts (such as account_id), with client authentication.
func (s *Strategy) accountCredentials(ctx context.Context, cfg *config) (*core.Token, error) {
	return s.post(ctx, cfg, cfg.form(GrantAccountCredentials))
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ driver.Closer    = (*Strategy)(nil)
)
