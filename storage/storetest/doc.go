// Package storetest is the conformance suite for core.Store and
// core.Locker implementations. Every store and locker runs it from its
// own tests, as gocloud.dev's drivertest does for drivers:
//
//	func TestStoreConformance(t *testing.T) {
//		storetest.TestStore(t, storetest.StoreOptions{
//			New: func(t *testing.T) core.Store { return newStore(t) },
//		})
//	}
//
//	func TestLockerConformance(t *testing.T) {
//		storetest.TestLocker(t, storetest.LockerOptions{
//			New: func(t *testing.T) core.Locker { return newLocker(t) },
//		})
//	}
//
// The options say what the implementation is: a second handle on the
// same data (Peer), credentials that can only be seeded (an environment
// store), a store that does no I/O and so may ignore its context, a
// locker whose dead holders the suite can simulate (Abandon).
//
// # What TestStore checks
//
// Each check is a subtest of the test that calls TestStore:
//
//   - CredentialsRoundTrip: a credential with every field and a section
//     the engine does not know reads back as the same JSON; an overwrite
//     replaces it whole; DeleteCredentials removes it and leaves the token
//     of the same name alone.
//   - CredentialsNotFound: a missing credential is an error matching
//     core.ErrCredentialsNotFound from GetCredentials and
//     DeleteCredentials; a token does not make a credential.
//   - ListCredentials: the names of the stored credentials, in any order,
//     without token names or deleted names.
//   - CredentialsPrivateCopies, TokenPrivateCopies: changing what was
//     given to a Set, or what a Get returned, through any field, map or
//     slice, does not change what the store holds.
//   - TokenRoundTrip: every token field survives, Expiry to the
//     nanosecond, Extra with nested maps and lists included; an overwrite
//     replaces every field; DeleteToken leaves the credential alone.
//   - TokenNotFound: a missing token is an error matching
//     core.ErrTokenNotFound; deleting one is nil or that error.
//   - Names: names with '/', '\', spaces, dots, "..", control characters,
//     Unicode and names differing only in case, escaping or surrounding
//     space are kept apart and read back exactly.
//   - MaxNameLen: a name of StoreOptions.MaxNameLen bytes works, one a
//     byte longer is refused with core.ErrInvalidCredentials.
//   - InvalidNames: an empty name, one holding NUL, and one that is not
//     UTF-8 are refused by every method with core.ErrInvalidCredentials.
//   - NilValues: setting a nil credential or token is refused with
//     core.ErrInvalidCredentials and stores nothing.
//   - ReadOnlyCredentials: with that option, credential writes and
//     deletes fail and change nothing, and seeded credentials are read.
//   - Peer: with StoreOptions.Peer, each handle sees the other's writes
//     and deletes.
//   - ConcurrentWriters: 16 goroutines (over both handles with a Peer)
//     write their own names and one shared name while reading it back:
//     every read is a whole token some writer wrote, and every last write
//     is kept. Run it under -race.
//   - StaleTokens: with StoreOptions.RefusesStaleTokens, SetToken of a
//     token with a lower Fence, or the same Fence and a Generation not
//     higher, fails with an error matching core.ErrConflict and changes
//     nothing; a higher Fence wins over a higher Generation; of 16
//     concurrent writers the newest token is the one kept. Without the
//     option, an older token is stored like any other.
//   - CancelledContext: every method called with a cancelled context
//     fails with an error matching context.Canceled and changes nothing,
//     unless StoreOptions.IgnoresContext.
//
// Every error the suite sees must start with a package name ("redis: …")
// and must not quote any of the secrets the suite stored.
//
// # What TestLocker checks
//
//   - MutualExclusion: 8 goroutines (over the locker and its Peer)
//     increment a counter under the lock 5 times each: never two holders at once, no
//     increment lost.
//   - BlocksWhileHeld: Lock on a held name waits, from the same locker
//     and from a peer, until its context ends, then returns its error.
//   - Handoff: a waiting Lock gets the lock once the holder unlocks.
//   - CancelWhileWaiting: cancelling a waiting Lock's context makes it
//     return an error matching context.Canceled; the lock stays usable.
//   - DoneContext: Lock with a context already done fails with its
//     error, even when the lock is free.
//   - UnlockIdempotent: unlocking twice is harmless and never releases
//     a lock that another holder took in between.
//   - NamesIndependent: holding one name never blocks another, even one
//     that differs only in case, escaping or a trailing space.
//   - InvalidNames: names driver.CheckName refuses are refused with
//     core.ErrInvalidCredentials.
//   - DeadHolder: with LockerOptions.Abandon, a holder that dies without
//     unlocking stops blocking others within DeadHolderTimeout.
//   - Fences: a core.FencingLocker hands out fences that increase with
//     every lease on a name, through the locker and its peer alike, and
//     LockFenced excludes as Lock does.
//
// The package's own tests run both suites against core.MemoryStore and
// against sound reference implementations, and against broken variants
// of those, one defect each (shares memory with the caller, folds case,
// ignores its context, leaks a secret in an error, unlocks another
// holder's lock, never frees a dead holder's lock, …), and check that
// each defect fails the subtest meant to catch it.
package storetest
