//go:build unix

package sstest

import (
	"errors"
	"strings"
	"testing"
)

// TestMissingBinaries: without the binaries a local run may skip (the
// error matches ErrMissing), but a CI run must fail, so its error does not.
func TestMissingBinaries(t *testing.T) {
	t.Setenv("PATH", t.TempDir())

	t.Setenv("CI", "")
	if _, err := Start(); !errors.Is(err, ErrMissing) {
		t.Fatalf("local run without binaries: %v, want ErrMissing", err)
	}

	t.Setenv("CI", "true")
	_, err := Start()
	if err == nil || errors.Is(err, ErrMissing) {
		t.Fatalf("CI run without binaries: %v, want an error that does not match ErrMissing", err)
	}
	if !strings.Contains(err.Error(), "gnome-keyring") || !strings.Contains(err.Error(), "CI") {
		t.Fatalf("error %q does not say what is missing and why it fails", err)
	}
}
