// Package plugins runs credential strategies as separate processes, so a
// third party can add a credential type without forking omnitoken. It is
// built on hashicorp/go-plugin, speaking gRPC only.
//
// # Writing a plugin
//
// A plugin is a program whose whole main is one call:
//
//	func main() { plugins.Serve(mystrategy.New()) }
//
// The strategy is an ordinary core.Strategy. If it also implements
// driver.Validator or driver.Revoker, hosts can validate credentials and
// revoke tokens through it. The author writes nothing about the protocol:
// its generated types are internal to this package. plugins/githubapp is
// a complete example with a README to copy from.
//
// # Loading plugins
//
// A host opens one binary with Open, or every plugin in a directory with
// LoadDir, and gives the result to a core.Manager like any built-in
// strategy:
//
//	ss, err := plugins.LoadDir(dir, plugins.Options{AllowedSHA256: sums})
//	…
//	strategies := []core.Strategy{ /* built-in ones */ }
//	for _, s := range ss {
//		strategies = append(strategies, s)
//	}
//	m, err := core.New(core.Options{Store: store, Strategies: strategies})
//	defer m.Close() // stops the plugin processes too
//
// Each Strategy serves the credential type its plugin reports.
//
// # What crosses the boundary
//
// Credentials and tokens cross as the JSON of core.Credentials and
// core.Token, so a plugin's own credential section arrives byte for byte.
//
// A strategy's error keeps its meaning. On the host it matches with
// errors.Is the sentinels the original matched (core.ErrRefreshFailed,
// core.ErrTokenExpired, core.ErrInvalidCredentials,
// core.ErrUnsupportedCredentialType, core.ErrCredentialsNotFound,
// core.ErrTokenNotFound, core.ErrReauthRequired, core.ErrVaultNotConfigured,
// core.ErrClosed, core.ErrPersistFailed, context.Canceled and
// context.DeadlineExceeded). errors.As finds a
// *core.OAuthError with its code, description, URI, status and
// Retry-After, and a *core.ReauthRequiredError with its URIs, user code
// and expiry. core.IsPermanent, core.IsTemporary and core.RetryAfterOf
// give the answers they gave in the plugin. The message is the strategy's
// own, which by the strategy contract holds no secret.
//
// # Security and failures
//
//   - The handshake carries ProtocolVersion. A plugin built for another
//     version is refused with ErrIncompatibleVersion, naming the versions
//     of both sides.
//   - AutoMTLS is on: host and plugin exchange one-time certificates, and
//     the plugin accepts no other client.
//   - With Options.AllowedSHA256 set, a binary whose SHA-256 is not listed
//     is refused with ErrChecksumMismatch and never executed.
//   - A plugin sees only a small part of the host's environment (see
//     Options.InheritEnv).
//   - A plugin that prints to stdout before the handshake is refused with
//     ErrHandshake at once; one that says nothing is refused after
//     Options.StartTimeout.
//   - Every call (Token, Validate, Revoke) is bounded by
//     Options.CallTimeout as well as by its context: a plugin that never
//     answers fails the call with a temporary error matching
//     ErrUnavailable and context.DeadlineExceeded, and is not restarted.
//   - If the plugin process dies during a call, that call fails at once
//     with an error matching ErrUnavailable, which is temporary, and the
//     next call starts the plugin again.
//   - A panic in the plugin's strategy becomes an error for that call; the
//     panic value is not reported, since it may hold a secret.
//   - Close stops the process. A plugin also exits by itself when its
//     host exits, even when the host is killed with SIGKILL: on Unix it
//     holds the read end of a pipe whose write end only the host holds.
//
// # Regenerating the protocol code
//
// The protocol is internal/pb/strategy.proto. The generated Go files are
// committed. To regenerate them, install protoc 3.21.12 (Debian's
// protobuf-compiler), protoc-gen-go v1.36.12 and protoc-gen-go-grpc
// v1.6.2, then run
//
//	go generate ./plugins
//
// CI runs internal/pb/gen.sh -check, which regenerates into a temporary
// directory and fails when the committed files differ.
package plugins

//go:generate sh internal/pb/gen.sh
