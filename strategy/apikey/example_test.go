package apikey_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/apikey"
)

// A Manager stores an API key and hands out a client that sends it in a
// header on every request.
func Example() {
	const key = "k-123" // in real use, read from a vault or the environment

	// An API that reports what it received.
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "authorized:", r.Header.Get("X-Api-Key") == key)
	}))
	defer api.Close()

	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{apikey.New()},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	if err := m.SetCredentials(context.Background(), "weather", apikey.Header("x-api-key", key)); err != nil {
		panic(err)
	}
	resp, err := m.Client("weather", api.Client().Transport).Get(api.URL + "/forecast")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// authorized: true
}

// A key sent as a query parameter, next to the request's own ones.
func ExampleQuery() {
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		fmt.Fprintln(w, "city:", q.Get("city"))
		fmt.Fprintln(w, "authorized:", q.Get("appid") == "k-456")
	}))
	defer api.Close()

	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{apikey.New()},
	})
	if err != nil {
		panic(err)
	}
	defer m.Close()

	if err := m.SetCredentials(context.Background(), "maps", apikey.Query("appid", "k-456")); err != nil {
		panic(err)
	}
	resp, err := m.Client("maps", api.Client().Transport).Get(api.URL + "/geo?city=Oslo")
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Print(string(body))
	// Output:
	// city: Oslo
	// authorized: true
}
