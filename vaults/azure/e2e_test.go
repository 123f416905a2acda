package azure_test

import (
	"net/url"
	"testing"

	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/azure"
	"github.com/plexusone/omnitoken/vaults/azure/internal/fakekv"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

// The seed API over azure-kv://: store, token from a loopback IdP,
// restart, reuse. DefaultAzureCredential and the https vault URL cannot
// reach a loopback fake with its own certificate, so the test registers
// the scheme again with a factory that builds each Vault over the fake,
// taking the prefix from the URI as FromURI does.
//
// Key Vault has no conditional write, so there is no race test here: see
// the package documentation.
func TestSeedAPIEndToEnd(t *testing.T) {
	srv := startFake(t, &fakekv.Server{})
	omnivault.RegisterProvider("azure-kv", func(uri string) (vault.Vault, error) {
		u, err := url.Parse(uri)
		if err != nil {
			return nil, err
		}
		return newVaultPrefix(t, srv, bearer, azure.URIPrefix(u.Path)), nil
	})
	t.Cleanup(func() {
		omnivault.RegisterProvider("azure-kv", func(uri string) (vault.Vault, error) { return azure.FromURI(uri) })
	})
	vaulte2e.RoundTrip(t, "azure-kv://fake.vault.azure.net/omnitoken-e2e")
}
