package oauth2

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/tokenhttp"
)

// Device flow bounds (RFC 8628 §3.2, §3.5).
const (
	defaultDeviceInterval = 5 * time.Second
	maxDeviceInterval     = 5 * time.Minute
	slowDownStep          = 5 * time.Second
	defaultDeviceLifetime = 30 * time.Minute
	maxDeviceLifetime     = 24 * time.Hour
	maxPendingDevices     = 1024
)

// errAuthorizationPending is the cause carried by the ReauthRequiredError
// returned while the person has not acted yet.
var errAuthorizationPending = errors.New("oauth2: device authorization pending: waiting for the user to approve")

// deviceState is one device authorization in progress, kept between Token
// calls so that a person's approval is picked up.
type deviceState struct {
	turn       chan struct{} // holds one value while a call polls
	deviceCode string
	prompt     core.ReauthRequiredError
	interval   time.Duration
	next       time.Time // no poll before
	expiry     time.Time
}

// pendingDevice returns the live device authorization for a credential.
func (s *Strategy) pendingDevice(fp [32]byte) *deviceState {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.devices[fp]
	if st != nil && !s.clock.Now().Before(st.expiry) {
		delete(s.devices, fp)
		return nil
	}
	return st
}

func (s *Strategy) dropDevice(fp [32]byte, st *deviceState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.devices[fp] == st {
		delete(s.devices, fp)
	}
}

func (s *Strategy) putDevice(fp [32]byte, st *deviceState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	for k, v := range s.devices {
		if !now.Before(v.expiry) {
			delete(s.devices, k)
		}
	}
	if len(s.devices) >= maxPendingDevices {
		for k := range s.devices { // drop an arbitrary one
			delete(s.devices, k)
			break
		}
	}
	s.devices[fp] = st
}

// deviceAuthResponse is RFC 8628 §3.2's answer.
type deviceAuthResponse struct {
	DeviceCode              string          `json:"device_code"`
	UserCode                string          `json:"user_code"`
	VerificationURI         string          `json:"verification_uri"`
	VerificationURL         string          `json:"verification_url"` // Google's spelling
	VerificationURIComplete string          `json:"verification_uri_complete"`
	ExpiresIn               json.Number     `json:"expires_in"`
	Interval                json.RawMessage `json:"interval"`
}

// startDevice requests a device code (RFC 8628 §3.1) and records it.
// cause, when set, says why a person is needed again.
func (s *Strategy) startDevice(ctx context.Context, cfg *config, cause error) (*core.Token, error) {
	form := url.Values{}
	if len(cfg.sec.Scopes) > 0 {
		form.Set("scope", strings.Join(cfg.sec.Scopes, " "))
	}
	h, err := s.clientAuth(cfg, form)
	if err != nil {
		return nil, err
	}
	body, err := tokenhttp.PostForm(ctx, s.hc, cfg.sec.Endpoint.DeviceAuthURL, form, h, cfg.secrets(form.Get("client_assertion"))...)
	if err != nil {
		return nil, fmt.Errorf("oauth2: device authorization: %w", err)
	}
	var r deviceAuthResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("oauth2: device authorization: response is not a JSON object (%d bytes)", len(body))
	}
	if r.VerificationURI == "" {
		r.VerificationURI = r.VerificationURL
	}
	if r.DeviceCode == "" || r.UserCode == "" || r.VerificationURI == "" {
		return nil, errors.New("oauth2: device authorization: response lacks device_code, user_code or verification_uri")
	}
	now := s.clock.Now()
	life := defaultDeviceLifetime
	if n, err := r.ExpiresIn.Int64(); err == nil && n > 0 {
		life = min(time.Duration(n)*time.Second, maxDeviceLifetime)
	}
	interval := defaultDeviceInterval
	var iv json.Number
	if json.Unmarshal(r.Interval, &iv) == nil {
		if n, err := iv.Int64(); err == nil && n > 0 {
			interval = min(time.Duration(n)*time.Second, maxDeviceInterval)
		}
	}
	st := &deviceState{
		turn:       make(chan struct{}, 1),
		deviceCode: r.DeviceCode,
		interval:   interval,
		next:       now.Add(interval),
		expiry:     now.Add(life),
		prompt: core.ReauthRequiredError{
			VerificationURI:         r.VerificationURI,
			VerificationURIComplete: r.VerificationURIComplete,
			UserCode:                r.UserCode,
			Expiry:                  now.Add(life),
			Err:                     errAuthorizationPending,
		},
	}
	if cause != nil {
		st.prompt.Err = fmt.Errorf("%w (%w)", errAuthorizationPending, cause)
	}
	s.putDevice(cfg.fp, st)
	if s.onDevice != nil {
		p := st.prompt
		if err := s.onDevice(ctx, &p); err != nil {
			s.dropDevice(cfg.fp, st)
			return nil, fmt.Errorf("oauth2: device authorization: OnDeviceCode: %w", err)
		}
	}
	return s.pollDevice(ctx, cfg, st)
}

// pending returns the error telling the caller that a person must act.
func (st *deviceState) pending() error {
	p := st.prompt
	return fmt.Errorf("oauth2: device_code: %w", &p)
}

// pendingWith is pending, for a call that stopped waiting because of err.
func (st *deviceState) pendingWith(err error) error {
	p := st.prompt
	p.Err = fmt.Errorf("%w: %w", errAuthorizationPending, err)
	return fmt.Errorf("oauth2: device_code: %w", &p)
}

// pollDevice polls the token endpoint (RFC 8628 §3.4) no more often than
// the interval, which slow_down raises by 5 s. Without OnDeviceCode it
// polls at most once and returns the pending error; with it, it waits on
// the clock until an answer or until ctx ends.
func (s *Strategy) pollDevice(ctx context.Context, cfg *config, st *deviceState) (*core.Token, error) {
	// One call polls at a time; another waits its turn no longer than its
	// own ctx allows.
	select {
	case st.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, st.pendingWith(ctx.Err())
	}
	defer func() { <-st.turn }()
	for {
		now := s.clock.Now()
		if !now.Before(st.expiry) {
			s.dropDevice(cfg.fp, st)
			return nil, fmt.Errorf("oauth2: device_code: %w", &core.ReauthRequiredError{
				Err: errors.New("oauth2: the device code expired before the user approved it; the next call starts again"),
			})
		}
		if now.Before(st.next) {
			if s.onDevice == nil {
				return nil, st.pending()
			}
			if err := s.clock.Sleep(ctx, st.next.Sub(now)); err != nil {
				return nil, st.pendingWith(err)
			}
			continue
		}
		f := cfg.form(GrantDeviceCode)
		f.Del("scope")
		f.Set("device_code", st.deviceCode)
		tok, err := s.post(ctx, cfg, f, st.deviceCode)
		if err == nil {
			s.dropDevice(cfg.fp, st)
			return tok, nil
		}
		var oe *core.OAuthError
		errors.As(err, &oe)
		switch {
		case oe != nil && oe.Code == "authorization_pending":
		case oe != nil && oe.Code == "slow_down":
			st.interval = min(st.interval+slowDownStep, maxDeviceInterval)
		case ctx.Err() != nil:
			return nil, fmt.Errorf("oauth2: device_code: %w", err)
		case core.IsTemporary(err):
			st.next = s.clock.Now().Add(max(st.interval, core.RetryAfterOf(err)))
			return nil, fmt.Errorf("oauth2: device_code: %w", err)
		default: // access_denied, expired_token, invalid_client, …
			s.dropDevice(cfg.fp, st)
			return nil, fmt.Errorf("oauth2: device_code: %w", err)
		}
		st.next = s.clock.Now().Add(st.interval)
	}
}
