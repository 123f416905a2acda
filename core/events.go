package core

import (
	"log/slog"
	"time"
)

// EventKind names what happened to a credential's token.
type EventKind int

// The events a Manager reports through Options.OnEvent.
const (
	// EventTokenIssued: a strategy returned a new token, now cached.
	EventTokenIssued EventKind = iota + 1
	// EventTokenLoaded: a newer token was read from the store, such as one
	// another process refreshed; no strategy was called.
	EventTokenLoaded
	// EventRefreshFailed: a strategy call failed. Err says why.
	EventRefreshFailed
	// EventServedStale: a refresh failed and the current token, still
	// valid, is served meanwhile.
	EventServedStale
	// EventPersistFailed: a new token could not be written to the store.
	// It is kept in memory and written again later. Err matches
	// ErrPersistFailed.
	EventPersistFailed
	// EventPersisted: a token whose write had failed is now stored.
	EventPersisted
	// EventReauthRequired: the credential needs a person (Err is a
	// *ReauthRequiredError). Reported once per change of state.
	EventReauthRequired
	// EventLockFailed: the Locker could not be taken. Err says why.
	EventLockFailed
)

var eventNames = map[EventKind]string{
	EventTokenIssued:    "token_issued",
	EventTokenLoaded:    "token_loaded",
	EventRefreshFailed:  "refresh_failed",
	EventServedStale:    "served_stale",
	EventPersistFailed:  "persist_failed",
	EventPersisted:      "persisted",
	EventReauthRequired: "reauth_required",
	EventLockFailed:     "lock_failed",
}

// String returns the event's snake_case name.
func (k EventKind) String() string {
	if s, ok := eventNames[k]; ok {
		return s
	}
	return "unknown"
}

// Event reports a change in a credential's token lifecycle. It never holds
// a secret.
type Event struct {
	Kind       EventKind
	Name       string        // credential name
	Type       string        // credential type, such as "oauth2", when known
	Generation uint64        // the token's generation, when there is one
	Duration   time.Duration // the strategy call's latency, for issued and failed events
	Err        error         // the failure, for failure events
	Time       time.Time     // when it happened, by the Manager's clock
}

// LogValue implements slog.LogValuer.
func (e Event) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("kind", e.Kind.String()), slog.String("name", e.Name)}
	if e.Type != "" {
		attrs = append(attrs, slog.String("type", e.Type))
	}
	if e.Duration != 0 {
		attrs = append(attrs, slog.Duration("duration", e.Duration))
	}
	if e.Generation != 0 {
		attrs = append(attrs, slog.Uint64("generation", e.Generation))
	}
	if e.Err != nil {
		attrs = append(attrs, slog.String("error", e.Err.Error()))
	}
	return slog.GroupValue(attrs...)
}
