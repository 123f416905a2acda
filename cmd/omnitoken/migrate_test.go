package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnivault/providers/file"
	"github.com/plexusone/omnivault/vault"
)

// writeV01 writes a credential and its token as omnitoken v0.1.0 did:
// through omnivault's file provider in JSON mode, each value wrapped in
// omnivault's Secret, named as given with '/' written as '_'.
func writeV01(t *testing.T, dir, name, creds, tokenInfo string) {
	t.Helper()
	fp, err := file.New(file.Config{Directory: dir, Extension: ".json", JSONFormat: true})
	if err != nil {
		t.Fatal(err)
	}
	n := strings.ReplaceAll(name, "/", "_")
	meta := vault.Metadata{Tags: map[string]string{"type": "goauth_credentials"}}
	if err := fp.Set(context.Background(), "credentials/"+n, &vault.Secret{Value: creds, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	if tokenInfo != "" {
		if err := fp.Set(context.Background(), "tokens/"+n, &vault.Secret{Value: tokenInfo}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigrateV01Directory(t *testing.T) {
	e := newEnv(t)
	p := newIdP(t, 3600)
	access := canaryAccess + "v01"
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	writeV01(t, e.vault, "GitHub Bot", p.oauth2JSON(canaryClientSecret),
		`{"serviceKey":"GitHub Bot","token":{"access_token":"`+access+`","token_type":"Bearer","refresh_token":"`+canaryRefresh+`v01","expiry":"`+exp+`"}}`)
	writeV01(t, e.vault, "team/slides", `{"type":"basic","basic":{"username":"alice","password":"`+canaryPassword+`"}}`, "")

	// Before migrating, the CLI reads the v0.1.0 layout as it is.
	e.run("", nil, "list").want(t, 0, "GitHub Bot", "team_slides")
	r := e.run("", []string{access}, "token", "GitHub Bot")
	if r.want(t, 0); r.stdout != access+"\n" || p.requests.Load() != 0 {
		t.Fatalf("token over v0.1.0 = %q after %d IdP requests, want the stored token and none", r.stdout, p.requests.Load())
	}

	before := listFiles(t, e.vault)
	e.run("", nil, "migrate", "--dry-run", "--rename", "team_slides=team/slides").want(t, 0, "would move 'GitHub Bot'", "would move team_slides → team/slides", "nothing was changed")
	if after := listFiles(t, e.vault); after != before {
		t.Fatalf("--dry-run changed the directory:\n%s\n→\n%s", before, after)
	}
	e.run("", nil, "migrate", "--rename", "team_slides").want(t, 2, "want OLD=NEW")

	e.run("", nil, "migrate", "--rename", "team_slides=team/slides").want(t, 0,
		"moved 'GitHub Bot' (with its token)", "moved team_slides → team/slides", "Migrated 2 credential(s)")
	e.run("", nil, "migrate").want(t, 0, "nothing to migrate")

	// Afterwards: the names as meant, the same token, still no IdP call.
	e.run("", nil, "list").want(t, 0, "GitHub Bot", "team/slides")
	r = e.run("", []string{access}, "token", "GitHub Bot")
	if r.want(t, 0); r.stdout != access+"\n" || p.requests.Load() != 0 {
		t.Fatalf("token after migrate = %q after %d IdP requests", r.stdout, p.requests.Load())
	}
	e.run("", nil, "header", "team/slides").want(t, 0, "Authorization: Basic ")

	e.vault = "nosuch://x"
	e.run("", nil, "migrate").want(t, 2, "directory vault")
}

// listFiles describes every file under dir with its size and time.
func listFiles(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b.WriteString(p + " " + fi.ModTime().String() + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
