package gcp

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	secretmanager "cloud.google.com/go/secretmanager/apiv1"
	"cloud.google.com/go/secretmanager/apiv1/secretmanagerpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/internal/safename"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/vaults/internal/cloudvault"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/fieldmaskpb"
)

// alias names the version readers read.
const alias = "current"

var names = safename.Mapping{
	Keep: func(b byte) bool {
		return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || b == '-'
	},
	Escape: '_',
	MaxLen: 255,
}

func init() {
	omnivault.RegisterProvider("gcp-sm", func(uri string) (vault.Vault, error) {
		return FromURI(context.Background(), uri)
	})
}

// Config configures a Vault.
type Config struct {
	// Client is the Secret Manager client. Required. The Vault sets its
	// retry options and closes it in Close.
	Client *secretmanager.Client
	// Project is the project ID or number. Required.
	Project string
	// Prefix starts every secret ID.
	Prefix string
	// Backoff is how retries of UNAVAILABLE and RESOURCE_EXHAUSTED wait.
	// Default: from 100 ms, doubling, to 10 s.
	Backoff gax.Backoff
}

// Vault is a vault.Vault over Google Cloud Secret Manager. It is safe for
// concurrent use.
type Vault struct {
	c       *secretmanager.Client
	project string
	cv      cloudvault.Base
	close   sync.Once
}

var _ storage.ConditionalVault = (*Vault)(nil)

// version is what Metadata.Version holds: the number of the version read
// and the secret's etag when it was read, as "N:ETAG".
func version(n int64, etag string) string { return strconv.FormatInt(n, 10) + ":" + etag }

func parseVersion(s string) (int64, string, error) {
	ns, etag, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(ns, 10, 64)
	if !ok || err != nil || etag == "" {
		return 0, "", fmt.Errorf("version %q is not one that Get reported", s)
	}
	return n, etag, nil
}

// New returns a Vault over cfg.Client.
func New(cfg Config) (*Vault, error) {
	if cfg.Client == nil || cfg.Project == "" {
		return nil, errors.New("gcp: Config needs a Client and a Project")
	}
	v := &Vault{c: cfg.Client, project: cfg.Project}
	if err := v.cv.Init("gcp", names, cfg.Prefix); err != nil {
		return nil, err
	}
	b := cfg.Backoff
	if b.Initial == 0 {
		b = gax.Backoff{Initial: 100 * time.Millisecond, Max: 10 * time.Second, Multiplier: 2}
	}
	retry := gax.WithRetry(func() gax.Retryer {
		return gax.OnCodes([]codes.Code{codes.Unavailable, codes.ResourceExhausted}, b)
	})
	o := cfg.Client.CallOptions
	for _, opts := range []*[]gax.CallOption{&o.GetSecret, &o.AccessSecretVersion, &o.CreateSecret, &o.AddSecretVersion,
		&o.UpdateSecret, &o.DestroySecretVersion, &o.DeleteSecret, &o.ListSecrets} {
		*opts = append(*opts, gax.WithTimeout(60*time.Second), retry)
	}
	return v, nil
}

// FromURI returns a Vault for a gcp-sm:// URI (see the package
// documentation), with Application Default Credentials.
func FromURI(ctx context.Context, uri string) (*Vault, error) {
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "gcp-sm" || u.Host == "" {
		return nil, fmt.Errorf("gcp: %w: want gcp-sm://PROJECT[/PREFIX]", vault.ErrInvalidPath)
	}
	if u.User != nil {
		return nil, fmt.Errorf("gcp: %w: credentials in the URI; use Application Default Credentials", vault.ErrInvalidPath)
	}
	var opts []option.ClientOption
	if ep := u.Query().Get("endpoint"); ep != "" {
		opts = append(opts, option.WithEndpoint(ep))
	}
	c, err := secretmanager.NewClient(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("gcp: client: %w", err)
	}
	v, err := New(Config{Client: c, Project: u.Host, Prefix: uriPrefix(u.Path)})
	if err != nil {
		_ = c.Close()
	}
	return v, err
}

// Name returns "gcp-sm".
func (v *Vault) Name() string { return "gcp-sm" }

// Capabilities reports read, write, delete, list and versioning.
func (v *Vault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, Write: true, Delete: true, List: true, Versioning: true}
}

// Close closes the client.
func (v *Vault) Close() error {
	v.cv.Close()
	var err error
	v.close.Do(func() { err = v.c.Close() })
	return err
}

func (v *Vault) secret(id string) string { return "projects/" + v.project + "/secrets/" + id }

// Get reads the version that the alias "current" names.
func (v *Vault) Get(ctx context.Context, p string) (*vault.Secret, error) {
	id, err := v.cv.Secret(ctx, p)
	if err != nil {
		return nil, err
	}
	// A concurrent Set can move the alias and destroy the version it
	// named between the two calls: then read the alias again.
	for range readTries - 1 {
		s, err := v.get(ctx, id, p)
		if !errors.Is(err, errVersionGone) {
			return s, err
		}
	}
	return v.get(ctx, id, p)
}

// readTries bounds how many times Get reads the alias again after the
// version it named was destroyed under it.
const readTries = 5

var errVersionGone = errors.New("went away while reading")

func (v *Vault) get(ctx context.Context, id, p string) (*vault.Secret, error) {
	sec, err := v.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: v.secret(id)})
	if status.Code(err) == codes.NotFound {
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	if err != nil {
		return nil, v.fail("get", p, err)
	}
	n := sec.GetVersionAliases()[alias]
	if n == 0 {
		return nil, v.fail("get", p, vault.ErrSecretNotFound)
	}
	out, err := v.c.AccessSecretVersion(ctx, &secretmanagerpb.AccessSecretVersionRequest{Name: v.versionName(id, n)})
	if err != nil {
		if c := status.Code(err); c == codes.NotFound || c == codes.FailedPrecondition {
			return nil, v.fail("get", p, fmt.Errorf("%w: version %d %w", vault.ErrConnectionFailed, n, errVersionGone))
		}
		return nil, v.fail("get", p, err)
	}
	data := out.GetPayload().GetData()
	if c := out.GetPayload().DataCrc32C; c != nil && int64(crc32.Checksum(data, crc32c)) != *c {
		return nil, v.fail("get", p, errors.New("payload checksum mismatch"))
	}
	s := &vault.Secret{Value: string(data)}
	s.Metadata.Provider, s.Metadata.Path, s.Metadata.Version = "gcp-sm", p, version(n, sec.GetEtag())
	return s, nil
}

var crc32c = crc32.MakeTable(crc32.Castagnoli)

func (v *Vault) versionName(id string, n int64) string {
	return v.secret(id) + "/versions/" + strconv.FormatInt(n, 10)
}

// Set adds a version of p and moves the alias to it, whatever is there.
// The move is conditional on the etag read just before, and tried again
// when another writer moved the alias first, so that each write destroys
// the version it replaced and no version is left live without the alias.
func (v *Vault) Set(ctx context.Context, p string, s *vault.Secret) error {
	id, err := v.prepare(ctx, p, s)
	if err != nil {
		return err
	}
	for try := 1; ; try++ {
		sec, err := v.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: v.secret(id)})
		if status.Code(err) == codes.NotFound {
			sec, err = v.create(ctx, id)
			if status.Code(err) == codes.AlreadyExists {
				sec, err = v.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: v.secret(id)})
			}
		}
		if err != nil {
			return v.fail("set", p, err)
		}
		etag := sec.GetEtag()
		if try == setTries {
			etag = "" // contended this long: move the alias unconditionally
		}
		_, err = v.write(ctx, id, s, sec.GetVersionAliases()[alias], etag)
		if errors.Is(err, core.ErrConflict) && try < setTries {
			continue
		}
		if err != nil {
			return v.fail("set", p, err)
		}
		return nil
	}
}

// setTries bounds how many times Set tries its conditional move.
const setTries = 5

// SetIfVersion adds a version of p and moves the alias to it only if the
// secret is unchanged since the Get that reported version in
// Metadata.Version (its etag is the condition), or, for "", only if p does
// not exist. A refused write is an error matching core.ErrConflict, and
// the version it added is destroyed. It returns the new version.
func (v *Vault) SetIfVersion(ctx context.Context, p string, s *vault.Secret, ver string) (string, error) {
	id, err := v.prepare(ctx, p, s)
	if err != nil {
		return "", err
	}
	var prev int64
	var etag string
	if ver == "" {
		sec, err := v.create(ctx, id)
		if status.Code(err) == codes.AlreadyExists {
			// A secret without the alias reads as missing (a first write
			// that failed after the create, or one an operator made
			// empty): write to it, on condition of its etag.
			sec, err = v.c.GetSecret(ctx, &secretmanagerpb.GetSecretRequest{Name: v.secret(id)})
			if err == nil && sec.GetVersionAliases()[alias] != 0 {
				return "", v.fail("set", p, fmt.Errorf("%w: another writer created it", core.ErrConflict))
			}
			if status.Code(err) == codes.NotFound {
				return "", v.fail("set", p, fmt.Errorf("%w: another writer deleted it", core.ErrConflict))
			}
		}
		if err != nil {
			return "", v.fail("set", p, err)
		}
		etag = sec.GetEtag()
	} else if prev, etag, err = parseVersion(ver); err != nil {
		return "", v.fail("set", p, err)
	}
	nv, err := v.write(ctx, id, s, prev, etag)
	if err != nil {
		return "", v.fail("set", p, err)
	}
	return nv, nil
}

func (v *Vault) prepare(ctx context.Context, p string, s *vault.Secret) (string, error) {
	if s == nil {
		return "", fmt.Errorf("gcp: set %s: nil secret", p)
	}
	return v.cv.Secret(ctx, p)
}

func (v *Vault) create(ctx context.Context, id string) (*secretmanagerpb.Secret, error) {
	return v.c.CreateSecret(ctx, &secretmanagerpb.CreateSecretRequest{
		Parent: "projects/" + v.project, SecretId: id,
		Secret: &secretmanagerpb.Secret{Replication: &secretmanagerpb.Replication{
			Replication: &secretmanagerpb.Replication_Automatic_{Automatic: &secretmanagerpb.Replication_Automatic{}},
		}},
	})
}

// write adds a version holding s, moves the alias to it (on condition of
// etag, unless it is ""), and destroys version prev, which the alias named
// before. It returns the new version as Get reports it.
func (v *Vault) write(ctx context.Context, id string, s *vault.Secret, prev int64, etag string) (string, error) {
	data := []byte(s.String())
	sum := int64(crc32.Checksum(data, crc32c))
	ver, err := v.c.AddSecretVersion(ctx, &secretmanagerpb.AddSecretVersionRequest{
		Parent: v.secret(id), Payload: &secretmanagerpb.SecretPayload{Data: data, DataCrc32C: &sum},
	})
	if status.Code(err) == codes.NotFound {
		return "", fmt.Errorf("%w: another writer deleted it", core.ErrConflict)
	}
	if err != nil {
		return "", err
	}
	n, err := versionNumber(ver.GetName())
	if err != nil {
		return "", err
	}
	sec, err := v.c.UpdateSecret(ctx, &secretmanagerpb.UpdateSecretRequest{
		Secret:     &secretmanagerpb.Secret{Name: v.secret(id), Etag: etag, VersionAliases: map[string]int64{alias: n}},
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"version_aliases"}},
	})
	if c := status.Code(err); c == codes.Aborted || c == codes.FailedPrecondition || c == codes.NotFound {
		v.destroy(ctx, ver)
		return "", fmt.Errorf("%w: the secret changed after it was read", core.ErrConflict)
	}
	if err != nil {
		return "", err
	}
	if prev != 0 && prev != n {
		if old, err := v.c.GetSecretVersion(ctx, &secretmanagerpb.GetSecretVersionRequest{Name: v.versionName(id, prev)}); err == nil {
			v.destroy(ctx, old)
		}
	}
	return version(n, sec.GetEtag()), nil
}

// destroy erases a version that no alias names, with its etag as the
// condition. It is best effort.
func (v *Vault) destroy(ctx context.Context, ver *secretmanagerpb.SecretVersion) {
	_, _ = v.c.DestroySecretVersion(ctx, &secretmanagerpb.DestroySecretVersionRequest{Name: ver.GetName(), Etag: ver.GetEtag()})
}

func versionNumber(name string) (int64, error) {
	i := strings.LastIndex(name, "/versions/")
	if i < 0 {
		return 0, fmt.Errorf("version name %q has no number", name)
	}
	return strconv.ParseInt(name[i+len("/versions/"):], 10, 64)
}

// Delete deletes p with all its versions. A missing secret is not an
// error.
func (v *Vault) Delete(ctx context.Context, p string) error {
	id, err := v.cv.Secret(ctx, p)
	if err != nil {
		return err
	}
	err = v.c.DeleteSecret(ctx, &secretmanagerpb.DeleteSecretRequest{Name: v.secret(id)})
	if err != nil && status.Code(err) != codes.NotFound {
		return v.fail("delete", p, err)
	}
	return nil
}

// Exists reports whether p has a current version.
func (v *Vault) Exists(ctx context.Context, p string) (bool, error) {
	return cloudvault.Exists(v.Get(ctx, p))
}

// List returns the paths that start with prefix, sorted.
func (v *Vault) List(ctx context.Context, prefix string) ([]string, error) {
	if err := v.cv.Check(ctx); err != nil {
		return nil, err
	}
	out := []string{}
	it := v.c.ListSecrets(ctx, &secretmanagerpb.ListSecretsRequest{Parent: "projects/" + v.project})
	for {
		sec, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			return nil, v.fail("list", prefix, err)
		}
		if sec.GetVersionAliases()[alias] == 0 {
			continue // created, never written
		}
		n := sec.GetName()[strings.LastIndex(sec.GetName(), "/")+1:]
		if p, ok := v.cv.Path(n, prefix); ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out, nil
}

func (v *Vault) fail(op, p string, err error) error {
	return fmt.Errorf("gcp: %w", vault.NewVaultError(op, p, "gcp-sm", mapErr(err)))
}

// mapErr adds omnivault's sentinels to gRPC statuses, whose messages name
// the resource and never a payload.
func mapErr(err error) error {
	switch status.Code(err) {
	case codes.Unauthenticated, codes.PermissionDenied:
		return fmt.Errorf("%w: %w", vault.ErrAccessDenied, err)
	case codes.Unavailable, codes.ResourceExhausted, codes.DeadlineExceeded:
		return fmt.Errorf("%w: %w", vault.ErrConnectionFailed, err)
	}
	return err
}

// uriPrefix turns a URI's path into the start of every name: PREFIX and a
// '/', so that the vaults of prefixes "a" and "ab" never share a name.
func uriPrefix(path string) string {
	if p := strings.Trim(path, "/"); p != "" {
		return p + "/"
	}
	return ""
}
