package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

const want = `stored credentials: bot, jira, signer, weather
bot      (oauth2)      -> 200 hello, OAuth 2.0 client
jira     (basic)       -> 200 hello, alice
signer   (jwt)         -> 200 hello, JWT bearer
weather  (headerquery) -> 200 hello, API key holder
cached path: 10000 GetToken calls made 0 token requests
reopened vault: credentials bot, jira, signer, weather; bot token valid=true, token requests=0
token files on disk: 2
`

func TestRun(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != want {
		t.Fatalf("output:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestBuildAndRun builds the program and runs it as a user would.
func TestBuildAndRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	bin := filepath.Join(t.TempDir(), "quickstart")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("quickstart failed: %v", err)
	}
	if !strings.Contains(string(out), "cached path: 10000 GetToken calls made 0 token requests") {
		t.Fatalf("unexpected output:\n%s", out)
	}
}
