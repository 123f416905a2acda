package omnitoken_test

import (
	"context"
	"fmt"
	"log"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
)

// SetCredentials stores what is structurally sound, as v0.1.0 did;
// ValidateCredentials says what a credential still lacks before any
// token request.
func ExampleTokenManager_ValidateCredentials() {
	ctx := context.Background()
	tm, err := omnitoken.NewWithVault(memory.New())
	if err != nil {
		log.Fatal(err)
	}
	defer tm.Close()
	err = tm.SetCredentials(ctx, "acme", &goauth.Credentials{
		Service: "acme-internal", // not in goauth's endpoint table, and no Endpoint yet
		Type:    goauth.TypeOAuth2,
		OAuth2:  &goauth.CredentialsOAuth2{ClientID: "id", ClientSecret: "secret", GrantType: "client_credentials"},
	})
	fmt.Println("stored:", err == nil)
	fmt.Println(tm.ValidateCredentials(ctx, "acme"))
	// Output:
	// stored: true
	// omnitoken: credentials "acme": oauth2: invalid credentials: endpoint is empty and service "acme-internal" has no known endpoint
}
