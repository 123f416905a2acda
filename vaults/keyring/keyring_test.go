//go:build unix

package keyring

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault"
	"github.com/plexusone/omnivault/vault"
	zkeyring "github.com/zalando/go-keyring"
)

const canary = "CANARY-keyring-5e2b"

// newVault returns a Vault on a service of the test's own.
func newVault(t *testing.T) *Vault {
	t.Helper()
	needDaemon(t)
	v, err := New(Options{Service: "omnitoken-test-" + t.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = zkeyring.DeleteAll(v.service) })
	return v
}

func randomText(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawStdEncoding.EncodeToString(b)[:n]
}

func TestRoundTripAndNotFound(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	paths := []string{"credentials/github", "a/b/c", "with space", "ünïcødé/名前", "x" + strings.Repeat("y", MaxPathLen-1)}
	for i, p := range paths {
		if err := v.Set(ctx, p, &vault.Secret{Value: fmt.Sprintf("value-%d-%s", i, canary)}); err != nil {
			t.Fatalf("Set %q: %v", p[:min(len(p), 20)], err)
		}
	}
	for i, p := range paths {
		s, err := v.Get(ctx, p)
		if err != nil || s.Value != fmt.Sprintf("value-%d-%s", i, canary) {
			t.Fatalf("Get %q = %v, %v", p[:min(len(p), 20)], s, err)
		}
		if ok, err := v.Exists(ctx, p); !ok || err != nil {
			t.Fatalf("Exists %q = %v, %v", p[:min(len(p), 20)], ok, err)
		}
	}
	list, err := v.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(paths))
	if !slices.Equal(list, want) {
		t.Fatalf("List = %q, want %q", list, want)
	}
	if l, err := v.List(ctx, "credentials/"); err != nil || !slices.Equal(l, []string{"credentials/github"}) {
		t.Fatalf("List(credentials/) = %q, %v", l, err)
	}

	if _, err := v.Get(ctx, "missing"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	if ok, err := v.Exists(ctx, "missing"); ok || err != nil {
		t.Fatalf("Exists missing = %v, %v", ok, err)
	}
	if err := v.Delete(ctx, "a/b/c"); err != nil {
		t.Fatal(err)
	}
	if err := v.Delete(ctx, "a/b/c"); err != nil {
		t.Fatalf("second Delete: %v", err)
	}
	if _, err := v.Get(ctx, "a/b/c"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get deleted: %v", err)
	}
	if l, _ := v.List(ctx, "a/"); len(l) != 0 {
		t.Fatalf("deleted path still listed: %q", l)
	}

	for _, bad := range []string{"", reserved + "index", "x" + strings.Repeat("y", MaxPathLen), "nul\x00"} {
		err := v.Set(ctx, bad, &vault.Secret{Value: canary})
		if !errors.Is(err, vault.ErrInvalidPath) || strings.Contains(err.Error(), canary) {
			t.Errorf("Set(bad path %d bytes): %v", len(bad), err)
		}
	}
}

// A token with a large ID token, a service-account key, and 64 KiB of
// incompressible data each fit, split into items no larger than
// ChunkSize.
func TestLargeValues(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	idToken := randomText(t, 1200) + "." + randomText(t, 6000) + "." + randomText(t, 342)
	tok, _ := json.Marshal(map[string]any{"access_token": canary, "refresh_token": randomText(t, 600),
		"token_type": "Bearer", "expiry": time.Now().Add(time.Hour), "extra": map[string]any{"id_token": idToken}})
	pem := "-----BEGIN PRIVATE KEY-----\n" + randomText(t, 1624) + "\n-----END PRIVATE KEY-----\n"
	sa, _ := json.Marshal(map[string]string{"type": "service_account", "project_id": "p", "private_key_id": randomText(t, 40),
		"private_key": pem, "client_email": "sa@p.iam.gserviceaccount.com", "client_id": "1234567890"})
	random := make([]byte, 64<<10)
	if _, err := rand.Read(random); err != nil {
		t.Fatal(err)
	}
	for name, val := range map[string][]byte{"token": tok, "gcpsa": sa, "random64k": random} {
		t.Run(name, func(t *testing.T) {
			p := "tokens/" + name
			if err := v.Set(ctx, p, &vault.Secret{ValueBytes: val}); err != nil {
				t.Fatal(err)
			}
			s, err := v.Get(ctx, p)
			if err != nil || !bytes.Equal(s.Bytes(), val) {
				t.Fatalf("Get: %d bytes back, %v", len(s.Bytes()), err)
			}
			headText, err := zkeyring.Get(v.service, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(headText) > ChunkSize {
				t.Fatalf("head item holds %d bytes, more than %d", len(headText), ChunkSize)
			}
			h, ok, err := parseHead(headText)
			if !ok || err != nil {
				t.Fatalf("head does not parse: %v", err)
			}
			if h.gen == "" {
				if len(val) > 2*ChunkSize {
					t.Fatalf("a %d-byte value was stored in one item", len(val))
				}
				return // compressed to fit one item
			}
			for i := range h.n {
				c, err := zkeyring.Get(v.service, chunkKey(h.gen, i))
				if err != nil || len(c) > ChunkSize {
					t.Fatalf("chunk %d: %d bytes, %v", i, len(c), err)
				}
			}
			// Rewriting with a small value removes the chunks.
			if err := v.Set(ctx, p, &vault.Secret{Value: "small"}); err != nil {
				t.Fatal(err)
			}
			if _, err := zkeyring.Get(v.service, chunkKey(h.gen, 0)); !errors.Is(err, zkeyring.ErrNotFound) {
				t.Fatalf("old chunk left behind: %v", err)
			}
			if s, err := v.Get(ctx, p); err != nil || s.Value != "small" {
				t.Fatalf("Get after rewrite: %v, %v", s, err)
			}
			// Delete removes chunks too.
			if err := v.Set(ctx, p, &vault.Secret{ValueBytes: val}); err != nil {
				t.Fatal(err)
			}
			headText, _ = zkeyring.Get(v.service, p)
			h, _, _ = parseHead(headText)
			if err := v.Delete(ctx, p); err != nil {
				t.Fatal(err)
			}
			if _, err := zkeyring.Get(v.service, chunkKey(h.gen, h.n-1)); !errors.Is(err, zkeyring.ErrNotFound) {
				t.Fatalf("Delete left a chunk behind: %v", err)
			}
		})
	}
}

func TestDamagedChunkIsAnError(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	val := randomText(t, 3*ChunkSize)
	if err := v.Set(ctx, "big", &vault.Secret{Value: val}); err != nil {
		t.Fatal(err)
	}
	headText, _ := zkeyring.Get(v.service, "big")
	h, _, _ := parseHead(headText)
	c, _ := zkeyring.Get(v.service, chunkKey(h.gen, 1))
	b := []byte(c)
	b[7] ^= 1
	if err := zkeyring.Set(v.service, chunkKey(h.gen, 1), string(b)); err != nil {
		t.Fatal(err)
	}
	s, err := v.Get(ctx, "big")
	if err == nil {
		t.Fatalf("a damaged chunk was read back (%d bytes)", len(s.Value))
	}
	if !strings.Contains(err.Error(), "checksum") {
		t.Fatalf("error does not say what is wrong: %v", err)
	}
	if !errors.Is(err, ErrDamaged) || errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("a damaged value must match ErrDamaged, not ErrSecretNotFound: %v", err)
	}
}

func TestConcurrentWritersAndReaders(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	vals := []string{randomText(t, 5000), randomText(t, 9000), "tiny"}
	if err := v.Set(ctx, "shared", &vault.Secret{Value: vals[0]}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for w := range 6 {
		wg.Go(func() {
			if err := v.Set(ctx, fmt.Sprintf("w/%d", w), &vault.Secret{Value: vals[w%3]}); err != nil {
				errs <- err
			}
			for i := range 3 {
				if err := v.Set(ctx, "shared", &vault.Secret{Value: vals[(w+i)%3]}); err != nil {
					errs <- err
				}
			}
		})
	}
	for range 3 {
		wg.Go(func() {
			for range 5 {
				s, err := v.Get(ctx, "shared")
				if err != nil {
					errs <- err
					return
				}
				if !slices.Contains(vals, s.Value) {
					errs <- fmt.Errorf("a reader saw a torn value of %d bytes", len(s.Value))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	l, err := v.List(ctx, "w/")
	if err != nil || len(l) != 6 {
		t.Fatalf("List(w/) = %q, %v: an index update was lost", l, err)
	}
}

func TestContextAndClose(t *testing.T) {
	v := newVault(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := v.Set(ctx, "p", &vault.Secret{Value: "x"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Set with a cancelled context: %v", err)
	}
	if ok, _ := v.Exists(context.Background(), "p"); ok {
		t.Fatal("a cancelled Set wrote")
	}
	if _, err := v.Get(ctx, "p"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Get with a cancelled context: %v", err)
	}
	if err := v.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(context.Background(), "p"); !errors.Is(err, vault.ErrClosed) {
		t.Fatalf("Get after Close: %v", err)
	}
}

func TestForeignValueReadAsIs(t *testing.T) {
	v := newVault(t)
	if err := zkeyring.Set(v.service, "set-by-secret-tool", "plain value"); err != nil {
		t.Fatal(err)
	}
	s, err := v.Get(context.Background(), "set-by-secret-tool")
	if err != nil || s.Value != "plain value" {
		t.Fatalf("Get = %v, %v", s, err)
	}
}

func TestOpenURI(t *testing.T) {
	for uri, want := range map[string]string{"keyring://": DefaultService, "keyring://my-agent": "my-agent", "keyring:///": DefaultService} {
		v, err := omnivault.VaultFromURI(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if got := v.(*Vault).Service(); got != want {
			t.Errorf("%s: service %q, want %q", uri, got, want)
		}
	}
	for _, bad := range []string{"keyring://svc/extra", "keyring://svc?x=1", "keyring://u@svc", "keychain://svc"} {
		if _, err := omnivault.VaultFromURI(bad); err == nil {
			t.Errorf("%s opened", bad)
		} else if !strings.HasPrefix(err.Error(), "keyring: ") {
			t.Errorf("%s: error %q does not start with the package name", bad, err)
		}
	}
}

// The Store over a keyring vault: credentials and a large token.
func TestStoreOverKeyring(t *testing.T) {
	v := newVault(t)
	st, err := storage.New(v, storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c, err := core.ParseCredentials([]byte(`{"service":"github","type":"basic","basic":{"username":"u","password":"` + canary + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.SetCredentials(ctx, "GitHub Work", c); err != nil {
		t.Fatal(err)
	}
	names, err := st.ListCredentials(ctx)
	if err != nil || !slices.Equal(names, []string{"GitHub Work"}) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
	big := &core.StoredToken{Token: core.Token{AccessToken: canary, Extra: map[string]any{"id_token": randomText(t, 8000)}}}
	if err := st.SetToken(ctx, "GitHub Work", big); err != nil {
		t.Fatal(err)
	}
	got, err := st.GetToken(ctx, "GitHub Work")
	if err != nil || got.AccessToken != canary || got.Extra["id_token"] != big.Extra["id_token"] {
		t.Fatalf("GetToken: %v", err)
	}
}

func storeToken(t *testing.T, st *storage.Store, name string) {
	t.Helper()
	if err := st.SetToken(context.Background(), name, &core.StoredToken{Token: core.Token{AccessToken: canary}}); err != nil {
		t.Fatal(err)
	}
}

// helperPaths is how many new paths each writer process stores.
const helperPaths = 5

// Writer processes adding new paths to one service at once lose none of
// them from the index: the write lock is shared across processes.
func TestWritersInSeveralProcesses(t *testing.T) {
	v := newVault(t)
	const procs = 4
	cmds := make([]*exec.Cmd, procs)
	outs := make([]*bytes.Buffer, procs)
	for i := range cmds {
		cmds[i] = exec.Command(os.Args[0], "-test.run=^$")
		cmds[i].Env = append(os.Environ(), helperEnv+"=1", helperServiceEnv+"="+v.service, fmt.Sprintf("%s=%d", helperIDEnv, i))
		outs[i] = new(bytes.Buffer)
		cmds[i].Stdout, cmds[i].Stderr = outs[i], outs[i]
	}
	for _, c := range cmds {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for i, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatalf("writer %d: %v\n%s", i, err, outs[i])
		}
	}
	ctx := context.Background()
	got, err := v.List(ctx, "p/")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != procs*helperPaths {
		t.Fatalf("List holds %d paths, want %d: %q", len(got), procs*helperPaths, got)
	}
	for _, p := range got {
		s, err := v.Get(ctx, p)
		if err != nil || s.Value != strings.Repeat(p+"|", 1500) {
			t.Fatalf("Get %s: %v", p, err)
		}
	}
}

// TestDamagedIndexNotTakenForEmpty: a chunked item whose chunks are gone
// or altered is damage, not absence. Taken for "not found", a damaged
// index was read as empty, and the next write replaced it with an index
// of one path, so List silently lost every other path.
func TestDamagedIndexNotTakenForEmpty(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	// Enough random names that the compressed index spans several chunks.
	var paths []string
	for i := range 120 {
		p := fmt.Sprintf("creds/%03d-%s", i, randomText(t, 40))
		if err := v.Set(ctx, p, &vault.Secret{Value: "v"}); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	headText, err := zkeyring.Get(v.service, indexKey)
	if err != nil {
		t.Fatal(err)
	}
	h, _, _ := parseHead(headText)
	if h.gen == "" {
		t.Fatal("the index is not chunked: the test needs more paths")
	}
	chunk1, err := zkeyring.Get(v.service, chunkKey(h.gen, 1))
	if err != nil {
		t.Fatal(err)
	}
	if err := zkeyring.Delete(v.service, chunkKey(h.gen, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := v.List(ctx, ""); err == nil || errors.Is(err, vault.ErrSecretNotFound) || !errors.Is(err, ErrDamaged) {
		t.Fatalf("List over a damaged index: %v, want ErrDamaged", err)
	}
	if err := v.Set(ctx, "creds/new", &vault.Secret{Value: "v"}); err == nil || !errors.Is(err, ErrDamaged) {
		t.Fatalf("Set over a damaged index: %v, want ErrDamaged (it must not rewrite the index from nothing)", err)
	}
	// Restoring the chunk restores the index, with nothing lost.
	if err := zkeyring.Set(v.service, chunkKey(h.gen, 1), chunk1); err != nil {
		t.Fatal(err)
	}
	got, err := v.List(ctx, "creds/")
	if err != nil || len(got) != len(paths) {
		t.Fatalf("List after repair: %d paths, %v; want %d", len(got), err, len(paths))
	}
}

// countdownCtx is cancelled after its Err has been asked n times: a write
// interrupted at each step in turn.
type countdownCtx struct {
	context.Context
	n int
}

func (c *countdownCtx) Err() error {
	if c.n <= 0 {
		return context.Canceled
	}
	c.n--
	return nil
}

// TestInterruptedChunkedWrite: a rewrite of a chunked value interrupted
// after any number of its chunks leaves the old value readable, whole;
// the first run that is not interrupted stores the new one.
func TestInterruptedChunkedWrite(t *testing.T) {
	v := newVault(t)
	ctx := context.Background()
	old, next := randomText(t, 4*ChunkSize), randomText(t, 4*ChunkSize)
	if err := v.Set(ctx, "big", &vault.Secret{Value: old}); err != nil {
		t.Fatal(err)
	}
	interrupted := 0
	for n := 0; ; n++ {
		if n > 100 {
			t.Fatal("the write never completed")
		}
		err := v.Set(&countdownCtx{Context: ctx, n: n}, "big", &vault.Secret{Value: next})
		s, gerr := v.Get(ctx, "big")
		if gerr != nil {
			t.Fatalf("after a write stopped at step %d: %v", n, gerr)
		}
		if err == nil {
			if s.Value != next {
				t.Fatal("a completed write is not read back")
			}
			break
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("step %d: %v", n, err)
		}
		if s.Value != old {
			t.Fatalf("a write stopped at step %d changed the value", n)
		}
		interrupted++
	}
	// Several of the interruptions fell between chunks.
	if interrupted < 4 {
		t.Fatalf("only %d interrupted writes: the chunk loop was not reached", interrupted)
	}
	// A new path, and its deletion, interrupted at each step: the path is
	// listed exactly when it exists, and an error means nothing changed.
	for _, del := range []bool{false, true} {
		for n := 0; ; n++ {
			if n > 100 {
				t.Fatal("the operation never completed")
			}
			p := fmt.Sprintf("fresh-%v-%d", del, n)
			if del {
				if err := v.Set(ctx, p, &vault.Secret{Value: next}); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			if del {
				err = v.Delete(&countdownCtx{Context: ctx, n: n}, p)
			} else {
				err = v.Set(&countdownCtx{Context: ctx, n: n}, p, &vault.Secret{Value: next})
			}
			exists, xerr := v.Exists(ctx, p)
			listed, lerr := v.List(ctx, p)
			if xerr != nil || lerr != nil {
				t.Fatal(xerr, lerr)
			}
			if exists != (len(listed) == 1) {
				t.Fatalf("delete=%v stopped at step %d: exists %v, listed %v", del, n, exists, listed)
			}
			if err != nil && exists != del { // it took effect
				t.Fatalf("delete=%v stopped at step %d reported %v but took effect", del, n, err)
			}
			if err == nil {
				if exists == del {
					t.Fatalf("delete=%v completed at step %d without effect", del, n)
				}
				break
			}
		}
	}
}
