package storage_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/env"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
)

// canary is a secret that must never appear in an error.
const canary = "CANARY-s3cr3t-7f1d"

// capsVault overrides a vault's capabilities and can refuse writes.
type capsVault struct {
	vault.Vault
	caps     vault.Capabilities
	readOnly bool
	sets     atomic.Int64
}

func (v *capsVault) Capabilities() vault.Capabilities { return v.caps }

func (v *capsVault) Set(ctx context.Context, p string, s *vault.Secret) error {
	v.sets.Add(1)
	if v.readOnly {
		return vault.NewVaultError("Set", p, "capsVault", vault.ErrReadOnly)
	}
	return v.Vault.Set(ctx, p, s)
}

func githubCreds(t *testing.T) *core.Credentials {
	t.Helper()
	c, err := core.ParseCredentials([]byte(`{"service":"github","type":"oauth2","subdomain":"acme",` +
		`"oauth2":{"clientID":"id","clientSecret":"` + canary + `","grantType":"client_credentials"},` +
		`"githubapp":{"appID":42},"token":{"access_token":"` + canary + `"},"additional":{"k":["v"]}}`))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func jsonOf(t *testing.T, c *core.Credentials) []byte {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newStore(t *testing.T, v vault.Vault, opts storage.Options) *storage.Store {
	t.Helper()
	st, err := storage.New(v, opts)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestNew(t *testing.T) {
	if _, err := storage.New(nil, storage.Options{}); !errors.Is(err, core.ErrVaultNotConfigured) {
		t.Fatalf("New(nil) = %v", err)
	}
	for _, o := range []storage.Options{
		{CredentialsPrefix: "x/", TokensPrefix: "x/"},
		{CredentialsPrefix: "c", TokensPrefix: "ct"},
		{CredentialsPrefix: "tokens/x/"},
	} {
		if _, err := storage.New(memory.New(), o); err == nil || !strings.HasPrefix(err.Error(), "storage: ") {
			t.Errorf("New(%+v) = %v, want an overlap error", o, err)
		}
	}
	st := newStore(t, memory.New(), storage.Options{})
	if p, _ := st.CredentialsPath("a/b"); p != "credentials/a%2Fb" {
		t.Errorf("CredentialsPath = %q", p)
	}
	if p, _ := st.TokenPath("a/b"); p != "tokens/a%2Fb" {
		t.Errorf("TokenPath = %q", p)
	}
}

// TestCodecMultiField: on a multi-field vault (omnivault's memory
// provider reports MultiField) the credential is written as goauth JSON in
// Value and flattened in Fields; both read back.
func TestCodecMultiField(t *testing.T) {
	mem := memory.New()
	if !mem.Capabilities().MultiField {
		t.Fatal("memory provider no longer reports MultiField")
	}
	st := newStore(t, mem, storage.Options{})
	ctx := context.Background()
	c := githubCreds(t)
	if err := st.SetCredentials(ctx, "gh", c); err != nil {
		t.Fatal(err)
	}
	sec, err := mem.Get(ctx, "credentials/gh")
	if err != nil {
		t.Fatal(err)
	}
	if sec.Value != string(jsonOf(t, c)) {
		t.Fatalf("Value = %s", sec.Value)
	}
	wantFields := map[string]string{
		"service":    "github",
		"type":       "oauth2",
		"subdomain":  "acme",
		"oauth2":     string(c.Section("oauth2")),
		"githubapp":  `{"appID":42}`,
		"additional": `{"k":["v"]}`,
	}
	for k, v := range wantFields {
		if sec.Fields[k] != v {
			t.Errorf("Fields[%q] = %q, want %q", k, sec.Fields[k], v)
		}
	}
	if !json.Valid([]byte(sec.Fields["token"])) || len(sec.Fields) != len(wantFields)+1 {
		t.Errorf("Fields = %v", keysOf(sec.Fields))
	}
	got, err := st.GetCredentials(ctx, "gh")
	if err != nil || !bytes.Equal(jsonOf(t, got), jsonOf(t, c)) {
		t.Fatalf("Get = %v, %v", got, err)
	}

	// Fields alone (a vault that keeps only fields) read back the same.
	if err := mem.Set(ctx, "credentials/fields-only", &vault.Secret{Fields: sec.Fields}); err != nil {
		t.Fatal(err)
	}
	got, err = st.GetCredentials(ctx, "fields-only")
	if err != nil || !bytes.Equal(jsonOf(t, got), jsonOf(t, c)) {
		t.Fatalf("fields-only Get = %s, %v", jsonOf(t, got), err)
	}
}

func keysOf(m map[string]string) []string {
	var k []string
	for key := range m {
		k = append(k, key)
	}
	slices.Sort(k)
	return k
}

// TestCodecSingleField: a vault without MultiField gets Value only, and
// the plugin's own section survives the round trip.
func TestCodecSingleField(t *testing.T) {
	v := &capsVault{Vault: memory.New(), caps: vault.Capabilities{Read: true, Write: true, Delete: true, List: true}}
	st := newStore(t, v, storage.Options{CredentialsPrefix: "app/creds/", TokensPrefix: "app/toks/"})
	ctx := context.Background()
	c := githubCreds(t)
	if err := st.SetCredentials(ctx, "gh", c); err != nil {
		t.Fatal(err)
	}
	sec, err := v.Get(ctx, "app/creds/gh")
	if err != nil || sec.Fields != nil || sec.Value != string(jsonOf(t, c)) {
		t.Fatalf("secret = %v fields, %v", keysOf(sec.Fields), err)
	}
	got, err := st.GetCredentials(ctx, "gh")
	if err != nil || string(got.Section("githubapp")) != `{"appID":42}` {
		t.Fatalf("Get = %v, %v", got, err)
	}

	tok := &core.StoredToken{Token: core.Token{AccessToken: canary, RefreshToken: "r", Expiry: time.Unix(1700000000, 0).UTC(),
		Header: map[string][]string{"X-Key": {"k"}}}, Generation: 7, CredentialsDigest: "abcd"}
	if err := st.SetToken(ctx, "gh", tok); err != nil {
		t.Fatal(err)
	}
	raw, err := v.Get(ctx, "app/toks/gh")
	if err != nil {
		t.Fatal(err)
	}
	var back core.StoredToken
	if err := json.Unmarshal([]byte(raw.Value), &back); err != nil || !back.Equal(&tok.Token) || back.Generation != 7 {
		t.Fatalf("stored token = %v, %v", &back, err)
	}
	got2, err := st.GetToken(ctx, "gh")
	if err != nil || !got2.Equal(&tok.Token) || got2.CredentialsDigest != "abcd" || got2.Header.Get("X-Key") != "k" {
		t.Fatalf("GetToken = %v, %v", got2, err)
	}
}

func TestStoreNotFoundAndDelete(t *testing.T) {
	mem := memory.New()
	st := newStore(t, mem, storage.Options{})
	ctx := context.Background()
	if _, err := st.GetCredentials(ctx, "nope"); !errors.Is(err, core.ErrCredentialsNotFound) || !strings.Contains(err.Error(), `"nope"`) {
		t.Errorf("GetCredentials = %v", err)
	}
	if _, err := st.GetToken(ctx, "nope"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("GetToken = %v", err)
	}
	if err := st.DeleteCredentials(ctx, "nope"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Errorf("DeleteCredentials = %v", err)
	}
	if err := st.DeleteToken(ctx, "nope"); err != nil {
		t.Errorf("DeleteToken = %v", err)
	}
	if err := st.SetCredentials(ctx, "x", nil); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("SetCredentials(nil) = %v", err)
	}
	if err := st.SetToken(ctx, "x", nil); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("SetToken(nil) = %v", err)
	}
	c := githubCreds(t)
	if err := st.SetCredentials(ctx, "x", c); err != nil {
		t.Fatal(err)
	}
	if err := st.SetToken(ctx, "x", &core.StoredToken{Token: core.Token{AccessToken: "a"}}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteCredentials(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteToken(ctx, "x"); err != nil {
		t.Fatal(err)
	}
	if mem.Count() != 0 {
		t.Fatalf("vault still holds %d secrets", mem.Count())
	}
}

// TestListSkipsForeignEntries: entries EscapeName did not write are not
// reported as names.
func TestListSkipsForeignEntries(t *testing.T) {
	mem := memory.New()
	st := newStore(t, mem, storage.Options{})
	ctx := context.Background()
	for _, n := range []string{"b", "a/b", "a"} {
		if err := st.SetCredentials(ctx, n, githubCreds(t)); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"credentials/%2e%2e", "credentials/A", "credentials/%61", "credentials/sub/x", "credentials/.x", "credentials/a b", "credentialsX", "tokens/zz"} {
		if err := mem.Set(ctx, p, &vault.Secret{Value: "{}"}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.ListCredentials(ctx)
	if err != nil || !slices.Equal(got, []string{"a", "a/b", "b"}) {
		t.Fatalf("ListCredentials = %q, %v", got, err)
	}
}

// TestMalformedNeverQuoted: a stored value that does not parse is an
// error matching ErrInvalidCredentials that names the credential and
// never quotes the content, on a file vault and in Fields.
func TestMalformedNeverQuoted(t *testing.T) {
	dir := t.TempDir()
	st := newStore(t, newFileVault(t, dir), storage.Options{})
	ctx := context.Background()
	files := map[string]string{
		"credentials/truncated.json": `{"service":"x","type":"basic","basic":{"password":"` + canary,
		"credentials/badtype.json":   `{"service":"x","type":["` + canary + `"]}`,
		"credentials/array.json":     `["` + canary + `"]`,
		"credentials/badtoken.json":  `{"type":"basic","token":{"access_token":"` + canary + `","expiry":"` + canary + `"}}`,
		"tokens/truncated.json":      `{"access_token":"` + canary,
		"tokens/badtime.json":        `{"access_token":"` + canary + `","expiry":"` + canary + `"}`,
		"tokens/badtype.json":        `{"access_token":["` + canary + `"]}`,
		"tokens/string.json":         `"` + canary + `"`,
		"tokens/null.json":           `null`,
	}
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("%s: %v, want ErrInvalidCredentials", what, err)
			return
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, canary) || strings.Contains(s, "CANARY") {
				t.Errorf("%s: error quotes the secret: %s", what, s)
			}
		}
		if !strings.HasPrefix(err.Error(), "storage: ") {
			t.Errorf("%s: error %q does not start with storage:", what, err)
		}
	}
	for _, n := range []string{"truncated", "badtype", "array", "badtoken"} {
		_, err := st.GetCredentials(ctx, n)
		check("credential "+n, err)
		if err != nil && !strings.Contains(err.Error(), `"`+n+`"`) {
			t.Errorf("error does not name %q: %v", n, err)
		}
	}
	for _, n := range []string{"truncated", "badtime", "badtype", "string", "null"} {
		_, err := st.GetToken(ctx, n)
		check("token "+n, err)
	}

	mem := memory.New()
	mst := newStore(t, mem, storage.Options{})
	_ = mem.Set(ctx, "credentials/f", &vault.Secret{Fields: map[string]string{"type": "basic", "basic": `{"password":"` + canary}})
	_, err := mst.GetCredentials(ctx, "f")
	check("fields", err)
	_ = mem.Set(ctx, "credentials/empty", &vault.Secret{})
	_, err = mst.GetCredentials(ctx, "empty")
	check("empty secret", err)
}

// TestReadOnlyVault: omnivault's env provider without AllowWrite serves
// credentials from the environment and keeps tokens in memory; writing a
// credential is refused with vault.ErrReadOnly.
func TestReadOnlyVault(t *testing.T) {
	const cp, tp = "OMNITOKEN_STORAGE_TEST_CRED_", "OMNITOKEN_STORAGE_TEST_TOK_"
	t.Setenv(cp+"github", `{"service":"github","type":"basic","basic":{"username":"u","password":"p"}}`)
	ev := env.New()
	if ev.Capabilities().Write {
		t.Fatal("env provider reports Write")
	}
	st := newStore(t, ev, storage.Options{CredentialsPrefix: cp, TokensPrefix: tp})
	ctx := context.Background()

	c, err := st.GetCredentials(ctx, "github")
	if err != nil || c.Service != "github" {
		t.Fatalf("GetCredentials = %v, %v", c, err)
	}
	if names, err := st.ListCredentials(ctx); err != nil || !slices.Equal(names, []string{"github"}) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
	if err := st.SetCredentials(ctx, "other", c); !errors.Is(err, vault.ErrReadOnly) || !strings.Contains(err.Error(), `"other"`) {
		t.Fatalf("SetCredentials = %v", err)
	}
	if err := st.DeleteCredentials(ctx, "github"); !errors.Is(err, vault.ErrReadOnly) {
		t.Fatalf("DeleteCredentials = %v", err)
	}

	tok := &core.StoredToken{Token: core.Token{AccessToken: "at"}, Generation: 3}
	if err := st.SetToken(ctx, "github", tok); err != nil {
		t.Fatal(err)
	}
	if _, ok := os.LookupEnv(tp + "github"); ok {
		t.Fatal("token was written to the environment")
	}
	tok.AccessToken = "changed by the caller"
	got, err := st.GetToken(ctx, "github")
	if err != nil || got.AccessToken != "at" || got.Generation != 3 {
		t.Fatalf("GetToken = %v, %v", got, err)
	}
	if err := st.DeleteToken(ctx, "github"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetToken(ctx, "github"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Fatalf("GetToken after delete = %v", err)
	}
}

// TestWriteRefused: a vault that reports Write but refuses with
// ErrReadOnly switches tokens to memory after the first refusal.
func TestWriteRefused(t *testing.T) {
	v := &capsVault{Vault: memory.New(), caps: vault.Capabilities{Read: true, Write: true, List: true}, readOnly: true}
	st := newStore(t, v, storage.Options{})
	ctx := context.Background()
	for i := range 3 {
		if err := st.SetToken(ctx, "x", &core.StoredToken{Token: core.Token{AccessToken: "a"}, Generation: uint64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.sets.Load(); n != 1 {
		t.Fatalf("vault Set called %d times, want 1", n)
	}
	if got, err := st.GetToken(ctx, "x"); err != nil || got.Generation != 2 {
		t.Fatalf("GetToken = %v, %v", got, err)
	}
	if err := st.SetCredentials(ctx, "x", githubCreds(t)); !errors.Is(err, vault.ErrReadOnly) {
		t.Fatalf("SetCredentials = %v", err)
	}
}

// TestStoreWithManager runs the core Manager on a Store over a file vault
// with its FileLocker: the token persists, and a second Manager on the
// reopened vault uses it without calling the strategy.
func TestStoreWithManager(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	strat := &coretest.CountingStrategy{}
	run := func() string {
		fv, err := storage.NewFileVault(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer fv.Close()
		st := newStore(t, fv, storage.Options{})
		m, err := core.New(core.Options{Store: st, Locker: fv.Locker(), Strategies: []core.Strategy{strat}})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if _, err := st.GetCredentials(ctx, "svc/a"); errors.Is(err, core.ErrCredentialsNotFound) {
			if err := m.SetCredentials(ctx, "svc/a", coretest.Credentials("counting")); err != nil {
				t.Fatal(err)
			}
		}
		tok, err := m.Token(ctx, "svc/a")
		if err != nil {
			t.Fatal(err)
		}
		return tok.AccessToken
	}
	first, second := run(), run()
	if first != "access-1" || second != first || strat.Calls.Load() != 1 {
		t.Fatalf("tokens %q then %q after %d strategy calls", first, second, strat.Calls.Load())
	}
	if _, err := os.Stat(filepath.Join(dir, "tokens", "svc%2Fa.json")); err != nil {
		t.Fatal(err)
	}
}
