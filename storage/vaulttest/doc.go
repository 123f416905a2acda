// Package vaulttest is the conformance suite for omnivault vault.Vault
// backends that omnitoken keeps credentials and tokens in. A backend runs
// it from its own tests, as gocloud.dev's drivertest does for drivers:
//
//	func TestVaultConformance(t *testing.T) {
//		vaulttest.Run(t, vaulttest.Options{
//			New: func(t *testing.T) vault.Vault {
//				v := newVault(t)
//				t.Cleanup(func() { _ = v.Close() })
//				return v
//			},
//		})
//	}
//
// Options describe what the backend cannot do: write (ReadOnly, with a
// Seed hook that stores behind its back), list (NoList), or look at a
// context (IgnoresContext, for a backend that does no I/O). A backend
// shared with other data, such as a real keyring, passes a Prefix that
// keeps the suite's paths apart.
//
// # What Run checks
//
// Each check is a subtest of the test that calls Run:
//
//   - Capabilities: Name is set; Read is reported, Write and Delete unless
//     ReadOnly, List unless NoList.
//   - RoundTrip: Set, Get and Exists agree; an overwrite replaces the
//     value; Delete removes it; the path can be written again.
//   - NotFound: Get of a missing path is an error matching
//     vault.ErrSecretNotFound, Exists is false with no error, and Delete of
//     a missing path is nil. A path differing by a prefix or a suffix is
//     another path.
//   - Paths: paths with '/', spaces, Unicode, dots, upper and lower case,
//     and the '%'-escaped names storage.Store writes, are kept apart and
//     read back exactly.
//   - MaxPathLen: a path of Options.MaxPathLen bytes (by default the
//     longest storage.Store writes) is stored, read and listed.
//   - LargeValues: values of 1 KiB to Options.MaxValueLen (64 KiB by
//     default), JSON with quotes, newlines and Unicode, read back byte
//     for byte.
//   - List: List(prefix) returns exactly the paths stored directly under
//     prefix, in any order: nothing under a sibling prefix, nothing
//     deleted. With NoList, List fails with vault.ErrNotSupported.
//   - PrivateCopies: on a backend reporting MultiField or Binary,
//     changing the Fields or ValueBytes given to Set, or returned by Get,
//     changes nothing stored.
//   - ReadOnly: with that option, Set and Delete fail with an error
//     matching vault.ErrReadOnly and change nothing.
//   - ConcurrentWriters: 16 goroutines write their own paths and one
//     shared path and read the shared one: every read is a whole value
//     that some writer wrote, and each last write is kept. Run it under
//     -race.
//   - CancelledContext: every method called with a cancelled context
//     fails with an error matching context.Canceled and changes nothing,
//     unless IgnoresContext.
//
// No error the suite sees may quote a stored value.
//
// The package's own tests run the suite against omnivault's memory
// provider and against broken variants of a sound reference backend, one
// defect each, and check that each defect fails the subtest meant to
// catch it. storage's tests run it against the file vault.
package vaulttest
