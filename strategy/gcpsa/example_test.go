package gcpsa_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"

	gojwt "github.com/golang-jwt/jwt/v5"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/gcpsa"
)

// A service account key file is stored as a credential; the Manager gets
// its tokens from the account's token_uri, here a local stand-in for
// Google's endpoint that checks the signed assertion.
func ExampleCredentialsFromJSON() {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	der, _ := x509.MarshalPKCS8PrivateKey(key)

	google := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := gojwt.Parse(r.FormValue("assertion"),
			func(*gojwt.Token) (any, error) { return &key.PublicKey, nil },
			gojwt.WithValidMethods([]string{"RS256"}),
			gojwt.WithIssuer("reporter@my-project.iam.gserviceaccount.com"),
			gojwt.WithAudience("http://"+r.Host+"/token"))
		if err != nil {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"ya29.example","token_type":"Bearer","expires_in":3600}`)
	}))
	defer google.Close()

	// What the Google Cloud console downloads, with token_uri pointed at the stand-in.
	keyFile, _ := json.Marshal(map[string]string{
		"type":           "service_account",
		"project_id":     "my-project",
		"private_key_id": "k1",
		"private_key":    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email":   "reporter@my-project.iam.gserviceaccount.com",
		"token_uri":      google.URL + "/token",
	})
	c, err := gcpsa.CredentialsFromJSON(keyFile, []string{"https://www.googleapis.com/auth/bigquery.readonly"})
	if err != nil {
		panic(err)
	}

	m, _ := core.New(core.Options{
		Store: core.NewMemoryStore(),
		// The stand-in is plain http on 127.0.0.1: a loopback host needs
		// no option.
		Strategies: []core.Strategy{gcpsa.New(gcpsa.Options{HTTPClient: google.Client()})},
	})
	defer m.Close()

	ctx := context.Background()
	if err := m.SetCredentials(ctx, "bigquery", c); err != nil {
		panic(err)
	}
	tok, err := m.Token(ctx, "bigquery")
	if err != nil {
		panic(err)
	}
	fmt.Println(tok.AuthorizationHeader())
	// Output:
	// Bearer ya29.example
}
