package core_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/plexusone/omnitoken/core"
	"github.com/plexusone/omnitoken/core/coretest"
)

// TestHandoffCarriesWhatToDo: when a credential comes to need a person,
// the typed error, the Event and the OnReauth hook each carry what to do:
// the exact login command, and for the device flow the code and URI.
func TestHandoffCarriesWhatToDo(t *testing.T) {
	type seen struct {
		hook  []*core.ReauthRequiredError
		event []*core.ReauthRequiredError
	}
	setup := func(t *testing.T, ttl time.Duration) (*fixture, *seen) {
		s := &seen{}
		f := newFixture(t, ttl, func(o *core.Options) {
			o.OnReauth = func(e *core.ReauthRequiredError) { s.hook = append(s.hook, e) }
			o.OnEvent = func(e core.Event) {
				if e.Kind != core.EventReauthRequired {
					return
				}
				var re *core.ReauthRequiredError
				if !errors.As(e.Err, &re) {
					t.Errorf("EventReauthRequired's Err %v holds no *ReauthRequiredError", e.Err)
					return
				}
				s.event = append(s.event, re)
			}
		})
		return f, s
	}
	check := func(t *testing.T, err error, s *seen, name, command, code, uri string) {
		t.Helper()
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) {
			t.Fatalf("error %v holds no *ReauthRequiredError", err)
		}
		if len(s.hook) != 1 || len(s.event) != 1 {
			t.Fatalf("OnReauth called %d times, EventReauthRequired %d times; want 1 each", len(s.hook), len(s.event))
		}
		for what, got := range map[string]*core.ReauthRequiredError{"error": re, "OnReauth": s.hook[0], "Event": s.event[0]} {
			if got.Name != name || got.Command != command || got.UserCode != code || got.VerificationURI != uri {
				t.Errorf("%s: name %q command %q code %q uri %q; want %q %q %q %q",
					what, got.Name, got.Command, got.UserCode, got.VerificationURI, name, command, code, uri)
			}
		}
	}
	ctx := context.Background()

	t.Run("device code", func(t *testing.T) {
		f, s := setup(t, time.Hour)
		const name = "tv room"
		if err := f.m.SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
			t.Fatal(err)
		}
		f.strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD-EFGH"})
		_, err := f.m.Token(ctx, name)
		check(t, err, s, name, "omnitoken login 'tv room' --device", "ABCD-EFGH", "https://idp.example/device")
	})
	t.Run("invalid_grant on a refresh token", func(t *testing.T) {
		f, s := setup(t, time.Minute)
		if _, err := f.m.Token(ctx, "svc"); err != nil {
			t.Fatal(err)
		}
		f.strat.SetErr(&core.OAuthError{Code: "invalid_grant", StatusCode: 400})
		f.clock.Advance(2 * time.Minute)
		_, err := f.m.Token(ctx, "svc")
		check(t, err, s, "svc", "omnitoken login svc", "", "")
	})
}

// TestHandoffCommandForADashName: a name that starts with "-" follows
// "--" in the login command, so that pasted into a shell it is not taken
// for a flag.
func TestHandoffCommandForADashName(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Hour, nil)
	for name, want := range map[string]string{
		"-svc":    "omnitoken login --device -- -svc",
		"-my svc": "omnitoken login --device -- '-my svc'",
	} {
		if err := f.m.SetCredentials(ctx, name, coretest.Credentials("counting")); err != nil {
			t.Fatal(err)
		}
		f.strat.SetErr(&core.ReauthRequiredError{VerificationURI: "https://idp.example/device", UserCode: "ABCD-EFGH"})
		_, err := f.m.Token(ctx, name)
		var re *core.ReauthRequiredError
		if !errors.As(err, &re) || re.Command != want {
			t.Errorf("%q: err = %v, want the command %q", name, err, want)
		}
	}
}
