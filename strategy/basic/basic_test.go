package basic_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/strategy/basic"
	"github.com/plexusone/omnitoken/strategytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	canaryUser     = "canary-user-51c0"
	canaryPassword = "canary-password-9d41e7"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func withSection(t *testing.T, raw string) *core.Credentials {
	t.Helper()
	c := &core.Credentials{Type: basic.Type}
	if err := c.SetSection(basic.Type, json.RawMessage(raw)); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestConformance(t *testing.T) {
	check := func(r *http.Request) error {
		u, p, ok := r.BasicAuth()
		if !ok || u != canaryUser || p != canaryPassword {
			return errors.New("no Basic authorization for the expected user and password")
		}
		return nil
	}
	invalid := func(t *testing.T) []*core.Credentials {
		return []*core.Credentials{
			withSection(t, `{}`),
			withSection(t, `{"serverURL":"https://api.example.com","metadata":{"k":"v"}}`),
			basic.Credentials(canaryUser+":x", canaryPassword),
			basic.EncodedCredentials("not base64 " + canaryPassword),
			basic.EncodedCredentials(b64(canaryUser + canaryPassword)), // no colon
			basic.EncodedCredentials("Basic "),
		}
	}
	secrets := func(*testing.T) []string { return []string{canaryUser, canaryPassword} }

	t.Run("Password", func(t *testing.T) {
		strategytest.RunConformance(t, strategytest.Harness{
			NewStrategy:    func(*testing.T) core.Strategy { return basic.New() },
			Credentials:    func(*testing.T) *core.Credentials { return basic.Credentials(canaryUser, canaryPassword) },
			Invalid:        invalid,
			Secrets:        secrets,
			CheckRequest:   check,
			HonoursContext: true,
		})
	})
	t.Run("Encoded", func(t *testing.T) {
		strategytest.RunConformance(t, strategytest.Harness{
			NewStrategy: func(*testing.T) core.Strategy { return basic.New() },
			Credentials: func(*testing.T) *core.Credentials {
				return basic.EncodedCredentials("Basic " + b64(canaryUser+":"+canaryPassword))
			},
			Invalid:        invalid,
			Secrets:        func(*testing.T) []string { return []string{b64(canaryUser + ":" + canaryPassword)} },
			CheckRequest:   check,
			HonoursContext: true,
		})
	})
}

func TestToken(t *testing.T) {
	tests := []struct {
		name, section string
		want          string // the Authorization header
	}{
		{"UsernamePassword", `{"username":"alice","password":"s3cret"}`, "Basic " + b64("alice:s3cret")},
		{"PasswordWithColon", `{"username":"alice","password":"a:b:c"}`, "Basic " + b64("alice:a:b:c")},
		{"UsernameOnly", `{"username":"alice"}`, "Basic " + b64("alice:")},
		{"PasswordOnly", `{"password":"tok"}`, "Basic " + b64(":tok")},
		{"Unicode", `{"username":"zoë","password":"pässwörd"}`, "Basic " + b64("zoë:pässwörd")},
		{"Encoded", `{"encoded":"` + b64("alice:s3cret") + `"}`, "Basic " + b64("alice:s3cret")},
		{"EncodedWithPrefix", `{"encoded":"Basic ` + b64("alice:s3cret") + `"}`, "Basic " + b64("alice:s3cret")},
		{"EncodedWithLowercasePrefix", `{"encoded":"  basic   ` + b64("alice:s3cret") + ` "}`, "Basic " + b64("alice:s3cret")},
		{"EncodedUnpadded", `{"encoded":"` + strings.TrimRight(b64("alice:pw"), "=") + `"}`, "Basic " + b64("alice:pw")},
		{"EncodedWinsOverUsername", `{"username":"bob","password":"x","encoded":"` + b64("alice:s3cret") + `"}`, "Basic " + b64("alice:s3cret")},
		{"OtherFieldsIgnored", `{"username":"alice","password":"s3cret","serverURL":"https://api.example.com","allowInsecure":true,"metadata":{"k":"v"},"unknown":1}`, "Basic " + b64("alice:s3cret")},
	}
	s := basic.New()
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
			if got := tok.AuthorizationHeader(); got != tc.want {
				t.Errorf("Authorization = %q, want %q", got, tc.want)
			}
			if !tok.Expiry.IsZero() || tok.RefreshToken != "" || len(tok.Header) != 0 || len(tok.Query) != 0 {
				t.Errorf("token carries more than the Authorization header: %+v", tok)
			}
			// A server's own parser reads it back.
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			tok.SetAuth(r)
			if _, _, ok := r.BasicAuth(); !ok {
				t.Error("net/http does not read the header as Basic authorization")
			}
		})
	}
}

func TestInvalid(t *testing.T) {
	const secret = "hunter2-not-to-be-shown"
	tests := []struct {
		name  string
		creds func(t *testing.T) *core.Credentials
		says  string // part of the error message
	}{
		{"Nil", func(*testing.T) *core.Credentials { return nil }, "nil credential"},
		{"WrongType", func(t *testing.T) *core.Credentials {
			c := basic.Credentials("alice", secret)
			c.Type = "headerquery"
			return c
		}, `credential type is "headerquery"`},
		{"MissingSection", func(*testing.T) *core.Credentials { return &core.Credentials{Type: basic.Type} }, `no "basic" section`},
		{"NotAnObject", func(t *testing.T) *core.Credentials { return withSection(t, `"`+secret+`"`) }, "section"},
		{"PasswordNotAString", func(t *testing.T) *core.Credentials { return withSection(t, `{"password":12345678}`) }, `"password"`},
		{"Empty", func(t *testing.T) *core.Credentials { return withSection(t, `{}`) }, "no username, password or encoded"},
		{"BlankEncoded", func(t *testing.T) *core.Credentials { return withSection(t, `{"encoded":"   "}`) }, "no username, password or encoded"},
		{"ColonInUsername", func(*testing.T) *core.Credentials { return basic.Credentials("al:ice", secret) }, "username contains a colon"},
		{"EncodedNotBase64", func(*testing.T) *core.Credentials { return basic.EncodedCredentials(secret + "!") }, "not base64"},
		{"EncodedPrefixOnly", func(*testing.T) *core.Credentials { return basic.EncodedCredentials("Basic") }, `only the "Basic" prefix`},
		{"EncodedNoColon", func(*testing.T) *core.Credentials { return basic.EncodedCredentials(b64(secret)) }, `"user-id:password"`},
		{"EncodedEmptyAfterPrefix", func(*testing.T) *core.Credentials { return basic.EncodedCredentials("bAsIc   ") }, `only the "Basic" prefix`},
		{"EncodedEmptyBase64AfterPrefix", func(*testing.T) *core.Credentials { return basic.EncodedCredentials("Basic ====") }, "not base64"},
	}
	s := basic.New()
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
				if !strings.HasPrefix(err.Error(), "basic: ") || !strings.Contains(msg, tc.says) {
					t.Errorf("%s: error %q does not start with \"basic: \" and say %q", what, err, tc.says)
				}
				if strings.Contains(msg, secret) || strings.Contains(msg, b64(secret)) {
					t.Errorf("%s: error shows the secret", what)
				}
			}
		})
	}
}

func TestDoneContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := basic.New().Token(ctx, basic.Credentials("alice", "pw"), nil)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "basic: ") {
		t.Errorf("Token with a cancelled context: %v", err)
	}
}

// The section reads and writes goauth's CredentialsBasicAuth JSON: the
// same names, in goauth's field order.
func TestSectionJSON(t *testing.T) {
	const goauth = `{"username":"alice","password":"pw","encoded":"YWxpY2U6cHc=","serverURL":"https://api.example.com","allowInsecure":true,"metadata":{"k":"v"}}`
	var s basic.Section
	if err := json.Unmarshal([]byte(goauth), &s); err != nil {
		t.Fatal(err)
	}
	if s.Username != "alice" || s.Password != "pw" || s.Encoded != "YWxpY2U6cHc=" || s.ServerURL != "https://api.example.com" || !s.AllowInsecure || s.Metadata["k"] != "v" {
		t.Errorf("decoded %#v", s.Metadata)
	}
	out, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != goauth {
		t.Errorf("encoded\n%s\nwant\n%s", out, goauth)
	}
	if out, _ := json.Marshal(basic.Section{}); string(out) != `{}` {
		t.Errorf("empty section encodes as %s, want {}", out)
	}

	// Through the credential envelope, untouched.
	doc := `{"service":"jira","type":"basic","basic":` + goauth + `}`
	c, err := core.ParseCredentials([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	got, err := basic.Parse(c)
	if err != nil {
		t.Fatal(err)
	}
	if got.Encoded != s.Encoded {
		t.Error("Parse did not read the section")
	}
	if b, _ := c.MarshalJSON(); string(b) != doc {
		t.Errorf("envelope re-encoded as\n%s\nwant\n%s", b, doc)
	}
}

func TestHelpers(t *testing.T) {
	c := basic.Credentials("alice", "pw")
	if c.Type != basic.Type || string(c.Section(basic.Type)) != `{"username":"alice","password":"pw"}` {
		t.Errorf("Credentials built %s", c.Section(basic.Type))
	}
	c = basic.EncodedCredentials("Basic YWxpY2U6cHc=")
	if string(c.Section(basic.Type)) != `{"encoded":"Basic YWxpY2U6cHc="}` {
		t.Errorf("EncodedCredentials built %s", c.Section(basic.Type))
	}
	if _, err := basic.NewCredentials(basic.Section{Username: "a:b"}); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("NewCredentials accepted a username with a colon: %v", err)
	}
	c, err := basic.NewCredentials(basic.Section{Username: "alice", Password: "pw", ServerURL: "https://x"})
	if err != nil || basic.New().Validate(c) != nil {
		t.Errorf("NewCredentials: %v", err)
	}
}

func TestSectionRedacts(t *testing.T) {
	s := basic.Section{
		Username:  canaryUser,
		Password:  canaryPassword,
		Encoded:   b64(canaryUser + ":" + canaryPassword),
		ServerURL: "https://svc:" + canaryPassword + "@api.example.com/v1",
		Metadata:  map[string]string{"tenant": canaryPassword},
	}
	var logs strings.Builder
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("section", "s", s, "p", &s)
	out := fmt.Sprintf("%v|%+v|%#v|%s|%q|%v|%+v|%#v", s, s, s, s, s, &s, &s, &s) + logs.String()
	for _, secret := range []string{canaryUser, canaryPassword, s.Encoded} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret shows in %s", out)
		}
	}
	if !strings.Contains(out, "api.example.com/v1") || !strings.Contains(out, "metadata=tenant") {
		t.Errorf("redaction hid the non-secret server URL or metadata keys: %s", out)
	}
}
