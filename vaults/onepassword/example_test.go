package onepassword_test

import (
	"log"

	"github.com/plexusone/omnitoken"
	_ "github.com/plexusone/omnitoken/vaults/onepassword"
)

// Keep credentials and tokens in the 1Password vault "Agents", as items
// "omnitoken:credentials:NAME" and "omnitoken:tokens:NAME". Needs
// OP_SERVICE_ACCOUNT_TOKEN.
func Example() {
	tm, err := omnitoken.NewFromVaultURI("op://Agents")
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
}
