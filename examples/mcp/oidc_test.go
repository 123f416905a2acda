package main

import (
	"context"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/grokify/goauth"
	"github.com/zitadel/oidc/v3/example/server/storage"
	"golang.org/x/oauth2"

	"github.com/plexusone/omnitoken/core/coretest"
	"github.com/plexusone/omnitoken/internal/oidctest"
)

const (
	opDeviceClient = "mcp-device"
	opDeviceSecret = "mcp-device-secret"
	opPassword     = oidctest.Password // the example OP's users' password
)

// startOP starts zitadel's example OpenID provider in-process, over TLS,
// and returns it; its issuer is its URL. Its storage is process-global,
// so one test here starts it.
func startOP(t *testing.T) *httptest.Server {
	srv := oidctest.StartTLS(storage.DeviceClient(opDeviceClient, opDeviceSecret))
	t.Cleanup(srv.Close)
	return srv
}

// A device-code credential against a real OpenID provider: the tool
// error tells the user what to run and which code to enter; once the
// person approves, the same tool call works and the API receives the
// provider's token.
func TestDeviceLoginRealOP(t *testing.T) {
	ctx := context.Background()
	op := startOP(t)
	clock := coretest.NewFakeClock(time.Now())
	tm := newManager(t, op, clock)
	api := newFakeAPI(t)
	err := tm.SetCredentials(ctx, "tv", &goauth.Credentials{Service: "github", Type: goauth.TypeOAuth2,
		OAuth2: &goauth.CredentialsOAuth2{
			ClientID: opDeviceClient, ClientSecret: opDeviceSecret, GrantType: "urn:ietf:params:oauth:grant-type:device_code",
			Endpoint: oauth2.Endpoint{
				AuthURL: op.URL + "/auth", TokenURL: op.URL + "/oauth/token", DeviceAuthURL: op.URL + "/device_authorization",
			},
		}})
	if err != nil {
		t.Fatal(err)
	}
	cs := connect(t, newServer(tm.Core(), config{Credential: "tv", API: api.URL, Timeout: 10 * time.Second}))

	out, isErr := call(t, cs, "whoami", nil)
	code := regexp.MustCompile(`visit (\S+) and enter code (\S+)\)`).FindStringSubmatch(out)
	if !isErr || !strings.Contains(out, "run `omnitoken login tv --device`") || code == nil || code[1] != op.URL+"/device" {
		t.Fatalf("whoami before login: %q (error %v), want the login command, the URI and the code", out, isErr)
	}
	clock.Advance(5 * time.Second) // the device flow's polling interval
	if out, isErr = call(t, cs, "whoami", nil); !isErr || !strings.Contains(out, "omnitoken login tv --device") {
		t.Fatalf("whoami before approval: %q (error %v)", out, isErr)
	}
	if seen := api.seen(); len(seen) != 0 {
		t.Fatalf("the API was called before login: %q", seen)
	}

	// The person signs in on another device and approves.
	oidctest.ApproveDevice(t, oidctest.Browser(t, op.Client().Transport), op.URL, code[2])

	clock.Advance(5 * time.Second)
	if out, isErr = call(t, cs, "whoami", nil); isErr || out != "signed in as octocat" {
		t.Fatalf("whoami after approval: %q (error %v)", out, isErr)
	}
	tok, err := tm.Core().Token(ctx, "tv")
	if err != nil {
		t.Fatal(err)
	}
	if seen := api.seen(); len(seen) != 1 || seen[0] != "Bearer "+tok.AccessToken {
		t.Fatalf("the API saw %d requests, want one with the provider's token", len(seen))
	}
}
