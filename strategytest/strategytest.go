package strategytest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/core/driver"
)

// Concurrency is how many goroutines the Concurrent subtest runs at once.
const Concurrency = 50

// minSecretLen is the shortest piece of a token's own material that the
// leak checks look for. Shorter values (a header value "1") would match
// innocent text.
const minSecretLen = 8

// hangGuard bounds how long the suite waits for a call that should
// return at once, so that a hanging strategy fails instead of blocking
// the test binary until its timeout.
const hangGuard = 10 * time.Second

// mutationMarker is written into tokens to detect shared memory.
const mutationMarker = "strategytest-mutated"

// Harness describes the strategy under test to RunConformance.
type Harness struct {
	// NewStrategy returns the strategy under test, possibly a plugin
	// adapter. Required. It is called once per subtest. A strategy that
	// implements driver.Closer is closed when the subtest ends (by the
	// Manager in the Manager subtest).
	NewStrategy func(t *testing.T) core.Strategy
	// Credentials returns a valid credential for the strategy, its
	// section filled in, for example pointing at a test server the
	// harness started. Required. Each call returns a fresh value.
	Credentials func(t *testing.T) *core.Credentials
	// Invalid returns credentials of the strategy's type that must be
	// refused with core.ErrInvalidCredentials, beyond the garbled ones the
	// suite builds itself. Optional.
	Invalid func(t *testing.T) []*core.Credentials
	// Secrets returns canary values held in the credentials, valid or
	// invalid, that must never appear in an error or a printed value.
	// Optional; the suite adds the token's own secret material (access
	// and refresh token, header and query values of 8 bytes or more).
	Secrets func(t *testing.T) []string
	// CheckRequest, when set, runs in the suite's test server on each
	// request authorized by a token and returns an error if the request
	// is not authorized as the credential says (wrong user, missing key).
	// It must refuse a request that carries no credential.
	CheckRequest func(r *http.Request) error
	// Expiring says tokens carry an Expiry, in the future by Clock. When
	// false, tokens must carry none.
	Expiring bool
	// Refreshable says tokens carry a refresh token, for the strategy to
	// use through prev. When false, tokens must carry none. The suite
	// checks its presence and that calls with prev succeed; whether the
	// strategy really refreshes with it is for the strategy's own tests,
	// which can see its token endpoint.
	Refreshable bool
	// HonoursContext says Token looks at its context, because it does
	// I/O or checks ctx before working: called with a cancelled or
	// expired context, it must fail with an error matching ctx.Err().
	HonoursContext bool
	// Clock is the clock the strategy reads; the Manager subtest uses it
	// too. Default: core.SystemClock.
	Clock core.Clock
}

// RunConformance runs the conformance suite against h as subtests of t.
// See the package documentation for what each subtest checks.
func RunConformance(t *testing.T, h Harness) {
	t.Helper()
	if h.NewStrategy == nil || h.Credentials == nil {
		t.Fatal("strategytest: Harness.NewStrategy and Harness.Credentials are required")
	}
	s := &suite{h: h, clock: h.Clock}
	if s.clock == nil {
		s.clock = core.SystemClock{}
	}
	if h.Secrets != nil {
		for i, c := range h.Secrets(t) {
			if c == "" {
				t.Fatalf("strategytest: Harness.Secrets[%d] is empty", i)
			}
			s.canaries = append(s.canaries, c)
		}
	}
	t.Run("Type", s.testType)
	t.Run("Token", s.testToken)
	t.Run("TokenWithPrev", s.testTokenWithPrev)
	t.Run("InputsUnchanged", s.testInputsUnchanged)
	t.Run("TokensIndependent", s.testTokensIndependent)
	t.Run("Concurrent", s.testConcurrent)
	t.Run("DoneContext", s.testDoneContext)
	t.Run("Validate", s.testValidate)
	t.Run("InvalidCredentials", s.testInvalid)
	t.Run("NoSecretsPrinted", s.testNoSecrets)
	t.Run("TokenJSONRoundTrip", s.testJSONRoundTrip)
	t.Run("Manager", s.testManager)
	t.Run("CloseUnused", s.testCloseUnused)
}

type suite struct {
	h        Harness
	clock    core.Clock
	canaries []string

	mu      sync.Mutex
	derived []string // secret material of tokens seen so far
}

// strategy returns a new strategy under test, closed when t ends.
func (s *suite) strategy(t *testing.T) core.Strategy {
	t.Helper()
	st := s.rawStrategy(t)
	if c, ok := st.(driver.Closer); ok {
		t.Cleanup(func() {
			if err := c.Close(); err != nil {
				t.Errorf("Close: %s", s.scrub(err.Error()))
			}
		})
	}
	return st
}

func (s *suite) rawStrategy(t *testing.T) core.Strategy {
	t.Helper()
	st := s.h.NewStrategy(t)
	if st == nil {
		t.Fatal("Harness.NewStrategy returned nil")
	}
	return st
}

func (s *suite) creds(t *testing.T) *core.Credentials {
	t.Helper()
	c := s.h.Credentials(t)
	if c == nil {
		t.Fatal("Harness.Credentials returned nil")
	}
	return c
}

// token calls Token and fails t on an error or a nil token.
func (s *suite) token(t *testing.T, st core.Strategy, c *core.Credentials, prev *core.Token) *core.Token {
	t.Helper()
	tok, err := st.Token(t.Context(), c, prev)
	if err != nil {
		t.Fatalf("Token: %s", s.scrub(err.Error()))
	}
	if tok == nil {
		t.Fatal("Token returned a nil token and a nil error")
	}
	s.learn(tok)
	return tok
}

// learn adds a token's secret material to what the leak checks look for.
func (s *suite) learn(tok *core.Token) {
	add := func(v string) {
		if len(v) >= minSecretLen && !slices.Contains(s.derived, v) {
			s.derived = append(s.derived, v)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	add(tok.AccessToken)
	add(tok.RefreshToken)
	for _, vs := range tok.Header {
		for _, v := range vs {
			add(v)
		}
	}
	for _, vs := range tok.Query {
		for _, v := range vs {
			add(v)
		}
	}
}

// secrets returns the canaries and every token secret learnt so far.
func (s *suite) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append(slices.Clone(s.canaries), s.derived...)
}

// scrub replaces every known secret in msg, so that failure messages
// never print one.
func (s *suite) scrub(msg string) string {
	for i, v := range s.secrets() {
		msg = strings.ReplaceAll(msg, v, fmt.Sprintf("[secret #%d]", i))
	}
	return msg
}

// leak returns the index of a secret found in text, or -1.
func (s *suite) leak(text string) int {
	for i, v := range s.secrets() {
		if strings.Contains(text, v) {
			return i
		}
	}
	return -1
}

// checkPrinted fails t if v, printed in any usual way or logged, shows a
// secret.
func (s *suite) checkPrinted(t *testing.T, what string, v any) {
	t.Helper()
	var jsonLog, textLog strings.Builder
	slog.New(slog.NewJSONHandler(&jsonLog, &slog.HandlerOptions{Level: slog.LevelDebug})).Debug("strategytest", "value", v)
	slog.New(slog.NewTextHandler(&textLog, &slog.HandlerOptions{Level: slog.LevelDebug})).Debug("strategytest", "value", v)
	forms := []struct{ how, text string }{
		{"%v", fmt.Sprintf("%v", v)},
		{"%+v", fmt.Sprintf("%+v", v)},
		{"%#v", fmt.Sprintf("%#v", v)},
		{"%s", fmt.Sprintf("%s", v)},
		{"%q", fmt.Sprintf("%q", v)},
		{"slog's JSON handler", jsonLog.String()},
		{"slog's text handler", textLog.String()},
	}
	for _, f := range forms {
		if i := s.leak(f.text); i >= 0 {
			t.Errorf("%s printed with %s shows secret #%d", what, f.how, i)
		}
	}
}

// checkShape checks what every token must be, and the harness's claims
// about expiry and refresh.
func (s *suite) checkShape(t *testing.T, tok *core.Token) {
	t.Helper()
	if tok.AccessToken == "" && len(tok.Header) == 0 && len(tok.Query) == 0 {
		t.Error("token has no access token, header or query parameter: it authorizes nothing")
	}
	switch {
	case s.h.Expiring && tok.Expiry.IsZero():
		t.Error("token has no Expiry, but Harness.Expiring is true")
	case s.h.Expiring && !tok.Expiry.After(s.clock.Now()):
		t.Errorf("token expired at birth: Expiry %s is not after now %s", tok.Expiry.UTC().Format(time.RFC3339), s.clock.Now().UTC().Format(time.RFC3339))
	case !s.h.Expiring && !tok.Expiry.IsZero():
		t.Error("token has an Expiry, but Harness.Expiring is false")
	}
	switch {
	case s.h.Refreshable && tok.RefreshToken == "":
		t.Error("token has no refresh token, but Harness.Refreshable is true")
	case !s.h.Refreshable && tok.RefreshToken != "":
		t.Error("token has a refresh token, but Harness.Refreshable is false")
	}
}

// credJSON is the credential's JSON, for before/after comparisons.
func credJSON(t *testing.T, c *core.Credentials) string {
	t.Helper()
	b, err := c.MarshalJSON()
	if err != nil {
		t.Fatalf("encoding the credential: %v", err)
	}
	return string(b)
}

// tokJSON is the token's JSON, for before/after comparisons.
func tokJSON(t *testing.T, tok *core.Token) string {
	t.Helper()
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatalf("encoding the token: %v", err)
	}
	return string(b)
}

// mutate writes into every map and slice a token holds, and adds keys,
// so that memory it shares with anything else shows.
func mutate(tok *core.Token) {
	tok.AccessToken = mutationMarker
	tok.RefreshToken = mutationMarker
	for _, vs := range tok.Header {
		for i := range vs {
			vs[i] = mutationMarker
		}
	}
	for _, vs := range tok.Query {
		for i := range vs {
			vs[i] = mutationMarker
		}
	}
	for k := range tok.Extra {
		tok.Extra[k] = mutationMarker
	}
	if tok.Header == nil {
		tok.Header = http.Header{}
	}
	tok.Header["X-"+mutationMarker] = []string{mutationMarker}
	if tok.Query == nil {
		tok.Query = url.Values{}
	}
	tok.Query[mutationMarker] = []string{mutationMarker}
	if tok.Extra == nil {
		tok.Extra = map[string]any{}
	}
	tok.Extra[mutationMarker] = mutationMarker
}

// seen is what the recording server saw of one request.
type seen struct {
	header http.Header
	query  url.Values
	err    error // CheckRequest's verdict
}

// recorder is a loopback HTTP server that records the requests it gets.
type recorder struct {
	srv *httptest.Server
	ch  chan seen
}

func newRecorder(t *testing.T, check func(*http.Request) error) *recorder {
	t.Helper()
	r := &recorder{ch: make(chan seen, 2*Concurrency)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got := seen{header: req.Header.Clone(), query: req.URL.Query()}
		if check != nil {
			got.err = check(req)
		}
		r.ch <- got
		if got.err != nil {
			// Not 401: that would make a core.Transport refresh and retry.
			w.WriteHeader(http.StatusForbidden)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

const probePath = "/strategytest/probe?keep=1"

// next returns what the server saw of the request just completed.
func (r *recorder) next(t *testing.T) seen {
	t.Helper()
	select {
	case got := <-r.ch:
		return got
	default:
		t.Fatal("the test server saw no request")
		return seen{}
	}
}

// send sends req with the server's client and returns what it saw.
func (s *suite) send(t *testing.T, r *recorder, client *http.Client, req *http.Request) seen {
	t.Helper()
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL may carry a query secret
		}
		t.Fatalf("request to the test server failed: %s", s.scrub(err.Error()))
	}
	_ = resp.Body.Close()
	return r.next(t)
}

// authorize sends a request authorized by tok and checks that the server
// saw exactly the token's authorization.
func (s *suite) authorize(t *testing.T, r *recorder, tok *core.Token) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.srv.URL+probePath, nil)
	if err != nil {
		t.Fatal(err)
	}
	tok.SetAuth(req)
	s.expectAuthorized(t, tok, s.send(t, r, r.srv.Client(), req))
}

// expectAuthorized checks that got carries tok's authorization. Messages
// name headers and parameters, never their values.
func (s *suite) expectAuthorized(t *testing.T, tok *core.Token, got seen) {
	t.Helper()
	want := http.Header{}
	if a := tok.AuthorizationHeader(); a != "" {
		want.Set("Authorization", a)
	}
	for k, vs := range tok.Header {
		want[http.CanonicalHeaderKey(k)] = vs
	}
	for k, vs := range want {
		if !slices.Equal(got.header.Values(k), vs) {
			t.Errorf("the server did not get the token's %s header as the token holds it", k)
		}
	}
	for k, vs := range tok.Query {
		if !slices.Equal(got.query[k], vs) {
			t.Errorf("the server did not get the token's query parameter %q as the token holds it", k)
		}
	}
	if got.query.Get("keep") != "1" {
		t.Error("authorizing the request dropped its own query parameter")
	}
	if got.err != nil {
		t.Errorf("Harness.CheckRequest refused the authorized request: %s", s.scrub(got.err.Error()))
	}
}

func (s *suite) testType(t *testing.T) {
	st := s.strategy(t)
	typ := st.Type()
	if typ == "" {
		t.Fatal("Type() is empty")
	}
	if again := st.Type(); again != typ {
		t.Errorf("Type() changed from %q to %q", typ, again)
	}
	c := s.creds(t)
	if c.Type != typ {
		t.Errorf("Harness.Credentials has type %q; the strategy serves %q", c.Type, typ)
	}
	if !c.HasSection(typ) {
		t.Errorf("Harness.Credentials has no %q section", typ)
	}
}

func (s *suite) testToken(t *testing.T) {
	st := s.strategy(t)
	tok := s.token(t, st, s.creds(t), nil)
	s.checkShape(t, tok)
	r := newRecorder(t, s.h.CheckRequest)
	s.authorize(t, r, tok)

	if s.h.CheckRequest != nil {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, r.srv.URL+probePath, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.send(t, r, r.srv.Client(), req); got.err == nil {
			t.Error("Harness.CheckRequest accepts a request that carries no credential: it checks nothing")
		}
	}
}

func (s *suite) testTokenWithPrev(t *testing.T) {
	st := s.strategy(t)
	c := s.creds(t)
	prev := s.token(t, st, c, nil)
	tok := s.token(t, st, c, prev)
	s.checkShape(t, tok)
	s.authorize(t, newRecorder(t, s.h.CheckRequest), tok)
}

func (s *suite) testInputsUnchanged(t *testing.T) {
	st := s.strategy(t)
	c := s.creds(t)
	cBefore := credJSON(t, c)
	prev := s.token(t, st, c, nil)
	if credJSON(t, c) != cBefore {
		t.Fatal("Token(c, nil) modified the credential")
	}
	pBefore := tokJSON(t, prev)
	tok := s.token(t, st, c, prev)
	if credJSON(t, c) != cBefore {
		t.Error("Token(c, prev) modified the credential")
	}
	if tokJSON(t, prev) != pBefore {
		t.Error("Token(c, prev) modified prev")
	}
	mutate(tok)
	if credJSON(t, c) != cBefore {
		t.Error("the returned token shares memory with the credential")
	}
	if tokJSON(t, prev) != pBefore {
		t.Error("the returned token shares memory with prev")
	}
}

func (s *suite) testTokensIndependent(t *testing.T) {
	st := s.strategy(t)
	c := s.creds(t)
	t1 := s.token(t, st, c, nil)
	t2 := s.token(t, st, c, nil)
	before := tokJSON(t, t2)
	mutate(t1)
	if tokJSON(t, t2) != before {
		t.Error("tokens from separate calls share memory: changing one changed the other")
	}
	t3 := s.token(t, st, c, nil)
	if strings.Contains(tokJSON(t, t3), mutationMarker) {
		t.Error("a change to a returned token shows in a later token: the strategy hands out shared state")
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	st := s.strategy(t)
	c := s.creds(t)
	prev := s.token(t, st, c, nil)
	cBefore, pBefore := credJSON(t, c), tokJSON(t, prev)

	toks := make([]*core.Token, Concurrency)
	errs := make([]error, Concurrency)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range Concurrency {
		p := prev
		if i%2 == 0 {
			p = nil
		}
		wg.Go(func() {
			<-start
			toks[i], errs[i] = st.Token(t.Context(), c, p)
		})
	}
	close(start)
	wg.Wait()

	r := newRecorder(t, s.h.CheckRequest)
	for i := range Concurrency {
		switch {
		case errs[i] != nil:
			t.Errorf("call %d: Token: %s", i, s.scrub(errs[i].Error()))
		case toks[i] == nil:
			t.Errorf("call %d: Token returned a nil token and a nil error", i)
		default:
			s.learn(toks[i])
			s.checkShape(t, toks[i])
			s.authorize(t, r, toks[i])
		}
	}
	if credJSON(t, c) != cBefore {
		t.Error("concurrent calls modified the credential")
	}
	if tokJSON(t, prev) != pBefore {
		t.Error("concurrent calls modified prev")
	}
}

func (s *suite) testDoneContext(t *testing.T) {
	if !s.h.HonoursContext {
		t.Skip("Harness.HonoursContext is false")
	}
	cases := []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
	}{
		{"Cancelled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx, cancel
		}},
		{"DeadlineExceeded", func() (context.Context, context.CancelFunc) {
			return context.WithDeadline(context.Background(), time.Unix(0, 0))
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := s.strategy(t)
			c := s.creds(t)
			ctx, cancel := tc.ctx()
			defer cancel()
			type result struct {
				tok *core.Token
				err error
			}
			done := make(chan result, 1)
			go func() {
				tok, err := st.Token(ctx, c, nil)
				done <- result{tok, err}
			}()
			var res result
			select {
			case res = <-done:
			case <-time.After(hangGuard):
				t.Fatalf("Token did not return within %s of being called with a done context", hangGuard)
			}
			if res.err == nil {
				t.Fatal("Token succeeded with a done context")
			}
			if !errors.Is(res.err, ctx.Err()) {
				t.Errorf("Token's error does not match %v: %s", ctx.Err(), s.scrub(res.err.Error()))
			}
			s.checkPrinted(t, "the done-context error", res.err)
		})
	}
}

func (s *suite) testValidate(t *testing.T) {
	v, ok := s.strategy(t).(driver.Validator)
	if !ok {
		t.Skip("the strategy does not implement driver.Validator")
	}
	c := s.creds(t)
	before := credJSON(t, c)
	if err := v.Validate(c); err != nil {
		t.Errorf("Validate refused the harness's valid credential: %s", s.scrub(err.Error()))
	}
	if credJSON(t, c) != before {
		t.Error("Validate modified the credential")
	}
}

type invalidCase struct {
	name  string
	creds *core.Credentials
}

// invalid returns the garbled variants of a valid credential and the
// harness's own invalid credentials.
func (s *suite) invalid(t *testing.T) []invalidCase {
	t.Helper()
	base := s.creds(t)
	garble := func(name string, section any) invalidCase {
		c := base.Clone()
		if err := c.SetSection(base.Type, section); err != nil {
			t.Fatalf("building the %s case: %v", name, err)
		}
		return invalidCase{name, c}
	}
	cases := []invalidCase{
		garble("MissingSection", nil),
		garble("NullSection", json.RawMessage(`null`)),
		garble("SectionIsString", json.RawMessage(`"strategytest"`)),
		garble("SectionIsNumber", json.RawMessage(`42`)),
		garble("SectionIsArray", json.RawMessage(`[{}]`)),
	}
	if s.h.Invalid != nil {
		for i, c := range s.h.Invalid(t) {
			if c == nil {
				t.Fatalf("Harness.Invalid[%d] is nil", i)
			}
			cases = append(cases, invalidCase{fmt.Sprintf("Harness.Invalid[%d]", i), c})
		}
	}
	return cases
}

func (s *suite) testInvalid(t *testing.T) {
	st := s.strategy(t)
	s.token(t, st, s.creds(t), nil) // learn the token's secret material
	v, isValidator := st.(driver.Validator)
	for _, tc := range s.invalid(t) {
		t.Run(tc.name, func(t *testing.T) {
			before := credJSON(t, tc.creds)
			_, err := st.Token(t.Context(), tc.creds, nil)
			switch {
			case err == nil:
				t.Error("Token accepted the invalid credential")
			case !errors.Is(err, core.ErrInvalidCredentials):
				t.Errorf("Token's error does not match core.ErrInvalidCredentials: %s", s.scrub(err.Error()))
			}
			if err != nil {
				s.checkPrinted(t, "Token's error", err)
			}
			if isValidator {
				verr := v.Validate(tc.creds)
				switch {
				case verr == nil:
					t.Error("Validate accepted the credential Token refuses")
				case !errors.Is(verr, core.ErrInvalidCredentials):
					t.Errorf("Validate's error does not match core.ErrInvalidCredentials: %s", s.scrub(verr.Error()))
				default:
					s.checkPrinted(t, "Validate's error", verr)
				}
			}
			if credJSON(t, tc.creds) != before {
				t.Error("refusing the credential modified it")
			}
		})
	}
}

func (s *suite) testNoSecrets(t *testing.T) {
	st := s.strategy(t)
	c := s.creds(t)
	tok := s.token(t, st, c, nil)

	// Each canary must be somewhere the suite looks, or the checks below
	// would pass whatever the strategy does.
	haystack := credJSON(t, c) + tokJSON(t, tok)
	for _, ic := range s.invalid(t) {
		haystack += credJSON(t, ic.creds)
	}
	for i, canary := range s.canaries {
		if !strings.Contains(haystack, canary) {
			t.Errorf("Harness.Secrets[%d] is in no credential or token: the leak checks would prove nothing", i)
		}
	}

	s.checkPrinted(t, "the token", tok)
	s.checkPrinted(t, "the token value", *tok)
	s.checkPrinted(t, "the credential", c)
	s.checkPrinted(t, "the credential value", *c)
	for _, ic := range s.invalid(t) {
		s.checkPrinted(t, "the invalid credential "+ic.name, ic.creds)
	}
}

func (s *suite) testJSONRoundTrip(t *testing.T) {
	st := s.strategy(t)
	tok := s.token(t, st, s.creds(t), nil)
	b, err := json.Marshal(tok)
	if err != nil {
		t.Fatalf("encoding the token: %v", err)
	}
	var back core.Token
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decoding the token: %v", err)
	}
	if !back.Equal(tok) {
		t.Error("the token decoded from JSON is not Equal to the original")
	}
	if !back.Expiry.Equal(tok.Expiry) || back.Type() != tok.Type() || back.AuthorizationHeader() != tok.AuthorizationHeader() {
		t.Error("the token decoded from JSON changed its expiry, type or Authorization header")
	}
	r1 := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+probePath, nil)
	r2 := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+probePath, nil)
	tok.SetAuth(r1)
	back.SetAuth(r2)
	if fmt.Sprint(r1.Header) != fmt.Sprint(r2.Header) || r1.URL.String() != r2.URL.String() {
		t.Error("the token decoded from JSON authorizes a request differently")
	}
	s.authorize(t, newRecorder(t, s.h.CheckRequest), &back)
}

func (s *suite) testManager(t *testing.T) {
	var logs coretest.SyncBuffer
	m, err := core.New(core.Options{
		Store:      core.NewMemoryStore(),
		Strategies: []core.Strategy{s.rawStrategy(t)}, // the Manager closes it
		Clock:      s.clock,
		Logger:     slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatalf("core.New: %v", err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			_ = m.Close()
		}
	})
	ctx := t.Context()
	const name = "strategytest"
	if err := m.SetCredentials(ctx, name, s.creds(t)); err != nil {
		t.Fatalf("Manager.SetCredentials: %s", s.scrub(err.Error()))
	}
	tok, err := m.Token(ctx, name)
	if err != nil {
		t.Fatalf("Manager.Token: %s", s.scrub(err.Error()))
	}
	s.learn(tok)
	s.checkShape(t, tok)

	r := newRecorder(t, s.h.CheckRequest)
	client := m.Client(name, r.srv.Client().Transport)
	get := func() seen {
		t.Helper()
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.srv.URL+probePath, nil)
		if err != nil {
			t.Fatal(err)
		}
		return s.send(t, r, client, req)
	}
	s.expectAuthorized(t, tok, get())

	tok2, err := m.Refresh(ctx, name)
	if err != nil {
		t.Fatalf("Manager.Refresh: %s", s.scrub(err.Error()))
	}
	s.learn(tok2)
	s.checkShape(t, tok2)
	s.expectAuthorized(t, tok2, get())

	for i, tc := range s.invalid(t) {
		n := fmt.Sprintf("invalid-%d", i)
		err := m.SetCredentials(ctx, n, tc.creds)
		if err == nil {
			_, err = m.Token(ctx, n)
		}
		switch {
		case err == nil:
			t.Errorf("%s: the Manager accepted it and issued a token", tc.name)
		case !errors.Is(err, core.ErrInvalidCredentials):
			t.Errorf("%s: the Manager's error does not match core.ErrInvalidCredentials: %s", tc.name, s.scrub(err.Error()))
		default:
			s.checkPrinted(t, tc.name+": the Manager's error", err)
		}
	}

	closed = true
	if err := m.Close(); err != nil {
		t.Errorf("Manager.Close: %s", s.scrub(err.Error()))
	}
	if i := s.leak(logs.String()); i >= 0 {
		t.Errorf("the Manager's debug log shows secret #%d", i)
	}
}

func (s *suite) testCloseUnused(t *testing.T) {
	c, ok := s.rawStrategy(t).(driver.Closer)
	if !ok {
		t.Skip("the strategy does not implement driver.Closer")
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close of an unused strategy: %s", s.scrub(err.Error()))
	}
}
