package main

// These tests use the CLI as a person or a script would: TestMain builds
// the binary once, and each test runs it as a subprocess against a vault
// in a temp directory and a loopback identity provider, checking exit
// codes and output. Every run's stdout and stderr are searched for the
// canary secrets below; only the token that token, header and exec hand
// out may appear.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Canary secrets: none may ever be printed, except the access token a
// command exists to hand out.
const (
	canaryClientSecret = "cnry-client-secret-9d1f"
	canaryPassword     = "cnry-password-4b2e"
	canaryAPIKey       = "cnry-apikey-77aa"
	canaryRefresh      = "cnry-refresh-" // prefix of the IdP's refresh tokens
	canaryAccess       = "cnry-access-"  // prefix of the IdP's access tokens
	canaryAssertion    = "cnry-assertion-51c0"
	canarySubject      = "cnry-subject-token-0e3b"
)

var canaries = []string{canaryClientSecret, canaryPassword, canaryAPIKey, canaryRefresh, canaryAccess, canaryAssertion, canarySubject}

// bin is the omnitoken binary built by TestMain.
var bin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "omnitoken-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "omnitoken")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build ./cmd/omnitoken: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	stopOIDC()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// result is one finished run.
type result struct {
	stdout, stderr string
	code           int
}

// cliEnv is what a run sees: its vault, its home, extra variables.
type cliEnv struct {
	t     testing.TB
	vault string
	home  string
	extra []string
}

func newEnv(t testing.TB) *cliEnv {
	t.Helper()
	d := t.TempDir()
	return &cliEnv{t: t, vault: filepath.Join(d, "vault"), home: filepath.Join(d, "home")}
}

// environ is a clean environment: no OMNITOKEN_* from the caller, a home
// of the test's own, no display (so login never opens a browser).
func (e *cliEnv) environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "OMNITOKEN_") || k == "HOME" || k == "XDG_CONFIG_HOME" || k == "DISPLAY" || k == "WAYLAND_DISPLAY" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "HOME="+e.home, "XDG_CONFIG_HOME="+filepath.Join(e.home, ".config"), "OMNITOKEN_VAULT_URI="+e.vault)
	return append(env, e.extra...)
}

// run runs the CLI with stdin and args. allow lists secrets this run may
// print (the token it hands out).
func (e *cliEnv) run(stdin string, allow []string, args ...string) result {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = e.environ()
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{stdout: out.String(), stderr: errb.String()}
	if xe, ok := err.(*exec.ExitError); ok {
		r.code = xe.ExitCode()
	} else if err != nil {
		e.t.Fatalf("omnitoken %s: %v", strings.Join(args, " "), err)
	}
	noCanary(e.t, args, r.stdout+r.stderr, allow)
	return r
}

// noCanary fails the test if out holds a canary that allow does not.
func noCanary(t testing.TB, args []string, out string, allow []string) {
	t.Helper()
	for _, a := range allow {
		out = strings.ReplaceAll(out, a, "")
	}
	for _, c := range canaries {
		if strings.Contains(out, c) {
			t.Errorf("omnitoken %s printed the canary %q:\n%s", strings.Join(args, " "), c, out)
		}
	}
}

// want checks the exit code and that stdout/stderr contain each string.
func (r result) want(t testing.TB, code int, contains ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit code %d, want %d\nstdout: %s\nstderr: %s", r.code, code, r.stdout, r.stderr)
	}
	for _, s := range contains {
		if !strings.Contains(r.stdout+r.stderr, s) {
			t.Fatalf("output lacks %q\nstdout: %s\nstderr: %s", s, r.stdout, r.stderr)
		}
	}
}

// idp is a loopback OAuth 2.0 token endpoint for the client_credentials
// and refresh_token grants of one client, whose tokens are canaries. A
// wrong client secret is refused with an error description that echoes
// the secret sent, as careless servers do.
type idp struct {
	srv       *httptest.Server
	requests  atomic.Int64
	refreshes atomic.Int64 // refresh_token grants with the latest refresh token
	seq       atomic.Int64
	ttl       int // expires_in
}

func newIdP(t testing.TB, ttl int) *idp {
	p := &idp{ttl: ttl}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

func (p *idp) tokenURL() string { return p.srv.URL + "/token" }

func (p *idp) serve(w http.ResponseWriter, r *http.Request) {
	p.requests.Add(1)
	_ = r.ParseForm()
	w.Header().Set("Content-Type", "application/json")
	id, secret, _ := r.BasicAuth()
	if id != "cli-client" || secret != canaryClientSecret {
		w.WriteHeader(http.StatusUnauthorized)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": "invalid_client", "error_description": "bad client secret " + secret})
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
	case "refresh_token":
		if r.PostForm.Get("refresh_token") != fmt.Sprintf("%s%d", canaryRefresh, p.seq.Load()) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		p.refreshes.Add(1)
	default:
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"error":"unsupported_grant_type"}`))
		return
	}
	n := p.seq.Add(1)
	at := fmt.Sprintf("%s%d", canaryAccess, n)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": at, "token_type": "Bearer", "expires_in": p.ttl,
		"refresh_token": fmt.Sprintf("%s%d", canaryRefresh, n),
	})
}

// oauth2JSON is a client_credentials credential for p.
func (p *idp) oauth2JSON(secret string) string {
	return fmt.Sprintf(`{"service":"example","type":"oauth2","oauth2":{"clientID":"cli-client","clientSecret":%q,`+
		`"grantType":"client_credentials","endpoint":{"TokenURL":%q,"AuthStyle":2}}}`, secret, p.tokenURL())
}

func TestSetFromFileStdinAndFlags(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	file := filepath.Join(t.TempDir(), "creds.json")
	if err := os.WriteFile(file, []byte(p.oauth2JSON(canaryClientSecret)), 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("", nil, "set", "from-file", "--file", file).want(t, 0, "Stored credential from-file (type oauth2)")
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "from-stdin").want(t, 0, "Stored credential from-stdin")
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "dash", "--file", "-").want(t, 0, "Stored credential dash")
	e.run(canaryClientSecret+"\n", nil, "set", "from-flags", "--type", "oauth2", "--client-id", "cli-client",
		"--grant-type", "client_credentials", "--token-url", p.tokenURL(), "--secret-stdin").want(t, 0, "Stored credential from-flags")
	e.run(canaryPassword+"\n", nil, "set", "jira", "--type", "basic", "--username", "alice", "--secret-stdin").want(t, 0)
	e.run(canaryAPIKey+"\n", nil, "set", "maps", "--type", "headerquery", "--header", "X-Api-Key", "--secret-stdin").want(t, 0)

	// What was stored is what a program reads: the file holds goauth JSON.
	b, err := os.ReadFile(filepath.Join(e.vault, "credentials", "from-flags.json"))
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Type   string `json:"type"`
		OAuth2 struct {
			ClientSecret string `json:"clientSecret"`
			TokenURL     string `json:"-"`
		} `json:"oauth2"`
	}
	if err := json.Unmarshal(b, &got); err != nil || got.Type != "oauth2" || got.OAuth2.ClientSecret != canaryClientSecret {
		t.Fatalf("stored = %+v, %v", got, err)
	}
	// Each flag-built credential gives a token.
	e.run("", []string{canaryAccess + "1"}, "token", "from-flags").want(t, 0, canaryAccess)

	r := e.run("", nil, "list")
	r.want(t, 0, "from-file", "from-stdin", "from-flags", "jira", "maps", "static")

	// Usage errors.
	e.run("", nil, "set").want(t, 2)
	e.run("", nil, "set", "x").want(t, 2, "no credential given") // stdin is /dev/null, no flags
	e.run("", nil, "set", "x", "--type", "jwt", "--client-id", "a").want(t, 2)
	e.run("", nil, "set", "x", "--type", "headerquery", "--secret-stdin").want(t, 2)
	e.run("", nil, "set", "x", "--file", file, "--type", "basic").want(t, 2)
	e.run("", nil, "set", "x", "--no-such-flag").want(t, 2)
}

func TestSetRefusesBadInputWithoutEchoingIt(t *testing.T) {
	e := newEnv(t)
	// Malformed JSON holding a secret: the error must not quote it.
	e.run(`{"type":"oauth2","oauth2":{"clientSecret":"`+canaryClientSecret+`",}`, nil, "set", "bad").want(t, 1, "invalid credentials")
	// Well-formed but invalid for its type.
	e.run(`{"type":"oauth2","oauth2":{"clientSecret":"`+canaryClientSecret+`","grantType":"client_credentials","endpoint":{"TokenURL":"ftp://x"}}}`, nil, "set", "bad").want(t, 1, "invalid credentials")
	// Plain http to a host that is not loopback is refused.
	e.run(`{"type":"oauth2","oauth2":{"clientID":"a","clientSecret":"`+canaryClientSecret+`","grantType":"client_credentials","endpoint":{"TokenURL":"http://idp.example/token"}}}`, nil, "set", "bad").want(t, 1, "http")
	// A bad name.
	e.run(`{"type":"basic","basic":{"username":"a","password":"`+canaryPassword+`"}}`, nil, "set", strings.Repeat("n", 300)).want(t, 2)
	e.run("", nil, "list").want(t, 0, "No credentials")
	if _, err := os.Stat(filepath.Join(e.vault, "credentials", "bad.json")); !os.IsNotExist(err) {
		t.Fatalf("a refused credential was stored: %v", err)
	}
}

func TestListShowJSONAndStates(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	e.run(p.oauth2JSON("wrong-"+canaryClientSecret), nil, "set", "broken").want(t, 0)
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"authorization_code","endpoint":{"AuthURL":"https://idp.example/auth","TokenURL":"https://idp.example/token"}}}`, nil, "set", "me").want(t, 0, "omnitoken login me")
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"device_code","endpoint":{"DeviceAuthURL":"https://idp.example/device","TokenURL":"https://idp.example/token"}}}`, nil, "set", "tv").want(t, 0, "omnitoken login tv --device")
	e.run(`{"type":"basic","basic":{"username":"alice","password":"`+canaryPassword+`"}}`, nil, "set", "jira").want(t, 0)
	e.run(`{"type":"githubapp","githubapp":{"key":"`+canaryAssertion+`"}}`, nil, "set", "plug").want(t, 0)
	e.run(`{"type":"oauth2","oauth2":{"clientID":"x","clientSecret":"`+canaryClientSecret+`","grantType":"token-exchange","endpoint":{"TokenURL":"https://idp.example/t"},"metadata":{"subjectToken":"`+canarySubject+`"}}}`, nil, "set", "exch").want(t, 0)
	e.run("", []string{canaryAccess + "1"}, "token", "api").want(t, 0)

	r := e.run("", nil, "list", "--json")
	r.want(t, 0)
	var list []status
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatalf("list --json: %v\n%s", err, r.stdout)
	}
	states := map[string]status{}
	for _, s := range list {
		states[s.Name] = s
	}
	for name, want := range map[string]string{"api": stateValid, "broken": stateNoToken, "me": stateNeedsLogin, "tv": stateNeedsLogin, "jira": stateStatic, "plug": stateFailing, "exch": stateNoToken} {
		if states[name].State != want {
			t.Errorf("list --json: %s is %+v, want state %s", name, states[name], want)
		}
	}
	if s := states["api"]; s.Expiry == nil || time.Until(*s.Expiry) < 50*time.Minute || !s.Refresh || s.Type != "oauth2" || s.Service != "example" {
		t.Errorf("api = %+v", s)
	}
	if s := states["tv"]; s.Login != "omnitoken login tv --device" {
		t.Errorf("tv = %+v", s)
	}
	if !strings.Contains(states["plug"].Reason, "unsupported credential type") {
		t.Errorf("plug = %+v", states["plug"])
	}

	// --check asks the IdP: a wrong secret is failing, with the reason.
	r = e.run("", nil, "list", "--json", "--check")
	r.want(t, 0)
	list = nil
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Name == "broken" && (s.State != stateFailing || !strings.Contains(s.Reason, "invalid_client")) {
			t.Errorf("list --check: broken = %+v", s)
		}
		if s.Name == "api" && s.State != stateValid {
			t.Errorf("list --check: api = %+v", s)
		}
	}
	e.run("", nil, "list").want(t, 0, "valid until", "needs login: omnitoken login me", "failing: ", "static")

	for _, name := range []string{"api", "broken", "me", "jira", "plug", "exch"} {
		e.run("", nil, "show", name).want(t, 0, "type:")
		e.run("", nil, "show", name, "--json").want(t, 0, `"name"`)
	}
	e.run("", nil, "show", "api").want(t, 0, "clientSecret=[REDACTED]", "refresh=[REDACTED]", "valid until")
	e.run("", nil, "show", "nope").want(t, 1, `no credential "nope"`)
	e.run("", nil, "show").want(t, 2)
	e.run("", nil, "list", "extra").want(t, 2)
}

func TestTokenHeaderHotPathUsesTheStoredToken(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)

	r := e.run("", []string{canaryAccess + "1"}, "token", "api")
	r.want(t, 0)
	if r.stdout != canaryAccess+"1\n" || r.stderr != "" {
		t.Fatalf("token: stdout %q stderr %q, want the access token alone", r.stdout, r.stderr)
	}
	// Later runs read the stored token: no new request to the IdP.
	for range 3 {
		r = e.run("", []string{canaryAccess + "1"}, "token", "api")
		r.want(t, 0)
		if r.stdout != canaryAccess+"1\n" {
			t.Fatalf("token: %q", r.stdout)
		}
	}
	r = e.run("", []string{canaryAccess + "1"}, "header", "api")
	r.want(t, 0)
	if r.stdout != "Authorization: Bearer "+canaryAccess+"1\n" {
		t.Fatalf("header: %q", r.stdout)
	}
	if n := p.requests.Load(); n != 1 {
		t.Fatalf("IdP saw %d requests, want 1", n)
	}
	e.run("", nil, "token", "nope").want(t, 1, `no credential "nope"`)
	e.run("", nil, "header").want(t, 2)

	// The engine's debug lines redact too.
	e.run(p.oauth2JSON("wrong-"+canaryClientSecret), nil, "set", "broken").want(t, 0)
	e.run("", []string{canaryAccess + "1"}, "-v", "token", "api").want(t, 0)
	e.run("", nil, "-v", "check", "broken").want(t, 1, "level=WARN", "invalid_client")
	e.run("", nil, "-v", "list", "--check").want(t, 0)
}

func TestTokenRefreshesAnExpiredToken(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	e.run("", []string{canaryAccess + "1"}, "token", "api").want(t, 0)
	// Time passes: the stored token's expiry moves into the past, as a
	// fake clock cannot reach into another process.
	path := filepath.Join(e.vault, "tokens", "api.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var tok map[string]any
	if err := json.Unmarshal(b, &tok); err != nil {
		t.Fatal(err)
	}
	tok["expiry"] = time.Now().Add(-time.Minute).Format(time.RFC3339)
	if b, err = json.Marshal(tok); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	e.run("", nil, "list").want(t, 0, "expired, refreshable")
	r := e.run("", []string{canaryAccess + "2"}, "token", "api")
	r.want(t, 0)
	if r.stdout != canaryAccess+"2\n" || p.requests.Load() != 2 || p.refreshes.Load() != 1 {
		t.Fatalf("second token = %q after %d IdP requests, want a refreshed one", r.stdout, p.requests.Load())
	}
}

func TestHeaderBasicAndAPIKey(t *testing.T) {
	e := newEnv(t)
	e.run(`{"type":"basic","basic":{"username":"alice","password":"`+canaryPassword+`"}}`, nil, "set", "jira").want(t, 0)
	e.run(`{"type":"headerquery","headerquery":{"header":{"X-Api-Key":["`+canaryAPIKey+`"]}}}`, nil, "set", "maps").want(t, 0)
	e.run(`{"type":"headerquery","headerquery":{"query":{"key":["`+canaryAPIKey+`"]}}}`, nil, "set", "q").want(t, 0)

	basicValue := "YWxpY2U6Y25yeS1wYXNzd29yZC00YjJl" // base64("alice:" + canaryPassword)
	r := e.run("", nil, "header", "jira")
	r.want(t, 0)
	if r.stdout != "Authorization: Basic "+basicValue+"\n" {
		t.Fatalf("header jira = %q", r.stdout)
	}
	r = e.run("", []string{canaryAPIKey}, "header", "maps")
	r.want(t, 0)
	if r.stdout != "X-Api-Key: "+canaryAPIKey+"\n" {
		t.Fatalf("header maps = %q", r.stdout)
	}
	r = e.run("", []string{canaryAPIKey}, "token", "maps")
	if r.want(t, 0); r.stdout != canaryAPIKey+"\n" {
		t.Fatalf("token maps = %q", r.stdout)
	}
	e.run("", nil, "header", "q").want(t, 1, "query parameters (key)")
}

func TestExecPassesTokenAndExitCode(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	at := canaryAccess + "1"
	// The child sees the token, and its exit code comes back.
	e.run("", []string{at}, "exec", "api", "--", "sh", "-c", `test "$OMNITOKEN_TOKEN" = "`+at+`" && exit 7`).want(t, 7)
	e.run("", []string{at}, "exec", "api", "--", "sh", "-c", `test "$OMNITOKEN_TOKEN" = wrong`).want(t, 1)
	r := e.run("", []string{at}, "exec", "--env", "GH_TOKEN", "api", "--", "sh", "-c", `printf '%s|%s' "$GH_TOKEN" "$OMNITOKEN_TOKEN"`)
	r.want(t, 0)
	if r.stdout != at+"|" {
		t.Fatalf("exec --env: %q", r.stdout)
	}
	e.run("", nil, "exec", "api", "--", "no-such-command-omnitoken-test").want(t, 127)
	e.run("", nil, "exec", "api", "sh").want(t, 2)
	e.run("", nil, "exec", "api", "--").want(t, 2)
	e.run("", nil, "exec", "nope", "--", "true").want(t, 1)
}

func TestCheck(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	e.run(p.oauth2JSON("wrong-"+canaryClientSecret), nil, "set", "broken").want(t, 0)
	e.run("", nil, "check", "api").want(t, 0, "ok: api (oauth2): token valid until")

	// The IdP echoes the wrong secret in its error; it is not printed.
	r := e.run("", nil, "check", "broken")
	r.want(t, 1, "invalid_client")
	if lines := strings.Count(strings.TrimSpace(r.stderr), "\n"); lines != 0 || r.stdout != "" {
		t.Fatalf("check failure: want one line on stderr, got stdout %q stderr %q", r.stdout, r.stderr)
	}
	e.run(`{"type":"githubapp","githubapp":{}}`, nil, "set", "plug").want(t, 0)
	e.run("", nil, "check", "plug").want(t, 1, "unsupported credential type")
	e.run("", nil, "check", "nope").want(t, 1)
	e.run("", nil, "check").want(t, 2)
}

func TestNeedsLoginExitCode(t *testing.T) {
	e := newEnv(t)
	var deviceRequests atomic.Int64
	device := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		deviceRequests.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"device_code":"dc","user_code":"ABCD-EFGH","verification_uri":"http://127.0.0.1/device","interval":5}`))
	}))
	defer device.Close()
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"device_code","endpoint":{"DeviceAuthURL":"`+device.URL+`/device","TokenURL":"`+device.URL+`/token"}}}`, nil, "set", "tv").want(t, 0)
	for _, args := range [][]string{{"token", "tv"}, {"check", "tv"}} {
		r := e.run("", nil, args...)
		r.want(t, exitNeedsLogin, "To log in, run: omnitoken login tv --device")
		if strings.Contains(r.stderr, "ABCD-EFGH") {
			t.Fatalf("%v showed a device code nobody will poll: %s", args, r.stderr)
		}
	}
	if n := deviceRequests.Load(); n != 0 {
		t.Fatalf("the device endpoint saw %d requests; no login was asked for", n)
	}
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"authorization_code","endpoint":{"AuthURL":"https://idp.example/auth","TokenURL":"https://idp.example/token"}}}`, nil, "set", "my app").want(t, 0)
	for _, args := range [][]string{{"token", "my app"}, {"header", "my app"}, {"check", "my app"}, {"exec", "my app", "--", "true"}} {
		e.run("", nil, args...).want(t, exitNeedsLogin, "To log in, run: omnitoken login 'my app'")
	}
}

func TestDelete(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	e.run("", []string{canaryAccess + "1"}, "token", "api").want(t, 0)
	for _, f := range []string{"credentials/api.json", "tokens/api.json"} {
		if _, err := os.Stat(filepath.Join(e.vault, f)); err != nil {
			t.Fatal(err)
		}
	}
	e.run("", nil, "delete", "api").want(t, 0, "Deleted api", "cannot revoke")
	for _, f := range []string{"credentials/api.json", "tokens/api.json"} {
		if _, err := os.Stat(filepath.Join(e.vault, f)); !os.IsNotExist(err) {
			t.Fatalf("%s after delete: %v", f, err)
		}
	}
	e.run("", nil, "delete", "api").want(t, 1, `no credential "api"`)
	e.run("", nil, "delete").want(t, 2)
}

func TestUsageAndHelp(t *testing.T) {
	e := newEnv(t)
	e.run("", nil).want(t, 0, "Exit codes")
	e.run("", nil, "--help").want(t, 0, "login", "token")
	e.run("", nil, "no-such-command").want(t, 2, "unknown command")
	e.run("", nil, "list", "--no-such-flag").want(t, 2, "unknown flag")
	e.run("", nil, "--vault", "memory://", "list").want(t, 2, "keeps nothing")
	e.run("", nil, "--vault", "nosuch://x", "list").want(t, 2, `no vault provider for scheme "nosuch"`)
	e.run("", nil, "--vault", "env://", "list").want(t, 2, "NewFromEnv")
	e.run("", nil, "plugins").want(t, 2)
}

func TestCompletion(t *testing.T) {
	e := newEnv(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		r := e.run("", nil, "completion", sh)
		r.want(t, 0, "omnitoken")
		if len(r.stdout) < 200 {
			t.Fatalf("completion %s: %q", sh, r.stdout)
		}
	}
	// Names complete from the vault.
	e.run(`{"type":"basic","basic":{"username":"a","password":"`+canaryPassword+`"}}`, nil, "set", "jira").want(t, 0)
	e.run("", nil, "__complete", "token", "").want(t, 0, "jira")
}

func TestDefaultVault(t *testing.T) {
	e := newEnv(t)
	e.vault = "" // neither --vault nor OMNITOKEN_VAULT_URI
	env := e.environ()
	for i, kv := range env {
		if strings.HasPrefix(kv, "OMNITOKEN_VAULT_URI=") {
			env = append(env[:i], env[i+1:]...)
			break
		}
	}
	cmd := exec.Command(bin, "set", "jira", "--type", "basic", "--username", "a", "--secret-stdin")
	cmd.Env, cmd.Stdin = env, strings.NewReader(canaryPassword)
	out, err := cmd.CombinedOutput()
	noCanary(t, cmd.Args, string(out), nil)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	// The CLI's default is the root package's CredentialsDir.
	t.Setenv("HOME", e.home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(e.home, ".config"))
	dir, err := rootCredentialsDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), dir) {
		t.Fatalf("set said %q, want the vault %s", out, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials", "jira.json")); err != nil {
		t.Fatal(err)
	}
	// OMNITOKEN_VAULT_URI as a file:// URI, and --vault over it.
	other := t.TempDir()
	e.vault = "file://" + other
	e.run(`{"type":"basic","basic":{"username":"a","password":"`+canaryPassword+`"}}`, nil, "set", "b").want(t, 0, other)
	e.run("", nil, "--vault", dir, "list").want(t, 0, "jira")
	e.run("", nil, "list").want(t, 0, "b ")
}

// A new token the vault refused to store (and with it a rotated refresh
// token) is a failure, even though the token was handed out.
func TestTokenNotStoredFails(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	// A directory where the token file goes: no write can replace it,
	// whoever runs the test.
	if err := os.MkdirAll(filepath.Join(e.vault, "tokens", "api.json", "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	r := e.run("", []string{canaryAccess + "1", canaryAccess + "2"}, "token", "api")
	r.want(t, 1, "token persist failed")
}
