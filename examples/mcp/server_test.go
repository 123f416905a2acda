package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnivault/providers/memory"
	"golang.org/x/oauth2"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// fakeAPI is a loopback stand-in for the third-party API (GitHub's REST
// shape): no real one can be reached from a test. It records the
// Authorization header of every request.
type fakeAPI struct {
	*httptest.Server
	mu    sync.Mutex
	auths []string
}

func newFakeAPI(t *testing.T) *fakeAPI {
	a := &fakeAPI{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		a.mu.Lock()
		a.auths = append(a.auths, auth)
		a.mu.Unlock()
		if !strings.HasPrefix(auth, "Bearer ") || len(auth) == len("Bearer ") {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/user":
			_, _ = io.WriteString(w, `{"login":"octocat","id":1}`)
		case "/repos/acme/rockets/issues":
			_, _ = io.WriteString(w, `[{"number":7,"title":"Fins fall off"},{"number":9,"title":"Too loud"}]`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *fakeAPI) seen() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.auths)
}

// newIdP is a loopback OAuth 2.0 token endpoint, over TLS as token
// endpoints must be, for the client
// credentials grant. Each token lives an hour and is numbered. When hold
// is not nil, each request waits on it first.
func newIdP(t *testing.T, hold chan struct{}) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	idp := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
				return
			}
		}
		if id, secret, _ := r.BasicAuth(); r.FormValue("grant_type") != "client_credentials" || id != "mcp-bot" || secret != "s3cret-canary" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"error":"invalid_client"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"access_token": fmt.Sprintf("idp-token-%d", n.Add(1)), "token_type": "Bearer", "expires_in": 3600,
		})
	}))
	t.Cleanup(idp.Close)
	return idp, &n
}

func clientCredentials(tokenURL string) *goauth.Credentials {
	return &goauth.Credentials{Service: "github", Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "mcp-bot", ClientSecret: "s3cret-canary", GrantType: "client_credentials",
		Endpoint: oauth2.Endpoint{TokenURL: tokenURL, AuthStyle: oauth2.AuthStyleInHeader},
	}}
}

// newManager returns a TokenManager on a memory vault. idp, when set, is
// the token endpoint whose certificate its strategies trust; clock, when
// set, replaces the system clock.
func newManager(t *testing.T, idp *httptest.Server, clock core.Clock) *omnitoken.TokenManager {
	cfg := omnitoken.DefaultConfig()
	cfg.Vault = memory.New()
	cfg.Clock = clock
	if idp != nil {
		cfg.HTTPClient = idp.Client()
	}
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	tm, err := omnitoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tm.Close() })
	return tm
}

// connect serves srv over the SDK's in-memory transport and returns a
// client session on it.
func connect(t *testing.T, srv *mcp.Server) *mcp.ClientSession {
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cs.Close()
		_ = ss.Wait()
	})
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, tool string, args map[string]any) (string, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("%s: protocol error: %v", tool, err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String(), res.IsError
}

// List the tools, call them, see the token arrive at the API, let the
// token expire, and see the refreshed one arrive.
func TestToolsRefresh(t *testing.T) {
	ctx := context.Background()
	clock := coretest.NewFakeClock(t0)
	idp, issued := newIdP(t, nil)
	tm := newManager(t, idp, clock)
	api := newFakeAPI(t)
	if err := tm.SetCredentials(ctx, "github", clientCredentials(idp.URL+"/token")); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, newServer(tm.Core(), config{Credential: "github", API: api.URL, Timeout: 10 * time.Second}))

	var names []string
	for tool, err := range cs.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"list_issues", "whoami"}) {
		t.Fatalf("tools %v", names)
	}

	out, isErr := call(t, cs, "whoami", nil)
	if isErr || out != "signed in as octocat" {
		t.Fatalf("whoami: %q (error %v)", out, isErr)
	}
	out, isErr = call(t, cs, "list_issues", map[string]any{"owner": "acme", "repo": "rockets"})
	if isErr || out != "2 open issues in acme/rockets\n#7 Fins fall off\n#9 Too loud" {
		t.Fatalf("list_issues: %q (error %v)", out, isErr)
	}
	if got := api.seen(); !slices.Equal(got, []string{"Bearer idp-token-1", "Bearer idp-token-1"}) {
		t.Fatalf("the API saw %q", got)
	}

	clock.Advance(2 * time.Hour) // the token has expired
	if out, isErr = call(t, cs, "whoami", nil); isErr {
		t.Fatalf("whoami after expiry: %q", out)
	}
	if got := api.seen(); len(got) != 3 || got[2] != "Bearer idp-token-2" {
		t.Fatalf("after expiry the API saw %q, want a refreshed token", got)
	}
	if issued.Load() != 2 {
		t.Fatalf("the IdP issued %d tokens, want 2", issued.Load())
	}
	// A tool input error is a tool error too.
	if out, isErr = call(t, cs, "list_issues", map[string]any{"owner": "acme"}); !isErr {
		t.Fatalf("list_issues without repo: %q", out)
	}
}

// A credential that needs a person comes back as a tool error naming the
// command to run, and the server keeps serving.
func TestToolNeedsLogin(t *testing.T) {
	ctx := context.Background()
	tm := newManager(t, nil, nil)
	api := newFakeAPI(t)
	err := tm.SetCredentials(ctx, "gh-user", &goauth.Credentials{Service: "github", Type: goauth.TypeOAuth2,
		OAuth2: &goauth.CredentialsOAuth2{
			ClientID: "mcp-app", GrantType: "authorization_code", RedirectURL: "http://127.0.0.1:8085/callback",
			Endpoint: oauth2.Endpoint{AuthURL: "https://idp.example/authorize", TokenURL: "https://idp.example/token"},
		}})
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, newServer(tm.Core(), config{Credential: "gh-user", API: api.URL, Timeout: 10 * time.Second}))
	for range 2 {
		out, isErr := call(t, cs, "whoami", nil)
		if !isErr || !strings.Contains(out, "run `omnitoken login gh-user`") {
			t.Fatalf("whoami: %q (error %v), want a tool error naming the login command", out, isErr)
		}
	}
	if got := api.seen(); len(got) != 0 {
		t.Fatalf("the API was called without a token: %q", got)
	}

	out, isErr := call(t, connect(t, newServer(tm.Core(), config{Credential: "missing", API: api.URL, Timeout: time.Second})), "whoami", nil)
	if !isErr || !strings.Contains(out, "`omnitoken set missing`") {
		t.Fatalf("missing credential: %q (error %v)", out, isErr)
	}
}

// A token endpoint that never answers makes a tool error within the
// tool's timeout, not a hung call.
func TestToolTimeout(t *testing.T) {
	ctx := context.Background()
	hold := make(chan struct{})
	idp, _ := newIdP(t, hold)
	t.Cleanup(func() { close(hold) }) // runs before idp.Close
	tm := newManager(t, idp, nil)
	api := newFakeAPI(t)
	if err := tm.SetCredentials(ctx, "slow", clientCredentials(idp.URL+"/token")); err != nil {
		t.Fatal(err)
	}
	const limit = 300 * time.Millisecond
	cs := connect(t, newServer(tm.Core(), config{Credential: "slow", API: api.URL, Timeout: limit}))
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "whoami"})
		if err != nil {
			res = &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "protocol error: " + err.Error()}}}
		}
		done <- res
	}()
	var res *mcp.CallToolResult
	select {
	case res = <-done:
	case <-time.After(20 * limit):
		t.Fatal("the tool call hung")
	}
	out := res.Content[0].(*mcp.TextContent).Text
	if !res.IsError || !strings.Contains(out, "no answer within 300ms") {
		t.Fatalf("whoami: %q (error %v)", out, res.IsError)
	}
	if strings.Contains(out, "s3cret-canary") {
		t.Fatal("the tool error holds the client secret")
	}
}
