package plugins_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCoreProgramLinksNoPluginMachinery: a program that imports only core
// and strategy/basic links no go-plugin, gRPC or protobuf package, and not
// this package. The program exists only in a `go list -overlay`, so the
// source tree is not touched.
func TestCoreProgramLinksNoPluginMachinery(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "main.go")
	prog := `package main

import (
	_ "github.com/plexusone/omnitoken/core"
	_ "github.com/plexusone/omnitoken/strategy/basic"
)

func main() {}
`
	if err := os.WriteFile(src, []byte(prog), 0o600); err != nil {
		t.Fatal(err)
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	virtual := filepath.Join(wd, "internal", "depcheck", "main.go") // does not exist on disk
	overlay, _ := json.Marshal(map[string]map[string]string{"Replace": {virtual: src}})
	ov := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(ov, overlay, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-overlay="+ov, "./internal/depcheck").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, want := range []string{"github.com/plexusone/omnitoken/core", "github.com/plexusone/omnitoken/strategy/basic"} {
		if !contains(deps, want) {
			t.Fatalf("the program does not link %s; the check would pass vacuously: %v", want, deps)
		}
	}
	forbidden := []string{"github.com/hashicorp/", "google.golang.org/grpc", "google.golang.org/protobuf", "github.com/plexusone/omnitoken/plugins"}
	for _, d := range deps {
		for _, f := range forbidden {
			if strings.HasPrefix(d, f) && d != "github.com/plexusone/omnitoken/plugins/internal/depcheck" {
				t.Errorf("a program importing core and strategy/basic links %s", d)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
