package bitwarden_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken"
	_ "github.com/plexusone/omnitoken/vaults/bitwarden"
	"github.com/plexusone/omnitoken/vaults/internal/livecheck"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

const org = "0b7e6a4c-3f1d-4c2e-9a8b-1d2e3f4a5b6c"

func TestRegistered(t *testing.T) {
	if !slices.Contains(omnivault.RegisteredSchemes(), "bw") {
		t.Fatalf("bw is not registered: %v", omnivault.RegisteredSchemes())
	}
}

// Without BW_ACCESS_TOKEN, opening through the seed API fails with an
// error that says what to set, before any network call.
func TestMissingToken(t *testing.T) {
	t.Setenv("BW_ACCESS_TOKEN", "")
	for _, uri := range []string{"bw://" + org, "bw://" + org + "/my-agent?project=" + org} {
		tm, err := omnitoken.NewFromVaultURI(uri)
		if err == nil {
			_ = tm.Close()
			t.Fatalf("%s opened without a token", uri)
		}
		if !errors.Is(err, vault.ErrAuthenticationFailed) || !strings.Contains(err.Error(), "BW_ACCESS_TOKEN is not set") {
			t.Fatalf("%s: %v", uri, err)
		}
	}
}

func TestBadURI(t *testing.T) {
	t.Setenv("BW_ACCESS_TOKEN", "0.not-a-real-token")
	for _, uri := range []string{"bw://", "bw://my-org", "bw://" + org + "/a/b", "bw://" + org + "/a:b",
		"bw://" + org + "?project=nope", "bw://" + org + "?x=1", "bw://u@" + org} {
		_, err := omnivault.VaultFromURI(uri)
		if err == nil || !strings.HasPrefix(err.Error(), "bitwarden: ") || !strings.Contains(err.Error(), "URI") {
			t.Errorf("%s: %v", uri, err)
		}
		if err != nil && strings.Contains(err.Error(), "not-a-real-token") {
			t.Errorf("%s: the error quotes the token", uri)
		}
	}
}

// TestLive round-trips a credential and a token through a real Bitwarden
// Secrets Manager organization. It runs only with BW_ACCESS_TOKEN,
// OMNITOKEN_BW_TEST_ORG and OMNITOKEN_BW_TEST_PROJECT set; see the package
// documentation.
func TestLive(t *testing.T) {
	o, p := os.Getenv("OMNITOKEN_BW_TEST_ORG"), os.Getenv("OMNITOKEN_BW_TEST_PROJECT")
	if os.Getenv("BW_ACCESS_TOKEN") == "" || o == "" || p == "" {
		t.Skip("set BW_ACCESS_TOKEN, OMNITOKEN_BW_TEST_ORG and OMNITOKEN_BW_TEST_PROJECT to run against your Bitwarden account")
	}
	v, err := omnivault.VaultFromURI("bw://" + o + "/omnitoken-livetest?project=" + p)
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	livecheck.RoundTrip(t, v)
}
