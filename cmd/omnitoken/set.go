package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/strategy/apikey"
	"github.com/plexusone/omnitoken/strategy/basic"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/spf13/cobra"
	xoauth2 "golang.org/x/oauth2"
)

// maxInput bounds a credential read from a file or stdin.
const maxInput = 1 << 20

// setFlags builds a credential from flags instead of JSON.
type setFlags struct {
	file        string
	typ         string
	service     string
	subdomain   string
	clientID    string
	grantType   string
	tokenURL    string
	authURL     string
	deviceURL   string
	redirectURL string
	scopes      []string
	pkce        bool
	username    string
	header      string
	query       string
	secretStdin bool
}

func (a *app) setCmd() *cobra.Command {
	var f setFlags
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a credential (goauth Credentials JSON from --file, stdin, or flags)",
		Long: `Store a credential under NAME, after validating it.

From JSON (goauth's Credentials):
  omnitoken set github --file github.json
  omnitoken set github < github.json

From flags, with the one secret (client secret, password or API key) read
from stdin so that it never reaches the shell history or the process list:
  printf %s "$SECRET" | omnitoken set svc --type oauth2 --client-id my-app \
      --grant-type client_credentials --token-url https://idp.example/oauth/token --secret-stdin
  omnitoken set me --type oauth2 --client-id my-app --grant-type authorization_code --pkce \
      --auth-url https://idp.example/authorize --token-url https://idp.example/token --scope openid
  printf %s "$PASSWORD" | omnitoken set jira --type basic --username alice --secret-stdin
  printf %s "$KEY" | omnitoken set maps --type headerquery --header X-Api-Key --secret-stdin

Storing a credential drops its stored token. Nothing stored is printed.`,
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return a.runSet(cmd, args[0], f)
		}),
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.file, "file", "f", "", `read goauth Credentials JSON from this file ("-" for stdin)`)
	fl.StringVar(&f.typ, "type", "", "credential type: oauth2, basic or headerquery (builds the credential from flags)")
	fl.StringVar(&f.service, "service", "", "service name, such as github")
	fl.StringVar(&f.subdomain, "subdomain", "", "tenant subdomain, for services that have one")
	fl.StringVar(&f.clientID, "client-id", "", "oauth2: client ID")
	fl.StringVar(&f.grantType, "grant-type", "", "oauth2: grant type (client_credentials, authorization_code, device_code, password, …)")
	fl.StringVar(&f.tokenURL, "token-url", "", "oauth2: token endpoint")
	fl.StringVar(&f.authURL, "auth-url", "", "oauth2: authorization endpoint (authorization_code)")
	fl.StringVar(&f.deviceURL, "device-auth-url", "", "oauth2: device authorization endpoint (device_code)")
	fl.StringVar(&f.redirectURL, "redirect-url", "", "oauth2: redirect URL (default a 127.0.0.1 loopback address chosen by login)")
	fl.StringSliceVar(&f.scopes, "scope", nil, "oauth2: scope (repeatable)")
	fl.BoolVar(&f.pkce, "pkce", false, "oauth2: require PKCE")
	fl.StringVar(&f.username, "username", "", "basic: user name; oauth2: resource owner (password grant)")
	fl.StringVar(&f.header, "header", "", "headerquery: header that carries the key")
	fl.StringVar(&f.query, "query", "", "headerquery: query parameter that carries the key")
	fl.BoolVar(&f.secretStdin, "secret-stdin", false, "read the secret (client secret, password or key) from stdin")
	return cmd
}

func (a *app) runSet(cmd *cobra.Command, name string, f setFlags) error {
	if err := driver.CheckName(name); err != nil {
		return usageError{err}
	}
	var c *core.Credentials
	var err error
	switch {
	case f.file != "" && f.typ != "":
		return usagef("give either --file or --type, not both")
	case f.typ != "":
		c, err = a.credentialsFromFlags(f)
	case f.file != "" && f.file != "-":
		var fh *os.File
		if fh, err = os.Open(f.file); err == nil {
			c, err = readCredentials(fh, f.file)
			_ = fh.Close()
		}
	case f.file == "-" || !isTerminal(a.stdin):
		c, err = readCredentials(a.stdin, "stdin")
	default:
		return usagef("no credential given: use --file FILE, pipe JSON to stdin, or --type with its flags")
	}
	if err != nil {
		return err
	}
	m, _, err := a.manager(c, managerOptions{})
	if err != nil {
		return err
	}
	if err := m.SetCredentials(cmd.Context(), name, c); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Stored credential %s (type %s) in %s.\n", shellQuote(name), c.Type, a.vaultID)
	if needsPerson(c) {
		fmt.Fprintf(a.stdout, "It needs a person to log in once: %s\n", loginCommand(name, grantOf(c) == oauth2.GrantDeviceCode))
	}
	return nil
}

// readCredentials parses goauth Credentials JSON. Its errors never quote
// the input.
func readCredentials(r io.Reader, what string) (*core.Credentials, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", what, err)
	}
	if len(b) > maxInput {
		return nil, fmt.Errorf("read %s: larger than %d bytes", what, maxInput)
	}
	c, err := core.ParseCredentials(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return c, nil
}

// readSecret reads one secret line from stdin.
func (a *app) readSecret() (string, error) {
	line, err := bufio.NewReader(io.LimitReader(a.stdin, maxInput)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("read secret from stdin: %w", err)
	}
	s := strings.TrimRight(line, "\r\n")
	if s == "" {
		return "", usagef("--secret-stdin: stdin is empty")
	}
	return s, nil
}

func (a *app) credentialsFromFlags(f setFlags) (*core.Credentials, error) {
	var secret string
	if f.secretStdin {
		s, err := a.readSecret()
		if err != nil {
			return nil, err
		}
		secret = s
	}
	c := &core.Credentials{Service: f.service, Type: f.typ, Subdomain: f.subdomain}
	var sec any
	switch f.typ {
	case oauth2.Type:
		s := oauth2.Section{
			ClientID: f.clientID, ClientSecret: secret, GrantType: f.grantType, RedirectURL: f.redirectURL,
			Scopes: f.scopes, PKCE: f.pkce, Username: f.username,
			Endpoint: xoauth2.Endpoint{TokenURL: f.tokenURL, AuthURL: f.authURL, DeviceAuthURL: f.deviceURL},
		}
		if oauth2.NormalizeGrantType(f.grantType) == oauth2.GrantPassword {
			s.ClientSecret, s.Password = "", secret
		}
		sec = s
	case basic.Type:
		sec = basic.Section{Username: f.username, Password: secret}
	case apikey.Type:
		if (f.header == "") == (f.query == "") {
			return nil, usagef("--type headerquery needs one of --header or --query")
		}
		if secret == "" {
			return nil, usagef("--type headerquery needs the key on stdin with --secret-stdin")
		}
		s := apikey.Section{}
		if f.header != "" {
			s.Header = map[string][]string{f.header: {secret}}
		} else {
			s.Query = map[string][]string{f.query: {secret}}
		}
		sec = s
	default:
		return nil, usagef("--type %q: flags build oauth2, basic or headerquery credentials; give other types as JSON with --file", f.typ)
	}
	if err := c.SetSection(f.typ, sec); err != nil {
		return nil, err
	}
	return c, nil
}

// isTerminal reports whether r is a character device, such as a terminal.
func isTerminal(r any) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
