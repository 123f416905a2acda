package gcpsa

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/internal/pemkey"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
)

// Type is the credential type served: goauth's "gcpsa".
const Type = "gcpsa"

// DefaultTokenURL is where tokens are requested when the account's
// token_uri is empty.
const DefaultTokenURL = google.JWTTokenURL

// serviceAccountType is the "type" of a service account key file.
const serviceAccountType = "service_account"

// ServiceAccount holds the fields of a Google service account JSON key
// file, with the JSON names and order of goauth's google.Credentials. It
// never prints its private key or client secret: String, GoString, Format
// and LogValue redact them.
type ServiceAccount struct {
	// Type is the key file's type: "service_account".
	Type string `json:"type,omitempty"`
	// ClientEmail is the account's address, the assertion's iss.
	ClientEmail string `json:"client_email"`
	// ClientID is the account's numeric ID. It is not sent.
	ClientID string `json:"client_id"`
	// ClientSecret is kept for goauth's format; service accounts have none
	// (secret).
	ClientSecret string `json:"client_secret,omitempty"`
	// ProjectID is the account's Google Cloud project.
	ProjectID string `json:"project_id"`
	// PrivateKey is the PEM RSA key that signs assertions (secret).
	PrivateKey string `json:"private_key"`
	// PrivateKeyID is the key's ID, sent as the assertion's kid.
	PrivateKeyID string `json:"private_key_id"`
	// AuthURI is Google's authorization URL. It is not used.
	AuthURI string `json:"auth_uri,omitempty"`
	// TokenURI is where assertions are exchanged for tokens; empty means
	// DefaultTokenURL.
	TokenURI string `json:"token_uri,omitempty"`
	// AuthProviderX509CertURL is where Google publishes its certificates.
	// It is not used.
	AuthProviderX509CertURL string `json:"auth_provider_x509_cert_url,omitempty"`
	// ClientX509CertURL is where the account's public keys are published.
	// It is not used.
	ClientX509CertURL string `json:"client_x509_cert_url,omitempty"`
	// RedirectURIs is kept for goauth's format. It is not used.
	RedirectURIs []string `json:"redirect_uris,omitempty"`
}

// String describes the account without its secrets.
func (a ServiceAccount) String() string {
	key := "none"
	if a.PrivateKey != "" {
		key = "[REDACTED]"
	}
	return fmt.Sprintf("gcpsa.ServiceAccount{type=%q client_email=%q project_id=%q private_key_id=%q token_uri=%q private_key=%s}",
		a.Type, a.ClientEmail, a.ProjectID, a.PrivateKeyID, a.TokenURI, key)
}

// GoString redacts like String, so %#v is safe.
func (a ServiceAccount) GoString() string { return a.String() }

// Format redacts for every verb.
func (a ServiceAccount) Format(f fmt.State, verb rune) {
	driver.FormatRedacted(f, verb, a.String())
}

// LogValue redacts for log/slog.
func (a ServiceAccount) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_email", a.ClientEmail),
		slog.String("project_id", a.ProjectID),
		slog.String("private_key_id", a.PrivateKeyID),
		slog.String("token_uri", a.TokenURI),
	)
}

// Section is the "gcpsa" section of a credential: goauth's CredentialsGCP.
// It prints redacted, as ServiceAccount does.
type Section struct {
	// GCPCredentials is the service account key.
	GCPCredentials ServiceAccount `json:"gcpCredentials,omitempty"`
	// Scopes are the OAuth scopes requested.
	Scopes []string `json:"scopes,omitempty"`
}

// String describes the section without its secrets.
func (s Section) String() string {
	return fmt.Sprintf("gcpsa.Section{gcpCredentials=%s scopes=%q}", s.GCPCredentials, s.Scopes)
}

// GoString redacts like String, so %#v is safe.
func (s Section) GoString() string { return s.String() }

// Format redacts for every verb.
func (s Section) Format(f fmt.State, verb rune) {
	driver.FormatRedacted(f, verb, s.String())
}

// LogValue redacts for log/slog.
func (s Section) LogValue() slog.Value {
	return slog.GroupValue(slog.Any("gcpCredentials", s.GCPCredentials), slog.Any("scopes", s.Scopes))
}

// CredentialsFromJSON builds a "gcpsa" credential for service "google"
// from a service account JSON key file and the scopes to request. The
// file must be of type "service_account", name a client_email and hold a
// PEM RSA private key; its token_uri, when set, must be an absolute http
// or https URL (whether plain http is allowed is the Strategy's choice).
// Errors match core.ErrInvalidCredentials and never quote the file.
func CredentialsFromJSON(saJSON []byte, scopes []string) (*core.Credentials, error) {
	var sa ServiceAccount
	if err := json.Unmarshal(saJSON, &sa); err != nil {
		return nil, fmt.Errorf("gcpsa: %w: service account JSON does not decode (%s)", core.ErrInvalidCredentials, driver.DescribeJSONError(err))
	}
	if sa.Type != serviceAccountType {
		return nil, fmt.Errorf("gcpsa: %w: key file type is %q, want %q", core.ErrInvalidCredentials, capped(sa.Type), serviceAccountType)
	}
	if err := checkAccount(&sa); err != nil {
		return nil, err
	}
	if sa.TokenURI != "" {
		u, err := url.Parse(sa.TokenURI)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			return nil, fmt.Errorf("gcpsa: %w: token_uri is not an absolute https URL", core.ErrInvalidCredentials)
		}
	}
	c := &core.Credentials{Service: "google", Type: Type}
	if err := c.SetSection(Type, Section{GCPCredentials: sa, Scopes: append([]string(nil), scopes...)}); err != nil {
		return nil, fmt.Errorf("gcpsa: %w", err)
	}
	return c, nil
}

// Options configures a Strategy. Every field is optional.
type Options struct {
	// HTTPClient provides the Transport (and its TLS settings) and the
	// Timeout for token requests. Redirects are never followed, whatever
	// its CheckRedirect. Default: a clone of http.DefaultTransport that
	// requires TLS 1.2, and tokenhttp.RequestTimeout.
	HTTPClient *http.Client
	// AllowInsecureHTTP accepts a plain-http token_uri on any host. A
	// loopback host (localhost, 127.0.0.0/8, ::1) is accepted without it.
	// On any other host the signed assertion and the token cross the
	// network in the clear: anyone on the path can read and replay them.
	AllowInsecureHTTP bool
	// Clock is the source of time for token expiry. Default:
	// core.SystemClock. Tests pass the same coretest.FakeClock here and to
	// the core.Manager. The assertion's iat and exp are set by
	// golang.org/x/oauth2/jwt from the system clock, as Google checks them
	// against real time.
	Clock core.Clock
}

// Strategy obtains access tokens for Google service accounts. It is safe
// for concurrent use and keeps no tokens.
type Strategy struct {
	client   *http.Client
	insecure bool
	clock    core.Clock
}

// New returns a Strategy.
func New(opts Options) *Strategy {
	s := &Strategy{
		client:   tokenhttp.NewClient(opts.HTTPClient),
		insecure: opts.AllowInsecureHTTP,
		clock:    opts.Clock,
	}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	return s
}

// Type returns "gcpsa".
func (s *Strategy) Type() string { return Type }

// Close releases the idle connections of the transport the Strategy made
// itself; a transport given in Options.HTTPClient is left alone. It is
// safe to call more than once, and on a Strategy never used.
func (s *Strategy) Close() error {
	tokenhttp.Release(s.client)
	return nil
}

// Validate checks that c's "gcpsa" section decodes into a usable service
// account: type "service_account" (or empty), a client_email, a PEM RSA
// private key, and a token_uri that is https (or plain http to a loopback
// host, or to any host when Options.AllowInsecureHTTP is set). Errors
// match core.ErrInvalidCredentials.
func (s *Strategy) Validate(c *core.Credentials) error {
	_, err := s.parse(c)
	return err
}

type account struct {
	sa      ServiceAccount
	scopes  []string
	subject string
}

func (s *Strategy) parse(c *core.Credentials) (*account, error) {
	if c == nil {
		return nil, fmt.Errorf("gcpsa: %w: credential is nil", core.ErrInvalidCredentials)
	}
	var sec Section
	if err := c.DecodeNamedSection(Type, &sec); err != nil {
		return nil, fmt.Errorf("gcpsa: %w", err)
	}
	sa := sec.GCPCredentials
	switch sa.Type {
	case serviceAccountType:
	case "":
		sa.Type = serviceAccountType
	default:
		return nil, fmt.Errorf("gcpsa: %w: gcpCredentials.type is %q, want %q", core.ErrInvalidCredentials, capped(sa.Type), serviceAccountType)
	}
	if err := checkAccount(&sa); err != nil {
		return nil, err
	}
	if sa.TokenURI == "" {
		sa.TokenURI = DefaultTokenURL
	}
	if err := tokenhttp.CheckEndpoint("gcpCredentials.token_uri", sa.TokenURI, s.insecure); err != nil {
		return nil, fmt.Errorf("gcpsa: %w", err)
	}
	a := &account{sa: sa, scopes: sec.Scopes}
	if v := c.Additional["subject"]; len(v) > 0 {
		a.subject = v[0]
	}
	return a, nil
}

// checkAccount checks the fields every use needs.
func checkAccount(sa *ServiceAccount) error {
	if strings.TrimSpace(sa.ClientEmail) == "" {
		return fmt.Errorf("gcpsa: %w: gcpCredentials.client_email is empty", core.ErrInvalidCredentials)
	}
	if sa.PrivateKey == "" {
		return fmt.Errorf("gcpsa: %w: gcpCredentials.private_key is empty", core.ErrInvalidCredentials)
	}
	key, err := pemkey.Parse(sa.PrivateKey)
	if err == nil {
		// Google signs service-account assertions with RS256 only.
		_, err = pemkey.SigningAlg(key, "RS256")
	}
	if err != nil {
		return fmt.Errorf("gcpsa: %w: gcpCredentials.private_key %s", core.ErrInvalidCredentials, err)
	}
	return nil
}

// Token requests a new access token for c's service account. prev is
// ignored: a service account has no refresh token.
func (s *Strategy) Token(ctx context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	a, err := s.parse(c)
	if err != nil {
		return nil, err
	}
	keyFile, err := json.Marshal(a.sa)
	if err != nil {
		return nil, fmt.Errorf("gcpsa: %w: encode service account", core.ErrInvalidCredentials)
	}
	cfg, err := google.JWTConfigFromJSON(keyFile, a.scopes...)
	if err != nil {
		return nil, fmt.Errorf("gcpsa: %w: service account key is not usable", core.ErrInvalidCredentials)
	}
	cfg.Subject = a.subject

	timeout := s.client.Timeout
	if timeout <= 0 {
		timeout = tokenhttp.RequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	rec := &recorder{ctx: ctx, base: s.client.Transport}
	hc := &http.Client{Transport: rec, CheckRedirect: rec.checkRedirect}
	o, err := cfg.TokenSource(context.WithValue(ctx, oauth2.HTTPClient, hc)).Token()
	if err != nil {
		return nil, s.mapError(ctx, a, rec, err)
	}
	if o.AccessToken == "" {
		return nil, fmt.Errorf("gcpsa: token response for %s has no access_token", a.sa.ClientEmail)
	}
	// x/oauth2 computes o.Expiry as time.Now() plus expires_in seconds,
	// which overflows for absurd values; the raw field is clamped instead.
	now := s.clock.Now()
	t := &core.Token{AccessToken: o.AccessToken, TokenType: o.TokenType}
	ttl, ok, err := tokenhttp.ExpiresIn(o.Extra("expires_in"))
	switch {
	case err != nil:
		return nil, fmt.Errorf("gcpsa: token for %s: %w", a.sa.ClientEmail, err)
	case ok:
		t.Expiry = now.Add(ttl)
	default:
		t.Expiry = now.Add(tokenhttp.DefaultTTL)
	}
	for _, k := range []string{"id_token", "scope"} {
		if v, ok := o.Extra(k).(string); ok && v != "" {
			if t.Extra == nil {
				t.Extra = map[string]any{}
			}
			t.Extra[k] = v
		}
	}
	return t, nil
}

// mapError turns a failed exchange into an error that keeps its kind and
// never the response body, the assertion or the key.
func (s *Strategy) mapError(ctx context.Context, a *account, rec *recorder, err error) error {
	rec.mu.Lock()
	redirected, netErr, assertion := rec.redirected, rec.err, rec.assertion
	rec.mu.Unlock()
	who := "gcpsa: token request for " + a.sa.ClientEmail
	switch {
	case redirected:
		return fmt.Errorf("%s: %w", who, tokenhttp.ErrRedirect)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", who, ctx.Err())
	case netErr != nil:
		return fmt.Errorf("%s: %w", who, &tokenhttp.NetError{Op: "token request to " + rec.host, Err: netErr})
	}
	mapped := tokenhttp.FromRetrieveError(err, assertion, a.sa.PrivateKey)
	var oe *core.OAuthError
	if errors.As(mapped, &oe) && oe.Code == "invalid_grant" {
		return fmt.Errorf("%s: %w (the assertion was refused: check that the system clock is right, "+
			"since iat and exp must be close to Google's time, and that key %q of the account is active)", who, mapped, a.sa.PrivateKeyID)
	}
	return fmt.Errorf("%s: %w", who, mapped)
}

// recorder is the Transport of one Token call. x/oauth2's JWT flow sends
// its request without a context and flattens transport errors into
// strings, so the recorder puts the call's ctx on the request and keeps
// what happened: a transport error, a redirect, and the assertion sent
// (to redact it from any echo).
type recorder struct {
	ctx  context.Context
	base http.RoundTripper

	mu         sync.Mutex
	host       string
	assertion  string
	redirected bool
	err        error
}

// RoundTrip sends req with the call's ctx, noting the assertion, the
// host and any transport error.
func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var assertion string
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			form, _ := io.ReadAll(io.LimitReader(b, 64<<10))
			_ = b.Close()
			if v, err := url.ParseQuery(string(form)); err == nil {
				assertion = v.Get("assertion")
			}
		}
	}
	r.mu.Lock()
	r.host, r.assertion = req.URL.Host, assertion
	r.mu.Unlock()
	resp, err := r.base.RoundTrip(req.WithContext(r.ctx))
	if err != nil {
		r.mu.Lock()
		r.err = err
		r.mu.Unlock()
		return nil, err
	}
	resp.Body = &recordingBody{ReadCloser: resp.Body, r: r}
	return resp, nil
}

func (r *recorder) checkRedirect(*http.Request, []*http.Request) error {
	r.mu.Lock()
	r.redirected = true
	r.mu.Unlock()
	return tokenhttp.ErrRedirect
}

// recordingBody keeps a read error, such as a connection lost mid-body.
type recordingBody struct {
	io.ReadCloser
	r *recorder
}

// Read reads the body, noting any error but io.EOF.
func (b *recordingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.r.mu.Lock()
		b.r.err = err
		b.r.mu.Unlock()
	}
	return n, err
}

func capped(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ driver.Closer    = (*Strategy)(nil)
)
