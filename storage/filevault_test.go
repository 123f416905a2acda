//go:build unix

package storage_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/storage"
	"github.com/plexusone/omnivault/vault"
)

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestFileVaultRoundTrip(t *testing.T) {
	dir := t.TempDir()
	fv := newFileVault(t, dir)
	ctx := context.Background()
	const doc = `{"service":"github","type":"basic","basic":{"username":"u","password":"p"}}`
	if err := fv.Set(ctx, "credentials/github", &vault.Secret{Value: doc, Fields: map[string]string{"x": "y"}}); err != nil {
		t.Fatal(err)
	}
	// The file is the value, byte for byte.
	raw, err := os.ReadFile(filepath.Join(dir, "credentials", "github.json"))
	if err != nil || string(raw) != doc {
		t.Fatalf("file = %q, %v", raw, err)
	}
	s, err := fv.Get(ctx, "credentials/github")
	if err != nil || s.Value != doc || s.Fields != nil {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	// ValueBytes wins over Value, as vault.Secret documents.
	if err := fv.Set(ctx, "tokens/github", &vault.Secret{Value: "ignored", ValueBytes: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	if s, err := fv.Get(ctx, "tokens/github"); err != nil || s.Value != "{}" {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	if ok, err := fv.Exists(ctx, "credentials/github"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	if ok, err := fv.Exists(ctx, "credentials/nope"); ok || err != nil {
		t.Fatalf("Exists(missing) = %v, %v", ok, err)
	}
	if _, err := fv.Get(ctx, "credentials/nope"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}

	// List: by prefix, sorted, without ".json", ignoring temp files,
	// hidden entries, symlinks and foreign files.
	for _, p := range []string{"credentials/a", "credentials/sub/b", "other/c", "top"} {
		if err := fv.Set(ctx, p, &vault.Secret{Value: "{}"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, junk := range []string{"credentials/.tmp-deadbeef", "credentials/notes.txt", ".locks/x.json", "credentials/.hidden.json"} {
		_ = os.MkdirAll(filepath.Dir(filepath.Join(dir, junk)), 0o700)
		if err := os.WriteFile(filepath.Join(dir, junk), []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("a.json", filepath.Join(dir, "credentials", "link.json")); err != nil {
		t.Fatal(err)
	}
	for prefix, want := range map[string][]string{
		"credentials/":     {"credentials/a", "credentials/github", "credentials/sub/b"},
		"credentials/g":    {"credentials/github"},
		"credentials/sub/": {"credentials/sub/b"},
		"cred":             {"credentials/a", "credentials/github", "credentials/sub/b"},
		"":                 {"credentials/a", "credentials/github", "credentials/sub/b", "other/c", "tokens/github", "top"},
		"missing/":         {},
		"t":                {"tokens/github", "top"},
	} {
		got, err := fv.List(ctx, prefix)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("List(%q) = %q, %v; want %q", prefix, got, err, want)
		}
	}

	if err := fv.Delete(ctx, "credentials/github"); err != nil {
		t.Fatal(err)
	}
	if err := fv.Delete(ctx, "credentials/github"); err != nil {
		t.Fatalf("Delete(missing) = %v", err)
	}
	if _, err := fv.Get(ctx, "credentials/github"); !errors.Is(err, vault.ErrSecretNotFound) {
		t.Fatalf("Get after Delete = %v", err)
	}

	caps := fv.Capabilities()
	if !caps.Read || !caps.Write || !caps.Delete || !caps.List || fv.Name() != "file" {
		t.Fatalf("capabilities %+v, name %q", caps, fv.Name())
	}

	// Close is idempotent; every call after it fails with ErrClosed.
	if err := fv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := fv.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := fv.Get(ctx, "credentials/a"); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Get after Close = %v", err)
	}
	if err := fv.Set(ctx, "credentials/a", &vault.Secret{}); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Set after Close = %v", err)
	}
	if err := fv.Delete(ctx, "credentials/a"); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Delete after Close = %v", err)
	}
	if _, err := fv.Exists(ctx, "credentials/a"); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("Exists after Close = %v", err)
	}
	if _, err := fv.List(ctx, ""); !errors.Is(err, vault.ErrClosed) {
		t.Errorf("List after Close = %v", err)
	}
}

// TestFileVaultPermissions: under umask
// 000 (and a restrictive one), files are 0600 and directories 0700, and an
// existing 0644 file is narrowed on read and on write.
func TestFileVaultPermissions(t *testing.T) {
	for _, umask := range []int{0o000, 0o277} {
		old := syscall.Umask(umask)
		func() {
			defer syscall.Umask(old)
			dir := filepath.Join(t.TempDir(), "new", "vault")
			fv := newFileVault(t, dir)
			ctx := context.Background()
			if err := fv.Set(ctx, "credentials/deep/x", &vault.Secret{Value: "{}"}); err != nil {
				t.Fatal(err)
			}
			unlock, err := fv.Locker().Lock(ctx, "x")
			if err != nil {
				t.Fatal(err)
			}
			unlock()
			for p, want := range map[string]fs.FileMode{
				dir:                                    0o700,
				filepath.Join(dir, "credentials"):      0o700,
				filepath.Join(dir, "credentials/deep"): 0o700,
				filepath.Join(dir, "credentials/deep/x.json"): 0o600,
				filepath.Join(dir, ".locks"):                  0o700,
				filepath.Join(dir, ".locks/x.lock"):           0o600,
			} {
				if got := mode(t, p); got != want {
					t.Errorf("umask %03o: %s is %04o, want %04o", umask, p, got, want)
				}
			}
		}()
	}

	dir := t.TempDir()
	fv := newFileVault(t, dir)
	ctx := context.Background()
	wide := filepath.Join(dir, "credentials", "wide.json")
	if err := os.MkdirAll(filepath.Dir(wide), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wide, []byte(`{"type":"basic"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(wide, 0o644); err != nil {
		t.Fatal(err)
	}
	if s, err := fv.Get(ctx, "credentials/wide"); err != nil || s.Value != `{"type":"basic"}` {
		t.Fatalf("Get = %+v, %v", s, err)
	}
	if got := mode(t, wide); got != 0o600 {
		t.Fatalf("after Get, the 0644 file is %04o", got)
	}
	if err := os.Chmod(wide, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := fv.Set(ctx, "credentials/wide", &vault.Secret{Value: "{}"}); err != nil {
		t.Fatal(err)
	}
	if got, dgot := mode(t, wide), mode(t, filepath.Dir(wide)); got != 0o600 || dgot != 0o700 {
		t.Fatalf("after Set, file %04o dir %04o", got, dgot)
	}
}

// TestFileVaultSymlink: a symlink at a
// secret's path is refused on Get, Set and Exists, and its target is never
// read or written; a symlinked directory cannot lead outside the vault.
func TestFileVaultSymlink(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vault")
	fv := newFileVault(t, dir)
	ctx := context.Background()
	target := filepath.Join(parent, "target.json")
	const content = `{"outside":"the vault"}`
	if err := os.WriteFile(target, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "credentials"), 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "credentials", "x.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	// A relative link that stays inside the vault is refused too.
	if err := os.WriteFile(filepath.Join(dir, "credentials", "real.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.json", filepath.Join(dir, "credentials", "inner.json")); err != nil {
		t.Fatal(err)
	}

	for _, p := range []string{"credentials/x", "credentials/inner"} {
		if _, err := fv.Get(ctx, p); !errors.Is(err, storage.ErrUnsafeFile) || !errors.Is(err, vault.ErrAccessDenied) {
			t.Errorf("Get(%s) = %v, want ErrUnsafeFile", p, err)
		}
		if err := fv.Set(ctx, p, &vault.Secret{Value: "new"}); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("Set(%s) = %v, want ErrUnsafeFile", p, err)
		}
		if _, err := fv.Exists(ctx, p); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("Exists(%s) = %v, want ErrUnsafeFile", p, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != content {
		t.Fatalf("target changed: %q", b)
	}
	if got := mode(t, target); got != 0o644 {
		t.Fatalf("target mode changed to %04o", got)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v", err)
	}
	// Delete removes the link itself, never the target.
	if err := fv.Delete(ctx, "credentials/x"); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != content {
		t.Fatalf("target changed by Delete: %q", b)
	}

	// A directory symlinked outside the vault is never followed out.
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(dir, "tokens")); err != nil {
		t.Fatal(err)
	}
	if err := fv.Set(ctx, "tokens/y", &vault.Secret{Value: "{}"}); err == nil {
		t.Fatal("Set through a symlinked directory succeeded")
	}
	if _, err := fv.Get(ctx, "tokens/y"); err == nil {
		t.Fatal("Get through a symlinked directory succeeded")
	}
	if err := os.Symlink("../outside", filepath.Join(dir, "rel")); err != nil {
		t.Fatal(err)
	}
	if err := fv.Set(ctx, "rel/z", &vault.Secret{Value: "{}"}); err == nil {
		t.Fatal("Set through a relative symlink out of the vault succeeded")
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 0 {
		t.Fatalf("created outside the vault: %v", entries)
	}
	// A symlink at the lock path is refused as well.
	if err := os.MkdirAll(filepath.Join(dir, ".locks"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, filepath.Join(dir, ".locks", "l.lock")); err != nil {
		t.Fatal(err)
	}
	if _, err := fv.Locker().Lock(ctx, "l"); !errors.Is(err, storage.ErrUnsafeFile) {
		t.Fatalf("Lock over a symlink = %v", err)
	}
}

// TestFileVaultSymlinkedParent: in a secret's directories, a symlinked directory, pointing inside the vault
// or out of it, is refused by every operation, so one vault path never
// reads, lists or deletes another's file, and nothing outside is touched.
func TestFileVaultSymlinkedParent(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vault")
	fv := newFileVault(t, dir)
	ctx := context.Background()
	for _, p := range []string{"tokens/x", "real/sub/x"} {
		if err := fv.Set(ctx, p, &vault.Secret{Value: "{}"}); err != nil {
			t.Fatal(err)
		}
	}
	outside := filepath.Join(parent, "outside")
	if err := os.MkdirAll(outside, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "x.json"), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	for link, target := range map[string]string{
		"credentials": "tokens",        // inside the vault
		"real/link":   "sub",           // inside, one level down
		"away":        outside,         // out of the vault, absolute
		"rel":         "../outside",    // out of the vault, relative
		"real/deep":   "../../outside", // out of the vault from below
	} {
		if err := os.Symlink(target, filepath.Join(dir, filepath.FromSlash(link))); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"credentials/x", "real/link/x", "away/x", "rel/x", "real/deep/x"} {
		if _, err := fv.Get(ctx, p); !errors.Is(err, storage.ErrUnsafeFile) || !errors.Is(err, vault.ErrAccessDenied) {
			t.Errorf("Get(%s) = %v, want ErrUnsafeFile", p, err)
		}
		if ok, err := fv.Exists(ctx, p); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("Exists(%s) = %v, %v, want ErrUnsafeFile", p, ok, err)
		}
		if err := fv.Delete(ctx, p); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("Delete(%s) = %v, want ErrUnsafeFile", p, err)
		}
		if err := fv.Set(ctx, p, &vault.Secret{Value: "new"}); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("Set(%s) = %v, want ErrUnsafeFile", p, err)
		}
		prefix := p[:strings.LastIndexByte(p, '/')+1]
		if got, err := fv.List(ctx, prefix); !errors.Is(err, storage.ErrUnsafeFile) {
			t.Errorf("List(%s) = %q, %v, want ErrUnsafeFile", prefix, got, err)
		}
	}
	// Listing everything shows only the real files: links are not walked.
	if got, err := fv.List(ctx, ""); err != nil || !slices.Equal(got, []string{"real/sub/x", "tokens/x"}) {
		t.Errorf("List() = %q, %v", got, err)
	}
	// The files behind the links are untouched.
	for _, f := range []string{filepath.Join(dir, "tokens", "x.json"), filepath.Join(dir, "real", "sub", "x.json"), filepath.Join(outside, "x.json")} {
		if b, err := os.ReadFile(f); err != nil || string(b) != "{}" {
			t.Errorf("%s: %q, %v", f, b, err)
		}
	}
	if entries, _ := os.ReadDir(outside); len(entries) != 1 {
		t.Errorf("outside holds %d entries", len(entries))
	}
}

// TestFileVaultSweepsTemps: temp files left by writers killed mid-write
// (they hold secrets) are removed by a later write to the same directory
// once they are old; fresh ones, which may be a live writer's, and other
// files stay. Each directory is swept once in a while, not on every write.
func TestFileVaultSweepsTemps(t *testing.T) {
	dir := t.TempDir()
	fv := newFileVault(t, dir)
	ctx := context.Background()
	old := time.Now().Add(-time.Hour)
	put := func(rel string, aged bool) string {
		t.Helper()
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(`{"secret":"left behind"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if aged {
			if err := os.Chtimes(p, old, old); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	exists := func(p string) bool {
		_, err := os.Lstat(p)
		return err == nil
	}
	oldTemp := put("credentials/.tmp-0123abcd", true)
	freshTemp := put("credentials/.tmp-4567ef01", false)
	oldOther := put("credentials/notes.txt", true)
	oldElsewhere := put("tokens/.tmp-89abcdef", true)
	tempDir := filepath.Join(dir, "credentials", ".tmp-dir")
	if err := os.Mkdir(tempDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tempDir, old, old); err != nil {
		t.Fatal(err)
	}

	if err := fv.Set(ctx, "credentials/a", &vault.Secret{Value: "{}"}); err != nil {
		t.Fatal(err)
	}
	if exists(oldTemp) {
		t.Error("an hour-old temp file survived a write in its directory")
	}
	for _, p := range []string{freshTemp, oldOther, oldElsewhere, tempDir} {
		if !exists(p) {
			t.Errorf("%s was removed", p)
		}
	}
	if s, err := fv.Get(ctx, "credentials/a"); err != nil || s.Value != "{}" {
		t.Fatalf("Get = %v, %v", s, err)
	}

	// Not on every write: a second old temp file waits for the next
	// sweep, which a new FileVault (a new process) does on its first
	// write there.
	again := put("credentials/.tmp-22222222", true)
	if err := fv.Set(ctx, "credentials/b", &vault.Secret{Value: "{}"}); err != nil {
		t.Fatal(err)
	}
	if !exists(again) {
		t.Error("the directory was swept again at once")
	}
	if err := newFileVault(t, dir).Set(ctx, "credentials/c", &vault.Secret{Value: "{}"}); err != nil {
		t.Fatal(err)
	}
	if exists(again) {
		t.Error("a new FileVault's first write did not sweep")
	}
	if got, err := fv.List(ctx, ""); err != nil || !slices.Equal(got, []string{"credentials/a", "credentials/b", "credentials/c"}) {
		t.Errorf("List = %q, %v", got, err)
	}
}

// TestFileVaultInvalidPaths, at the vault: unsafe
// paths are refused with ErrInvalidPath before any file system call.
func TestFileVaultInvalidPaths(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vault")
	fv := newFileVault(t, dir)
	ctx := context.Background()
	for _, p := range []string{
		"", "../x", "credentials/../../x", "/abs", "/etc/passwd", "a//b", "a/", "/", ".", "..", "./x",
		"a/./b", `a\b`, `C:\x`, "a\x00b", ".hidden", "credentials/.tmp-x", ".locks/x", "x.json/y",
		"....//x", "a/" + string(make([]byte, 251)), "a/" + strings.Repeat("x", 251), strings.Repeat("d", 251) + "/x",
	} {
		if _, err := fv.Get(ctx, p); !errors.Is(err, vault.ErrInvalidPath) {
			t.Errorf("Get(%q) = %v", p, err)
		}
		if err := fv.Set(ctx, p, &vault.Secret{Value: "{}"}); !errors.Is(err, vault.ErrInvalidPath) {
			t.Errorf("Set(%q) = %v", p, err)
		}
		if err := fv.Delete(ctx, p); !errors.Is(err, vault.ErrInvalidPath) {
			t.Errorf("Delete(%q) = %v", p, err)
		}
		if _, err := fv.Exists(ctx, p); !errors.Is(err, vault.ErrInvalidPath) {
			t.Errorf("Exists(%q) = %v", p, err)
		}
	}
	for _, prefix := range []string{"../", "/abs", "a\x00", `a\`, "../../etc/", "a//", ".locks/"} {
		if _, err := fv.List(ctx, prefix); !errors.Is(err, vault.ErrInvalidPath) {
			t.Errorf("List(%q) = %v", prefix, err)
		}
	}
	entries, err := os.ReadDir(parent)
	if err != nil || len(entries) != 1 || entries[0].Name() != "vault" {
		t.Fatalf("parent holds %v, %v", entries, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("vault holds %v", entries)
	}
	// The longest segment fits the file system's 255-byte names with
	// ".json" added.
	longest := strings.Repeat("d", 250) + "/" + strings.Repeat("x", 250)
	if err := fv.Set(ctx, longest, &vault.Secret{Value: "{}"}); err != nil {
		t.Fatalf("Set(250-byte segments) = %v", err)
	}
	if got, err := fv.List(ctx, ""); err != nil || !slices.Equal(got, []string{longest}) {
		t.Fatalf("List = %q, %v", got, err)
	}
}

// TestFileVaultConcurrent writes and reads one path from many goroutines:
// every read sees one whole value.
func TestFileVaultConcurrent(t *testing.T) {
	fv := newFileVault(t, t.TempDir())
	ctx := context.Background()
	values := []string{`{"v":"one"}`, `{"v":"two"}`, `{"v":"three"}`}
	if err := fv.Set(ctx, "credentials/c", &vault.Secret{Value: values[0]}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := range 4 {
		wg.Go(func() {
			for i := range 50 {
				if err := fv.Set(ctx, "credentials/c", &vault.Secret{Value: values[(g+i)%3]}); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for range 50 {
				s, err := fv.Get(ctx, "credentials/c")
				if err != nil {
					errs <- err
					return
				}
				if !slices.Contains(values, s.Value) {
					errs <- errors.New("torn read: " + s.Value)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, _ := fv.List(ctx, ""); !slices.Equal(got, []string{"credentials/c"}) {
		t.Fatalf("List = %q", got)
	}
}
