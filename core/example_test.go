package core_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"golang.org/x/oauth2"
)

// staticKey is a tiny strategy: a credential type "statickey" whose
// section holds an API key sent as a bearer token.
type staticKey struct{}

func (staticKey) Type() string { return "statickey" }

func (staticKey) Token(_ context.Context, c *core.Credentials, _ *core.Token) (*core.Token, error) {
	var sec struct {
		Key string `json:"key"`
	}
	if err := c.DecodeSection(&sec); err != nil {
		return nil, err
	}
	return &core.Token{AccessToken: sec.Key}, nil // an API key does not expire
}

// A Manager built from explicit strategies and a store, with no global
// state: it caches, refreshes and persists the strategy's tokens.
func ExampleManager() {
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{staticKey{}}})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()

	c, _ := core.ParseCredentials([]byte(`{"service":"demo","type":"statickey","statickey":{"key":"k-123"}}`))
	if err := m.SetCredentials(ctx, "demo", c); err != nil {
		log.Fatal(err)
	}
	a, _ := m.Token(ctx, "demo")
	b, _ := m.Token(ctx, "demo") // the cached token: same pointer, no strategy call
	fmt.Println(a.AuthorizationHeader(), a == b)
	fmt.Printf("%+v\n", a.Clone()) // tokens redact themselves
	// Output:
	// Bearer k-123 true
	// Token{type=Bearer access=[REDACTED]}
}

// Every request of a Manager's client carries the current token.
func ExampleManager_Client() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.Header.Get("Authorization"))
	}))
	defer api.Close()
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{staticKey{}}})
	defer m.Close()
	c, _ := core.ParseCredentials([]byte(`{"type":"statickey","statickey":{"key":"k-123"}}`))
	_ = m.SetCredentials(context.Background(), "demo", c)

	resp, err := m.Client("demo", nil).Get(api.URL)
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(string(body))
	// Output: Bearer k-123
}

// TokenSource bridges to code written against x/oauth2.
func ExampleManager_TokenSource() {
	m, _ := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{staticKey{}}})
	defer m.Close()
	c, _ := core.ParseCredentials([]byte(`{"type":"statickey","statickey":{"key":"k-123"}}`))
	_ = m.SetCredentials(context.Background(), "demo", c)

	var ts oauth2.TokenSource = m.TokenSource("demo")
	tok, err := ts.Token()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.Type(), tok.Valid())
	// Output: Bearer true
}

func ExampleRegistry() {
	r := core.NewRegistry(staticKey{}, &coretest.CountingStrategy{})
	fmt.Println(r.Types())
	_, err := r.Lookup("githubapp")
	fmt.Println(err)
	// Output:
	// [counting statickey]
	// core: unsupported credential type "githubapp" (registered: counting, statickey; forgotten import or plugin?)
}

// The envelope keeps a section it does not know byte for byte.
func ExampleParseCredentials() {
	in := `{"type":"githubapp","githubapp":{"appID":"1","installationID":"2"}}`
	c, err := core.ParseCredentials([]byte(in))
	if err != nil {
		log.Fatal(err)
	}
	out, _ := c.MarshalJSON()
	fmt.Println(string(out) == in, c.Sections())
	fmt.Printf("%+v\n", c) // never the section's content
	// Output:
	// true [githubapp]
	// Credentials{service="" type="githubapp" sections=githubapp}
}
