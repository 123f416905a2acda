package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestLinksNoRootPackage: the CLI never links the omnitoken root package
// or goauth's (nor, through them, Google APIs or OpenTelemetry), so that
// "omnitoken token NAME" does not pay their start-up; built with
// -tags omnitoken_noplugins it does not link the plugin host either.
func TestLinksNoRootPackage(t *testing.T) {
	for _, tc := range []struct {
		tags      string
		forbidden []string
	}{
		{"", nil},
		{"omnitoken_noplugins", []string{"github.com/hashicorp/", "google.golang.org/grpc", "google.golang.org/protobuf", "github.com/plexusone/omnitoken/plugins"}},
	} {
		out, err := exec.Command("go", "list", "-tags", tc.tags, "-deps", ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/plexusone/omnitoken/core") {
			t.Fatal("core missing from go list -deps; the check would pass vacuously")
		}
		for _, d := range deps {
			if d == "github.com/plexusone/omnitoken" || d == "github.com/grokify/goauth" || strings.HasPrefix(d, "go.opentelemetry.io/") {
				t.Errorf("tags %q: the CLI links %s", tc.tags, d)
			}
			for _, f := range tc.forbidden {
				if strings.HasPrefix(d, f) {
					t.Errorf("tags %q: the CLI links %s", tc.tags, d)
				}
			}
		}
	}
}
