// Package redisstore coordinates token refreshes across replicas, hosts
// or processes that share one credential, on Redis.
//
// A service that runs N replicas behind a load balancer, all using the
// same credential with a rotating refresh token, must refresh it once per
// expiry: two replicas presenting the same refresh token make the
// identity provider revoke the whole token family (RFC 9700 §4.14.2), and
// every replica is logged out until a person signs in again. The package
// has two parts, used together:
//
//   - Locker, a core.Locker: a lease per credential with a TTL, renewed
//     while the refresh runs, and a fencing token that increases
//     monotonically per credential (LockFenced).
//   - Store, a core.Store: credentials stay in the durable vault; tokens
//     go to a shared record on Redis, encrypted with a key the replicas
//     share (NewAESGCM, or the vault's own keys with NewKeysCipher),
//     versioned by (fence, generation), and written by one
//     compare-and-swap script that refuses an older version. A holder
//     paused past its lease (GC, SIGSTOP) that wakes up and writes is
//     refused, so its token never replaces a newer one. Every token is
//     also written through to the vault.
//
// Keys are "<prefix>:{<escaped name>}:lease", ":fence" and ":token"; the
// hash tag keeps one credential's keys in one Redis Cluster slot.
//
// # Cost
//
// The Manager's cached path never touches Redis. A refresh costs five
// round trips: take the lease, re-read the record, write it with the
// compare-and-swap, read it again once the durable copy is written (a
// writer paused between the two writes must not leave an older token in
// the vault), release the lease (plus one per TTL/3 of renewal, and
// one per script the first time a server sees it). A replica that waits
// for another's refresh polls the lease every LockerOptions.Poll.
//
// # What Redis must guarantee, and what happens when it does not
//
// Redis is the coordinator, not the durable copy. It must be one primary
// (or a cluster) whose clock does not step back; persistence is optional.
//
//   - Redis down: cached tokens that are still valid keep being served. A
//     refresh that needs the lease fails without waiting for a lease
//     (after go-redis's own retries, about 1.5 s with its defaults) with
//     an error matching ErrUnavailable (temporary), and the Manager
//     reports core.EventLockFailed; no replica refreshes without
//     coordination unless LockerOptions.AllowUncoordinated is set. When
//     Redis answers again, the next refresh succeeds with nothing to do
//     by hand.
//   - Redis restarted without its data: the token records are gone, and
//     GetToken reads the vault's copy, which write-through keeps current;
//     the next refresh uses its refresh token. Fences keep increasing,
//     because each is at least the server's clock in microseconds.
//   - Redis failover to a replica that missed writes: as a restart
//     without data for the missed writes.
//   - A holder paused past its TTL: another replica takes the lease after
//     the TTL. The paused one's write carries an older fence and is
//     refused with core.ErrConflict. If it was paused after the identity
//     provider rotated its refresh token and before storing it, the new
//     holder presents the old refresh token; no lock can prevent that, and
//     a provider that detects reuse revokes the family. Keep the TTL well
//     above the longest pause you expect.
//
// The vault must accept writes for the durable copy. A write to it that
// fails is reported as a failed persist, and the Manager writes the token
// again later.
package redisstore
