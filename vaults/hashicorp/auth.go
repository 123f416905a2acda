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
// due, and after a 403 it logs in again and retries op once.
func (v *Vault) do(ctx context.Context, op func() error) error {
	if v.closed.Load() {
		return vault.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := v.ensureAuth(ctx, false); err != nil {
		return err
	}
	err := op()
	if !isStatus(err, http.StatusForbidden) || v.cfg.Auth.Method == AuthToken {
		return err
	}
	// A token can lapse between renewals (a server restart, a revoked
	// lease): one fresh login, then the request again.
	if lerr := v.ensureAuth(ctx, true); lerr != nil {
		return errors.Join(err, lerr)
	}
	return op()
}

// ensureAuth makes the client hold a token that is not due for renewal.
// force logs in again whatever the state.
func (v *Vault) ensureAuth(ctx context.Context, force bool) error {
	v.authMu.Lock()
	defer v.authMu.Unlock()
	now := v.cfg.Now()
	switch {
	case force || !v.authed:
		return v.login(ctx, now)
	case v.renewAt.IsZero() || now.Before(v.renewAt):
		return nil
	}
	if v.renew {
		s, err := v.client.Auth().Token().RenewSelfWithContext(ctx, 0)
		if err == nil && s != nil && s.Auth != nil {
			v.schedule(now, s.Auth.LeaseDuration, s.Auth.Renewable)
			return nil
		}
		if v.cfg.Auth.Method == AuthToken {
			if err == nil {
				err = errors.New("renewal returned no lease")
			}
			return fmt.Errorf("%w: renew the client token: %w", vault.ErrAuthenticationFailed, err)
		}
	}
	if v.cfg.Auth.Method == AuthToken {
		// Not renewable: keep using it until the server refuses it.
		v.renewAt = time.Time{}
		return nil
	}
	return v.login(ctx, now)
}

// login obtains a client token by the configured method and schedules its
// renewal at two thirds of its lease.
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
		v.authed = true
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
	v.client.ClearToken()
	s, err := v.client.Logical().WriteWithContext(ctx, "auth/"+a.MountPath+"/login", body)
	if err != nil {
		v.authed = false
		return fmt.Errorf("%w: %s login: %w", vault.ErrAuthenticationFailed, a.Method, mapErr(err))
	}
	if s == nil || s.Auth == nil || s.Auth.ClientToken == "" {
		v.authed = false
		return fmt.Errorf("%w: %s login returned no token", vault.ErrAuthenticationFailed, a.Method)
	}
	v.client.SetToken(s.Auth.ClientToken)
	v.authed = true
	v.schedule(now, s.Auth.LeaseDuration, s.Auth.Renewable)
	return nil
}

func (v *Vault) schedule(now time.Time, leaseSeconds int, renewable bool) {
	v.renew = renewable
	if leaseSeconds <= 0 {
		v.renewAt = time.Time{} // a token without a TTL, such as a root token
		return
	}
	v.renewAt = now.Add(time.Duration(leaseSeconds) * time.Second * 2 / 3)
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
