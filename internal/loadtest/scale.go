package loadtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnitoken/strategy/oauth2"
	"github.com/plexusone/omnivault/vault"
	xoauth2 "golang.org/x/oauth2"
)

// ScaleName returns the name of the i-th credential WriteVault writes.
func ScaleName(i int) string { return fmt.Sprintf("svc-%06d", i) }

// WriteVault writes n oauth2 client_credentials credentials, named
// ScaleName(0) to ScaleName(n-1), and a token for each valid until
// expiry, straight into the directory layout of a storage.FileVault under
// dir with the default prefixes: plain writes, no fsync, modes 0600 and
// 0700. Each access token is tokenLen random characters. The token
// endpoint is never contacted while the tokens are valid.
func WriteVault(dir string, n, tokenLen int, expiry time.Time) error {
	credDir := filepath.Join(dir, strings.TrimSuffix(storage.DefaultCredentialsPrefix, "/"))
	tokDir := filepath.Join(dir, strings.TrimSuffix(storage.DefaultTokensPrefix, "/"))
	for _, d := range []string{dir, credDir, tokDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	cred := func(i int) ([]byte, error) {
		return json.Marshal(map[string]any{
			"type": oauth2.Type,
			oauth2.Type: oauth2.Section{
				ClientID:     fmt.Sprintf("client-%06d", i),
				ClientSecret: "secret-" + randomText(24),
				Endpoint:     xoauth2.Endpoint{TokenURL: "https://idp.invalid/token"},
				GrantType:    "client_credentials",
			},
		})
	}
	// Files are written by one goroutine per CPU; creating 200,000 files
	// is the kernel's work.
	workers := runtime.GOMAXPROCS(0)
	errs := make(chan error, workers)
	for w := range workers {
		go func() {
			for i := w; i < n; i += workers {
				if err := writeOne(credDir, tokDir, i, tokenLen, expiry, cred); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	var first error
	for range workers {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func writeOne(credDir, tokDir string, i, tokenLen int, expiry time.Time, cred func(int) ([]byte, error)) error {
	name := ScaleName(i) // EscapeName keeps it as is
	c, err := cred(i)
	if err != nil {
		return err
	}
	t, err := json.Marshal(&core.StoredToken{
		Token: core.Token{
			AccessToken: randomText(tokenLen),
			TokenType:   "Bearer",
			Expiry:      expiry,
		},
		IssuedAt:   expiry.Add(-time.Hour),
		Generation: 1,
	})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(credDir, name+".json"), c, 0o600); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(tokDir, name+".json"), t, 0o600)
}

func randomText(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// openManager opens the file vault in dir and a Manager over it, as a
// program starting up would.
func openManager(dir string, wrap func(vault.Vault) vault.Vault) (*core.Manager, func(), error) {
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		return nil, nil, err
	}
	var v vault.Vault = fv
	if wrap != nil {
		v = wrap(fv)
	}
	st, err := storage.New(v, storage.Options{})
	if err != nil {
		fv.Close()
		return nil, nil, err
	}
	m, err := core.New(core.Options{
		Store:             st,
		Strategies:        []core.Strategy{oauth2.New(oauth2.Options{})},
		BackgroundRefresh: true,
		Locker:            fv.Locker(),
	})
	if err != nil {
		fv.Close()
		return nil, nil, err
	}
	return m, func() { _ = m.Close(); _ = fv.Close() }, nil
}

// HeapPerCredential opens the vault WriteVault wrote in dir, gets a token
// for each of its n credentials, and returns the live heap the Manager's
// cache holds per credential, measured after a full GC before and after.
// The store keeps nothing in memory, so the figure is the cache's own.
func HeapPerCredential(ctx context.Context, dir string, n int) (float64, error) {
	m, closeAll, err := openManager(dir, nil)
	if err != nil {
		return 0, err
	}
	defer closeAll()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		if _, err := m.Token(ctx, ScaleName(i)); err != nil {
			return 0, err
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(m)
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n), nil
}

// TimeToFirstToken opens the vault in dir (as WriteVault wrote it, with n
// credentials) reps times and returns the median time from opening it to
// holding a token for the middle credential.
func TimeToFirstToken(ctx context.Context, dir string, n, reps int) (time.Duration, error) {
	name := ScaleName(n / 2)
	ds := make([]time.Duration, 0, reps)
	for range reps {
		start := time.Now()
		m, closeAll, err := openManager(dir, nil)
		if err != nil {
			return 0, err
		}
		_, err = m.Token(ctx, name)
		d := time.Since(start)
		closeAll()
		if err != nil {
			return 0, err
		}
		ds = append(ds, d)
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}
