package vaulttest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnivault/vault"

	"github.com/plexusone/omnitoken/storage"
)

// Concurrency is how many goroutines the ConcurrentWriters subtest runs.
const Concurrency = 16

// DefaultMaxValueLen is the largest value the suite stores by default: a
// token with a large ID token, or a service-account key, fits in it.
const DefaultMaxValueLen = 64 << 10

// DefaultMaxPathLen is the length of the longest path the suite stores by
// default: the longest one storage.Store writes, a prefix and an escaped
// name of storage.MaxSegmentLen bytes.
const DefaultMaxPathLen = len(storage.DefaultCredentialsPrefix) + storage.MaxSegmentLen

// hangGuard bounds every call the suite makes, so that a backend that
// hangs fails its subtest instead of blocking the test binary.
const hangGuard = 30 * time.Second

// canary starts every value the suite stores; none may appear in an
// error.
const canary = "vaulttest-canary"

// Options describes the vault.Vault under test to Run.
type Options struct {
	// New returns a vault holding no path the suite uses. Required. It is
	// called once or more per subtest; close the vault with t.Cleanup.
	New func(t *testing.T) vault.Vault

	// Prefix starts every path the suite uses, for a backend shared with
	// other data, such as a real keyring or a cloud account. Default "".
	// Clean up what the suite leaves under it in New's t.Cleanup.
	Prefix string

	// ReadOnly says the backend refuses writes: Set and Delete must fail
	// with an error matching vault.ErrReadOnly (storage.Store relies on
	// it to keep tokens in memory instead) and change nothing, and
	// Capabilities must not report Write. Seed then provides the secrets.
	ReadOnly bool

	// Seed stores value at path behind the vault's back, for a ReadOnly
	// backend. Required with ReadOnly.
	Seed func(t *testing.T, v vault.Vault, path, value string)

	// NoList says the backend cannot list: List must fail with an error
	// matching vault.ErrNotSupported, and Capabilities must not report
	// List. storage.Store's ListCredentials then fails too.
	NoList bool

	// MaxValueLen is the largest value, in bytes, the backend must hold.
	// Default DefaultMaxValueLen (64 KiB).
	MaxValueLen int

	// MaxPathLen is the length of the longest path, in bytes, the backend
	// must hold, Prefix included. Default len(Prefix) +
	// DefaultMaxPathLen.
	MaxPathLen int

	// IgnoresContext says the backend may complete a call whose context
	// is done: it does no I/O, as omnivault's memory provider, or its
	// client takes no context, as an OS keyring's. Such a call must then
	// succeed as if the context were live, or fail with an error matching
	// the context's error. By default every call with a cancelled context
	// must fail with an error matching context.Canceled and change
	// nothing.
	IgnoresContext bool
}

// Run runs the conformance suite for a vault.Vault backend as subtests of
// t. See the package documentation for what each subtest checks.
func Run(t *testing.T, opts Options) {
	t.Helper()
	if opts.New == nil {
		t.Fatal("vaulttest: Options.New is required")
	}
	if opts.ReadOnly && opts.Seed == nil {
		t.Fatal("vaulttest: Options.Seed is required with ReadOnly")
	}
	if opts.MaxValueLen == 0 {
		opts.MaxValueLen = DefaultMaxValueLen
	}
	if opts.MaxPathLen == 0 {
		opts.MaxPathLen = len(opts.Prefix) + DefaultMaxPathLen
	}
	if opts.MaxPathLen <= len(opts.Prefix)+len("max/") {
		t.Fatalf("vaulttest: Options.MaxPathLen %d leaves no room after the prefix", opts.MaxPathLen)
	}
	s := &suite{opts: opts}
	t.Run("Capabilities", s.testCapabilities)
	t.Run("RoundTrip", s.testRoundTrip)
	t.Run("NotFound", s.testNotFound)
	t.Run("Paths", s.testPaths)
	t.Run("MaxPathLen", s.testMaxPathLen)
	t.Run("LargeValues", s.testLargeValues)
	t.Run("List", s.testList)
	t.Run("PrivateCopies", s.testPrivateCopies)
	t.Run("ReadOnly", s.testReadOnly)
	t.Run("ConcurrentWriters", s.testConcurrent)
	t.Run("CancelledContext", s.testCancelled)
}

type suite struct {
	opts Options
}

// ctx returns a context bounded by hangGuard, cancelled when t ends.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), hangGuard)
	t.Cleanup(cancel)
	return c
}

// p returns the full path of a suite path.
func (s *suite) p(path string) string { return s.opts.Prefix + path }

// value returns a distinct secret value of at least n bytes holding the
// canary, a quote, a newline and non-ASCII text, as JSON does.
func value(i, n int) string {
	v := fmt.Sprintf(`{"secret":"%s-%d","note":"ünï\n名前"}`, canary, i)
	if len(v) >= n {
		return v
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(v)
	const fill = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
	for j := 0; b.Len() < n; j++ {
		b.WriteByte(fill[(i+j)%len(fill)])
	}
	return b.String()
}

// checkErr fails t if err quotes a value the suite stored. It returns
// err.
func checkErr(t *testing.T, what string, err error) error {
	t.Helper()
	if err != nil && strings.Contains(fmt.Sprintf("%v %+v %q", err, err, err), canary) {
		t.Errorf("%s: the error quotes a secret value", what)
	}
	return err
}

// set stores value at path: through the vault, or by Seed.
func (s *suite) set(t *testing.T, v vault.Vault, path, value string) {
	t.Helper()
	if s.opts.ReadOnly {
		s.opts.Seed(t, v, path, value)
		return
	}
	if err := checkErr(t, "Set", v.Set(ctx(t), path, &vault.Secret{Value: value})); err != nil {
		t.Fatalf("Set(%q): %v", path, err)
	}
}

// expect fails t unless path holds want.
func expect(t *testing.T, v vault.Vault, path, want string) {
	t.Helper()
	sec, err := v.Get(ctx(t), path)
	if checkErr(t, "Get", err) != nil {
		t.Errorf("Get(%q): %v", path, err)
		return
	}
	if sec == nil {
		t.Errorf("Get(%q) returned a nil secret and no error", path)
		return
	}
	if got := string(sec.Bytes()); got != want {
		t.Errorf("Get(%q): the value read back differs (%d bytes, want %d)", path, len(got), len(want))
	}
	ok, err := v.Exists(ctx(t), path)
	if checkErr(t, "Exists", err) != nil || !ok {
		t.Errorf("Exists(%q) of a stored secret = %v, %v", path, ok, err)
	}
}

// expectMissing fails t unless path holds nothing.
func expectMissing(t *testing.T, v vault.Vault, path string) {
	t.Helper()
	sec, err := v.Get(ctx(t), path)
	if !errors.Is(checkErr(t, "Get", err), vault.ErrSecretNotFound) {
		t.Errorf("Get(%q) of a missing secret = %v, %v; want an error matching vault.ErrSecretNotFound", path, sec != nil, err)
	}
	ok, err := v.Exists(ctx(t), path)
	if checkErr(t, "Exists", err) != nil || ok {
		t.Errorf("Exists(%q) of a missing secret = %v, %v; want false, nil", path, ok, err)
	}
}

func (s *suite) needWritable(t *testing.T) {
	t.Helper()
	if s.opts.ReadOnly {
		t.Skip("the vault is read-only")
	}
}

func (s *suite) testCapabilities(t *testing.T) {
	v := s.opts.New(t)
	if v.Name() == "" {
		t.Error("Name is empty")
	}
	c := v.Capabilities()
	if !c.Read {
		t.Error("Capabilities().Read is false")
	}
	if c.Write == s.opts.ReadOnly {
		t.Errorf("Capabilities().Write = %v with ReadOnly %v", c.Write, s.opts.ReadOnly)
	}
	if !s.opts.ReadOnly && !c.Delete {
		t.Error("Capabilities().Delete is false on a writable vault")
	}
	if c.List == s.opts.NoList {
		t.Errorf("Capabilities().List = %v with NoList %v", c.List, s.opts.NoList)
	}
}

func (s *suite) testRoundTrip(t *testing.T) {
	v := s.opts.New(t)
	path := s.p("credentials/github")
	s.set(t, v, path, value(1, 0))
	expect(t, v, path, value(1, 0))
	if s.opts.ReadOnly {
		return
	}
	s.set(t, v, path, value(2, 0))
	expect(t, v, path, value(2, 0))
	if err := checkErr(t, "Delete", v.Delete(ctx(t), path)); err != nil {
		t.Fatalf("Delete(%q): %v", path, err)
	}
	expectMissing(t, v, path)
	// Written again after a delete.
	s.set(t, v, path, value(3, 0))
	expect(t, v, path, value(3, 0))
}

func (s *suite) testNotFound(t *testing.T) {
	v := s.opts.New(t)
	expectMissing(t, v, s.p("credentials/missing"))
	expectMissing(t, v, s.p("missing/dir/secret"))
	s.set(t, v, s.p("tokens/present"), value(1, 0))
	expectMissing(t, v, s.p("credentials/present")) // same name, other prefix
	expectMissing(t, v, s.p("tokens/presen"))
	expectMissing(t, v, s.p("tokens/present2"))
	if !s.opts.ReadOnly {
		if err := v.Delete(ctx(t), s.p("credentials/missing")); checkErr(t, "Delete", err) != nil {
			t.Errorf("Delete of a missing secret = %v; want nil", err)
		}
	}
}

// trickyPaths are paths a backend must keep apart and give back exactly:
// separators, spaces, Unicode, and the escaped names storage.Store
// writes.
func trickyPaths() []string {
	out := []string{
		"paths/a/b/c", "paths/a/b", "paths/with space", "paths/ with leading", "paths/trailing ", "paths/trailing",
		"paths/ünïcødé", "paths/名前/鍵", "paths/emoji 🔑", "paths/a.b", "paths/a-b_c",
		"paths/UPPER", "paths/upper", "paths/x.json", "paths/x.lock",
	}
	for _, name := range []string{"a/b", "GitHub", "a b", "..", "ünï", `a\b`, "%2F"} {
		seg, err := storage.EscapeName(name)
		if err != nil {
			panic(err)
		}
		out = append(out, "credentials/"+seg)
	}
	return out
}

func (s *suite) testPaths(t *testing.T) {
	v := s.opts.New(t)
	paths := trickyPaths()
	for i, p := range paths {
		s.set(t, v, s.p(p), value(i, 0))
	}
	for i, p := range paths {
		expect(t, v, s.p(p), value(i, 0))
	}
}

func (s *suite) testMaxPathLen(t *testing.T) {
	v := s.opts.New(t)
	head := s.p("max/")
	long := head + strings.Repeat("m", s.opts.MaxPathLen-len(head))
	s.set(t, v, long, value(1, 0))
	expect(t, v, long, value(1, 0))
	if !s.opts.NoList {
		got, err := v.List(ctx(t), head)
		if checkErr(t, "List", err) != nil || !slices.Contains(got, long) {
			t.Errorf("List(%q) does not list the %d-byte path (err %v)", head, len(long), err)
		}
	}
}

func (s *suite) testLargeValues(t *testing.T) {
	v := s.opts.New(t)
	for i, n := range []int{1 << 10, 4<<10 - 1, 16 << 10, s.opts.MaxValueLen} {
		p := s.p(fmt.Sprintf("large/%d", n))
		want := value(i, n)[:n]
		s.set(t, v, p, want)
		expect(t, v, p, want)
	}
}

func (s *suite) testList(t *testing.T) {
	v := s.opts.New(t)
	if s.opts.NoList {
		_, err := v.List(ctx(t), s.p("list/"))
		if !errors.Is(checkErr(t, "List", err), vault.ErrNotSupported) {
			t.Errorf("List on a backend that cannot list = %v; want an error matching vault.ErrNotSupported", err)
		}
		return
	}
	expectList(t, v, s.p("list/"), nil)
	want := []string{s.p("list/a"), s.p("list/b c"), s.p("list/ünï"), s.p("list/x.json")}
	for i, p := range want {
		s.set(t, v, p, value(i, 0))
	}
	s.set(t, v, s.p("listing/a"), value(9, 0))
	s.set(t, v, s.p("other/list/a"), value(10, 0))
	expectList(t, v, s.p("list/"), want)
	if s.opts.ReadOnly {
		return
	}
	if err := v.Delete(ctx(t), s.p("list/b c")); checkErr(t, "Delete", err) != nil {
		t.Fatal(err)
	}
	expectList(t, v, s.p("list/"), slices.DeleteFunc(want, func(p string) bool { return p == s.p("list/b c") }))
}

// expectList fails t unless List(prefix) is want, in any order.
func expectList(t *testing.T, v vault.Vault, prefix string, want []string) {
	t.Helper()
	got, err := v.List(ctx(t), prefix)
	if checkErr(t, "List", err) != nil {
		t.Errorf("List(%q): %v", prefix, err)
		return
	}
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("List(%q) = %q; want %q in any order", prefix, got, want)
	}
}

// testPrivateCopies: changing the Fields or ValueBytes given to Set, or
// returned by Get, does not change what the vault holds.
func (s *suite) testPrivateCopies(t *testing.T) {
	s.needWritable(t)
	v := s.opts.New(t)
	caps := v.Capabilities()
	if !caps.MultiField && !caps.Binary {
		t.Skip("the vault keeps neither Fields nor ValueBytes")
	}
	p := s.p("private/secret")
	sec := &vault.Secret{}
	if caps.MultiField {
		sec.Value = value(1, 0)
		sec.Fields = map[string]string{"a": "1", "b": "2"}
	}
	if caps.Binary {
		sec.ValueBytes = []byte(value(1, 0))
	}
	if err := checkErr(t, "Set", v.Set(ctx(t), p, sec)); err != nil {
		t.Fatal(err)
	}
	mutate := func(sec *vault.Secret) {
		maps.DeleteFunc(sec.Fields, func(k, _ string) bool { return k == "b" })
		if sec.Fields != nil {
			sec.Fields["a"] = "mutated"
		}
		for i := range sec.ValueBytes {
			sec.ValueBytes[i] = 'X'
		}
	}
	check := func(what string) {
		t.Helper()
		got, err := v.Get(ctx(t), p)
		if checkErr(t, "Get", err) != nil || got == nil {
			t.Fatalf("Get: %v", err)
		}
		if string(got.Bytes()) != value(1, 0) {
			t.Errorf("%s: the value changed", what)
		}
		if caps.MultiField && !maps.Equal(got.Fields, map[string]string{"a": "1", "b": "2"}) {
			t.Errorf("%s: Fields = %q", what, got.Fields)
		}
	}
	mutate(sec)
	check("after changing the secret given to Set")
	got, err := v.Get(ctx(t), p)
	if checkErr(t, "Get", err) != nil || got == nil {
		t.Fatalf("Get: %v", err)
	}
	mutate(got)
	check("after changing the secret Get returned")
}

func (s *suite) testReadOnly(t *testing.T) {
	if !s.opts.ReadOnly {
		t.Skip("the vault is writable")
	}
	v := s.opts.New(t)
	p := s.p("credentials/seeded")
	s.set(t, v, p, value(1, 0))
	for _, target := range []string{p, s.p("credentials/new")} {
		if err := v.Set(ctx(t), target, &vault.Secret{Value: value(2, 0)}); !errors.Is(checkErr(t, "Set", err), vault.ErrReadOnly) {
			t.Errorf("Set(%q) on a read-only vault = %v; want an error matching vault.ErrReadOnly", target, err)
		}
	}
	if err := v.Delete(ctx(t), p); !errors.Is(checkErr(t, "Delete", err), vault.ErrReadOnly) {
		t.Errorf("Delete on a read-only vault = %v; want an error matching vault.ErrReadOnly", err)
	}
	expect(t, v, p, value(1, 0))
	expectMissing(t, v, s.p("credentials/new"))
}

// testConcurrent: Concurrency writers each write their own path and one
// shared path while reading the shared one back. Every read is a whole
// value some writer wrote, and every last write is kept.
func (s *suite) testConcurrent(t *testing.T) {
	s.needWritable(t)
	v := s.opts.New(t)
	const rounds, size = 4, 4 << 10
	shared := s.p("concurrent/shared")
	s.set(t, v, shared, value(0, size))
	written := map[string]bool{value(0, size): true}
	for w := range Concurrency {
		for r := range rounds {
			written[value(1+w*rounds+r, size)] = true
		}
	}
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 3*Concurrency*rounds)
	for w := range Concurrency {
		own := s.p(fmt.Sprintf("concurrent/writer-%d", w))
		wg.Go(func() {
			for r := range rounds {
				val := value(1+w*rounds+r, size)
				if err := v.Set(c, own, &vault.Secret{Value: val}); err != nil {
					errs <- fmt.Errorf("Set(%q): %w", own, err)
					return
				}
				if err := v.Set(c, shared, &vault.Secret{Value: val}); err != nil {
					errs <- fmt.Errorf("Set(%q): %w", shared, err)
					return
				}
				sec, err := v.Get(c, shared)
				if err != nil {
					errs <- fmt.Errorf("Get(%q): %w", shared, err)
					return
				}
				if sec == nil || !written[string(sec.Bytes())] {
					errs <- fmt.Errorf("Get(%q) returned a value no writer wrote whole", shared)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(checkErr(t, "concurrent call", err))
	}
	for w := range Concurrency {
		expect(t, v, s.p(fmt.Sprintf("concurrent/writer-%d", w)), value(w*rounds+rounds, size))
	}
}

func (s *suite) testCancelled(t *testing.T) {
	v := s.opts.New(t)
	p := s.p("credentials/present")
	s.set(t, v, p, value(1, 0))
	done, cancel := context.WithCancel(context.Background())
	cancel()
	// ok reports whether err is acceptable for a call with a cancelled
	// context, and whether the call may have taken effect.
	ok := func(op string, err error) (took bool) {
		t.Helper()
		checkErr(t, op, err)
		switch {
		case errors.Is(err, context.Canceled):
			return false
		case err == nil && s.opts.IgnoresContext:
			return true
		case err == nil:
			t.Errorf("%s with a cancelled context succeeded; want an error matching context.Canceled (or set Options.IgnoresContext)", op)
			return true
		default:
			t.Errorf("%s with a cancelled context = %v; want an error matching context.Canceled", op, err)
			return false
		}
	}
	_, err := v.Get(done, p)
	ok("Get", err)
	_, err = v.Exists(done, p)
	ok("Exists", err)
	if !s.opts.NoList {
		_, err = v.List(done, s.p("credentials/"))
		ok("List", err)
	}
	if s.opts.ReadOnly {
		return
	}
	if ok("Set", v.Set(done, p, &vault.Secret{Value: value(2, 0)})) {
		return // IgnoresContext: the rest would take effect too
	}
	if ok("Set of a new path", v.Set(done, s.p("credentials/new"), &vault.Secret{Value: value(3, 0)})) {
		return
	}
	if ok("Delete", v.Delete(done, p)) {
		return
	}
	expect(t, v, p, value(1, 0))
	expectMissing(t, v, s.p("credentials/new"))
}
