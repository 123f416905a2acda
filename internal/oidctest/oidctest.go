// Package oidctest starts zitadel/oidc's example OpenID provider (the
// exampleop package with its in-memory storage) in the test process, on
// 127.0.0.1, so that tests can run OAuth 2.0 and OpenID Connect flows
// against a real provider.
//
// The example's client registry is process-global: the clients passed to
// Start or StartTLS are added to it and stay registered for the rest of
// the process, and every provider started in the process sees them. Tests
// in one binary therefore usually share a single provider.
package oidctest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"

	"github.com/zitadel/oidc/v3/example/server/exampleop"
	"github.com/zitadel/oidc/v3/example/server/storage"
)

// Password is the password of the example provider's users, among them
// the one named by User.
const Password = "verysecure"

// User returns the user name of the example provider's test user for the
// provider at issuer: "test-user@" followed by the issuer's host name.
func User(issuer string) string {
	u, _ := url.Parse(issuer)
	return "test-user@" + u.Hostname()
}

// Start registers clients with the example storage and starts the example
// provider over plain HTTP. The provider's issuer is the returned server's
// URL. The caller closes the server.
func Start(clients ...*storage.Client) *httptest.Server {
	return start(false, clients)
}

// StartTLS is Start over HTTPS, with httptest's self-signed certificate:
// the issuer URL starts with https://, and the server's Client trusts the
// certificate.
func StartTLS(clients ...*storage.Client) *httptest.Server {
	return start(true, clients)
}

func start(tls bool, clients []*storage.Client) *httptest.Server {
	storage.RegisterClients(clients...)
	srv := httptest.NewUnstartedServer(nil)
	scheme := "http://"
	if tls {
		scheme = "https://"
	}
	issuer := scheme + srv.Listener.Addr().String()
	st := storage.NewStorage(storage.NewUserStore(issuer))
	// SetupServer makes this logger the process default; it discards the
	// example's request log.
	srv.Config.Handler = exampleop.SetupServer(issuer, st, slog.New(slog.NewTextHandler(io.Discard, nil)), false)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}
