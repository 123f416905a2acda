package omnitoken_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMinimalDependencies: a program that imports core, storage and the
// Basic and API-key strategies links no Google, gRPC, OpenTelemetry,
// go-plugin or goauth package. The union of the packages' dependencies is
// exactly what such a program links, beside the standard library.
func TestMinimalDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps",
		"./core", "./storage", "./strategy/basic", "./strategy/apikey").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	forbidden := []string{"google.golang.org/", "cloud.google.com/", "go.opentelemetry.io/", "github.com/grokify/", "github.com/hashicorp/"}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("suspiciously few dependencies: %v", deps)
	}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) {
				t.Errorf("minimal build links %s", d)
			}
		}
	}
}
