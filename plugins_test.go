package omnitoken_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/githubapp/fakegithub"
	"github.com/plexusone/omnitoken/plugins/plugintest"
	"github.com/plexusone/omnitoken/storage"
)

// githubappDir builds the githubapp plugin into a fresh plugin directory.
func githubappDir(t *testing.T) (dir, bin string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a plugin binary")
	}
	built := plugintest.NewBuilder(t.TempDir()).Build(t, "github.com/plexusone/omnitoken/plugins/githubapp")
	dir = t.TempDir()
	bin = filepath.Join(dir, "githubapp")
	data, err := os.ReadFile(built)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir, bin
}

// TestGithubAppThroughSeedAPI: an operator provisions a
// "githubapp" credential in the file vault; the seed API loads the plugin
// from Config.PluginDir, and GetClient talks to a fake GitHub that checks
// the app JWT. The installation token is cached, persisted in the vault,
// and minted anew near expires_at.
func TestGithubAppThroughSeedAPI(t *testing.T) {
	pluginDir, bin := githubappDir(t)
	key, keyPEM := fakegithub.NewKey(t)
	gh := fakegithub.New("4242", "99", &key.PublicKey)
	defer gh.Close()

	vaultDir := t.TempDir()
	v, err := storage.NewFileVault(vaultDir)
	if err != nil {
		t.Fatal(err)
	}
	cred, _ := json.Marshal(map[string]any{"service": "github", "type": "githubapp",
		"githubapp": map[string]any{"appID": "4242", "installationID": "99", "privateKey": keyPEM, "baseURL": gh.URL}})
	if err := os.MkdirAll(filepath.Join(vaultDir, "credentials"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(vaultDir, "credentials", "gh.json"), cred, 0o600); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(mustRead(t, bin))
	clock := coretest.NewFakeClock(time.Now())
	cfg := omnitoken.DefaultConfig()
	cfg.Vault = v
	cfg.Clock = clock
	cfg.AutoRefresh = false // refresh in the caller, so the test sees it
	cfg.PluginDir = pluginDir
	cfg.Extensions = &omnitoken.Extensions{PluginOptions: plugins.Options{Env: []string{"OMNITOKEN_GITHUBAPP_ALLOW_HTTP=1"}, AllowedSHA256: []string{hex.EncodeToString(sum[:])}}}
	tm, err := omnitoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()

	client, err := tm.GetClient(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		resp, err := client.Get(gh.URL + "/installation/repositories")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GitHub answered %d (rejections %v)", resp.StatusCode, gh.Rejections())
		}
	}
	if n := gh.Mints(); n != 1 {
		t.Fatalf("mints = %d, want 1 (cached)", n)
	}
	exp, ok := gh.Expiry(gh.LastToken())
	if !ok {
		t.Fatal("fake did not record the token's expiry")
	}
	checkPersisted := func(want string, wantExp time.Time) {
		t.Helper()
		raw, err := os.ReadFile(filepath.Join(vaultDir, "tokens", "gh.json"))
		if err != nil {
			t.Fatalf("token not persisted: %v", err)
		}
		st, err := core.ParseStoredToken(raw)
		if err != nil || st.AccessToken != want || !st.Expiry.Equal(wantExp) {
			t.Fatalf("vault holds another token (err %v, same token %v, expiry %v want %v)", err, st != nil && st.AccessToken == want, st.Expiry, wantExp)
		}
	}
	checkPersisted(gh.LastToken(), exp)
	clock.Set(exp.Add(-30 * time.Second)) // inside the refresh window
	tok, err := tm.GetToken(ctx, "gh")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(gh.URL + "/installation/repositories")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gh.Mints() != 2 || resp.StatusCode != http.StatusOK || tok.AccessToken != gh.LastToken() {
		t.Fatalf("mints = %d; token is the newest: %v (%.12s vs %.12s)", gh.Mints(), tok.AccessToken == gh.LastToken(), tok.AccessToken, gh.LastToken())
	}
	exp2, _ := gh.Expiry(gh.LastToken())
	checkPersisted(gh.LastToken(), exp2)

	// Close stops the plugin process the TokenManager started.
	if n := liveChildren(t); n == 0 {
		t.Fatal("no plugin process while the TokenManager is open; the check below proves nothing")
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	if n := liveChildren(t); n != 0 {
		t.Fatalf("%d child processes left after Close", n)
	}
}

// liveChildren counts this process's children that have not exited.
func liveChildren(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	me := os.Getpid()
	n := 0
	for _, e := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces and parentheses.
		rest := string(stat[bytes.LastIndexByte(stat, ')')+1:])
		var state string
		var ppid int
		if _, err := fmt.Sscan(rest, &state, &ppid); err == nil && ppid == me && state != "Z" {
			n++
		}
	}
	return n
}

func TestPluginChecksumRefused(t *testing.T) {
	pluginDir, _ := githubappDir(t)
	cfg := omnitoken.DefaultConfig()
	cfg.Vault = mustFileVault(t)
	cfg.PluginDir = pluginDir
	cfg.Extensions = &omnitoken.Extensions{PluginOptions: plugins.Options{AllowedSHA256: []string{hex.EncodeToString(make([]byte, 32))}}}
	if _, err := omnitoken.New(cfg); !errors.Is(err, plugins.ErrChecksumMismatch) {
		t.Fatalf("err = %v, want ErrChecksumMismatch", err)
	}
}

// TestNewAutoLoadsPluginDir: NewAuto starts the plugins of
// OMNITOKEN_PLUGIN_DIR whose SHA-256 OMNITOKEN_PLUGIN_SHA256 lists (hex,
// comma-separated, "sha256:" prefixes and spaces allowed).
func TestNewAutoLoadsPluginDir(t *testing.T) {
	pluginDir, bin := githubappDir(t)
	sum := sha256.Sum256(mustRead(t, bin))
	t.Setenv(omnitoken.EnvVaultURI, "memory://")
	t.Setenv(omnitoken.EnvPluginDir, pluginDir)
	t.Setenv(omnitoken.EnvPluginSHA256, hex.EncodeToString(make([]byte, 32))+", sha256:"+hex.EncodeToString(sum[:]))
	tm, err := omnitoken.NewAuto()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	// The plugin serves the type: its Validate, not a missing strategy,
	// refuses a githubapp credential without its fields.
	c, err := core.ParseCredentials([]byte(`{"type":"githubapp","githubapp":{}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Core().SetCredentials(t.Context(), "gh", c); err != nil {
		t.Fatal(err)
	}
	err = tm.ValidateCredentials(t.Context(), "gh")
	if !errors.Is(err, core.ErrInvalidCredentials) || errors.Is(err, core.ErrUnsupportedCredentialType) {
		t.Fatalf("githubapp not served by the plugin: %v", err)
	}
}

// TestNewAutoPluginAllowlist: a plugin directory from the environment is
// refused without OMNITOKEN_PLUGIN_SHA256, and a binary it does not list
// is refused; in both cases no binary of the directory is executed. The
// directory holds a listed plugin and a script that would write a marker
// file if it ever ran.
func TestNewAutoPluginAllowlist(t *testing.T) {
	pluginDir, bin := githubappDir(t)
	sum := sha256.Sum256(mustRead(t, bin))
	marker := filepath.Join(t.TempDir(), "executed")
	script := "#!/bin/sh\necho ran > '" + marker + "'\n"
	if err := os.WriteFile(filepath.Join(pluginDir, "zz-unlisted"), []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Setenv(omnitoken.EnvVaultURI, "memory://")
	t.Setenv(omnitoken.EnvPluginDir, pluginDir)
	for _, tc := range []struct{ name, sums string }{
		{"no allowlist", ""},
		{"blank allowlist", " , "},
		{"unlisted binary", hex.EncodeToString(sum[:])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(omnitoken.EnvPluginSHA256, tc.sums)
			tm, err := omnitoken.NewAuto()
			if err == nil {
				_ = tm.Close()
				t.Fatal("NewAuto accepted the plugin directory")
			}
			if !errors.Is(err, plugins.ErrChecksumMismatch) {
				t.Fatalf("err = %v, want ErrChecksumMismatch", err)
			}
			if !strings.Contains(err.Error(), omnitoken.EnvPluginSHA256) && !strings.Contains(err.Error(), "zz-unlisted") {
				t.Fatalf("the error names neither the variable nor the binary: %v", err)
			}
			if _, err := os.Stat(marker); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("the unlisted binary was executed (marker: %v)", err)
			}
		})
	}
	// The script does run when executed: the marker proves what it claims.
	if err := exec.Command(filepath.Join(pluginDir, "zz-unlisted")).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("the script wrote no marker when run: %v", err)
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustFileVault(t *testing.T) *storage.FileVault {
	t.Helper()
	v, err := storage.NewFileVault(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return v
}
