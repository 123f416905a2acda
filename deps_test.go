package omnitoken_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestMinimalDependencies: programs that import only part of omnitoken
// link none of the heavy packages. The union of the named packages'
// dependencies is exactly what such a program links, beside the standard
// library.
func TestMinimalDependencies(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/plexusone/omnitoken/"
	for _, tc := range []struct {
		name      string
		imports   []string
		forbidden []string
		required  []string // proves the list is the real one
	}{{
		// A program using only the engine, storage and the simple
		// strategies links no Google, gRPC, OpenTelemetry, goauth or
		// go-plugin.
		name:      "core, storage, basic, apikey",
		imports:   []string{"core", "storage", "strategy/basic", "strategy/apikey"},
		forbidden: []string{"google.golang.org/", "cloud.google.com/", "go.opentelemetry.io/", "github.com/grokify/", "github.com/hashicorp/"},
	}, {
		// No plugin machinery without the plugins package.
		name:      "core, basic",
		imports:   []string{"core", "strategy/basic"},
		forbidden: []string{"github.com/hashicorp/", "google.golang.org/grpc", "google.golang.org/protobuf", mod + "plugins"},
	}, {
		// Encryption at rest is the standard library: storage links no
		// keyring, D-Bus or password-manager SDK.
		name:      "core, storage",
		imports:   []string{"core", "storage"},
		forbidden: []string{"github.com/zalando/", "github.com/godbus/", "github.com/danieljoos/", "filippo.io/", mod + "vaults/"},
	}, {
		// The keyring vault is opt-in too: the root package alone links
		// no keyring or D-Bus code until vaults/keyring is imported.
		name:      "root",
		imports:   []string{""},
		forbidden: []string{"github.com/zalando/", "github.com/godbus/", "github.com/danieljoos/", mod + "vaults/"},
	}, {
		// The password-manager SDKs live in nested modules: the root
		// package, even with the keyring vault, links none of them.
		name:      "root, vaults/keyring",
		imports:   []string{"", "vaults/keyring"},
		forbidden: []string{"github.com/1password/", "github.com/bitwarden/", "github.com/tetratelabs/", "github.com/extism/", "github.com/plexusone/omni-", mod + "vaults/onepassword", mod + "vaults/bitwarden"},
		required:  []string{"github.com/zalando/go-keyring"},
	}, {
		// The engine alone links neither OpenTelemetry nor MCP.
		name:      "core",
		imports:   []string{"core"},
		forbidden: []string{"go.opentelemetry.io/", "github.com/modelcontextprotocol/", mod + "metrics"},
	}, {
		// The metrics adapter is a leaf: the OpenTelemetry API and core,
		// never the SDK (the program's choice), goauth, Google or gRPC.
		name:      "metrics",
		imports:   []string{"metrics"},
		forbidden: []string{"go.opentelemetry.io/otel/sdk", "github.com/grokify/", "google.golang.org/", "cloud.google.com/", "github.com/hashicorp/"},
		required:  []string{"go.opentelemetry.io/otel/metric", mod + "core"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"list", "-deps"}
			for _, p := range tc.imports {
				args = append(args, "./"+p) // "" is the root package
			}
			out, err := exec.Command("go", args...).CombinedOutput()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, out)
			}
			deps := strings.Fields(string(out))
			for _, p := range tc.imports {
				if !slices.Contains(deps, strings.TrimSuffix(mod+p, "/")) {
					t.Fatalf("%s missing from the list; the check would pass vacuously", p)
				}
			}
			for _, r := range tc.required {
				if !slices.Contains(deps, r) {
					t.Errorf("%s does not link %s", tc.name, r)
				}
			}
			for _, d := range deps {
				for _, f := range tc.forbidden {
					if strings.HasPrefix(d, f) {
						t.Errorf("a program importing %s links %s", tc.name, d)
					}
				}
			}
		})
	}
}
