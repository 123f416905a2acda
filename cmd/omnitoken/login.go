package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/spf13/cobra"
)

func (a *app) loginCmd() *cobra.Command {
	var device, noBrowser bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "login NAME",
		Short: "Log in once for an OAuth credential (authorization code + PKCE, or --device)",
		Long: `Run the one-time login an OAuth credential needs before its tokens can be
refreshed unattended, and store the tokens in the vault.

An authorization-code credential: the login URL is printed, and opened in a
browser where there is one; the identity provider redirects back to a
listener on 127.0.0.1, with PKCE (S256). Over SSH or in a container, open
the URL on any machine whose browser can reach this one's loopback, or
use --device.

A device credential, or --device: a code and a URL are printed; enter the
code at the URL on any device. The command waits, polling no faster than
the identity provider allows, until you approve, deny, or the code
expires.

Credentials that need no person (client credentials, …) just fetch and
store a token.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			return a.runLogin(ctx, args[0], device, noBrowser || os.Getenv(envNoBrowser) != "", timeout)
		}),
	}
	cmd.Flags().BoolVar(&device, "device", false, "use the device flow (a code to enter on another device)")
	cmd.Flags().BoolVar(&noBrowser, "no-browser", false, "print the login URL without opening a browser (also $"+envNoBrowser+")")
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Minute, "how long to wait for the login")
	return cmd
}

func (a *app) runLogin(ctx context.Context, name string, device, noBrowser bool, timeout time.Duration) error {
	c, err := a.credentials(ctx, name)
	if err != nil {
		return err
	}
	grant := grantOf(c)
	if device && c.Type != oauth2.Type {
		return usagef("--device: credential %q has type %s; the device flow is for oauth2 credentials", name, c.Type)
	}
	device = device || grant == oauth2.GrantDeviceCode
	sp := &spinner{w: a.stderr, tty: isTerminal(a.stderr)}
	mo := managerOptions{refreshTimeout: timeout}
	if device {
		mo.oauth2.OnDeviceCode = func(_ context.Context, p *core.ReauthRequiredError) error {
			a.showDeviceCode(p)
			sp.start("Waiting for you to approve", p.Expiry)
			return nil
		}
	}
	m, o2, err := a.manager(c, mo)
	if err != nil {
		return err
	}
	var tok *core.Token
	switch {
	case device:
		dc := c
		if grant != oauth2.GrantDeviceCode {
			// Log in with the device grant, then store the tokens under
			// the credential as it is: it refreshes them.
			if dc, err = withGrant(c, oauth2.GrantDeviceCode); err != nil {
				return err
			}
		}
		t, err := o2.Token(ctx, dc, nil)
		sp.stop()
		if err != nil {
			return fmt.Errorf("login %s: %w", shellQuote(name), err)
		}
		if err := m.PutToken(ctx, name, t); err != nil {
			return err
		}
	case grant == oauth2.GrantAuthorizationCode:
		err := o2.AuthorizeLocal(ctx, m, name, func(u string) error {
			fmt.Fprintf(a.stderr, "Open this URL in a browser to log in %s:\n\n  %s\n\n", shellQuote(name), u)
			if !noBrowser && openBrowser(u) {
				fmt.Fprintln(a.stderr, "(A browser was opened.)")
			}
			sp.start("Waiting for the browser to come back", time.Time{})
			return nil
		})
		sp.stop()
		if err != nil {
			return fmt.Errorf("login %s: %w", shellQuote(name), err)
		}
	default:
		t, err := m.Refresh(ctx, name)
		if err != nil {
			return explain(err, name, c)
		}
		tok = t
		fmt.Fprintf(a.stderr, "%s needs no login (type %s); fetched a token.\n", shellQuote(name), c.Type)
	}
	if tok == nil {
		if tok, err = m.Token(ctx, name); err != nil {
			return err
		}
	}
	where := a.vaultID
	if p, err := a.store.TokenPath(name); err == nil {
		where += " (" + p + ")"
	}
	exp := "no expiry"
	if !tok.Expiry.IsZero() {
		exp = "valid until " + tok.Expiry.Local().Format(time.RFC3339)
	}
	refresh := ""
	if tok.RefreshToken != "" {
		refresh = ", refreshed unattended from now on"
	}
	fmt.Fprintf(a.stdout, "Logged in: token for %s stored in %s, %s%s.\n", shellQuote(name), where, exp, refresh)
	return nil
}

// withGrant returns a copy of an oauth2 credential with another grant type.
func withGrant(c *core.Credentials, grant string) (*core.Credentials, error) {
	var sec oauth2.Section
	if err := c.DecodeNamedSection(oauth2.Type, &sec); err != nil {
		return nil, err
	}
	sec.GrantType = grant
	out := c.Clone()
	if err := out.SetSection(oauth2.Type, sec); err != nil {
		return nil, err
	}
	return out, nil
}

func (a *app) showDeviceCode(p *core.ReauthRequiredError) {
	fmt.Fprintf(a.stderr, "To log in, open %s\nand enter the code: %s\n", p.VerificationURI, p.UserCode)
	if p.VerificationURIComplete != "" {
		fmt.Fprintf(a.stderr, "(or open %s)\n", p.VerificationURIComplete)
	}
	if !p.Expiry.IsZero() {
		fmt.Fprintf(a.stderr, "The code expires at %s.\n", p.Expiry.Local().Format(time.Kitchen))
	}
}

// openBrowser opens u in the user's browser where there is one, and
// reports whether it tried.
func openBrowser(u string) bool {
	var name string
	var args []string
	switch runtime.GOOS {
	case "darwin":
		name = "open"
	case "windows":
		name, args = "rundll32", []string{"url.dll,FileProtocolHandler"}
	default:
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return false
		}
		name = "xdg-open"
	}
	path, err := exec.LookPath(name)
	if err != nil {
		return false
	}
	cmd := exec.Command(path, append(args, u)...)
	if cmd.Start() != nil {
		return false
	}
	go func() { _ = cmd.Wait() }()
	return true
}

// spinner shows that the command is waiting: on a terminal a spinner and,
// when there is a deadline, a countdown; elsewhere one line.
type spinner struct {
	w    interface{ Write([]byte) (int, error) }
	tty  bool
	done chan struct{}
	wg   chan struct{}
}

func (s *spinner) start(msg string, deadline time.Time) {
	if s.done != nil {
		return
	}
	s.done, s.wg = make(chan struct{}), make(chan struct{})
	if !s.tty {
		fmt.Fprintf(s.w, "%s…\n", msg)
		close(s.wg)
		return
	}
	go func() {
		defer close(s.wg)
		frames := []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for i := 0; ; i++ {
			left := ""
			if !deadline.IsZero() {
				left = fmt.Sprintf(" (%s left)", time.Until(deadline).Round(time.Second))
			}
			fmt.Fprintf(s.w, "\r%c %s…%s\033[K", frames[i%len(frames)], msg, left)
			select {
			case <-s.done:
				fmt.Fprint(s.w, "\r\033[K")
				return
			case <-t.C:
			}
		}
	}()
}

func (s *spinner) stop() {
	if s.done == nil {
		return
	}
	close(s.done)
	<-s.wg
	s.done = nil
}
