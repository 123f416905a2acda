package aws_test

import (
	"context"
	"crypto/rand"
	"os"
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/aws"
	"github.com/plexusone/omnivault/vault"
)

// TestLiveSecretsManagerConformance runs the vault conformance suite
// against the account and region of the SDK's default configuration,
// under a fresh name prefix. It is skipped unless OMNITOKEN_LIVE_AWS_SM is
// set.
func TestLiveSecretsManagerConformance(t *testing.T) {
	if os.Getenv("OMNITOKEN_LIVE_AWS_SM") == "" {
		t.Skip("set OMNITOKEN_LIVE_AWS_SM=1 (and AWS credentials and region) to run against AWS")
	}
	prefix := "omnitoken-live-" + rand.Text() + "/"
	vaulttest.Run(t, vaulttest.Options{New: func(t *testing.T) vault.Vault {
		v, err := aws.FromURI(context.Background(), "aws-sm://"+prefix)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			paths, _ := v.List(context.Background(), "")
			for _, p := range paths {
				_ = v.Delete(context.Background(), p)
			}
		})
		return v
	}})
}
