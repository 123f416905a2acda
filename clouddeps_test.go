package omnitoken_test

import (
	"os/exec"
	"strings"
	"testing"
)

// cloudSDKs are the modules of the server and cloud vault providers, which
// live in nested modules under vaults/ so that nothing else downloads or
// links them.
var cloudSDKs = []string{
	"github.com/hashicorp/vault/",
	"github.com/openbao/",
	"github.com/aws/",
	"cloud.google.com/go/secretmanager",
	"github.com/Azure/",
}

// TestCloudSDKsStayOut: neither core nor the root package links a cloud or
// Vault SDK, and the main module's requirement graph does not even name
// one.
func TestCloudSDKsStayOut(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list and go mod graph")
	}
	out, err := exec.Command("go", "list", "-deps", ".", "./core").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 50 {
		t.Fatalf("go list -deps gave %d packages; the check would pass vacuously", len(deps))
	}
	for _, d := range deps {
		for _, sdk := range cloudSDKs {
			if strings.HasPrefix(d, sdk) {
				t.Errorf("core or the root package links %s", d)
			}
		}
	}
	graph, err := exec.Command("go", "mod", "graph").CombinedOutput()
	if err != nil {
		t.Fatalf("go mod graph: %v\n%s", err, graph)
	}
	for _, line := range strings.Split(string(graph), "\n") {
		for _, sdk := range cloudSDKs {
			if strings.Contains(line, " "+sdk) || strings.HasPrefix(line, sdk) {
				t.Errorf("the main module's graph requires a cloud SDK: %s", line)
			}
		}
	}
}
