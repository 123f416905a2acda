package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
	"golang.org/x/oauth2"
)

// open starts the test plugin and closes it when the test ends.
func open(t *testing.T, opts plugins.Options) *plugins.Strategy {
	t.Helper()
	s, err := plugins.Open(plugins.BuildTestPlugin(t, 0), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// creds is a credential of the test plugin's type with section sec.
func creds(t testing.TB, sec teststrategy.Section) *core.Credentials {
	t.Helper()
	c := &core.Credentials{Service: "test", Type: teststrategy.Type}
	if err := c.SetSection(teststrategy.Type, sec); err != nil {
		t.Fatal(err)
	}
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOpenReportsTypeAndAbilities(t *testing.T) {
	s := open(t, plugins.Options{})
	if s.Type() != teststrategy.Type {
		t.Errorf("Type() = %q, want %q", s.Type(), teststrategy.Type)
	}
	if !s.CanValidate() || !s.CanRevoke() {
		t.Errorf("CanValidate, CanRevoke = %v, %v; the test strategy implements both", s.CanValidate(), s.CanRevoke())
	}
	if s.PID() <= 0 || s.PID() == os.Getpid() {
		t.Errorf("PID() = %d, want the plugin's own process", s.PID())
	}

	other := open(t, plugins.Options{Env: []string{"OMNITOKEN_TESTPLUGIN_TYPE=other"}})
	if other.Type() != "other" {
		t.Errorf("Type() = %q, want the type the plugin reports, %q", other.Type(), "other")
	}
}

// TestPluginEnvironment: a plugin sees only a small part of the host's
// environment, plus Options.Env; InheritEnv passes all of it.
func TestPluginEnvironment(t *testing.T) {
	t.Setenv("OMNITOKEN_TEST_HOST_SECRET", "host-only-value")
	env := func(s *plugins.Strategy, name string) any {
		t.Helper()
		tok, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Env: name}), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tok.Extra["env"]
	}
	s := open(t, plugins.Options{Env: []string{"OMNITOKEN_TEST_GIVEN=given"}})
	if got := env(s, "OMNITOKEN_TEST_HOST_SECRET"); got != nil {
		t.Errorf("the plugin sees the host's OMNITOKEN_TEST_HOST_SECRET=%v", got)
	}
	if got := env(s, "OMNITOKEN_TEST_GIVEN"); got != "given" {
		t.Errorf("Options.Env: the plugin sees %v, want given", got)
	}
	if got := env(s, "PATH"); got != os.Getenv("PATH") {
		t.Errorf("PATH: the plugin sees %v", got)
	}
	inherit := open(t, plugins.Options{InheritEnv: true})
	if got := env(inherit, "OMNITOKEN_TEST_HOST_SECRET"); got != "host-only-value" {
		t.Errorf("InheritEnv: the plugin sees %v", got)
	}
}

func TestTokenThroughPlugin(t *testing.T) {
	s := open(t, plugins.Options{})
	tok, err := s.Token(ctxT(t), creds(t, teststrategy.Section{TTL: "90m"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != "access-1" || tok.RefreshToken != "refresh-1" || tok.Type() != "Bearer" {
		t.Errorf("token = %+v, want access-1/refresh-1 Bearer", tok)
	}
	if d := time.Until(tok.Expiry); d < 85*time.Minute || d > 91*time.Minute {
		t.Errorf("expiry in %s, want about 90m", d)
	}
	if pid, _ := tok.Extra["pid"].(float64); int(pid) != s.PID() {
		t.Errorf("token issued by pid %v, want the plugin's %d", tok.Extra["pid"], s.PID())
	}
}

// TestEnvelopeCrossesIntact: the credential and prev reach the plugin as
// the same JSON the host has, including sections the engine does not know.
func TestEnvelopeCrossesIntact(t *testing.T) {
	s := open(t, plugins.Options{})
	c := creds(t, teststrategy.Section{Echo: true})
	c.Subdomain = "tenant-1"
	c.Token = &oauth2.Token{AccessToken: "static", TokenType: "Bearer"}
	c.Additional = url.Values{"scope": {"a b", "c"}, "ü": {"é\u2028"}}
	if err := c.SetSection("vendorx", json.RawMessage(`{"nested":{"list":[1,2.5,"three",null,true]},"unicode":"☃ \u00e9","big":12345678901234567890}`)); err != nil {
		t.Fatal(err)
	}
	prev := &core.Token{
		AccessToken:  "prev-access",
		TokenType:    "MAC",
		RefreshToken: "prev-refresh",
		Expiry:       time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.FixedZone("X", 3600)),
		Header:       http.Header{"X-Api-Key": {"k1", "k2"}},
		Query:        url.Values{"key": {"q"}},
		Extra:        map[string]any{"id_token": "idt", "n": 3.0},
	}
	tok, err := s.Token(ctxT(t), c, prev)
	if err != nil {
		t.Fatal(err)
	}
	wantC, _ := c.MarshalJSON()
	if got := tok.Extra["credentials"]; got != string(wantC) {
		t.Errorf("plugin received credentials\n%v\nwant\n%s", got, wantC)
	}
	wantP, _ := json.Marshal(prev)
	if got := tok.Extra["prev"]; got != string(wantP) {
		t.Errorf("plugin received prev\n%v\nwant\n%s", got, wantP)
	}
}

// TestErrorsAcrossBoundary: every kind of error the strategy returns has
// the same meaning on the host as in-process.
func TestErrorsAcrossBoundary(t *testing.T) {
	s := open(t, plugins.Options{})
	local := teststrategy.New()
	sentinels := []error{
		core.ErrRefreshFailed, core.ErrTokenExpired, core.ErrInvalidCredentials,
		core.ErrUnsupportedCredentialType, core.ErrCredentialsNotFound, core.ErrTokenNotFound,
		core.ErrReauthRequired, core.ErrVaultNotConfigured, core.ErrClosed, core.ErrPersistFailed,
		context.Canceled, context.DeadlineExceeded, plugins.ErrUnavailable,
	}
	for kind := range teststrategy.Errors() {
		t.Run(kind, func(t *testing.T) {
			c := creds(t, teststrategy.Section{Fail: kind})
			_, want := local.Token(context.Background(), c, nil)
			_, got := s.Token(ctxT(t), c, nil)
			if got == nil {
				t.Fatal("no error through the plugin")
			}
			if !strings.Contains(got.Error(), want.Error()) || !strings.HasPrefix(got.Error(), "plugins: testplugin: ") {
				t.Errorf("message %q, want %q prefixed with the plugin's type", got, want)
			}
			for _, sen := range sentinels {
				if errors.Is(got, sen) != errors.Is(want, sen) {
					t.Errorf("errors.Is(err, %q) = %v through the plugin, %v in-process", sen, errors.Is(got, sen), errors.Is(want, sen))
				}
			}
			if core.IsPermanent(got) != core.IsPermanent(want) || core.IsTemporary(got) != core.IsTemporary(want) {
				t.Errorf("IsPermanent, IsTemporary = %v, %v; in-process %v, %v",
					core.IsPermanent(got), core.IsTemporary(got), core.IsPermanent(want), core.IsTemporary(want))
			}
			if core.RetryAfterOf(got) != core.RetryAfterOf(want) {
				t.Errorf("RetryAfterOf = %s, in-process %s", core.RetryAfterOf(got), core.RetryAfterOf(want))
			}
			var wo, go_ *core.OAuthError
			if errors.As(want, &wo) != errors.As(got, &go_) {
				t.Fatalf("errors.As *core.OAuthError: in-process %v, through the plugin %v", wo != nil, go_ != nil)
			}
			if wo != nil && *wo != *go_ {
				t.Errorf("OAuthError = %+v, want %+v", *go_, *wo)
			}
			var wr, gr *core.ReauthRequiredError
			if errors.As(want, &wr) != errors.As(got, &gr) {
				t.Fatalf("errors.As *core.ReauthRequiredError: in-process %v, through the plugin %v", wr != nil, gr != nil)
			}
			if wr != nil {
				if gr.VerificationURI != wr.VerificationURI || gr.VerificationURIComplete != wr.VerificationURIComplete ||
					gr.UserCode != wr.UserCode || !gr.Expiry.Equal(wr.Expiry) || gr.Error() != wr.Error() {
					t.Errorf("ReauthRequiredError = %+v, want %+v", gr, wr)
				}
			}
		})
	}

	// The cases the issue names, spelled out.
	_, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Fail: "invalid_grant"}), nil)
	var oe *core.OAuthError
	if !errors.Is(err, core.ErrRefreshFailed) || !errors.As(err, &oe) || oe.Code != "invalid_grant" || !core.IsPermanent(err) {
		t.Errorf("invalid_grant: err = %v; want ErrRefreshFailed, an OAuthError with code invalid_grant, permanent", err)
	}
	_, err = s.Token(ctxT(t), creds(t, teststrategy.Section{Fail: "reauth"}), nil)
	var re *core.ReauthRequiredError
	if !errors.Is(err, core.ErrReauthRequired) || !errors.As(err, &re) || re.UserCode != "WDJB-MJHT" ||
		re.VerificationURI != "https://idp.example/device" || !re.Expiry.Equal(teststrategy.ReauthExpiry) {
		t.Errorf("reauth: err = %v; want ErrReauthRequired with URI, code and expiry", err)
	}
	_, err = s.Token(ctxT(t), creds(t, teststrategy.Section{Fail: "rate_limited"}), nil)
	if !core.IsTemporary(err) || core.RetryAfterOf(err) != 7*time.Second {
		t.Errorf("rate_limited: err = %v; want temporary with Retry-After 7s", err)
	}
}

// TestErrorsThroughManager: the Manager sees a plugin's permanent error as
// permanent and does not call the plugin again for the same credential.
func TestErrorsThroughManager(t *testing.T) {
	s := open(t, plugins.Options{})
	var calls int
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s},
		OnEvent: func(ev core.Event) {
			if ev.Kind == core.EventRefreshFailed {
				calls++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := ctxT(t)
	if err := m.SetCredentials(ctx, "svc", creds(t, teststrategy.Section{Fail: "invalid_grant"})); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err = m.Token(ctx, "svc")
		var oe *core.OAuthError
		if !errors.Is(err, core.ErrRefreshFailed) || !errors.As(err, &oe) || oe.Code != "invalid_grant" {
			t.Fatalf("Manager.Token: %v; want ErrRefreshFailed carrying invalid_grant", err)
		}
	}
	if calls != 1 {
		t.Errorf("%d failed refreshes, want 1: a permanent error is not retried", calls)
	}
}

func TestValidateAndRevoke(t *testing.T) {
	s := open(t, plugins.Options{})
	if err := s.Validate(creds(t, teststrategy.Section{})); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
	err := s.Validate(creds(t, teststrategy.Section{Invalid: true}))
	if !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("Validate(invalid) = %v, want ErrInvalidCredentials", err)
	}
	garbled := &core.Credentials{Type: teststrategy.Type}
	_ = garbled.SetSection(teststrategy.Type, json.RawMessage(`{"ttl":5}`))
	if err := s.Validate(garbled); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("Validate(garbled) = %v, want ErrInvalidCredentials", err)
	}

	ctx := ctxT(t)
	file := filepath.Join(t.TempDir(), "revoked")
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := m.SetCredentials(ctx, "bad", creds(t, teststrategy.Section{Invalid: true})); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("Manager.SetCredentials(invalid) = %v, want ErrInvalidCredentials from the plugin", err)
	}
	if err := m.SetCredentials(ctx, "svc", creds(t, teststrategy.Section{RevokeFile: file})); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctx, "svc")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.DeleteCredentials(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(file)
	if err != nil || string(got) != tok.AccessToken {
		t.Errorf("revoked %q (%v), want the Manager's token %q", got, err, tok.AccessToken)
	}
	err = s.Revoke(ctx, creds(t, teststrategy.Section{}), nil)
	if !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("Revoke(nil token) = %v, want the plugin's ErrTokenNotFound", err)
	}
}

func TestPanicBecomesError(t *testing.T) {
	s := open(t, plugins.Options{})
	pid := s.PID()
	_, err := s.Token(ctxT(t), creds(t, teststrategy.Section{Panic: true}), nil)
	if err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Fatalf("err = %v, want a panic reported as an error", err)
	}
	if strings.Contains(fmt.Sprintf("%v %+v %#v", err, err, err), teststrategy.PanicCanary) {
		t.Errorf("the panic value crossed the boundary: %v", err)
	}
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil); err != nil {
		t.Fatal(err)
	}
	if s.PID() != pid || s.Starts() != 1 {
		t.Errorf("pid %d → %d, %d starts: a panic in a call must not cost the process", pid, s.PID(), s.Starts())
	}
}

// TestNoSecretsLogged: with the most verbose logger, neither a secret of
// the credential nor the token appears in the host's log or errors.
func TestNoSecretsLogged(t *testing.T) {
	const canary = "canary-secret-5e1d0f9a"
	var buf coretest.SyncBuffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug - 8}))
	s, err := plugins.Open(plugins.BuildTestPlugin(t, 0), plugins.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	c := creds(t, teststrategy.Section{Echo: true})
	_ = c.SetSection("vendorx", map[string]string{"apiKey": canary})
	tok, err := s.Token(ctxT(t), c, &core.Token{AccessToken: canary + "-prev"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fmt.Sprint(tok.Extra["credentials"]), canary) {
		t.Fatal("the canary did not reach the plugin; the check would pass vacuously")
	}
	c2 := creds(t, teststrategy.Section{Fail: "plain"})
	_ = c2.SetSection("vendorx", map[string]string{"apiKey": canary})
	_, err = s.Token(ctxT(t), c2, nil)
	if err == nil || strings.Contains(err.Error(), canary) {
		t.Errorf("error %v", err)
	}
	_ = s.Close()
	if len(buf.String()) == 0 {
		t.Fatal("nothing was logged; the check would pass vacuously")
	}
	for _, secret := range []string{canary, tok.AccessToken, tok.RefreshToken} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("log holds a secret:\n%s", buf.String())
		}
	}
}

func TestCloseStopsProcess(t *testing.T) {
	s := open(t, plugins.Options{})
	pid := s.PID()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if processRunning(t, pid, "") {
		t.Errorf("plugin process %d still runs after Close", pid)
	}
	_, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil)
	if !errors.Is(err, plugins.ErrClosed) {
		t.Errorf("Token after Close = %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}

	// A Manager closes the plugins it was given.
	s2 := open(t, plugins.Options{})
	pid2 := s2.PID()
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s2}})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if processRunning(t, pid2, "") {
		t.Errorf("plugin process %d still runs after Manager.Close", pid2)
	}
	noChildren(t)
}

func TestLoadDir(t *testing.T) {
	bin := plugins.BuildTestPlugin(t, 0)
	dir := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		"type-beta":   0o755,
		"type-alpha":  0o755,
		".type-gamma": 0o755, // hidden
		"type-delta":  0o644, // not executable
	} {
		copyFile(t, bin, filepath.Join(dir, name), mode)
	}
	if err := os.Mkdir(filepath.Join(dir, "type-subdir"), 0o755); err != nil {
		t.Fatal(err)
	}
	ss, err := plugins.LoadDir(dir, plugins.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, s := range ss {
		types = append(types, s.Type())
		if _, err := s.Token(ctxT(t), &core.Credentials{Type: s.Type()}, nil); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("%s: a credential without its section: %v, want ErrInvalidCredentials", s.Type(), err)
		}
		_ = s.Close()
	}
	if strings.Join(types, ",") != "alpha,beta" {
		t.Errorf("types %v, want [alpha beta]: every executable, by name, hidden and non-executable files skipped", types)
	}
	noChildren(t)

	// Every plugin serving one type is an error naming both files.
	_, err = plugins.LoadDir(dir, plugins.Options{Env: []string{"OMNITOKEN_TESTPLUGIN_TYPE=same"}})
	if err == nil || !strings.Contains(err.Error(), `both serve type "same"`) {
		t.Errorf("LoadDir with two plugins of one type: %v", err)
	}
	noChildren(t) // the plugins started before the refusal were closed
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(to, mode); err != nil {
		t.Fatal(err)
	}
}
