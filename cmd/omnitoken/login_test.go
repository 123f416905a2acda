package main

// login runs end to end against a real OpenID provider: zitadel/oidc's
// example OP, started in this test process on 127.0.0.1. The CLI runs as a
// subprocess; the test plays the person and the browser. The OP's storage
// is process-global, so there is one instance, closed in TestMain.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/example/server/storage"

	"github.com/plexusone/omnitoken/internal/oidctest"
)

const (
	opNativeClient = "omnitoken-cli-native"
	opDeviceClient = "omnitoken-cli-device"
	opDeviceSecret = "cnry-device-secret-3aa1" // a canary too
	opPassword     = oidctest.Password
)

func init() { canaries = append(canaries, opDeviceSecret) }

var (
	opOnce   sync.Once
	opServer *httptest.Server
)

func startOIDC(t testing.TB) string {
	t.Helper()
	opOnce.Do(func() {
		opServer = oidctest.Start(
			storage.NativeClient(opNativeClient, "http://127.0.0.1/callback"),
			storage.DeviceClient(opDeviceClient, opDeviceSecret),
		)
	})
	return opServer.URL
}

func stopOIDC() {
	if opServer != nil {
		opServer.Close()
	}
}

// started is a CLI process whose stderr is read line by line.
type started struct {
	cmd    *exec.Cmd
	lines  chan string
	mu     sync.Mutex
	out    strings.Builder // stdout and stderr
	stdout strings.Builder
	done   chan struct{}
}

func (e *cliEnv) start(args ...string) *started {
	e.t.Helper()
	s := &started{cmd: exec.Command(bin, args...), lines: make(chan string, 100), done: make(chan struct{})}
	s.cmd.Env = e.environ()
	stderr, err := s.cmd.StderrPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			s.mu.Lock()
			s.out.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			select {
			case s.lines <- sc.Text():
			default:
			}
		}
	}()
	go func() {
		defer wg.Done()
		b, _ := io.ReadAll(stdout)
		s.mu.Lock()
		s.out.Write(b)
		s.stdout.Write(b)
		s.mu.Unlock()
	}()
	go func() { wg.Wait(); close(s.done) }()
	e.t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.done
		_ = s.cmd.Wait()
	})
	return s
}

// await returns the first stderr line matching re, within 20 s.
func (s *started) await(t testing.TB, re *regexp.Regexp) []string {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-s.lines:
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		case <-deadline:
			t.Fatalf("no line matching %s; output so far:\n%s", re, s.output())
		}
	}
}

// wait waits for the process to exit, within 60 s, and returns its code.
func (s *started) wait(t testing.TB) int {
	t.Helper()
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("the CLI did not finish; output:\n%s", s.output())
	}
	err := s.cmd.Wait()
	if xe, ok := err.(*exec.ExitError); ok {
		return xe.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}

func (s *started) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// storedToken reads the token the CLI stored for name.
func storedToken(t testing.TB, e *cliEnv, name string) (access, refresh string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e.vault, "tokens", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
	}
	if err := json.Unmarshal(b, &tok); err != nil || tok.AccessToken == "" {
		t.Fatalf("stored token: %v", err)
	}
	return tok.AccessToken, tok.RefreshToken
}

func TestLoginAuthorizationCodeAgainstOP(t *testing.T) {
	issuer := startOIDC(t)
	e := newEnv(t)
	e.run(fmt.Sprintf(`{"type":"oauth2","oauth2":{"clientID":%q,"grantType":"authorization_code","pkce":true,`+
		`"redirectURL":"http://127.0.0.1/callback","scope":["openid","offline_access"],`+
		`"endpoint":{"AuthURL":%q,"TokenURL":%q}}}`, opNativeClient, issuer+"/auth", issuer+"/oauth/token"), nil, "set", "user").want(t, 0, "omnitoken login user")
	e.run("", nil, "token", "user").want(t, exitNeedsLogin, "omnitoken login user")

	cli := e.start("login", "user", "--no-browser")
	m := cli.await(t, regexp.MustCompile(`^\s+(http://\S+)$`))
	authURL := m[1]
	if u, err := url.Parse(authURL); err != nil || u.Query().Get("code_challenge_method") != "S256" || !strings.HasPrefix(u.Query().Get("redirect_uri"), "http://127.0.0.1:") {
		t.Fatalf("login URL %s: want PKCE S256 and a 127.0.0.1 redirect", authURL)
	}

	// The browser: the OP's login form, then the redirect to the CLI.
	b := oidctest.Browser(t, nil)
	resp, err := b.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	id := resp.Request.URL.Query().Get("authRequestID")
	if resp.StatusCode != 200 || id == "" {
		t.Fatalf("login page: status %d at %s", resp.StatusCode, resp.Request.URL)
	}
	resp, err = b.PostForm(issuer+"/login/username", url.Values{"id": {id}, "username": {oidctest.User(issuer)}, "password": {opPassword}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if !strings.Contains(string(body), "Authorization complete") {
		t.Fatalf("after the login form: status %d at %s: %.300s", resp.StatusCode, resp.Request.URL, body)
	}

	if code := cli.wait(t); code != 0 {
		t.Fatalf("login exited %d:\n%s", code, cli.output())
	}
	out := cli.output()
	if !strings.Contains(out, "Logged in: token for user stored in "+e.vault) || !strings.Contains(out, "refreshed unattended") {
		t.Fatalf("login output:\n%s", out)
	}
	access, refresh := storedToken(t, e, "user")
	noCanary(t, cli.cmd.Args, out, nil)
	if strings.Contains(out, access) || refresh == "" || strings.Contains(out, refresh) {
		t.Fatalf("login printed a token, or stored no refresh token:\n%s", out)
	}
	// The stored token works at the OP, and token hands it out.
	if body := oidctest.UserInfo(t, issuer, access); !strings.Contains(body, `"sub":"id1"`) {
		t.Fatalf("userinfo = %s", body)
	}
	r := e.run("", []string{access}, "token", "user")
	if r.want(t, 0); r.stdout != access+"\n" {
		t.Fatalf("token after login = %q", r.stdout)
	}
	e.run("", nil, "list").want(t, 0, "valid until")
}

func TestLoginDeviceAgainstOP(t *testing.T) {
	issuer := startOIDC(t)
	e := newEnv(t)
	e.run(fmt.Sprintf(`{"type":"oauth2","oauth2":{"clientID":%q,"clientSecret":%q,"grantType":"urn:ietf:params:oauth:grant-type:device_code",`+
		`"endpoint":{"DeviceAuthURL":%q,"TokenURL":%q}}}`, opDeviceClient, opDeviceSecret, issuer+"/device_authorization", issuer+"/oauth/token"),
		nil, "set", "tv").want(t, 0, "omnitoken login tv --device")

	cli := e.start("login", "tv", "--device")
	m := cli.await(t, regexp.MustCompile(`enter the code: (\S+)$`))
	userCode := m[1]
	cli.await(t, regexp.MustCompile(`^Waiting for you to approve`))

	oidctest.ApproveDevice(t, oidctest.Browser(t, nil), issuer, userCode) // on another device

	if code := cli.wait(t); code != 0 {
		t.Fatalf("login --device exited %d:\n%s", code, cli.output())
	}
	out := cli.output()
	if !strings.Contains(out, "Logged in: token for tv stored in "+e.vault) {
		t.Fatalf("login --device output:\n%s", out)
	}
	access, _ := storedToken(t, e, "tv")
	noCanary(t, cli.cmd.Args, out, nil)
	if strings.Contains(out, access) {
		t.Fatalf("login --device printed the access token:\n%s", out)
	}
	r := e.run("", []string{access}, "token", "tv")
	if r.want(t, 0); r.stdout != access+"\n" {
		t.Fatalf("token after login = %q", r.stdout)
	}
}

func TestLoginWithoutAPerson(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	e.run(p.oauth2JSON(canaryClientSecret), nil, "set", "api").want(t, 0)
	e.run("", nil, "login", "api").want(t, 0, "needs no login", "Logged in: token for api stored in")
	e.run(`{"type":"basic","basic":{"username":"a","password":"`+canaryPassword+`"}}`, nil, "set", "jira").want(t, 0)
	e.run("", nil, "login", "jira", "--device").want(t, 2, "device flow is for oauth2")
	e.run("", nil, "login").want(t, 2)
	e.run("", nil, "login", "nope").want(t, 1)

	// Nobody comes back from the browser: the wait is bounded.
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"authorization_code","endpoint":{"AuthURL":"https://idp.example/auth","TokenURL":"https://idp.example/token"}}}`, nil, "set", "me").want(t, 0)
	r := e.run("", nil, "login", "me", "--timeout", "1s")
	r.want(t, 1, "https://idp.example/auth?", "waiting for the redirect", "deadline exceeded")
}

var _ = context.Background

// login opens the login URL in a browser where there is one (a display
// and xdg-open), and only there. The browser here is a script on PATH
// that records the URL it was given.
func TestLoginOpensABrowserOnlyWhereOneExists(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("xdg-open is how Linux opens a browser")
	}
	e := newEnv(t)
	e.run(`{"type":"oauth2","oauth2":{"clientID":"n","grantType":"authorization_code","endpoint":{"AuthURL":"https://idp.example/auth","TokenURL":"https://idp.example/token"}}}`, nil, "set", "me").want(t, 0)
	bindir := t.TempDir()
	opened := filepath.Join(t.TempDir(), "opened")
	script := "#!/bin/sh\nprintf '%s' \"$1\" > " + opened + ".tmp && mv " + opened + ".tmp " + opened + "\n"
	if err := os.WriteFile(filepath.Join(bindir, "xdg-open"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + bindir + string(os.PathListSeparator) + os.Getenv("PATH")

	// No display: the URL is printed, no browser is started.
	e.extra = []string{path}
	r := e.run("", nil, "login", "me", "--timeout", "1s")
	r.want(t, 1, "https://idp.example/auth?")
	if strings.Contains(r.stderr, "browser was opened") {
		t.Fatalf("without a display: %s", r.stderr)
	}
	if _, err := os.Stat(opened); !os.IsNotExist(err) {
		t.Fatalf("xdg-open ran without a display: %v", err)
	}
	// --no-browser with a display: the same.
	e.extra = []string{path, "DISPLAY=:0"}
	e.run("", nil, "login", "me", "--timeout", "1s", "--no-browser").want(t, 1, "https://idp.example/auth?")
	if _, err := os.Stat(opened); !os.IsNotExist(err) {
		t.Fatalf("xdg-open ran with --no-browser: %v", err)
	}

	// A display: the browser gets the URL that was printed.
	r = e.run("", nil, "login", "me", "--timeout", "1s")
	r.want(t, 1, "(A browser was opened.)")
	printed := regexp.MustCompile(`(?m)^\s+(https://idp\.example/auth\?\S+)$`).FindStringSubmatch(r.stderr)
	if printed == nil {
		t.Fatalf("no login URL printed:\n%s", r.stderr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(opened)
		if err == nil {
			if string(b) != printed[1] {
				t.Fatalf("the browser opened %q, the CLI printed %q", b, printed[1])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the browser was not opened within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// An authorization-code credential that also names a device endpoint
// logs in with --device (over SSH, say): the device grant runs, and the
// tokens are stored under the credential as it is.
func TestLoginDeviceForAnAuthorizationCodeCredential(t *testing.T) {
	issuer := startOIDC(t)
	e := newEnv(t)
	e.run(fmt.Sprintf(`{"type":"oauth2","oauth2":{"clientID":%q,"clientSecret":%q,"grantType":"authorization_code",`+
		`"endpoint":{"AuthURL":%q,"DeviceAuthURL":%q,"TokenURL":%q}}}`, opDeviceClient, opDeviceSecret,
		issuer+"/auth", issuer+"/device_authorization", issuer+"/oauth/token"), nil, "set", "me").want(t, 0, "omnitoken login me")

	cli := e.start("login", "me", "--device")
	userCode := cli.await(t, regexp.MustCompile(`enter the code: (\S+)$`))[1]
	oidctest.ApproveDevice(t, oidctest.Browser(t, nil), issuer, userCode)
	if code := cli.wait(t); code != 0 {
		t.Fatalf("login --device exited %d:\n%s", code, cli.output())
	}
	out := cli.output()
	noCanary(t, cli.cmd.Args, out, nil)
	access, _ := storedToken(t, e, "me")
	if strings.Contains(out, access) || !strings.Contains(out, "Logged in: token for me stored in "+e.vault) {
		t.Fatalf("login --device output:\n%s", out)
	}
	r := e.run("", []string{access}, "token", "me")
	if r.want(t, 0); r.stdout != access+"\n" {
		t.Fatalf("token after login = %q", r.stdout)
	}
	// The credential is still the authorization-code one.
	e.run("", nil, "show", "me").want(t, 0, "authorization_code")
}
