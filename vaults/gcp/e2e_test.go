package gcp_test

import (
	"net/url"
	"testing"

	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/gcp"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// fakeURI points gcp-sm:// at the fake. Application Default Credentials
// and the public endpoint cannot reach a loopback fake with its own CA,
// so the test registers the scheme again with a factory that builds each
// Vault over the fake, taking project and prefix from the URI as FromURI
// does.
func fakeURI(t *testing.T) string {
	t.Helper()
	srv := startFake(t)
	omnivault.RegisterProvider("gcp-sm", func(uri string) (vault.Vault, error) {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, err
		}
		return newVaultIn(t, srv, bearer, u.Host, gcp.URIPrefix(u.Path)), nil
	})
	t.Cleanup(func() {
		omnivault.RegisterProvider("gcp-sm", func(uri string) (vault.Vault, error) { return gcp.FromURI(t.Context(), uri) })
	})
	return "gcp-sm://proj/omnitoken-e2e"
}

// The seed API over gcp-sm://: store, token from a loopback IdP, restart,
// reuse.
func TestSeedAPIEndToEnd(t *testing.T) { vaulte2e.RoundTrip(t, fakeURI(t)) }

// Two managers race one token write: the etag on UpdateSecret refuses the
// loser, which re-reads and adopts the winner's token.
func TestManagersRaceOneWrite(t *testing.T) { vaulte2e.ConflictRace(t, fakeURI(t)) }
