package main

import (
	"crypto/rsa"
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins/githubapp/fakegithub"
	"github.com/plexusone/omnitoken/plugins/plugintest"
	"go.uber.org/goleak"
)

const pkgPath = "github.com/plexusone/omnitoken/plugins/githubapp"

var builder *plugintest.Builder

func TestMain(m *testing.M) {
	b, run, err := plugintest.NewTempBuilder(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builder = b
	goleak.VerifyTestMain(run)
}

// binary builds this plugin once per test binary.
func binary(t testing.TB) string {
	t.Helper()
	return builder.Build(t, pkgPath)
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
	testPEM string
)

// appKey is one RSA key for all tests: generating one takes a while.
func appKey(t testing.TB) (*rsa.PrivateKey, string) {
	keyOnce.Do(func() { testKey, testPEM = fakegithub.NewKey(t) })
	return testKey, testPEM
}

const (
	appID          = "123456"
	installationID = "7890123"
)

// fake starts a fake GitHub for the test app.
func fake(t testing.TB) *fakegithub.Server {
	t.Helper()
	key, _ := appKey(t)
	f := fakegithub.New(appID, installationID, &key.PublicKey)
	t.Cleanup(f.Close)
	return f
}

// credsFor is a githubapp credential for the fake at baseURL.
func credsFor(t testing.TB, baseURL string, edit func(map[string]any)) *core.Credentials {
	t.Helper()
	_, pemKey := appKey(t)
	sec := map[string]any{
		"appID":          123456, // a JSON number, as GitHub shows it
		"installationID": installationID,
		"privateKey":     pemKey,
		"baseURL":        baseURL,
	}
	if edit != nil {
		edit(sec)
	}
	c := &core.Credentials{Service: "github", Type: Type}
	if err := c.SetSection(Type, sec); err != nil {
		t.Fatal(err)
	}
	return c
}

// testStrategy is the strategy in-process, allowed to talk to loopback
// http.
func testStrategy() *strategy {
	s := newStrategy()
	s.allowHTTP = true
	return s
}

var (
	otherOnce sync.Once
	otherKey  *rsa.PrivateKey
)

// appKeyOther is a second key, not the app's.
func appKeyOther(t testing.TB) (*rsa.PrivateKey, string) {
	otherOnce.Do(func() { otherKey, _ = fakegithub.NewKey(t) })
	return otherKey, ""
}
