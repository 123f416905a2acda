package omnitoken_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/grokify/goauth"
	"github.com/grokify/goauth/google"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
)

// TestSeedAPIEveryType: goauth credentials of each built-in type, stored
// through the seed API, give a token from GetToken and a working client
// from GetClient.
func TestSeedAPIEveryType(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	const hmacKey = "hs256-shared-secret-for-tests-only"

	var issued atomic.Int64
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		switch r.FormValue("grant_type") {
		case "client_credentials":
			if id, secret, _ := r.BasicAuth(); id != "id" || secret != "secret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
		case "urn:ietf:params:oauth:grant-type:jwt-bearer":
			// The service account's assertion must verify with its key.
			if _, err := jwt.Parse(r.FormValue("assertion"), func(*jwt.Token) (any, error) { return &key.PublicKey, nil }); err != nil {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
				return
			}
		default:
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		issued.Add(1)
		writeToken(w, "issued-"+r.FormValue("grant_type"), 3600)
	})

	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		authz := r.Header.Get("Authorization")
		ok := false
		switch {
		case strings.HasPrefix(authz, "Bearer issued-"):
			ok = true
		case strings.HasPrefix(authz, "Bearer ey"):
			_, err := jwt.Parse(strings.TrimPrefix(authz, "Bearer "), func(*jwt.Token) (any, error) { return []byte(hmacKey), nil })
			ok = err == nil
		case authz != "":
			u, p, _ := r.BasicAuth()
			ok = u == "u" && p == "p"
		default:
			ok = r.Header.Get("X-Api-Key") == "k" || r.URL.Query().Get("key") == "q"
		}
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	defer api.Close()

	sa := google.Credentials{Type: "service_account", ClientEmail: "sa@example.iam.gserviceaccount.com", ClientID: "1",
		PrivateKey: keyPEM, PrivateKeyID: "kid1", ProjectID: "p", TokenURI: idp.URL + "/token"}
	creds := map[string]*goauth.Credentials{
		"basic":       basicCreds("u", "p"),
		"headerquery": {Type: goauth.TypeHeaderQuery, HeaderQuery: &goauth.CredentialsHeaderQuery{Header: http.Header{"X-Api-Key": {"k"}}}},
		"query":       {Type: goauth.TypeHeaderQuery, HeaderQuery: &goauth.CredentialsHeaderQuery{Query: map[string][]string{"key": {"q"}}}},
		"oauth2":      ccCreds(idp.URL),
		"jwt":         {Type: goauth.TypeJWT, JWT: &goauth.CredentialsJWT{Issuer: "me", PrivateKey: hmacKey, SigningMethod: "HS256"}},
		"gcpsa":       {Type: goauth.TypeGCPSA, GCPSA: &goauth.CredentialsGCP{GCPCredentials: sa, Scopes: []string{"https://www.googleapis.com/auth/cloud-platform"}}},
	}
	tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	for name, c := range creds {
		t.Run(name, func(t *testing.T) {
			if err := tm.SetCredentials(ctx, name, c); err != nil {
				t.Fatal(err)
			}
			tok, err := tm.GetToken(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			if tok == nil || (tok.AccessToken == "" && name != "headerquery" && name != "query") {
				t.Fatalf("token = %v", tok != nil)
			}
			client, err := tm.GetClient(ctx, name)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := client.Get(api.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("API answered %d", resp.StatusCode)
			}
		})
	}
	if n := issued.Load(); n != 2 {
		t.Fatalf("token endpoint issued %d tokens, want 2 (oauth2 and gcpsa, once each)", n)
	}

	// LoadGoogleServiceAccount stores a service-account file as gcpsa.
	b, _ := json.Marshal(sa)
	file := filepath.Join(t.TempDir(), "sa.json")
	if err := os.WriteFile(file, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := tm.LoadGoogleServiceAccount(ctx, "sa-file", file, []string{"s"}); err != nil {
		t.Fatal(err)
	}
	got, err := tm.GetCredentials(ctx, "sa-file")
	if err != nil || got.Type != goauth.TypeGCPSA || got.GCPSA.GCPCredentials.ClientEmail != sa.ClientEmail {
		t.Fatalf("stored service account = %+v, %v", got, err)
	}
	if _, err := tm.GetToken(ctx, "sa-file"); err != nil {
		t.Fatal(err)
	}
}
