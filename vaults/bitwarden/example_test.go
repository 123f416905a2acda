package bitwarden_test

import (
	"log"

	"github.com/plexusone/omnitoken"
	_ "github.com/plexusone/omnitoken/vaults/bitwarden"
)

// Keep credentials and tokens in Bitwarden Secrets Manager, creating new
// secrets in the given project. Needs BW_ACCESS_TOKEN.
func Example() {
	tm, err := omnitoken.NewFromVaultURI("bw://0b7e6a4c-3f1d-4c2e-9a8b-1d2e3f4a5b6c?project=5d6e7f80-1a2b-4c3d-8e9f-0a1b2c3d4e5f")
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
}
