// Package loadtest holds the load and concurrency scenarios behind
// omnitoken's performance claims, shared by this package's tests, which
// assert counts and invariants under -race, and by internal/benchreport,
// which times them and writes BENCHMARKS.md.
//
// IdP is the fake identity provider: a loopback httptest token server that
// counts requests, can hold or slow them, rotates refresh tokens and, as
// RFC 9700 §4.14.2 asks, revokes the whole token family when a refresh
// token is presented a second time.
//
// The scenarios are named after the rows of the benchmark report:
//
//   - Stampede (C): many goroutines on a cold credential, then on an
//     expired one, cost one token request each time.
//   - RefreshAheadLatency (D): Token() latency while a slow endpoint is
//     refreshing in the background, against the cached path.
//   - Processes (E): OS processes sharing one file vault and file lock
//     refresh each token once, without an invalid_grant.
//   - Spread (F): refreshes of credentials that expire together are spread
//     over the refresh window.
//   - WriteVault, HeapPerCredential and TimeToFirstToken (G): memory per
//     cached credential, and opening a large vault.
//
// Processes re-executes the running binary as worker processes; a binary
// that uses it calls RunWorkerIfRequested first thing in main or TestMain.
package loadtest
