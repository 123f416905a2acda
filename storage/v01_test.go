package storage_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/file"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

// writeV01 writes a credential (and a token, if tok is not empty) as
// omnitoken v0.1.0 did: through omnivault's file provider in JSON mode,
// named as given with '/' written as '_'.
func writeV01(t *testing.T, dir, name, creds, tok string) {
	t.Helper()
	fp, err := file.New(file.Config{Directory: dir, Extension: ".json", JSONFormat: true})
	if err != nil {
		t.Fatal(err)
	}
	n := strings.ReplaceAll(name, "/", "_")
	meta := vault.Metadata{ModifiedAt: vault.Now(), Tags: map[string]string{"type": "goauth_credentials"}}
	if err := fp.Set(ctx, "credentials/"+n, &vault.Secret{Value: creds, Fields: map[string]string{"type": "basic"}, Metadata: meta}); err != nil {
		t.Fatal(err)
	}
	if tok != "" {
		if err := fp.Set(ctx, "tokens/"+n, &vault.Secret{Value: tok, Metadata: vault.Metadata{ModifiedAt: vault.Now()}}); err != nil {
			t.Fatal(err)
		}
	}
}

var ctx = context.Background()

const basicJSON = `{"type":"basic","basic":{"username":"u","password":"p"}}`

func tokenInfo(access, refresh string) string {
	return `{"serviceKey":"x","token":{"access_token":"` + access + `","token_type":"Bearer","refresh_token":"` + refresh + `","expiry":"` + time.Now().Add(time.Hour).UTC().Format(time.RFC3339) + `"}}`
}

// v01Store opens a Store over dir in the v0.1.0 layout, closed with the
// test, and returns it with a basic credential to store.
func v01Store(t *testing.T, dir string) (*storage.Store, *core.Credentials) {
	t.Helper()
	v, err := storage.NewV01FileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	st, err := storage.New(v, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.ParseCredentials([]byte(basicJSON))
	if err != nil {
		t.Fatal(err)
	}
	return st, c
}

func layout(t *testing.T, dir string) storage.Layout {
	t.Helper()
	l, err := storage.DetectLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestDetectLayout(t *testing.T) {
	if l := layout(t, filepath.Join(t.TempDir(), "missing")); l != storage.LayoutCurrent {
		t.Fatalf("missing directory: %s", l)
	}
	cur := t.TempDir()
	fv, err := storage.NewFileVault(cur)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := storage.New(fv, storage.Options{})
	c, _ := core.ParseCredentials([]byte(basicJSON))
	if err := st.SetCredentials(ctx, "GitHub Bot", c); err != nil {
		t.Fatal(err)
	}
	fv.Close()
	if l := layout(t, cur); l != storage.LayoutCurrent {
		t.Fatalf("a FileVault directory: %s", l)
	}

	old := t.TempDir()
	writeV01(t, old, "github", basicJSON, "")
	if l := layout(t, old); l != storage.LayoutV01 {
		t.Fatalf("a v0.1.0 directory with an escaped-looking name: %s", l)
	}
	// A name EscapeName never writes is enough, whatever the content.
	byName := t.TempDir()
	if err := os.MkdirAll(filepath.Join(byName, "credentials"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(byName, "credentials", "GitHub Bot.json"), []byte(basicJSON), 0o600); err != nil {
		t.Fatal(err)
	}
	if l := layout(t, byName); l != storage.LayoutV01 {
		t.Fatalf("a v0.1.0 name: %s", l)
	}
	if v, err := storage.OpenDirectory(byName); err != nil {
		t.Fatal(err)
	} else if _, ok := v.(*storage.V01FileVault); !ok {
		t.Fatalf("OpenDirectory = %T", v)
	} else {
		v.Close()
	}
}

// TestV01FileVaultStore: a Store over a V01FileVault keeps names as
// given, writes omnivault's wrapper that v0.1.0's reader (omnivault's
// file provider in JSON mode) unwraps to the same value, and refuses a
// name holding '/'.
func TestV01FileVaultStore(t *testing.T) {
	dir := t.TempDir()
	st, c := v01Store(t, dir)
	names := []string{"GitHub Bot", "a%2Fb", "ünï", "x.json"}
	for _, n := range names {
		if err := st.SetCredentials(ctx, n, c); err != nil {
			t.Fatalf("%q: %v", n, err)
		}
		if err := st.SetToken(ctx, n, &core.StoredToken{Token: core.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Now().Add(time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ListCredentials(ctx)
	slices.Sort(names)
	if err != nil || !slices.Equal(got, names) {
		t.Fatalf("ListCredentials = %q, %v", got, err)
	}
	reader, _ := file.New(file.Config{Directory: dir, Extension: ".json", JSONFormat: true})
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, "credentials", n+".json")); err != nil {
			t.Fatalf("%q is not stored under its own name: %v", n, err)
		}
		sec, err := reader.Get(ctx, "credentials/"+n)
		if err != nil || sec.Value != string(mustJSON(t, c)) {
			t.Fatalf("omnivault reads %q as %q, %v", n, sec.Value, err)
		}
		sec, err = reader.Get(ctx, "tokens/"+n)
		if err != nil {
			t.Fatal(err)
		}
		var ti struct {
			Token struct {
				AccessToken  string `json:"access_token"`
				RefreshToken string `json:"refresh_token"`
			} `json:"token"`
		}
		if err := json.Unmarshal([]byte(sec.Value), &ti); err != nil || ti.Token.AccessToken != "at" || ti.Token.RefreshToken != "rt" {
			t.Fatalf("v0.1.0 reads token %q as %+v, %v", n, ti, err)
		}
		tok, err := st.GetToken(ctx, n)
		if err != nil || tok.AccessToken != "at" || tok.RefreshToken != "rt" {
			t.Fatalf("GetToken(%q) = %v, %v", n, tok, err)
		}
	}
	if err := st.SetCredentials(ctx, "team/slides", c); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "team_slides") {
		t.Fatalf(`SetCredentials("team/slides") = %v`, err)
	}
	if err := st.DeleteCredentials(ctx, "GitHub Bot"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "credentials", "GitHub Bot.json")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after delete: %v", err)
	}
}

// TestFileVaultRefusesV01Wrapper: this module's layout never reads a
// v0.1.0 wrapper as empty credentials or an empty token.
func TestFileVaultRefusesV01Wrapper(t *testing.T) {
	dir := t.TempDir()
	writeV01(t, dir, "github", basicJSON, tokenInfo("at", "rt"))
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	st, _ := storage.New(fv, storage.Options{})
	if c, err := st.GetCredentials(ctx, "github"); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "MigrateV01") {
		t.Fatalf("GetCredentials = %v, %v", c, err)
	}
	if tok, err := st.GetToken(ctx, "github"); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "MigrateV01") {
		t.Fatalf("GetToken = %v, %v", tok, err)
	}
}

func mustJSON(t *testing.T, c *core.Credentials) []byte {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestMigrateV01: a v0.1.0 directory moves to this module's layout, a
// lossy name gets the name given in Rename, tokens move along, the old
// files go, and running it again moves nothing.
func TestMigrateV01(t *testing.T) {
	dir := t.TempDir()
	writeV01(t, dir, "GitHub Bot", basicJSON, tokenInfo("at-bot", "rt-bot"))
	writeV01(t, dir, "team/slides", basicJSON, "")
	writeV01(t, dir, "github", basicJSON, tokenInfo("at-gh", "rt-gh"))

	// A clash is refused before anything is written.
	before := listFiles(t, dir)
	if _, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{Rename: map[string]string{"team_slides": "github"}}); err == nil {
		t.Fatal("two credentials renamed to one name")
	}
	if _, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{Rename: map[string]string{"nope": "x"}}); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("Rename of a missing name: %v", err)
	}
	if after := listFiles(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a refused migration changed files: %q → %q", before, after)
	}

	done, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{Rename: map[string]string{"team_slides": "team/slides"}})
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.Migrated{{From: "GitHub Bot", To: "GitHub Bot", Token: true}, {From: "github", To: "github", Token: true}, {From: "team_slides", To: "team/slides"}}
	if !slices.Equal(done, want) {
		t.Fatalf("migrated %+v, want %+v", done, want)
	}
	if l := layout(t, dir); l != storage.LayoutCurrent {
		t.Fatalf("after migration the layout is %s", l)
	}
	wantFiles := []string{"credentials/%47it%48ub%20%42ot.json", "credentials/github.json", "credentials/team%2Fslides.json", "tokens/%47it%48ub%20%42ot.json", "tokens/github.json"}
	if got := listFiles(t, dir); !slices.Equal(got, wantFiles) {
		t.Fatalf("files after migration: %q, want %q", got, wantFiles)
	}
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := storage.New(fv, storage.Options{})
	names, err := st.ListCredentials(ctx)
	if err != nil || !slices.Equal(names, []string{"GitHub Bot", "github", "team/slides"}) {
		t.Fatalf("names = %q, %v", names, err)
	}
	for n, at := range map[string]string{"GitHub Bot": "at-bot", "github": "at-gh"} {
		tok, err := st.GetToken(ctx, n)
		if err != nil || tok.AccessToken != at || !strings.HasPrefix(tok.RefreshToken, "rt-") {
			t.Fatalf("token %q = %v, %v", n, tok, err)
		}
		if c, err := st.GetCredentials(ctx, n); err != nil || c.Type != "basic" {
			t.Fatalf("credential %q = %v, %v", n, c, err)
		}
	}
	fv.Close()

	again, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{})
	if err != nil || len(again) != 0 {
		t.Fatalf("second run moved %+v, %v", again, err)
	}
	if got := listFiles(t, dir); !slices.Equal(got, wantFiles) {
		t.Fatalf("a second run changed files: %q", got)
	}
}

// listFiles returns the .json files under dir's credentials/ and tokens/.
func listFiles(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"credentials", "tokens"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".json") {
				out = append(out, sub+"/"+e.Name())
			}
		}
	}
	return out
}

// TestV01LossyNamesRefused: v0.1.0 trimmed white space around a name and
// wrote '/' and '\' as '_'. Each such name is refused over the v0.1.0
// layout, reading and writing, with an error naming the file name v0.1.0
// used; none is written under a file name v0.1.0 would not look up.
func TestV01LossyNamesRefused(t *testing.T) {
	dir := t.TempDir()
	writeV01(t, dir, "padded", basicJSON, "")
	st, c := v01Store(t, dir)
	for name, stored := range map[string]string{" padded ": "padded", "padded\n": "padded", `a\b`: "a_b", "x/y": "x_y", " new": "new"} {
		if _, err := st.GetCredentials(ctx, name); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), `"`+stored+`"`) {
			t.Errorf("GetCredentials(%q) = %v, want an error naming %q", name, err, stored)
		}
		if err := st.SetCredentials(ctx, name, c); !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), `"`+stored+`"`) {
			t.Errorf("SetCredentials(%q) = %v, want an error naming %q", name, err, stored)
		}
	}
	if got, err := st.ListCredentials(ctx); err != nil || !slices.Equal(got, []string{"padded"}) {
		t.Fatalf("ListCredentials = %q, %v", got, err)
	}
	if _, err := st.GetCredentials(ctx, "padded"); err != nil {
		t.Fatal(err)
	}
}

// TestMigrateV01AfterCrash: MigrateV01 killed after it wrote a
// credential's new files but before it removed the old ones, or (for a
// name whose file name is the same in both layouts) after it rewrote the
// credential but before it moved the token, is run again and finishes:
// every credential and token ends in the new layout, none is lost.
func TestMigrateV01AfterCrash(t *testing.T) {
	dir := t.TempDir()
	writeV01(t, dir, "GitHub Bot", basicJSON, tokenInfo("at-bot", "rt-bot"))
	writeV01(t, dir, "github", basicJSON, tokenInfo("at-gh", "rt-gh"))
	writeV01(t, dir, "gitlab", basicJSON, tokenInfo("at-gl", "rt-gl"))
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer fv.Close()
	st, _ := storage.New(fv, storage.Options{})
	c, _ := core.ParseCredentials([]byte(basicJSON))
	// What a killed run left: "GitHub Bot" written anew, its v0.1.0 files
	// still there; "github" rewritten, its token not yet moved; "gitlab"'s
	// token moved, the credential not yet.
	if err := st.SetCredentials(ctx, "GitHub Bot", c); err != nil {
		t.Fatal(err)
	}
	if err := st.SetToken(ctx, "GitHub Bot", &core.StoredToken{Token: core.Token{AccessToken: "at-bot", RefreshToken: "rt-bot", Expiry: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetCredentials(ctx, "github", c); err != nil {
		t.Fatal(err)
	}
	if err := st.SetToken(ctx, "gitlab", &core.StoredToken{Token: core.Token{AccessToken: "at-gl", RefreshToken: "rt-gl", Expiry: time.Now().Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}

	if _, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{}); err != nil {
		t.Fatalf("MigrateV01 after a crash: %v", err)
	}
	want := []string{"credentials/%47it%48ub%20%42ot.json", "credentials/github.json", "credentials/gitlab.json", "tokens/%47it%48ub%20%42ot.json", "tokens/github.json", "tokens/gitlab.json"}
	if got := listFiles(t, dir); !slices.Equal(got, want) {
		t.Fatalf("files: %q, want %q", got, want)
	}
	for n, at := range map[string]string{"GitHub Bot": "at-bot", "github": "at-gh", "gitlab": "at-gl"} {
		if c, err := st.GetCredentials(ctx, n); err != nil || c.Type != "basic" {
			t.Errorf("credential %q = %v, %v", n, c, err)
		}
		if tok, err := st.GetToken(ctx, n); err != nil || tok.AccessToken != at || !strings.HasPrefix(tok.RefreshToken, "rt-") {
			t.Errorf("token %q = %v, %v", n, tok, err)
		}
	}
	if l := layout(t, dir); l != storage.LayoutCurrent {
		t.Fatalf("layout %s", l)
	}
}

// TestV01NamesReadsFields: over V01Names, a credential kept as flat fields
// with no goauth JSON value (a password manager's item), which v0.1.0
// read from its fields, reads the same: typed, and with the type told
// from the fields.
func TestV01NamesReadsFields(t *testing.T) {
	mem := memory.New()
	items := map[string]map[string]string{
		"credentials/Jira":  {"type": "basic", "username": "u", "password": "p", "server_url": "https://jira.example.com"},
		"credentials/Acme":  {"service": "acme", "client_id": "id", "client_secret": "s", "grant_type": "client_credentials", "scopes": "a b"},
		"credentials/Hooks": {"type": "headerquery", "headers": `{"X-Api-Key":["k"]}`},
	}
	for p, f := range items {
		if err := mem.Set(ctx, p, &vault.Secret{Value: "not goauth JSON", Fields: f}); err != nil {
			t.Fatal(err)
		}
	}
	st, err := storage.New(storage.V01Names(mem), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"Jira":  `{"type":"basic","basic":{"password":"p","serverURL":"https://jira.example.com","username":"u"}}`,
		"Acme":  `{"service":"acme","type":"oauth2","oauth2":{"clientID":"id","clientSecret":"s","grantType":"client_credentials","scope":["a","b"]}}`,
		"Hooks": `{"type":"headerquery","headerquery":{"header":{"X-Api-Key":["k"]}}}`,
	}
	for n, w := range want {
		c, err := st.GetCredentials(ctx, n)
		if err != nil {
			t.Fatalf("GetCredentials(%q): %v", n, err)
		}
		if g, e := canonical(t, mustJSON(t, c)), canonical(t, []byte(w)); g != e {
			t.Errorf("%q reads as %s, want %s", n, g, e)
		}
	}
}

// canonical returns JSON with object keys sorted.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestMigrateV01RefusesDotNames: v0.1.0 stored ".env" as ".env.json",
// which this module never reads or lists. MigrateV01 refuses, naming the
// file, and writes nothing, rather than finish and leave it behind.
func TestMigrateV01RefusesDotNames(t *testing.T) {
	dir := t.TempDir()
	writeV01(t, dir, "GitHub Bot", basicJSON, "")
	writeV01(t, dir, ".env", basicJSON, tokenInfo("at", "rt"))
	before := listFiles(t, dir)
	_, err := storage.MigrateV01(ctx, dir, storage.MigrateOptions{})
	if !errors.Is(err, core.ErrInvalidCredentials) || !strings.Contains(err.Error(), "credentials/.env.json") || !strings.Contains(err.Error(), "tokens/.env.json") {
		t.Fatalf("MigrateV01 = %v, want an error naming both .env.json files", err)
	}
	if after := listFiles(t, dir); !slices.Equal(before, after) {
		t.Fatalf("a refused migration changed files: %q → %q", before, after)
	}
}
