package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/apikey"
	"github.com/plexusone/omnitoken/strategy/basic"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
	"github.com/plexusone/omnitoken/strategy/jwt"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/spf13/cobra"
)

// sectionText describes a credential's section through its strategy's
// own redacting String; a section no built-in strategy knows is named
// only.
func sectionText(c *core.Credentials) string {
	var v fmt.Stringer
	switch c.Type {
	case oauth2.Type:
		v = decodeSection[oauth2.Section](c)
	case basic.Type:
		v = decodeSection[basic.Section](c)
	case apikey.Type:
		v = decodeSection[apikey.Section](c)
	case jwt.Type:
		v = decodeSection[jwt.Section](c)
	case gcpsa.Type:
		v = decodeSection[gcpsa.Section](c)
	}
	if v == nil {
		return fmt.Sprintf("%q section (%d bytes, not shown)", c.Type, len(c.Section(c.Type)))
	}
	return v.String()
}

// decodeSection decodes c's section into S, or returns nil when it does
// not decode.
func decodeSection[S fmt.Stringer](c *core.Credentials) fmt.Stringer {
	var s S
	if c.DecodeNamedSection(c.Type, &s) != nil {
		return nil
	}
	return s
}

// shown is show's JSON output.
type shown struct {
	status
	Subdomain  string   `json:"subdomain,omitempty"`
	Sections   []string `json:"sections,omitempty"`
	Credential string   `json:"credential,omitempty"` // redacted description
	Token      string   `json:"token,omitempty"`      // redacted description
	IssuedAt   string   `json:"issued_at,omitempty"`
	Path       string   `json:"path,omitempty"`
}

func (a *app) showCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "show NAME",
		Short:             "Show a credential and its token, redacted",
		Args:              exactArgs(1, "NAME"),
		ValidArgsFunction: a.completeNames,
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if _, err := a.credentials(cmd.Context(), name); err != nil {
				return err
			}
			s, c, tok := a.describe(cmd.Context(), name)
			out := shown{status: s}
			if c != nil {
				out.Subdomain, out.Sections, out.Credential = c.Subdomain, c.Sections(), sectionText(c)
			}
			if tok != nil {
				out.Token = tok.String()
				if !tok.IssuedAt.IsZero() {
					out.IssuedAt = tok.IssuedAt.Local().Format(time.RFC3339)
				}
			}
			if p, err := a.store.CredentialsPath(name); err == nil {
				out.Path = p
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(out)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			row := func(k, v string) {
				if v != "" {
					fmt.Fprintf(tw, "%s:\t%s\n", k, printable(v))
				}
			}
			row("name", name)
			row("vault", a.vaultID+" ("+out.Path+")")
			row("type", s.Type)
			row("service", s.Service)
			row("subdomain", out.Subdomain)
			row("sections", strings.Join(out.Sections, ", "))
			row("credential", out.Credential)
			row("token", out.Token)
			row("issued", out.IssuedAt)
			row("state", stateText(s, time.Now()))
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON, for scripts")
	return cmd
}
