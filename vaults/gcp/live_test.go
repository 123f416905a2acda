package gcp_test

import (
	"context"
	"crypto/rand"
	"os"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/storage/vaulttest"
	"github.com/plexusone/omnitoken/vaults/gcp"
	"github.com/plexusone/omnivault/vault"
)

// TestLiveSecretManagerConformance runs the vault conformance suite
// against the project GOOGLE_CLOUD_PROJECT names, with Application Default
// Credentials, under a fresh prefix. It is skipped unless
// OMNITOKEN_LIVE_GCP_SM is set.
func TestLiveSecretManagerConformance(t *testing.T) {
	project := os.Getenv("GOOGLE_CLOUD_PROJECT")
	if os.Getenv("OMNITOKEN_LIVE_GCP_SM") == "" || project == "" {
		t.Skip("set OMNITOKEN_LIVE_GCP_SM=1 and GOOGLE_CLOUD_PROJECT to run against Google Cloud")
	}
	prefix := "omnitoken-live-" + strings.ToLower(rand.Text())[:8] + "-"
	vaulttest.Run(t, vaulttest.Options{
		MaxPathLen: 200,
		New: func(t *testing.T) vault.Vault {
			v, err := gcp.FromURI(context.Background(), "gcp-sm://"+project+"/"+prefix)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				paths, _ := v.List(context.Background(), "")
				for _, p := range paths {
					_ = v.Delete(context.Background(), p)
				}
				_ = v.Close()
			})
			return v
		},
	})
}
