package core_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/grokify/goauth/google"
	"github.com/plexusone/omnitoken/core"
	"golang.org/x/oauth2"
)

func goauthSamples() map[string]goauth.Credentials {
	return map[string]goauth.Credentials{
		"basic": {Service: "jira", Type: goauth.TypeBasic, Subdomain: "acme",
			Basic: &goauth.CredentialsBasicAuth{Username: "u", Password: "p<&>", ServerURL: "https://x", Metadata: map[string]string{"k": "v"}}},
		"headerquery": {Type: goauth.TypeHeaderQuery,
			HeaderQuery: &goauth.CredentialsHeaderQuery{ServerURL: "https://api", Header: map[string][]string{"X-Api-Key": {"k1"}}, Query: url.Values{"key": {"q1", "q2"}}}},
		"oauth2": {Service: "github", Type: goauth.TypeOAuth2,
			OAuth2: &goauth.CredentialsOAuth2{ClientID: "id", ClientSecret: "s", GrantType: "client_credentials",
				Endpoint: oauth2.Endpoint{TokenURL: "https://t", AuthStyle: oauth2.AuthStyleInHeader}, Scopes: []string{"a", "b"},
				TokenBodyOpts: url.Values{"audience": {"x"}}, AuthCodeOpts: map[string][]string{"prompt": {"consent"}}, PKCE: true,
				Token: &oauth2.Token{AccessToken: "at", RefreshToken: "rt", Expiry: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}},
			Token:      &oauth2.Token{AccessToken: "outer", TokenType: "Bearer"},
			Additional: url.Values{"z": {"1"}, "a": {"2"}}},
		"jwt": {Type: goauth.TypeJWT, JWT: &goauth.CredentialsJWT{Issuer: "me", PrivateKey: "secret", SigningMethod: "HS256"}},
		"gcpsa": {Type: goauth.TypeGCPSA, GCPSA: &goauth.CredentialsGCP{
			GCPCredentials: google.Credentials{Type: "service_account", ClientEmail: "a@b", PrivateKey: "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n", TokenURI: "https://t"},
			Scopes:         []string{"s"}}},
		"googleoauth2": {Type: goauth.TypeGoogleOAuth2, GoogleOAuth2: &goauth.CredentialsGoogleOAuth2{Scopes: []string{"s"}}},
	}
}

// TestRoundTripGoauth: goauth's own JSON decodes into the envelope and
// encodes back to the same bytes, for every goauth credential type.
func TestRoundTripGoauth(t *testing.T) {
	for name, g := range goauthSamples() {
		t.Run(name, func(t *testing.T) {
			want, err := json.Marshal(g)
			if err != nil {
				t.Fatal(err)
			}
			c, err := core.ParseCredentials(want)
			if err != nil {
				t.Fatal(err)
			}
			if c.Type != g.Type || c.Service != g.Service || c.Subdomain != g.Subdomain {
				t.Fatalf("fields lost: %v", c)
			}
			got, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("round trip differs\n got %s\nwant %s", got, want)
			}
			var back goauth.Credentials
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("goauth cannot read our JSON: %v", err)
			}
		})
	}
}

// TestRoundTripPluginType: a section no one in-process knows travels
// through untouched, key order and nesting included.
func TestRoundTripPluginType(t *testing.T) {
	in := `{"service":"github","type":"githubapp","githubapp":{"appID":"1","installationID":"2","nested":{"z":[1,2,{"q":null}],"a":true}},"zzz":{"x":1},"additional":{"k":["v"]}}`
	c, err := core.ParseCredentials([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	out, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != in {
		t.Fatalf("got  %s\nwant %s", out, in)
	}
	if got := c.Sections(); strings.Join(got, ",") != "githubapp,zzz" {
		t.Fatalf("sections = %v", got)
	}
	var sec struct {
		AppID string `json:"appID"`
	}
	if err := c.DecodeSection(&sec); err != nil || sec.AppID != "1" {
		t.Fatalf("DecodeSection = %v, %+v", err, sec)
	}
}

func TestParseCredentialsErrors(t *testing.T) {
	const canary = "CANARY-SECRET-9f8e7d"
	cases := []string{
		`not json ` + canary,
		`[1,2]`,
		`{"type": 5}`,
		`{"service": {"x":"` + canary + `"}}`,
		`{"token": "` + canary + `"}`,
		`null`,
	}
	for _, in := range cases {
		_, err := core.ParseCredentials([]byte(in))
		if !errors.Is(err, core.ErrInvalidCredentials) {
			t.Errorf("%.20q: err = %v, want ErrInvalidCredentials", in, err)
		}
		if err != nil && strings.Contains(err.Error(), canary) {
			t.Errorf("error quotes the input: %v", err)
		}
	}
}

func TestDecodeSectionErrors(t *testing.T) {
	c := &core.Credentials{Type: "basic"}
	var v struct{ Username string }
	if err := c.DecodeSection(&v); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("missing section: %v", err)
	}
	if err := c.SetSection("basic", json.RawMessage(`{"Username": 7}`)); err != nil {
		t.Fatal(err)
	}
	if err := c.DecodeSection(&v); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("bad section: %v", err)
	}
	if err := c.SetSection("type", map[string]int{}); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("reserved key accepted: %v", err)
	}
	if err := c.SetSection("x", json.RawMessage(`{`)); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Fatalf("invalid raw JSON accepted: %v", err)
	}
}

func TestCloneIsDeep(t *testing.T) {
	c, _ := core.ParseCredentials([]byte(`{"type":"x","x":{"a":1},"additional":{"k":["v"]},"token":{"access_token":"a"}}`))
	d := c.Clone()
	d.Additional["k"][0] = "changed"
	d.Token.AccessToken = "changed"
	_ = d.SetSection("x", map[string]int{"a": 2})
	out, _ := json.Marshal(c)
	if strings.Contains(string(out), "changed") || !strings.Contains(string(out), `"a":1`) {
		t.Fatalf("clone shares state: %s", out)
	}
}

// FuzzParseCredentials: the decoder never panics, and whatever it accepts
// encodes to JSON that decodes to the same encoding (a fixed point).
func FuzzParseCredentials(f *testing.F) {
	for _, g := range goauthSamples() {
		b, _ := json.Marshal(g)
		f.Add(b)
	}
	f.Add([]byte(`{"type":"githubapp","githubapp":{"a":[1,{"b":null}]}}`))
	f.Add([]byte(`{"service":null,"x":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := core.ParseCredentials(data)
		if err != nil {
			if !errors.Is(err, core.ErrInvalidCredentials) {
				t.Fatalf("error does not match ErrInvalidCredentials: %v", err)
			}
			return
		}
		b1, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		c2, err := core.ParseCredentials(b1)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", b1, err)
		}
		b2, err := json.Marshal(c2)
		if err != nil || !bytes.Equal(b1, b2) {
			t.Fatalf("not a fixed point:\n%s\n%s", b1, b2)
		}
		_ = fmt.Sprintf("%v %+v %#v", c, c, c)
	})
}

func TestTokenCloneIsDeep(t *testing.T) {
	tok := &core.Token{AccessToken: "a", Header: map[string][]string{"X": {"1"}},
		Extra: map[string]any{"nested": map[string]any{"k": []any{"v"}}}}
	c := tok.Clone()
	c.Header["X"][0] = "changed"
	c.Extra["nested"].(map[string]any)["k"].([]any)[0] = "changed"
	if tok.Header["X"][0] != "1" || tok.Extra["nested"].(map[string]any)["k"].([]any)[0] != "v" {
		t.Fatal("Clone shares memory with the original")
	}
}
