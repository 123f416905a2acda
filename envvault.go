package omnitoken

import (
	"context"
	"os"
	"strings"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

// DefaultEnvPrefix is NewFromEnv's prefix when none is given.
const DefaultEnvPrefix = "OMNITOKEN_"

// envVault is a read-only vault over environment variables named
// {prefix}{NAME}_CREDENTIALS, each holding goauth Credentials JSON. NAME is
// the credential name in upper case with "-" written as "_". Tokens, which
// cannot be written here, are kept in memory by the store.
type envVault struct {
	prefix     string
	credPrefix string
}

const envSuffix = "_CREDENTIALS"

func (e *envVault) varName(path string) (string, bool) {
	seg, ok := strings.CutPrefix(path, e.credPrefix)
	if !ok || seg == "" || strings.Contains(seg, "/") {
		return "", false
	}
	name, err := storage.UnescapeName(seg)
	if err != nil {
		return "", false
	}
	return e.prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_")) + envSuffix, true
}

func (e *envVault) Get(_ context.Context, path string) (*vault.Secret, error) {
	if v, ok := e.varName(path); ok {
		if val, found := os.LookupEnv(v); found {
			return &vault.Secret{Value: val}, nil
		}
	}
	return nil, vault.NewVaultError("Get", path, e.Name(), vault.ErrSecretNotFound)
}

func (e *envVault) Set(_ context.Context, path string, _ *vault.Secret) error {
	return vault.NewVaultError("Set", path, e.Name(), vault.ErrReadOnly)
}

func (e *envVault) Delete(_ context.Context, path string) error {
	return vault.NewVaultError("Delete", path, e.Name(), vault.ErrReadOnly)
}

func (e *envVault) Exists(ctx context.Context, path string) (bool, error) {
	_, err := e.Get(ctx, path)
	return err == nil, nil
}

// List lists credential paths: each {prefix}{NAME}_CREDENTIALS variable
// gives the name NAME in lower case with "_" written as "-".
func (e *envVault) List(_ context.Context, prefix string) ([]string, error) {
	if !strings.HasPrefix(e.credPrefix, prefix) && !strings.HasPrefix(prefix, e.credPrefix) {
		return nil, nil
	}
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		mid, ok := strings.CutPrefix(k, e.prefix)
		if !ok {
			continue
		}
		mid, ok = strings.CutSuffix(mid, envSuffix)
		if !ok || mid == "" {
			continue
		}
		seg, err := storage.EscapeName(strings.ToLower(strings.ReplaceAll(mid, "_", "-")))
		if err != nil {
			continue
		}
		if p := e.credPrefix + seg; strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (e *envVault) Name() string { return "omnitoken-env" }

func (e *envVault) Capabilities() vault.Capabilities {
	return vault.Capabilities{Read: true, List: true}
}

func (e *envVault) Close() error { return nil }

var _ vault.Vault = (*envVault)(nil)
