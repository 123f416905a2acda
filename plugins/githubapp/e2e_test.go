package main

import (
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/strategytest"
)

// openPlugin starts the githubapp binary, allowed to reach the loopback
// fake over plain http.
func openPlugin(t *testing.T) *plugins.Strategy {
	t.Helper()
	s, err := plugins.Open(binary(t), plugins.Options{Env: []string{AllowHTTPEnv + "=1"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// TestEndToEnd: a Manager using the githubapp plugin process hands out an
// authenticated client against a fake GitHub that verifies the app JWT.
// The installation token is minted once for many requests, persisted in
// the store, and minted anew near its expires_at.
func TestEndToEnd(t *testing.T) {
	f := fake(t)
	s := openPlugin(t)
	if s.Type() != Type || !s.CanValidate() || !s.CanRevoke() {
		t.Fatalf("plugin serves %q (validate %v, revoke %v)", s.Type(), s.CanValidate(), s.CanRevoke())
	}
	store := core.NewMemoryStore()
	clock := coretest.NewFakeClock(time.Now())
	m, err := core.New(core.Options{Store: store, Strategies: []core.Strategy{s}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close() // stops the plugin
	ctx := ctxT(t)
	if err := m.SetCredentials(ctx, "gh", credsFor(t, f.URL, nil)); err != nil {
		t.Fatal(err)
	}
	client := m.Client("gh", nil)
	get := func() {
		t.Helper()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.URL+"/installation/repositories", nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("API answered %s (JWT rejections: %v)", resp.Status, f.Rejections())
		}
	}

	for range 20 {
		get()
	}
	if f.Mints() != 1 || f.APICalls() != 20 {
		t.Fatalf("%d mints for %d API calls, want 1 for 20: the token is cached", f.Mints(), f.APICalls())
	}
	first := f.LastToken()
	stored, err := store.GetToken(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	exp, _ := f.Expiry(first)
	if stored.AccessToken != first || !stored.Expiry.Equal(exp) || stored.Generation != 1 {
		t.Errorf("stored token %v (expiry %s), want the fake's %s expiring at expires_at %s", stored, stored.Expiry, first, exp)
	}

	// Half a minute before expires_at the token is inside its refresh
	// window: the next request gets a newly minted one.
	clock.Set(exp.Add(-30 * time.Second))
	get()
	second := f.LastToken()
	if f.Mints() != 2 || second == first {
		t.Fatalf("%d mints, token %s → %s; want a new token near expires_at", f.Mints(), first, second)
	}
	for range 5 {
		get()
	}
	if f.Mints() != 2 {
		t.Errorf("%d mints, want 2", f.Mints())
	}
	stored, err = store.GetToken(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	if stored.AccessToken != second || stored.Generation != 2 {
		t.Errorf("stored token %v, want %s, generation 2", stored, second)
	}

	// Deleting the credential revokes its token through the plugin.
	if err := m.DeleteCredentials(ctx, "gh"); err != nil {
		t.Fatal(err)
	}
	if !f.Revoked(second) {
		t.Error("DeleteCredentials did not revoke the token")
	}
}

// TestEndToEndWrongKey: the fake refuses a JWT signed by another key, and
// the refusal reaches the host as a permanent failure carrying GitHub's
// status.
func TestEndToEndWrongKey(t *testing.T) {
	f := fake(t)
	other, _ := appKeyOther(t)
	f.Key = &other.PublicKey
	s := openPlugin(t)
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := ctxT(t)
	if err := m.SetCredentials(ctx, "gh", credsFor(t, f.URL, nil)); err != nil {
		t.Fatal(err)
	}
	_, err = m.Token(ctx, "gh")
	var oe *core.OAuthError
	if !errors.Is(err, core.ErrRefreshFailed) || !errors.As(err, &oe) || oe.StatusCode != http.StatusUnauthorized || !core.IsPermanent(err) {
		t.Fatalf("Token = %v; want a permanent ErrRefreshFailed with status 401", err)
	}
	if len(f.Rejections()) != 1 {
		t.Errorf("fake rejections %v, want one bad signature", f.Rejections())
	}
	if err := m.SetCredentials(ctx, "bad", credsFor(t, f.URL, func(m map[string]any) { m["installationID"] = "x" })); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("SetCredentials(bad) = %v, want ErrInvalidCredentials from the plugin's Validate", err)
	}
}

// TestConformance runs the strategy conformance suite against the plugin
// process and against the same strategy in-process.
func TestConformance(t *testing.T) {
	f := fake(t)
	_, pemKey := appKey(t)
	h := strategytest.Harness{
		Credentials: func(t *testing.T) *core.Credentials { return credsFor(t, f.URL, nil) },
		Invalid: func(t *testing.T) []*core.Credentials {
			return []*core.Credentials{credsFor(t, f.URL, func(m map[string]any) {
				m["privateKey"] = "-----BEGIN RSA PRIVATE KEY-----\nMIIB\n-----END RSA PRIVATE KEY-----\n"
			})}
		},
		Secrets: func(*testing.T) []string { return keySecrets(pemKey)[1:] },
		CheckRequest: func(r *http.Request) error {
			tok := r.Header.Get("Authorization")
			if len(tok) < 7 || !f.Valid(tok[7:]) {
				return errors.New("not a valid installation token")
			}
			return nil
		},
		Expiring:       true,
		HonoursContext: true,
	}
	t.Run("plugin", func(t *testing.T) {
		h.NewStrategy = func(t *testing.T) core.Strategy { return openPlugin(t) }
		strategytest.RunConformance(t, h)
	})
	t.Run("in-process", func(t *testing.T) {
		h.NewStrategy = func(*testing.T) core.Strategy { return testStrategy() }
		strategytest.RunConformance(t, h)
	})
}
