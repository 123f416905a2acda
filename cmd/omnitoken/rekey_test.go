package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/storage"
)

// newKey returns a fresh encryption key, a canary for the test's duration.
func newKey(t *testing.T) string {
	t.Helper()
	k, err := storage.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	saved := slices.Clone(canaries)
	canaries = append(canaries, k)
	t.Cleanup(func() { canaries = saved })
	return k
}

func TestEncryptedVaultAndRekey(t *testing.T) {
	e := newEnv(t)
	const jira = `{"type":"basic","basic":{"username":"alice","password":"` + canaryPassword + `"}}`
	wantHeader := "Authorization: Basic YWxpY2U6Y25yeS1wYXNzd29yZC00YjJl\n"
	file := filepath.Join(e.vault, "credentials", "jira.json")
	sealed := func() bool {
		t.Helper()
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		return !strings.Contains(string(b), canaryPassword) && !strings.Contains(string(b), `"basic"`)
	}

	// A plaintext vault, then a key: plaintext is refused until rekey.
	e.run(jira, nil, "set", "jira").want(t, 0)
	if sealed() {
		t.Fatal("stored sealed without a key")
	}
	e.run("", nil, "rekey").want(t, 2, "OMNITOKEN_KEY")
	k1 := newKey(t)
	e.extra = []string{"OMNITOKEN_KEY=" + k1}
	e.run("", nil, "header", "jira").want(t, 1, "cannot decrypt", "plaintext")
	e.run("", nil, "rekey").want(t, 0, "1 value(s) rewritten, 0 already current")
	if !sealed() {
		t.Fatal("rekey left the credential in plaintext")
	}
	r := e.run("", nil, "header", "jira")
	if r.want(t, 0); r.stdout != wantHeader {
		t.Fatalf("header after rekey = %q", r.stdout)
	}
	e.run("", nil, "rekey").want(t, 0, "0 value(s) rewritten, 1 already current")

	// New credentials are sealed as they are stored.
	e.run(`{"type":"headerquery","headerquery":{"header":{"X-Api-Key":["`+canaryAPIKey+`"]}}}`, nil, "set", "maps").want(t, 0, "(encrypted)")
	if b, _ := os.ReadFile(filepath.Join(e.vault, "credentials", "maps.json")); strings.Contains(string(b), canaryAPIKey) {
		t.Fatal("a credential stored with a key is in plaintext")
	}

	// Rotation: new key first, old after it; then the new one alone.
	k2 := newKey(t)
	e.extra = []string{"OMNITOKEN_KEY=" + k2 + "," + k1}
	e.run("", nil, "header", "jira").want(t, 0)
	e.run("", nil, "rekey").want(t, 0, "2 value(s) rewritten")
	e.extra = []string{"OMNITOKEN_KEY=" + k2}
	r = e.run("", nil, "header", "jira")
	if r.want(t, 0); r.stdout != wantHeader {
		t.Fatalf("header after rotation = %q", r.stdout)
	}
	// The old key alone, or no key, cannot read the vault any more.
	e.extra = []string{"OMNITOKEN_KEY=" + k1}
	e.run("", nil, "header", "jira").want(t, 1, "cannot decrypt", "jira")
	e.extra = nil
	e.run("", nil, "header", "jira").want(t, 1)
	e.run("", nil, "list").want(t, 0, "failing")
}
