// Package strategytest is the conformance suite for core.Strategy
// implementations. Every strategy runs it from its own TestConformance,
// as gocloud.dev's drivertest does for drivers:
//
//	func TestConformance(t *testing.T) {
//		strategytest.RunConformance(t, strategytest.Harness{
//			NewStrategy: func(*testing.T) core.Strategy { return basic.New() },
//			Credentials: func(*testing.T) *core.Credentials { return basic.Credentials("alice", canary) },
//			Secrets:     func(*testing.T) []string { return []string{canary} },
//		})
//	}
//
// The suite uses only the core.Strategy interface and the optional
// interfaces it finds by type assertion (driver.Validator, driver.Closer), so
// it runs unchanged against a strategy served by a plugin adapter.
//
// # What it checks
//
// Each check is a subtest of the test that calls RunConformance:
//
//   - Type: Type is not empty, is stable, and is the type of the
//     harness's credential, which has a section of that name.
//   - Token: Token returns a token that authorizes a real HTTP request to
//     a loopback server by itself: the server sees exactly the token's
//     Authorization header, extra headers and query parameters, and
//     Harness.CheckRequest, when set, accepts the request (and refuses
//     the same request sent without the token). The token carries an
//     Expiry and a refresh token exactly when Harness.Expiring and
//     Harness.Refreshable say so.
//   - TokenWithPrev: passing the last token as prev works: the call
//     succeeds and its token authorizes. Whether a refresh token in prev
//     is really used cannot be seen from here.
//   - InputsUnchanged: Token modifies neither the credential nor prev,
//     and the token it returns shares no memory with them.
//   - TokensIndependent: tokens from separate calls share no memory.
//   - Concurrent: 50 goroutines calling Token at once on the same
//     credential and prev all succeed (run it under -race).
//   - DoneContext: with Harness.HonoursContext, a cancelled or expired
//     context makes Token fail with an error matching ctx.Err().
//   - Validate: a driver.Validator accepts the harness's credential.
//   - InvalidCredentials: a missing, null or garbled section, and each of
//     Harness.Invalid, make Token (and Validate, if present) fail with an
//     error matching core.ErrInvalidCredentials.
//   - NoSecretsPrinted: no canary of Harness.Secrets, nor the token's own
//     secret material, appears when the credential, the token or any
//     error seen is printed with %v, %+v, %#v, %s or %q, or logged
//     through log/slog. The suite also checks that each canary is really
//     in a credential, so the check cannot pass vacuously.
//   - TokenJSONRoundTrip: the token survives JSON encoding and decoding
//     and authorizes requests identically afterwards.
//   - Manager: end to end through a core.Manager over a core.MemoryStore:
//     SetCredentials, Token, an authenticated request through
//     Manager.Client, a forced Refresh, invalid credentials refused with
//     core.ErrInvalidCredentials, and no secret in the Manager's debug log.
//   - CloseUnused: a driver.Closer closes cleanly without having been used.
//
// Failure messages never quote a secret: the suite replaces each one it
// knows with a placeholder before printing.
//
// The package's own tests run the suite against a sound fake strategy
// and against broken variants of it, one defect each (it modifies its
// inputs, shares memory, ignores its context, accepts garbled sections,
// leaks a secret in an error, …), and check that each defect fails the
// subtest meant to catch it: no check passes whatever the strategy does.
package strategytest
