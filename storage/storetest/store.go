package storetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
)

// Concurrency is how many goroutines write at once in TestStore's
// ConcurrentWriters and StaleTokens subtests.
const Concurrency = 16

// hangGuard bounds every call the suite makes, so that a store that hangs
// fails its subtest instead of blocking the test binary until its timeout.
const hangGuard = 30 * time.Second

// Canaries: the secrets the suite stores. None may appear in an error.
const (
	canaryAccess     = "storetest-canary-access"
	canaryRefresh    = "storetest-canary-refresh"
	canaryHeader     = "storetest-canary-header"
	canaryQuery      = "storetest-canary-query"
	canaryExtra      = "storetest-canary-idtoken"
	canarySecret     = "storetest-canary-client-secret"
	canaryStatic     = "storetest-canary-static-token"
	canaryAdditional = "storetest-canary-additional"
	mutated          = "storetest-mutated"
)

// StoreOptions describes the core.Store under test to TestStore.
type StoreOptions struct {
	// New returns an empty store. Required. It is called once or more per
	// subtest; release what it opens with t.Cleanup. A store on a shared
	// server gets a fresh key prefix or database on each call.
	New func(t *testing.T) core.Store

	// Peer returns a second handle on the data of s, as another process
	// would open it: a second Store over the same directory, or over the
	// same Redis database. Optional. When set, what one handle writes
	// must be read back through the other, and the concurrency checks
	// write through both.
	Peer func(t *testing.T, s core.Store) core.Store

	// ReadOnlyCredentials says the store cannot write credentials, as a
	// store over environment variables: SetCredentials and
	// DeleteCredentials must fail and change nothing. Tokens must still
	// be writable. Seed is then required.
	ReadOnlyCredentials bool

	// Seed stores credential c under name behind the store's back (say,
	// by setting an environment variable), for a store with
	// ReadOnlyCredentials. The suite seeds only names of lower-case
	// ASCII letters, digits and '-', at most 32 bytes long.
	Seed func(t *testing.T, s core.Store, name string, c *core.Credentials)

	// MaxNameLen is the length in bytes of the longest name the store
	// accepts. A name of that many lower-case ASCII letters must work,
	// and one a byte longer must be refused with an error matching
	// core.ErrInvalidCredentials. Default driver.MaxNameLen.
	MaxNameLen int

	// RefusesStaleTokens says SetToken compares the token with the one
	// stored before it writes, atomically (a Redis script, a Vault KV
	// check-and-set): a token that is not newer, with a lower Fence, or
	// the same Fence and a Generation not higher, is refused with an
	// error matching core.ErrConflict and changes nothing. Without it,
	// SetToken must store whatever it is given.
	RefusesStaleTokens bool

	// IgnoresContext says the store does no I/O and may complete a call
	// whose context is done, as core.MemoryStore does. Such a call must
	// then succeed as if the context were live, or fail with an error
	// matching the context's error. By default every call with a
	// cancelled context must fail with an error matching
	// context.Canceled and change nothing.
	IgnoresContext bool
}

// TestStore runs the conformance suite for a core.Store as subtests of t.
// See the package documentation for what each subtest checks.
func TestStore(t *testing.T, opts StoreOptions) {
	t.Helper()
	if opts.New == nil {
		t.Fatal("storetest: StoreOptions.New is required")
	}
	if opts.ReadOnlyCredentials && opts.Seed == nil {
		t.Fatal("storetest: StoreOptions.Seed is required with ReadOnlyCredentials")
	}
	if opts.MaxNameLen == 0 {
		opts.MaxNameLen = driver.MaxNameLen
	}
	s := &storeSuite{opts: opts}
	t.Run("CredentialsRoundTrip", s.testCredentialsRoundTrip)
	t.Run("CredentialsNotFound", s.testCredentialsNotFound)
	t.Run("ListCredentials", s.testList)
	t.Run("CredentialsPrivateCopies", s.testCredentialsPrivate)
	t.Run("TokenRoundTrip", s.testTokenRoundTrip)
	t.Run("TokenNotFound", s.testTokenNotFound)
	t.Run("TokenPrivateCopies", s.testTokenPrivate)
	t.Run("Names", s.testNames)
	t.Run("MaxNameLen", s.testMaxNameLen)
	t.Run("InvalidNames", s.testInvalidNames)
	t.Run("NilValues", s.testNil)
	t.Run("ReadOnlyCredentials", s.testReadOnly)
	t.Run("Peer", s.testPeer)
	t.Run("StaleTokens", s.testStaleTokens)
	t.Run("ConcurrentWriters", s.testConcurrent)
	t.Run("CancelledContext", s.testCancelled)
}

type storeSuite struct {
	opts StoreOptions
}

// ctx returns a context bounded by hangGuard, cancelled when t ends.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), hangGuard)
	t.Cleanup(cancel)
	return c
}

// cancelled returns a context that is already cancelled.
func cancelled() context.Context {
	c, cancel := context.WithCancel(context.Background())
	cancel()
	return c
}

// sampleCredentials returns a credential with every field and an unknown
// section, its secrets drawn from the canaries, distinct for each i.
func sampleCredentials(t *testing.T, i int) *core.Credentials {
	t.Helper()
	c := &core.Credentials{
		Service:    fmt.Sprintf("service-%d", i),
		Type:       "oauth2",
		Subdomain:  "tenant",
		Token:      &oauth2.Token{AccessToken: canaryStatic, TokenType: "Bearer"},
		Additional: url.Values{"k": {"v", canaryAdditional}},
	}
	if err := c.SetSection("oauth2", map[string]any{"clientID": fmt.Sprintf("client-%d", i), "clientSecret": canarySecret, "grantType": "client_credentials"}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetSection("x-plugin-type", map[string]any{"nested": map[string]any{"list": []int{1, 2, 3}}, "unicode": "ünï 名前"}); err != nil {
		t.Fatal(err)
	}
	return c
}

// mutateCredentials changes c in place, through every field and map.
func mutateCredentials(t *testing.T, c *core.Credentials) {
	t.Helper()
	c.Service = mutated
	c.Subdomain = mutated
	if c.Token != nil {
		c.Token.AccessToken = mutated
	}
	for _, vs := range c.Additional {
		for i := range vs {
			vs[i] = mutated
		}
	}
	if err := c.SetSection("oauth2", map[string]string{"clientSecret": mutated}); err != nil {
		t.Fatal(err)
	}
}

// credentialsJSON is c's JSON, for comparison. It is never printed.
func credentialsJSON(t *testing.T, c *core.Credentials) string {
	t.Helper()
	if c == nil {
		return "null"
	}
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatalf("encode credential: %v", err)
	}
	return string(b)
}

// sameCredentials fails t when got is not want, without printing either.
func sameCredentials(t *testing.T, what string, want, got *core.Credentials) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got a nil credential and no error", what)
		return
	}
	if credentialsJSON(t, want) != credentialsJSON(t, got) {
		t.Errorf("%s: got a different credential (service %q, type %q, sections %v; want service %q, type %q, sections %v)",
			what, got.Service, got.Type, got.Sections(), want.Service, want.Type, want.Sections())
	}
}

// sameToken fails t when got is not want, naming the fields that differ.
func sameToken(t *testing.T, what string, want, got *storedToken) {
	t.Helper()
	if d := tokenDiff(want, got); d != nil {
		t.Errorf("%s: the token read back differs in %v", what, d)
	}
}

// secrets are every canary the suite stores.
func secrets() []string {
	return append(tokenSecrets(), canarySecret, canaryStatic, canaryAdditional)
}

// errPrefix is how every error starts: the name of the package that
// returned it, and a colon.
var errPrefix = regexp.MustCompile(`^[a-z][a-z0-9_.-]*: `)

// checkErr fails t if err quotes a secret, or does not start with a
// package name. It returns err.
func checkErr(t *testing.T, what string, err error) error {
	t.Helper()
	if err == nil {
		return nil
	}
	if !errPrefix.MatchString(err.Error()) {
		t.Errorf("%s: the error %q does not start with a package name", what, scrub(err.Error()))
	}
	text := fmt.Sprintf("%v %+v %q", err, err, err)
	for _, c := range secrets() {
		if strings.Contains(text, c) {
			t.Errorf("%s: the error quotes a secret (%d bytes of error text)", what, len(text))
		}
	}
	return err
}

// scrub replaces each secret in msg with a placeholder.
func scrub(msg string) string {
	for _, c := range secrets() {
		msg = strings.ReplaceAll(msg, c, "[SECRET]")
	}
	return msg
}

// setCredentials stores c under name: through the store, or by Seed.
func (s *storeSuite) setCredentials(t *testing.T, st core.Store, name string, c *core.Credentials) {
	t.Helper()
	if s.opts.ReadOnlyCredentials {
		s.opts.Seed(t, st, name, c)
		return
	}
	if err := checkErr(t, "SetCredentials", st.SetCredentials(ctx(t), name, c)); err != nil {
		t.Fatalf("SetCredentials(%q): %v", name, err)
	}
}

// needWritable skips t on a store with read-only credentials.
func (s *storeSuite) needWritable(t *testing.T) {
	t.Helper()
	if s.opts.ReadOnlyCredentials {
		t.Skip("the store's credentials are read-only")
	}
}

func (s *storeSuite) testCredentialsRoundTrip(t *testing.T) {
	st := s.opts.New(t)
	want := sampleCredentials(t, 1)
	s.setCredentials(t, st, "github", want)
	got, err := st.GetCredentials(ctx(t), "github")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatalf("GetCredentials after a write: %v", err)
	}
	sameCredentials(t, "GetCredentials", want, got)

	if s.opts.ReadOnlyCredentials {
		return
	}
	// An overwrite replaces the whole credential.
	next := sampleCredentials(t, 2)
	if err := next.SetSection("x-plugin-type", nil); err != nil {
		t.Fatal(err)
	}
	next.Additional = nil
	s.setCredentials(t, st, "github", next)
	got, err = st.GetCredentials(ctx(t), "github")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatalf("GetCredentials after an overwrite: %v", err)
	}
	sameCredentials(t, "GetCredentials after an overwrite", next, got)

	// Delete removes it; the token of the same name is a separate entry.
	if err := st.SetToken(ctx(t), "github", sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken: %v", err)
	}
	if err := st.DeleteCredentials(ctx(t), "github"); checkErr(t, "DeleteCredentials", err) != nil {
		t.Fatalf("DeleteCredentials: %v", err)
	}
	if _, err := st.GetCredentials(ctx(t), "github"); !errors.Is(checkErr(t, "GetCredentials", err), core.ErrCredentialsNotFound) {
		t.Errorf("GetCredentials after DeleteCredentials = %v; want an error matching core.ErrCredentialsNotFound", err)
	}
	if _, err := st.GetToken(ctx(t), "github"); checkErr(t, "GetToken", err) != nil && !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("GetToken after DeleteCredentials = %v; want the token or core.ErrTokenNotFound", err)
	}
}

func (s *storeSuite) testCredentialsNotFound(t *testing.T) {
	st := s.opts.New(t)
	if c, err := st.GetCredentials(ctx(t), "missing"); !errors.Is(checkErr(t, "GetCredentials", err), core.ErrCredentialsNotFound) {
		t.Errorf("GetCredentials(missing) = %v, %v; want an error matching core.ErrCredentialsNotFound", c != nil, err)
	}
	if !s.opts.ReadOnlyCredentials {
		if err := st.DeleteCredentials(ctx(t), "missing"); !errors.Is(checkErr(t, "DeleteCredentials", err), core.ErrCredentialsNotFound) {
			t.Errorf("DeleteCredentials(missing) = %v; want an error matching core.ErrCredentialsNotFound", err)
		}
	}
	// A token is not a credential.
	if err := st.SetToken(ctx(t), "only-token", sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken: %v", err)
	}
	if _, err := st.GetCredentials(ctx(t), "only-token"); !errors.Is(checkErr(t, "GetCredentials", err), core.ErrCredentialsNotFound) {
		t.Errorf("GetCredentials of a name that has only a token = %v; want core.ErrCredentialsNotFound", err)
	}
	if names, err := st.ListCredentials(ctx(t)); checkErr(t, "ListCredentials", err) != nil || len(names) != 0 {
		t.Errorf("ListCredentials of a store holding only a token = %q, %v; want none", names, err)
	}
}

func (s *storeSuite) testList(t *testing.T) {
	st := s.opts.New(t)
	names, err := st.ListCredentials(ctx(t))
	if checkErr(t, "ListCredentials", err) != nil || len(names) != 0 {
		t.Fatalf("ListCredentials of an empty store = %q, %v; want none", names, err)
	}
	want := []string{"alpha", "beta-2", "c0"}
	if !s.opts.ReadOnlyCredentials {
		want = append(want, "a/b", "a b", "ünïcødé", "UPPER")
	}
	for i, n := range want {
		s.setCredentials(t, st, n, sampleCredentials(t, i))
	}
	if err := st.SetToken(ctx(t), "token-only", sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken: %v", err)
	}
	expectNames(t, st, want)
	if s.opts.ReadOnlyCredentials {
		return
	}
	if err := st.DeleteCredentials(ctx(t), "beta-2"); checkErr(t, "DeleteCredentials", err) != nil {
		t.Fatalf("DeleteCredentials: %v", err)
	}
	want = slices.DeleteFunc(want, func(n string) bool { return n == "beta-2" })
	expectNames(t, st, want)
}

// expectNames fails t unless st lists exactly want, in any order.
func expectNames(t *testing.T, st core.Store, want []string) {
	t.Helper()
	got, err := st.ListCredentials(ctx(t))
	if checkErr(t, "ListCredentials", err) != nil {
		t.Fatalf("ListCredentials: %v", err)
	}
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	if !slices.Equal(g, w) {
		t.Errorf("ListCredentials = %q; want %q in any order", got, want)
	}
}

func (s *storeSuite) testCredentialsPrivate(t *testing.T) {
	s.needWritable(t)
	st := s.opts.New(t)
	given := sampleCredentials(t, 1)
	s.setCredentials(t, st, "svc", given)
	mutateCredentials(t, given)
	got, err := st.GetCredentials(ctx(t), "svc")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatal(err)
	}
	sameCredentials(t, "after changing the credential given to SetCredentials", sampleCredentials(t, 1), got)
	mutateCredentials(t, got)
	again, err := st.GetCredentials(ctx(t), "svc")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatal(err)
	}
	sameCredentials(t, "after changing the credential GetCredentials returned", sampleCredentials(t, 1), again)
}

func (s *storeSuite) testTokenRoundTrip(t *testing.T) {
	st := s.opts.New(t)
	want := sampleToken(1)
	if err := st.SetToken(ctx(t), "github", want); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken: %v", err)
	}
	got, err := st.GetToken(ctx(t), "github")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatalf("GetToken after SetToken: %v", err)
	}
	sameToken(t, "GetToken", sampleToken(1), got)

	// An overwrite replaces every field, emptied ones included. It is
	// newer, so that a store refusing stale tokens takes it too.
	next := newerToken(1000)
	next.AccessToken = "plain"
	if err := st.SetToken(ctx(t), "github", next); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken: %v", err)
	}
	got, err = st.GetToken(ctx(t), "github")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatalf("GetToken after an overwrite: %v", err)
	}
	sameToken(t, "GetToken after an overwrite", next, got)

	// Deleting the token leaves the credential of the same name.
	s.setCredentials(t, st, "github", sampleCredentials(t, 1))
	if err := st.DeleteToken(ctx(t), "github"); checkErr(t, "DeleteToken", err) != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if _, err := st.GetToken(ctx(t), "github"); !errors.Is(checkErr(t, "GetToken", err), core.ErrTokenNotFound) {
		t.Errorf("GetToken after DeleteToken = %v; want an error matching core.ErrTokenNotFound", err)
	}
	if _, err := st.GetCredentials(ctx(t), "github"); checkErr(t, "GetCredentials", err) != nil {
		t.Errorf("GetCredentials after DeleteToken of the same name: %v", err)
	}
}

func (s *storeSuite) testTokenNotFound(t *testing.T) {
	st := s.opts.New(t)
	if tok, err := st.GetToken(ctx(t), "missing"); !errors.Is(checkErr(t, "GetToken", err), core.ErrTokenNotFound) {
		t.Errorf("GetToken(missing) = %v, %v; want an error matching core.ErrTokenNotFound", tok != nil, err)
	}
	if err := st.DeleteToken(ctx(t), "missing"); checkErr(t, "DeleteToken", err) != nil && !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("DeleteToken(missing) = %v; want nil or an error matching core.ErrTokenNotFound", err)
	}
	// A credential is not a token.
	s.setCredentials(t, st, "only-creds", sampleCredentials(t, 1))
	if _, err := st.GetToken(ctx(t), "only-creds"); !errors.Is(checkErr(t, "GetToken", err), core.ErrTokenNotFound) {
		t.Errorf("GetToken of a name that has only a credential = %v; want core.ErrTokenNotFound", err)
	}
}

func (s *storeSuite) testTokenPrivate(t *testing.T) {
	st := s.opts.New(t)
	given := sampleToken(1)
	if err := st.SetToken(ctx(t), "svc", given); checkErr(t, "SetToken", err) != nil {
		t.Fatal(err)
	}
	mutateToken(given)
	got, err := st.GetToken(ctx(t), "svc")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatal(err)
	}
	sameToken(t, "after changing the token given to SetToken", sampleToken(1), got)
	mutateToken(got)
	again, err := st.GetToken(ctx(t), "svc")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatal(err)
	}
	sameToken(t, "after changing the token GetToken returned", sampleToken(1), again)
}

// trickyNames are names a store must keep apart and give back exactly.
var trickyNames = []string{
	"a/b", "a%2Fb", "a_b", "a b", " a", "a ", "A", "a", "a.b", ".hidden", "..", "../x", `a\b`,
	"ünïcødé", "名前", "emoji-🔑", "tab\there", "new\nline", "a:b", "a*b?", "x.json", "x.lock",
}

func (s *storeSuite) testNames(t *testing.T) {
	st := s.opts.New(t)
	for i, n := range trickyNames {
		if err := st.SetToken(ctx(t), n, sampleToken(i)); checkErr(t, "SetToken", err) != nil {
			t.Fatalf("SetToken(%q): %v", n, err)
		}
		if !s.opts.ReadOnlyCredentials {
			s.setCredentials(t, st, n, sampleCredentials(t, i))
		}
	}
	for i, n := range trickyNames {
		got, err := st.GetToken(ctx(t), n)
		if checkErr(t, "GetToken", err) != nil {
			t.Errorf("GetToken(%q): %v", n, err)
			continue
		}
		sameToken(t, fmt.Sprintf("GetToken(%q)", n), sampleToken(i), got)
		if !s.opts.ReadOnlyCredentials {
			c, err := st.GetCredentials(ctx(t), n)
			if checkErr(t, "GetCredentials", err) != nil {
				t.Errorf("GetCredentials(%q): %v", n, err)
				continue
			}
			sameCredentials(t, fmt.Sprintf("GetCredentials(%q)", n), sampleCredentials(t, i), c)
		}
	}
	if !s.opts.ReadOnlyCredentials {
		expectNames(t, st, trickyNames)
	}
}

func (s *storeSuite) testMaxNameLen(t *testing.T) {
	st := s.opts.New(t)
	longest := strings.Repeat("n", s.opts.MaxNameLen)
	if err := st.SetToken(ctx(t), longest, sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatalf("SetToken of a %d-byte name: %v", len(longest), err)
	}
	got, err := st.GetToken(ctx(t), longest)
	if checkErr(t, "GetToken", err) != nil {
		t.Fatalf("GetToken of a %d-byte name: %v", len(longest), err)
	}
	sameToken(t, "GetToken of the longest name", sampleToken(1), got)
	if !s.opts.ReadOnlyCredentials {
		s.setCredentials(t, st, longest, sampleCredentials(t, 1))
		c, err := st.GetCredentials(ctx(t), longest)
		if checkErr(t, "GetCredentials", err) != nil {
			t.Fatalf("GetCredentials of a %d-byte name: %v", len(longest), err)
		}
		sameCredentials(t, "GetCredentials of the longest name", sampleCredentials(t, 1), c)
		expectNames(t, st, []string{longest})
	}
	tooLong := longest + "n"
	if err := st.SetToken(ctx(t), tooLong, sampleToken(1)); !errors.Is(checkErr(t, "SetToken", err), core.ErrInvalidCredentials) {
		t.Errorf("SetToken of a %d-byte name = %v; want an error matching core.ErrInvalidCredentials", len(tooLong), err)
	}
	if !s.opts.ReadOnlyCredentials {
		if err := st.SetCredentials(ctx(t), tooLong, sampleCredentials(t, 1)); !errors.Is(checkErr(t, "SetCredentials", err), core.ErrInvalidCredentials) {
			t.Errorf("SetCredentials of a %d-byte name = %v; want an error matching core.ErrInvalidCredentials", len(tooLong), err)
		}
	}
}

// invalidNames are names every store refuses, as driver.CheckName does.
var invalidNames = map[string]string{
	"empty":        "",
	"NUL":          "a\x00b",
	"invalid UTF8": "a\xffb",
}

func (s *storeSuite) testInvalidNames(t *testing.T) {
	st := s.opts.New(t)
	for what, n := range invalidNames {
		refused := func(op string, err error) {
			t.Helper()
			if !errors.Is(checkErr(t, op, err), core.ErrInvalidCredentials) {
				t.Errorf("%s of the %s name = %v; want an error matching core.ErrInvalidCredentials", op, what, err)
			}
		}
		_, err := st.GetCredentials(ctx(t), n)
		refused("GetCredentials", err)
		if !s.opts.ReadOnlyCredentials {
			refused("SetCredentials", st.SetCredentials(ctx(t), n, sampleCredentials(t, 1)))
			refused("DeleteCredentials", st.DeleteCredentials(ctx(t), n))
		}
		_, err = st.GetToken(ctx(t), n)
		refused("GetToken", err)
		refused("SetToken", st.SetToken(ctx(t), n, sampleToken(1)))
		refused("DeleteToken", st.DeleteToken(ctx(t), n))
	}
	if names, err := st.ListCredentials(ctx(t)); checkErr(t, "ListCredentials", err) != nil || len(names) != 0 {
		t.Errorf("ListCredentials after refused writes = %q, %v; want none", names, err)
	}
}

func (s *storeSuite) testNil(t *testing.T) {
	st := s.opts.New(t)
	if !s.opts.ReadOnlyCredentials {
		if err := st.SetCredentials(ctx(t), "svc", nil); !errors.Is(checkErr(t, "SetCredentials", err), core.ErrInvalidCredentials) {
			t.Errorf("SetCredentials(nil) = %v; want an error matching core.ErrInvalidCredentials", err)
		}
		if _, err := st.GetCredentials(ctx(t), "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
			t.Errorf("GetCredentials after SetCredentials(nil) = %v; want core.ErrCredentialsNotFound", err)
		}
	}
	if err := st.SetToken(ctx(t), "svc", nil); !errors.Is(checkErr(t, "SetToken", err), core.ErrInvalidCredentials) {
		t.Errorf("SetToken(nil) = %v; want an error matching core.ErrInvalidCredentials", err)
	}
	if _, err := st.GetToken(ctx(t), "svc"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("GetToken after SetToken(nil) = %v; want core.ErrTokenNotFound", err)
	}
}

func (s *storeSuite) testReadOnly(t *testing.T) {
	if !s.opts.ReadOnlyCredentials {
		t.Skip("the store's credentials are writable")
	}
	st := s.opts.New(t)
	s.setCredentials(t, st, "seeded", sampleCredentials(t, 1))
	if err := st.SetCredentials(ctx(t), "seeded", sampleCredentials(t, 2)); checkErr(t, "SetCredentials", err) == nil {
		t.Error("SetCredentials on a read-only store succeeded")
	}
	if err := st.SetCredentials(ctx(t), "other", sampleCredentials(t, 2)); checkErr(t, "SetCredentials", err) == nil {
		t.Error("SetCredentials of a new name on a read-only store succeeded")
	}
	if err := st.DeleteCredentials(ctx(t), "seeded"); checkErr(t, "DeleteCredentials", err) == nil {
		t.Error("DeleteCredentials on a read-only store succeeded")
	}
	got, err := st.GetCredentials(ctx(t), "seeded")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatalf("GetCredentials after refused writes: %v", err)
	}
	sameCredentials(t, "GetCredentials after refused writes", sampleCredentials(t, 1), got)
	expectNames(t, st, []string{"seeded"})
}

func (s *storeSuite) testPeer(t *testing.T) {
	if s.opts.Peer == nil {
		t.Skip("StoreOptions.Peer is not set")
	}
	a := s.opts.New(t)
	b := s.opts.Peer(t, a)
	s.setCredentials(t, a, "shared", sampleCredentials(t, 1))
	if err := a.SetToken(ctx(t), "shared", sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatal(err)
	}
	c, err := b.GetCredentials(ctx(t), "shared")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatalf("GetCredentials through the peer: %v", err)
	}
	sameCredentials(t, "GetCredentials through the peer", sampleCredentials(t, 1), c)
	tok, err := b.GetToken(ctx(t), "shared")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatalf("GetToken through the peer: %v", err)
	}
	sameToken(t, "GetToken through the peer", sampleToken(1), tok)
	expectNames(t, b, []string{"shared"})

	// The peer's writes and deletes are seen by the first handle.
	if err := b.SetToken(ctx(t), "shared", sampleToken(2)); checkErr(t, "SetToken", err) != nil {
		t.Fatal(err)
	}
	tok, err = a.GetToken(ctx(t), "shared")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatal(err)
	}
	sameToken(t, "GetToken of the peer's write", sampleToken(2), tok)
	if err := b.DeleteToken(ctx(t), "shared"); checkErr(t, "DeleteToken", err) != nil {
		t.Fatal(err)
	}
	if _, err := a.GetToken(ctx(t), "shared"); !errors.Is(err, core.ErrTokenNotFound) {
		t.Errorf("GetToken after the peer's DeleteToken = %v; want core.ErrTokenNotFound", err)
	}
	if !s.opts.ReadOnlyCredentials {
		if err := b.DeleteCredentials(ctx(t), "shared"); checkErr(t, "DeleteCredentials", err) != nil {
			t.Fatal(err)
		}
		if _, err := a.GetCredentials(ctx(t), "shared"); !errors.Is(err, core.ErrCredentialsNotFound) {
			t.Errorf("GetCredentials after the peer's DeleteCredentials = %v; want core.ErrCredentialsNotFound", err)
		}
	}
}

// testConcurrent: Concurrency writers, each on its own name and all on
// one shared name, with readers of the shared name. Every write is kept
// (a store refusing stale tokens may refuse those to the shared name),
// and every read of the shared name is one whole token that was written.
func (s *storeSuite) testConcurrent(t *testing.T) {
	a := s.opts.New(t)
	stores := []core.Store{a}
	if s.opts.Peer != nil {
		stores = append(stores, s.opts.Peer(t, a))
	}
	const rounds = 5
	creds := make([]*core.Credentials, Concurrency*rounds)
	for i := range creds {
		creds[i] = sampleCredentials(t, i)
	}
	c := ctx(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4*Concurrency*rounds)
	for w := range Concurrency {
		st := stores[w%len(stores)]
		name := fmt.Sprintf("writer-%d", w)
		wg.Go(func() {
			for r := range rounds {
				i := w*rounds + r
				if err := st.SetToken(c, name, sampleToken(i)); err != nil {
					errs <- fmt.Errorf("SetToken(%q): %w", name, err)
					return
				}
				if err := st.SetToken(c, "shared", sampleToken(i)); err != nil && !(s.opts.RefusesStaleTokens && errors.Is(err, core.ErrConflict)) {
					errs <- fmt.Errorf("SetToken(shared): %w", err)
					return
				}
				if !s.opts.ReadOnlyCredentials {
					if err := st.SetCredentials(c, name, creds[i]); err != nil {
						errs <- fmt.Errorf("SetCredentials(%q): %w", name, err)
						return
					}
				}
				got, err := st.GetToken(c, "shared")
				if err != nil {
					errs <- fmt.Errorf("GetToken(shared): %w", err)
					return
				}
				if !isSample(got) {
					errs <- errors.New("GetToken(shared) returned a token that no writer wrote whole")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(checkErr(t, "concurrent call", err))
	}
	if t.Failed() {
		return
	}
	var names []string
	for w := range Concurrency {
		name := fmt.Sprintf("writer-%d", w)
		names = append(names, name)
		last := w*rounds + rounds - 1
		for _, st := range stores {
			got, err := st.GetToken(ctx(t), name)
			if checkErr(t, "GetToken", err) != nil {
				t.Errorf("GetToken(%q) after the writers: %v", name, err)
				continue
			}
			sameToken(t, fmt.Sprintf("GetToken(%q) after the writers", name), sampleToken(last), got)
			if !s.opts.ReadOnlyCredentials {
				cr, err := st.GetCredentials(ctx(t), name)
				if checkErr(t, "GetCredentials", err) != nil {
					t.Errorf("GetCredentials(%q) after the writers: %v", name, err)
					continue
				}
				sameCredentials(t, fmt.Sprintf("GetCredentials(%q) after the writers", name), sampleCredentials(t, last), cr)
			}
		}
	}
	if !s.opts.ReadOnlyCredentials {
		expectNames(t, a, names)
	}
}

// isSample reports whether tok is exactly one of the sample tokens.
func isSample(tok *storedToken) bool {
	if tok == nil || tok.Generation < 7 {
		return false
	}
	return tokenDiff(sampleToken(int(tok.Generation-7)), tok) == nil
}

func (s *storeSuite) testCancelled(t *testing.T) {
	st := s.opts.New(t)
	s.setCredentials(t, st, "present", sampleCredentials(t, 1))
	if err := st.SetToken(ctx(t), "present", sampleToken(1)); checkErr(t, "SetToken", err) != nil {
		t.Fatal(err)
	}
	// ok reports whether err is acceptable for a call with a cancelled
	// context, and whether the call took effect.
	ok := func(op string, err error) (took bool) {
		t.Helper()
		checkErr(t, op, err)
		switch {
		case errors.Is(err, context.Canceled):
			return false
		case err == nil && s.opts.IgnoresContext:
			return true
		case err == nil:
			t.Errorf("%s with a cancelled context succeeded; want an error matching context.Canceled (or set StoreOptions.IgnoresContext)", op)
			return true
		default:
			t.Errorf("%s with a cancelled context = %v; want an error matching context.Canceled", op, err)
			return false
		}
	}
	done := cancelled()
	_, err := st.GetCredentials(done, "present")
	ok("GetCredentials", err)
	_, err = st.GetToken(done, "present")
	ok("GetToken", err)
	_, err = st.ListCredentials(done)
	ok("ListCredentials", err)
	if ok("SetToken", st.SetToken(done, "present", sampleToken(2))) {
		return // IgnoresContext: the rest would take effect too
	}
	if ok("DeleteToken", st.DeleteToken(done, "present")) {
		return
	}
	if !s.opts.ReadOnlyCredentials {
		if ok("SetCredentials", st.SetCredentials(done, "present", sampleCredentials(t, 2))) {
			return
		}
		if ok("DeleteCredentials", st.DeleteCredentials(done, "present")) {
			return
		}
	}
	// Refused calls changed nothing.
	c, err := st.GetCredentials(ctx(t), "present")
	if checkErr(t, "GetCredentials", err) != nil {
		t.Fatalf("GetCredentials after calls with a cancelled context: %v", err)
	}
	sameCredentials(t, "GetCredentials after calls with a cancelled context", sampleCredentials(t, 1), c)
	tok, err := st.GetToken(ctx(t), "present")
	if checkErr(t, "GetToken", err) != nil {
		t.Fatalf("GetToken after calls with a cancelled context: %v", err)
	}
	sameToken(t, "GetToken after calls with a cancelled context", sampleToken(1), tok)
}

// testStaleTokens: with RefusesStaleTokens, a token that is not newer
// than the stored one is refused with core.ErrConflict and changes
// nothing, and of concurrent writers the newest token wins. Without it,
// SetToken stores an older token too.
func (s *storeSuite) testStaleTokens(t *testing.T) {
	st := s.opts.New(t)
	set := func(fence, gen uint64) error {
		t.Helper()
		tok := versionedToken(fence, gen)
		return checkErr(t, "SetToken", st.SetToken(ctx(t), "svc", tok))
	}
	stored := func(fence, gen uint64) {
		t.Helper()
		got, err := st.GetToken(ctx(t), "svc")
		if checkErr(t, "GetToken", err) != nil {
			t.Fatalf("GetToken: %v", err)
		}
		sameToken(t, fmt.Sprintf("GetToken after writes (want fence %d, generation %d)", fence, gen), versionedToken(fence, gen), got)
	}
	if err := set(1, 5); err != nil {
		t.Fatalf("SetToken(fence 1, generation 5) of a new token: %v", err)
	}
	if !s.opts.RefusesStaleTokens {
		if err := set(0, 1); err != nil {
			t.Fatalf("SetToken of an older token = %v; want it stored (or set StoreOptions.RefusesStaleTokens)", err)
		}
		stored(0, 1)
		return
	}
	for _, c := range []struct {
		fence, gen uint64
		ok         bool
		why        string
	}{
		{1, 4, false, "a lower generation under the same fence"},
		{1, 5, false, "the same fence and generation"},
		{0, 9, false, "a lower fence, even with a higher generation"},
		{1, 6, true, "a higher generation under the same fence"},
		{2, 1, true, "a higher fence, even with a lower generation"},
	} {
		err := set(c.fence, c.gen)
		switch {
		case c.ok && err != nil:
			t.Errorf("SetToken of %s = %v; want it stored", c.why, err)
		case !c.ok && !errors.Is(err, core.ErrConflict):
			t.Errorf("SetToken of %s = %v; want an error matching core.ErrConflict", c.why, err)
		}
	}
	stored(2, 1)
	// Other names are not compared with this one.
	if err := st.SetToken(ctx(t), "other", versionedToken(0, 1)); checkErr(t, "SetToken", err) != nil {
		t.Errorf("SetToken of another name: %v", err)
	}
	// After a delete there is nothing to be newer than.
	if err := st.DeleteToken(ctx(t), "svc"); checkErr(t, "DeleteToken", err) != nil {
		t.Fatalf("DeleteToken: %v", err)
	}
	if err := set(0, 1); err != nil {
		t.Errorf("SetToken after DeleteToken = %v; want it stored", err)
	}
	stored(0, 1)

	// Concurrent writers: the newest token is never refused, and no
	// older one replaces it.
	var wg sync.WaitGroup
	errs := make(chan error, Concurrency)
	c := ctx(t)
	for w := range Concurrency {
		wg.Go(func() {
			err := st.SetToken(c, "svc", versionedToken(1, uint64(w+1)))
			if err != nil && !errors.Is(err, core.ErrConflict) {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("concurrent SetToken: %v", checkErr(t, "SetToken", err))
	}
	stored(1, Concurrency)
}
