package main

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A panic ends the command with exit code 1, not Go's 2 (which means a
// usage error here), and its value, which may hold a secret, is not
// printed.
func TestPanicIsAFailureWithoutItsValue(t *testing.T) {
	var stderr bytes.Buffer
	code := protect(&stderr, func() int {
		panic(errors.New("refresh with " + canaryRefresh + "77 failed"))
	})
	if code != exitFailure {
		t.Fatalf("exit code %d, want %d", code, exitFailure)
	}
	out := stderr.String()
	noCanary(t, []string{"(panic)"}, out, nil)
	if !strings.HasPrefix(out, "omnitoken: internal error: a panic (*errors.errorString") || !strings.Contains(out, "TestPanicIsAFailureWithoutItsValue") {
		t.Fatalf("stderr:\n%s", out)
	}
	if got := protect(&stderr, func() int { return 7 }); got != 7 {
		t.Fatalf("protect changed an exit code: %d", got)
	}
}
