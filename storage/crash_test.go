package storage_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/storage"
)

// crashDocs returns the two credentials the crash writer alternates
// between: each about 64 KiB of goauth JSON, different in every block.
func crashDocs() (old, new *core.Credentials) {
	mk := func(tag string) *core.Credentials {
		c := &core.Credentials{Service: "crash-" + tag, Type: "basic"}
		if err := c.SetSection("basic", map[string]string{
			"username": "u-" + tag,
			"password": strings.Repeat(tag+"-0123456789abcdef", 64<<10/(len(tag)+17)),
		}); err != nil {
			panic(err)
		}
		return c
	}
	return mk("old"), mk("new")
}

// crashWriter writes the two documents to credential "svc" in a loop,
// saying "ready" after the first write, until it is killed.
func crashWriter(dir string) error {
	fv, err := storage.NewFileVault(dir)
	if err != nil {
		return err
	}
	st, err := storage.New(fv, storage.Options{})
	if err != nil {
		return err
	}
	oldC, newC := crashDocs()
	ctx := context.Background()
	for i := 0; ; i++ {
		c := newC
		if i%2 == 1 {
			c = oldC
		}
		if err := st.SetCredentials(ctx, "svc", c); err != nil {
			return err
		}
		if i == 0 {
			fmt.Println("ready")
		}
	}
}

// crashKills is how many times TestCrashDuringWrite kills the writer:
// 200 by default, 20 with -short; the full run, 1,000 kills, is
// go test ./storage -run TestCrashDuringWrite -kills 1000.
var crashKills = flag.Int("kills", 200, "SIGKILLs in TestCrashDuringWrite")

// TestCrashDuringWrite: a child process writes the
// file vault in a loop and is SIGKILLed at random points; every time, the
// file holds exactly the old document or the new one, leftover temp
// files never show up in List, and once they are old the next write in
// their directory removes them.
func TestCrashDuringWrite(t *testing.T) {
	kills := *crashKills
	if testing.Short() {
		kills = min(kills, 20)
	}
	dir := filepath.Join(t.TempDir(), "vault")
	fv := newFileVault(t, dir)
	st := newStore(t, fv, storage.Options{})
	oldC, newC := crashDocs()
	oldB, _ := oldC.MarshalJSON()
	newB, _ := newC.MarshalJSON()
	if len(oldB) < 64<<10-100 || bytes.Equal(oldB, newB) {
		t.Fatalf("bad documents: %d bytes", len(oldB))
	}
	ctx := context.Background()
	if err := st.SetCredentials(ctx, "svc", oldC); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "credentials", "svc.json")

	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 17))
	seen := map[string]int{}
	for i := range kills {
		h := startHelper(t, "crashwriter", dir)
		h.await(t, "ready")
		// A real delay on purpose: the kill must land at a random point
		// of the child's write loop.
		time.Sleep(time.Duration(rng.IntN(4000)) * time.Microsecond)
		h.kill(t)

		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		switch {
		case bytes.Equal(data, oldB):
			seen["old"]++
		case bytes.Equal(data, newB):
			seen["new"]++
		default:
			t.Fatalf("kill %d: torn file: %d bytes, neither document", i, len(data))
		}
		got, err := st.GetCredentials(ctx, "svc")
		if err != nil {
			t.Fatalf("kill %d: %v", i, err)
		}
		if b, _ := got.MarshalJSON(); !bytes.Equal(b, data) {
			t.Fatalf("kill %d: parsed credential differs from the file", i)
		}
	}
	t.Logf("after %d kills: %v", kills, seen)

	entries, err := os.ReadDir(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	temps := 0
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			temps++
		}
	}
	t.Logf("temp files left by writers killed mid-write: %d", temps)
	if !testing.Short() && temps == 0 {
		t.Fatal("no kill landed inside a write; the test did not exercise the crash window")
	}
	paths, err := fv.List(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(paths, []string{"credentials/svc"}) {
		t.Fatalf("List = %q, want only credentials/svc", paths)
	}

	// Once they are old, the next process to write there removes them.
	old := time.Now().Add(-time.Hour)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			if err := os.Chtimes(filepath.Join(filepath.Dir(file), e.Name()), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	next, err := storage.New(newFileVault(t, dir), storage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := next.SetCredentials(ctx, "svc", newC); err != nil {
		t.Fatal(err)
	}
	if entries, err := os.ReadDir(filepath.Dir(file)); err != nil || len(entries) != 1 || entries[0].Name() != "svc.json" {
		t.Fatalf("after the next write, the directory holds %d entries (%v)", len(entries), err)
	}
	if data, err := os.ReadFile(file); err != nil || !bytes.Equal(data, newB) {
		t.Fatalf("after the next write: %d bytes, %v", len(data), err)
	}
	names, err := st.ListCredentials(ctx)
	if err != nil || !slices.Equal(names, []string{"svc"}) {
		t.Fatalf("ListCredentials = %q, %v", names, err)
	}
}
