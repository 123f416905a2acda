package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/shellquote"
	"github.com/plexusone/omnitoken/strategy/oauth2"
)

// fetch returns a valid token for name: the stored one while it is fresh,
// else a new one from the credential's strategy, stored before it is
// returned.
func (a *app) fetch(ctx context.Context, name string) (*core.Token, *core.Credentials, error) {
	m, _, c, err := a.managerFor(ctx, name, managerOptions{})
	if err != nil {
		return nil, nil, err
	}
	if grantOf(c) == oauth2.GrantDeviceCode {
		// Without a stored token the strategy would start a device
		// authorization that nobody polls once this process exits: say
		// what to run instead.
		if _, err := a.store.GetToken(ctx, name); errors.Is(err, core.ErrTokenNotFound) {
			return nil, c, explain(&core.ReauthRequiredError{Err: errors.New("no token yet: a person must log in once with the device flow")}, name, c)
		}
	}
	tok, err := m.Token(ctx, name)
	if err != nil {
		return nil, c, explain(err, name, c)
	}
	return tok, c, nil
}

// tokenValue is the secret a token hands out: the access token, or, for a
// credential that authorizes with a single header or query parameter (an
// API key), its value.
func tokenValue(name string, t *core.Token) (string, error) {
	if t.AccessToken != "" {
		return t.AccessToken, nil
	}
	var vals []string
	for _, vs := range t.Header {
		vals = append(vals, vs...)
	}
	for _, vs := range t.Query {
		vals = append(vals, vs...)
	}
	if len(vals) == 1 {
		return vals[0], nil
	}
	return "", fmt.Errorf("credential %q authorizes with %d values (headers %s, query %s), not one token; use omnitoken header %s",
		name, len(vals), keys(t.Header), keys(t.Query), shellquote.Quote(name))
}

func keys[M ~map[string][]string](m M) string {
	if len(m) == 0 {
		return "none"
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// headerLines are the request header lines a token sets.
func headerLines(name string, t *core.Token) ([]string, error) {
	var lines []string
	if h := t.AuthorizationHeader(); h != "" {
		lines = append(lines, "Authorization: "+h)
	}
	for _, k := range strings.Split(keys(t.Header), ",") {
		if k == "none" {
			break
		}
		for _, v := range t.Header[k] {
			lines = append(lines, http.CanonicalHeaderKey(k)+": "+v)
		}
	}
	if len(lines) == 0 {
		return nil, fmt.Errorf("credential %q authorizes with query parameters (%s), not a header", name, keys(t.Query))
	}
	return lines, nil
}

// render fetches the token of name and returns what r makes of it.
func (a *app) render(ctx context.Context, name string, r func(name string, tok *core.Token) (string, error)) (string, error) {
	tok, _, err := a.fetch(ctx, name)
	if err != nil {
		return "", err
	}
	return r(name, tok)
}

func (a *app) tokenCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "token NAME",
		Short: "Print the access token alone",
		Long: `Print the access token alone, for example:

  curl -H "Authorization: Bearer $(omnitoken token github)" https://api.github.com/user

A valid stored token is printed as is; an expired one is refreshed and
stored first. For an API-key credential the key is printed.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			v, err := a.render(cmd.Context(), args[0], tokenValue)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, v)
			return err
		}),
	}
}

func (a *app) headerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "header NAME",
		Short: `Print the full header line ("Authorization: Bearer …", "X-Api-Key: …")`,
		Long: `Print the header line(s) the credential sets on a request, for example:

  curl -H "$(omnitoken header github)" https://api.github.com/user

It works for bearer tokens, HTTP Basic and API keys sent in a header.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			v, err := a.render(cmd.Context(), args[0], func(name string, tok *core.Token) (string, error) {
				lines, err := headerLines(name, tok)
				return strings.Join(lines, "\n"), err
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(a.stdout, v)
			return err
		}),
	}
}

func (a *app) execCmd() *cobra.Command {
	envName := envTokenVar
	cmd := &cobra.Command{
		Use:   "exec NAME -- COMMAND [ARG…]",
		Short: "Run a command with the token in its environment",
		Long: `Run COMMAND with the token (as omnitoken token prints it) in the
environment variable OMNITOKEN_TOKEN, or the one named by --env. The
command's exit code is passed through; 127 means it could not be started.`,
		ValidArgsFunction: a.completeNames,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 || len(args) < 2 {
				return usagef("want NAME -- COMMAND [ARG…]")
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if envName == "" || strings.ContainsAny(envName, "=\x00") {
				return usagef("--env %q is not a valid variable name", envName)
			}
			v, err := a.render(cmd.Context(), args[0], tokenValue)
			if err != nil {
				return err
			}
			if err := a.close(); err != nil { // no lock or file stays open while the command runs
				return fmt.Errorf("closing the vault: %w", err)
			}
			return a.runChild(cmd.Context(), args[1], args[2:], envName+"="+v)
		}),
	}
	cmd.Flags().StringVar(&envName, "env", envTokenVar, "name of the environment variable that receives the token")
	return cmd
}

// runChild runs a command with the streams of this process and one more
// environment entry, and returns its exit code as an exitError.
func (a *app) runChild(ctx context.Context, name string, args []string, env string) error {
	c := exec.Command(name, args...)
	c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
	c.Env = append(os.Environ(), env)
	if err := c.Start(); err != nil {
		return &exitError{code: exitNoCommand, err: fmt.Errorf("exec %s: %w", name, err)}
	}
	// An interrupt reaches the child from the terminal as well; when the
	// context ends otherwise (SIGTERM), pass it on.
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = c.Process.Signal(os.Interrupt)
		case <-done:
		}
	}()
	err := c.Wait()
	close(done)
	var xe *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &xe):
		code := xe.ExitCode()
		if code < 0 { // killed by a signal
			code = 128 + signalNumber(xe)
		}
		return &exitError{code: code}
	}
	return &exitError{code: exitFailure, err: fmt.Errorf("exec %s: %w", name, err)}
}

// signalNumber is the number of the signal that ended a child, or 0.
func signalNumber(xe *exec.ExitError) int {
	if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return int(ws.Signal())
	}
	return 0
}
