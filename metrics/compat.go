package metrics

import "github.com/plexusone/omnitoken/core"

// fromEvent reads an event. core.Event carries neither the credential
// type nor the strategy call's latency yet, so those stay empty.
func fromEvent(ev core.Event) observation {
	return observation{kind: ev.Kind, name: ev.Name, gen: ev.Generation, err: ev.Err}
}
