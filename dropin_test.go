package omnitoken_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/grokify/goauth/google"
	"github.com/grokify/goauth/multiservice/tokens"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/providers/file"
	"github.com/plexusone/omnivault/providers/memory"
	"github.com/plexusone/omnivault/vault"
	"golang.org/x/oauth2"
)

// Config is comparable, as it was in v0.1.0: this line compiles.
var _ = omnitoken.Config{} == omnitoken.DefaultConfig()

// TestSeedTypesComparable: every struct type of the seed API is
// comparable, so no comparison that compiled against v0.1.0 stops
// compiling.
func TestSeedTypesComparable(t *testing.T) {
	for _, v := range []any{omnitoken.Config{}, omnitoken.TokenManager{}, omnitoken.CredentialsStore{}, omnitoken.VaultTokenSet{}} {
		if typ := reflect.TypeOf(v); !typ.Comparable() {
			t.Errorf("%s is not comparable", typ)
		}
	}
	if omnitoken.DefaultConfig() != omnitoken.DefaultConfig() {
		t.Fatal("two DefaultConfigs differ")
	}
	cfg := omnitoken.DefaultConfig()
	cfg.Extensions = &omnitoken.Extensions{OnEvent: func(core.Event) {}}
	if cfg == omnitoken.DefaultConfig() {
		t.Fatal("a Config with Extensions equals one without")
	}
}

// v01Dir writes a directory as omnitoken v0.1.0 did: through omnivault's
// file provider in JSON mode with the extension ".json", each credential
// and token in omnivault's Secret wrapper, named as given with '/' → '_'.
type v01Dir struct {
	t  *testing.T
	fp *file.Provider
}

func newV01Dir(t *testing.T, dir string) *v01Dir {
	t.Helper()
	fp, err := file.New(file.Config{Directory: dir, Extension: ".json", JSONFormat: true})
	if err != nil {
		t.Fatal(err)
	}
	return &v01Dir{t: t, fp: fp}
}

func v01Path(prefix, name string) string { return prefix + strings.ReplaceAll(name, "/", "_") }

func (d *v01Dir) setCredentials(name string, c *goauth.Credentials) {
	d.t.Helper()
	b, err := json.Marshal(c)
	if err != nil {
		d.t.Fatal(err)
	}
	fields := map[string]string{"service": c.Service, "type": c.Type}
	if c.OAuth2 != nil {
		fields["client_id"] = c.OAuth2.ClientID
	}
	sec := &vault.Secret{Value: string(b), Fields: fields, Metadata: vault.Metadata{
		ModifiedAt: vault.Now(), Tags: map[string]string{"type": "goauth_credentials", "service": c.Service}}}
	if err := d.fp.Set(ctx, v01Path("credentials/", name), sec); err != nil {
		d.t.Fatal(err)
	}
}

func (d *v01Dir) setToken(name, service string, tok *oauth2.Token) {
	d.t.Helper()
	b, err := json.Marshal(&tokens.TokenInfo{ServiceKey: name, ServiceType: service, Token: tok})
	if err != nil {
		d.t.Fatal(err)
	}
	sec := &vault.Secret{Value: string(b), Metadata: vault.Metadata{ModifiedAt: vault.Now(), Tags: map[string]string{"type": "oauth2_token"}}}
	if err := d.fp.Set(ctx, v01Path("tokens/", name), sec); err != nil {
		d.t.Fatal(err)
	}
}

// credentials and token read a credential and its token as v0.1.0 does:
// omnivault's file provider unwraps the Secret, and the value is decoded
// as goauth Credentials or TokenInfo.
func (d *v01Dir) credentials(name string) *goauth.Credentials {
	d.t.Helper()
	sec, err := d.fp.Get(ctx, v01Path("credentials/", name))
	if err != nil {
		d.t.Fatal(err)
	}
	var c goauth.Credentials
	if err := json.Unmarshal([]byte(sec.Value), &c); err != nil {
		d.t.Fatalf("v0.1.0 cannot decode credentials %q: %v", name, err)
	}
	return &c
}

func (d *v01Dir) token(name string) *oauth2.Token {
	d.t.Helper()
	sec, err := d.fp.Get(ctx, v01Path("tokens/", name))
	if err != nil {
		d.t.Fatal(err)
	}
	ti, err := tokens.ParseTokenInfo([]byte(sec.Value))
	if err != nil || ti.Token == nil {
		d.t.Fatalf("v0.1.0 cannot decode token %q: %v", name, err)
	}
	return ti.Token
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestV01DirectoryDropIn: a directory written by v0.1.0, with every
// credential type, is listed and read by NewFromDirectory; valid stored
// tokens are reused without a request to the IdP; an expired OAuth 2.0
// token is refreshed with the stored refresh token, and an expired
// service-account token minted anew, each counted at a loopback IdP; and
// what this module then writes, v0.1.0 reads.
func TestV01DirectoryDropIn(t *testing.T) {
	var mu sync.Mutex
	grants := map[string][]string{} // grant_type → refresh tokens (or assertions) sent
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		g := r.FormValue("grant_type")
		mu.Lock()
		grants[g] = append(grants[g], r.FormValue("refresh_token"))
		mu.Unlock()
		switch g {
		case "refresh_token":
			if r.FormValue("refresh_token") != "rt-old" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600, "refresh_token": "rt-new"})
		default:
			writeToken(w, "minted-"+g, 3600)
		}
	})
	requests := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, v := range grants {
			n += len(v)
		}
		return n
	}
	key := testRSAKeyPEM(t)
	sa := google.Credentials{Type: "service_account", ClientEmail: "sa@example.iam.gserviceaccount.com", ClientID: "1",
		PrivateKey: key, PrivateKeyID: "kid1", ProjectID: "p", TokenURI: idp.URL + "/token"}
	gcp := &goauth.Credentials{Type: goauth.TypeGCPSA, GCPSA: &goauth.CredentialsGCP{GCPCredentials: sa, Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}}}
	creds := map[string]*goauth.Credentials{
		"GitHub Bot": {Service: "acme", Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
			ClientID: "id", ClientSecret: "secret", GrantType: "authorization_code", RedirectURL: "http://127.0.0.1:8085/callback",
			Endpoint: oauth2.Endpoint{AuthURL: idp.URL + "/authorize", TokenURL: idp.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader}}},
		"svc":         ccCreds(idp.URL),
		"team/slides": basicCreds("u", "p"),
		"apikey":      {Type: goauth.TypeHeaderQuery, HeaderQuery: &goauth.CredentialsHeaderQuery{Header: http.Header{"X-Api-Key": {"k"}}}},
		"signer":      {Type: goauth.TypeJWT, JWT: &goauth.CredentialsJWT{Issuer: "me", PrivateKey: "hs256-shared-secret-for-tests-only", SigningMethod: "HS256"}},
		"gcp":         gcp,
		"gcp-expired": gcp,
	}
	hour := time.Now().Add(time.Hour).Truncate(time.Second)
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	toks := map[string]*oauth2.Token{
		"GitHub Bot":  {AccessToken: "at-old", TokenType: "Bearer", RefreshToken: "rt-old", Expiry: past},
		"svc":         {AccessToken: "at-svc", TokenType: "Bearer", Expiry: hour},
		"signer":      {AccessToken: "jwt-stored", TokenType: "Bearer", Expiry: hour},
		"gcp":         {AccessToken: "gcp-stored", TokenType: "Bearer", Expiry: hour},
		"gcp-expired": {AccessToken: "gcp-old", TokenType: "Bearer", Expiry: past},
	}
	dir := t.TempDir()
	old := newV01Dir(t, dir)
	for n, c := range creds {
		old.setCredentials(n, c)
	}
	for n, tok := range toks {
		old.setToken(n, creds[n].Service, tok)
	}

	// Through NewFromDirectory: listed, read, stored tokens reused.
	tm, err := omnitoken.NewFromDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	names, err := tm.ListCredentials(ctx)
	want := []string{"GitHub Bot", "apikey", "gcp", "gcp-expired", "signer", "svc", "team_slides"}
	if err != nil || !slices.Equal(names, want) {
		t.Fatalf("ListCredentials = %q, %v; want %q", names, err, want)
	}
	for _, n := range names {
		orig := creds[n]
		if n == "team_slides" {
			orig = creds["team/slides"]
		}
		got, err := tm.GetCredentials(ctx, n)
		if err != nil {
			t.Fatalf("GetCredentials(%q): %v", n, err)
		}
		if jsonOf(t, got) != jsonOf(t, orig) {
			t.Errorf("GetCredentials(%q) = %s, want %s", n, jsonOf(t, got), jsonOf(t, orig))
		}
	}
	for n, want := range map[string]string{"svc": "at-svc", "signer": "jwt-stored", "gcp": "gcp-stored"} {
		tok, err := tm.GetToken(ctx, n)
		if err != nil || tok.AccessToken != want {
			t.Fatalf("GetToken(%q) = %v, %v; want the stored %q", n, tok, err, want)
		}
	}
	for _, n := range []string{"team_slides", "apikey"} {
		if _, err := tm.GetToken(ctx, n); err != nil {
			t.Fatalf("GetToken(%q): %v", n, err)
		}
	}
	if n := requests(); n != 0 {
		t.Fatalf("the IdP got %d requests while every token used was valid", n)
	}
	// The lossy name is reachable under the name listed, and the original
	// name is refused with a pointer to it.
	if _, err := tm.GetToken(ctx, "team/slides"); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), "team_slides") {
		t.Fatalf(`GetToken("team/slides") = %v, want an error naming team_slides`, err)
	}
	if err := tm.Close(); err != nil {
		t.Fatal(err)
	}

	// The same directory, as NewFromDirectory opens it, with a client
	// that trusts the loopback IdP's certificate.
	dv, err := storage.OpenDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := dv.(*storage.V01FileVault); !ok {
		t.Fatalf("OpenDirectory opened a v0.1.0 directory as %T", dv)
	}
	defer dv.Close()
	tm, err = omnitoken.New(omnitoken.Config{Vault: dv, HTTPClient: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	// With an IdP the client can reach, valid stored tokens are still
	// used as they are.
	for n, want := range map[string]string{"svc": "at-svc", "signer": "jwt-stored", "gcp": "gcp-stored"} {
		if tok, err := tm.GetToken(ctx, n); err != nil || tok.AccessToken != want {
			t.Fatalf("GetToken(%q) = %v, %v; want the stored %q", n, tok, err, want)
		}
	}
	if n := requests(); n != 0 {
		t.Fatalf("the IdP got %d requests for valid stored tokens", n)
	}
	tok, err := tm.GetToken(ctx, "GitHub Bot")
	if err != nil || tok.AccessToken != "at-new" {
		t.Fatalf("GetToken(GitHub Bot) = %v, %v", tok, err)
	}
	tok, err = tm.GetToken(ctx, "gcp-expired")
	if err != nil || !strings.HasPrefix(tok.AccessToken, "minted-") {
		t.Fatalf("GetToken(gcp-expired) = %v, %v", tok, err)
	}
	mu.Lock()
	if got := grants["refresh_token"]; !slices.Equal(got, []string{"rt-old"}) {
		t.Errorf("refresh requests sent refresh tokens %q, want the stored one once", got)
	}
	if got := len(grants["urn:ietf:params:oauth:grant-type:jwt-bearer"]); got != 1 {
		t.Errorf("service-account token requests = %d, want 1", got)
	}
	if len(grants) != 2 {
		t.Errorf("grants requested: %v", grants)
	}
	mu.Unlock()

	// v0.1.0 reads what this module wrote: the rotated pair, and a new
	// credential.
	got := old.token("GitHub Bot")
	if got.AccessToken != "at-new" || got.RefreshToken != "rt-new" || !got.Expiry.After(time.Now()) {
		t.Fatalf("v0.1.0 reads the refreshed token as %q/%q expiring %v", got.AccessToken, got.RefreshToken, got.Expiry)
	}
	fresh := &goauth.Credentials{Service: "acme", Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{ClientID: "new-id", ClientSecret: "s", GrantType: "client_credentials"}}
	if err := tm.SetCredentials(ctx, "New One", fresh); err != nil {
		t.Fatal(err)
	}
	if c := old.credentials("New One"); jsonOf(t, c) != jsonOf(t, fresh) {
		t.Fatalf("v0.1.0 reads the new credential as %s", jsonOf(t, c))
	}
	raw, err := os.ReadFile(filepath.Join(dir, "credentials", "New One.json"))
	if err != nil {
		t.Fatal(err)
	}
	var wrapper struct {
		Value    string            `json:"value"`
		Fields   map[string]string `json:"fields"`
		Metadata struct {
			ModifiedAt string            `json:"modifiedAt"`
			Tags       map[string]string `json:"tags"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &wrapper); err != nil || wrapper.Metadata.Tags["type"] != "goauth_credentials" ||
		wrapper.Fields["client_id"] != "new-id" || wrapper.Fields["type"] != "oauth2" || wrapper.Metadata.ModifiedAt == "" {
		t.Fatalf("the file is not v0.1.0's wrapper: %+v (%v)", wrapper, err)
	}
	if strings.Contains(jsonOf(t, wrapper.Fields), `"s"`) {
		t.Fatal("a secret went into the wrapper's fields")
	}
	// Writes are durable and private: 0600, and no temp file left.
	for _, sub := range []string{"credentials", "tokens"} {
		entries, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range entries {
			fi, _ := e.Info()
			if strings.HasPrefix(e.Name(), ".") || fi.Mode().Perm() != 0o600 {
				t.Errorf("%s/%s: mode %v", sub, e.Name(), fi.Mode())
			}
		}
	}
}

// TestV01UninterpretableFiles: a file that cannot be read as a credential
// or a token is an error naming the file and what is wrong; never empty
// credentials with a nil error.
func TestV01UninterpretableFiles(t *testing.T) {
	dir := t.TempDir()
	newV01Dir(t, dir).setCredentials("ok", basicCreds("u", "p"))
	write := func(rel, content string) {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, rel)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, rel), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cases := map[string]struct{ content, says string }{
		"empty":      {"", "empty"},
		"text":       {"hello", "not a JSON object"},
		"truncated":  {`{"value": "{\"type\"`, "not valid JSON"},
		"notgoauth":  {`{"value": "not json", "metadata": {}}`, "not goauth credentials"},
		"notype":     {`{"value": "{\"basic\":{}}", "metadata": {}}`, `no "type"`},
		"emptyvalue": {`{"value": "", "metadata": {"tags": {"type": "goauth_credentials"}}}`, "empty value"},
		"valuetype":  {`{"value": 42}`, "does not decode"},
	}
	for name, c := range cases {
		write(filepath.Join("credentials", name+".json"), c.content)
	}
	write(filepath.Join("tokens", "ok.json"), `{"value": "{\"serviceKey\":\"ok\"}", "metadata": {}}`)

	tm, err := omnitoken.NewFromDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for name, c := range cases {
		got, err := tm.GetCredentials(ctx, name)
		file := "credentials/" + name + ".json"
		if err == nil || !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), file) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("GetCredentials(%q) = %v, %v; want an error naming %s and saying %q", name, got, err, file, c.says)
		}
	}
	// A token file that holds no token is an error from the Store; the
	// engine logs it and obtains a new token, which replaces the file.
	dv, err := storage.OpenDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer dv.Close()
	st, err := storage.New(dv, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := st.GetToken(ctx, "ok"); err == nil || !errors.Is(err, omnitoken.ErrInvalidCredentials) ||
		!strings.Contains(err.Error(), "tokens/ok.json") || !strings.Contains(err.Error(), "holds no token") {
		t.Fatalf("GetToken over a token file holding no token = %v, %v", tok, err)
	}
}

// TestSetCredentialsStoresWhatV01Stored: credentials v0.1.0 stored (an
// OAuth 2.0 credential of a service with no known endpoint, an empty
// Basic section) are stored; GetToken, ValidateCredentials and Validate
// name what is missing.
func TestSetCredentialsStoresWhatV01Stored(t *testing.T) {
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) { writeToken(w, "cc", 3600) })
	tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	noEndpoint := &goauth.Credentials{Service: "acme-internal", Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "id", ClientSecret: "secret", GrantType: "client_credentials"}}
	cases := map[string]struct {
		c    *goauth.Credentials
		says string
	}{
		"acme":        {noEndpoint, "endpoint"},
		"empty-basic": {&goauth.Credentials{Type: goauth.TypeBasic, Basic: &goauth.CredentialsBasicAuth{}}, "username"},
		"no-tokenurl": {&goauth.Credentials{Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{ClientID: "id", ClientSecret: "s", GrantType: "client_credentials"}}, "endpoint.TokenURL"},
	}
	for name, c := range cases {
		if err := tm.Validate(c.c); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Validate(%s) = %v, want it to name %q", name, err, c.says)
		}
		if err := tm.SetCredentials(ctx, name, c.c); err != nil {
			t.Fatalf("SetCredentials(%s) = %v, want it stored", name, err)
		}
		if err := tm.ValidateCredentials(ctx, name); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("ValidateCredentials(%s) = %v, want it to name %q", name, err, c.says)
		}
		if _, err := tm.GetToken(ctx, name); !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("GetToken(%s) = %v, want it to name %q", name, err, c.says)
		}
	}
	// Once the endpoint is known, the same credential validates and works.
	fixed := *noEndpoint
	o := *noEndpoint.OAuth2
	o.Endpoint = oauth2.Endpoint{TokenURL: idp.URL + "/oauth/token"}
	fixed.OAuth2 = &o
	if err := tm.SetCredentials(ctx, "acme", &fixed); err != nil {
		t.Fatal(err)
	}
	if err := tm.ValidateCredentials(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if tok, err := tm.GetToken(ctx, "acme"); err != nil || tok.AccessToken != "cc" {
		t.Fatalf("GetToken after the fix = %v, %v", tok, err)
	}
	if err := tm.ValidateCredentials(ctx, "missing"); !errors.Is(err, omnitoken.ErrCredentialsNotFound) {
		t.Fatalf("ValidateCredentials(missing) = %v", err)
	}
	g := &goauth.Credentials{Type: goauth.TypeGoogleOAuth2, GoogleOAuth2: &goauth.CredentialsGoogleOAuth2{Scopes: []string{"s"}}}
	if err := tm.Validate(g); !errors.Is(err, omnitoken.ErrUnsupportedCredentialType) {
		t.Fatalf("Validate(googleoauth2) = %v", err)
	}
}

// TestNewFromCredentialsFileOneCredential: a file of one credential is
// loaded under the file's name; a file that is neither a set nor a
// credential is an error saying so.
func TestNewFromCredentialsFileOneCredential(t *testing.T) {
	dir := t.TempDir()
	one := filepath.Join(dir, "github-bot.json")
	c := basicCreds("u", "p")
	if err := os.WriteFile(one, []byte(jsonOf(t, c)), 0o600); err != nil {
		t.Fatal(err)
	}
	tm, err := omnitoken.NewFromCredentialsFile(one)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if names, _ := tm.ListCredentials(ctx); !slices.Equal(names, []string{"github-bot"}) {
		t.Fatalf("names = %q", names)
	}
	if got, err := tm.GetCredentials(ctx, "github-bot"); err != nil || jsonOf(t, got) != jsonOf(t, c) {
		t.Fatalf("GetCredentials = %v, %v", got, err)
	}
	if err := tm.LoadGoauthCredentials(ctx, "again", one, "github-bot"); err != nil {
		t.Fatal(err)
	}

	neither := filepath.Join(dir, "other.json")
	if err := os.WriteFile(neither, []byte(`{"accounts": {"x": {"type": "basic"}}, "secret": "canary-secret"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = omnitoken.NewFromCredentialsFile(neither)
	if !errors.Is(err, omnitoken.ErrInvalidCredentials) || !strings.Contains(err.Error(), "not a goauth credentials set") || strings.Contains(err.Error(), "canary") {
		t.Fatalf("NewFromCredentialsFile(neither) = %v", err)
	}
	// An OAuth 2.0 credential of a service goauth does not know loads.
	set := filepath.Join(dir, "set.json")
	body := `{"credentials": {"acme": {"service": "acme-internal", "type": "oauth2", "oauth2": {"clientID": "id", "clientSecret": "s", "grantType": "client_credentials"}}}}`
	if err := os.WriteFile(set, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	tm2, err := omnitoken.NewFromCredentialsFile(set)
	if err != nil {
		t.Fatal(err)
	}
	defer tm2.Close()
	if err := tm2.ValidateCredentials(ctx, "acme"); !errors.Is(err, omnitoken.ErrInvalidCredentials) {
		t.Fatalf("ValidateCredentials = %v", err)
	}
}

func testRSAKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

// TestReadmeFirstExample: the README's first example, a Microsoft Entra ID
// client credentials grant, follows that provider's rules: the client
// secret in the form body (not Basic), the ".default" scope, and the
// grant_type; only the token URL's host is the loopback test server's.
func TestReadmeFirstExample(t *testing.T) {
	var calls atomic.Int64
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		_ = r.ParseForm()
		_, _, basic := r.BasicAuth()
		if r.URL.Path != "/<tenant>/oauth2/v2.0/token" || basic || r.PostForm.Get("grant_type") != "client_credentials" ||
			r.PostForm.Get("client_id") != "app-id" || r.PostForm.Get("client_secret") != "app-secret" ||
			r.PostForm.Get("scope") != "https://graph.microsoft.com/.default" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_request"}`))
			return
		}
		writeToken(w, "graph-token", 3599)
	})
	tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	err = tm.SetCredentials(ctx, "graph", &goauth.Credentials{
		Type: goauth.TypeOAuth2,
		OAuth2: &goauth.CredentialsOAuth2{
			ClientID:     "app-id",
			ClientSecret: "app-secret",
			GrantType:    "client_credentials",
			Scopes:       []string{"https://graph.microsoft.com/.default"},
			Endpoint: oauth2.Endpoint{
				TokenURL:  idp.URL + "/<tenant>/oauth2/v2.0/token",
				AuthStyle: oauth2.AuthStyleInParams,
			},
		},
	})
	if err == nil {
		err = tm.ValidateCredentials(ctx, "graph")
	}
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tm.GetToken(ctx, "graph")
	if err != nil || tok.AccessToken != "graph-token" || calls.Load() != 1 {
		t.Fatalf("GetToken = %v, %v after %d requests", tok, err, calls.Load())
	}
}

// TestV01NamesOverOwnVault: a v0.1.0 user who passed a vault of their own
// (here omnivault's file provider in JSON mode) keeps their names through
// storage.V01Names, reading and writing.
func TestV01NamesOverOwnVault(t *testing.T) {
	dir := t.TempDir()
	old := newV01Dir(t, dir)
	bot := basicCreds("u", "p")
	old.setCredentials("GitHub Bot", bot)
	tm, err := omnitoken.New(omnitoken.Config{Vault: storage.V01Names(old.fp)})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	if names, err := tm.ListCredentials(ctx); err != nil || !slices.Equal(names, []string{"GitHub Bot"}) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
	if got, err := tm.GetCredentials(ctx, "GitHub Bot"); err != nil || jsonOf(t, got) != jsonOf(t, bot) {
		t.Fatalf("GetCredentials = %v, %v", got, err)
	}
	other := basicCreds("x", "y")
	if err := tm.SetCredentials(ctx, "Jira Cloud", other); err != nil {
		t.Fatal(err)
	}
	if got := old.credentials("Jira Cloud"); jsonOf(t, got) != jsonOf(t, other) {
		t.Fatalf("v0.1.0 reads %s", jsonOf(t, got))
	}
}

// TestV01RotationByV01Process: during a rolling upgrade a v0.1.0 process
// refreshes the token this module stored, and the IdP rotates the refresh
// token. When this module's cached token expires it takes v0.1.0's
// token, valid and newer, instead of sending the refresh token the IdP
// has already consumed; its own next refresh uses v0.1.0's refresh
// token, and v0.1.0 reads the result.
func TestV01RotationByV01Process(t *testing.T) {
	var mu sync.Mutex
	valid, issued := "rt-0", 0
	var sent []string
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		mu.Lock()
		defer mu.Unlock()
		rt := r.FormValue("refresh_token")
		sent = append(sent, rt)
		w.Header().Set("Content-Type", "application/json")
		if rt != valid {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		issued++
		valid = fmt.Sprintf("rt-%d", issued)
		_ = json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("at-%d", issued), "token_type": "Bearer", "expires_in": 3600, "refresh_token": valid})
	})
	// rotate stands for the v0.1.0 process: it refreshes with the stored
	// refresh token (the IdP consumes it) and writes its TokenInfo.
	dir := t.TempDir()
	old := newV01Dir(t, dir)
	clock := coretest.NewFakeClock(time.Now())
	rotate := func(access string) {
		t.Helper()
		mu.Lock()
		if got := old.token("bot").RefreshToken; got != valid {
			mu.Unlock()
			t.Fatalf("v0.1.0 reads refresh token %q, the IdP expects %q", got, valid)
		}
		valid = "rt-" + access
		mu.Unlock()
		old.setToken("bot", "acme", &oauth2.Token{AccessToken: access, RefreshToken: "rt-" + access, TokenType: "Bearer", Expiry: clock.Now().Add(3 * time.Hour)})
	}
	old.setCredentials("bot", &goauth.Credentials{Service: "acme", Type: goauth.TypeOAuth2, OAuth2: &goauth.CredentialsOAuth2{
		ClientID: "id", ClientSecret: "secret", GrantType: "authorization_code", RedirectURL: "http://127.0.0.1:8085/callback",
		Endpoint: oauth2.Endpoint{AuthURL: idp.URL + "/authorize", TokenURL: idp.URL + "/token", AuthStyle: oauth2.AuthStyleInHeader}}})
	old.setToken("bot", "acme", &oauth2.Token{AccessToken: "at-0", RefreshToken: "rt-0", TokenType: "Bearer", Expiry: clock.Now().Add(-time.Hour)})

	dv, err := storage.OpenDirectory(dir)
	if err != nil {
		t.Fatal(err)
	}
	tm, err := omnitoken.New(omnitoken.Config{Vault: dv, HTTPClient: idp.Client(), Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	get := func(want string) {
		t.Helper()
		tok, err := tm.GetToken(ctx, "bot")
		if err != nil || tok.AccessToken != want {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("GetToken = %v, %v; want %q (refresh tokens sent: %q)", tok, err, want, sent)
		}
	}
	get("at-1") // refreshed with the stored rt-0
	rotate("v01-a")
	clock.Advance(90 * time.Minute) // at-1 has expired, v0.1.0's token has not
	get("v01-a")
	clock.Advance(2 * time.Hour) // v0.1.0's token has expired too
	get("at-2")
	rotate("v01-b") // v0.1.0 reads this module's rotation, and rotates again
	clock.Advance(90 * time.Minute)
	get("v01-b")
	mu.Lock()
	defer mu.Unlock()
	if want := []string{"rt-0", "rt-v01-a"}; !slices.Equal(sent, want) {
		t.Fatalf("refresh tokens sent %q, want %q", sent, want)
	}
}
