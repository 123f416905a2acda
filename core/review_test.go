package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// TestReauthFailsFast: once a credential needs a person, later calls fail
// at once with the same ReauthRequiredError, without sleeping on the
// clock and without asking the strategy again, until a token arrives.
func TestReauthFailsFast(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	strat := &coretest.CountingStrategy{TTL: time.Hour, Clock: clock}
	strat.SetErr(&core.ReauthRequiredError{Err: errors.New("no token yet")})
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{strat}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		// The fake clock never advances: a sleep would last until the
		// timeout.
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := m.Token(cctx, "svc")
		cancel()
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) || re.Name != "svc" {
			t.Fatalf("call %d: err = %v, want a ReauthRequiredError for svc", i, err)
		}
	}
	if n := strat.Calls.Load(); n != 1 {
		t.Fatalf("strategy called %d times, want 1", n)
	}
	if clock.Sleepers() != 0 {
		t.Fatal("a call sleeps on the clock")
	}
	// A person authorizes: the token is served at once.
	if err := m.PutToken(ctx, "svc", &core.Token{AccessToken: "fresh", Expiry: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok, err := m.Token(ctx, "svc")
	if err != nil || tok.AccessToken != "fresh" {
		t.Fatalf("after PutToken: %v, %v", tok, err)
	}
}

// TestPendingDeviceCodeNoSleep: while a device code is pending the
// strategy is asked on each call, since it polls for the person's
// approval, but no call sleeps on the clock.
func TestPendingDeviceCodeNoSleep(t *testing.T) {
	clock := coretest.NewFakeClock(t0)
	strat := &coretest.CountingStrategy{TTL: time.Hour, Clock: clock}
	strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD"})
	m, err := core.New(core.Options{Store: core.NewMemoryStore(), Strategies: []core.Strategy{strat}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	if err := m.SetCredentials(ctx, "svc", coretest.Credentials("counting")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		_, err := m.Token(cctx, "svc")
		cancel()
		if !errors.Is(err, core.ErrReauthRequired) {
			t.Fatalf("call %d: err = %v, want ErrReauthRequired", i, err)
		}
	}
	if n := strat.Calls.Load(); n != 3 {
		t.Fatalf("strategy called %d times, want once per call (3)", n)
	}
	strat.SetErr(nil) // the person approved
	if _, err := m.Token(ctx, "svc"); err != nil {
		t.Fatal(err)
	}
}
