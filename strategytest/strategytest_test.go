package strategytest_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/driver"
	"github.com/plexusone/omnitoken/internal/mutanttest"
	"github.com/plexusone/omnitoken/strategytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	fakeType   = "fake"
	fakeHeader = "X-Fake-Key"
	canary     = "canary-fake-key-7f3a9c"
	mutantEnv  = "STRATEGYTEST_MUTANT"
)

type fakeSection struct {
	Header string `json:"header"`
	Key    string `json:"key"`
}

// fake authorizes with its key in a header. With refreshing, its tokens
// also carry an expiry and a refresh token that rotates. mutant names a
// defect to build in, so that the suite can be shown to catch it.
type fake struct {
	refreshing bool
	mutant     string

	once   sync.Once
	shared http.Header
	calls  int // written without synchronization by the "Racy" mutant
}

func (f *fake) Type() string {
	if f.mutant == "EmptyType" {
		return ""
	}
	return fakeType
}

func (f *fake) parse(c *core.Credentials) (fakeSection, error) {
	var s fakeSection
	if err := c.DecodeSection(&s); err != nil {
		if f.mutant == "AcceptsGarbled" {
			return fakeSection{Header: fakeHeader, Key: "garbled-but-accepted"}, nil
		}
		return s, fmt.Errorf("fake: %w", err)
	}
	if s.Header == "" || s.Key == "" || strings.ContainsAny(s.Key, " \t") {
		switch f.mutant {
		case "LeaksSecret":
			return s, fmt.Errorf("fake: %w: bad key %q", core.ErrInvalidCredentials, s.Key)
		case "WrongSentinel":
			return s, errors.New("fake: bad key")
		}
		return s, fmt.Errorf("fake: %w: header or key is empty, or the key holds whitespace", core.ErrInvalidCredentials)
	}
	return s, nil
}

func (f *fake) Validate(c *core.Credentials) error {
	if f.mutant == "RefusesValid" {
		return fmt.Errorf("fake: %w: refused", core.ErrInvalidCredentials)
	}
	_, err := f.parse(c)
	return err
}

func (f *fake) Token(ctx context.Context, c *core.Credentials, prev *core.Token) (*core.Token, error) {
	if f.mutant != "IgnoresContext" {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("fake: %w", err)
		}
	}
	s, err := f.parse(c)
	if err != nil {
		return nil, err
	}
	tok := &core.Token{Header: http.Header{s.Header: {s.Key}}}
	if f.refreshing && f.mutant != "DropsRefreshToken" {
		tok.Expiry = time.Now().Add(time.Hour)
		tok.RefreshToken = "refresh-1"
		if prev != nil && prev.RefreshToken != "" {
			tok.RefreshToken = prev.RefreshToken + "1"
		}
	}
	switch f.mutant {
	case "ModifiesCredential":
		c.Additional = url.Values{"touched": {"yes"}}
	case "ModifiesPrev":
		if prev != nil {
			prev.Header.Set("X-Touched", "yes")
		}
	case "Racy":
		f.calls++
	case "SharedState":
		f.once.Do(func() { f.shared = tok.Header })
		tok.Header = f.shared
	case "WrongKey":
		tok.Header.Set(s.Header, s.Key+"-wrong")
	case "Expiry":
		tok.Expiry = time.Now().Add(time.Hour)
	case "AliasesPrev":
		if prev != nil {
			tok.Header = prev.Header // what it holds anyway, so only the sharing shows
		}
	case "UnencodableExtra":
		tok.Extra = map[string]any{"notJSON": func() {}}
	}
	return tok, nil
}

func (f *fake) Close() error {
	if f.mutant == "CloseFails" {
		return errors.New("fake: close failed")
	}
	return nil
}

var (
	_ core.Strategy    = (*fake)(nil)
	_ driver.Validator = (*fake)(nil)
	_ driver.Closer    = (*fake)(nil)
)

func fakeCreds(t *testing.T, s fakeSection) *core.Credentials {
	t.Helper()
	c := &core.Credentials{Service: "example", Type: fakeType}
	if err := c.SetSection(fakeType, s); err != nil {
		t.Fatal(err)
	}
	return c
}

// harness returns the harness for a fake with the given mutant ("" for
// none).
func harness(refreshing bool, mutant string) strategytest.Harness {
	h := strategytest.Harness{
		NewStrategy: func(*testing.T) core.Strategy { return &fake{refreshing: refreshing, mutant: mutant} },
		Credentials: func(t *testing.T) *core.Credentials {
			return fakeCreds(t, fakeSection{Header: fakeHeader, Key: canary})
		},
		Invalid: func(t *testing.T) []*core.Credentials {
			return []*core.Credentials{
				fakeCreds(t, fakeSection{Header: fakeHeader}),
				fakeCreds(t, fakeSection{Header: fakeHeader, Key: canary + " with a space"}),
			}
		},
		Secrets: func(*testing.T) []string { return []string{canary} },
		CheckRequest: func(r *http.Request) error {
			if r.Header.Get(fakeHeader) != canary {
				return errors.New("missing or wrong " + fakeHeader)
			}
			return nil
		},
		Expiring:       refreshing,
		Refreshable:    refreshing,
		HonoursContext: true,
	}
	switch mutant {
	case "CheckRequestChecksNothing":
		h.CheckRequest = func(*http.Request) error { return nil }
	case "CanaryNowhere":
		h.Secrets = func(*testing.T) []string { return []string{canary, "a-canary-in-no-credential"} }
	}
	return h
}

// A well-behaved strategy passes.
func TestConformance(t *testing.T) {
	strategytest.RunConformance(t, harness(false, ""))
}

// A well-behaved strategy with expiring, refreshable tokens passes.
func TestConformanceRefreshing(t *testing.T) {
	strategytest.RunConformance(t, harness(true, ""))
}

// mutants are defects the suite must catch, each with a subtest that
// must fail.
var mutants = []struct {
	name       string
	refreshing bool
	fails      []string
	raceOnly   bool
}{
	{name: "EmptyType", fails: []string{"Type"}},
	{name: "ModifiesCredential", fails: []string{"InputsUnchanged"}},
	{name: "ModifiesPrev", fails: []string{"InputsUnchanged"}},
	{name: "SharedState", fails: []string{"TokensIndependent"}},
	{name: "Racy", fails: []string{"Concurrent"}, raceOnly: true},
	{name: "IgnoresContext", fails: []string{"DoneContext/Cancelled", "DoneContext/DeadlineExceeded"}},
	{name: "WrongKey", fails: []string{"Token", "Manager"}},
	{name: "Expiry", fails: []string{"Token"}},
	{name: "DropsRefreshToken", refreshing: true, fails: []string{"Token"}},
	{name: "AcceptsGarbled", fails: []string{"InvalidCredentials/MissingSection", "Manager"}},
	{name: "WrongSentinel", fails: []string{"InvalidCredentials/Harness.Invalid[0]"}}, // the Manager wraps Validate errors itself
	{name: "LeaksSecret", fails: []string{"InvalidCredentials/Harness.Invalid[1]", "Manager"}},
	{name: "RefusesValid", fails: []string{"Validate", "Manager"}},
	{name: "AliasesPrev", fails: []string{"InputsUnchanged"}},
	{name: "UnencodableExtra", fails: []string{"TokenJSONRoundTrip"}},
	{name: "CloseFails", fails: []string{"CloseUnused"}},
	{name: "CheckRequestChecksNothing", fails: []string{"Token"}},
	{name: "CanaryNowhere", fails: []string{"NoSecretsPrinted"}},
}

// TestMutantChild runs the suite against one mutant; TestMutants starts
// it in a child process, since the suite failing is the expected outcome.
func TestMutantChild(t *testing.T) {
	name := os.Getenv(mutantEnv)
	if name == "" {
		t.Skip("run by TestMutants")
	}
	for _, m := range mutants {
		if m.name == name {
			strategytest.RunConformance(t, harness(m.refreshing, m.name))
			return
		}
	}
	t.Fatalf("unknown mutant %q", name)
}

// The suite catches each defect: the child run fails in the expected
// subtest, and its output never shows the canary.
func TestMutants(t *testing.T) {
	if os.Getenv(mutantEnv) != "" {
		t.Skip("in a child")
	}
	for _, m := range mutants {
		t.Run(m.name, func(t *testing.T) {
			out := mutanttest.RunChild(t, mutantEnv, m.name, m.raceOnly, m.fails)
			if strings.Contains(out, canary) {
				t.Errorf("the suite's output shows the canary:\n%s", out)
			}
		})
	}
}
