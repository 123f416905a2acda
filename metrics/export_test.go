package metrics

import (
	"time"

	"github.com/plexusone/omnitoken/core"
)

// RecordFull records an event with the fields core.Event does not carry
// yet: the credential type and the strategy call's duration.
func (m *Metrics) RecordFull(ev core.Event, typ string, d time.Duration) {
	o := fromEvent(ev)
	o.typ, o.duration = typ, d
	m.record(o)
}
