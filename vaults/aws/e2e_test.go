package aws_test

import (
	"testing"

	"github.com/plexusone/omnitoken/internal/vaulte2e"
)

func fakeURI(t *testing.T) string {
	t.Helper()
	srv := startFake(t)
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "canary-secret-access-key")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	return "aws-sm://omnitoken/?region=us-east-1&endpoint=" + srv.URL
}

// The seed API over aws-sm://: store, token from a loopback IdP, restart,
// reuse.
func TestSeedAPIEndToEnd(t *testing.T) { vaulte2e.RoundTrip(t, fakeURI(t)) }

// Two managers race one token write: the AWSCURRENT move refuses the
// loser, which re-reads and adopts the winner's token.
func TestManagersRaceOneWrite(t *testing.T) { vaulte2e.ConflictRace(t, fakeURI(t)) }
