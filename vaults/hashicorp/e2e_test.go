package hashicorp_test

import (
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/hashicorp/internal/fakevault"
)

func fakeURI(t *testing.T, scheme string) string {
	t.Helper()
	srv := startFake(t, &fakevault.Server{})
	t.Setenv("VAULT_TOKEN", rootToken)
	t.Setenv("BAO_TOKEN", rootToken)
	return scheme + "://" + strings.TrimPrefix(srv.URL, "http://") + "/secret/omnitoken?tls=false"
}

// The seed API over vault:// and openbao://: store, token from a loopback
// IdP, restart, reuse.
func TestSeedAPIEndToEnd(t *testing.T) {
	for _, scheme := range []string{"vault", "openbao"} {
		t.Run(scheme, func(t *testing.T) { vaulte2e.RoundTrip(t, fakeURI(t, scheme)) })
	}
}

// Two managers race one token write: KV v2 check-and-set refuses the
// loser, which re-reads and adopts the winner's token.
func TestManagersRaceOneWrite(t *testing.T) { vaulte2e.ConflictRace(t, fakeURI(t, "vault")) }
