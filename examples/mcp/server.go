package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/plexusone/omnitoken/core"
)

// config is what one server needs: which credential its tools use,
// where the API is, and how long one tool call may take.
type config struct {
	Credential string        // credential name in the vault, such as "github"
	API        string        // API root, such as "https://api.github.com"
	Timeout    time.Duration // bound on one tool call, token refresh included
	Transport  http.RoundTripper
}

// newServer returns an MCP server whose tools call the API with the
// credential cfg.Credential. Every request takes the Manager's current
// token, so the server keeps working across token expiry and refreshes.
func newServer(mgr *core.Manager, cfg config) *mcp.Server {
	a := &api{
		base:   strings.TrimSuffix(cfg.API, "/"),
		name:   cfg.Credential,
		client: mgr.Client(cfg.Credential, cfg.Transport),
		limit:  cfg.Timeout,
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "omnitoken-example", Version: "v0.1.0"}, nil)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "whoami",
		Description: "Show which account the server's credential acts as.",
	}, a.whoami)
	mcp.AddTool(s, &mcp.Tool{
		Name:        "list_issues",
		Description: "List the open issues of a repository.",
	}, a.listIssues)
	return s
}

// api calls the third-party HTTP API with an omnitoken client.
type api struct {
	base   string
	name   string
	client *http.Client
	limit  time.Duration
}

type whoamiOut struct {
	Login string `json:"login" jsonschema:"the account's login"`
}

func (a *api) whoami(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, whoamiOut, error) {
	var out whoamiOut
	if err := a.get(ctx, "/user", nil, &out); err != nil {
		return nil, whoamiOut{}, err
	}
	return text("signed in as " + out.Login), out, nil
}

type listIssuesIn struct {
	Owner string `json:"owner" jsonschema:"the repository's owner"`
	Repo  string `json:"repo" jsonschema:"the repository's name"`
}

type issue struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
}

type listIssuesOut struct {
	Issues []issue `json:"issues"`
}

func (a *api) listIssues(ctx context.Context, _ *mcp.CallToolRequest, in listIssuesIn) (*mcp.CallToolResult, listIssuesOut, error) {
	if in.Owner == "" || in.Repo == "" {
		return nil, listIssuesOut{}, errors.New("owner and repo are required")
	}
	var out listIssuesOut
	path := "/repos/" + url.PathEscape(in.Owner) + "/" + url.PathEscape(in.Repo) + "/issues"
	if err := a.get(ctx, path, url.Values{"state": {"open"}}, &out.Issues); err != nil {
		return nil, listIssuesOut{}, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d open issues in %s/%s", len(out.Issues), in.Owner, in.Repo)
	for _, i := range out.Issues {
		fmt.Fprintf(&b, "\n#%d %s", i.Number, i.Title)
	}
	return text(b.String()), out, nil
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// get sends one GET and decodes the JSON answer into out. Its error is
// what the tool reports, so it says what the user can do.
func (a *api) get(ctx context.Context, path string, q url.Values, out any) error {
	ctx, cancel := context.WithTimeout(ctx, a.limit)
	defer cancel()
	u := a.base + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := a.client.Do(req)
	if err != nil {
		return a.explain(ctx, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the API's answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
			return fmt.Errorf("the API refused credential %q (status %d): check its scopes; `omnitoken check %s` tests it",
				a.name, resp.StatusCode, a.name)
		}
		return fmt.Errorf("the API answered status %s", strconv.Itoa(resp.StatusCode))
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("the API's answer is not the JSON expected: %w", err)
	}
	return nil
}

// explain turns a failed request into what the user should do. The
// Manager's errors never hold a secret, so they may be shown.
func (a *api) explain(ctx context.Context, err error) error {
	var reauth *core.ReauthRequiredError
	switch {
	case errors.As(err, &reauth):
		// The Manager fills in Command: "omnitoken login NAME", shell-quoted,
		// with --device for a device-code credential.
		msg := fmt.Sprintf("credential %q needs you to sign in: run `%s`, then call the tool again", a.name, reauth.Command)
		if reauth.UserCode != "" && reauth.VerificationURI != "" {
			msg += fmt.Sprintf(" (or visit %s and enter code %s)", reauth.VerificationURI, reauth.UserCode)
		}
		return errors.New(msg)
	case errors.Is(err, core.ErrCredentialsNotFound):
		return fmt.Errorf("there is no credential %q in the vault: store one with `omnitoken set %s`", a.name, a.name)
	case errors.Is(err, core.ErrRefreshFailed):
		return fmt.Errorf("credential %q was refused by its issuer: %w; fix it with `omnitoken set %s`",
			a.name, err, a.name)
	case ctx.Err() != nil:
		return fmt.Errorf("no answer within %s (token issuer or API): %w", a.limit, err)
	}
	return fmt.Errorf("calling the API: %w", err)
}
