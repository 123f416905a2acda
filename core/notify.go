package core

import (
	"errors"
	"fmt"

	"github.com/plexusone/omnitoken/internal/logincmd"
)

// The topics whose state the Manager logs once per change.
const (
	topicRefresh = iota
	topicPersist
	topicRead
	topicLock
	numTopics
)

func (m *Manager) emit(e *entry, ev Event) {
	if m.onEvent == nil {
		return
	}
	ev.Name = e.name
	ev.Type = e.credType()
	ev.Time = m.clock.Now()
	m.onEvent(ev)
}

// note logs a failure of topic for e: a warning when the topic's state
// changed since the last note, a debug line when it repeats. It reports
// whether the state changed.
func (m *Manager) note(e *entry, topic int, msg string, args ...any) bool {
	return m.noteState(e, topic, msg, msg, args...)
}

func (m *Manager) noteState(e *entry, topic int, state, msg string, args ...any) bool {
	prev := e.states[topic].Swap(&state)
	args = append([]any{"name", e.name}, args...)
	if prev == nil || *prev != state {
		m.log.Warn(msg, args...)
		return true
	}
	m.log.Debug(msg, args...)
	return false
}

// clearState records that topic works again for e.
func (m *Manager) clearState(e *entry, topic int) {
	if e.states[topic].Load() == nil {
		return
	}
	if e.states[topic].Swap(nil) != nil {
		m.log.Info("core: working again", "name", e.name, "after", []string{"refresh", "write", "read", "lock"}[topic])
	}
}

// failed turns a strategy's error into the error callers get: wrapped with
// the name, and, when a person must act, a *ReauthRequiredError carrying
// the name and the command to run. A refresh token refused with
// invalid_grant needs a person too. It logs the failure once per change
// of state, and reports a new need for a person through OnReauth and
// EventReauthRequired.
func (m *Manager) failed(e *entry, c *Credentials, prev *Token, err error) error {
	var re *ReauthRequiredError
	var oe *OAuthError
	named := false
	switch {
	case errors.As(err, &re):
		cp := *re // the strategy's error is not modified
		re, named = &cp, true
	case errors.As(err, &oe) && oe.Code == "invalid_grant" && prev != nil && prev.RefreshToken != "":
		re = &ReauthRequiredError{Err: err}
	}
	if re == nil {
		state := "failed"
		switch {
		case IsPermanent(err):
			state = "permanent"
		case IsTemporary(err):
			state = "temporary"
		}
		err = fmt.Errorf("core: token %q: %w", e.name, err)
		m.noteState(e, topicRefresh, state, "core: refresh failed", "error", err)
		return err
	}
	re.Name = e.name
	if re.Command == "" {
		re.Command = logincmd.For(e.name, re.UserCode != "")
	}
	if named {
		err = fmt.Errorf("core: token %q: %w", e.name, &reauthNamed{err: err, re: re})
	} else {
		err = fmt.Errorf("core: token %q: %w", e.name, re)
	}
	if m.noteState(e, topicRefresh, "reauth "+re.UserCode, "core: a person must authorize the credential", "error", err) {
		m.emit(e, Event{Kind: EventReauthRequired, Err: err})
		if m.onReauth != nil {
			m.onReauth(re)
		}
	}
	return err
}

// reauthNamed keeps a strategy's error chain whole while errors.As finds
// a copy of its *ReauthRequiredError that carries the name and command.
type reauthNamed struct {
	err error
	re  *ReauthRequiredError
}

func (w *reauthNamed) Error() string { return w.err.Error() + "; to authorize, run " + w.re.Command }
func (w *reauthNamed) Unwrap() error { return w.err }

func (w *reauthNamed) As(target any) bool {
	if p, ok := target.(**ReauthRequiredError); ok {
		*p = w.re
		return true
	}
	return false
}
