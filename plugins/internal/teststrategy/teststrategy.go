// Package teststrategy is a strategy for testing the plugin machinery: it
// issues numbered tokens, and its credential section asks it to fail with
// any kind of error, block, panic, crash or echo what it received. The
// testplugin binary serves it; tests also run it in-process.
package teststrategy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// Type is the credential type served by default.
const Type = "testplugin"

// ReauthExpiry is the expiry of the re-authorization error of Fail "reauth".
var ReauthExpiry = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// Section is the "testplugin" credential section.
type Section struct {
	// Fail selects an error to return: see Errors.
	Fail string `json:"fail,omitempty"`
	// Notify is a TCP address dialled when a Token call begins, so a test
	// knows the call is in flight.
	Notify string `json:"notify,omitempty"`
	// Block makes Token wait for its context.
	Block bool `json:"block,omitempty"`
	// Panic makes Token panic with a canary value.
	Panic bool `json:"panic,omitempty"`
	// Exit makes the process exit during Token.
	Exit bool `json:"exit,omitempty"`
	// Echo puts the credential JSON and prev JSON received into Extra.
	Echo bool `json:"echo,omitempty"`
	// TTL is the token lifetime, a Go duration; default one hour.
	TTL string `json:"ttl,omitempty"`
	// Invalid makes Validate fail.
	Invalid bool `json:"invalid,omitempty"`
	// BlockRevoke makes Revoke wait for its context: a plugin that never
	// answers a revocation.
	BlockRevoke bool `json:"blockRevoke,omitempty"`
	// RevokeFile receives the revoked token's access token.
	RevokeFile string `json:"revokeFile,omitempty"`
	// Env names an environment variable whose value, if set, is put into
	// Extra["env"].
	Env string `json:"env,omitempty"`
	// Stderr is written to os.Stderr, with a newline, when Token begins.
	Stderr string `json:"stderr,omitempty"`
}

// PanicCanary is the panic value of Section.Panic; it must never reach
// the host.
const PanicCanary = "teststrategy-panic-canary-8c1f"

// Errors maps each Section.Fail value to the error returned.
func Errors() map[string]error {
	return map[string]error{
		"refresh_failed":        fmt.Errorf("teststrategy: %w", core.ErrRefreshFailed),
		"token_expired":         fmt.Errorf("teststrategy: %w", core.ErrTokenExpired),
		"invalid_credentials":   fmt.Errorf("teststrategy: %w", core.ErrInvalidCredentials),
		"unsupported":           fmt.Errorf("teststrategy: %w", core.ErrUnsupportedCredentialType),
		"credentials_not_found": fmt.Errorf("teststrategy: %w", core.ErrCredentialsNotFound),
		"token_not_found":       fmt.Errorf("teststrategy: %w", core.ErrTokenNotFound),
		"vault_not_configured":  fmt.Errorf("teststrategy: %w", core.ErrVaultNotConfigured),
		"closed":                fmt.Errorf("teststrategy: %w", core.ErrClosed),
		"persist_failed":        fmt.Errorf("teststrategy: %w", core.ErrPersistFailed),
		"canceled":              fmt.Errorf("teststrategy: %w", context.Canceled),
		"deadline":              fmt.Errorf("teststrategy: %w", context.DeadlineExceeded),
		"multi":                 fmt.Errorf("teststrategy: %w: %w", core.ErrInvalidCredentials, core.ErrTokenNotFound),
		"plain":                 errors.New("teststrategy: plain failure"),
		"invalid_grant": fmt.Errorf("teststrategy: refresh: %w", &core.OAuthError{
			Code: "invalid_grant", Description: "refresh token revoked", URI: "https://idp.example/errors/invalid_grant", StatusCode: 400,
		}),
		"rate_limited": fmt.Errorf("teststrategy: %w", &core.OAuthError{
			StatusCode: 429, Description: "slow down", Retry: 7 * time.Second,
		}),
		"reauth": &core.ReauthRequiredError{
			VerificationURI:         "https://idp.example/device",
			VerificationURIComplete: "https://idp.example/device?user_code=WDJB-MJHT",
			UserCode:                "WDJB-MJHT",
			Expiry:                  ReauthExpiry,
			Err:                     errors.New("authorization_pending"),
		},
	}
}

// Strategy is the test strategy.
type Strategy struct {
	// TypeName is the type served; Type when empty.
	TypeName string
	n        atomic.Int64
}

// New returns a Strategy serving Type.
func New() *Strategy { return &Strategy{} }

// Type implements core.Strategy.
func (s *Strategy) Type() string {
	if s.TypeName == "" {
		return Type
	}
	return s.TypeName
}

func (s *Strategy) section(c *core.Credentials) (Section, error) {
	var sec Section
	err := c.DecodeNamedSection(s.Type(), &sec)
	return sec, err
}

// Token implements core.Strategy.
func (s *Strategy) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	sec, err := s.section(c)
	if err != nil {
		return nil, err
	}
	if sec.Stderr != "" {
		fmt.Fprintln(os.Stderr, sec.Stderr)
	}
	if sec.Notify != "" {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", sec.Notify)
		if err != nil {
			return nil, fmt.Errorf("teststrategy: notify: %w", err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte{'1'})
	}
	switch {
	case sec.Panic:
		panic(PanicCanary)
	case sec.Exit:
		os.Exit(7)
	case sec.Block:
		<-ctx.Done()
		return nil, fmt.Errorf("teststrategy: blocked call ended: %w", ctx.Err())
	case sec.Fail != "":
		if err, ok := Errors()[sec.Fail]; ok {
			return nil, err
		}
		return nil, fmt.Errorf("teststrategy: unknown failure %q", sec.Fail)
	}
	ttl, err := sec.ttl()
	if err != nil {
		return nil, err
	}
	n := s.n.Add(1)
	t := &core.Token{
		AccessToken:  "access-" + strconv.FormatInt(n, 10),
		RefreshToken: "refresh-" + strconv.FormatInt(n, 10),
		TokenType:    "Bearer",
		Expiry:       time.Now().Add(ttl),
		Extra:        map[string]any{"pid": float64(os.Getpid())},
	}
	if v, ok := os.LookupEnv(sec.Env); ok && sec.Env != "" {
		t.Extra["env"] = v
	}
	if sec.Echo {
		cj, err := c.MarshalJSON()
		if err != nil {
			return nil, err
		}
		t.Extra["credentials"] = string(cj)
		if prev != nil {
			pj, err := json.Marshal(prev)
			if err != nil {
				return nil, err
			}
			t.Extra["prev"] = string(pj)
		}
	}
	return t, nil
}

// Validate implements driver.Validator.
func (s *Strategy) Validate(c *core.Credentials) error {
	sec, err := s.section(c)
	if err != nil {
		return err
	}
	if sec.Invalid {
		return fmt.Errorf("teststrategy: %w: marked invalid", core.ErrInvalidCredentials)
	}
	_, err = sec.ttl()
	return err
}

// ttl is the token lifetime the section asks for.
func (sec Section) ttl() (time.Duration, error) {
	if sec.TTL == "" {
		return time.Hour, nil
	}
	d, err := time.ParseDuration(sec.TTL)
	if err != nil {
		return 0, fmt.Errorf("teststrategy: %w: ttl is not a duration", core.ErrInvalidCredentials)
	}
	return d, nil
}

// Revoke implements driver.Revoker.
func (s *Strategy) Revoke(ctx context.Context, c *core.Credentials, t *core.Token) error {
	sec, err := s.section(c)
	if err != nil {
		return err
	}
	if sec.BlockRevoke {
		<-ctx.Done()
		return fmt.Errorf("teststrategy: blocked revoke ended: %w", ctx.Err())
	}
	if t == nil {
		return fmt.Errorf("teststrategy: %w: nothing to revoke", core.ErrTokenNotFound)
	}
	if sec.RevokeFile != "" {
		return os.WriteFile(sec.RevokeFile, []byte(t.AccessToken), 0o600)
	}
	return nil
}

var (
	_ core.Strategy    = (*Strategy)(nil)
	_ driver.Validator = (*Strategy)(nil)
	_ driver.Revoker   = (*Strategy)(nil)
)
