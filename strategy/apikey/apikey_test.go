package apikey_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/apikey"
	"github.com/plexusone/omnitoken/strategytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	canaryKey   = "canary-api-key-3be28f"
	canaryToken = "canary-query-token-a90c"
)

func withSection(t *testing.T, raw string) *core.Credentials {
	t.Helper()
	c := &core.Credentials{Type: apikey.Type}
	if err := c.SetSection(apikey.Type, json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	return c
}

func mustNew(t *testing.T, s apikey.Section) *core.Credentials {
	t.Helper()
	c, err := apikey.NewCredentials(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	invalid := func(t *testing.T) []*core.Credentials {
		return []*core.Credentials{
			withSection(t, `{}`),
			withSection(t, `{"serverURL":"https://api.example.com"}`),
			withSection(t, `{"header":{"X-Api-Key":[]},"query":{"api_key":[""]}}`),
			apikey.Header("X Api Key", canaryKey),
			apikey.Header("X-Api-Key", canaryKey+"\r\nX-Injected: 1"),
			apikey.Header("Host", canaryKey),
			apikey.Query("", canaryToken),
			withSection(t, `{"header":{"X-Api-Key":"`+canaryKey+`"}}`), // a string, not a list
		}
	}
	headerOK := func(r *http.Request) error {
		if r.Header.Get("X-Api-Key") != canaryKey {
			return errors.New("missing or wrong X-Api-Key")
		}
		return nil
	}
	queryOK := func(r *http.Request) error {
		if r.URL.Query().Get("api_key") != canaryToken {
			return errors.New("missing or wrong api_key")
		}
		return nil
	}
	secrets := func(*testing.T) []string { return []string{canaryKey, canaryToken} }
	run := func(t *testing.T, creds func(*testing.T) *core.Credentials, check func(*http.Request) error) {
		strategytest.RunConformance(t, strategytest.Harness{
			NewStrategy:    func(*testing.T) core.Strategy { return apikey.New() },
			Credentials:    creds,
			Invalid:        invalid,
			Secrets:        secrets,
			CheckRequest:   check,
			HonoursContext: true,
		})
	}

	t.Run("Header", func(t *testing.T) {
		run(t, func(*testing.T) *core.Credentials { return apikey.Header("x-api-key", canaryKey) }, headerOK)
	})
	t.Run("Query", func(t *testing.T) {
		run(t, func(*testing.T) *core.Credentials { return apikey.Query("api_key", canaryToken) }, queryOK)
	})
	t.Run("Both", func(t *testing.T) {
		run(t, func(t *testing.T) *core.Credentials {
			return mustNew(t, apikey.Section{
				ServerURL: "https://api.example.com",
				Header:    http.Header{"X-Api-Key": {canaryKey}, "Accept": {"application/json", "text/plain"}},
				Query:     url.Values{"api_key": {canaryToken}, "tag": {"a", "b"}},
			})
		}, func(r *http.Request) error {
			if err := headerOK(r); err != nil {
				return err
			}
			if err := queryOK(r); err != nil {
				return err
			}
			if got := r.URL.Query()["tag"]; len(got) != 2 {
				return errors.New("repeated query parameter tag lost a value")
			}
			return nil
		})
	})
}

func TestToken(t *testing.T) {
	tests := []struct {
		name, section string
		header        http.Header
		query         url.Values
	}{
		{"Header", `{"header":{"X-Api-Key":["k1"]}}`, http.Header{"X-Api-Key": {"k1"}}, nil},
		{"HeaderCanonicalized", `{"header":{"x-api-key":["k1"]}}`, http.Header{"X-Api-Key": {"k1"}}, nil},
		{"HeaderCaseVariantsMerged", `{"header":{"x-api-key":["b"],"X-Api-Key":["a"]}}`, http.Header{"X-Api-Key": {"a", "b"}}, nil},
		{"HeaderMultipleValues", `{"header":{"Accept":["a","b"],"X-Key":["k"]}}`, http.Header{"Accept": {"a", "b"}, "X-Key": {"k"}}, nil},
		{"Authorization", `{"header":{"Authorization":["Token abc"]}}`, http.Header{"Authorization": {"Token abc"}}, nil},
		{"EmptyListDropped", `{"header":{"X-Empty":[],"X-Key":["k"]}}`, http.Header{"X-Key": {"k"}}, nil},
		{"Query", `{"query":{"api_key":["q1"]}}`, nil, url.Values{"api_key": {"q1"}}},
		{"QueryCaseKept", `{"query":{"API_Key":["q1"],"api_key":["q2"]}}`, nil, url.Values{"API_Key": {"q1"}, "api_key": {"q2"}}},
		{"QueryNeedsEscaping", `{"query":{"sig":["a b&c=d/é"]}}`, nil, url.Values{"sig": {"a b&c=d/é"}}},
		{"Both", `{"header":{"X-Key":["k"]},"query":{"key":["q"]},"serverURL":"https://x","allowInsecure":true}`, http.Header{"X-Key": {"k"}}, url.Values{"key": {"q"}}},
		{"TabInValue", `{"header":{"X-Key":["a\tb"]}}`, http.Header{"X-Key": {"a\tb"}}, nil},
	}
	s := apikey.New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := withSection(t, tc.section)
			if err := s.Validate(c); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			tok, err := s.Token(context.Background(), c, nil)
			if err != nil {
				t.Fatalf("Token: %v", err)
			}
			if !reflect.DeepEqual(tok.Header, tc.header) || !reflect.DeepEqual(tok.Query, tc.query) {
				t.Errorf("token header %v query %v, want %v %v", tok.Header, tok.Query, tc.header, tc.query)
			}
			if tok.AccessToken != "" || tok.RefreshToken != "" || !tok.Expiry.IsZero() {
				t.Error("token carries more than headers and query parameters")
			}
			// On a request that has its own query, both survive.
			r := httptest.NewRequest(http.MethodGet, "https://api.example.com/v1?page=2", nil)
			tok.SetAuth(r)
			if r.URL.Query().Get("page") != "2" {
				t.Error("the request's own query parameter was lost")
			}
			for k, vs := range tc.query {
				if !reflect.DeepEqual(r.URL.Query()[k], vs) {
					t.Errorf("query %q = %v after SetAuth, want %v", k, r.URL.Query()[k], vs)
				}
			}
			for k, vs := range tc.header {
				if !reflect.DeepEqual(r.Header.Values(k), vs) {
					t.Errorf("header %q = %v after SetAuth, want %v", k, r.Header.Values(k), vs)
				}
			}
		})
	}
}

// A query parameter of the credential replaces one of the same name in
// the request, so a caller cannot smuggle in another key.
func TestQueryReplacesRequestParameter(t *testing.T) {
	tok, err := apikey.New().Token(context.Background(), apikey.Query("api_key", "real"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "https://api.example.com/?api_key=other", nil)
	tok.SetAuth(r)
	if got := r.URL.Query()["api_key"]; !reflect.DeepEqual(got, []string{"real"}) {
		t.Errorf("api_key = %v, want [real]", got)
	}
}

func TestInvalid(t *testing.T) {
	const secret = "sk-live-not-to-be-shown"
	tests := []struct {
		name  string
		creds func(t *testing.T) *core.Credentials
		says  string
	}{
		{"Nil", func(*testing.T) *core.Credentials { return nil }, "nil credential"},
		{"WrongType", func(*testing.T) *core.Credentials {
			c := apikey.Header("X-Key", secret)
			c.Type = "basic"
			return c
		}, `credential type is "basic"`},
		{"MissingSection", func(*testing.T) *core.Credentials { return &core.Credentials{Type: apikey.Type} }, `no "headerquery" section`},
		{"NotAnObject", func(t *testing.T) *core.Credentials { return withSection(t, `["`+secret+`"]`) }, "section"},
		{"HeaderValueNotAList", func(t *testing.T) *core.Credentials { return withSection(t, `{"header":{"X-Key":"`+secret+`"}}`) }, "must not be a JSON string"},
		{"Empty", func(t *testing.T) *core.Credentials { return withSection(t, `{}`) }, "no header or query value"},
		{"OnlyEmptyValues", func(t *testing.T) *core.Credentials {
			return withSection(t, `{"header":{"X-Key":[""]},"query":{"k":[]}}`)
		}, "no header or query value"},
		{"HeaderNameWithSpace", func(*testing.T) *core.Credentials { return apikey.Header("X Key", secret) }, `header name "X Key"`},
		{"HeaderNameWithColon", func(*testing.T) *core.Credentials { return apikey.Header("X-Key:", secret) }, "not a valid HTTP field name"},
		{"HeaderNameEmpty", func(*testing.T) *core.Credentials { return apikey.Header("", secret) }, "not a valid HTTP field name"},
		{"HeaderNameNonASCII", func(*testing.T) *core.Credentials { return apikey.Header("X-Clé", secret) }, "not a valid HTTP field name"},
		{"HeaderValueCRLF", func(*testing.T) *core.Credentials { return apikey.Header("X-Key", secret+"\r\nX-Evil: 1") }, `header "X-Key" holds a control character`},
		{"HeaderValueNUL", func(*testing.T) *core.Credentials { return apikey.Header("X-Key", secret+"\x00") }, "control character"},
		{"HeaderValueDEL", func(*testing.T) *core.Credentials { return apikey.Header("X-Key", secret+"\x7f") }, "control character"},
		{"HostHeader", func(*testing.T) *core.Credentials { return apikey.Header("host", secret) }, "managed by the HTTP client"},
		{"ContentLength", func(*testing.T) *core.Credentials { return apikey.Header("Content-Length", "12") }, "managed by the HTTP client"},
		{"TransferEncoding", func(*testing.T) *core.Credentials { return apikey.Header("Transfer-Encoding", "chunked") }, "managed by the HTTP client"},
		{"QueryNameEmpty", func(*testing.T) *core.Credentials { return apikey.Query("", secret) }, "empty name"},
	}
	s := apikey.New()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.creds(t)
			for what, err := range map[string]error{
				"Validate": s.Validate(c),
				"Token":    func() error { _, err := s.Token(context.Background(), c, nil); return err }(),
			} {
				if !errors.Is(err, core.ErrInvalidCredentials) {
					t.Fatalf("%s: error %v does not match core.ErrInvalidCredentials", what, err)
				}
				msg := fmt.Sprintf("%v %+v %#v", err, err, err)
				if !strings.HasPrefix(err.Error(), "apikey: ") || !strings.Contains(msg, tc.says) {
					t.Errorf("%s: error %q does not start with \"apikey: \" and say %q", what, err, tc.says)
				}
				if strings.Contains(msg, secret) {
					t.Errorf("%s: error shows the secret", what)
				}
			}
		})
	}
}

func TestDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := apikey.New().Token(ctx, apikey.Header("X-Key", "k"), nil)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "apikey: ") {
		t.Errorf("Token with a cancelled context: %v", err)
	}
}

// The section reads and writes goauth's CredentialsHeaderQuery JSON: the
// same names, in goauth's field order.
func TestSectionJSON(t *testing.T) {
	const goauth = `{"serverURL":"https://api.example.com","header":{"X-Api-Key":["k1"]},"query":{"api_key":["q1","q2"]},"allowInsecure":true}`
	var s apikey.Section
	if err := json.Unmarshal([]byte(goauth), &s); err != nil {
		t.Fatal(err)
	}
	want := apikey.Section{
		ServerURL:     "https://api.example.com",
		Header:        http.Header{"X-Api-Key": {"k1"}},
		Query:         url.Values{"api_key": {"q1", "q2"}},
		AllowInsecure: true,
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("decoded %v", s)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != goauth {
		t.Errorf("encoded\n%s\nwant\n%s", out, goauth)
	}
	if out, _ := json.Marshal(apikey.Section{}); string(out) != `{}` {
		t.Errorf("empty section encodes as %s, want {}", out)
	}

	doc := `{"service":"stripe","type":"headerquery","headerquery":` + goauth + `}`
	c, err := core.ParseCredentials([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := apikey.Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("Parse did not read the section")
	}
	if b, _ := c.MarshalJSON(); string(b) != doc {
		t.Errorf("envelope re-encoded as\n%s\nwant\n%s", b, doc)
	}
}

func TestHelpers(t *testing.T) {
	if got := string(apikey.Header("X-Api-Key", "k").Section(apikey.Type)); got != `{"header":{"X-Api-Key":["k"]}}` {
		t.Errorf("Header built %s", got)
	}
	if got := string(apikey.Query("api_key", "q").Section(apikey.Type)); got != `{"query":{"api_key":["q"]}}` {
		t.Errorf("Query built %s", got)
	}
	if c := apikey.Header("X-Api-Key", "k"); c.Type != apikey.Type || apikey.New().Validate(c) != nil {
		t.Error("Header built an invalid credential")
	}
	if _, err := apikey.NewCredentials(apikey.Section{ServerURL: "https://x"}); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("NewCredentials accepted a section without values: %v", err)
	}
}

func TestSectionRedacts(t *testing.T) {
	s := apikey.Section{
		ServerURL: "https://svc:" + canaryKey + "@api.example.com/v1",
		Header:    http.Header{"X-Api-Key": {canaryKey}},
		Query:     url.Values{"api_key": {canaryToken}},
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("section", "s", s, "p", &s)
	out := fmt.Sprintf("%v|%+v|%#v|%s|%q|%v|%+v|%#v", s, s, s, s, s, &s, &s, &s) + logs.String()
	for _, secret := range []string{canaryKey, canaryToken} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret shows in %s", out)
		}
	}
	if !strings.Contains(out, "X-Api-Key") || !strings.Contains(out, "api_key") || !strings.Contains(out, "api.example.com/v1") {
		t.Errorf("redaction hid the names or server URL: %s", out)
	}
}
