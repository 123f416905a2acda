// Package driver is the surface of core for authors of strategies and
// stores, as database/sql/driver is for database drivers. Users of a
// Manager need only package core.
//
// A strategy implements core.Strategy: Type, and Token, which returns a
// new *core.Token for a credential given the previous token (nil on the
// first call). It never caches and never stores: the Manager does both.
// A strategy may also implement the optional interfaces below, which the
// Manager finds by type assertion, so that adding an ability never breaks
// an existing strategy or plugin:
//
//   - Validator: check a credential when it is stored (SetCredentials).
//   - Revoker: revoke a token when its credential is deleted.
//   - Closer: release resources (a plugin process) when the Manager that
//     was given the strategy closes.
//
// A store implements core.Store (and, for coordination across hosts,
// core.Locker or core.FencingLocker). CheckName and NotFound give the
// errors the Manager expects from a store; RedactURL, FormatRedacted and
// DescribeJSONError keep secrets out of errors, logs and printed values.
package driver
