package aws_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/vaulte2e"
	"github.com/plexusone/omnitoken/vaults/aws"
	"github.com/plexusone/omnitoken/vaults/aws/internal/fakesm"
	"github.com/plexusone/omnivault/vault"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const accessKey = "AKIDOMNITOKENTEST"

func startFake(t *testing.T) *fakesm.Server {
	t.Helper()
	s := (&fakesm.Server{AccessKeyID: accessKey}).Start()
	t.Cleanup(s.Close)
	return s
}

// client is the real SDK client pointed at the fake, with fast retries.
func client(t *testing.T, srv *fakesm.Server, key string, attempts int) *sm.Client {
	t.Helper()
	cfg := awssdk.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(key, "canary-secret-access-key", ""),
		Retryer: func() awssdk.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = attempts
				o.MaxBackoff = 5 * time.Millisecond
			})
		},
	}
	return sm.NewFromConfig(cfg, func(o *sm.Options) { o.BaseEndpoint = awssdk.String(srv.URL) })
}

func newVault(t *testing.T, srv *fakesm.Server) *aws.Vault {
	t.Helper()
	v, err := aws.New(aws.Config{Client: client(t, srv, accessKey, 3), Prefix: "omnitoken/"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

func TestCRUDAndList(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv)
	ctx := context.Background()
	if _, err := v.Get(ctx, "credentials/none"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	paths := []string{"credentials/a", "credentials/GitHub Bot", "credentials/ünï", "credentials/x-y", "tokens/a"}
	for _, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: "v:" + p}); err != nil {
			t.Fatalf("Set %s: %v", p, err)
		}
	}
	if got, _ := srv.Current("omnitoken/credentials/GitHub@20Bot"); got != "v:credentials/GitHub Bot" {
		t.Fatalf("stored names: %q", srv.Names())
	}
	for _, n := range srv.Names() {
		if strings.Contains(n, "-") {
			t.Fatalf("name %q holds '-', which can read as a partial ARN", n)
		}
	}
	s, err := v.Get(ctx, "credentials/ünï")
	if err != nil || s.Value != "v:credentials/ünï" || s.Metadata.Version == "" {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	got, err := v.List(ctx, "credentials/") // 5 secrets, pages of 2
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"credentials/GitHub Bot", "credentials/a", "credentials/x-y", "credentials/ünï"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("List = %q, want %q", got, want)
	}
	if srv.Calls("ListSecrets") < 2 {
		t.Fatalf("List made %d ListSecrets calls; paging untested", srv.Calls("ListSecrets"))
	}
	// An update moves AWSCURRENT; the old version is kept as AWSPREVIOUS.
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "second"}); err != nil {
		t.Fatal(err)
	}
	if val, n := srv.Current("omnitoken/tokens/a"); val != "second" || n != 2 {
		t.Fatalf("after update: %q with %d versions", val, n)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "tokens/a"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if ok, err := v.Exists(ctx, "tokens/a"); ok || err != nil {
		t.Fatalf("Exists after Delete = %v, %v", ok, err)
	}
	// The name is free again after a delete without recovery window.
	if err := v.Set(ctx, "tokens/a", &vault.Secret{Value: "again"}); err != nil {
		t.Fatal(err)
	}
}

func TestVersionStageConflict(t *testing.T) {
	srv := startFake(t)
	a, b := newVault(t, srv), newVault(t, srv)
	vaulte2e.ConditionalWrites(t, a, b, "tokens/x")
	if val, _ := srv.Current("omnitoken/tokens/x"); val != "plain" {
		t.Fatalf("AWSCURRENT = %q, want plain", val)
	}
}

func TestAuthFailure(t *testing.T) {
	srv := startFake(t)
	v, err := aws.New(aws.Config{Client: client(t, srv, "AKIDWRONG", 1)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = v.Get(context.Background(), "x")
	if !errors.Is(err, vault.ErrAccessDenied) {
		t.Fatalf("Get with an unknown key: %v, want ErrAccessDenied", err)
	}
	if strings.Contains(err.Error(), "canary") {
		t.Fatalf("error quotes the secret key: %v", err)
	}
}

func TestThrottling(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv) // 3 attempts
	vaulte2e.Throttling(t, v, "tokens/x", srv.Throttle, func() int { return srv.Calls("Throttled") })
	ctx := context.Background()
	// A write whose answer is lost is retried with the same
	// ClientRequestToken, and makes one version, not two.
	srv.Throttle(0)
	before := srv.Calls("PutSecretValue")
	srv.LoseAnswers(1)
	if err := v.Set(ctx, "tokens/x", &vault.Secret{Value: "2"}); err != nil {
		t.Fatal(err)
	}
	if val, n := srv.Current("omnitoken/tokens/x"); val != "2" || n != 2 || srv.Calls("PutSecretValue") != before+2 {
		t.Fatalf("current %q, %d versions, %d PutSecretValue calls; want 2, 2, 2", val, n, srv.Calls("PutSecretValue")-before)
	}
}

func TestFromURI(t *testing.T) {
	srv := startFake(t)
	t.Setenv("AWS_ACCESS_KEY_ID", accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", "canary-secret-access-key")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_REGION", "")
	ctx := context.Background()
	if _, err := aws.FromURI(ctx, "aws-sm://omnitoken/"); err == nil || !strings.Contains(err.Error(), "no region") {
		t.Fatalf("no region: %v", err)
	}
	v, err := aws.FromURI(ctx, "aws-sm://omnitoken/dev/?region=eu-west-1&endpoint="+srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Set(ctx, "a", &vault.Secret{Value: "x"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Names(); len(got) != 1 || got[0] != "omnitoken/dev/a" {
		t.Fatalf("names %q", got)
	}
	// A PREFIX without a trailing '/' gets one, so that the vaults of
	// prefixes "a" and "ab" never share a name; before, "omnitoken/de"
	// and path "va" named the secret "omnitoken/dev/a" above.
	other, err := aws.FromURI(ctx, "aws-sm://omnitoken/de?region=eu-west-1&endpoint="+srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Get(ctx, "v/a"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("prefix omnitoken/de, path v/a reads another vault's secret: %v", err)
	}
	if err := other.Set(ctx, "v/a", &vault.Secret{Value: "y"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Names(); len(got) != 2 || got[0] != "omnitoken/de/v@2Fa" && got[0] != "omnitoken/de/v/a" {
		t.Fatalf("names %q", got)
	}
	for _, bad := range []string{"aws-sm://p?region=r&endpoint=http://sm.example.com", "aws-sm://AKID:canary@p?region=r"} {
		if _, err := aws.FromURI(ctx, bad); err == nil || strings.Contains(err.Error(), "canary") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

// A secret that an operator deleted with a recovery window reads as
// missing. Writing it again, plainly or for "nothing stored", restores it
// and writes a new version; before, every write failed until the window
// ended (up to 30 days), because its name cannot be created again.
func TestWriteOverScheduledDeletion(t *testing.T) {
	srv := startFake(t)
	v := newVault(t, srv)
	raw := client(t, srv, accessKey, 1)
	ctx := context.Background()
	const name = "omnitoken/tokens/d"
	schedule := func() {
		t.Helper()
		if _, err := raw.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: awssdk.String(name), RecoveryWindowInDays: awssdk.Int64(7)}); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Get(ctx, "tokens/d"); !errors.Is(err, vault.ErrSecretNotFound) {
			t.Fatalf("Get of a secret scheduled for deletion: %v, want ErrSecretNotFound", err)
		}
		if got, err := v.List(ctx, "tokens/"); err != nil || len(got) != 0 {
			t.Fatalf("List = %q, %v; want none", got, err)
		}
	}
	if _, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "1"}, ""); err != nil {
		t.Fatal(err)
	}
	schedule()
	nv, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "2"}, "")
	if err != nil {
		t.Fatalf("SetIfVersion(\"\") over a secret scheduled for deletion: %v", err)
	}
	if s, err := v.Get(ctx, "tokens/d"); err != nil || s.Value != "2" || s.Metadata.Version != nv {
		t.Fatalf("Get = %+v, %v; want 2 at %q", s, err, nv)
	}
	if _, err := v.SetIfVersion(ctx, "tokens/d", &vault.Secret{Value: "x"}, ""); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("SetIfVersion(\"\") over a live secret: %v, want ErrConflict", err)
	}
	schedule()
	if err := v.Set(ctx, "tokens/d", &vault.Secret{Value: "3"}); err != nil {
		t.Fatalf("Set over a secret scheduled for deletion: %v", err)
	}
	if s, err := v.Get(ctx, "tokens/d"); err != nil || s.Value != "3" {
		t.Fatalf("Get = %+v, %v; want 3", s, err)
	}
}

// A refused write names neither the value it carried nor the secret key.
func TestWriteErrorsQuoteNoSecret(t *testing.T) {
	srv := startFake(t)
	bad, err := aws.New(aws.Config{Client: client(t, srv, "AKIDWRONG", 1)})
	if err != nil {
		t.Fatal(err)
	}
	throttled, err := aws.New(aws.Config{Client: client(t, srv, accessKey, 1)})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []*aws.Vault{bad, throttled} {
		srv.Throttle(10)
		err := v.Set(context.Background(), "tokens/x", &vault.Secret{Value: "canary-value"})
		if err == nil {
			t.Fatal("Set succeeded")
		}
		if _, err2 := v.SetIfVersion(context.Background(), "tokens/x", &vault.Secret{Value: "canary-value"}, "v1"); err2 != nil {
			err = errors.Join(err, err2)
		}
		if strings.Contains(err.Error(), "canary") {
			t.Fatalf("error quotes a secret: %v", err)
		}
	}
}

// A conditional write leaves no version labelled AWSPENDING, won or lost:
// the label means a rotation in progress to Secrets Manager and to
// rotation functions. Before, the label stayed on the last version
// written, and on a loser's version no stage reached.
func TestConditionalWritesLeaveNoPendingLabel(t *testing.T) {
	srv := startFake(t)
	a, b := newVault(t, srv), newVault(t, srv)
	ctx := context.Background()
	const name = "omnitoken/tokens/p"
	if _, err := a.SetIfVersion(ctx, "tokens/p", &vault.Secret{Value: "1"}, ""); err != nil {
		t.Fatal(err)
	}
	s, err := a.Get(ctx, "tokens/p")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetIfVersion(ctx, "tokens/p", &vault.Secret{Value: "2"}, s.Metadata.Version); err != nil {
		t.Fatal(err)
	}
	if got := srv.Labelled(name, "AWSPENDING"); len(got) != 0 {
		t.Fatalf("after a write: AWSPENDING on %q, want on none", got)
	}
	if _, err := b.SetIfVersion(ctx, "tokens/p", &vault.Secret{Value: "stale"}, s.Metadata.Version); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("stale write: %v, want ErrConflict", err)
	}
	if got := srv.Labelled(name, "AWSPENDING"); len(got) != 0 {
		t.Fatalf("after a refused write: AWSPENDING on %q, want on none", got)
	}
	if val, _ := srv.Current(name); val != "2" {
		t.Fatalf("AWSCURRENT = %q, want 2", val)
	}
}
