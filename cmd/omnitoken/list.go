package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/spf13/cobra"
)

// Token states reported by list, show and check.
const (
	stateValid      = "valid"       // a stored token, valid until Expiry
	stateExpired    = "expired"     // a stored token past its expiry; refreshed on next use
	stateNoToken    = "no_token"    // none stored yet; fetched on first use, no person needed
	stateStatic     = "static"      // a credential that authorizes by itself (Basic, API key)
	stateNeedsLogin = "needs_login" // a person must run Login
	stateFailing    = "failing"     // the credential cannot give a token; Reason says why
)

// status is one credential as list and show report it. It holds no
// secret.
type status struct {
	Name       string     `json:"name"`
	Type       string     `json:"type,omitempty"`
	Service    string     `json:"service,omitempty"`
	State      string     `json:"state"`
	Expiry     *time.Time `json:"expiry,omitempty"`
	Refresh    bool       `json:"refreshable,omitempty"`
	Reason     string     `json:"reason,omitempty"`
	Login      string     `json:"login,omitempty"`
	Generation uint64     `json:"generation,omitempty"`
}

// describe reports a credential's state from what the vault holds, without
// any network call.
func (a *app) describe(ctx context.Context, name string) (status, *core.Credentials, *core.StoredToken) {
	s := status{Name: name}
	st, err := a.openStore()
	if err != nil {
		s.State, s.Reason = stateFailing, oneLine(err.Error())
		return s, nil, nil
	}
	c, err := st.GetCredentials(ctx, name)
	if err != nil {
		s.State, s.Reason = stateFailing, oneLine(err.Error())
		return s, nil, nil
	}
	s.Type, s.Service = c.Type, c.Service
	if err := a.validate(c); err != nil {
		s.State, s.Reason = stateFailing, oneLine(err.Error())
		return s, c, nil
	}
	tok, err := st.GetToken(ctx, name)
	switch {
	case err == nil && tok != nil:
		s.Generation, s.Refresh = tok.Generation, tok.RefreshToken != ""
		if !tok.Expiry.IsZero() {
			exp := tok.Expiry
			s.Expiry = &exp
		}
		if tok.Expired(time.Now()) {
			s.State = stateExpired
		} else {
			s.State = stateValid
		}
		return s, c, tok
	case err != nil && !errors.Is(err, core.ErrTokenNotFound):
		s.State, s.Reason = stateFailing, oneLine(err.Error())
		return s, c, nil
	}
	switch {
	case needsPerson(c):
		s.State, s.Login = stateNeedsLogin, loginCommand(name, grantOf(c) == oauth2.GrantDeviceCode)
	case c.Type == "basic" || c.Type == "headerquery":
		s.State = stateStatic
	default:
		s.State = stateNoToken
	}
	return s, c, nil
}

// validate checks c with its strategy, when the strategy can. A type that
// no strategy in this binary serves is reported as such.
func (a *app) validate(c *core.Credentials) error {
	if !builtinTypes[c.Type] && a.pluginDir == "" {
		return fmt.Errorf("%w %q (no plugin directory set; see omnitoken plugins list)", core.ErrUnsupportedCredentialType, c.Type)
	}
	if _, _, err := a.manager(c, managerOptions{}); err != nil {
		return err
	}
	s := a.strategy(c.Type)
	if s == nil {
		return fmt.Errorf("%w %q (no strategy or plugin serves it)", core.ErrUnsupportedCredentialType, c.Type)
	}
	if v, ok := s.(driver.Validator); ok {
		return v.Validate(c)
	}
	return nil
}

// check fetches a token for name through the engine and reports the
// outcome as a status.
func (a *app) check(ctx context.Context, name string, timeout time.Duration) (status, error) {
	s, c, _ := a.describe(ctx, name)
	if c == nil || s.State == stateFailing {
		return s, errors.New(s.Reason)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tok, _, err := a.fetch(ctx, name)
	if err != nil {
		err = explain(err, name, c)
		if errors.Is(err, core.ErrReauthRequired) {
			s.State, s.Login = stateNeedsLogin, loginCommand(name, grantOf(c) == oauth2.GrantDeviceCode)
		} else {
			s.State = stateFailing
		}
		s.Reason = oneLine(err.Error())
		return s, err
	}
	s.State, s.Reason, s.Login, s.Expiry, s.Refresh, s.Generation = stateValid, "", "", nil, tok.RefreshToken != "", 0
	if !tok.Expiry.IsZero() {
		exp := tok.Expiry
		s.Expiry = &exp
	}
	return s, nil
}

// stateText is a status's state for a person.
func stateText(s status, now time.Time) string {
	switch s.State {
	case stateValid:
		if s.Expiry == nil {
			return "valid, no expiry"
		}
		return fmt.Sprintf("valid until %s (%s)", s.Expiry.Local().Format(time.RFC3339), until(*s.Expiry, now))
	case stateExpired:
		if s.Refresh {
			return "expired, refreshable"
		}
		return "expired, fetched again on next use"
	case stateNoToken:
		return "no token yet, fetched on first use"
	case stateStatic:
		return "static (authorizes by itself)"
	case stateNeedsLogin:
		return "needs login: " + s.Login
	case stateFailing:
		return "failing: " + s.Reason
	}
	return s.State
}

func until(t, now time.Time) string {
	d := t.Sub(now).Round(time.Second)
	if d < 0 {
		return "expired " + (-d).String() + " ago"
	}
	return "in " + d.String()
}

func (a *app) listCmd() *cobra.Command {
	var asJSON, doCheck bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List credentials: name, type and token state",
		Long: `List the credentials in the vault with their type and token state:
valid until a time, expired, no token yet, static, needs login, or failing
with a reason. It makes no network call unless --check is given, which
fetches a token for each credential as check does.`,
		Args: exactArgs(0, "no arguments"),
		RunE: runE(func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			st, err := a.openStore()
			if err != nil {
				return err
			}
			names, err := st.ListCredentials(ctx)
			if err != nil {
				return err
			}
			out := make([]status, 0, len(names))
			for _, n := range names {
				var s status
				if doCheck {
					s, _ = a.check(ctx, n, timeout)
				} else {
					s, _, _ = a.describe(ctx, n)
				}
				out = append(out, s)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			if len(out) == 0 {
				fmt.Fprintf(a.stderr, "No credentials in %s. Add one with: omnitoken set NAME --file creds.json\n", a.vaultID)
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTYPE\tSERVICE\tTOKEN")
			now := time.Now()
			for _, s := range out {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", printable(s.Name), dash(s.Type), dash(s.Service), stateText(s, now))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, for scripts")
	cmd.Flags().BoolVar(&doCheck, "check", false, "fetch a token for each credential (network calls)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "with --check, the bound of each fetch")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return printable(s)
}

// printable keeps control characters of a stored value off the terminal.
func printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

func (a *app) checkCmd() *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "check NAME",
		Short: "Validate a credential, fetch a token and report its expiry",
		Long: `Validate the credential, fetch a token (the stored one while it is
fresh, else a new one, which is stored), and report when it expires.
It exits 1 with a one-line reason when that fails, and 3 when a person
must log in first.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			s, err := a.check(cmd.Context(), args[0], timeout)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "ok: %s (%s): token %s\n", shellQuote(args[0]), s.Type, stateText(s, time.Now()))
			return nil
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "bound of the fetch")
	return cmd
}

func (a *app) deleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:               "delete NAME",
		Short:             "Delete a credential and its token, revoking the token where the type can",
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, _, c, err := a.managerFor(ctx, args[0], managerOptions{})
			if err != nil {
				return err
			}
			revokes := false
			if s := a.strategy(c.Type); s != nil {
				_, revokes = s.(driver.Revoker)
				if p, ok := s.(pluginStrategy); ok {
					revokes = p.CanRevoke()
				}
			}
			if err := m.DeleteCredentials(ctx, args[0]); err != nil {
				return err
			}
			how := "the " + c.Type + " type cannot revoke tokens"
			if revokes {
				how = "its token was revoked where the server allowed it"
			}
			fmt.Fprintf(a.stdout, "Deleted %s from %s (%s).\n", shellQuote(args[0]), a.vaultID, how)
			return nil
		}),
	}
}

// completeNames completes credential names from the vault.
func (a *app) completeNames(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	st, err := a.openStore()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, _ := st.ListCredentials(cmd.Context())
	return names, cobra.ShellCompDirectiveNoFileComp
}
