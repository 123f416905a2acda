// Package metrics reports an omnitoken Manager's token lifecycle as
// OpenTelemetry metrics. It is an adapter over core's events: nothing in
// core, storage or the strategies imports it, so a program links
// OpenTelemetry only when it imports this package.
//
// Wire it in through core.Options.OnEvent (the root package's
// Config.OnEvent takes the same function), composing with a hook you
// already have:
//
//	met, err := metrics.New(metrics.Options{MeterProvider: provider})
//	opts.OnEvent = met.Chain(opts.OnEvent)
//	mgr, err := core.New(opts)
//	reg, err := met.ObserveExpiry(mgr) // opt-in: one series per credential
//	defer reg.Unregister()
//
// The instruments follow the naming style of the OpenTelemetry semantic
// conventions (dot-separated names under "omnitoken.", UCUM units,
// durations in seconds):
//
//	omnitoken.token.requests          counter    {request}  token requests the cache could not serve, by outcome
//	omnitoken.token.refreshes         counter    {refresh}  new tokens that replaced an earlier one
//	omnitoken.token.failures          counter    {failure}  failed strategy calls and failed locks, by error.type
//	omnitoken.token.persist_failures  counter    {failure}  new tokens the store refused to write
//	omnitoken.token.reauth_required   counter    {event}    times a credential came to need a person (omnitoken login)
//	omnitoken.token.request.duration  histogram  s          latency of one strategy call (the token endpoint)
//	omnitoken.token.time_to_expiry    gauge      s          seconds until each credential's token expires (opt-in)
//
// Every instrument carries omnitoken.credential.type ("oauth2", "basic",
// a plugin's type, or "unknown"). The request counter and the duration
// histogram carry omnitoken.outcome: "issued" (a strategy issued a token),
// "loaded" (a newer token was adopted from the store, such as one another
// process refreshed; no strategy call), or "failed". The failure counter
// carries error.type: "reauth_required", "permanent", "temporary",
// "timeout", "canceled", "lock" or "_OTHER". Only the opt-in gauge
// carries the credential's name (omnitoken.credential.name), since names
// are unbounded in number.
//
// A token request that hits the cache is not counted: the cached path
// emits no event, and it stays free.
package metrics
