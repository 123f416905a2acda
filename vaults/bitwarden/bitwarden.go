// Package bitwarden makes bw:// vault URIs open Bitwarden Secrets Manager,
// through github.com/plexusone/omni-bitwarden (on Bitwarden's official Go
// SDK). One blank import registers the scheme with omnivault:
//
//	import _ "github.com/plexusone/omnitoken/vaults/bitwarden"
//
//	tm, err := omnitoken.NewFromVaultURI("bw://ORGANIZATION-ID")
//	tm, err := omnitoken.NewFromVaultURI("bw://ORGANIZATION-ID/my-agent?project=PROJECT-ID")
//
// The URI names the organization (its UUID), optionally a key prefix
// (default "omnitoken"), and the project new secrets are created in (a
// machine account can usually create secrets only inside a project it may
// write to). Each omnitoken path is one secret, keyed
// "omnitoken:credentials:github" for the credential "github".
//
// Authentication is a machine account's access token: set BW_ACCESS_TOKEN
// (and BW_API_URL / BW_IDENTITY_URL for a self-hosted server). Without it,
// opening the vault fails with an error matching
// vault.ErrAuthenticationFailed that says so.
//
// The SDK links a prebuilt Rust library of about 40 MB through cgo, so this
// package is its own Go module, and needs cgo and a C linker to build: a
// program that does not import it neither downloads nor links any of it.
//
// # Checking it against your own account
//
// The package's tests need no account; TestLive runs only when these are
// set, and round-trips a credential and a token through Secrets Manager,
// deleting them after:
//
//	export BW_ACCESS_TOKEN=0.…                       # a machine account token with write access
//	export OMNITOKEN_BW_TEST_ORG=<organization id>
//	export OMNITOKEN_BW_TEST_PROJECT=<project id>    # a project the machine account may write to
//	cd vaults/bitwarden && go test -run Live -v .
package bitwarden

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	bw "github.com/plexusone/omni-bitwarden/omnivault"
	"github.com/plexusone/omnitoken/vaults/internal/flatvault"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// Scheme is the URI scheme this package registers.
const Scheme = "bw"

// DefaultKeyPrefix starts every secret's key when the URI names none.
const DefaultKeyPrefix = "omnitoken"

func init() {
	omnivault.RegisterProvider(Scheme, Open)
}

// Open opens bw://ORGANIZATION-ID[/PREFIX][?project=PROJECT-ID]. An
// organization that is not a UUID, other query parameters, more path
// segments, or a prefix holding ':' is an error; so is a missing
// BW_ACCESS_TOKEN (matching vault.ErrAuthenticationFailed).
func Open(uri string) (vault.Vault, error) {
	org, prefix, project, err := parse(uri)
	if err != nil {
		return nil, err
	}
	if os.Getenv(bw.EnvAccessToken) == "" {
		return nil, fmt.Errorf("bitwarden: %w: %s is not set (create a Secrets Manager machine account with access to organization %s and export its access token)",
			vault.ErrAuthenticationFailed, bw.EnvAccessToken, org)
	}
	up, err := bw.New(bw.Config{OrganizationID: org})
	if err != nil {
		return nil, fmt.Errorf("bitwarden: %w: %w", vault.ErrAuthenticationFailed, err)
	}
	var onSet func(*vault.Secret)
	if project != "" {
		onSet = func(s *vault.Secret) { s.Metadata.Extra = map[string]any{"projectIds": []string{project}} }
	}
	return flatvault.New(up, "bitwarden", org, prefix, onSet)
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

func parse(uri string) (org, prefix, project string, err error) {
	const want = "bitwarden: vault URI must be bw://ORGANIZATION-ID[/PREFIX][?project=PROJECT-ID]"
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != Scheme || u.User != nil || u.Fragment != "" || !isUUID(u.Host) {
		return "", "", "", fmt.Errorf("%s, with the organization's UUID", want)
	}
	q := u.Query()
	project = q.Get("project")
	q.Del("project")
	if len(q) > 0 || project != "" && !isUUID(project) {
		return "", "", "", fmt.Errorf("%s; the only query parameter is project, a UUID", want)
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	if strings.ContainsAny(prefix, "/:") {
		return "", "", "", fmt.Errorf("bitwarden: key prefix in the vault URI may not hold '/' or ':'")
	}
	return u.Host, prefix, project, nil
}
