package basic_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/basic"
)

// A Manager stores a Basic credential and hands out a client that
// authorizes every request with it.
func Example() {
	// An API that reports what it received.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		fmt.Fprintf(w, "user: %s\nauthorized: %t\n", user, ok && pass == "s3cret")
	}))
	defer api.Close()

	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{basic.New()},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	ctx := context.Background()
	if err := m.SetCredentials(ctx, "jira", basic.Credentials("alice", "s3cret")); err != nil {
		panic(err)
	}

	resp, err := m.Client("jira", api.Client().Transport).Get(api.URL)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))

	tok, _ := m.Token(ctx, "jira")
	fmt.Println(tok) // tokens never print their secret
	// Output:
	// user: alice
	// authorized: true
	// Token{type=Basic access=[REDACTED]}
}

// A credential stored in goauth's JSON with a pre-encoded value.
func ExampleStrategy_Token() {
	c, err := core.ParseCredentials([]byte(`{"service":"jira","type":"basic","basic":{"encoded":"Basic YWxpY2U6czNjcmV0"}}`))
	if err != nil {
		panic(err)
	}
	tok, err := basic.New().Token(context.Background(), c, nil)
	if err != nil {
		panic(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://jira.example.com/rest/api/2/myself", nil)
	tok.SetAuth(r)
	user, _, ok := r.BasicAuth()
	fmt.Println(user, ok)
	// Output: alice true
}
