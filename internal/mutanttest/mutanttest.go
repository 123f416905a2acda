// Package mutanttest runs a conformance suite against a deliberately broken
// implementation in a child test process and checks that the suite catches
// the defect. The suites of strategytest, storage/storetest and
// storage/vaulttest share it: each test binary has a TestMutantChild that,
// given the mutant's name in an environment variable, runs the suite
// against that mutant, and a TestMutants that calls RunChild once per
// mutant.
package mutanttest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// RunChild runs TestMutantChild of the current test binary with env set to
// id, and fails t unless the child fails in every subtest named in fails.
// A mutant whose defect is a data race (raceOnly) is caught only by the
// race detector, so it is skipped in a build without -race. RunChild
// returns the child's output for further checks.
func RunChild(t *testing.T, env, id string, raceOnly bool, fails []string) string {
	t.Helper()
	if raceOnly && !RaceEnabled {
		t.Skip("needs -race")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestMutantChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env+"="+id)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Fatalf("the suite passed or did not run against the mutant (err %v):\n%s", err, out)
	}
	for _, sub := range fails {
		if !strings.Contains(string(out), "--- FAIL: TestMutantChild/"+sub+" ") {
			t.Errorf("subtest %s did not fail:\n%s", sub, out)
		}
	}
	return string(out)
}
