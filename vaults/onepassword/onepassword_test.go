package onepassword_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken"
	"github.com/plexusone/omnitoken/vaults/internal/livecheck"
	_ "github.com/plexusone/omnitoken/vaults/onepassword"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

func TestRegistered(t *testing.T) {
	if !slices.Contains(omnivault.RegisteredSchemes(), "op") {
		t.Fatalf("op is not registered: %v", omnivault.RegisteredSchemes())
	}
}

// Without OP_SERVICE_ACCOUNT_TOKEN, opening through the seed API fails
// with an error that says what to set, before any network call.
func TestMissingToken(t *testing.T) {
	t.Setenv("OP_SERVICE_ACCOUNT_TOKEN", "")
	for _, uri := range []string{"op://Private", "op://Private/my-agent"} {
		tm, err := omnitoken.NewFromVaultURI(uri)
		if err == nil {
			_ = tm.Close()
			t.Fatalf("%s opened without a token", uri)
		}
		if !errors.Is(err, vault.ErrAuthenticationFailed) || !strings.Contains(err.Error(), "OP_SERVICE_ACCOUNT_TOKEN is not set") {
			t.Fatalf("%s: %v", uri, err)
		}
	}
}

func TestBadURI(t *testing.T) {
	t.Setenv("OP_SERVICE_ACCOUNT_TOKEN", "ops_not-a-real-token")
	for _, uri := range []string{"op://", "op:///prefix-only", "op://Private/a/b", "op://Private/a:b", "op://Private?x=1", "op://user@Private"} {
		_, err := omnivault.VaultFromURI(uri)
		if err == nil || !strings.HasPrefix(err.Error(), "onepassword: vault URI") && !strings.HasPrefix(err.Error(), "onepassword: item prefix") {
			t.Errorf("%s: %v", uri, err)
		}
		if err != nil && strings.Contains(err.Error(), "ops_not-a-real-token") {
			t.Errorf("%s: the error quotes the token", uri)
		}
	}
}

// TestLive round-trips a credential and a token through a real 1Password
// vault. It runs only with OP_SERVICE_ACCOUNT_TOKEN and
// OMNITOKEN_OP_TEST_VAULT set; see the package documentation.
func TestLive(t *testing.T) {
	vaultName := os.Getenv("OMNITOKEN_OP_TEST_VAULT")
	if os.Getenv("OP_SERVICE_ACCOUNT_TOKEN") == "" || vaultName == "" {
		t.Skip("set OP_SERVICE_ACCOUNT_TOKEN and OMNITOKEN_OP_TEST_VAULT to run against your 1Password account")
	}
	v, err := omnivault.VaultFromURI("op://" + vaultName + "/omnitoken-livetest")
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	livecheck.RoundTrip(t, v)
}
