package hashicorp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hashicorp/vault/api"
	"github.com/plexusone/omnivault/vault"
)

// do runs op with a live client token: it logs in or renews first when
// due. After a 403 with a token from a login, it asks the server whether
// that token still holds: if not, one fresh login (shared by every call
// that met the same lapsed token) and op again; if it does, the 403 is
// the policy's answer and is returned without a login.
func (v *Vault) do(ctx context.Context, op func() error) error {
	if v.closed.Load() {
		return vault.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tok, err := v.ensureAuth(ctx, "")
	if err != nil {
		return err
	}
	err = op()
	if !isStatus(err, http.StatusForbidden) || v.cfg.Auth.Method == AuthToken {
		return err
	}
	// A token can lapse between renewals (a server restart, a revoked
	// lease).
	if _, lerr := v.ensureAuth(ctx, tok); lerr != nil {
		if errors.Is(lerr, errTokenHolds) {
			return err
		}
		return errors.Join(err, lerr)
	}
	return op()
}

// errTokenHolds says that a token met with 403 is still valid.
var errTokenHolds = errors.New("the client token is valid")

// ensureAuth makes the client hold a token that is not due for renewal,
// and returns it. With refused set, a request made with the token
// refused was answered 403: unless another call already replaced that
// token, it is looked up, and replaced by a login if it no longer holds
// (errTokenHolds if it does). Waiting for another call's login or renewal
// ends with ctx.
func (v *Vault) ensureAuth(ctx context.Context, refused string) (string, error) {
	select {
	case v.authSem <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-v.authSem }()
	now := v.cfg.Now()
	switch {
	case !v.authed:
		err := v.login(ctx, now)
		return v.token, err
	case refused != "" && refused != v.token:
		return v.token, nil // another call logged in again already
	case refused != "":
		if _, err := v.client.Auth().Token().LookupSelfWithContext(ctx); err == nil {
			return v.token, errTokenHolds
		} else if !isStatus(err, http.StatusForbidden) {
			return v.token, fmt.Errorf("%w: look up the client token: %w", vault.ErrAuthenticationFailed, mapErr(err))
		}
		err := v.login(ctx, now)
		return v.token, err
	case v.renewAt.IsZero() || now.Before(v.renewAt):
		return v.token, nil
	}
	if v.renew {
		s, err := v.client.Auth().Token().RenewSelfWithContext(ctx, 0)
		if err == nil && s != nil && s.Auth != nil {
			v.schedule(now, s.Auth.LeaseDuration, s.Auth.Renewable)
			return v.token, nil
		}
		if err == nil {
			err = errors.New("renewal returned no lease")
		}
		if v.cfg.Auth.Method == AuthToken {
			return v.token, v.keep(now, fmt.Errorf("%w: renew the client token: %w", vault.ErrAuthenticationFailed, mapErr(err)))
		}
	}
	if v.cfg.Auth.Method == AuthToken {
		// Not renewable: keep using it until the server refuses it.
		v.renewAt = time.Time{}
		return v.token, nil
	}
	if err := v.login(ctx, now); err != nil {
		return v.token, v.keep(now, err)
	}
	return v.token, nil
}

// keep decides what a failed renewal or login means while the current
// token may still be valid: until it expires, keep using it and try again
// halfway to its expiry; after, err.
func (v *Vault) keep(now time.Time, err error) error {
	if !v.expires.IsZero() && now.Before(v.expires) {
		v.renewAt = now.Add(v.expires.Sub(now) / 2)
		return nil
	}
	v.authed = false
	return err
}

// login obtains a client token by the configured method and schedules its
// renewal at two thirds of its lease. A failed login leaves the state as
// it was.
func (v *Vault) login(ctx context.Context, now time.Time) error {
	a := v.cfg.Auth
	v.logins.Add(1)
	if a.Method == AuthToken {
		v.client.SetToken(a.Token)
		s, err := v.client.Auth().Token().LookupSelfWithContext(ctx)
		if err != nil {
			v.authed = false
			return fmt.Errorf("%w: look up the client token: %w", vault.ErrAuthenticationFailed, mapErr(err))
		}
		ttl, renewable := tokenTTL(s)
		v.authed, v.token = true, a.Token
		v.schedule(now, ttl, renewable)
		return nil
	}
	body := map[string]any{}
	switch a.Method {
	case AuthAppRole:
		body["role_id"], body["secret_id"] = a.RoleID, a.SecretID
	case AuthKubernetes:
		jwt, err := a.JWT()
		if err != nil {
			return fmt.Errorf("%w: read the service-account token: %w", vault.ErrAuthenticationFailed, err)
		}
		body["role"], body["jwt"] = a.Role, jwt
	}
	// The login goes through a client of its own, with no token, so the
	// token that other calls are using meanwhile stays in place.
	s, err := v.loginClient.Logical().WriteWithContext(ctx, "auth/"+a.MountPath+"/login", body)
	if err != nil {
		return fmt.Errorf("%w: %s login: %w", vault.ErrAuthenticationFailed, a.Method, mapErr(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		return fmt.Errorf("%w: %s login returned no token", vault.ErrAuthenticationFailed, a.Method)
	}
	v.client.SetToken(s.Auth.ClientToken)
	v.authed, v.token = true, s.Auth.ClientToken
	v.schedule(now, s.Auth.LeaseDuration, s.Auth.Renewable)
	return nil
}

func (v *Vault) schedule(now time.Time, leaseSeconds int, renewable bool) {
	v.renew = renewable
	if leaseSeconds <= 0 {
		// A token without a TTL, such as a root token.
		v.renewAt, v.expires = time.Time{}, time.Time{}
		return
	}
	lease := time.Duration(leaseSeconds) * time.Second
	v.renewAt, v.expires = now.Add(lease*2/3), now.Add(lease)
}

// tokenTTL reads ttl and renewable from a lookup-self answer.
func tokenTTL(s *api.Secret) (int, bool) {
	if s == nil {
		return 0, false
	}
	var ttl int
	switch t := s.Data["ttl"].(type) {
	case json.Number:
		n, _ := t.Int64()
		ttl = int(n)
	case float64:
		ttl = int(t)
	}
	renewable, _ := s.Data["renewable"].(bool)
	return ttl, renewable
}
