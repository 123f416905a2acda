package omnitoken_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"

	"github.com/grokify/goauth"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
)

// An API that greets Basic-authenticated callers.
func greeter() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, _, ok := r.BasicAuth(); ok {
			fmt.Fprintf(w, "hello, %s", u)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
	}))
}

func Example() {
	api := greeter()
	defer api.Close()
	ctx := context.Background()

	mgr, err := omnitoken.New(omnitoken.Config{Vault: memory.New()})
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()

	err = mgr.SetCredentials(ctx, "jira", &goauth.Credentials{
		Service: "jira",
		Type:    goauth.TypeBasic,
		Basic:   &goauth.CredentialsBasicAuth{Username: "alice", Password: "wonderland"},
	})
	if err != nil {
		log.Fatal(err)
	}
	client, err := mgr.GetClient(ctx, "jira")
	if err != nil {
		log.Fatal(err)
	}
	resp, err := client.Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, string(body))
	// Output: 200 hello, alice
}

func ExampleNewFromEnv() {
	os.Setenv("EXAMPLE_JIRA_BOT_CREDENTIALS", `{"type":"basic","basic":{"username":"bot","password":"s3cret"}}`)
	defer os.Unsetenv("EXAMPLE_JIRA_BOT_CREDENTIALS")

	mgr, err := omnitoken.NewFromEnv("EXAMPLE_")
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()
	names, _ := mgr.ListCredentials(context.Background())
	tok, err := mgr.GetToken(context.Background(), "jira-bot")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(names, tok.Type())
	// Output: [jira-bot] Basic
}

func ExampleNewFromDirectory() {
	dir, _ := os.MkdirTemp("", "omnitoken-example-")
	defer os.RemoveAll(dir)
	ctx := context.Background()

	mgr, err := omnitoken.NewFromDirectory(dir)
	if err != nil {
		log.Fatal(err)
	}
	_ = mgr.SetCredentials(ctx, "weather", &goauth.Credentials{
		Type:        goauth.TypeHeaderQuery,
		HeaderQuery: &goauth.CredentialsHeaderQuery{Header: http.Header{"X-Api-Key": {"k-123"}}},
	})
	_ = mgr.Close()

	// A new process reopens the same directory.
	mgr, err = omnitoken.NewFromDirectory(dir)
	if err != nil {
		log.Fatal(err)
	}
	defer mgr.Close()
	names, _ := mgr.ListCredentials(ctx)
	fmt.Println(names)
	// Output: [weather]
}
