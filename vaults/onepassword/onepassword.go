// Package onepassword makes op:// vault URIs open 1Password, through
// github.com/plexusone/omni-onepassword (on 1Password's official Go SDK).
// One blank import registers the scheme with omnivault:
//
//	import _ "github.com/plexusone/omnitoken/vaults/onepassword"
//
//	tm, err := omnitoken.NewFromVaultURI("op://Private")            // items "omnitoken:…"
//	tm, err := omnitoken.NewFromVaultURI("op://Private/my-agent")   // items "my-agent:…"
//
// The URI names a 1Password vault, by name, and optionally an item prefix
// (default "omnitoken"). Each omnitoken path is one item of that vault,
// its value in the item's "password" field: the credential "github" is
// the item "omnitoken:credentials:github", its token
// "omnitoken:tokens:github".
//
// Authentication is a service account: set OP_SERVICE_ACCOUNT_TOKEN. Without
// it, opening the vault fails with an error matching
// vault.ErrAuthenticationFailed that says so.
//
// The SDK runs 1Password's core as WebAssembly (wazero) and adds about
// 40 packages, so this package is its own Go module: a program that does
// not import it neither downloads nor links any of it.
//
// # Checking it against your own account
//
// The package's tests need no account; TestLive runs only when these are
// set, and round-trips a credential and a token through the vault,
// deleting them after:
//
//	export OP_SERVICE_ACCOUNT_TOKEN=ops_…           # a service account with write access
//	export OMNITOKEN_OP_TEST_VAULT=omnitoken-test   # a vault it may write to
//	go test -run Live -v ./vaults/onepassword/      # from this module's directory: cd vaults/onepassword && go test -run Live -v .
package onepassword

import (
	"fmt"
	"net/url"
	"os"
	"strings"

	op "github.com/plexusone/omni-onepassword/omnivault"
	"github.com/plexusone/omnitoken/vaults/internal/flatvault"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// Scheme is the URI scheme this package registers.
const Scheme = "op"

// DefaultItemPrefix starts the name of every item when the URI names none.
const DefaultItemPrefix = "omnitoken"

func init() {
	omnivault.RegisterProvider(Scheme, Open)
}

// Open opens op://VAULT[/PREFIX]. A missing vault name, a query, more path
// segments, or a prefix holding ':' is an error; so is a missing
// OP_SERVICE_ACCOUNT_TOKEN (matching vault.ErrAuthenticationFailed).
func Open(uri string) (vault.Vault, error) {
	name, prefix, err := parse(uri)
	if err != nil {
		return nil, err
	}
	if os.Getenv(op.EnvServiceAccountToken) == "" {
		return nil, fmt.Errorf("onepassword: %w: %s is not set (create a 1Password service account with access to vault %q and export its token)",
			vault.ErrAuthenticationFailed, op.EnvServiceAccountToken, name)
	}
	up, err := op.New(op.Config{IntegrationName: "omnitoken", IntegrationVersion: "1"})
	if err != nil {
		return nil, fmt.Errorf("onepassword: %w: %w", vault.ErrConnectionFailed, err)
	}
	return flatvault.New(up, "onepassword", name, prefix, nil)
}

func parse(uri string) (name, prefix string, err error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != Scheme {
		return "", "", fmt.Errorf("onepassword: vault URI is not op://VAULT[/PREFIX]")
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", "", fmt.Errorf("onepassword: vault URI must be op://VAULT[/PREFIX], naming a 1Password vault")
	}
	prefix = strings.Trim(u.Path, "/")
	if prefix == "" {
		prefix = DefaultItemPrefix
	}
	if strings.ContainsAny(prefix, "/:") {
		return "", "", fmt.Errorf("onepassword: item prefix in the vault URI may not hold '/' or ':'")
	}
	return u.Host, prefix, nil
}
