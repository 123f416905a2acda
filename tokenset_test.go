package omnitoken_test

import (
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/grokify/goauth/multiservice/tokens"
	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnivault/providers/memory"
	"golang.org/x/oauth2"
)

// TestTokenSetKeepsNamesApart: names that differ only by surrounding
// spaces are two credentials to the TokenManager, and stay two through
// TokenSet(): each reads its own token, and writing one leaves the other
// alone.
func TestTokenSetKeepsNamesApart(t *testing.T) {
	var n atomic.Int64
	idp := tokenServer(t, func(w http.ResponseWriter, r *http.Request) { writeToken(w, fmt.Sprintf("t%d", n.Add(1)), 3600) })
	tm, err := omnitoken.New(omnitoken.Config{Vault: memory.New(), HTTPClient: idp.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	names := []string{"a", " a", "a ", "\ta"}
	want := map[string]string{}
	for _, name := range names {
		if err := tm.SetCredentials(ctx, name, ccCreds(idp.URL)); err != nil {
			t.Fatal(err)
		}
		tok, err := tm.GetToken(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		want[name] = tok.AccessToken
	}
	ts := tm.TokenSet()
	for _, name := range names {
		got, err := ts.GetToken(name)
		if err != nil || got.AccessToken != want[name] {
			t.Fatalf("TokenSet().GetToken(%q) = %v, %v; want the TokenManager's token %q", name, got, err, want[name])
		}
	}
	if err := ts.SetTokenInfo(" a", &tokens.TokenInfo{Token: &oauth2.Token{AccessToken: "written-for-space-a"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := ts.GetToken("a"); err != nil || got.AccessToken != want["a"] {
		t.Fatalf(`after SetTokenInfo(" a"), GetToken("a") = %v, %v; want %q`, got, err, want["a"])
	}
	if got, err := ts.GetToken(" a"); err != nil || got.AccessToken != "written-for-space-a" {
		t.Fatalf(`GetToken(" a") = %v, %v`, got, err)
	}
	vts := ts.(*omnitoken.VaultTokenSet)
	if err := vts.DeleteToken("a "); err != nil {
		t.Fatal(err)
	}
	if ok, err := vts.ExistsToken("a"); err != nil || !ok {
		t.Fatalf(`after DeleteToken("a "), ExistsToken("a") = %v, %v`, ok, err)
	}
	if _, err := ts.GetToken("a "); !errors.Is(err, omnitoken.ErrTokenNotFound) {
		t.Fatalf(`GetToken("a ") after delete = %v`, err)
	}
}
