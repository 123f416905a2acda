package aws

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/loopback"
	"github.com/plexusone/omnitoken/internal/safename"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/vaults/internal/cloudvault"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
)

const stageCurrent, stagePending = "AWSCURRENT", "AWSPENDING"

// names maps vault paths to secret names: see the package documentation.
var names = safename.Mapping{
	Keep: func(b byte) bool {
		return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("/_+=.", b) >= 0
	},
	Escape: '@',
	MaxLen: 512,
}

func init() {
	omnivault.RegisterProvider("aws-sm", func(uri string) (vault.Vault, error) {
		return FromURI(context.Background(), uri)
	})
}

// Config configures a Vault.
type Config struct {
	// Client is the Secrets Manager client. Required.
	Client *sm.Client
	// Prefix starts every secret name, such as "omnitoken/prod/".
	Prefix string
}

// Vault is a vault.Vault over AWS Secrets Manager. It is safe for
// concurrent use.
type Vault struct {
	c  *sm.Client
	cv cloudvault.Base
}

var _ storage.ConditionalVault = (*Vault)(nil)

// New returns a Vault over cfg.Client.
func New(cfg Config) (*Vault, error) {
	if cfg.Client == nil {
		return nil, errors.New("aws: Config.Client is nil")
	}
	v := &Vault{c: cfg.Client}
	if err := v.cv.Init("aws", names, cfg.Prefix); err != nil {
		return nil, err
	}
	return v, nil
}

// FromURI returns a Vault for an aws-sm:// URI (see the package
// documentation), with the SDK's default configuration chain.
func FromURI(ctx context.Context, uri string) (*Vault, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "aws-sm" {
		return nil, fmt.Errorf("aws: %w: want aws-sm://[PREFIX][?region=…]", vault.ErrInvalidPath)
	}
	if u.User != nil {
		return nil, fmt.Errorf("aws: %w: credentials in the URI; use the SDK's credential chain", vault.ErrInvalidPath)
	}
	q := u.Query()
	var opts []func(*config.LoadOptions) error
	if r := q.Get("region"); r != "" {
		opts = append(opts, config.WithRegion(r))
	}
	if p := q.Get("profile"); p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	ac, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("aws: load configuration: %w", err)
	}
	if ac.Region == "" {
		return nil, fmt.Errorf("aws: %w: no region (set AWS_REGION or ?region=)", vault.ErrInvalidPath)
	}
	var smOpts []func(*sm.Options)
	if ep := q.Get("endpoint"); ep != "" {
		if err := checkEndpoint(ep); err != nil {
			return nil, err
		}
		smOpts = append(smOpts, func(o *sm.Options) { o.BaseEndpoint = awssdk.String(ep) })
	}
	return New(Config{Client: sm.NewFromConfig(ac, smOpts...), Prefix: uriPrefix(u.Host + u.Path)})
}

// uriPrefix turns a URI's PREFIX into the start of every name: PREFIX and
// a '/', so that the vaults of prefixes "a" and "ab" never share a name.
func uriPrefix(p string) string {
	if p == "" || strings.HasSuffix(p, "/") {
		return p
	}
	return p + "/"
}

func checkEndpoint(ep string) error {
	u, err := url.Parse(ep)
	if err != nil || u.Host == "" {
		return fmt.Errorf("aws: %w: endpoint is not a URL", vault.ErrInvalidPath)
	}
	if u.Scheme == "https" {
		return nil
	}
	h := u.Hostname()
	if u.Scheme == "http" && loopback.Host(h) {
		return nil
	}
	return fmt.Errorf("aws: %w: endpoint %s must use https unless it is loopback", vault.ErrInvalidPath, h)
}

// Name returns "aws-sm".
func (v *Vault) Name() string { return "aws-sm" }

// Capabilities reports read, write, delete, list and versioning.
func (v *Vault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true, Versioning: true}
}

// Close marks the Vault closed.
func (v *Vault) Close() error {
	v.cv.Close()
	return nil
}

// Get reads the AWSCURRENT version of p.
func (v *Vault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	n, err := v.cv.Secret(ctx, p)
	if err != nil {
		return nil, err
	}
	out, err := v.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &n, VersionStage: awssdk.String(stageCurrent)})
	if isNotFound(err) {
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	if err != nil {
		return nil, v.fail("get", p, err)
	}
	s := &vault.Secret{Value: awssdk.ToString(out.SecretString)}
	if out.SecretString == nil && out.SecretBinary != nil {
		s.Value = string(out.SecretBinary)
	}
	s.Metadata.Provider, s.Metadata.Path, s.Metadata.Version = "aws-sm", p, awssdk.ToString(out.VersionId)
	if out.CreatedDate != nil {
		s.Metadata.ModifiedAt = vault.NewTimestamp(*out.CreatedDate)
	}
	return s, nil
}

// Set writes sec as the new AWSCURRENT version of p, whatever is there.
// A secret scheduled for deletion is restored first.
func (v *Vault) Set(ctx context.Context, p string, sec *vault.Secret) error {
	n, val, err := v.prepare(ctx, p, sec)
	if err != nil {
		return err
	}
	// A create can lose to a concurrent create (then update), or meet a
	// secret scheduled for deletion (then restore it and update).
	for range 3 {
		_, err := v.c.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: &n, SecretString: &val, ClientRequestToken: requestToken()})
		if !isNotFound(err) {
			if err != nil {
				return v.fail("set", p, err)
			}
			return nil
		}
		_, err = v.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: &n, SecretString: &val, ClientRequestToken: requestToken()})
		if isScheduledForDeletion(err) {
			err = v.restore(ctx, n)
			if err == nil {
				continue
			}
		}
		if !isCode(err, "ResourceExistsException") {
			if err != nil {
				return v.fail("set", p, err)
			}
			return nil
		}
	}
	return v.fail("set", p, errors.New("created and deleted concurrently"))
}

// SetIfVersion writes sec as the new AWSCURRENT version of p only if
// AWSCURRENT is still on version (the VersionId that Get reported in
// Metadata.Version), or, for "", only if p does not exist or is
// scheduled for deletion (which Get reports as missing; it is restored
// and written on condition that AWSCURRENT does not move). A refused
// write is an error matching core.ErrConflict. It returns the new
// VersionId.
func (v *Vault) SetIfVersion(ctx context.Context, p string, sec *vault.Secret, version string) (string, error) {
	n, val, err := v.prepare(ctx, p, sec)
	if err != nil {
		return "", err
	}
	if version == "" {
		out, err := v.c.CreateSecret(ctx, &sm.CreateSecretInput{Name: &n, SecretString: &val, ClientRequestToken: requestToken()})
		if isCode(err, "ResourceExistsException") {
			return "", v.fail("set", p, fmt.Errorf("%w: another writer created it", core.ErrConflict))
		}
		if !isScheduledForDeletion(err) {
			if err != nil {
				return "", v.fail("set", p, err)
			}
			return awssdk.ToString(out.VersionId), nil
		}
		// Scheduled for deletion, which Get reports as missing: restore
		// it, and move AWSCURRENT on from the version it holds, on the
		// condition that no other writer moved it first.
		if err := v.restore(ctx, n); err != nil {
			return "", v.fail("set", p, err)
		}
		cur, err := v.c.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: &n, VersionStage: awssdk.String(stageCurrent)})
		if isNotFound(err) {
			return "", v.fail("set", p, fmt.Errorf("%w: another writer deleted it", core.ErrConflict))
		}
		if err != nil {
			return "", v.fail("set", p, err)
		}
		version = awssdk.ToString(cur.VersionId)
	}
	put, err := v.c.PutSecretValue(ctx, &sm.PutSecretValueInput{
		SecretId: &n, SecretString: &val, ClientRequestToken: requestToken(), VersionStages: []string{stagePending},
	})
	if isNotFound(err) {
		return "", v.fail("set", p, fmt.Errorf("%w: another writer deleted it", core.ErrConflict))
	}
	if err != nil {
		return "", v.fail("set", p, err)
	}
	newID := awssdk.ToString(put.VersionId)
	_, err = v.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: &n, VersionStage: awssdk.String(stageCurrent), MoveToVersionId: &newID, RemoveFromVersionId: &version,
	})
	// AWSPENDING means a rotation in progress to Secrets Manager and to
	// rotation functions: take it off the new version, won or lost.
	v.unpend(ctx, n, newID)
	if isCode(err, "InvalidParameterException", "InvalidRequestException", "ResourceNotFoundException") {
		return "", v.fail("set", p, fmt.Errorf("%w: AWSCURRENT moved on from the version read", core.ErrConflict))
	}
	if err != nil {
		return "", v.fail("set", p, err)
	}
	return newID, nil
}

// unpend removes AWSPENDING from version id of secret n. It is best
// effort: a label left behind is moved by the next conditional write.
func (v *Vault) unpend(ctx context.Context, n, id string) {
	_, _ = v.c.UpdateSecretVersionStage(ctx, &sm.UpdateSecretVersionStageInput{
		SecretId: &n, VersionStage: awssdk.String(stagePending), RemoveFromVersionId: &id,
	})
}

func (v *Vault) prepare(ctx context.Context, p string, sec *vault.Secret) (name, value string, err error) {
	if sec == nil {
		return "", "", fmt.Errorf("aws: set %s: nil secret", p)
	}
	n, err := v.cv.Secret(ctx, p)
	return n, sec.String(), err
}

// requestToken returns a fresh ClientRequestToken (32 to 64 characters).
// The SDK sends the same one on each retry of a call, so a retried write
// makes one version.
func requestToken() *string {
	t := rand.Text() + rand.Text()
	return &t
}

// Delete deletes p without a recovery window. A missing secret is not an
// error.
func (v *Vault) Delete(ctx context.Context, p string) error {
	n, err := v.cv.Secret(ctx, p)
	if err != nil {
		return err
	}
	_, err = v.c.DeleteSecret(ctx, &sm.DeleteSecretInput{SecretId: &n, ForceDeleteWithoutRecovery: awssdk.Bool(true)})
	if err != nil && !isNotFound(err) {
		return v.fail("delete", p, err)
	}
	return nil
}

// Exists reports whether p has an AWSCURRENT version.
func (v *Vault) Exists(ctx context.Context, p string) (bool, error) {
	return cloudvault.Exists(v.Get(ctx, p))
}

// List returns the paths that start with prefix, sorted.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	if err := v.cv.Check(ctx); err != nil {
		return nil, err
	}
	full, err := names.Encode(v.cv.Prefix() + prefix)
	if err != nil {
		return nil, v.fail("list", prefix, err)
	}
	in := &sm.ListSecretsInput{}
	if full != "" {
		in.Filters = []types.Filter{{Key: types.FilterNameStringTypeName, Values: []string{full}}}
	}
	out := []string{}
	pg := sm.NewListSecretsPaginator(v.c, in)
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			return nil, v.fail("list", prefix, err)
		}
		for _, e := range page.SecretList {
			n := awssdk.ToString(e.Name)
			if e.DeletedDate != nil || !strings.HasPrefix(n, full) {
				continue
			}
			if p, ok := v.cv.Path(n, prefix); ok {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

func (v *Vault) fail(op, p string, err error) error {
	return fmt.Errorf("aws: %w", vault.NewVaultError(op, p, "aws-sm", mapErr(err)))
}

// mapErr adds omnivault's sentinels to the SDK's errors, whose messages
// name the operation and the service's error, never a secret's value.
func mapErr(err error) error {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return err
	}
	switch ae.ErrorCode() {
	case "AccessDeniedException", "UnrecognizedClientException", "InvalidSignatureException",
		"ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken":
		return fmt.Errorf("%w: %w", vault.ErrAccessDenied, err)
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "InternalServiceError", "ServiceUnavailable":
		return fmt.Errorf("%w: %w", vault.ErrConnectionFailed, err)
	}
	return err
}

// restore cancels the scheduled deletion of secret n.
func (v *Vault) restore(ctx context.Context, n string) error {
	_, err := v.c.RestoreSecret(ctx, &sm.RestoreSecretInput{SecretId: &n})
	if err != nil {
		return fmt.Errorf("restore the secret scheduled for deletion: %w", err)
	}
	return nil
}

// isScheduledForDeletion reports CreateSecret's answer for a name whose
// secret is scheduled for deletion.
func isScheduledForDeletion(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidRequestException" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "scheduled for deletion")
}

func isNotFound(err error) bool {
	if isCode(err, "ResourceNotFoundException") {
		return true
	}
	// A secret scheduled for deletion answers InvalidRequestException.
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "InvalidRequestException" &&
		strings.Contains(strings.ToLower(ae.ErrorMessage()), "marked for deletion")
}

func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}
