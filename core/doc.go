// Package core is the engine of omnitoken: it keeps credentials in a
// Store and hands out valid tokens for them, refreshing each one once
// however many goroutines, processes or hosts ask.
//
// Users of the engine need this package only. Authors of strategies and
// stores also use package driver, which holds the optional interfaces a
// strategy may implement and helpers for writing errors without secrets.
//
// # Types
//
//   - Credentials is the stored envelope of one credential, goauth's JSON.
//   - Strategy turns a credential of one type into a Token. A Registry maps
//     types to strategies.
//   - Token is what a token is: an access token, headers or query
//     parameters, an expiry, a refresh token. StoredToken adds the
//     Manager's bookkeeping (generation, issue time, the credential it
//     belongs to, the lease it was written under) and is what a Store keeps.
//   - Store persists credentials and tokens; Locker, and FencingLocker,
//     extend one refresh per name across processes and hosts.
//   - Manager ties them together; Transport, Client and TokenSource hand
//     its tokens to HTTP clients and to code written for x/oauth2.
//
// # Lifecycle
//
// New builds a Manager from Options (only Store is required). It is used
// concurrently, then closed: Close stops every goroutine it started, makes
// callers waiting on a refresh return an error matching ErrClosed, writes
// once more a token whose write had failed, and closes the strategies
// given in Options.Strategies. Close is idempotent; calls after it fail
// with ErrClosed.
//
// # The flow of a token request
//
// Manager.Token(ctx, name):
//
//  1. The cached token is outside its refresh window: it is returned at
//     the cost of one map load and two atomic loads, with no lock, no
//     allocation and no store read. Under SystemClock it does not read
//     the clock either: a timer marks the token when its refresh point
//     comes (a token whose window is under a second is checked against
//     the clock on every call instead).
//  2. It is inside the window and Options.BackgroundRefresh is set: it is
//     returned, and one background refresh starts. While that refresh
//     runs, callers in the window are served as in step 1, without a
//     clock read when a second timer guards the token's expiry.
//  3. Otherwise the caller joins the one flight of name, starting it if
//     none runs. The flight runs detached from every caller's context and
//     is bounded by Options.RefreshTimeout.
//  4. The flight takes the Locker (a fenced lease when the Locker has
//     one) and reads the credential under it, so that a credential another
//     process deleted or replaced meanwhile is seen.
//  5. It reads the stored token again, since another process may have
//     refreshed it, and adopts it if it is fresh enough.
//  6. Otherwise it calls the strategy with the previous token, retrying
//     temporary failures with jittered backoff that honours Retry-After.
//  7. It gives the new token the next generation, writes it to the Store,
//     and only then hands it to the cache and to every waiter. A Store that
//     refuses with ErrConflict holds a newer token, which is adopted; a
//     write that fails otherwise keeps the new token in memory, serves it
//     and retries the write.
//
// A waiter whose ctx ends gets ctx.Err() without failing the flight. A
// refresh that fails while the cached token is still valid keeps serving
// it. A permanent failure (invalid_grant, invalid_client) is not retried
// until the credential changes. A credential that needs a person gives a
// *ReauthRequiredError naming the command to run, reported once through
// Options.OnReauth and EventReauthRequired; later calls fail at once with
// the same error, without a strategy call, until the credential or the
// token changes (a pending device code is polled once per call instead).
// Manager.Expiry reads the cached token's expiry, for a gauge, without
// any of this.
//
// SetCredentials, DeleteCredentials and PutToken take effect over any
// flight in progress: a flight's token is not kept after its credential
// was replaced or deleted, and a token given to PutToken wins over one a
// flight obtains. They take the Locker too, so that the same holds
// against the flights of other processes that share it.
//
// # Security
//
// Credentials and tokens redact themselves in every fmt verb and in
// log/slog. A Transport never sends a credential over plain http to a host
// that is not loopback, nor on a redirect to another host.
package core
