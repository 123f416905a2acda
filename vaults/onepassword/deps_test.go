package onepassword_test

import (
	"testing"

	"github.com/plexusone/omnitoken/vaults/internal/livecheck"
)

// TestOnlyImportersLinkTheSDK: this package links the SDK, and a program
// built from the main module (the root package) does not, even when both
// are in one build list.
func TestOnlyImportersLinkTheSDK(t *testing.T) {
	livecheck.OnlyImportersLink(t, "github.com/1password/onepassword-sdk-go", "github.com/plexusone/omnitoken/vaults/onepassword")
}
