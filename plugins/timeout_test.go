package plugins_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/plugins"
	"github.com/plexusone/omnitoken/plugins/internal/teststrategy"
)

// TestCallTimeoutBoundsRevoke: a plugin that never answers Revoke cannot
// hang its caller, even one whose context has no deadline:
// DeleteCredentials with context.Background() returns once CallTimeout
// has passed, having deleted the credential, and a direct Revoke fails
// with a temporary error matching ErrUnavailable and
// context.DeadlineExceeded.
func TestCallTimeoutBoundsRevoke(t *testing.T) {
	const callTimeout = 300 * time.Millisecond
	s := open(t, plugins.Options{CallTimeout: callTimeout})
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{s}})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c := creds(t, teststrategy.Section{BlockRevoke: true})
	if err := m.SetCredentials(ctxT(t), "svc", c); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctxT(t), "svc")
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan error, 1)
	go func() { done <- m.DeleteCredentials(context.Background(), "svc") }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("DeleteCredentials = %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("DeleteCredentials(context.Background()) still waits on a plugin that never answers Revoke")
	}
	if _, err := m.Token(ctxT(t), "svc"); !errors.Is(err, core.ErrCredentialsNotFound) {
		t.Fatalf("after delete, Token = %v, want ErrCredentialsNotFound", err)
	}

	go func() { done <- s.Revoke(context.Background(), c, tok) }()
	select {
	case err := <-done:
		if !errors.Is(err, plugins.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !core.IsTemporary(err) {
			t.Fatalf("Revoke = %v, want a temporary error matching ErrUnavailable and DeadlineExceeded", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Revoke(context.Background()) still waits on a plugin that never answers")
	}
	// The plugin still serves: a call that times out does not break it.
	if _, err := s.Token(ctxT(t), creds(t, teststrategy.Section{}), nil); err != nil {
		t.Fatalf("Token after a timed-out Revoke = %v", err)
	}
}

// TestCallTimeoutBoundsToken: a Token call is bounded by CallTimeout too,
// whatever the caller's context.
func TestCallTimeoutBoundsToken(t *testing.T) {
	s := open(t, plugins.Options{CallTimeout: 300 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := s.Token(context.Background(), creds(t, teststrategy.Section{Block: true}), nil)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, plugins.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !core.IsTemporary(err) {
			t.Fatalf("Token = %v, want a temporary error matching ErrUnavailable and DeadlineExceeded", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Token(context.Background()) still waits on a plugin that never answers")
	}
}
