package bitwarden_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestOnlyImportersLinkTheSDK: this package links the SDK, and a program
// built from the main module (the root package)
// does not, even when both are in one build list.
func TestOnlyImportersLinkTheSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const sdk = "github.com/bitwarden/sdk-go/v2"
	list := func(pkgs ...string) []string {
		out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if !slices.Contains(list("."), sdk) {
		t.Fatalf("this package does not link %s: the check below would pass vacuously", sdk)
	}
	for _, d := range list("github.com/plexusone/omnitoken") {
		if strings.HasPrefix(d, sdk) || strings.HasPrefix(d, "github.com/plexusone/omnitoken/vaults/bitwarden") {
			t.Errorf("a program that does not import this package links %s", d)
		}
	}
}
