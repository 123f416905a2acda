package omnitoken_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
	"golang.org/x/oauth2"
)

// encCanary marks every secret of the encryption tests.
const encCanary = "CANARY-at-rest-91c4"

// filesContaining lists the files under dir whose bytes hold s.
func filesContaining(t *testing.T, dir, s string) []string {
	t.Helper()
	var hits []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err == nil && bytes.Contains(b, []byte(s)) {
			hits = append(hits, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// End to end: a file vault with encryption, over a loopback IdP. No file
// in the vault directory holds a secret; a restart with the key reuses the
// stored token; without the key, or with another, the error is clear and
// no token is handed out.
func TestEncryptedFileVaultEndToEnd(t *testing.T) {
	var issued atomic.Int64
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeToken(w, fmt.Sprintf("%s-access-%d", encCanary, issued.Add(1)), 3600)
	})
	creds := &goauth.Credentials{Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "id", ClientSecret: encCanary + "-client-secret", GrantType: "client_credentials",
		Endpoint: oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}}

	dir := t.TempDir()
	key, err := storage.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	// open is one process's start: the file vault, and keys from the
	// environment as NewAuto reads them.
	open := func(keyEnv string) *omnitoken.TokenManager {
		t.Helper()
		t.Setenv(omnitoken.EnvKey, keyEnv)
		t.Setenv(omnitoken.EnvKeyFile, "")
		cfg := omnitoken.DefaultConfig()
		fv, err := storage.NewFileVault(dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = fv.Close() })
		cfg.Vault, cfg.HTTPClient = fv, idp.Client()
		if keyEnv != "" {
			if cfg.EncryptionKeys, err = storage.KeysFromEnv(); err != nil {
				t.Fatal(err)
			}
		}
		tm, err := omnitoken.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}

	tm := open(key)
	if err := tm.SetCredentials(ctx, "crm", creds); err != nil {
		t.Fatal(err)
	}
	first, err := tm.GetToken(ctx, "crm")
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}
	if issued.Load() != 1 {
		t.Fatalf("%d token requests, want 1", issued.Load())
	}
	if hits := filesContaining(t, dir, encCanary); len(hits) > 0 {
		t.Fatalf("a secret is stored in the clear in %v", hits)
	}
	if hits := filesContaining(t, dir, "client_credentials"); len(hits) > 0 {
		t.Fatalf("credential fields are stored in the clear in %v", hits)
	}
	if hits := filesContaining(t, dir, "omnitoken:aes256gcm:v1:"); len(hits) != 2 {
		t.Fatalf("want the credential and the token sealed, got %v", hits)
	}

	// Restart with the key: the stored token is reused, no new request.
	tm = open(key)
	again, err := tm.GetToken(ctx, "crm")
	_ = tm.Close()
	if err != nil || again.AccessToken != first.AccessToken || issued.Load() != 1 {
		t.Fatalf("after restart: %v, %d requests", err, issued.Load())
	}

	// Restart without the key, and with another: a clear error naming
	// the credential, no token, no request.
	other, _ := storage.GenerateKey()
	for _, k := range []string{"", other} {
		tm = open(k)
		tok, err := tm.GetToken(ctx, "crm")
		_ = tm.Close()
		if err == nil || !errors.Is(err, storage.ErrDecrypt) || !strings.Contains(err.Error(), `"crm"`) {
			t.Fatalf("key set %v: token %v, error %v", k != "", tok != nil, err)
		}
		if strings.Contains(err.Error(), encCanary) {
			t.Fatalf("the error quotes a secret: %v", err)
		}
		want := "not among the configured keys"
		if k == "" {
			want = "set OMNITOKEN_KEY"
		}
		if !strings.Contains(err.Error(), want) {
			t.Fatalf("error %q does not say %q", err, want)
		}
	}
	if issued.Load() != 1 {
		t.Fatalf("%d token requests, want 1", issued.Load())
	}
}

// NewAuto turns encryption on from OMNITOKEN_KEY or OMNITOKEN_KEY_FILE.
func TestNewAutoEncryption(t *testing.T) {
	dir := t.TempDir()
	key, _ := storage.GenerateKey()
	keyFile := filepath.Join(t.TempDir(), "key")
	if err := os.WriteFile(keyFile, []byte(key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(omnitoken.EnvVaultURI, "file://"+dir)
	t.Setenv(omnitoken.EnvCredentialsFile, "")
	t.Setenv(omnitoken.EnvKey, key)
	t.Setenv(omnitoken.EnvKeyFile, "")
	tm, err := omnitoken.NewAuto()
	if err != nil {
		t.Fatal(err)
	}
	if err := tm.SetCredentials(ctx, "jira", basicCreds("u", encCanary)); err != nil {
		t.Fatal(err)
	}
	_ = tm.Close()
	if hits := filesContaining(t, dir, encCanary); len(hits) > 0 {
		t.Fatalf("OMNITOKEN_KEY did not turn encryption on: %v", hits)
	}
	for _, env := range []struct{ key, file string }{{key, ""}, {"", keyFile}, {"", ""}} {
		t.Setenv(omnitoken.EnvKey, env.key)
		t.Setenv(omnitoken.EnvKeyFile, env.file)
		tm, err := omnitoken.NewAuto()
		if err != nil {
			t.Fatal(err)
		}
		c, err := tm.GetCredentials(ctx, "jira")
		_ = tm.Close()
		if withKey := env.key != "" || env.file != ""; withKey != (err == nil) {
			t.Fatalf("key set %v, file %q: %v", env.key != "", env.file, err)
		}
		if err == nil && c.Basic.Password != encCanary {
			t.Fatal("wrong credentials read back")
		}
		if err != nil && (!errors.Is(err, storage.ErrDecrypt) || !strings.Contains(err.Error(), `"jira"`)) {
			t.Fatalf("without a key: %v", err)
		}
	}
	t.Setenv(omnitoken.EnvKey, "not-a-key")
	if tm, err := omnitoken.NewAuto(); err == nil {
		_ = tm.Close()
		t.Fatal("NewAuto accepted a bad OMNITOKEN_KEY")
	}
}

// A plaintext vault is encrypted in place through Config: readable while
// mixed, then Rekey seals every value; rotating the key and rekeying
// again lets the old key go.
func TestConfigEncryptionMigrationAndRotation(t *testing.T) {
	mem := memory.New()
	plain, err := omnitoken.New(omnitoken.Config{Vault: mem})
	if err != nil {
		t.Fatal(err)
	}
	if err := plain.SetCredentials(ctx, "jira", basicCreds("u", encCanary)); err != nil {
		t.Fatal(err)
	}
	_ = plain.Close()

	k1, _ := storage.GenerateKey()
	k2, _ := storage.GenerateKey()
	keys := func(ks ...string) *storage.Keys {
		t.Helper()
		parsed, err := storage.ParseKeys(strings.Join(ks, "\n"))
		if err != nil {
			t.Fatal(err)
		}
		return parsed
	}
	strict, err := omnitoken.New(omnitoken.Config{Vault: mem, EncryptionKeys: keys(k1)})
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	if _, err := strict.GetCredentials(ctx, "jira"); !errors.Is(err, storage.ErrDecrypt) {
		t.Fatalf("strict read of plaintext: %v", err)
	}

	mig, err := omnitoken.New(omnitoken.Config{Vault: mem, EncryptionKeys: keys(k1), AllowPlaintext: true})
	if err != nil {
		t.Fatal(err)
	}
	defer mig.Close()
	if err := mig.SetCredentials(ctx, "new", basicCreds("n", encCanary)); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"jira", "new"} { // mixed
		if c, err := mig.GetCredentials(ctx, n); err != nil || c.Basic.Password != encCanary {
			t.Fatalf("mixed vault, %s: %v", n, err)
		}
	}
	if res, err := mig.Rekey(ctx); err != nil || res.Rewritten != 1 || res.Current != 1 {
		t.Fatalf("rekey = %+v, %v", res, err)
	}
	if _, err := strict.GetCredentials(ctx, "jira"); err != nil {
		t.Fatalf("after rekey: %v", err)
	}

	rot, err := omnitoken.New(omnitoken.Config{Vault: mem, EncryptionKeys: keys(k2, k1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rot.Close()
	if res, err := rot.Rekey(ctx); err != nil || res.Rewritten != 2 {
		t.Fatalf("rotation rekey = %+v, %v", res, err)
	}
	only2, err := omnitoken.New(omnitoken.Config{Vault: mem, EncryptionKeys: keys(k2)})
	if err != nil {
		t.Fatal(err)
	}
	defer only2.Close()
	for _, n := range []string{"jira", "new"} {
		if _, err := only2.GetCredentials(ctx, n); err != nil {
			t.Fatalf("new key alone, %s: %v", n, err)
		}
	}
	if _, err := strict.GetCredentials(ctx, "jira"); !errors.Is(err, storage.ErrDecrypt) {
		t.Fatalf("the retired key still opens a rekeyed value: %v", err)
	}
	if _, err := plain.Rekey(ctx); !errors.Is(err, storage.ErrNoKey) {
		t.Fatalf("Rekey without keys: %v", err)
	}
}

// A vault scheme whose package is not imported names the import to add.
func TestVaultSchemeImportHints(t *testing.T) {
	for scheme, pkg := range map[string]string{
		"keyring":  "github.com/plexusone/omnitoken/vaults/keyring",
		"keychain": "github.com/plexusone/omnitoken/vaults/keyring",
		"op":       "github.com/plexusone/omnitoken/vaults/onepassword",
		"bw":       "github.com/plexusone/omnitoken/vaults/bitwarden",
		"vault":    "github.com/plexusone/omnitoken/vaults/hashicorp",
		"aws-sm":   "github.com/plexusone/omnitoken/vaults/aws",
		"gcp-sm":   "github.com/plexusone/omnitoken/vaults/gcp",
		"azure-kv": "github.com/plexusone/omnitoken/vaults/azure",
	} {
		tm, err := omnitoken.NewFromVaultURI(scheme + "://x")
		if err == nil {
			_ = tm.Close()
			t.Fatalf("%s:// opened without its package", scheme)
		}
		if !strings.Contains(err.Error(), `import _ "`+pkg+`"`) {
			t.Errorf("%s://: %v", scheme, err)
		}
	}
}

// getCounter counts the reads that reach the vault under the codec.
type getCounter struct {
	*memory.Provider
	gets atomic.Int64
}

func (g *getCounter) Get(ctx context.Context, p string) (*vault.Secret, error) {
	g.gets.Add(1)
	return g.Provider.Get(ctx, p)
}

// The cached path is unchanged by encryption: once a token is held, a
// GetToken reads nothing from the vault, so nothing is opened either.
func TestEncryptionLeavesCachedPathAlone(t *testing.T) {
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		writeToken(w, "cached-access", 3600)
	})
	key, err := storage.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	ks, err := storage.ParseKeys(key)
	if err != nil {
		t.Fatal(err)
	}
	gc := &getCounter{Provider: memory.New()}
	cfg := omnitoken.DefaultConfig()
	cfg.Vault, cfg.HTTPClient, cfg.EncryptionKeys = gc, idp.Client(), ks
	tm, err := omnitoken.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if err := tm.SetCredentials(ctx, "crm", &goauth.Credentials{Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "id", ClientSecret: "s", GrantType: "client_credentials",
		Endpoint: oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.GetToken(ctx, "crm"); err != nil {
		t.Fatal(err)
	}
	before := gc.gets.Load()
	if before == 0 {
		t.Fatal("the first GetToken read nothing: the counter does not see the vault")
	}
	for range 50 {
		if tok, err := tm.GetToken(ctx, "crm"); err != nil || tok.AccessToken != "cached-access" {
			t.Fatalf("cached GetToken: %v, %v", tok, err)
		}
	}
	if n := gc.gets.Load() - before; n != 0 {
		t.Fatalf("50 cached GetToken calls read the vault %d times, want 0", n)
	}
}

// An OMNITOKEN_KEY set for the process does not make NewAuto's env://
// vault unreadable: its credentials are the environment's own plaintext,
// never written by omnitoken, and no Rekey can seal a read-only vault.
func TestNewAutoEnvVaultWithKey(t *testing.T) {
	b, err := json.Marshal(basicCreds("envuser", "envpass"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("TESTKEY_MY_APP_CREDENTIALS", string(b))
	key, _ := storage.GenerateKey()
	t.Setenv(omnitoken.EnvVaultURI, "env://TESTKEY_")
	t.Setenv(omnitoken.EnvCredentialsFile, "")
	t.Setenv(omnitoken.EnvKey, key)
	t.Setenv(omnitoken.EnvKeyFile, "")
	tm, err := omnitoken.NewAuto()
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	c, err := tm.GetCredentials(ctx, "my-app")
	if err != nil || c.Basic.Username != "envuser" {
		t.Fatalf("GetCredentials from env:// with OMNITOKEN_KEY set = %v, %v", c, err)
	}
	if tok, err := tm.GetToken(ctx, "my-app"); err != nil || tok.TokenType != "Basic" {
		t.Fatalf("GetToken = %v, %v", tok, err)
	}
}
