package storage_test

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/storage"
)

// adversarialNames are credential names that try to escape the vault
// root or to collide after escaping: traversal, absolute and Windows
// paths, percent-encoded dots and slashes, NUL and backslashes.
var adversarialNames = []string{
	"github", "../x", "a/b", "a_b", "a%2Fb", "a%2fb", "..", ".", "...", "/abs", "a\x00b",
	`C:\x`, `a\b`, "%2e%2e", "%2e%2e%2f", "....//", "..%2F..%2Fetc", "x/../../y",
	"ключ", "日本", "🔑", "e\u0301", "\u00e9", "Github", "GITHUB", ".hidden", ".locks",
	".tmp-1234", "x.json", "x.lock", "a b", "tab\there", "nl\nhere", "\x01\x1f\x7f",
	"~", "*", "?", "con", "-", "_", "%", "%%", "%25", "a.", "a..", "a...b",
	strings.Repeat("x", 300), strings.Repeat("y", 200), strings.Repeat("z", 201),
	strings.Repeat("é", 100), strings.Repeat("/", 80), strings.Repeat("/", 81), strings.Repeat("w", driver.MaxNameLen-1) + "/",
	strings.Repeat("G", 80), strings.Repeat("G", 81), strings.Repeat("g", 200) + "G",
	"", "\xff\xfe", " ", "credentials/../tokens/x",
}

// TestNames stores every adversarial name through a Store on a file
// vault: each comes back exactly from List and Get, or is refused with
// ErrInvalidCredentials, and nothing appears outside the vault directory.
func TestNames(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "vault")
	fv := newFileVault(t, dir)
	st := newStore(t, fv, storage.Options{})
	ctx := context.Background()

	var accepted []string
	for i, name := range adversarialNames {
		c := &core.Credentials{Service: "svc", Type: "basic", Subdomain: name}
		if err := c.SetSection("basic", map[string]string{"username": name}); err != nil {
			t.Fatal(err)
		}
		err := st.SetCredentials(ctx, name, c)
		if err != nil {
			if !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("name %d %q: refused without ErrInvalidCredentials: %v", i, name, err)
			}
			// Every other operation refuses it the same way.
			if _, err := st.GetCredentials(ctx, name); !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("name %d %q: Get: %v", i, name, err)
			}
			if err := st.SetToken(ctx, name, &core.StoredToken{Token: core.Token{AccessToken: "a"}}); !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("name %d %q: SetToken: %v", i, name, err)
			}
			if _, err := fv.Locker().Lock(ctx, name); !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("name %d %q: Lock: %v", i, name, err)
			}
			continue
		}
		accepted = append(accepted, name)
		got, err := st.GetCredentials(ctx, name)
		if err != nil {
			t.Fatalf("name %d %q: Get: %v", i, name, err)
		}
		want, _ := c.MarshalJSON()
		if b, _ := got.MarshalJSON(); !bytes.Equal(b, want) {
			t.Fatalf("name %d %q: Get returned another credential: %s", i, name, b)
		}
		tok := &core.StoredToken{Token: core.Token{AccessToken: "at-" + name}, Generation: uint64(i + 1)}
		if err := st.SetToken(ctx, name, tok); err != nil {
			t.Fatalf("name %d %q: SetToken: %v", i, name, err)
		}
		unlock, err := fv.Locker().Lock(ctx, name)
		if err != nil {
			t.Fatalf("name %d %q: Lock: %v", i, name, err)
		}
		unlock()
	}
	// Refused as expected, and only these.
	for _, name := range []string{"", "a\x00b", "\xff\xfe", strings.Repeat("x", 300), strings.Repeat("z", 201), strings.Repeat("é", 100), strings.Repeat("/", 81), strings.Repeat("G", 81), strings.Repeat("g", 200) + "G"} {
		if slices.Contains(accepted, name) {
			t.Errorf("%q was accepted", name)
		}
	}
	for _, name := range []string{"../x", "a/b", "a_b", "a%2Fb", "..", ".", "/abs", `C:\x`, "ключ", "日本", "🔑", strings.Repeat("y", 200), strings.Repeat("/", 80), strings.Repeat("G", 80), strings.Repeat("w", driver.MaxNameLen-1) + "/", "github", "Github", "GITHUB", ".locks", ".tmp-1234"} {
		if !slices.Contains(accepted, name) {
			t.Errorf("%q was refused", name)
		}
	}

	// List returns exactly the accepted names, and each token is its own.
	list, err := st.ListCredentials(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(accepted)
	sort.Strings(want)
	if !slices.Equal(list, want) {
		t.Fatalf("ListCredentials:\n got %q\nwant %q", list, want)
	}
	for i, name := range accepted {
		tok, err := st.GetToken(ctx, name)
		if err != nil || tok.AccessToken != "at-"+name {
			t.Fatalf("name %d %q: GetToken = %v, %v", i, name, tok, err)
		}
	}

	// Nothing outside the vault: the parent holds only the vault
	// directory, and the vault only its own three directories.
	err = filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(parent, p)
		if rel != "." && rel != "vault" && !strings.HasPrefix(rel, "vault"+string(filepath.Separator)) {
			t.Errorf("created outside the vault: %s", rel)
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("symlink in the vault: %s", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	top, _ := filepath.Glob(filepath.Join(dir, "*")) // matches dot files too
	var got []string
	for _, p := range top {
		got = append(got, filepath.Base(p))
	}
	sort.Strings(got)
	if !slices.Equal(got, []string{".locks", "credentials", "tokens"}) {
		t.Fatalf("vault top level = %q", got)
	}
	for _, sub := range []string{"credentials", "tokens", ".locks"} {
		n := 0
		err := filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && p != filepath.Join(dir, sub) {
				t.Errorf("nested directory %s", p)
			}
			if !d.IsDir() {
				n++
			}
			return nil
		})
		if err != nil || n != len(accepted) {
			t.Errorf("%s holds %d files, want %d (%v)", sub, n, len(accepted), err)
		}
	}

	// On a case-insensitive file system (macOS, Windows) names differing
	// only in case ("github", "Github", "GITHUB") must still be separate
	// files: no two file names may be equal but for case.
	for _, sub := range []string{"credentials", "tokens", ".locks"} {
		entries, err := os.ReadDir(filepath.Join(dir, sub))
		if err != nil {
			t.Fatal(err)
		}
		folded := map[string]string{}
		for _, e := range entries {
			k := strings.ToLower(e.Name())
			if other, ok := folded[k]; ok {
				t.Errorf("%s: %q and %q are one file on a case-insensitive file system", sub, other, e.Name())
			}
			folded[k] = e.Name()
		}
	}
}

func TestEscapeName(t *testing.T) {
	for _, tc := range []struct{ name, seg string }{
		{"github", "github"},
		{"a/b", "a%2Fb"},
		{"a_b", "a_b"},
		{"a%2Fb", "a%252%46b"},
		{"..", "%2E."},
		{".", "%2E"},
		{"../x", "%2E.%2Fx"},
		{"a.b", "a.b"},
		{`C:\x`, "%43%3A%5Cx"},
		{"日本", "%E6%97%A5%E6%9C%AC"},
		{"a b", "a%20b"},
		{"GitHub", "%47it%48ub"},
		{"A-Z_a-z.0-9", "%41-%5A_a-z.0-9"},
	} {
		seg, err := storage.EscapeName(tc.name)
		if err != nil || seg != tc.seg {
			t.Errorf("EscapeName(%q) = %q, %v; want %q", tc.name, seg, err, tc.seg)
		}
		back, err := storage.UnescapeName(tc.seg)
		if err != nil || back != tc.name {
			t.Errorf("UnescapeName(%q) = %q, %v; want %q", tc.seg, back, err, tc.name)
		}
	}
	// Segments EscapeName never produces are not names.
	for _, seg := range []string{"", ".x", "..", ".", "a/b", `a\b`, "a%2fb", "%61", "A", "GitHub", "%47it%48Ub", "%", "%2", "%ZZ", "a%00b", "%FF", "a b", strings.Repeat("x", 241), "a\x00b"} {
		if name, err := storage.UnescapeName(seg); !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("UnescapeName(%q) = %q, %v; want ErrInvalidCredentials", seg, name, err)
		}
	}
	// A name that fits MaxNameLen but escapes past MaxSegmentLen.
	if _, err := storage.EscapeName(strings.Repeat("~", 81)); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("81 escaped bytes: %v", err)
	}
	if _, err := storage.EscapeName(strings.Repeat("~", 80)); err != nil {
		t.Errorf("80 escaped bytes: %v", err)
	}
}

// FuzzEscapeName checks that escaping is reversible, yields one safe path
// segment, and never maps two names to one segment.
func FuzzEscapeName(f *testing.F) {
	for _, n := range adversarialNames {
		f.Add(n, "a_b")
	}
	f.Add("a/b", "a%2Fb")
	f.Fuzz(func(t *testing.T, a, b string) {
		segA, errA := storage.EscapeName(a)
		if errA != nil {
			if !errors.Is(errA, core.ErrInvalidCredentials) {
				t.Fatalf("EscapeName(%q): %v", a, errA)
			}
		} else {
			checkSegment(t, a, segA)
		}
		segB, errB := storage.EscapeName(b)
		if errB == nil {
			checkSegment(t, b, segB)
		}
		if errA == nil && errB == nil && a != b && strings.EqualFold(segA, segB) {
			t.Fatalf("%q and %q escape to %q and %q, one file on a case-insensitive file system", a, b, segA, segB)
		}
		// Any string read back as a segment decodes to a name that
		// escapes to that very segment, or is refused.
		if name, err := storage.UnescapeName(a); err == nil {
			if again, _ := storage.EscapeName(name); again != a {
				t.Fatalf("UnescapeName(%q) = %q, which escapes to %q", a, name, again)
			}
		}
	})
}

func checkSegment(t *testing.T, name, seg string) {
	t.Helper()
	switch {
	case seg == "" || seg == "." || seg == "..", seg[0] == '.':
		t.Fatalf("EscapeName(%q) = %q: a dot segment", name, seg)
	case strings.ContainsAny(seg, "/\\\x00"):
		t.Fatalf("EscapeName(%q) = %q: contains a separator or NUL", name, seg)
	case len(seg) > storage.MaxSegmentLen:
		t.Fatalf("EscapeName(%q) is %d bytes", name, len(seg))
	}
	for i := 0; i < len(seg); i++ {
		if c := seg[i]; 'A' <= c && c <= 'Z' && (i < 1 || seg[i-1] != '%') && (i < 2 || seg[i-2] != '%') {
			t.Fatalf("EscapeName(%q) = %q: an upper-case letter outside an escape", name, seg)
		}
	}
	back, err := storage.UnescapeName(seg)
	if err != nil || back != name {
		t.Fatalf("UnescapeName(EscapeName(%q)) = %q, %v", name, back, err)
	}
}
