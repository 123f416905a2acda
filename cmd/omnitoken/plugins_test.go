package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildPlugin builds the example plugin plugins/githubapp into a directory
// of its own and returns the directory and the binary's SHA-256.
func buildPlugin(t *testing.T) (dir, sum string) {
	t.Helper()
	dir = t.TempDir()
	bin := filepath.Join(dir, "githubapp")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/plexusone/omnitoken/plugins/githubapp").CombinedOutput(); err != nil {
		t.Fatalf("build the plugin: %v\n%s", err, out)
	}
	sum, err := fileSHA256(bin)
	if err != nil {
		t.Fatal(err)
	}
	return dir, sum
}

func TestPluginsList(t *testing.T) {
	e := newEnv(t)
	e.run("", nil, "plugins", "list").want(t, 0, "No plugin directory")
	r := e.run("", nil, "plugins", "list", "--json")
	if r.want(t, 0); strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("plugins list --json without a directory = %q", r.stdout)
	}

	dir, sum := buildPlugin(t)
	e.run("", nil, "plugins", "list", "--plugin-dir", dir, "--plugin-sha256", sum).want(t, 0, "githubapp", sum)
	r = e.run("", nil, "plugins", "list", "--json", "--plugin-dir", dir)
	r.want(t, 0)
	var got []pluginInfo
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Type != "githubapp" || got[0].SHA256 != sum || !got[0].CanValidate {
		t.Fatalf("plugins list --json = %+v", got)
	}
	// A binary whose checksum is not allowed is refused, naming it.
	e.extra = []string{envPluginDir + "=" + dir, envPluginSums + "=" + strings.Repeat("0", 64)}
	e.run("", nil, "plugins", "list").want(t, 1, "githubapp", "checksum")

	// With the plugin, a credential of its type is validated by it.
	e.extra = []string{envPluginDir + "=" + dir, envPluginSums + "=" + sum}
	e.run(`{"type":"githubapp","githubapp":{"appID":"1","installationID":"2","privateKey":"`+canaryAssertion+`"}}`, nil, "set", "gh").want(t, 1, "invalid credentials")
	e.extra = nil
	e.run(`{"type":"githubapp","githubapp":{"appID":"1","installationID":"2","privateKey":"`+canaryAssertion+`"}}`, nil, "set", "gh").want(t, 0)
	e.run("", nil, "list").want(t, 0, "unsupported credential type")
	e.extra = []string{envPluginDir + "=" + dir}
	e.run("", nil, "list").want(t, 0, "failing: ", "invalid credentials")
	e.run("", nil, "plugins", "list", "extra").want(t, 2)
}

// TestNoPluginsBuild: the CLI built with -tags omnitoken_noplugins serves
// the built-in types and says plainly that it cannot host plugins.
func TestNoPluginsBuild(t *testing.T) {
	lean := filepath.Join(t.TempDir(), "omnitoken")
	if out, err := exec.Command("go", "build", "-tags", "omnitoken_noplugins", "-o", lean, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	e := newEnv(t)
	e.run(`{"type":"basic","basic":{"username":"alice","password":"`+canaryPassword+`"}}`, nil, "set", "jira").want(t, 0)
	cmd := exec.Command(lean, "header", "jira")
	cmd.Env = e.environ()
	out, err := cmd.Output()
	if err != nil || string(out) != "Authorization: Basic YWxpY2U6Y25yeS1wYXNzd29yZC00YjJl\n" {
		t.Fatalf("header from the lean build = %q, %v", out, err)
	}
	cmd = exec.Command(lean, "plugins", "list", "--plugin-dir", t.TempDir())
	cmd.Env = e.environ()
	out, err = cmd.CombinedOutput()
	if xe, ok := err.(*exec.ExitError); !ok || xe.ExitCode() != exitFailure || !strings.Contains(string(out), "without plugin support") {
		t.Fatalf("plugins list from the lean build: %v: %s", err, out)
	}
}
