package hashicorp_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/hashicorp"
	"github.com/plexusone/omnitoken/vaults/hashicorp/internal/fakevault"
	"github.com/plexusone/omnivault/vault"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const rootToken = "hvs.root-canary-token"

// clock is a settable time source shared by the fake and the client.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startFake(t *testing.T, s *fakevault.Server) *fakevault.Server {
	t.Helper()
	if s.RootToken == "" {
		s.RootToken = rootToken
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func newVault(t *testing.T, srv *fakevault.Server, mod func(*hashicorp.Config)) *hashicorp.Vault {
	t.Helper()
	cfg := hashicorp.Config{
		Address: srv.URL, Mount: "secret", Prefix: "omnitoken",
		Auth:         hashicorp.Auth{Token: rootToken},
		MinRetryWait: time.Millisecond, MaxRetryWait: 5 * time.Millisecond,
	}
	if mod != nil {
		mod(&cfg)
	}
	v, err := hashicorp.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func TestCRUDAndList(t *testing.T) {
	srv := startFake(t, &fakevault.Server{})
	v := newVault(t, srv, nil)
	ctx := context.Background()

	if _, err := v.Get(ctx, "credentials/none"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get missing: %v, want ErrSecretNotFound", err)
	}
	paths := []string{"credentials/a", "credentials/team/b c", "credentials/ünï", "tokens/a"}
	for _, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: "v:" + p, Fields: map[string]string{"kind": "x"}}); err != nil {
			t.Fatalf("Set %s: %v", p, err)
		}
	}
	if got := srv.Data("omnitoken/credentials/a")["value"]; got != "v:credentials/a" {
		t.Fatalf("stored under the prefix: %v", got)
	}
	s, err := v.Get(ctx, "credentials/team/b c")
	if err != nil || s.Value != "v:credentials/team/b c" || s.Fields["kind"] != "x" || s.Metadata.Version != "1" {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	got, err := v.List(ctx, "credentials/")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"credentials/a", "credentials/team/b c", "credentials/ünï"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if ok, err := v.Exists(ctx, "tokens/a"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if ok, err := v.Exists(ctx, "tokens/a"); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	if _, err := v.Get(ctx, "../escape"); !errors.Is(err, vault.ErrInvalidPath) {
		t.Fatalf("Get ../escape: %v", err)
	}
}

// Two writers that read the same version: the second conditional write
// is refused with core.ErrConflict, and succeeds after it reads again. A
// plain Set overwrites whatever is there.
func TestCheckAndSetConflict(t *testing.T) {
	srv := startFake(t, &fakevault.Server{})
	a, b := newVault(t, srv, nil), newVault(t, srv, nil)
	vaulte2e.ConditionalWrites(t, a, b, "tokens/x")
	if n := srv.Version("omnitoken/tokens/x"); n != 4 {
		t.Fatalf("%d versions, want 4 (the refused writes made none)", n)
	}
}

func TestAuthFailure(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "right-secret"})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "canary-wrong-secret"}
	})
	_, err := v.Get(context.Background(), "credentials/a")
	if !errors.Is(err, vault.ErrAuthenticationFailed) {
		t.Fatalf("Get with a bad secret ID: %v, want ErrAuthenticationFailed", err)
	}
	if strings.Contains(err.Error(), "canary") {
		t.Fatalf("error quotes the secret ID: %v", err)
	}
	bad := newVault(t, srv, func(c *hashicorp.Config) { c.Auth = hashicorp.Auth{Token: "hvs.canary-unknown"} })
	_, err = bad.Get(context.Background(), "credentials/a")
	if !errors.Is(err, vault.ErrAuthenticationFailed) || strings.Contains(err.Error(), "canary") {
		t.Fatalf("Get with an unknown token: %v", err)
	}
	if _, err := hashicorp.New(hashicorp.Config{Address: srv.URL, Mount: "secret"}); !errors.Is(err, vault.ErrAuthenticationFailed) {
		t.Fatalf("New without a token: %v", err)
	}
}

// The client's own token is renewed at two thirds of its lease, and a
// token past its maximum TTL is replaced by a fresh login.
func TestTokenRenewalAndRelogin(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid", TokenTTL: time.Hour, MaxTTL: 2 * time.Hour, Now: clk.Now})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
		c.Now = clk.Now
	})
	ctx := context.Background()
	set := func(val string) {
		t.Helper()
		if err := v.Set(ctx, "tokens/x", &vault.Secret{Value: val}); err != nil {
			t.Fatal(err)
		}
	}
	set("1")
	if srv.Requests("login") != 1 || srv.Requests("renew-self") != 0 {
		t.Fatalf("after first use: %d logins, %d renewals", srv.Requests("login"), srv.Requests("renew-self"))
	}
	clk.Advance(30 * time.Minute)
	set("2")
	if srv.Requests("renew-self") != 0 {
		t.Fatal("renewed before two thirds of the lease")
	}
	clk.Advance(15 * time.Minute) // 45 min: past 40
	set("3")
	if srv.Requests("renew-self") != 1 || srv.Requests("login") != 1 {
		t.Fatalf("at 45 min: %d renewals, %d logins; want 1, 1", srv.Requests("renew-self"), srv.Requests("login"))
	}
	// Idle past the token's maximum TTL: the server refuses it, and the
	// client logs in again without failing the call.
	clk.Advance(3 * time.Hour)
	set("4")
	if srv.Requests("login") != 2 {
		t.Fatalf("after the token lapsed: %d logins, want 2", srv.Requests("login"))
	}
	if got := srv.Data("omnitoken/tokens/x")["value"]; got != "4" {
		t.Fatalf("stored %v, want 4", got)
	}
	// A token revoked behind the client's back: 403, one login, retried.
	clk.Advance(time.Minute)
	srv.Revoke(currentToken(t, srv))
	set("5")
	if srv.Requests("login") != 3 {
		t.Fatalf("after revocation: %d logins, want 3", srv.Requests("login"))
	}
}

// currentToken finds the one login token the fake has issued and not
// revoked, besides the root token.
func currentToken(t *testing.T, srv *fakevault.Server) string {
	t.Helper()
	toks := srv.Tokens()
	var out []string
	for _, tok := range toks {
		if tok != rootToken {
			out = append(out, tok)
		}
	}
	if len(out) == 0 {
		t.Fatal("no login token")
	}
	return out[len(out)-1]
}

func TestKubernetesLogin(t *testing.T) {
	srv := startFake(t, &fakevault.Server{K8sRole: "omnitoken", K8sJWT: "projected.jwt"})
	dir := t.TempDir()
	jwtPath := dir + "/token"
	if err := os.WriteFile(jwtPath, []byte("projected.jwt\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"VAULT_K8S_JWT_PATH": jwtPath}
	v, err := hashicorp.FromURI("vault://"+strings.TrimPrefix(srv.URL, "http://")+"/secret/k8s?tls=false&auth=kubernetes&role=omnitoken", mapEnv(env))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	if err := v.Set(context.Background(), "a", &vault.Secret{Value: "x"}); err != nil {
		t.Fatal(err)
	}
	if srv.Requests("login") != 1 || srv.Data("k8s/a")["value"] != "x" {
		t.Fatalf("logins %d, data %v", srv.Requests("login"), srv.Data("k8s/a"))
	}
}

// 429 answers are retried with backoff; the call succeeds once the
// throttling ends, and fails clearly when it outlasts the retries.
func TestThrottling(t *testing.T) {
	srv := startFake(t, &fakevault.Server{})
	v := newVault(t, srv, func(c *hashicorp.Config) { c.MaxRetries = 3 })
	vaulte2e.Throttling(t, v, "tokens/x", srv.Throttle, func() int { return srv.Requests("throttled") })
	if srv.Requests("throttled") != 2+4 {
		t.Fatalf("%d throttled answers, want 6 (1 try + 3 retries)", srv.Requests("throttled"))
	}
}

func TestFromURI(t *testing.T) {
	env := mapEnv(map[string]string{"VAULT_TOKEN": "t", "VAULT_ADDR": "https://vault.example:8200", "BAO_TOKEN": "b"})
	for _, tc := range []struct {
		uri, name, err string
	}{
		{uri: "vault://vault.example:8200/secret/omnitoken", name: "vault"},
		{uri: "openbao://bao.example/kv", name: "openbao"},
		{uri: "vault:///secret", name: "vault"},
		{uri: "vault://127.0.0.1:8200/secret?tls=false", name: "vault"},
		{uri: "vault://vault.example/secret?tls=false", err: "not loopback"},
		{uri: "vault://vault.example/", err: "no KV mount"},
		{uri: "vault://user:canary@vault.example/secret", err: "credentials in the URI"},
		{uri: "vault://vault.example/secret?auth=approle", err: "VAULT_ROLE_ID"},
		{uri: "vault://vault.example/secret?auth=magic", err: "unknown auth method"},
	} {
		v, err := hashicorp.FromURI(tc.uri, env)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "canary") {
				t.Errorf("%s: %v, want an error containing %q", tc.uri, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.uri, err)
			continue
		}
		if v.Name() != tc.name {
			t.Errorf("%s: Name %q", tc.uri, v.Name())
		}
		_ = v.Close()
	}
}

func mapEnv(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// An operator's soft delete ("vault kv delete") keeps the secret's
// current version, and Vault compares cas with it. The secret reads as
// missing, so a write for "nothing stored" must go through, on condition
// of that version; before, cas=0 was refused forever and the token could
// never be stored again.
func TestSetIfVersionOverSoftDeleted(t *testing.T) {
	srv := startFake(t, &fakevault.Server{})
	v := newVault(t, srv, nil)
	ctx := context.Background()
	if _, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "1"}, ""); err != nil {
		t.Fatal(err)
	}
	softDelete(t, srv, "secret/data/omnitoken/tokens/d")
	if _, err := v.Get(ctx, "tokens/d"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get of a soft-deleted secret: %v, want ErrSecretNotFound", err)
	}
	nv, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "2"}, "")
	if err != nil {
		t.Fatalf("SetIfVersion(\"\") over a soft-deleted secret: %v", err)
	}
	if s, err := v.Get(ctx, "tokens/d"); err != nil || s.Value != "2" || s.Metadata.Version != nv || nv != "2" {
		t.Fatalf("Get = %+v, %v; want 2 at version 2 (returned %q)", s, err, nv)
	}
	// Live again: "nothing stored" is a conflict.
	if _, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "3"}, ""); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIfVersion(\"\") over a live secret: %v, want ErrConflict", err)
	}
}

// softDelete deletes the latest version at a data path, as "vault kv
// delete" does.
func softDelete(t *testing.T, srv *fakevault.Server, dataPath string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodDelete, srv.URL+"/v1/"+dataPath, nil)
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("soft delete: %s", resp.Status)
	}
}

// Many goroutines find the client's token revoked at once: each gets a
// 403, and one fresh login serves them all. Before, every 403 forced a
// login of its own, and a login cleared the token that the others'
// requests were using, which made more 403s.
func TestReloginOnceUnderConcurrency(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid"})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
	})
	ctx := context.Background()
	if err := v.Set(ctx, "tokens/x", &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	srv.Revoke(currentToken(t, srv))
	const n = 32
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			<-start
			if _, err := v.Get(ctx, "tokens/x"); err != nil {
				errs <- err
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := srv.Requests("login"); got != 2 {
		t.Fatalf("%d logins for %d requests that met a revoked token, want 2 (the first and one again)", got, n)
	}
}

// A 403 that the policy gives a valid token is returned as access
// denied, without a login: before, every such call logged in again.
func TestPolicyDenialNeedsNoLogin(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid"})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
	})
	srv.Deny("secret/data/omnitoken/forbidden")
	for range 5 {
		if _, err := v.Get(context.Background(), "forbidden"); !errors.Is(err, vault.ErrAccessDenied) {
			t.Fatalf("Get of a denied path: %v, want ErrAccessDenied", err)
		}
	}
	if got := srv.Requests("login"); got != 1 {
		t.Fatalf("%d logins for 5 denied reads, want 1", got)
	}
}

// A call waiting while another logs in gives up when its context ends.
func TestWaitForLoginHonoursContext(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid"})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
	})
	entered, release := make(chan struct{}), make(chan struct{})
	srv.BeforeLogin(func() {
		close(entered)
		<-release
	})
	first := make(chan error, 1)
	go func() {
		_, err := v.Get(context.Background(), "x")
		first <- err
	}()
	<-entered
	// The deadline ends the second call's wait (or, on a slow machine,
	// comes before it starts waiting; the result is the same).
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	second := make(chan error, 1)
	go func() {
		_, err := v.Get(ctx, "x")
		second <- err
	}()
	select {
	case err := <-second:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("waiting call: %v, want context.DeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("a cancelled call still waits for another call's login")
		close(release)
		<-second
		release = nil
	}
	if release != nil {
		close(release)
	}
	if err := <-first; !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("the call that logged in: %v, want ErrSecretNotFound", err)
	}
}

// A renewal that fails while the token still has time left does not fail
// the call: the token is used, and renewal tried again later.
func TestFailedRenewalKeepsValidToken(t *testing.T) {
	clk := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid", TokenTTL: time.Hour, Now: clk.Now})
	// A renewable token with a one-hour TTL, used with token auth.
	tokenVault := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
		c.Now = clk.Now
	})
	ctx := context.Background()
	if err := tokenVault.Set(ctx, "tokens/x", &vault.Secret{Value: "1"}); err != nil {
		t.Fatal(err)
	}
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Token: currentToken(t, srv)}
		c.Now = clk.Now
		c.MaxRetries = -1
	})
	if _, err := v.Get(ctx, "tokens/x"); err != nil {
		t.Fatal(err)
	}
	clk.Advance(45 * time.Minute) // past two thirds of the lease
	srv.Throttle(1)               // the renewal fails
	if s, err := v.Get(ctx, "tokens/x"); err != nil || s.Value != "1" {
		t.Fatalf("Get after a failed renewal of a valid token: %+v, %v", s, err)
	}
	if srv.Requests("throttled") != 1 {
		t.Fatalf("%d throttled requests, want 1 (the renewal)", srv.Requests("throttled"))
	}
	clk.Advance(8 * time.Minute) // halfway to expiry: renewal again
	if _, err := v.Get(ctx, "tokens/x"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Requests("renew-self"); got != 1 {
		t.Fatalf("%d successful renewals, want 1", got)
	}
}

// A refused write names neither the value it carried nor a token or an
// AppRole secret ID.
func TestWriteErrorsQuoteNoSecret(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "canary-secret-id"})
	srv.Deny("secret/data/omnitoken/denied")
	approle := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "canary-secret-id"}
	})
	for _, v := range []*hashicorp.Vault{newVault(t, srv, nil), approle} {
		err := v.Set(context.Background(), "denied", &vault.Secret{Value: "canary-value"})
		if !errors.Is(err, vault.ErrAccessDenied) {
			t.Fatalf("Set of a denied path: %v, want ErrAccessDenied", err)
		}
		for _, tok := range append(srv.Tokens(), "canary") {
			if strings.Contains(err.Error(), tok) {
				t.Fatalf("error quotes %q: %v", tok, err)
			}
		}
	}
}

// A secret written by hand ("vault kv put …/credentials/x type=basic
// basic=…") keeps its keys as Fields, so omnitoken reads a credential
// kept as flat fields. Before, every key but "value" and "field:…" was
// dropped, and such a credential read as empty.
func TestPlainKeysAreFields(t *testing.T) {
	srv := startFake(t, &fakevault.Server{})
	v := newVault(t, srv, nil)
	body := `{"data":{"type":"basic","basic":"{\"username\":\"u\",\"password\":\"canary-pw\"}","field:type":"wins"}}`
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/secret/data/omnitoken/credentials/x", strings.NewReader(body))
	req.Header.Set("X-Vault-Token", rootToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s, err := v.Get(context.Background(), "credentials/x")
	if err != nil {
		t.Fatal(err)
	}
	if s.GetField("basic") != `{"username":"u","password":"canary-pw"}` || s.GetField("type") != "wins" || s.Value != "" {
		t.Fatalf("fields %q, value %q; want basic kept and field:type winning over type", s.Fields, s.Value)
	}
}

// The first call logs in, and its token is revoked before its request
// lands: the 403 still brings one fresh login and the request again, so
// the call that logged in knows the token it used.
func TestFirstCallReloginsAfterRevocation(t *testing.T) {
	srv := startFake(t, &fakevault.Server{RoleID: "role", SecretID: "sid"})
	v := newVault(t, srv, func(c *hashicorp.Config) {
		c.Auth = hashicorp.Auth{Method: hashicorp.AuthAppRole, RoleID: "role", SecretID: "sid"}
	})
	srv.BeforeRead(func() { srv.Revoke(currentToken(t, srv)) })
	if _, err := v.Get(context.Background(), "x"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("first Get with its token revoked: %v, want ErrSecretNotFound after a fresh login", err)
	}
	if got := srv.Requests("login"); got != 2 {
		t.Fatalf("%d logins, want 2", got)
	}
}
